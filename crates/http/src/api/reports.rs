//! `POST /api/v1/reports`, `GET /api/v1/incidents/{id}/reports`, and the help desk's
//! `POST /hooks/report/{key}` (an integration key stands for the service).

use crate::AppState;
use crate::dto_intake::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Auth};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

#[utoipa::path(post, path = "/api/v1/reports", tag = "intake", request_body = ReportRequest,
    responses((status = 201, body = FiledReportDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn file(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(r): ApiJson<ReportRequest>,
) -> ApiResult<(StatusCode, Json<FiledReportDto>)> {
    let filed = s.app.file_report(&actor, r.into_input()).await?;
    Ok((StatusCode::CREATED, Json((&filed).into())))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/reports", tag = "intake",
    params(("id" = String, Path, description = "incident number or id")),
    responses((status = 200, body = Vec<ReportDto>), (status = 404, body = ErrorBody)))]
pub async fn for_incident(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Vec<ReportDto>>> {
    let list = s.app.incident_reports(&actor, &id).await?;
    Ok(Json(list.iter().map(ReportDto::from).collect()))
}

/// `POST /hooks/report/{key}`: a help desk files a report about the key's service.
pub async fn from_help_desk(
    State(s): State<AppState>,
    ApiPath(key): ApiPath<String>,
    ApiJson(r): ApiJson<ReportRequest>,
) -> ApiResult<(StatusCode, Json<FiledReportDto>)> {
    let k = s
        .app
        .integration_key(&key)
        .await
        .map_err(|_| crate::error::ApiError::not_found("integration key"))?;
    s.app.check_rate(&k, 1)?;
    let mut input = r.into_input();
    input.service = Some(k.service_id.clone());
    let actor = triad_app::intake::actor_of(&k, "help desk");
    let filed = s.app.file_report(&actor, input).await?;
    Ok((StatusCode::CREATED, Json((&filed).into())))
}

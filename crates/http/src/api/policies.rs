//! `/api/v1/escalation-policies` and `/api/v1/severity-policies`.

use crate::AppState;
use crate::dto_engine::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Auth};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

#[utoipa::path(get, path = "/api/v1/escalation-policies", tag = "escalation",
    responses((status = 200, body = Vec<EscalationPolicyDto>), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Auth(actor): Auth,
) -> ApiResult<Json<Vec<EscalationPolicyDto>>> {
    let list = s.app.escalation_policies(&actor).await?;
    Ok(Json(list.iter().map(EscalationPolicyDto::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/escalation-policies", tag = "escalation", request_body = EscalationPolicyRequest,
    responses((status = 201, body = EscalationPolicyDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(r): ApiJson<EscalationPolicyRequest>,
) -> ApiResult<(StatusCode, Json<EscalationPolicyDto>)> {
    let p = s
        .app
        .create_escalation_policy(&actor, r.into_input())
        .await?;
    Ok((StatusCode::CREATED, Json((&p).into())))
}

#[utoipa::path(get, path = "/api/v1/escalation-policies/{id}", tag = "escalation",
    params(("id" = String, Path, description = "id or name")),
    responses((status = 200, body = EscalationPolicyDto), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<EscalationPolicyDto>> {
    Ok(Json((&s.app.escalation_policy(&actor, &id).await?).into()))
}

#[utoipa::path(put, path = "/api/v1/escalation-policies/{id}", tag = "escalation", request_body = EscalationPolicyRequest,
    params(("id" = String, Path, description = "id or name")),
    responses((status = 200, body = EscalationPolicyDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<EscalationPolicyRequest>,
) -> ApiResult<Json<EscalationPolicyDto>> {
    let p = s
        .app
        .replace_escalation_policy(&actor, &id, r.into_input())
        .await?;
    Ok(Json((&p).into()))
}

#[utoipa::path(delete, path = "/api/v1/escalation-policies/{id}", tag = "escalation",
    params(("id" = String, Path, description = "id or name")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.app.delete_escalation_policy(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/severity-policies", tag = "escalation",
    responses((status = 200, body = Vec<SeverityPolicyDto>)))]
pub async fn list_severity(
    State(s): State<AppState>,
    Auth(actor): Auth,
) -> ApiResult<Json<Vec<SeverityPolicyDto>>> {
    let list = s.app.severity_policies(&actor).await?;
    Ok(Json(
        list.iter()
            .map(|(sev, p)| SeverityPolicyDto::new(sev.as_str(), p))
            .collect(),
    ))
}

#[utoipa::path(put, path = "/api/v1/severity-policies/{severity}", tag = "escalation", request_body = SeverityPolicyRequest,
    params(("severity" = String, Path, description = "SEV1..SEV4")),
    responses((status = 200, body = SeverityPolicyDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_severity(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(severity): ApiPath<String>,
    ApiJson(r): ApiJson<SeverityPolicyRequest>,
) -> ApiResult<Json<SeverityPolicyDto>> {
    let input = severity_input(r)?;
    let p = s.app.put_severity_policy(&actor, &severity, input).await?;
    let sev = triad_domain::severity::Severity::parse(&severity)
        .map(|s| s.as_str())
        .unwrap_or("");
    Ok(Json(SeverityPolicyDto::new(sev, &p)))
}

//! `/api/v1/incidents/{id}/impact`, `/api/v1/impact-matrix`, and the status page's
//! settings, components and maintenances.

use crate::AppState;
use crate::dto_status::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Auth};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

#[utoipa::path(get, path = "/api/v1/incidents/{id}/impact", tag = "impact",
    params(("id" = String, Path, description = "incident number or id")),
    responses((status = 200, body = ImpactDto), (status = 404, body = ErrorBody)))]
pub async fn get_impact(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ImpactDto>> {
    let r = s.app.incident_impact(&actor, &id).await?;
    Ok(Json((&r).into()))
}

#[utoipa::path(put, path = "/api/v1/incidents/{id}/impact", tag = "impact", request_body = ImpactRequest,
    params(("id" = String, Path, description = "incident number or id")),
    responses((status = 200, body = ImpactDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_impact(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<ImpactRequest>,
) -> ApiResult<Json<ImpactDto>> {
    let r = s
        .app
        .set_incident_impact(&actor, &id, r.into_input())
        .await?;
    Ok(Json((&r).into()))
}

#[utoipa::path(get, path = "/api/v1/impact-matrix", tag = "impact",
    responses((status = 200, body = MatrixDto)))]
pub async fn get_matrix(
    State(s): State<AppState>,
    Auth(actor): Auth,
) -> ApiResult<Json<MatrixDto>> {
    let m = s.app.impact_matrix(&actor).await?;
    Ok(Json((&m).into()))
}

#[utoipa::path(put, path = "/api/v1/impact-matrix", tag = "impact", request_body = MatrixDto,
    responses((status = 200, body = MatrixDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_matrix(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(r): ApiJson<MatrixDto>,
) -> ApiResult<Json<MatrixDto>> {
    let m = s.app.set_impact_matrix(&actor, r.into_input()).await?;
    Ok(Json((&m).into()))
}

#[utoipa::path(get, path = "/api/v1/status-page", tag = "status page",
    responses((status = 200, body = PageDto)))]
pub async fn get_page(State(s): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<PageDto>> {
    actor.require(triad_domain::user::Permission::Read)?;
    let p = s.app.status_page().await?;
    Ok(Json((&p).into()))
}

#[utoipa::path(put, path = "/api/v1/status-page", tag = "status page", request_body = PageRequest,
    responses((status = 200, body = PageDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_page(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(r): ApiJson<PageRequest>,
) -> ApiResult<Json<PageDto>> {
    let p = s.app.set_status_page(&actor, r.into_input()).await?;
    Ok(Json((&p).into()))
}

#[utoipa::path(get, path = "/api/v1/status-page/components", tag = "status page",
    responses((status = 200, body = Vec<ComponentDto>)))]
pub async fn list_components(
    State(s): State<AppState>,
    Auth(actor): Auth,
) -> ApiResult<Json<Vec<ComponentDto>>> {
    let list = s.app.status_components(&actor).await?;
    Ok(Json(list.iter().map(ComponentDto::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/status-page/components", tag = "status page", request_body = ComponentRequest,
    responses((status = 201, body = ComponentDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_component(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(r): ApiJson<ComponentRequest>,
) -> ApiResult<(StatusCode, Json<ComponentDto>)> {
    let c = s.app.create_component(&actor, r.into_input()).await?;
    Ok((StatusCode::CREATED, Json((&c).into())))
}

#[utoipa::path(put, path = "/api/v1/status-page/components/{id}", tag = "status page", request_body = ComponentRequest,
    params(("id" = String, Path)),
    responses((status = 200, body = ComponentDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace_component(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<ComponentRequest>,
) -> ApiResult<Json<ComponentDto>> {
    let c = s.app.replace_component(&actor, &id, r.into_input()).await?;
    Ok(Json((&c).into()))
}

#[utoipa::path(delete, path = "/api/v1/status-page/components/{id}", tag = "status page",
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_component(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.app.delete_component(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/status-page/maintenances", tag = "status page",
    responses((status = 200, body = Vec<MaintenanceDto>, description = "those not over, and the latest 50")))]
pub async fn list_maintenances(
    State(s): State<AppState>,
    Auth(actor): Auth,
) -> ApiResult<Json<Vec<MaintenanceDto>>> {
    let list = s.app.maintenances(&actor).await?;
    let now = s.app.now();
    Ok(Json(
        list.iter().map(|m| MaintenanceDto::new(m, now)).collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/status-page/maintenances", tag = "status page", request_body = MaintenanceRequest,
    responses((status = 201, body = MaintenanceDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_maintenance(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(r): ApiJson<MaintenanceRequest>,
) -> ApiResult<(StatusCode, Json<MaintenanceDto>)> {
    actor.require(triad_domain::user::Permission::Respond)?;
    let m = s.app.schedule_maintenance(&actor, r.into_input()?).await?;
    Ok((
        StatusCode::CREATED,
        Json(MaintenanceDto::new(&m, s.app.now())),
    ))
}

#[utoipa::path(delete, path = "/api/v1/status-page/maintenances/{id}", tag = "status page",
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn cancel_maintenance(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.app.cancel_maintenance(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/status-page/subscribers", tag = "status page",
    responses((status = 200, body = SubscriberCountsDto), (status = 403, body = ErrorBody)))]
pub async fn subscriber_counts(
    State(s): State<AppState>,
    Auth(actor): Auth,
) -> ApiResult<Json<SubscriberCountsDto>> {
    let (confirmed, pending) = s.app.subscriber_counts(&actor).await?;
    Ok(Json(SubscriberCountsDto { confirmed, pending }))
}

#[utoipa::path(get, path = "/api/v1/message-templates", tag = "status page",
    responses((status = 200, body = Vec<TemplateDto>)))]
pub async fn list_templates(
    State(s): State<AppState>,
    Auth(actor): Auth,
) -> ApiResult<Json<Vec<TemplateDto>>> {
    let list = s.app.templates(&actor).await?;
    Ok(Json(list.iter().map(TemplateDto::from).collect()))
}

#[utoipa::path(put, path = "/api/v1/message-templates/{audience}/{stage}", tag = "status page",
    request_body = TemplateRequest,
    params(("audience" = String, Path, description = "stakeholders, reporters or public"),
           ("stage" = String, Path, description = "received, acknowledged, update or resolved")),
    responses((status = 200, body = TemplateDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_template(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath((audience, stage)): ApiPath<(String, String)>,
    ApiJson(r): ApiJson<TemplateRequest>,
) -> ApiResult<Json<TemplateDto>> {
    let t = s
        .app
        .put_template(&actor, &audience, &stage, &r.subject, &r.body)
        .await?;
    Ok(Json((&t).into()))
}

#[utoipa::path(delete, path = "/api/v1/message-templates/{audience}/{stage}", tag = "status page",
    params(("audience" = String, Path), ("stage" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_template(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath((audience, stage)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    s.app.delete_template(&actor, &audience, &stage).await?;
    Ok(StatusCode::NO_CONTENT)
}

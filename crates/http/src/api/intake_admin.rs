//! `/api/v1/services/{id}/integration-keys` and `/api/v1/business-services`.

use crate::AppState;
use crate::dto_intake::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Auth};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use triad_app::integration::KeyInput;

#[utoipa::path(post, path = "/api/v1/services/{id}/integration-keys", tag = "intake", request_body = IntegrationKeyRequest,
    params(("id" = String, Path, description = "service id or name")),
    responses((status = 201, body = IntegrationKeyDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_key(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(service): ApiPath<String>,
    ApiJson(r): ApiJson<IntegrationKeyRequest>,
) -> ApiResult<(StatusCode, Json<IntegrationKeyDto>)> {
    let input = KeyInput {
        name: r.name,
        mapping: r.mapping,
        rate_limit_per_minute: r.rate_limit_per_minute,
    };
    let (k, key) = s
        .app
        .create_integration_key(&actor, &service, input)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(IntegrationKeyDto::new(&k, Some(key))),
    ))
}

#[utoipa::path(get, path = "/api/v1/services/{id}/integration-keys", tag = "intake",
    params(("id" = String, Path, description = "service id or name")),
    responses((status = 200, body = Vec<IntegrationKeyDto>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_keys(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(service): ApiPath<String>,
) -> ApiResult<Json<Vec<IntegrationKeyDto>>> {
    let list = s.app.integration_keys(&actor, &service).await?;
    Ok(Json(
        list.iter()
            .map(|k| IntegrationKeyDto::new(k, None))
            .collect(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/services/{id}/integration-keys/{key_id}", tag = "intake",
    params(("id" = String, Path), ("key_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_key(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath((service, id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    s.app.revoke_integration_key(&actor, &service, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/business-services", tag = "intake",
    responses((status = 200, body = Vec<BusinessServiceDto>)))]
pub async fn list_business(
    State(s): State<AppState>,
    Auth(actor): Auth,
) -> ApiResult<Json<Vec<BusinessServiceDto>>> {
    let list = s.app.business_services(&actor).await?;
    Ok(Json(list.iter().map(BusinessServiceDto::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/business-services", tag = "intake", request_body = BusinessServiceRequest,
    responses((status = 201, body = BusinessServiceDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_business(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(r): ApiJson<BusinessServiceRequest>,
) -> ApiResult<(StatusCode, Json<BusinessServiceDto>)> {
    let b = s
        .app
        .create_business_service(&actor, r.into_input())
        .await?;
    Ok((StatusCode::CREATED, Json((&b).into())))
}

#[utoipa::path(get, path = "/api/v1/business-services/{id}", tag = "intake",
    params(("id" = String, Path, description = "id or name")),
    responses((status = 200, body = BusinessServiceDto), (status = 404, body = ErrorBody)))]
pub async fn get_business(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<BusinessServiceDto>> {
    Ok(Json((&s.app.business_service(&actor, &id).await?).into()))
}

#[utoipa::path(patch, path = "/api/v1/business-services/{id}", tag = "intake", request_body = BusinessServiceRequest,
    params(("id" = String, Path, description = "id or name")),
    responses((status = 200, body = BusinessServiceDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_business(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<BusinessServiceRequest>,
) -> ApiResult<Json<BusinessServiceDto>> {
    let b = s
        .app
        .change_business_service(&actor, &id, r.into_input())
        .await?;
    Ok(Json((&b).into()))
}

#[utoipa::path(delete, path = "/api/v1/business-services/{id}", tag = "intake",
    params(("id" = String, Path, description = "id or name")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_business(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.app.delete_business_service(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct FollowDto {
    /// Whether you follow the business service (its stakeholder updates reach you).
    pub following: bool,
}

#[utoipa::path(get, path = "/api/v1/business-services/{id}/follow", tag = "intake",
    params(("id" = String, Path, description = "business service id or name")),
    responses((status = 200, body = FollowDto), (status = 404, body = ErrorBody)))]
pub async fn get_follow(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<FollowDto>> {
    let following = s.app.follows_business_service(&actor, &id).await?;
    Ok(Json(FollowDto { following }))
}

#[utoipa::path(put, path = "/api/v1/business-services/{id}/follow", tag = "intake",
    params(("id" = String, Path, description = "business service id or name")),
    responses((status = 200, body = FollowDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn follow(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<FollowDto>> {
    let following = s.app.follow_business_service(&actor, &id, true).await?;
    Ok(Json(FollowDto { following }))
}

#[utoipa::path(delete, path = "/api/v1/business-services/{id}/follow", tag = "intake",
    params(("id" = String, Path, description = "business service id or name")),
    responses((status = 200, body = FollowDto), (status = 404, body = ErrorBody)))]
pub async fn unfollow(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<FollowDto>> {
    let following = s.app.follow_business_service(&actor, &id, false).await?;
    Ok(Json(FollowDto { following }))
}

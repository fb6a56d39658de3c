//! `/api/v1/users/{id}/contact-methods` and `/api/v1/users/{id}/notification-rules`
//! (`me` names yourself).

use crate::AppState;
use crate::dto_engine::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Auth};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use triad_app::contact::{MethodInput, RuleInput};

#[utoipa::path(get, path = "/api/v1/users/{id}/contact-methods", tag = "notifications",
    params(("id" = String, Path, description = "user id, email or `me`")),
    responses((status = 200, body = Vec<ContactMethodDto>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_methods(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(user): ApiPath<String>,
) -> ApiResult<Json<Vec<ContactMethodDto>>> {
    let list = s.app.contact_methods(&actor, &user).await?;
    Ok(Json(
        list.iter()
            .map(|m| ContactMethodDto::new(m, false))
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/users/{id}/contact-methods", tag = "notifications", request_body = ContactMethodRequest,
    params(("id" = String, Path, description = "user id, email or `me`")),
    responses((status = 201, body = ContactMethodDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_method(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(user): ApiPath<String>,
    ApiJson(r): ApiJson<ContactMethodRequest>,
) -> ApiResult<(StatusCode, Json<ContactMethodDto>)> {
    let input = MethodInput {
        kind: r.kind,
        address: r.address,
        label: r.label,
        secret: r.secret,
    };
    let m = s.app.add_contact_method(&actor, &user, input).await?;
    Ok((StatusCode::CREATED, Json(ContactMethodDto::new(&m, true))))
}

#[utoipa::path(delete, path = "/api/v1/users/{id}/contact-methods/{method_id}", tag = "notifications",
    params(("id" = String, Path), ("method_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_method(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath((user, id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    s.app.delete_contact_method(&actor, &user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/users/{id}/notification-rules", tag = "notifications",
    params(("id" = String, Path, description = "user id, email or `me`")),
    responses((status = 200, body = Vec<RuleDto>), (status = 403, body = ErrorBody)))]
pub async fn list_rules(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(user): ApiPath<String>,
) -> ApiResult<Json<Vec<RuleDto>>> {
    let list = s.app.notification_rules(&actor, &user).await?;
    Ok(Json(list.iter().map(RuleDto::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/users/{id}/notification-rules", tag = "notifications", request_body = RuleRequest,
    params(("id" = String, Path, description = "user id, email or `me`")),
    responses((status = 201, body = RuleDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_rule(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(user): ApiPath<String>,
    ApiJson(r): ApiJson<RuleRequest>,
) -> ApiResult<(StatusCode, Json<RuleDto>)> {
    let input = RuleInput {
        contact_method_id: r.contact_method_id,
        delay_seconds: r.delay_seconds,
        urgency: r.urgency,
    };
    let rule = s.app.add_notification_rule(&actor, &user, input).await?;
    Ok((StatusCode::CREATED, Json((&rule).into())))
}

#[utoipa::path(delete, path = "/api/v1/users/{id}/notification-rules/{rule_id}", tag = "notifications",
    params(("id" = String, Path), ("rule_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_rule(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath((user, id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    s.app.delete_notification_rule(&actor, &user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

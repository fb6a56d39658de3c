//! `/api/v1/incidents`: declare, read, list, change, transitions, roles, notes,
//! timeline and updates. Handlers only extract, call one use case, and map to DTOs.

use crate::AppState;
use crate::dto::*;
use crate::dto_engine::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use triad_app::incident::{Change, Declare, ListQuery, ReporterInput};
use triad_app::role::Assign;
use triad_app::update::Publish;
use triad_domain::incident::Transition;
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Comma-separated statuses (`triggered,acknowledged,resolved`) or `open`.
    pub status: Option<String>,
    /// Comma-separated severities.
    pub severity: Option<String>,
    /// Page size, 1..200, default 50.
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `number` (newest first, default) or `impact` (most severe business impact first,
    /// unassessed last, then newest).
    pub sort: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", request_body = DeclareRequest,
    responses((status = 201, body = IncidentDto), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn declare(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(r): ApiJson<DeclareRequest>,
) -> ApiResult<(StatusCode, Json<IncidentDto>)> {
    let input = Declare {
        title: r.title,
        severity: r.severity,
        description: r.description,
        service: r.service,
        reporter: r.reporter.map(|r| ReporterInput {
            name: r.name,
            email: r.email,
            webhook: r.webhook,
            webhook_secret: r.webhook_secret,
            user: r.user,
        }),
    };
    let view = s.app.declare(&actor, input).await?;
    let secrets: Vec<Option<String>> = view
        .reporters
        .iter()
        .map(|r| r.webhook_secret.clone())
        .collect();
    let mut dto = IncidentDto::from(view);
    // The one response that shows a reporter webhook's secret.
    if let Some(list) = dto.reporters.as_mut() {
        for (r, secret) in list.iter_mut().zip(secrets) {
            r.webhook_secret = secret;
        }
    }
    Ok((StatusCode::CREATED, Json(dto)))
}

#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents", params(ListParams),
    responses((status = 200, body = IncidentPage), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<IncidentPage>> {
    let q = ListQuery {
        status: p.status,
        severity: p.severity,
        limit: p.limit,
        cursor: p.cursor,
        sort: p.sort,
    };
    let page = s.app.incidents(&actor, q).await?;
    Ok(Json(IncidentPage {
        items: page.items.iter().map(IncidentDto::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents",
    params(("id" = String, Path, description = "incident number or id")),
    responses((status = 200, body = IncidentDto), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<IncidentDto>> {
    Ok(Json(s.app.incident(&actor, &id).await?.into()))
}

#[utoipa::path(patch, path = "/api/v1/incidents/{id}", tag = "incidents", request_body = ChangeIncidentRequest,
    params(("id" = String, Path, description = "incident number or id")),
    responses((status = 200, body = IncidentDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<ChangeIncidentRequest>,
) -> ApiResult<Json<IncidentDto>> {
    let change = Change {
        title: r.title,
        description: r.description,
        severity: r.severity,
    };
    Ok(Json(
        s.app.change_incident(&actor, &id, change).await?.into(),
    ))
}

async fn transition(
    s: AppState,
    actor: triad_app::Actor,
    id: &str,
    t: Transition,
) -> ApiResult<Json<IncidentDto>> {
    Ok(Json(s.app.transition(&actor, id, t).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/acknowledge", tag = "incidents",
    params(("id" = String, Path, description = "incident number or id")),
    responses((status = 200, body = IncidentDto, description = "acknowledged; the caller became a responder"), (status = 409, body = ErrorBody, description = "illegal_transition")))]
pub async fn acknowledge(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<IncidentDto>> {
    transition(s, actor, &id, Transition::Acknowledge).await
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/resolve", tag = "incidents",
    params(("id" = String, Path, description = "incident number or id")),
    responses((status = 200, body = IncidentDto), (status = 409, body = ErrorBody, description = "illegal_transition")))]
pub async fn resolve(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<IncidentDto>> {
    transition(s, actor, &id, Transition::Resolve).await
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/reopen", tag = "incidents",
    params(("id" = String, Path, description = "incident number or id")),
    responses((status = 200, body = IncidentDto), (status = 409, body = ErrorBody, description = "illegal_transition")))]
pub async fn reopen(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<IncidentDto>> {
    transition(s, actor, &id, Transition::Reopen).await
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/roles", tag = "incidents", request_body = RoleRequest,
    params(("id" = String, Path, description = "incident number or id")),
    responses((status = 200, body = Vec<RoleDto>, description = "the active roles after the change"), (status = 409, body = ErrorBody, description = "role_already_held"), (status = 422, body = ErrorBody)))]
pub async fn assign_role(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<RoleRequest>,
) -> ApiResult<Json<Vec<RoleDto>>> {
    let input = Assign {
        role: r.role,
        user: r.user,
        note: r.note,
    };
    let holders = s.app.assign_role(&actor, &id, input).await?;
    Ok(Json(holders.iter().map(RoleDto::from).collect()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReleaseParams {
    /// A note kept on the released assignment.
    pub note: Option<String>,
}

#[utoipa::path(delete, path = "/api/v1/incidents/{id}/roles/{role}/{user}", tag = "incidents",
    params(("id" = String, Path, description = "incident number or id"), ("role" = String, Path), ("user" = String, Path, description = "user id or email"), ReleaseParams),
    responses((status = 200, body = Vec<RoleDto>, description = "the active roles after the change"), (status = 404, body = ErrorBody)))]
pub async fn release_role(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, role, user)): ApiPath<(String, String, String)>,
    ApiQuery(p): ApiQuery<ReleaseParams>,
) -> ApiResult<Json<Vec<RoleDto>>> {
    let holders = s
        .app
        .release_role(&actor, &id, &role, &user, p.note.as_deref())
        .await?;
    Ok(Json(holders.iter().map(RoleDto::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/roles", tag = "incidents",
    params(("id" = String, Path, description = "incident number or id")),
    responses((status = 200, body = Vec<RoleDto>, description = "every assignment ever made, oldest first")))]
pub async fn role_history(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Vec<RoleDto>>> {
    let holders = s.app.role_history(&actor, &id).await?;
    Ok(Json(holders.iter().map(RoleDto::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/notes", tag = "incidents", request_body = NoteRequest,
    params(("id" = String, Path, description = "incident number or id")),
    responses((status = 201, body = TimelineEventDto), (status = 422, body = ErrorBody)))]
pub async fn add_note(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<NoteRequest>,
) -> ApiResult<(StatusCode, Json<TimelineEventDto>)> {
    let event = s.app.add_note(&actor, &id, &r.body).await?;
    Ok((StatusCode::CREATED, Json((&event).into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TimelineParams {
    /// Only events with a larger `seq`.
    pub after: Option<i64>,
    /// At most this many, 1..1000, default 1000.
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/timeline", tag = "incidents",
    params(("id" = String, Path, description = "incident number or id"), TimelineParams),
    responses((status = 200, body = Vec<TimelineEventDto>, description = "oldest first")))]
pub async fn timeline(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<TimelineParams>,
) -> ApiResult<Json<Vec<TimelineEventDto>>> {
    let events = s
        .app
        .timeline(&actor, &id, p.after.unwrap_or(0), p.limit)
        .await?;
    Ok(Json(events.iter().map(TimelineEventDto::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/updates", tag = "incidents", request_body = UpdateRequest,
    params(("id" = String, Path, description = "incident number or id")),
    responses((status = 201, body = UpdateDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn publish_update(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<UpdateRequest>,
) -> ApiResult<(StatusCode, Json<UpdateDto>)> {
    let input = Publish {
        audience: r.audience,
        state: r.state,
        message: r.message,
        public_title: r.public_title,
    };
    let update = s.app.publish_update(&actor, &id, input).await?;
    Ok((StatusCode::CREATED, Json((&update).into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UpdatesParams {
    /// Only this audience.
    pub audience: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/updates", tag = "incidents",
    params(("id" = String, Path, description = "incident number or id"), UpdatesParams),
    responses((status = 200, body = Vec<UpdateDto>, description = "newest first")))]
pub async fn updates(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<UpdatesParams>,
) -> ApiResult<Json<Vec<UpdateDto>>> {
    let updates = s.app.updates(&actor, &id, p.audience.as_deref()).await?;
    Ok(Json(updates.iter().map(UpdateDto::from).collect()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DraftParams {
    /// `stakeholders`, `reporters` or `public`.
    pub audience: String,
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/updates/draft", tag = "incidents",
    params(("id" = String, Path, description = "incident number or id"), DraftParams),
    responses((status = 200, body = DraftDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn draft_update(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<DraftParams>,
) -> ApiResult<Json<DraftDto>> {
    let d = s.app.draft_update(&actor, &id, &p.audience).await?;
    Ok(Json(DraftDto {
        audience: d.audience.as_str().into(),
        state: d.state.as_str().into(),
        message: d.message,
        events: d.used,
    }))
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/update-requests", tag = "incidents", request_body = UpdateRequestRequest,
    params(("id" = String, Path, description = "incident number or id")),
    responses((status = 202, body = UpdateRequestDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn request_update(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<UpdateRequestRequest>,
) -> ApiResult<(StatusCode, Json<UpdateRequestDto>)> {
    let outcome = s
        .app
        .request_update(&actor, &id, r.message.as_deref())
        .await?;
    Ok((StatusCode::ACCEPTED, Json(outcome.into())))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/notifications", tag = "incidents",
    params(("id" = String, Path, description = "incident number or id")),
    responses((status = 200, body = Vec<NotificationDto>), (status = 404, body = ErrorBody)))]
pub async fn notifications(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Vec<NotificationDto>>> {
    let list = s.app.notifications(&actor, &id).await?;
    Ok(Json(list.iter().map(NotificationDto::from).collect()))
}

//! `/api/v1/schedules`, `/api/v1/oncall`, role schedules of teams and services, calendar
//! feed tokens, and the secret-URL feeds themselves at `/ical/{token}.ics`.

use crate::AppState;
use crate::dto_schedule::*;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use triad_app::schedule::{GAP_REPORT_DAYS, OverrideInput, ScheduleInput, SchedulePatch};
use triad_domain::Millis;
use triad_store::schedule::Scope;

const DAY_MS: Millis = 86_400_000;

fn window(s: &AppState, q: &RangeQuery, default_days: i64) -> Result<(Millis, Millis), ApiError> {
    let from = parse_time_opt("from", q.from.as_deref())?.unwrap_or_else(|| s.app.now());
    let to = parse_time_opt("to", q.to.as_deref())?.unwrap_or(from + default_days * DAY_MS);
    Ok((from, to))
}

#[utoipa::path(get, path = "/api/v1/schedules", tag = "schedules",
    responses((status = 200, body = Vec<ScheduleDto>), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Auth(actor): Auth,
) -> ApiResult<Json<Vec<ScheduleDto>>> {
    let list = s.app.schedules(&actor).await?;
    Ok(Json(list.iter().map(ScheduleDto::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/schedules", tag = "schedules", request_body = ScheduleRequest,
    responses((status = 201, body = ScheduleDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(r): ApiJson<ScheduleRequest>,
) -> ApiResult<(StatusCode, Json<ScheduleDto>)> {
    let input = ScheduleInput {
        name: r.name,
        description: r.description,
        time_zone: r.time_zone,
        layers: r.layers.into_iter().map(|l| l.0).collect(),
        effective_from: parse_time_opt("effective_from", r.effective_from.as_deref())?,
    };
    let saved = s.app.create_schedule(&actor, input).await?;
    Ok((StatusCode::CREATED, Json((&saved).into())))
}

#[utoipa::path(get, path = "/api/v1/schedules/{id}", tag = "schedules",
    params(("id" = String, Path, description = "id or name")),
    responses((status = 200, body = ScheduleDto), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ScheduleDto>> {
    Ok(Json((&s.app.schedule(&actor, &id).await?).into()))
}

#[utoipa::path(patch, path = "/api/v1/schedules/{id}", tag = "schedules", request_body = SchedulePatchRequest,
    params(("id" = String, Path, description = "id or name")),
    responses((status = 200, body = ScheduleDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<SchedulePatchRequest>,
) -> ApiResult<Json<ScheduleDto>> {
    let patch = SchedulePatch {
        name: r.name,
        description: r.description,
        time_zone: r.time_zone,
    };
    Ok(Json(
        (&s.app.change_schedule(&actor, &id, patch).await?).into(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/schedules/{id}", tag = "schedules",
    params(("id" = String, Path, description = "id or name")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.app.delete_schedule(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/v1/schedules/{id}/layers", tag = "schedules", request_body = LayersRequest,
    params(("id" = String, Path, description = "id or name")),
    responses((status = 200, body = ScheduleDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_layers(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<LayersRequest>,
) -> ApiResult<Json<ScheduleDto>> {
    let at = parse_time_opt("effective_from", r.effective_from.as_deref())?;
    let layers = r.layers.into_iter().map(|l| l.0).collect();
    let saved = s.app.put_schedule_layers(&actor, &id, layers, at).await?;
    Ok(Json((&saved).into()))
}

#[utoipa::path(post, path = "/api/v1/schedules/{id}/overrides", tag = "schedules", request_body = OverrideRequest,
    params(("id" = String, Path, description = "id or name")),
    responses((status = 201, body = OverrideDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_override(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<OverrideRequest>,
) -> ApiResult<(StatusCode, Json<OverrideDto>)> {
    let input = OverrideInput {
        start: parse_time("start", &r.start)?,
        end: parse_time("end", &r.end)?,
        action: parse_action(&r.action)?,
        user: r.user,
        replaces: r.replaces,
    };
    let o = s.app.add_override(&actor, &id, input).await?;
    Ok((StatusCode::CREATED, Json((&o).into())))
}

#[utoipa::path(delete, path = "/api/v1/schedules/{id}/overrides/{override_id}", tag = "schedules",
    params(("id" = String, Path), ("override_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_override(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, oid)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    s.app.delete_override(&actor, &id, &oid).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/schedules/{id}/final", tag = "schedules",
    params(("id" = String, Path, description = "id or name"),
        ("from" = Option<String>, Query, description = "RFC 3339; default now"),
        ("to" = Option<String>, Query, description = "RFC 3339; default 7 days after from")),
    responses((status = 200, body = FinalScheduleDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn final_schedule(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> ApiResult<Json<FinalScheduleDto>> {
    let (from, to) = window(&s, &q, 7)?;
    let f = s.app.final_schedule(&actor, &id, from, to).await?;
    Ok(Json((&f).into()))
}

#[utoipa::path(get, path = "/api/v1/schedules/{id}/gaps", tag = "schedules",
    params(("id" = String, Path, description = "id or name"),
        ("from" = Option<String>, Query, description = "RFC 3339; default now"),
        ("to" = Option<String>, Query, description = "RFC 3339; default 28 days after from")),
    responses((status = 200, body = GapsDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn gaps(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> ApiResult<Json<GapsDto>> {
    let (from, to) = window(&s, &q, GAP_REPORT_DAYS)?;
    let f = s.app.final_schedule(&actor, &id, from, to).await?;
    let dto = FinalScheduleDto::from(&f);
    Ok(Json(GapsDto {
        schedule_id: dto.schedule_id,
        from: dto.from,
        to: dto.to,
        gaps: dto.gaps,
    }))
}

#[utoipa::path(post, path = "/api/v1/schedules/{id}/calendar-feed", tag = "schedules",
    params(("id" = String, Path, description = "id or name")),
    responses((status = 201, body = CalendarFeedDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn schedule_feed(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<(StatusCode, Json<CalendarFeedDto>)> {
    let token = s.app.schedule_feed_token(&actor, &id).await?;
    Ok((StatusCode::CREATED, Json(CalendarFeedDto::new(token))))
}

#[utoipa::path(post, path = "/api/v1/users/{id}/calendar-feed", tag = "schedules",
    params(("id" = String, Path, description = "user id, email or `me`")),
    responses((status = 201, body = CalendarFeedDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn user_feed(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<(StatusCode, Json<CalendarFeedDto>)> {
    let token = s.app.user_feed_token(&actor, &id).await?;
    Ok((StatusCode::CREATED, Json(CalendarFeedDto::new(token))))
}

/// `GET /ical/{token}.ics`: no login; the secret token is the credential.
pub async fn calendar(
    State(s): State<AppState>,
    ApiPath(file): ApiPath<String>,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> ApiResult<Response> {
    let token = file.strip_suffix(".ics").unwrap_or(&file);
    let from = parse_time_opt("from", q.from.as_deref())?;
    let to = parse_time_opt("to", q.to.as_deref())?;
    let body = s.app.calendar_feed(token, from, to).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        body,
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/oncall", tag = "schedules",
    params(("at" = Option<String>, Query, description = "RFC 3339; default now")),
    responses((status = 200, body = OnCallReportDto), (status = 422, body = ErrorBody)))]
pub async fn oncall(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<AtQuery>,
) -> ApiResult<Json<OnCallReportDto>> {
    let at = parse_time_opt("at", q.at.as_deref())?;
    Ok(Json((&s.app.on_call(&actor, at).await?).into()))
}

async fn get_roles(
    s: &AppState,
    actor: &triad_app::Actor,
    scope: Scope,
    id: &str,
) -> ApiResult<Json<RoleSchedulesDto>> {
    let list = s.app.role_schedules(actor, scope, id).await?;
    Ok(Json(RoleSchedulesDto::from(list.as_slice())))
}

async fn put_roles(
    s: &AppState,
    actor: &triad_app::Actor,
    scope: Scope,
    id: &str,
    r: RoleSchedulesRequest,
) -> ApiResult<Json<RoleSchedulesDto>> {
    let input = triad_app::oncall::RoleSchedules {
        observer: r.observer,
        coordinator: r.coordinator,
    };
    let list = s.app.set_role_schedules(actor, scope, id, input).await?;
    Ok(Json(RoleSchedulesDto::from(list.as_slice())))
}

#[utoipa::path(get, path = "/api/v1/teams/{id}/role-schedules", tag = "schedules",
    params(("id" = String, Path, description = "team id or name")),
    responses((status = 200, body = RoleSchedulesDto), (status = 404, body = ErrorBody)))]
pub async fn team_roles(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<RoleSchedulesDto>> {
    get_roles(&s, &actor, Scope::Team, &id).await
}

#[utoipa::path(put, path = "/api/v1/teams/{id}/role-schedules", tag = "schedules", request_body = RoleSchedulesRequest,
    params(("id" = String, Path, description = "team id or name")),
    responses((status = 200, body = RoleSchedulesDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_team_roles(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<RoleSchedulesRequest>,
) -> ApiResult<Json<RoleSchedulesDto>> {
    put_roles(&s, &actor, Scope::Team, &id, r).await
}

#[utoipa::path(get, path = "/api/v1/services/{id}/role-schedules", tag = "schedules",
    params(("id" = String, Path, description = "service id or name")),
    responses((status = 200, body = RoleSchedulesDto), (status = 404, body = ErrorBody)))]
pub async fn service_roles(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<RoleSchedulesDto>> {
    get_roles(&s, &actor, Scope::Service, &id).await
}

#[utoipa::path(put, path = "/api/v1/services/{id}/role-schedules", tag = "schedules", request_body = RoleSchedulesRequest,
    params(("id" = String, Path, description = "service id or name")),
    responses((status = 200, body = RoleSchedulesDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_service_roles(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<RoleSchedulesRequest>,
) -> ApiResult<Json<RoleSchedulesDto>> {
    put_roles(&s, &actor, Scope::Service, &id, r).await
}

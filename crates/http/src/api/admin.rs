//! `/api/v1/users`, `/teams`, `/services`, `/tokens` and `/auth`: what an admin needs
//! to run Triad, and what every user needs to sign in.

use crate::AppState;
use crate::dto::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use triad_app::service::ServiceInput;
use triad_app::team::TeamInput;
use triad_app::token::NewToken;
use triad_app::user::{NewUser, UserChange};
use utoipa::IntoParams;

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest, security(()),
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody)))]
pub async fn login(
    State(s): State<AppState>,
    ApiJson(r): ApiJson<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let (token, user) = s.app.login(&r.email, &r.password).await?;
    Ok(Json(LoginResponse {
        token,
        must_change_password: user.must_change_password,
        user: (&user).into(),
    }))
}

#[utoipa::path(put, path = "/api/v1/auth/password", tag = "auth", request_body = PasswordRequest,
    responses((status = 204), (status = 422, body = ErrorBody)))]
pub async fn change_password(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(r): ApiJson<PasswordRequest>,
) -> ApiResult<StatusCode> {
    s.app
        .change_password(&actor, &r.current_password, &r.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", responses((status = 200, body = Vec<UserDto>)))]
pub async fn list_users(
    State(s): State<AppState>,
    Auth(actor): Auth,
) -> ApiResult<Json<Vec<UserDto>>> {
    Ok(Json(
        s.app
            .users(&actor)
            .await?
            .iter()
            .map(UserDto::from)
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUserRequest,
    responses((status = 201, body = UserDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_user(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(r): ApiJson<CreateUserRequest>,
) -> ApiResult<(StatusCode, Json<UserDto>)> {
    let input = NewUser {
        email: r.email,
        name: r.name,
        role: r.role,
        time_zone: r.time_zone,
        password: r.password,
    };
    let user = s.app.create_user(&actor, input).await?;
    Ok((StatusCode::CREATED, Json((&user).into())))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "user id, email, or `me`")),
    responses((status = 200, body = UserDto), (status = 404, body = ErrorBody)))]
pub async fn get_user(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<UserDto>> {
    Ok(Json((&s.app.user(&actor, &id).await?).into()))
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = ChangeUserRequest,
    params(("id" = String, Path, description = "user id or email")),
    responses((status = 200, body = UserDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_user(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<ChangeUserRequest>,
) -> ApiResult<Json<UserDto>> {
    let change = UserChange {
        email: r.email,
        name: r.name,
        role: r.role,
        time_zone: r.time_zone,
    };
    Ok(Json(
        (&s.app.change_user(&actor, &id, change).await?).into(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "user id or email")),
    responses((status = 200, body = UserDto, description = "deactivated; tokens revoked; history kept"), (status = 403, body = ErrorBody)))]
pub async fn deactivate_user(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<UserDto>> {
    Ok(Json((&s.app.deactivate_user(&actor, &id).await?).into()))
}

#[utoipa::path(get, path = "/api/v1/teams", tag = "teams", responses((status = 200, body = Vec<TeamDto>)))]
pub async fn list_teams(
    State(s): State<AppState>,
    Auth(actor): Auth,
) -> ApiResult<Json<Vec<TeamDto>>> {
    let teams = s.app.teams(&actor).await?;
    Ok(Json(
        teams
            .into_iter()
            .map(|(t, members)| TeamDto::new(&t, members))
            .collect(),
    ))
}

fn team_input(r: TeamRequest) -> TeamInput {
    TeamInput {
        name: r.name,
        description: r.description,
        members: r.members,
    }
}

#[utoipa::path(post, path = "/api/v1/teams", tag = "teams", request_body = TeamRequest,
    responses((status = 201, body = TeamDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_team(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(r): ApiJson<TeamRequest>,
) -> ApiResult<(StatusCode, Json<TeamDto>)> {
    let (team, members) = s.app.create_team(&actor, team_input(r)).await?;
    Ok((StatusCode::CREATED, Json(TeamDto::new(&team, members))))
}

#[utoipa::path(get, path = "/api/v1/teams/{id}", tag = "teams", params(("id" = String, Path)),
    responses((status = 200, body = TeamDto), (status = 404, body = ErrorBody)))]
pub async fn get_team(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<TeamDto>> {
    let (team, members) = s.app.team(&actor, &id).await?;
    Ok(Json(TeamDto::new(&team, members)))
}

#[utoipa::path(patch, path = "/api/v1/teams/{id}", tag = "teams", request_body = TeamRequest, params(("id" = String, Path)),
    responses((status = 200, body = TeamDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_team(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<TeamRequest>,
) -> ApiResult<Json<TeamDto>> {
    let (team, members) = s.app.change_team(&actor, &id, team_input(r)).await?;
    Ok(Json(TeamDto::new(&team, members)))
}

#[utoipa::path(delete, path = "/api/v1/teams/{id}", tag = "teams", params(("id" = String, Path)),
    responses((status = 204), (status = 409, body = ErrorBody, description = "in_use: services still belong to it")))]
pub async fn delete_team(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.app.delete_team(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn service_input(r: ServiceRequest) -> ServiceInput {
    ServiceInput {
        name: r.name,
        description: r.description,
        team: r.team,
        escalation_policy: r.escalation_policy,
        chat_webhook: r.chat_webhook,
        default_severity: r.default_severity,
        auto_resolve: r.auto_resolve,
    }
}

#[utoipa::path(get, path = "/api/v1/services", tag = "services", responses((status = 200, body = Vec<ServiceDto>)))]
pub async fn list_services(
    State(s): State<AppState>,
    Auth(actor): Auth,
) -> ApiResult<Json<Vec<ServiceDto>>> {
    Ok(Json(
        s.app
            .services(&actor)
            .await?
            .iter()
            .map(ServiceDto::from)
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/services", tag = "services", request_body = ServiceRequest,
    responses((status = 201, body = ServiceDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_service(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(r): ApiJson<ServiceRequest>,
) -> ApiResult<(StatusCode, Json<ServiceDto>)> {
    let service = s.app.create_service(&actor, service_input(r)).await?;
    Ok((StatusCode::CREATED, Json((&service).into())))
}

#[utoipa::path(get, path = "/api/v1/services/{id}", tag = "services", params(("id" = String, Path, description = "id or name")),
    responses((status = 200, body = ServiceDto), (status = 404, body = ErrorBody)))]
pub async fn get_service(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ServiceDto>> {
    Ok(Json((&s.app.service(&actor, &id).await?).into()))
}

#[utoipa::path(patch, path = "/api/v1/services/{id}", tag = "services", request_body = ServiceRequest, params(("id" = String, Path)),
    responses((status = 200, body = ServiceDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_service(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<ServiceRequest>,
) -> ApiResult<Json<ServiceDto>> {
    Ok(Json(
        (&s.app.change_service(&actor, &id, service_input(r)).await?).into(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/services/{id}", tag = "services", params(("id" = String, Path)),
    responses((status = 204), (status = 409, body = ErrorBody, description = "in_use: incidents name it")))]
pub async fn delete_service(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.app.delete_service(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TokenParams {
    /// Admins: list every user's tokens.
    pub all: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", params(TokenParams),
    responses((status = 200, body = Vec<TokenDto>, description = "metadata only, never the secret")))]
pub async fn list_tokens(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<TokenParams>,
) -> ApiResult<Json<Vec<TokenDto>>> {
    let tokens = s.app.tokens(&actor, p.all.unwrap_or(false)).await?;
    Ok(Json(tokens.iter().map(TokenDto::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = TokenRequest,
    responses((status = 201, body = TokenDto, description = "`token` holds the secret, shown this once"), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_token(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(r): ApiJson<TokenRequest>,
) -> ApiResult<(StatusCode, Json<TokenDto>)> {
    let input = NewToken {
        user: r.user,
        name: r.name,
        lifetime_days: r.expires_in_days,
    };
    let (secret, token) = s.app.create_token(&actor, input).await?;
    let mut dto = TokenDto::from(&token);
    dto.token = Some(secret);
    Ok((StatusCode::CREATED, Json(dto)))
}

#[utoipa::path(get, path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = String, Path)),
    responses((status = 200, body = TokenDto), (status = 404, body = ErrorBody)))]
pub async fn get_token(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<TokenDto>> {
    Ok(Json((&s.app.token(&actor, &id).await?).into()))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = String, Path)),
    responses((status = 204, description = "revoked"), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.app.revoke_token(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

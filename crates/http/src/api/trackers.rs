//! `/api/v1/trackers` (Jira projects incidents sync to), `/api/v1/incidents/{id}/tracker-sync`
//! and the inbound Jira webhook `POST /hooks/jira/{tracker}`.

use crate::AppState;
use crate::dto::ts;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Auth};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use triad_app::tracker::{Inbound, TrackerInput};
use triad_store::tracker::{Job, Link, Tracker};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackerRequest {
    /// `jira` (default) or `webhook`: a signed JSON event per incident opened, external
    /// update and resolve, POSTed to `base_url` (for CRMs and help desks).
    pub kind: Option<String>,
    pub name: String,
    /// The Jira site, such as `https://acme.atlassian.net`.
    pub base_url: String,
    /// 2 (plain-text bodies) or 3 (Atlassian Document Format, default).
    pub api_version: Option<i64>,
    /// `basic` (default: `user` + API `token`), `bearer` (`token`) or `none`.
    pub auth: Option<String>,
    pub user: Option<String>,
    pub token: Option<String>,
    /// The Jira project (not used by webhook trackers).
    #[serde(default)]
    pub project_key: String,
    /// Default `Incident`.
    pub issue_type: Option<String>,
    /// The transition (or target status) applied on resolve; default `Done`.
    pub resolve_transition: Option<String>,
    /// Incidents at least this severe get an issue; default `SEV4` (all).
    pub min_severity: Option<String>,
    /// Verifies inbound webhooks' `X-Hub-Signature` (sha256 HMAC) when set.
    pub inbound_secret: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrackerDto {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub base_url: String,
    pub api_version: i64,
    pub auth: String,
    pub user: Option<String>,
    pub project_key: String,
    pub issue_type: String,
    pub resolve_transition: String,
    pub min_severity: String,
    /// Whether inbound webhooks must be signed (the secret is never shown).
    pub inbound_signed: bool,
    /// Where to point Jira's webhook: this server's path.
    pub inbound_path: String,
    pub created_at: String,
}

impl From<&Tracker> for TrackerDto {
    fn from(t: &Tracker) -> Self {
        TrackerDto {
            id: t.id.clone(),
            name: t.name.clone(),
            kind: t.kind.clone(),
            base_url: t.base_url.clone(),
            api_version: t.api_version,
            auth: t.auth_kind.clone(),
            user: t.auth_user.clone(),
            project_key: t.project_key.clone(),
            issue_type: t.issue_type.clone(),
            resolve_transition: t.resolve_transition.clone(),
            min_severity: t.min_severity.clone(),
            inbound_signed: t.inbound_secret.is_some(),
            inbound_path: format!("/hooks/jira/{}", t.id),
            created_at: ts(t.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkDto {
    pub tracker_id: String,
    pub issue_key: String,
    /// `created` (Triad opened it) or `inbound` (linked from the tracker).
    pub origin: String,
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobDto {
    pub id: String,
    pub tracker_id: String,
    /// `create`, `comment` or `transition`.
    pub kind: String,
    pub issue_key: Option<String>,
    /// `pending`, `done` or `dead`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrackerSyncDto {
    pub links: Vec<LinkDto>,
    pub jobs: Vec<JobDto>,
}

fn link_dto(l: &Link) -> LinkDto {
    LinkDto {
        tracker_id: l.tracker_id.clone(),
        issue_key: l.issue_key.clone(),
        origin: l.origin.clone(),
        created_at: ts(l.created_at),
    }
}

fn job_dto(j: &Job) -> JobDto {
    JobDto {
        id: j.id.clone(),
        tracker_id: j.tracker_id.clone(),
        kind: j.kind.clone(),
        issue_key: j.issue_key.clone(),
        status: j.status.clone(),
        attempts: j.attempts,
        next_attempt_at: ts(j.next_attempt_at),
        last_error: j.last_error.clone(),
    }
}

#[utoipa::path(post, path = "/api/v1/trackers", tag = "trackers", request_body = TrackerRequest,
    responses((status = 201, body = TrackerDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(r): ApiJson<TrackerRequest>,
) -> ApiResult<(StatusCode, Json<TrackerDto>)> {
    let input = TrackerInput {
        kind: r.kind,
        name: r.name,
        base_url: r.base_url,
        api_version: r.api_version,
        auth: r.auth,
        user: r.user,
        token: r.token,
        project_key: r.project_key,
        issue_type: r.issue_type,
        resolve_transition: r.resolve_transition,
        min_severity: r.min_severity,
        inbound_secret: r.inbound_secret,
    };
    let t = s.app.create_tracker(&actor, input).await?;
    Ok((StatusCode::CREATED, Json((&t).into())))
}

#[utoipa::path(get, path = "/api/v1/trackers", tag = "trackers",
    responses((status = 200, body = Vec<TrackerDto>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Auth(actor): Auth,
) -> ApiResult<Json<Vec<TrackerDto>>> {
    let list = s.app.trackers(&actor).await?;
    Ok(Json(list.iter().map(TrackerDto::from).collect()))
}

#[utoipa::path(delete, path = "/api/v1/trackers/{id}", tag = "trackers",
    params(("id" = String, Path, description = "tracker id or name")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.app.delete_tracker(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/tracker-sync", tag = "trackers",
    params(("id" = String, Path, description = "incident number or id")),
    responses((status = 200, body = TrackerSyncDto), (status = 404, body = ErrorBody)))]
pub async fn incident_sync(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<TrackerSyncDto>> {
    let (links, jobs) = s.app.tracker_sync(&actor, &id).await?;
    Ok(Json(TrackerSyncDto {
        links: links.iter().map(link_dto).collect(),
        jobs: jobs.iter().map(job_dto).collect(),
    }))
}

/// `POST /hooks/jira/{tracker}`: Jira's webhook. 200 `{"status": "applied" |
/// "duplicate" | "ignored"}`; a replay (same `X-Atlassian-Webhook-Identifier`) is
/// `duplicate` and changes nothing.
pub async fn inbound(
    State(s): State<AppState>,
    ApiPath(tracker): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let done = s
        .app
        .tracker_webhook(
            &tracker,
            header("x-atlassian-webhook-identifier"),
            header("x-hub-signature"),
            &body,
        )
        .await?;
    let status = match done {
        Inbound::Applied => "applied",
        Inbound::Duplicate => "duplicate",
        Inbound::Ignored => "ignored",
    };
    Ok(Json(serde_json::json!({ "status": status })))
}

//! Wire types of `/api/v1`: what clients send and receive. Separate from the domain so
//! the API can stay stable while the model moves. Times are RFC 3339 UTC strings.

use serde::{Deserialize, Serialize};
use triad_app::incident::IncidentView;
use triad_domain::Millis;
use triad_domain::incident::Incident;
use triad_domain::timeline::TimelineEvent;
use triad_domain::update::StatusUpdate;
use triad_domain::user::User;
use triad_store::reporter::Reporter;
use triad_store::role::Holder;
use triad_store::service::Service;
use triad_store::team::Team;
use triad_store::token::ApiToken;
use utoipa::ToSchema;

pub use triad_app::rfc3339 as ts;

fn ts_opt(ms: Option<Millis>) -> Option<String> {
    ms.map(ts)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentDto {
    pub id: String,
    pub number: i64,
    pub title: String,
    pub description: Option<String>,
    /// `SEV1`..`SEV4`.
    pub severity: String,
    /// `triggered`, `acknowledged` or `resolved`.
    pub status: String,
    /// `investigating`, `identified`, `monitoring` or `resolved`.
    pub public_state: String,
    pub service_id: Option<String>,
    pub created_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub ack_due_at: Option<String>,
    pub acknowledged_at: Option<String>,
    pub acknowledged_by: Option<String>,
    pub resolved_at: Option<String>,
    pub resolved_by: Option<String>,
    /// Set while the team is active but nobody is being told (silence detection).
    pub communication_gap_at: Option<String>,
    /// How many times somebody asked for an update.
    pub update_requests: i64,
    /// The incident falls short of its severity's staffing policy (see the timeline's
    /// `understaffed` event for what is missing).
    pub understaffed: bool,
    pub understaffed_since: Option<String>,
    /// Who holds which role now (on single-incident responses only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<RoleDto>>,
    /// Who reported it (on single-incident responses only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporters: Option<Vec<ReporterDto>>,
    /// How many support reports it absorbed (on single-incident responses only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reports: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReporterDto {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub webhook: Option<String>,
    pub user_id: Option<String>,
    /// The webhook's signing secret: in the response that created the reporter only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<String>,
}

impl From<&Reporter> for ReporterDto {
    fn from(r: &Reporter) -> Self {
        ReporterDto {
            id: r.id.clone(),
            name: r.name.clone(),
            email: r.email.clone(),
            webhook: r.webhook.clone(),
            user_id: r.user_id.clone(),
            webhook_secret: None,
        }
    }
}

impl From<&Incident> for IncidentDto {
    fn from(i: &Incident) -> Self {
        IncidentDto {
            id: i.id.clone(),
            number: i.number,
            title: i.title.clone(),
            description: i.description.clone(),
            severity: i.severity.as_str().into(),
            status: i.status.as_str().into(),
            public_state: i.public_state.as_str().into(),
            service_id: i.service_id.clone(),
            created_by: i.created_by.clone(),
            created_at: ts(i.created_at),
            updated_at: ts(i.updated_at),
            ack_due_at: ts_opt(i.ack_due_at),
            acknowledged_at: ts_opt(i.acknowledged_at),
            acknowledged_by: i.acknowledged_by.clone(),
            resolved_at: ts_opt(i.resolved_at),
            resolved_by: i.resolved_by.clone(),
            communication_gap_at: ts_opt(i.communication_gap_at),
            update_requests: i.update_requests,
            understaffed: i.understaffed_since.is_some(),
            understaffed_since: ts_opt(i.understaffed_since),
            roles: None,
            reporters: None,
            reports: None,
        }
    }
}

impl From<IncidentView> for IncidentDto {
    fn from(v: IncidentView) -> Self {
        let mut dto = IncidentDto::from(&v.incident);
        dto.roles = Some(v.roles.iter().map(RoleDto::from).collect());
        dto.reporters = Some(v.reporters.iter().map(ReporterDto::from).collect());
        dto.reports = Some(v.reports);
        dto
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentPage {
    pub items: Vec<IncidentDto>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleDto {
    /// The assignment's id.
    pub id: String,
    /// `responder`, `observer` or `coordinator`.
    pub role: String,
    pub user_id: String,
    pub user_name: String,
    pub user_email: String,
    pub assumed_at: String,
    pub released_at: Option<String>,
    pub assigned_by: Option<String>,
    pub released_by: Option<String>,
    pub handover_note: Option<String>,
}

impl From<&Holder> for RoleDto {
    fn from(h: &Holder) -> Self {
        let a = &h.assignment;
        RoleDto {
            id: a.id.clone(),
            role: a.role.as_str().into(),
            user_id: a.user_id.clone(),
            user_name: h.user_name.clone(),
            user_email: h.user_email.clone(),
            assumed_at: ts(a.assumed_at),
            released_at: ts_opt(a.released_at),
            assigned_by: a.assigned_by.clone(),
            released_by: a.released_by.clone(),
            handover_note: a.handover_note.clone(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TimelineEventDto {
    /// Global sequence number, increasing in commit order; the SSE event id.
    pub seq: i64,
    pub id: String,
    pub incident_id: String,
    pub at: String,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    /// `incident_declared`, `incident_changed`, `acknowledged`, `resolved`, `reopened`,
    /// `role_assigned`, `role_handed_over`, `role_released`, `note`, `update_published`.
    pub kind: String,
    pub body: String,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl From<&TimelineEvent> for TimelineEventDto {
    fn from(e: &TimelineEvent) -> Self {
        TimelineEventDto {
            seq: e.seq,
            id: e.id.clone(),
            incident_id: e.incident_id.clone(),
            at: ts(e.at),
            actor_id: e.actor_id.clone(),
            actor_name: e.actor_name.clone(),
            kind: e.kind.as_str().into(),
            body: e.body.clone(),
            data: e.data.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UpdateDto {
    pub id: String,
    pub incident_id: String,
    /// `stakeholders`, `reporters` or `public`.
    pub audience: String,
    pub state: String,
    pub message: String,
    pub author_id: Option<String>,
    pub published_at: String,
    /// The deadline this update answered, when its audience had one.
    pub due_at: Option<String>,
    /// How late it was against that deadline, in seconds (0: on time).
    pub late_by_seconds: Option<i64>,
}

impl From<&StatusUpdate> for UpdateDto {
    fn from(u: &StatusUpdate) -> Self {
        UpdateDto {
            id: u.id.clone(),
            incident_id: u.incident_id.clone(),
            audience: u.audience.as_str().into(),
            state: u.state.as_str().into(),
            message: u.message.clone(),
            author_id: u.author_id.clone(),
            published_at: ts(u.published_at),
            due_at: ts_opt(u.due_at),
            late_by_seconds: u.late_by_ms.map(|ms| ms / 1000),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserDto {
    pub id: String,
    pub email: String,
    pub name: String,
    /// `admin`, `responder`, `support`, `stakeholder` or `viewer`.
    pub role: String,
    pub time_zone: String,
    pub created_at: String,
    pub updated_at: String,
    pub deactivated_at: Option<String>,
    pub must_change_password: bool,
}

impl From<&User> for UserDto {
    fn from(u: &User) -> Self {
        UserDto {
            id: u.id.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role.as_str().into(),
            time_zone: u.time_zone.clone(),
            created_at: ts(u.created_at),
            updated_at: ts(u.updated_at),
            deactivated_at: ts_opt(u.deactivated_at),
            must_change_password: u.must_change_password,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamDto {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// Member user ids.
    pub members: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl TeamDto {
    pub fn new(t: &Team, members: Vec<String>) -> Self {
        TeamDto {
            id: t.id.clone(),
            name: t.name.clone(),
            description: t.description.clone(),
            members,
            created_at: ts(t.created_at),
            updated_at: ts(t.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceDto {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub team_id: Option<String>,
    pub escalation_policy_id: Option<String>,
    pub chat_webhook: Option<String>,
    pub default_severity: Option<String>,
    pub auto_resolve: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Service> for ServiceDto {
    fn from(s: &Service) -> Self {
        ServiceDto {
            id: s.id.clone(),
            name: s.name.clone(),
            description: s.description.clone(),
            team_id: s.team_id.clone(),
            escalation_policy_id: s.escalation_policy_id.clone(),
            chat_webhook: s.chat_webhook.clone(),
            default_severity: s.default_severity.map(|v| v.as_str().to_string()),
            auto_resolve: s.auto_resolve,
            created_at: ts(s.created_at),
            updated_at: ts(s.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenDto {
    pub id: String,
    pub user_id: String,
    pub name: String,
    /// The token's first characters, to tell tokens apart.
    pub prefix: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    /// The secret itself: present only in the response that created the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl From<&ApiToken> for TokenDto {
    fn from(t: &ApiToken) -> Self {
        TokenDto {
            id: t.id.clone(),
            user_id: t.user_id.clone(),
            name: t.name.clone(),
            prefix: t.prefix.clone(),
            created_at: ts(t.created_at),
            expires_at: ts_opt(t.expires_at),
            last_used_at: ts_opt(t.last_used_at),
            revoked_at: ts_opt(t.revoked_at),
            token: None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// A bearer token for the API (shown once).
    pub token: String,
    pub user: UserDto,
    /// True for the first administrator until they choose a password.
    pub must_change_password: bool,
}

// ----- requests -----

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclareRequest {
    pub title: String,
    /// `SEV1`..`SEV4`, or `P1`..`P4`.
    pub severity: String,
    pub description: Option<String>,
    /// A service id or name.
    pub service: Option<String>,
    /// Who reported it: they get a receipt now and news as it happens.
    pub reporter: Option<ReporterRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReporterRequest {
    /// Required unless `user` is given.
    pub name: Option<String>,
    pub email: Option<String>,
    /// Receives signed JSON (see docs/notifications.md).
    pub webhook: Option<String>,
    /// The webhook's signing secret (16..200 characters); generated and returned once
    /// when absent.
    pub webhook_secret: Option<String>,
    /// A user id or email: the reporter is that user.
    pub user: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeIncidentRequest {
    pub title: Option<String>,
    pub description: Option<String>,
    pub severity: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    /// `responder`, `observer` or `coordinator`.
    pub role: String,
    /// A user id or email.
    pub user: String,
    /// Handover note, kept on the previous holder's assignment.
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    pub body: String,
}

/// A draft update: edit `message`, then publish it with `POST /incidents/{id}/updates`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DraftDto {
    pub audience: String,
    /// The suggested state: `resolved` once the incident is, else its public state.
    pub state: String,
    pub message: String,
    /// Sequence numbers of the timeline events it summarizes.
    pub events: Vec<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRequest {
    /// `stakeholders`, `reporters` or `public`.
    pub audience: String,
    /// `investigating`, `identified`, `monitoring` or `resolved`.
    pub state: String,
    pub message: String,
    /// Public updates only: the incident's name on the status page (the first public
    /// update without one shows the incident's title).
    #[serde(default)]
    pub public_title: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub email: String,
    pub name: String,
    pub role: String,
    /// IANA zone, default `UTC`.
    pub time_zone: Option<String>,
    /// At least 12 characters; without one the user signs in with tokens only.
    pub password: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeUserRequest {
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<String>,
    pub time_zone: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    /// User ids or emails; replaces the member list.
    pub members: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    /// Owning team id; empty string removes it.
    pub team: Option<String>,
    /// Escalation policy (id or name) paged for this service's incidents; empty removes.
    pub escalation_policy: Option<String>,
    /// Slack/Mattermost incoming webhook that mirrors the timeline; empty removes.
    pub chat_webhook: Option<String>,
    /// SEV1..SEV4: severity of incidents opened by alerts that carry none (default
    /// SEV3); empty removes.
    pub default_severity: Option<String>,
    /// Resolve an incident opened by alerts once all of them are resolved (default true).
    pub auto_resolve: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// A label, e.g. `ci` or `laptop`.
    pub name: String,
    /// The user (id or email) the token acts as; default yourself. Admins only for others.
    pub user: Option<String>,
    /// Lifetime in days; default: no expiry.
    pub expires_in_days: Option<u32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

//! Wire types of the engine's API: escalation and severity policies, contact methods,
//! notification rules, update requests and notification deliveries.

use crate::dto::ts;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use triad_app::update_request::UpdateRequestOutcome;
use triad_domain::escalation::{EscalationPolicy, Level, Target};
use triad_domain::policy::{Cadence, SeverityPolicy};
use triad_domain::role::Staffing;
use triad_domain::update::Audience;
use triad_store::contact::{ContactMethod, Rule};
use triad_store::notification::Notification;
use utoipa::ToSchema;

/// A target of an escalation level: `{"type":"user","id":…}`,
/// `{"type":"incident_role","role":"coordinator"}` (whoever holds the role), or
/// `{"type":"schedule","id":…}` (once on-call schedules exist).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(value_type = Object)]
pub struct TargetDto(pub Target);

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelDto {
    /// Wait this long for an acknowledgement before paging the next level (1..86400).
    pub delay_seconds: u32,
    pub targets: Vec<TargetDto>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationPolicyRequest {
    pub name: String,
    pub description: Option<String>,
    pub levels: Vec<LevelDto>,
    /// How many more passes after the first (0..9); default 0.
    #[serde(default)]
    pub repeat: u32,
    /// Told when every level was paged; default every administrator.
    pub fallback: Option<TargetDto>,
}

impl EscalationPolicyRequest {
    pub fn into_input(self) -> triad_app::policy::PolicyInput {
        triad_app::policy::PolicyInput {
            name: self.name,
            description: self.description,
            levels: self
                .levels
                .into_iter()
                .map(|l| Level {
                    delay_seconds: l.delay_seconds,
                    targets: l.targets.into_iter().map(|t| t.0).collect(),
                })
                .collect(),
            repeat: self.repeat,
            fallback: self.fallback.map(|t| t.0),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EscalationPolicyDto {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub levels: Vec<LevelDto>,
    pub repeat: u32,
    pub fallback: Option<TargetDto>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&EscalationPolicy> for EscalationPolicyDto {
    fn from(p: &EscalationPolicy) -> Self {
        EscalationPolicyDto {
            id: p.id.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            levels: p
                .levels
                .iter()
                .map(|l| LevelDto {
                    delay_seconds: l.delay_seconds,
                    targets: l.targets.iter().cloned().map(TargetDto).collect(),
                })
                .collect(),
            repeat: p.repeat,
            fallback: p.fallback.clone().map(TargetDto),
            created_at: ts(p.created_at),
            updated_at: ts(p.updated_at),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffingDto {
    /// Roles the severity requires: `responder`, `observer`, `coordinator`.
    pub required: Vec<String>,
    /// Whether each required role must be a different person.
    pub distinct: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CadenceDto {
    /// The first update is due this long after acknowledgement (60..604800).
    pub first_after_ack_seconds: u32,
    /// Then at least this often (60..604800).
    pub every_seconds: u32,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeverityPolicyRequest {
    pub ack_deadline_seconds: u32,
    pub staffing: StaffingDto,
    /// Per audience (`stakeholders`, `reporters`, `public`); an absent audience has none.
    #[serde(default)]
    pub cadence: BTreeMap<String, CadenceDto>,
    /// How long before an update is due the coordinator is reminded; default 120.
    pub reminder_lead_seconds: Option<u32>,
    /// Escalation policy (id or name) for incidents whose service names none.
    pub escalation_policy: Option<String>,
    /// Communications escalation policy (id or name): paged when an update is overdue.
    pub comms_escalation_policy: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeverityPolicyDto {
    pub severity: String,
    pub ack_deadline_seconds: u32,
    pub staffing: StaffingDto,
    pub cadence: BTreeMap<String, CadenceDto>,
    pub reminder_lead_seconds: u32,
    pub escalation_policy: Option<String>,
    pub comms_escalation_policy: Option<String>,
}

impl SeverityPolicyDto {
    pub fn new(severity: &str, p: &SeverityPolicy) -> Self {
        SeverityPolicyDto {
            severity: severity.to_string(),
            ack_deadline_seconds: p.ack_deadline_seconds,
            staffing: StaffingDto {
                required: p
                    .staffing
                    .required
                    .iter()
                    .map(|r| r.as_str().to_string())
                    .collect(),
                distinct: p.staffing.distinct,
            },
            cadence: p
                .cadence
                .iter()
                .map(|(a, c)| {
                    (
                        a.as_str().to_string(),
                        CadenceDto {
                            first_after_ack_seconds: c.first_after_ack_seconds,
                            every_seconds: c.every_seconds,
                        },
                    )
                })
                .collect(),
            reminder_lead_seconds: p.reminder_lead_seconds,
            escalation_policy: p.escalation_policy.clone(),
            comms_escalation_policy: p.comms_escalation_policy.clone(),
        }
    }
}

/// Converts a request, naming each bad role or audience.
pub fn severity_input(
    r: SeverityPolicyRequest,
) -> Result<triad_app::policy::SeverityInput, triad_app::AppError> {
    let mut v = triad_domain::validate::Validation::new();
    let mut required = Vec::new();
    for (i, role) in r.staffing.required.iter().enumerate() {
        if let Some(role) = v.check(
            &format!("staffing.required[{i}]"),
            triad_domain::role::IncidentRole::parse(role),
        ) {
            required.push(role);
        }
    }
    let mut cadence = BTreeMap::new();
    for (a, c) in r.cadence {
        if let Some(a) = v.check(&format!("cadence.{a}"), Audience::parse(&a)) {
            cadence.insert(
                a,
                Cadence {
                    first_after_ack_seconds: c.first_after_ack_seconds,
                    every_seconds: c.every_seconds,
                },
            );
        }
    }
    v.finish()?;
    Ok(triad_app::policy::SeverityInput {
        ack_deadline_seconds: r.ack_deadline_seconds,
        staffing: Staffing {
            required,
            distinct: r.staffing.distinct,
        },
        cadence,
        reminder_lead_seconds: r.reminder_lead_seconds,
        escalation_policy: r.escalation_policy,
        comms_escalation_policy: r.comms_escalation_policy,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactMethodRequest {
    /// `email`, `webhook`, `slack` (Slack/Mattermost incoming webhook), `sms` or `voice`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Email address, URL, or E.164 phone number.
    pub address: String,
    pub label: Option<String>,
    /// Webhooks only: the signing secret; generated and returned once when absent.
    pub secret: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactMethodDto {
    pub id: String,
    pub user_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub address: String,
    pub label: Option<String>,
    /// Webhooks: the signing secret, in the creating response only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub created_at: String,
}

impl ContactMethodDto {
    pub fn new(m: &ContactMethod, show_secret: bool) -> Self {
        ContactMethodDto {
            id: m.id.clone(),
            user_id: m.user_id.clone(),
            kind: m.kind.clone(),
            address: m.address.clone(),
            label: m.label.clone(),
            secret: m.secret.clone().filter(|_| show_secret),
            created_at: ts(m.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleRequest {
    pub contact_method_id: String,
    /// Notify through this method this long after the page (0..86400); default 0.
    #[serde(default)]
    pub delay_seconds: i64,
    /// `high` (SEV1, SEV2 and communication escalations), `low`, or `any` (default).
    pub urgency: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleDto {
    pub id: String,
    pub user_id: String,
    pub contact_method_id: String,
    pub delay_seconds: i64,
    pub urgency: String,
    pub created_at: String,
}

impl From<&Rule> for RuleDto {
    fn from(r: &Rule) -> Self {
        RuleDto {
            id: r.id.clone(),
            user_id: r.user_id.clone(),
            contact_method_id: r.contact_method_id.clone(),
            delay_seconds: r.delay_seconds,
            urgency: r.urgency.clone(),
            created_at: ts(r.created_at),
        }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRequestRequest {
    /// What the asker wants to know (optional).
    pub message: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UpdateRequestDto {
    pub incident_id: String,
    /// Requests on this incident so far, this one included.
    pub count: i64,
    /// False when a request was already paging the coordinator and managers.
    pub escalation_started: bool,
    /// Who was paged now.
    pub paged: Vec<String>,
}

impl From<UpdateRequestOutcome> for UpdateRequestDto {
    fn from(o: UpdateRequestOutcome) -> Self {
        UpdateRequestDto {
            incident_id: o.incident_id,
            count: o.count,
            escalation_started: o.escalation_started,
            paged: o.paged,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationDto {
    pub id: String,
    pub idempotency_key: String,
    /// `page`, `comms_page`, `receipt`, `acknowledged`, `update`, `reminder`, `resolved`,
    /// `exhausted`, `ack_overdue`, `communication_gap` or `chat`.
    pub purpose: String,
    pub user_id: Option<String>,
    pub recipient: String,
    pub channel: String,
    pub address: String,
    pub subject: String,
    /// `pending`, `failed` (will be retried), `sent`, `dead` or `cancelled`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

impl From<&Notification> for NotificationDto {
    fn from(n: &Notification) -> Self {
        NotificationDto {
            id: n.id.clone(),
            idempotency_key: n.idempotency_key.clone(),
            purpose: n.purpose.clone(),
            user_id: n.user_id.clone(),
            recipient: n.recipient.clone(),
            channel: n.channel.clone(),
            address: n.address.clone(),
            subject: n.subject.clone(),
            status: n.status.clone(),
            attempts: n.attempts,
            next_attempt_at: matches!(n.status.as_str(), "pending" | "failed")
                .then(|| ts(n.next_attempt_at)),
            last_error: n.last_error.clone(),
            created_at: ts(n.created_at),
            sent_at: n.sent_at.map(ts),
        }
    }
}

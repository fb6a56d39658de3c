//! Wire types of intake administration: integration keys, business services and
//! support reports.

use crate::dto::ts;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use triad_store::business_service::{BusinessService, StakeholderGroup};
use triad_store::integration_key::IntegrationKey;
use triad_store::report::Report;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntegrationKeyRequest {
    pub name: Option<String>,
    /// For `/hooks/generic/{key}`: JSON pointers into the body, e.g.
    /// `{"summary": "/alert/title", "dedup_key": "/alert/id", "action": "/state"}`.
    #[schema(value_type = Option<Object>)]
    pub mapping: Option<Value>,
    /// Events per minute accepted with this key (default 6000); more get 429.
    pub rate_limit_per_minute: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationKeyDto {
    pub id: String,
    pub service_id: String,
    pub name: Option<String>,
    /// The key itself: the PagerDuty routing key, the Opsgenie GenieKey, the webhook
    /// path key. In the response that created it only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The first characters of the key, to tell keys apart.
    pub key_prefix: String,
    #[schema(value_type = Option<Object>)]
    pub mapping: Option<Value>,
    pub rate_limit_per_minute: i64,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

impl IntegrationKeyDto {
    pub fn new(k: &IntegrationKey, key: Option<String>) -> Self {
        IntegrationKeyDto {
            id: k.id.clone(),
            service_id: k.service_id.clone(),
            name: k.name.clone(),
            key,
            key_prefix: k.key_prefix.clone(),
            mapping: k
                .mapping
                .as_deref()
                .and_then(|m| serde_json::from_str(m).ok()),
            rate_limit_per_minute: k.rate_limit_per_minute,
            created_at: ts(k.created_at),
            revoked_at: k.revoked_at.map(ts),
        }
    }
}

/// A group of stakeholders: `{name, emails?, chat_webhook?}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(value_type = Object)]
pub struct StakeholderGroupDto(pub StakeholderGroup);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessServiceRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    /// 1 (most critical) to 4.
    pub tier: Option<i64>,
    pub customers_served: Option<String>,
    pub stakeholder_groups: Option<Vec<StakeholderGroupDto>>,
    /// Technical services (ids or names) it depends on.
    pub services: Option<Vec<String>>,
}

impl BusinessServiceRequest {
    pub fn into_input(self) -> triad_app::integration::BusinessInput {
        triad_app::integration::BusinessInput {
            name: self.name,
            description: self.description,
            tier: self.tier,
            customers_served: self.customers_served,
            stakeholder_groups: self
                .stakeholder_groups
                .map(|g| g.into_iter().map(|x| x.0).collect()),
            services: self.services,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BusinessServiceDto {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub tier: i64,
    pub customers_served: Option<String>,
    pub stakeholder_groups: Vec<StakeholderGroupDto>,
    pub services: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&BusinessService> for BusinessServiceDto {
    fn from(b: &BusinessService) -> Self {
        BusinessServiceDto {
            id: b.id.clone(),
            name: b.name.clone(),
            description: b.description.clone(),
            tier: b.tier,
            customers_served: b.customers_served.clone(),
            stakeholder_groups: b
                .stakeholder_groups
                .iter()
                .cloned()
                .map(StakeholderGroupDto)
                .collect(),
            services: b.services.clone(),
            created_at: ts(b.created_at),
            updated_at: ts(b.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    pub reporter: crate::dto::ReporterRequest,
    /// What the reporter says, as they said it.
    pub text: String,
    /// Service (id or name) the report is about; through an integration key, the key's.
    pub service: Option<String>,
    /// Business service (id or name) the report is about.
    pub business_service: Option<String>,
    /// The ticket's id in the help desk or CRM; reports with the same one attach together.
    pub external_ref: Option<String>,
    /// The incident (number or id) it is about, when the reporter knows.
    pub incident: Option<String>,
    /// An alert's dedup key it is about.
    pub dedup_key: Option<String>,
    /// For a new incident: SEV1..SEV4 (default SEV3).
    pub severity: Option<String>,
    /// For a new incident: its title (default the text's first line).
    pub title: Option<String>,
}

impl ReportRequest {
    pub fn into_input(self) -> triad_app::report::ReportInput {
        triad_app::report::ReportInput {
            reporter: triad_app::incident::ReporterInput {
                name: self.reporter.name,
                email: self.reporter.email,
                webhook: self.reporter.webhook,
                webhook_secret: self.reporter.webhook_secret,
                user: self.reporter.user,
            },
            text: self.text,
            service: self.service,
            business_service: self.business_service,
            external_ref: self.external_ref,
            incident: self.incident,
            dedup_key: self.dedup_key,
            severity: self.severity,
            title: self.title,
        }
    }
}

/// A filed report: where it went, and how many reports that incident has absorbed.
#[derive(Debug, Serialize, ToSchema)]
pub struct FiledReportDto {
    pub report: ReportDto,
    /// The subscribed reporter; a generated webhook secret is shown here only.
    pub reporter: crate::dto::ReporterDto,
    pub incident: crate::dto::IncidentDto,
    pub reports: i64,
}

impl From<&triad_app::report::Filed> for FiledReportDto {
    fn from(f: &triad_app::report::Filed) -> Self {
        let mut reporter = crate::dto::ReporterDto::from(&f.reporter);
        reporter.webhook_secret = f.reporter.webhook_secret.clone();
        FiledReportDto {
            report: (&f.report).into(),
            reporter,
            incident: (&f.incident).into(),
            reports: f.reports,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportDto {
    pub id: String,
    pub incident_id: String,
    pub reporter_id: String,
    pub text: String,
    pub external_ref: Option<String>,
    pub service_id: Option<String>,
    pub business_service_id: Option<String>,
    /// How the report found its incident: `named`, `dedup_key`, `external_ref`, `text`,
    /// or `new` (it opened the incident).
    pub matched_by: String,
    pub created_at: String,
}

impl From<&Report> for ReportDto {
    fn from(r: &Report) -> Self {
        ReportDto {
            id: r.id.clone(),
            incident_id: r.incident_id.clone(),
            reporter_id: r.reporter_id.clone(),
            text: r.text.clone(),
            external_ref: r.external_ref.clone(),
            service_id: r.service_id.clone(),
            business_service_id: r.business_service_id.clone(),
            matched_by: r.matched_by.clone(),
            created_at: ts(r.created_at),
        }
    }
}

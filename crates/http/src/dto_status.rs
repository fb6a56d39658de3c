//! Wire types of business impact, the impact matrix, and the status page's settings,
//! components and maintenances (the authenticated side; the public side is in
//! `status_page`).

use crate::dto::ts;
use crate::dto_schedule::parse_time;
use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use triad_app::impact::{ImpactInput, ImpactReport, MatrixCell};
use triad_app::status::{ComponentInput, MaintenanceInput, PageInput};
use triad_domain::status::{ImpactMatrix, MaintenanceStatus};
use triad_store::status::{Component, Maintenance, Page};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImpactItemRequest {
    /// Business service id or name.
    pub id: String,
    /// `none`, `degraded`, `partial_outage` or `major_outage`.
    pub impact: String,
    pub customers_affected: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImpactRequest {
    /// The whole impact: replaces what was there (an empty list clears it).
    pub business_services: Vec<ImpactItemRequest>,
}

impl ImpactRequest {
    pub fn into_input(self) -> Vec<ImpactInput> {
        self.business_services
            .into_iter()
            .map(|i| ImpactInput {
                business_service: i.id,
                impact: i.impact,
                customers_affected: i.customers_affected,
            })
            .collect()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImpactItemDto {
    pub id: String,
    pub name: String,
    pub tier: i64,
    pub impact: String,
    pub customers_affected: Option<i64>,
    pub updated_at: String,
    pub updated_by: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImpactDto {
    /// Most severe first.
    pub business_services: Vec<ImpactItemDto>,
    /// The most severe cell of the impact matrix over these impacts; null without any.
    pub suggested_severity: Option<String>,
    /// Audiences the suggested severity's policy says must be kept informed.
    pub audiences: Vec<String>,
    /// The sum of the customers affected that were given.
    pub customers_affected: i64,
}

impl From<&ImpactReport> for ImpactDto {
    fn from(r: &ImpactReport) -> Self {
        ImpactDto {
            business_services: r
                .impacts
                .iter()
                .map(|(i, name, tier)| ImpactItemDto {
                    id: i.business_service_id.clone(),
                    name: name.clone(),
                    tier: *tier,
                    impact: i.impact.as_str().into(),
                    customers_affected: i.customers_affected,
                    updated_at: ts(i.updated_at),
                    updated_by: i.updated_by.clone(),
                })
                .collect(),
            suggested_severity: r.suggested_severity.map(|s| s.as_str().to_string()),
            audiences: r.audiences.iter().map(|a| a.as_str().to_string()).collect(),
            customers_affected: r.customers_affected,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatrixCellDto {
    /// `none`, `degraded`, `partial_outage` or `major_outage`.
    pub impact: String,
    /// The business service's criticality tier, 1 (most critical) to 4.
    pub tier: i64,
    /// `SEV1` to `SEV4`.
    pub severity: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatrixDto {
    /// Every cell (GET); the cells to set (PUT: the others keep the built-in defaults).
    pub cells: Vec<MatrixCellDto>,
}

impl From<&ImpactMatrix> for MatrixDto {
    fn from(m: &ImpactMatrix) -> Self {
        MatrixDto {
            cells: m
                .cells()
                .into_iter()
                .map(|(i, t, s)| MatrixCellDto {
                    impact: i.as_str().into(),
                    tier: t,
                    severity: s.as_str().into(),
                })
                .collect(),
        }
    }
}

impl MatrixDto {
    pub fn into_input(self) -> Vec<MatrixCell> {
        self.cells
            .into_iter()
            .map(|c| MatrixCell {
                impact: c.impact,
                tier: c.tier,
                severity: c.severity,
            })
            .collect()
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PageRequest {
    pub name: Option<String>,
    /// The page's public address, such as `https://status.example.com` (default `/status`).
    pub url: Option<String>,
    /// IANA zone the page's times are shown in (default `Etc/UTC`).
    pub time_zone: Option<String>,
}

impl PageRequest {
    pub fn into_input(self) -> PageInput {
        PageInput {
            name: self.name,
            url: self.url,
            time_zone: self.time_zone,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PageDto {
    pub id: String,
    pub name: String,
    pub url: String,
    pub time_zone: String,
    pub updated_at: String,
}

impl From<&Page> for PageDto {
    fn from(p: &Page) -> Self {
        PageDto {
            id: p.page_id.clone(),
            name: p.name.clone(),
            url: p.url.clone(),
            time_zone: p.time_zone.clone(),
            updated_at: ts(p.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentRequest {
    pub name: String,
    pub description: Option<String>,
    /// Order on the page (default: after the others).
    pub position: Option<i64>,
    /// A group shows its members' worst status.
    #[serde(default)]
    pub group: bool,
    /// The group this component belongs to.
    pub group_id: Option<String>,
    /// The technical service (id or name) whose incidents affect it.
    pub service: Option<String>,
    /// The business service (id or name) whose impact it shows.
    pub business_service: Option<String>,
    /// Show the uptime bar (default true).
    pub showcase: Option<bool>,
    #[serde(default)]
    pub only_show_if_degraded: bool,
    /// `YYYY-MM-DD`: where its uptime history starts.
    pub start_date: Option<String>,
}

impl ComponentRequest {
    pub fn into_input(self) -> ComponentInput {
        ComponentInput {
            name: self.name,
            description: self.description,
            position: self.position,
            group: self.group,
            group_id: self.group_id,
            service: self.service,
            business_service: self.business_service,
            showcase: self.showcase,
            only_show_if_degraded: self.only_show_if_degraded,
            start_date: self.start_date,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComponentDto {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub position: i64,
    pub group: bool,
    pub group_id: Option<String>,
    pub service_id: Option<String>,
    pub business_service_id: Option<String>,
    pub showcase: bool,
    pub only_show_if_degraded: bool,
    pub start_date: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Component> for ComponentDto {
    fn from(c: &Component) -> Self {
        ComponentDto {
            id: c.id.clone(),
            name: c.name.clone(),
            description: c.description.clone(),
            position: c.position,
            group: c.is_group,
            group_id: c.group_id.clone(),
            service_id: c.service_id.clone(),
            business_service_id: c.business_service_id.clone(),
            showcase: c.showcase,
            only_show_if_degraded: c.only_show_if_degraded,
            start_date: c.start_date.clone(),
            created_at: ts(c.created_at),
            updated_at: ts(c.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceRequest {
    pub name: String,
    /// What will happen, for the page.
    pub body: String,
    /// RFC 3339.
    pub scheduled_for: String,
    /// RFC 3339, after `scheduled_for`.
    pub scheduled_until: String,
    /// Component ids under maintenance.
    #[serde(default)]
    pub components: Vec<String>,
}

impl MaintenanceRequest {
    pub fn into_input(self) -> Result<MaintenanceInput, ApiError> {
        let from = parse_time("scheduled_for", &self.scheduled_for);
        let until = parse_time("scheduled_until", &self.scheduled_until);
        let (from, until) = match (from, until) {
            (Ok(f), Ok(u)) => (f, u),
            (Err(e), _) | (_, Err(e)) => return Err(e),
        };
        Ok(MaintenanceInput {
            name: self.name,
            body: self.body,
            scheduled_for: from,
            scheduled_until: until,
            components: self.components,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MaintenanceDto {
    pub id: String,
    pub name: String,
    pub body: String,
    pub scheduled_for: String,
    pub scheduled_until: String,
    /// `scheduled`, `in_progress` or `completed`, at the time of the request.
    pub status: String,
    pub components: Vec<String>,
    pub created_at: String,
    pub created_by: Option<String>,
}

impl MaintenanceDto {
    pub fn new(m: &Maintenance, now: triad_domain::Millis) -> Self {
        MaintenanceDto {
            id: m.id.clone(),
            name: m.name.clone(),
            body: m.body.clone(),
            scheduled_for: ts(m.scheduled_for),
            scheduled_until: ts(m.scheduled_until),
            status: MaintenanceStatus::at(m.scheduled_for, m.scheduled_until, now)
                .as_str()
                .into(),
            components: m.components.clone(),
            created_at: ts(m.created_at),
            created_by: m.created_by.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriberCountsDto {
    /// Live subscriptions whose address confirmed.
    pub confirmed: i64,
    /// Live subscriptions waiting for their confirmation link to be followed.
    pub pending: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateRequest {
    /// MiniJinja; the first line is the subject.
    pub subject: String,
    /// MiniJinja (docs/status-page.md lists the variables).
    pub body: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateDto {
    pub audience: String,
    /// `received`, `acknowledged`, `update` or `resolved`.
    pub stage: String,
    pub subject: String,
    pub body: String,
    pub updated_at: String,
    pub updated_by: Option<String>,
}

impl From<&triad_store::template::Template> for TemplateDto {
    fn from(t: &triad_store::template::Template) -> Self {
        TemplateDto {
            audience: t.audience.clone(),
            stage: t.stage.clone(),
            subject: t.subject.clone(),
            body: t.body.clone(),
            updated_at: ts(t.updated_at),
            updated_by: t.updated_by.clone(),
        }
    }
}

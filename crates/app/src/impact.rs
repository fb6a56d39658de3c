//! Business impact: what an incident does to each business service it affects, the
//! severity that suggests (impact × the business service's criticality tier), and the
//! audiences that severity says must be informed.

use crate::{Actor, App, AppError, AppResult};
use serde_json::json;
use triad_domain::severity::Severity;
use triad_domain::status::{Impact, ImpactMatrix, TIERS};
use triad_domain::timeline::EventKind;
use triad_domain::update::Audience;
use triad_domain::user::Permission;
use triad_domain::validate::Validation;
use triad_store::impact::{self as impacts, IncidentImpact};
use triad_store::{Conn, business_service, incident as incidents};

/// The most customers one impact may count (a typo guard; far above any real number).
pub const MAX_CUSTOMERS: i64 = 100_000_000_000;

/// One business service's impact, as given.
#[derive(Debug, Clone, Default)]
pub struct ImpactInput {
    pub business_service: String,
    pub impact: String,
    pub customers_affected: Option<i64>,
}

/// An incident's impact with what it suggests.
#[derive(Debug, Clone)]
pub struct ImpactReport {
    pub impacts: Vec<(IncidentImpact, String, i64)>,
    /// The most severe cell of the matrix over the impacts; `None` without impact.
    pub suggested_severity: Option<Severity>,
    /// The audiences the suggested severity's policy gives a cadence.
    pub audiences: Vec<Audience>,
    pub customers_affected: i64,
}

/// One matrix cell as given.
#[derive(Debug, Clone, Default)]
pub struct MatrixCell {
    pub impact: String,
    pub tier: i64,
    pub severity: String,
}

impl App {
    /// The incident's impact on business services and what it suggests.
    pub async fn incident_impact(&self, actor: &Actor, key: &str) -> AppResult<ImpactReport> {
        actor.require(Permission::Read)?;
        let mut conn = self.store().read().await?;
        let incident = incidents::get(&mut conn, key)
            .await?
            .ok_or(AppError::NotFound("incident"))?;
        let rows = impacts::list(&mut conn, &incident.id).await?;
        self.impact_report(&mut conn, rows).await
    }

    /// Replaces the incident's impact. Responders, administrators and the incident's
    /// coordinator may; the timeline records the change.
    pub async fn set_incident_impact(
        &self,
        actor: &Actor,
        key: &str,
        input: Vec<ImpactInput>,
    ) -> AppResult<ImpactReport> {
        actor.require(Permission::Read)?;
        let now = self.now();
        let mut d = self.decide().await?;
        let mut incident = incidents::lock(d.conn(), key)
            .await?
            .ok_or(AppError::NotFound("incident"))?;
        crate::role::require_respond_or_coordinator(d.conn(), actor, &incident.id).await?;
        let mut v = Validation::new();
        let mut rows: Vec<IncidentImpact> = Vec::new();
        for (n, item) in input.iter().enumerate() {
            let field = format!("business_services[{n}]");
            let impact = v.check(&format!("{field}.impact"), Impact::parse(&item.impact));
            if item
                .customers_affected
                .is_some_and(|c| !(0..=MAX_CUSTOMERS).contains(&c))
            {
                v.push(
                    &format!("{field}.customers_affected"),
                    format!("must be between 0 and {MAX_CUSTOMERS}"),
                );
            }
            let found = business_service::find(d.conn(), item.business_service.trim()).await?;
            let Some(b) = found else {
                v.push(&format!("{field}.id"), "no such business service");
                continue;
            };
            if rows.iter().any(|r| r.business_service_id == b.id) {
                v.push(&format!("{field}.id"), "listed twice");
                continue;
            }
            if let Some(impact) = impact {
                rows.push(IncidentImpact {
                    incident_id: incident.id.clone(),
                    business_service_id: b.id,
                    impact,
                    customers_affected: item.customers_affected,
                    updated_at: now,
                    updated_by: actor.user_id().map(str::to_string),
                });
            }
        }
        v.finish()?;
        let before = impacts::list(d.conn(), &incident.id).await?;
        impacts::replace(d.conn(), &incident.id, &rows).await?;
        // What a public incident's components show moves with its impact.
        triad_store::status::touch_page(d.conn(), now).await?;
        let report = self.impact_report(d.conn(), rows).await?;
        let summary: Vec<String> = report
            .impacts
            .iter()
            .map(|(r, name, _)| format!("{name}: {}", r.impact.as_str()))
            .collect();
        let body = format!(
            "{} set the business impact: {}",
            actor.name(),
            if summary.is_empty() {
                "none".to_string()
            } else {
                summary.join(", ")
            }
        );
        let data = json!({
            "impacts": report.impacts.iter().map(|(r, name, tier)| json!({
                "business_service_id": r.business_service_id, "name": name, "tier": tier,
                "impact": r.impact.as_str(), "customers_affected": r.customers_affected,
            })).collect::<Vec<_>>(),
            "previous": before.iter().map(|r| json!({
                "business_service_id": r.business_service_id, "impact": r.impact.as_str(),
            })).collect::<Vec<_>>(),
            "suggested_severity": report.suggested_severity.map(|s| s.as_str()),
        });
        d.append(self.event(actor, &incident.id, EventKind::ImpactChanged, body, data))
            .await?;
        crate::engine::hooks::after_activity(&mut d, &mut incident, now).await?;
        d.commit().await?;
        self.status_changed();
        Ok(report)
    }

    /// The matrix in force: every impact × tier cell.
    pub async fn impact_matrix(&self, actor: &Actor) -> AppResult<ImpactMatrix> {
        actor.require(Permission::Read)?;
        let mut conn = self.store().read().await?;
        Ok(ImpactMatrix::new(impacts::matrix(&mut conn).await?))
    }

    /// Sets matrix cells (the rest keep the built-in defaults). Administrators only.
    pub async fn set_impact_matrix(
        &self,
        actor: &Actor,
        cells: Vec<MatrixCell>,
    ) -> AppResult<ImpactMatrix> {
        actor.require(Permission::Administer)?;
        let mut v = Validation::new();
        let mut parsed = Vec::new();
        for (n, c) in cells.iter().enumerate() {
            let impact = v.check(&format!("cells[{n}].impact"), Impact::parse(&c.impact));
            let severity = v.check(
                &format!("cells[{n}].severity"),
                Severity::parse(&c.severity),
            );
            if !TIERS.contains(&c.tier) {
                v.push(&format!("cells[{n}].tier"), "must be 1 to 4");
            }
            if let (Some(i), Some(s)) = (impact, severity) {
                if parsed.iter().any(|(pi, pt, _)| *pi == i && *pt == c.tier) {
                    v.push(
                        &format!("cells[{n}]"),
                        "this impact and tier are given twice",
                    );
                }
                parsed.push((i, c.tier, s));
            }
        }
        v.finish()?;
        let mut d = self.decide().await?;
        impacts::set_matrix(d.conn(), &parsed).await?;
        d.commit().await?;
        Ok(ImpactMatrix::new(parsed))
    }

    async fn impact_report(
        &self,
        conn: &mut Conn,
        rows: Vec<IncidentImpact>,
    ) -> AppResult<ImpactReport> {
        let matrix = ImpactMatrix::new(impacts::matrix(conn).await?);
        let mut named = Vec::with_capacity(rows.len());
        for r in rows {
            let b = business_service::find(conn, &r.business_service_id).await?;
            let (name, tier) = b.map(|b| (b.name, b.tier)).unwrap_or_default();
            named.push((r, name, tier));
        }
        named.sort_by(|a, b| b.0.impact.cmp(&a.0.impact).then_with(|| a.1.cmp(&b.1)));
        let pairs: Vec<(Impact, i64)> = named.iter().map(|(r, _, t)| (r.impact, *t)).collect();
        let suggested_severity = matrix.suggest(&pairs);
        let audiences = match suggested_severity {
            Some(s) => {
                let policy = self.severity_policy_in(conn, s).await?;
                policy.cadence.keys().copied().collect()
            }
            None => Vec::new(),
        };
        let customers_affected = named
            .iter()
            .filter_map(|(r, _, _)| r.customers_affected)
            .fold(0i64, i64::saturating_add);
        Ok(ImpactReport {
            impacts: named,
            suggested_severity,
            audiences,
            customers_affected,
        })
    }
}

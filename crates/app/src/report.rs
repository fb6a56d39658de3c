//! Support reports: a human report names its incident, or is matched against the open
//! incidents of its service or business service (by an alert's dedup key, by the
//! ticket's external reference, by the words it shares), or opens a new incident. Its
//! reporter is subscribed to the incident's `reporters` updates and gets a receipt at
//! once; nothing about a report is ever lost or counted twice.

use crate::incident::{MAX_TITLE, ReporterInput};
use crate::lifecycle::{self, NewIncident};
use crate::outbox::{Notice, clock_time};
use crate::{Actor, App, AppError, AppResult, Decision, rfc3339};
use serde_json::json;
use triad_domain::Millis;
use triad_domain::incident::Incident;
use triad_domain::matching;
use triad_domain::severity::Severity;
use triad_domain::timeline::EventKind;
use triad_domain::update::Audience;
use triad_domain::user::Permission;
use triad_domain::validate::{self, Validation};
use triad_store::business_service as business;
use triad_store::report::{self as reports, Report};
use triad_store::reporter::{self as reporters, Reporter};
use triad_store::{incident as incidents, new_id, obligation, role as roles};

pub const MAX_TEXT: usize = 20_000;

/// A report as submitted.
#[derive(Debug, Clone, Default)]
pub struct ReportInput {
    pub reporter: ReporterInput,
    pub text: String,
    /// Service id or name.
    pub service: Option<String>,
    /// Business service id or name.
    pub business_service: Option<String>,
    /// The ticket's id in the help desk or CRM.
    pub external_ref: Option<String>,
    /// An incident (number or id) the reporter says it is about.
    pub incident: Option<String>,
    /// An alert's dedup key the report is about.
    pub dedup_key: Option<String>,
    /// For a new incident: its severity (default SEV3) and title (default the text's
    /// first line).
    pub severity: Option<String>,
    pub title: Option<String>,
}

/// The stored report, its incident, and how many reports the incident has absorbed.
#[derive(Debug, Clone)]
pub struct Filed {
    pub report: Report,
    /// The subscribed reporter (with a generated webhook secret, shown once).
    pub reporter: Reporter,
    pub incident: Incident,
    pub reports: i64,
}

impl App {
    /// Files a report for a person (support and responders, admins) — or, with
    /// `service` fixed, for a help desk sending through an integration key.
    pub async fn file_report(&self, actor: &Actor, input: ReportInput) -> AppResult<Filed> {
        actor.require(Permission::Declare)?;
        let now = self.now();
        let mut v = Validation::new();
        let text = v.check("text", validate::text(&input.text, MAX_TEXT));
        let external_ref = v
            .check(
                "external_ref",
                validate::optional_text(input.external_ref.as_deref(), 200),
            )
            .flatten();
        let dedup_key = v
            .check(
                "dedup_key",
                validate::optional_text(input.dedup_key.as_deref(), 512),
            )
            .flatten();
        let severity = match input.severity.as_deref().map(str::trim) {
            None | Some("") => Severity::Sev3,
            Some(s) => v
                .check("severity", Severity::parse(s))
                .unwrap_or(Severity::Sev3),
        };
        let title = v
            .check(
                "title",
                validate::optional_text(input.title.as_deref(), MAX_TITLE),
            )
            .flatten();
        let mut d = self.decide().await?;
        let reporter = self
            .check_reporter(d.conn(), &mut v, &input.reporter)
            .await?;
        let service = match input
            .service
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(k) => match crate::service::find(d.conn(), k).await? {
                Some(s) => Some(s),
                None => {
                    v.push("service", "no such service");
                    None
                }
            },
            None => None,
        };
        let business = match input
            .business_service
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(k) => match business::find(d.conn(), k).await? {
                Some(b) => Some(b),
                None => {
                    v.push("business_service", "no such business service");
                    None
                }
            },
            None => None,
        };
        let named = match input
            .incident
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(k) => match incidents::lock(d.conn(), k).await? {
                Some(i) if i.status.is_open() => Some(i),
                Some(_) => {
                    v.push(
                        "incident",
                        "is resolved: reopen it, or file the report without naming it",
                    );
                    None
                }
                None => {
                    v.push("incident", "no such incident");
                    None
                }
            },
            None => None,
        };
        v.finish()?;
        let (Some(text), Some(mut reporter)) = (text, reporter) else {
            return Err(AppError::Internal(
                "validation passed with a missing field".into(),
            ));
        };
        let mut services: Vec<String> = service.iter().map(|s| s.id.clone()).collect();
        if let Some(b) = &business {
            services.extend(b.services.iter().cloned());
        }
        let business_id = business.as_ref().map(|b| b.id.clone());
        // Which incident: named, else by dedup key, external reference, words; else new.
        let mut found: Option<(String, &'static str)> = named.map(|i| (i.id, "named"));
        if found.is_none()
            && let Some(k) = &dedup_key
        {
            found = by_dedup_key(&mut d, &services, k)
                .await?
                .map(|id| (id, "dedup_key"));
        }
        if found.is_none()
            && let Some(r) = &external_ref
        {
            found = reports::open_incident_by_ref(d.conn(), r)
                .await?
                .map(|id| (id, "external_ref"));
        }
        if found.is_none() {
            found = by_text(&mut d, &services, business_id.as_deref(), &text)
                .await?
                .map(|id| (id, "text"));
        }
        let actor_name = actor.name().to_string();
        let (incident, matched_by) = match found {
            Some((id, how)) => {
                let incident = incidents::lock(d.conn(), &id)
                    .await?
                    .ok_or(AppError::NotFound("incident"))?;
                d.knows(&incident);
                reporter.incident_id = incident.id.clone();
                reporter.created_at = now;
                reporters::insert(d.conn(), &reporter).await?;
                receipt(&mut d, &incident, &reporter, now).await?;
                (incident, how)
            }
            None => {
                let first = text.lines().next().unwrap_or_default().trim();
                let n = NewIncident {
                    title: title.unwrap_or_else(|| first.chars().take(MAX_TITLE).collect()),
                    description: Some(text.clone()),
                    severity,
                    service_id: services.first().cloned(),
                };
                let (incident, mut list) =
                    lifecycle::open_incident(&mut d, actor, n, vec![reporter]).await?;
                reporter = list
                    .pop()
                    .ok_or_else(|| AppError::Internal("reporter lost".into()))?;
                (incident, "new")
            }
        };
        let report = Report {
            id: new_id(),
            incident_id: incident.id.clone(),
            reporter_id: reporter.id.clone(),
            text,
            external_ref,
            service_id: service.map(|s| s.id),
            business_service_id: business_id,
            matched_by: matched_by.to_string(),
            created_by: actor.user_id().map(str::to_string),
            created_at: now,
        };
        reports::insert(d.conn(), &report).await?;
        let count = reports::count_for_incident(d.conn(), &incident.id).await?;
        let body = format!(
            "Report from {} filed by {actor_name} ({}; {count} in all){}",
            reporter.name,
            match matched_by {
                "new" => "opened this incident".to_string(),
                how => format!("matched by {}", how.replace('_', " ")),
            },
            report
                .external_ref
                .as_deref()
                .map(|r| format!(", ticket {r}"))
                .unwrap_or_default()
        );
        let data = json!({"report_id": report.id, "reporter_id": reporter.id, "matched_by": matched_by,
            "external_ref": report.external_ref, "reports": count});
        let event = self.event(actor, &incident.id, EventKind::ReportReceived, body, data);
        d.append(event).await?;
        d.commit().await?;
        Ok(Filed {
            report,
            reporter,
            incident,
            reports: count,
        })
    }

    /// An incident's reports, oldest first.
    pub async fn incident_reports(&self, actor: &Actor, key: &str) -> AppResult<Vec<Report>> {
        actor.require(Permission::Read)?;
        let mut conn = self.store().read().await?;
        let incident = incidents::get(&mut conn, key)
            .await?
            .ok_or(AppError::NotFound("incident"))?;
        Ok(reports::for_incident(&mut conn, &incident.id).await?)
    }
}

/// The open incident an open alert with this dedup key belongs to, on these services.
async fn by_dedup_key(
    d: &mut Decision<'_>,
    services: &[String],
    dedup_key: &str,
) -> AppResult<Option<String>> {
    for sid in services {
        for id in incidents::open_for_service(d.conn(), sid).await? {
            let hit = triad_store::alert::for_incident(d.conn(), &id)
                .await?
                .into_iter()
                .any(|a| a.dedup_key == dedup_key);
            if hit {
                return Ok(Some(id));
            }
        }
    }
    Ok(None)
}

/// The open incident of these services (or with reports about this business service)
/// whose words the report shares most, if any shares enough.
async fn by_text(
    d: &mut Decision<'_>,
    services: &[String],
    business_id: Option<&str>,
    text: &str,
) -> AppResult<Option<String>> {
    let mut ids: Vec<String> = Vec::new();
    for sid in services {
        for id in incidents::open_for_service(d.conn(), sid).await? {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    let biz: Vec<String> = business_id.map(str::to_string).into_iter().collect();
    for r in reports::open_candidates(d.conn(), &[], &biz).await? {
        if !ids.contains(&r.incident_id) {
            ids.push(r.incident_id);
        }
    }
    let mut candidates = Vec::new();
    for id in ids {
        let Some(i) = incidents::get(d.conn(), &id).await? else {
            continue;
        };
        let mut words = format!("{} {}", i.title, i.description.unwrap_or_default());
        for r in reports::for_incident(d.conn(), &id).await? {
            words.push(' ');
            words.push_str(&r.text);
        }
        for a in triad_store::alert::for_incident(d.conn(), &id).await? {
            words.push(' ');
            words.push_str(&a.summary);
        }
        candidates.push((id, words));
    }
    Ok(matching::best_match(text, &candidates).map(|(id, _)| id.to_string()))
}

/// Tells a reporter who just joined an incident where it stands: its status, who has
/// it, and when the next update to reporters is due.
async fn receipt(
    d: &mut Decision<'_>,
    incident: &Incident,
    reporter: &Reporter,
    now: Millis,
) -> AppResult<()> {
    let holders = roles::list(d.conn(), &incident.id, true).await?;
    let who: Vec<String> = holders
        .iter()
        .filter(|h| h.assignment.role == triad_domain::role::IncidentRole::Responder)
        .map(|h| h.user_name.clone())
        .collect();
    let due = obligation::get(d.conn(), &incident.id, Audience::Reporters)
        .await?
        .map(|o| o.due_at);
    let notice = Notice {
        incident: Some(incident),
        purpose: "receipt",
        key: format!("receipt:{}:{}", incident.id, reporter.id),
        subject: format!("Received: #{} {}", incident.number, incident.title),
        text: String::new(),
        data: json!({"status": incident.status.as_str(), "responders": who,
            "next_update_due_at": due.map(rfc3339), "ack_due_at": incident.ack_due_at.map(rfc3339)}),
        at: now,
    };
    let status = incident.status.as_str();
    let sent = d
        .notify_reporters_as(
            "received",
            None,
            due,
            std::slice::from_ref(reporter),
            &notice,
            |tz| {
            let mut t = format!(
                "We received your report and added it to incident #{} ({}) {}, which is {status}.",
                incident.number, incident.severity, incident.title
            );
            if who.is_empty() {
                if let Some(a) = incident.ack_due_at {
                    t.push_str(&format!(
                        " The on-call team is being paged; acknowledgement expected by {}.",
                        clock_time(a, tz)
                    ));
                }
            } else {
                t.push_str(&format!(" {} has it.", who.join(", ")));
            }
            if let Some(due) = due {
                t.push_str(&format!(
                    " The next update is due by {}.",
                    clock_time(due, tz)
                ));
            }
            t
        })
        .await?;
    let body = format!(
        "Sent a receipt to {} (status {status}; responders: {})",
        reporter.name,
        if who.is_empty() {
            "none yet".to_string()
        } else {
            who.join(", ")
        }
    );
    let data = json!({"purpose": "receipt", "reporters": [reporter.name], "messages": sent});
    d.system_event(&incident.id, EventKind::ReporterNotified, body, data)
        .await?;
    Ok(())
}

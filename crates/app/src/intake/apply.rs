//! Applying one intake command inside the writer's transaction: deduplicate by the
//! alert's key while it is open, group new alerts into the open incident of their group
//! or open a new incident, acknowledge or resolve the incident once all its alerts are,
//! and put every inbound event on the incident's timeline.

use super::{Applied, Command, Outcome, actor_of};
use crate::lifecycle::{self, NewIncident};
use crate::{Actor, AppError, AppResult, Decision};
use serde_json::{Value, json};
use triad_domain::Millis;
use triad_domain::incident::{Incident, Status, Transition};
use triad_domain::severity::Severity;
use triad_domain::timeline::EventKind;
use triad_intake::opsgenie::{Identifier, IdentifierType};
use triad_intake::{Action, AlertEvent, ChangeEvent};
use triad_store::alert::{self as alerts, Alert, AlertStatus, IntakeRequest, Retrigger};
use triad_store::integration_key::IntegrationKey;
use triad_store::{incident as incidents, new_id, service};

/// The severity of an incident opened by an alert that names none, on a service that
/// sets none.
pub const DEFAULT_SEVERITY: Severity = Severity::Sev3;

pub(super) async fn command(
    d: &mut Decision<'_>,
    key: &IntegrationKey,
    command: &Command,
    now: Millis,
) -> AppResult<Outcome> {
    let mut out = Outcome::default();
    match command {
        Command::Alerts(events) => {
            for e in events {
                out.applied.push(alert(d, key, e, now).await?);
            }
        }
        Command::Change(c) => out.incidents = change(d, key, c).await?,
        Command::OpsgenieCreate(event) => {
            let applied = alert(d, key, event, now).await?;
            let status = if applied.status == "created" {
                "Created alert"
            } else {
                "An alert with this alias is open; its count was increased"
            };
            out.request_id = Some(record(d, key, "Create", true, status, &applied, now).await?);
            out.applied.push(applied);
        }
        Command::Opsgenie { id, event } => {
            let (applied, found) = match find(d, key, id).await? {
                Some(a) => {
                    let e = AlertEvent {
                        dedup_key: Some(a.dedup_key.clone()),
                        ..event.clone()
                    };
                    (alert(d, key, &e, now).await?, true)
                }
                None => (dropped(id), false),
            };
            let action = if event.action == Action::Resolve {
                "Close"
            } else {
                "Acknowledge"
            };
            let status = match (found, event.action) {
                (false, _) => "Alert does not exist",
                (true, Action::Resolve) => "Closed alert",
                (true, _) => "Acknowledged alert",
            };
            out.request_id = Some(record(d, key, action, found, status, &applied, now).await?);
            out.applied.push(applied);
        }
        Command::OpsgenieNote { id, note } => {
            let applied = match find(d, key, id).await? {
                Some(a) => {
                    let actor = actor_of(key, "opsgenie");
                    let who = note.user.as_deref().unwrap_or("someone");
                    let body = format!("Note on alert \"{}\" from {who}: {}", a.summary, note.note);
                    let data = json!({"action": "note", "alert_id": a.id, "dedup_key": a.dedup_key,
                        "note": note.note, "user": note.user, "source": note.source});
                    timeline(d, &actor, &a.incident_id, body, data);
                    Applied {
                        dedup_key: a.dedup_key,
                        alert_id: Some(a.id),
                        incident_id: Some(a.incident_id),
                        status: "noted",
                    }
                }
                None => dropped(id),
            };
            let found = applied.status != "dropped";
            let status = if found {
                "Added note"
            } else {
                "Alert does not exist"
            };
            out.request_id = Some(record(d, key, "AddNote", found, status, &applied, now).await?);
            out.applied.push(applied);
        }
    }
    Ok(out)
}

fn dropped(id: &Identifier) -> Applied {
    Applied {
        dedup_key: id.value.clone(),
        alert_id: None,
        incident_id: None,
        status: "dropped",
    }
}

/// The open alert an Opsgenie identifier names under this key.
async fn find(
    d: &mut Decision<'_>,
    key: &IntegrationKey,
    id: &Identifier,
) -> AppResult<Option<Alert>> {
    Ok(match id.kind {
        IdentifierType::Alias => alerts::open_by_key(d.conn(), &key.id, &id.value).await?,
        IdentifierType::Id | IdentifierType::Tiny => alerts::get(d.conn(), &id.value)
            .await?
            .filter(|a| a.integration_key_id == key.id && a.status != AlertStatus::Resolved),
    })
}

async fn record(
    d: &mut Decision<'_>,
    key: &IntegrationKey,
    action: &str,
    success: bool,
    status: &str,
    applied: &Applied,
    now: Millis,
) -> AppResult<String> {
    let r = IntakeRequest {
        id: new_id(),
        integration_key_id: key.id.clone(),
        action: action.to_string(),
        success,
        status: status.to_string(),
        alert_id: applied.alert_id.clone(),
        alias: Some(applied.dedup_key.clone()),
        created_at: now,
    };
    alerts::insert_request(d.conn(), &r).await?;
    Ok(r.id)
}

/// An `alert` event on the incident's timeline, deferred (see [`Decision::defer`]) so
/// that a batch's events are written together; nothing in intake reads them back
/// before the batch commits.
fn timeline(d: &mut Decision<'_>, actor: &Actor, incident_id: &str, body: String, data: Value) {
    let event = d
        .app
        .event(actor, incident_id, EventKind::Alert, body, data);
    d.defer(event);
}

async fn lock(d: &mut Decision<'_>, incident_id: &str) -> AppResult<Incident> {
    let incident = incidents::lock(d.conn(), incident_id)
        .await?
        .ok_or(AppError::NotFound("incident"))?;
    d.knows(&incident);
    Ok(incident)
}

fn event_json(e: &AlertEvent, action: &str, a: &Alert) -> Value {
    json!({
        "action": action,
        "format": e.format.as_str(),
        "alert_id": a.id,
        "dedup_key": a.dedup_key,
        "group_key": a.group_key,
        "summary": a.summary,
        "source": a.source,
        "severity": a.severity,
        "occurrences": a.occurrences,
        "occurred_at": e.occurred_at.map(crate::rfc3339),
        "links": e.links.iter().map(|l| json!({"href": l.href, "text": l.text})).collect::<Vec<_>>(),
        "details": e.details,
    })
}

/// The events of a command made only of triggers (what an alert storm is), which
/// [`triggers`] can apply set-wise; `None` for any other command.
pub(super) fn only_triggers(command: &Command) -> Option<&[AlertEvent]> {
    match command {
        Command::Alerts(events) if events.iter().all(|e| e.action == Action::Trigger) => {
            Some(events)
        }
        _ => None,
    }
}

/// Applies a run of trigger-only commands (see [`only_triggers`]) whose named dedup
/// keys are all distinct under their integration keys: one statement counts and updates
/// every one that is already open, their timeline events are written together, and the
/// rest open alerts one by one, in order. The result equals applying each command in
/// turn with [`command`], since distinct keys cannot affect one another's repeats.
pub(super) async fn triggers(
    d: &mut Decision<'_>,
    run: &[(&IntegrationKey, &[AlertEvent])],
    now: Millis,
) -> AppResult<Vec<Outcome>> {
    let details: Vec<Vec<String>> = run
        .iter()
        .map(|(_, events)| events.iter().map(|e| e.details.to_string()).collect())
        .collect();
    let mut wanted = Vec::new();
    for ((key, events), details) in run.iter().zip(&details) {
        for (e, details) in events.iter().zip(details) {
            if let Some(dedup) = &e.dedup_key {
                let r = Retrigger {
                    summary: e.summary.as_deref(),
                    source: e.source.as_deref(),
                    severity: e.severity.map(|s| s.as_str()),
                    details,
                    at: now,
                };
                wanted.push((key.id.as_str(), dedup.as_str(), r));
            }
        }
    }
    let mut open: std::collections::HashMap<(String, String), (Alert, Option<String>)> =
        alerts::retrigger_many(d.conn(), &wanted)
            .await?
            .into_iter()
            .map(|(a, chat)| {
                (
                    (a.integration_key_id.clone(), a.dedup_key.clone()),
                    (a, chat),
                )
            })
            .collect();
    let mut out = Vec::with_capacity(run.len());
    for (key, events) in run {
        let mut outcome = Outcome::default();
        for e in events.iter() {
            let actor = actor_of(key, e.format.as_str());
            let dedup = e.dedup_key.clone().unwrap_or_else(new_id);
            let applied = match open.remove(&(key.id.clone(), dedup.clone())) {
                Some((a, chat)) => {
                    d.knows_chat(&a.incident_id, chat);
                    repeat(d, &actor, e, a)
                }
                None => open_alert(d, key, &actor, e, dedup, now).await?,
            };
            outcome.applied.push(applied);
        }
        out.push(outcome);
    }
    Ok(out)
}

/// One alert event.
async fn alert(
    d: &mut Decision<'_>,
    key: &IntegrationKey,
    e: &AlertEvent,
    now: Millis,
) -> AppResult<Applied> {
    let actor = actor_of(key, e.format.as_str());
    let dedup = e.dedup_key.clone().unwrap_or_else(new_id);
    if e.action == Action::Trigger {
        // Counts a repeat of an open alert in one statement; a new alert otherwise.
        let details = e.details.to_string();
        let r = Retrigger {
            summary: e.summary.as_deref(),
            source: e.source.as_deref(),
            severity: e.severity.map(|s| s.as_str()),
            details: &details,
            at: now,
        };
        return match alerts::retrigger_open(d.conn(), &key.id, &dedup, r).await? {
            Some((a, chat)) => {
                d.knows_chat(&a.incident_id, chat);
                Ok(repeat(d, &actor, e, a))
            }
            None => open_alert(d, key, &actor, e, dedup, now).await,
        };
    }
    let open = alerts::open_by_key(d.conn(), &key.id, &dedup).await?;
    match (e.action, open) {
        (_, None) => Ok(Applied {
            dedup_key: dedup,
            alert_id: None,
            incident_id: None,
            status: "dropped",
        }),
        (action, Some(a)) => settle(d, &actor, e, action, a, now).await,
    }
}

/// A trigger for an alert already open, already counted and updated by
/// [`alerts::retrigger_open`]: recorded on the timeline, never a new incident.
fn repeat(d: &mut Decision<'_>, actor: &Actor, e: &AlertEvent, a: Alert) -> Applied {
    let body = format!(
        "Alert \"{}\" triggered again ({} times)",
        a.summary, a.occurrences
    );
    timeline(
        d,
        actor,
        &a.incident_id,
        body,
        event_json(e, "repeated", &a),
    );
    Applied {
        dedup_key: a.dedup_key,
        alert_id: Some(a.id),
        incident_id: Some(a.incident_id),
        status: "updated",
    }
}

/// A new alert: joins the open incident of its group, or opens an incident.
async fn open_alert(
    d: &mut Decision<'_>,
    key: &IntegrationKey,
    actor: &Actor,
    e: &AlertEvent,
    dedup: String,
    now: Millis,
) -> AppResult<Applied> {
    let summary = e
        .summary
        .clone()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "alert".to_string());
    let grouped = match &e.group_key {
        Some(g) => alerts::open_incident_of_group(d.conn(), &key.service_id, g).await?,
        None => None,
    };
    let incident_id = match grouped {
        Some(id) => id,
        None => {
            let svc = service::get(d.conn(), &key.service_id)
                .await?
                .ok_or(AppError::NotFound("service"))?;
            let severity = e
                .severity
                .or(svc.default_severity)
                .unwrap_or(DEFAULT_SEVERITY);
            let n = NewIncident {
                title: summary.chars().take(crate::incident::MAX_TITLE).collect(),
                description: None,
                severity,
                service_id: Some(svc.id),
            };
            lifecycle::open_incident(d, actor, n, Vec::new())
                .await?
                .0
                .id
        }
    };
    let a = Alert {
        id: new_id(),
        service_id: key.service_id.clone(),
        integration_key_id: key.id.clone(),
        incident_id: incident_id.clone(),
        dedup_key: dedup,
        group_key: e.group_key.clone(),
        format: e.format.as_str().to_string(),
        status: AlertStatus::Triggered,
        summary,
        source: e.source.clone(),
        severity: e.severity.map(|s| s.as_str().to_string()),
        details: e.details.to_string(),
        occurrences: 1,
        created_at: now,
        last_event_at: now,
        resolved_at: None,
    };
    alerts::insert(d.conn(), &a).await?;
    let body = format!(
        "Alert \"{}\" triggered via {}{}",
        a.summary,
        e.format.as_str(),
        a.source
            .as_deref()
            .map(|s| format!(" from {s}"))
            .unwrap_or_default()
    );
    timeline(d, actor, &incident_id, body, event_json(e, "triggered", &a));
    Ok(Applied {
        dedup_key: a.dedup_key,
        alert_id: Some(a.id),
        incident_id: Some(incident_id),
        status: "created",
    })
}

/// Acknowledge or resolve an open alert; the incident follows once all its alerts have.
async fn settle(
    d: &mut Decision<'_>,
    actor: &Actor,
    e: &AlertEvent,
    action: Action,
    mut a: Alert,
    now: Millis,
) -> AppResult<Applied> {
    let (status, word) = if action == Action::Resolve {
        a.resolved_at = Some(now);
        (AlertStatus::Resolved, "resolved")
    } else {
        (AlertStatus::Acknowledged, "acknowledged")
    };
    if action == Action::Acknowledge && a.status == AlertStatus::Acknowledged {
        return Ok(Applied {
            dedup_key: a.dedup_key,
            alert_id: Some(a.id),
            incident_id: Some(a.incident_id),
            status: "acknowledged",
        });
    }
    a.status = status;
    a.last_event_at = now;
    alerts::save(d.conn(), &a).await?;
    let mut body = format!("Alert \"{}\" {word}", a.summary);
    if let Some(n) = &e.note {
        body.push_str(&format!(": {n}"));
    }
    timeline(d, actor, &a.incident_id, body, event_json(e, word, &a));
    let mut incident = lock(d, &a.incident_id).await?;
    let (triggered, acknowledged) = alerts::open_counts(d.conn(), &incident.id).await?;
    let follow = match action {
        Action::Acknowledge if incident.status == Status::Triggered && triggered == 0 => {
            Some(Transition::Acknowledge)
        }
        Action::Resolve if incident.status.is_open() && triggered + acknowledged == 0 => {
            let auto = service::get(d.conn(), &a.service_id)
                .await?
                .is_some_and(|s| s.auto_resolve);
            auto.then_some(Transition::Resolve)
        }
        _ => None,
    };
    if let Some(t) = follow {
        lifecycle::apply_transition(d, actor, &mut incident, t, now).await?;
    }
    Ok(Applied {
        dedup_key: a.dedup_key,
        alert_id: Some(a.id),
        incident_id: Some(a.incident_id),
        status: word,
    })
}

/// A change event: on the timeline of each of the service's open incidents.
async fn change(
    d: &mut Decision<'_>,
    key: &IntegrationKey,
    c: &ChangeEvent,
) -> AppResult<Vec<String>> {
    let actor = actor_of(key, "pagerduty change");
    let open = incidents::open_for_service(d.conn(), &key.service_id).await?;
    for id in &open {
        let body = format!(
            "Change: {}{}",
            c.summary,
            c.source
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default()
        );
        let data = json!({"summary": c.summary, "source": c.source,
            "occurred_at": c.occurred_at.map(crate::rfc3339), "details": c.details,
            "links": c.links.iter().map(|l| json!({"href": l.href, "text": l.text})).collect::<Vec<_>>()});
        let event = d.app.event(&actor, id, EventKind::Change, body, data);
        d.defer(event);
    }
    Ok(open)
}

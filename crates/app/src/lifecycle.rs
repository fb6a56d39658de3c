//! The incident lifecycle inside a decision: opening an incident (a person declaring,
//! an alert triggering, a report arriving) and the transitions (acknowledge, resolve,
//! reopen), each with its timeline events and the engine's hooks. The public use cases
//! in `incident`, `intake` and `report` authorise, validate, then call these.

use crate::engine::{hooks, staffing};
use crate::{Actor, AppResult, Decision};
use serde_json::json;
use triad_domain::Millis;
use triad_domain::incident::{Incident, PublicState, Status, Transition};
use triad_domain::role::{AssignmentPlan, IncidentRole, RoleAssignment, plan_assignment};
use triad_domain::severity::Severity;
use triad_domain::timeline::EventKind;
use triad_store::incident as incidents;
use triad_store::reporter::Reporter;
use triad_store::role as roles;
use triad_store::{counter, new_id};

/// A validated new incident.
#[derive(Debug, Clone)]
pub(crate) struct NewIncident {
    pub title: String,
    pub description: Option<String>,
    pub severity: Severity,
    pub service_id: Option<String>,
}

/// Opens an incident with its reporters: the number, the ack deadline, the
/// `incident_declared` event, and the engine's paging and receipts.
pub(crate) async fn open_incident(
    d: &mut Decision<'_>,
    actor: &Actor,
    n: NewIncident,
    mut reporters: Vec<Reporter>,
) -> AppResult<(Incident, Vec<Reporter>)> {
    let now = d.app.now();
    let number = counter::next(d.conn(), counter::INCIDENT_NUMBER).await?;
    let incident = Incident {
        id: new_id(),
        number,
        title: n.title,
        description: n.description,
        severity: n.severity,
        status: Status::Triggered,
        public_state: PublicState::Investigating,
        service_id: n.service_id,
        created_by: actor.user_id().map(str::to_string),
        created_at: now,
        updated_at: now,
        ack_due_at: Some(
            d.app
                .severity_policy_in(d.conn(), n.severity)
                .await?
                .ack_due(now),
        ),
        acknowledged_at: None,
        acknowledged_by: None,
        resolved_at: None,
        resolved_by: None,
        communication_gap_at: None,
        understaffed_since: None,
        update_requests: 0,
    };
    incidents::insert(d.conn(), &incident).await?;
    let body = format!(
        "{} declared #{} ({}): {}",
        actor.name(),
        number,
        incident.severity,
        incident.title
    );
    let data = json!({
        "number": number,
        "title": incident.title,
        "severity": incident.severity.as_str(),
        "service_id": incident.service_id,
        "ack_due_at": incident.ack_due_at.map(crate::rfc3339),
    });
    let event = d
        .app
        .event(actor, &incident.id, EventKind::IncidentDeclared, body, data);
    d.append(event).await?;
    for r in &mut reporters {
        r.incident_id = incident.id.clone();
        r.created_at = now;
        triad_store::reporter::insert(d.conn(), r).await?;
    }
    hooks::after_declare(d, &incident, &reporters, now).await?;
    d.track_opened(&incident).await?;
    Ok((incident, reporters))
}

/// Acknowledges, resolves or reopens a locked incident, with its events and hooks. The
/// acknowledger (a person) becomes a responder.
pub(crate) async fn apply_transition(
    d: &mut Decision<'_>,
    actor: &Actor,
    incident: &mut Incident,
    transition: Transition,
    now: Millis,
) -> AppResult<()> {
    let from = incident.status;
    incident.apply(transition, actor.user_id(), now)?;
    if transition == Transition::Reopen {
        // A reopened incident must be accepted again, within a fresh deadline.
        incident.ack_due_at = Some(
            d.app
                .severity_policy_in(d.conn(), incident.severity)
                .await?
                .ack_due(now),
        );
    }
    incidents::save(d.conn(), incident).await?;
    let (kind, verb) = match transition {
        Transition::Acknowledge => (EventKind::Acknowledged, "acknowledged"),
        Transition::Resolve => (EventKind::Resolved, "resolved"),
        Transition::Reopen => (EventKind::Reopened, "reopened"),
    };
    let body = format!("{} {verb} the incident", actor.name());
    let data = json!({"from": from.as_str(), "to": incident.status.as_str()});
    d.append(d.app.event(actor, &incident.id, kind, body, data))
        .await?;
    if transition == Transition::Resolve {
        d.track_resolved(incident).await?;
    }
    if let (Transition::Acknowledge, Some(me)) = (transition, actor.user_id()) {
        let active: Vec<RoleAssignment> = roles::list(d.conn(), &incident.id, true)
            .await?
            .into_iter()
            .map(|h| h.assignment)
            .collect();
        if plan_assignment(&active, IncidentRole::Responder, me) == AssignmentPlan::Assign {
            let a = RoleAssignment::open(
                new_id(),
                &incident.id,
                IncidentRole::Responder,
                me,
                Some(me),
                now,
            );
            roles::open(d.conn(), &a).await?;
            let body = format!("{} became responder on acknowledging", actor.name());
            let data = json!({"role": "responder", "user_id": me, "assignment_id": a.id});
            d.append(
                d.app
                    .event(actor, &incident.id, EventKind::RoleAssigned, body, data),
            )
            .await?;
        }
    }
    match transition {
        Transition::Acknowledge => {
            staffing::on_acknowledge(d, incident, now).await?;
            hooks::after_acknowledge(d, incident, actor, now).await?
        }
        Transition::Resolve => {
            // Its alerts end with it: a new trigger with the same key opens a new incident.
            triad_store::alert::resolve_for_incident(d.conn(), &incident.id, now).await?;
            staffing::restaff(d, incident, now, false).await?;
            hooks::after_resolve(d, incident, actor, now).await?
        }
        Transition::Reopen => {
            hooks::page_for_ack(d, incident, now).await?;
        }
    }
    Ok(())
}

//! What the engine does inside the transaction of each lifecycle decision: declare,
//! acknowledge, resolve, reopen, publish an update, add to the timeline; and when the
//! acknowledgement deadline or an escalation step falls due.

use super::escalate::names;
use super::{TIMER_ACK_DUE, escalate, obligations};
use crate::outbox::{Notice, Urgency, clock_time};
use crate::{Actor, AppResult, Decision, rfc3339};
use serde_json::json;
use triad_domain::Millis;
use triad_domain::escalation::Snapshot;
use triad_domain::incident::{Incident, Status};
use triad_domain::role::IncidentRole;
use triad_domain::timeline::EventKind;
use triad_domain::update::{Audience, StatusUpdate};
use triad_domain::user::User;
use triad_store::escalation::{self as runs, Purpose, Run};
use triad_store::reporter::{self as reporters, Reporter};
use triad_store::{incident as incidents, notification as outbox, service, timer};

/// The escalation policy for acknowledgement: the service's, else the severity's.
async fn ack_snapshot(d: &mut Decision<'_>, incident: &Incident) -> AppResult<Option<Snapshot>> {
    let mut id = None;
    if let Some(sid) = &incident.service_id
        && let Some(s) = service::get(d.conn(), sid).await?
    {
        id = s.escalation_policy_id;
    }
    if id.is_none() {
        id = d
            .app
            .severity_policy_in(d.conn(), incident.severity)
            .await?
            .escalation_policy;
    }
    Ok(match id {
        Some(id) => runs::find(d.conn(), &id).await?.map(|p| p.snapshot()),
        None => None,
    })
}

/// The communications escalation policy of the incident's severity, or the built-in one.
pub(crate) async fn comms_snapshot(
    d: &mut Decision<'_>,
    incident: &Incident,
) -> AppResult<Snapshot> {
    let policy = d
        .app
        .severity_policy_in(d.conn(), incident.severity)
        .await?;
    if let Some(id) = policy.comms_escalation_policy
        && let Some(p) = runs::find(d.conn(), &id).await?
    {
        return Ok(p.snapshot());
    }
    Ok(escalate::default_comms_snapshot())
}

/// Starts paging for acknowledgement, sets the deadline timer, and sends reporters
/// their receipt. Called by declare and reopen.
pub(crate) async fn page_for_ack(
    d: &mut Decision<'_>,
    incident: &Incident,
    now: Millis,
) -> AppResult<Vec<User>> {
    if let Some(due) = incident.ack_due_at {
        timer::schedule(d.conn(), TIMER_ACK_DUE, &incident.id, due).await?;
        d.wake_engine();
    }
    match ack_snapshot(d, incident).await? {
        Some(s) => Ok(escalate::start(d, incident, Purpose::Ack, None, s, now)
            .await?
            .1),
        None => {
            let body = "No escalation policy applies (the service and the severity name none); \
                        nobody was paged. Administrators are told if the acknowledgement deadline passes."
                .to_string();
            let data = json!({"users": [], "reason": "no_escalation_policy"});
            d.system_event(&incident.id, EventKind::Paged, body, data)
                .await?;
            Ok(Vec::new())
        }
    }
}

/// After a declaration: page, set the deadline, send the receipt.
pub(crate) async fn after_declare(
    d: &mut Decision<'_>,
    incident: &Incident,
    reporters: &[Reporter],
    now: Millis,
) -> AppResult<()> {
    let paged = page_for_ack(d, incident, now).await?;
    if reporters.is_empty() {
        return Ok(());
    }
    let due = incident.ack_due_at;
    let notice = Notice {
        incident: Some(incident),
        purpose: "receipt",
        key: format!("receipt:{}", incident.id),
        subject: format!("Received: #{} {}", incident.number, incident.title),
        text: String::new(),
        data: json!({"paged": paged.iter().map(|u| &u.name).collect::<Vec<_>>(), "ack_due_at": due.map(rfc3339)}),
        at: now,
    };
    let who = names(&paged);
    let sent = d
        .notify_reporters_as("received", None, None, reporters, &notice, |tz| {
            format!(
                "We received your report: incident #{} ({}) {}. Paged: {}.{}",
                incident.number,
                incident.severity,
                incident.title,
                who,
                due.map(|t| format!(" Acknowledgement expected by {}.", clock_time(t, tz)))
                    .unwrap_or_default()
            )
        })
        .await?;
    let names: Vec<&str> = reporters.iter().map(|r| r.name.as_str()).collect();
    let body = format!("Sent a receipt to {} (paged: {who})", names.join(", "));
    let data = json!({"purpose": "receipt", "reporters": names, "messages": sent});
    d.system_event(&incident.id, EventKind::ReporterNotified, body, data)
        .await?;
    Ok(())
}

/// After acknowledgement: stop paging, start the communication obligations, tell the
/// reporters who has it and when the next update is due, and close a communication
/// gap that was only about the missing acknowledgement.
pub(crate) async fn after_acknowledge(
    d: &mut Decision<'_>,
    incident: &mut Incident,
    by: &Actor,
    now: Millis,
) -> AppResult<()> {
    let reason = format!("acknowledged by {}", by.name());
    escalate::stop(d, &incident.id, |r| r.purpose == Purpose::Ack, &reason, now).await?;
    timer::cancel(d.conn(), TIMER_ACK_DUE, &incident.id).await?;
    obligations::start(d, incident, now).await?;
    if incident.communication_gap_at.is_some()
        && obligations::any_overdue(d, &incident.id).await?.is_empty()
    {
        incident.communication_gap_at = None;
        incidents::save(d.conn(), incident).await?;
    }
    let list = reporters::list(d.conn(), &incident.id).await?;
    if list.is_empty() {
        return Ok(());
    }
    let next = obligations::due_at(d, &incident.id, Audience::Reporters).await?;
    let notice = Notice {
        incident: Some(incident),
        purpose: "acknowledged",
        key: format!("acknowledged:{}:{now}", incident.id),
        subject: format!("#{} is being handled: {}", incident.number, incident.title),
        text: String::new(),
        data: json!({"acknowledged_by": by.name(), "next_update_due_at": next.map(rfc3339)}),
        at: now,
    };
    let sent = d
        .notify_reporters_as("acknowledged", None, next, &list, &notice, |tz| {
            format!(
                "{} has incident #{} ({}) {} and is working on it. {}",
                by.name(),
                incident.number,
                incident.severity,
                incident.title,
                match next {
                    Some(t) => format!("The next update is due by {}.", clock_time(t, tz)),
                    None => "Updates will follow.".to_string(),
                }
            )
        })
        .await?;
    let body = format!(
        "Told {} that {} has it{}",
        list.iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        by.name(),
        next.map(|t| format!("; next update due at {}", rfc3339(t)))
            .unwrap_or_default()
    );
    let data = json!({"purpose": "acknowledged", "messages": sent, "next_update_due_at": next.map(rfc3339)});
    d.system_event(&incident.id, EventKind::ReporterNotified, body, data)
        .await?;
    Ok(())
}

/// After resolution: every run, timer and obligation ends; pending pages are withdrawn;
/// reporters, the team and everyone who was paged are told.
pub(crate) async fn after_resolve(
    d: &mut Decision<'_>,
    incident: &mut Incident,
    by: &Actor,
    now: Millis,
) -> AppResult<()> {
    escalate::stop(d, &incident.id, |_| true, "resolved", now).await?;
    timer::cancel(d.conn(), TIMER_ACK_DUE, &incident.id).await?;
    obligations::end_all(d, &incident.id).await?;
    outbox::cancel_pending(
        d.conn(),
        &incident.id,
        &["page", "comms_page", "reminder"],
        "resolved",
    )
    .await?;
    if incident.communication_gap_at.is_some() {
        incident.communication_gap_at = None;
        incidents::save(d.conn(), incident).await?;
    }
    let took = incident
        .resolved_at
        .map(|r| (r - incident.created_at) / 60_000)
        .unwrap_or(0);
    let notice = Notice {
        incident: Some(incident),
        purpose: "resolved",
        key: format!("resolved:{}:{now}", incident.id),
        subject: format!("Resolved: #{} {}", incident.number, incident.title),
        text: format!(
            "Incident #{} ({}) {} was resolved by {} after {took} minutes.",
            incident.number,
            incident.severity,
            incident.title,
            by.name()
        ),
        data: json!({"resolved_by": by.name(), "minutes": took}),
        at: now,
    };
    let list = reporters::list(d.conn(), &incident.id).await?;
    let text = notice.text.clone();
    let mut told = d
        .notify_reporters_as("resolved", None, None, &list, &notice, |_| text.clone())
        .await?;
    // The team and everyone paged about it.
    let mut people: Vec<String> = triad_store::role::list(d.conn(), &incident.id, false)
        .await?
        .into_iter()
        .map(|h| h.assignment.user_id)
        .collect();
    for n in outbox::list(d.conn(), &incident.id).await? {
        if matches!(n.purpose.as_str(), "page" | "comms_page")
            && n.status == "sent"
            && let Some(u) = n.user_id
        {
            people.push(u);
        }
    }
    people.sort();
    people.dedup();
    for id in people {
        if let Some(u) = triad_store::user::get(d.conn(), &id).await?
            && u.deactivated_at.is_none()
        {
            told += d.notify_user(&u, Urgency::Low, &notice).await?.len();
        }
    }
    if told > 0 {
        let body = format!(
            "Told reporters, the team and everyone paged ({told} messages) that the incident is resolved"
        );
        let data = json!({"purpose": "resolved", "messages": told});
        d.system_event(&incident.id, EventKind::ReporterNotified, body, data)
            .await?;
    }
    Ok(())
}

/// An escalation run's timer fired.
pub(crate) async fn escalation_due(
    d: &mut Decision<'_>,
    incident: &mut Incident,
    run: Run,
    now: Millis,
) -> AppResult<()> {
    if run.state != "active" {
        return Ok(());
    }
    let finished = match run.purpose {
        Purpose::Ack => incident.status != Status::Triggered,
        Purpose::Comms | Purpose::UpdateRequest => incident.status == Status::Resolved,
    };
    if finished {
        let id = run.id.clone();
        escalate::stop(d, &incident.id, |r| r.id == id, "no longer needed", now).await?;
        return Ok(());
    }
    escalate::advance(d, incident, run, now).await
}

/// The acknowledgement deadline passed.
pub(crate) async fn ack_overdue(
    d: &mut Decision<'_>,
    incident: &Incident,
    now: Millis,
) -> AppResult<()> {
    if incident.status != Status::Triggered {
        return Ok(());
    }
    let escalating = runs::runs(d.conn(), &incident.id, true)
        .await?
        .iter()
        .any(|r| r.purpose == Purpose::Ack);
    let mut told = Vec::new();
    if !escalating {
        told = escalate::admins(d).await?;
        let notice = Notice {
            incident: Some(incident),
            purpose: "ack_overdue",
            key: format!(
                "ack_overdue:{}:{}",
                incident.id,
                incident.ack_due_at.unwrap_or(now)
            ),
            subject: format!(
                "[{}] #{} not acknowledged: {}",
                incident.severity, incident.number, incident.title
            ),
            text: format!(
                "Nobody has acknowledged incident #{} ({}) {}, and no escalation policy is paging for it.",
                incident.number, incident.severity, incident.title
            ),
            data: json!({}),
            at: now,
        };
        for u in &told {
            d.notify_user(u, Urgency::High, &notice).await?;
        }
    }
    let body = format!(
        "Not acknowledged by the deadline ({}){}",
        incident.ack_due_at.map(rfc3339).unwrap_or_default(),
        if escalating {
            "; escalation continues".to_string()
        } else {
            format!("; told {}", names(&told))
        }
    );
    let data = json!({"ack_due_at": incident.ack_due_at.map(rfc3339), "escalating": escalating});
    d.system_event(&incident.id, EventKind::AckOverdue, body, data)
        .await?;
    Ok(())
}

/// Silence detection: the team is active on the internal timeline while the incident is
/// unacknowledged past its deadline, or while an audience's update is overdue. Raises
/// the incident's communication gap once and tells the coordinator (or, without one,
/// the first level of the communications escalation policy, else the administrators).
pub(crate) async fn after_activity(
    d: &mut Decision<'_>,
    incident: &mut Incident,
    now: Millis,
) -> AppResult<()> {
    if incident.communication_gap_at.is_some() || !incident.status.is_open() {
        return Ok(());
    }
    let unacked =
        incident.status == Status::Triggered && incident.ack_due_at.is_some_and(|t| now >= t);
    let overdue = obligations::any_overdue(d, &incident.id).await?;
    if !unacked && overdue.is_empty() {
        return Ok(());
    }
    incident.communication_gap_at = Some(now);
    incidents::save(d.conn(), incident).await?;
    let reason = if unacked {
        "the incident is still unacknowledged past its deadline".to_string()
    } else {
        let a: Vec<&str> = overdue.iter().map(|a| a.as_str()).collect();
        format!("the {} update is overdue", a.join(" and "))
    };
    use triad_domain::escalation::Target;
    let mut people = escalate::resolve_targets(
        d,
        incident,
        &[Target::IncidentRole {
            role: IncidentRole::Coordinator,
        }],
    )
    .await?;
    if people.is_empty() {
        let comms = comms_snapshot(d, incident).await?;
        if let Some(first) = comms.levels.first() {
            people = escalate::resolve_targets(d, incident, &first.targets).await?;
        }
    }
    if people.is_empty() {
        people = escalate::admins(d).await?;
    }
    let notice = Notice {
        incident: Some(incident),
        purpose: "communication_gap",
        key: format!("gap:{}:{now}", incident.id),
        subject: format!(
            "[{}] #{}: people are working but nobody is being told",
            incident.severity, incident.number
        ),
        text: format!(
            "Incident #{} ({}) has activity on its timeline but {reason}. Tell people what is going on.",
            incident.number, incident.title
        ),
        data: json!({"reason": reason}),
        at: now,
    };
    for u in &people {
        d.notify_user(u, Urgency::High, &notice).await?;
    }
    let body = format!(
        "Communication gap: the team is active but {reason}; told {}",
        names(&people)
    );
    let data = json!({"reason": reason, "overdue": overdue.iter().map(|a| a.as_str()).collect::<Vec<_>>(), "unacknowledged": unacked, "told": people.iter().map(|u| &u.id).collect::<Vec<_>>()});
    d.system_event(&incident.id, EventKind::CommunicationGap, body, data)
        .await?;
    Ok(())
}

/// A person published an update: record its lateness, restart the audience's cadence,
/// stop the escalations it answers, send it to the reporters, and clear the gap when
/// nothing is overdue any more.
pub(crate) async fn after_update(
    d: &mut Decision<'_>,
    incident: &mut Incident,
    update: &mut StatusUpdate,
    now: Millis,
) -> AppResult<()> {
    if let Some((due, late)) = obligations::fulfil(d, incident, update.audience, now).await? {
        update.due_at = Some(due);
        update.late_by_ms = Some(late);
    }
    escalate::stop(
        d,
        &incident.id,
        |r| r.purpose == Purpose::UpdateRequest,
        "an update was published",
        now,
    )
    .await?;
    if incident.communication_gap_at.is_some()
        && obligations::any_overdue(d, &incident.id).await?.is_empty()
        && !(incident.status == Status::Triggered && incident.ack_due_at.is_some_and(|t| now >= t))
    {
        incident.communication_gap_at = None;
        incidents::save(d.conn(), incident).await?;
    }
    if update.audience == Audience::Reporters {
        let list = reporters::list(d.conn(), &incident.id).await?;
        let next = obligations::due_at(d, &incident.id, Audience::Reporters).await?;
        let notice = Notice {
            incident: Some(incident),
            purpose: "update",
            key: format!("update:{}", update.id),
            subject: format!(
                "Update on #{} {}: {}",
                incident.number,
                incident.title,
                update.state.as_str()
            ),
            text: String::new(),
            data: json!({"update_id": update.id, "state": update.state.as_str(), "next_update_due_at": next.map(rfc3339)}),
            at: now,
        };
        let message = update.message.clone();
        let sent = d
            .notify_reporters_as(
                "update",
                Some(update),
                next,
                &list,
                &notice,
                |tz| match next {
                    Some(t) => format!("{message}\n\nNext update by {}.", clock_time(t, tz)),
                    None => message.clone(),
                },
            )
            .await?;
        if sent > 0 {
            let body = format!("Sent the update to {} reporter(s)", list.len());
            let data = json!({"purpose": "update", "update_id": update.id, "messages": sent});
            d.system_event(&incident.id, EventKind::ReporterNotified, body, data)
                .await?;
        }
    }
    Ok(())
}

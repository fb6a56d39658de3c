//! Communication obligations: start them on acknowledgement, remind the coordinator
//! before an update is due, mark it overdue and escalate through the communications
//! escalation policy, and restart the cadence when a person publishes an update.

use super::{TIMER_REMIND, TIMER_UPDATE_DUE, audience_subject, escalate, hooks};
use crate::outbox::{Notice, Urgency, clock_time};
use crate::{AppResult, Decision, rfc3339};
use serde_json::json;
use triad_domain::Millis;
use triad_domain::incident::Incident;
use triad_domain::obligation::{self, Obligation};
use triad_domain::role::IncidentRole;
use triad_domain::timeline::EventKind;
use triad_domain::update::Audience;
use triad_store::escalation::Purpose;
use triad_store::{obligation as obligations, timer};

async fn put(d: &mut Decision<'_>, incident_id: &str, ob: &Obligation) -> AppResult<()> {
    obligations::put(d.conn(), incident_id, ob).await?;
    let subject = audience_subject(incident_id, ob.audience);
    timer::schedule(d.conn(), TIMER_UPDATE_DUE, &subject, ob.due_at).await?;
    if ob.remind_at < ob.due_at {
        timer::schedule(d.conn(), TIMER_REMIND, &subject, ob.remind_at).await?;
    } else {
        timer::cancel(d.conn(), TIMER_REMIND, &subject).await?;
    }
    d.wake_engine();
    Ok(())
}

/// On acknowledgement: one obligation per audience with a cadence.
pub(crate) async fn start(
    d: &mut Decision<'_>,
    incident: &Incident,
    now: Millis,
) -> AppResult<Vec<Obligation>> {
    let policy = d
        .app
        .severity_policy_in(d.conn(), incident.severity)
        .await?;
    let obs = obligation::on_acknowledge(&policy, now);
    for ob in &obs {
        put(d, &incident.id, ob).await?;
    }
    Ok(obs)
}

/// On resolve: every obligation ends, with its timers.
pub(crate) async fn end_all(d: &mut Decision<'_>, incident_id: &str) -> AppResult<()> {
    for ob in obligations::list(d.conn(), incident_id).await? {
        let subject = audience_subject(incident_id, ob.audience);
        timer::cancel(d.conn(), TIMER_REMIND, &subject).await?;
        timer::cancel(d.conn(), TIMER_UPDATE_DUE, &subject).await?;
    }
    obligations::clear(d.conn(), incident_id).await?;
    Ok(())
}

/// The people who write updates: the coordinator, else the responders.
async fn writers(
    d: &mut Decision<'_>,
    incident: &Incident,
) -> AppResult<Vec<triad_domain::user::User>> {
    use triad_domain::escalation::Target;
    for role in [IncidentRole::Coordinator, IncidentRole::Responder] {
        let people =
            escalate::resolve_targets(d, incident, &[Target::IncidentRole { role }]).await?;
        if !people.is_empty() {
            return Ok(people);
        }
    }
    Ok(Vec::new())
}

/// The reminder timer fired: tell the coordinator the update is due soon.
pub(crate) async fn remind(
    d: &mut Decision<'_>,
    incident: &Incident,
    audience: Audience,
    now: Millis,
) -> AppResult<()> {
    let Some(ob) = obligations::get(d.conn(), &incident.id, audience).await? else {
        return Ok(());
    };
    if ob.overdue_since.is_some() || !incident.status.is_open() {
        return Ok(());
    }
    let people = writers(d, incident).await?;
    for u in &people {
        let notice = Notice {
            incident: Some(incident),
            purpose: "reminder",
            key: format!("remind:{}:{}:{}", incident.id, audience.as_str(), ob.due_at),
            subject: format!(
                "[{}] #{}: {} update due at {}",
                incident.severity,
                incident.number,
                audience.as_str(),
                clock_time(ob.due_at, Some(&u.time_zone))
            ),
            text: format!(
                "The next update for {} on incident #{} ({}) is due at {}. Publish it: triad incident update {} --audience {}",
                audience.as_str(),
                incident.number,
                incident.title,
                clock_time(ob.due_at, Some(&u.time_zone)),
                incident.number,
                audience.as_str()
            ),
            data: json!({"audience": audience.as_str(), "due_at": rfc3339(ob.due_at)}),
            at: now,
        };
        d.notify_user(u, Urgency::of(incident.severity), &notice)
            .await?;
    }
    let who: Vec<&str> = people.iter().map(|u| u.name.as_str()).collect();
    let body = format!(
        "Reminded {} that the {} update is due at {}",
        if who.is_empty() {
            "nobody (no coordinator or responder)".to_string()
        } else {
            who.join(", ")
        },
        audience.as_str(),
        rfc3339(ob.due_at)
    );
    let data = json!({"audience": audience.as_str(), "due_at": rfc3339(ob.due_at), "users": people.iter().map(|u| &u.id).collect::<Vec<_>>()});
    d.system_event(&incident.id, EventKind::UpdateReminder, body, data)
        .await?;
    Ok(())
}

/// The due timer fired with no update: mark overdue, record it, and escalate through
/// the severity's communications escalation policy.
pub(crate) async fn overdue(
    d: &mut Decision<'_>,
    incident: &mut Incident,
    audience: Audience,
    now: Millis,
) -> AppResult<()> {
    let Some(mut ob) = obligations::get(d.conn(), &incident.id, audience).await? else {
        return Ok(());
    };
    if ob.overdue_since.is_some() || !incident.status.is_open() {
        return Ok(());
    }
    ob.overdue_since = Some(now);
    obligations::put(d.conn(), &incident.id, &ob).await?;
    let body = format!(
        "The {} update was due at {} and nobody has published one; escalating",
        audience.as_str(),
        rfc3339(ob.due_at)
    );
    let data = json!({"audience": audience.as_str(), "due_at": rfc3339(ob.due_at)});
    d.system_event(&incident.id, EventKind::UpdateOverdue, body, data)
        .await?;
    let snapshot = hooks::comms_snapshot(d, incident).await?;
    escalate::start(d, incident, Purpose::Comms, Some(audience), snapshot, now).await?;
    Ok(())
}

/// A person published an update for `audience` at `now`: returns (was due at, late by)
/// for the update row, restarts the cadence and stops that audience's escalation.
pub(crate) async fn fulfil(
    d: &mut Decision<'_>,
    incident: &Incident,
    audience: Audience,
    now: Millis,
) -> AppResult<Option<(Millis, i64)>> {
    let Some(ob) = obligations::get(d.conn(), &incident.id, audience).await? else {
        return Ok(None);
    };
    let policy = d
        .app
        .severity_policy_in(d.conn(), incident.severity)
        .await?;
    let Some(cadence) = policy.cadence.get(&audience) else {
        // The severity no longer has a cadence for this audience: the obligation ends.
        let subject = audience_subject(&incident.id, audience);
        timer::cancel(d.conn(), TIMER_REMIND, &subject).await?;
        timer::cancel(d.conn(), TIMER_UPDATE_DUE, &subject).await?;
        return Ok(Some((ob.due_at, (now - ob.due_at).max(0))));
    };
    let f = obligation::on_update(&ob, cadence, policy.reminder_lead_seconds, now);
    put(d, &incident.id, &f.next).await?;
    escalate::stop(
        d,
        &incident.id,
        |r| r.purpose == Purpose::Comms && r.audience.as_deref() == Some(audience.as_str()),
        "an update was published",
        now,
    )
    .await?;
    Ok(Some((f.was_due_at, f.late_by_ms)))
}

/// Whether any audience of the incident is overdue.
pub(crate) async fn any_overdue(
    d: &mut Decision<'_>,
    incident_id: &str,
) -> AppResult<Vec<Audience>> {
    Ok(obligations::list(d.conn(), incident_id)
        .await?
        .into_iter()
        .filter(|o| o.overdue_since.is_some())
        .map(|o| o.audience)
        .collect())
}

/// When the next update for `audience` is due, if it has an obligation.
pub(crate) async fn due_at(
    d: &mut Decision<'_>,
    incident_id: &str,
    audience: Audience,
) -> AppResult<Option<Millis>> {
    Ok(obligations::get(d.conn(), incident_id, audience)
        .await?
        .map(|o| o.due_at))
}

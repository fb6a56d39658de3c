//! Escalation runs: start one from a frozen snapshot, take its next step when its timer
//! fires, page each level's people, skip levels with nobody to page, tell the fallback
//! when exhausted, and stop runs (acknowledged, update published, resolved).

use super::TIMER_ESCALATE;
use crate::outbox::{Notice, Urgency};
use crate::{AppResult, Decision, rfc3339};
use serde_json::json;
use triad_domain::Millis;
use triad_domain::escalation::{Level, Position, Snapshot, Step, Target};
use triad_domain::incident::Incident;
use triad_domain::role::IncidentRole;
use triad_domain::timeline::EventKind;
use triad_domain::update::Audience;
use triad_domain::user::{SystemRole, User};
use triad_store::escalation::{Purpose, Run};
use triad_store::notification as outbox;
use triad_store::{escalation as runs, new_id, role as roles, timer, user as users};

/// Used when a severity names no communications escalation policy: the coordinator,
/// then (exhausted) the administrators.
pub(crate) fn default_comms_snapshot() -> Snapshot {
    Snapshot {
        policy_id: "builtin:coordinator".into(),
        name: "coordinator, then administrators".into(),
        levels: vec![Level {
            delay_seconds: 300,
            targets: vec![Target::IncidentRole {
                role: IncidentRole::Coordinator,
            }],
        }],
        repeat: 0,
        fallback: None,
    }
}

fn purpose_words(run: &Run) -> String {
    match run.purpose {
        Purpose::Ack => "to acknowledge".into(),
        Purpose::Comms => format!(
            "about the overdue {} update",
            run.audience.as_deref().unwrap_or("")
        ),
        Purpose::UpdateRequest => "because somebody asked for an update".into(),
    }
}

fn page_purpose(run: &Run) -> &'static str {
    match run.purpose {
        Purpose::Ack => "page",
        Purpose::Comms | Purpose::UpdateRequest => "comms_page",
    }
}

/// The notification key stem of a run's pages; cancelling a run cancels by it.
fn run_key(run: &Run) -> String {
    format!("{}:{}:", page_purpose(run), run.id)
}

/// The people a set of targets names on this incident now: active users, each once.
pub(crate) async fn resolve_targets(
    d: &mut Decision<'_>,
    incident: &Incident,
    targets: &[Target],
) -> AppResult<Vec<User>> {
    let mut out: Vec<User> = Vec::new();
    for t in targets {
        let ids: Vec<String> = match t {
            Target::User { id } => vec![id.clone()],
            Target::IncidentRole { role } => roles::list(d.conn(), &incident.id, true)
                .await?
                .into_iter()
                .filter(|h| h.assignment.role == *role)
                .map(|h| h.assignment.user_id)
                .collect(),
            // Whoever is on call at the moment of paging.
            Target::Schedule { id } => match triad_store::schedule::find(d.conn(), id).await? {
                Some(s) => crate::schedule::compile(&s)?.on_call_at(d.app.now()),
                None => Vec::new(),
            },
        };
        for id in ids {
            if out.iter().any(|u| u.id == id) {
                continue;
            }
            if let Some(u) = users::get(d.conn(), &id).await?
                && u.deactivated_at.is_none()
            {
                out.push(u);
            }
        }
    }
    Ok(out)
}

/// Every active administrator: the fallback of last resort.
pub(crate) async fn admins(d: &mut Decision<'_>) -> AppResult<Vec<User>> {
    if d.admins.is_none() {
        let list = users::list(d.conn())
            .await?
            .into_iter()
            .filter(|u| u.role == SystemRole::Admin && u.deactivated_at.is_none())
            .collect();
        d.admins = Some(list);
    }
    Ok(d.admins.clone().unwrap_or_default())
}

/// People's names for timeline text: "Rita, Sam", or "nobody".
pub(crate) fn names(users: &[User]) -> String {
    if users.is_empty() {
        return "nobody".into();
    }
    users
        .iter()
        .map(|u| u.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Starts an escalation run and takes its first step. Returns the run and the people
/// its first step paged.
pub(crate) async fn start(
    d: &mut Decision<'_>,
    incident: &Incident,
    purpose: Purpose,
    audience: Option<Audience>,
    snapshot: Snapshot,
    now: Millis,
) -> AppResult<(Run, Vec<User>)> {
    let mut run = Run {
        id: new_id(),
        incident_id: incident.id.clone(),
        purpose,
        audience: audience.map(|a| a.as_str().to_string()),
        position: Position { level: 0, round: 0 },
        state: "active".into(),
        started_at: now,
        ended_at: None,
        end_reason: None,
        snapshot,
    };
    runs::insert_run(d.conn(), &run).await?;
    let step = run.snapshot.start(now);
    let paged = take_step(d, incident, &mut run, step, now).await?;
    Ok((run, paged))
}

/// Takes the next step of `run` (its timer fired).
pub(crate) async fn advance(
    d: &mut Decision<'_>,
    incident: &Incident,
    mut run: Run,
    now: Millis,
) -> AppResult<()> {
    let step = run.snapshot.advance(run.position, now);
    take_step(d, incident, &mut run, step, now).await?;
    Ok(())
}

async fn take_step(
    d: &mut Decision<'_>,
    incident: &Incident,
    run: &mut Run,
    mut step: Step,
    now: Millis,
) -> AppResult<Vec<User>> {
    let urgency = match run.purpose {
        Purpose::Ack => Urgency::of(incident.severity),
        Purpose::Comms | Purpose::UpdateRequest => Urgency::High,
    };
    loop {
        match step {
            Step::Page {
                at,
                targets,
                next_at,
            } => {
                run.position = at;
                let people = resolve_targets(d, incident, &targets).await?;
                let level_words = format!(
                    "level {} of “{}”{}",
                    at.level + 1,
                    run.snapshot.name,
                    if at.round > 0 {
                        format!(" (repeat {})", at.round)
                    } else {
                        String::new()
                    }
                );
                if people.is_empty() {
                    let who: Vec<String> = targets.iter().map(Target::describe).collect();
                    let body = format!(
                        "Nobody to page at {level_words} ({}); moving on",
                        who.join(", ")
                    );
                    let data = json!({"run_id": run.id, "purpose": run.purpose.as_str(), "level": at.level + 1, "round": at.round, "users": []});
                    d.system_event(&incident.id, EventKind::Paged, body, data)
                        .await?;
                    step = run.snapshot.advance(at, now);
                    continue;
                }
                let subject = format!(
                    "[{}] #{} {}",
                    incident.severity, incident.number, incident.title
                );
                let text = format!(
                    "You are paged {} incident #{} ({}): {}. Acknowledge: triad incident ack {}",
                    purpose_words(run),
                    incident.number,
                    incident.severity,
                    incident.title,
                    incident.number
                );
                let notice = Notice {
                    incident: Some(incident),
                    purpose: page_purpose(run),
                    key: format!("{}{}:{}", run_key(run), at.round, at.level),
                    subject,
                    text,
                    data: json!({"run_id": run.id, "level": at.level + 1, "round": at.round, "reason": run.purpose.as_str(), "audience": run.audience}),
                    at: now,
                };
                let mut paged = Vec::new();
                for u in &people {
                    let channels = d.notify_user(u, urgency, &notice).await?;
                    paged.push(json!({"id": u.id, "name": u.name, "channels": channels}));
                }
                let body = format!(
                    "Paged {} {} at {level_words}; next level at {}",
                    names(&people),
                    purpose_words(run),
                    rfc3339(next_at)
                );
                let data = json!({"run_id": run.id, "purpose": run.purpose.as_str(), "audience": run.audience, "level": at.level + 1, "round": at.round, "users": paged, "next_at": rfc3339(next_at)});
                d.system_event(&incident.id, EventKind::Paged, body, data)
                    .await?;
                timer::schedule(d.conn(), TIMER_ESCALATE, &run.id, next_at).await?;
                d.wake_engine();
                runs::save_run(d.conn(), run).await?;
                return Ok(people);
            }
            Step::Exhausted { fallback } => {
                run.state = "exhausted".into();
                run.ended_at = Some(now);
                run.end_reason = Some("every level was paged".into());
                runs::save_run(d.conn(), run).await?;
                let mut people = match &fallback {
                    Some(t) => resolve_targets(d, incident, std::slice::from_ref(t)).await?,
                    None => Vec::new(),
                };
                if people.is_empty() {
                    people = admins(d).await?;
                }
                let notice = Notice {
                    incident: Some(incident),
                    purpose: "exhausted",
                    key: format!("exhausted:{}", run.id),
                    subject: format!(
                        "[{}] #{} escalation exhausted: {}",
                        incident.severity, incident.number, incident.title
                    ),
                    text: format!(
                        "Every level of “{}” was paged {} for incident #{} and nobody answered. Please take it.",
                        run.snapshot.name,
                        purpose_words(run),
                        incident.number
                    ),
                    data: json!({"run_id": run.id, "reason": run.purpose.as_str()}),
                    at: now,
                };
                for u in &people {
                    d.notify_user(u, Urgency::High, &notice).await?;
                }
                let body = format!(
                    "Escalation “{}” {} is exhausted; told {}",
                    run.snapshot.name,
                    purpose_words(run),
                    if people.is_empty() {
                        "nobody (no fallback and no administrators)".to_string()
                    } else {
                        names(&people)
                    }
                );
                let data = json!({"run_id": run.id, "purpose": run.purpose.as_str(), "audience": run.audience, "told": people.iter().map(|u| json!({"id": u.id, "name": u.name})).collect::<Vec<_>>()});
                d.system_event(&incident.id, EventKind::EscalationExhausted, body, data)
                    .await?;
                return Ok(Vec::new());
            }
        }
    }
}

/// Stops the incident's active runs that `which` selects: their timers are cancelled
/// and their undelivered pages withdrawn. Returns how many runs stopped.
pub(crate) async fn stop(
    d: &mut Decision<'_>,
    incident_id: &str,
    which: impl Fn(&Run) -> bool,
    reason: &str,
    now: Millis,
) -> AppResult<usize> {
    let mut stopped = 0;
    for mut run in runs::runs(d.conn(), incident_id, true).await? {
        if !which(&run) {
            continue;
        }
        run.state = "stopped".into();
        run.ended_at = Some(now);
        run.end_reason = Some(reason.to_string());
        runs::save_run(d.conn(), &run).await?;
        timer::cancel(d.conn(), TIMER_ESCALATE, &run.id).await?;
        outbox::cancel_by_key_prefix(d.conn(), &run_key(&run), reason).await?;
        stopped += 1;
    }
    Ok(stopped)
}

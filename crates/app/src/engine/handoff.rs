//! Shift handoffs: every schedule keeps one durable timer at its next change of who is
//! on call. When it fires, the people coming on call are told (with the active incidents
//! they inherit) and the people going off call are told who took over; then the timer is
//! re-armed at the following change.

use super::escalate::names;
use crate::outbox::{Notice, Urgency, local_time};
use crate::schedule::compile;
use crate::{AppResult, Decision};
use serde_json::json;
use triad_domain::Millis;
use triad_domain::escalation::Target;
use triad_domain::incident::{Incident, Status};
use triad_domain::schedule::{Compiled, Schedule};
use triad_domain::user::User;
use triad_store::incident::{self as incidents, Filter};
use triad_store::schedule::{self as schedules, Scope};
use triad_store::{escalation as policies, service, timer, user as users};

/// A schedule's next handoff. Subject: the schedule id.
pub const TIMER_HANDOFF: &str = "handoff";
/// How far ahead the next change is looked for; a schedule without one re-checks then.
const HORIZON: Millis = 35 * 86_400_000;
/// A handoff this late (Triad was down) is not announced any more.
const STALE: Millis = 3_600_000;
/// Most incidents listed in one handoff message.
const MAX_LISTED: usize = 20;

/// Sets the schedule's handoff timer at its next change after `now`.
pub(crate) async fn arm(d: &mut Decision<'_>, s: &Schedule, now: Millis) -> AppResult<()> {
    arm_compiled(d, &s.id, &compile(s)?, now).await
}

async fn arm_compiled(
    d: &mut Decision<'_>,
    schedule_id: &str,
    c: &Compiled,
    now: Millis,
) -> AppResult<()> {
    let due = c.next_change(now, HORIZON).unwrap_or(now + HORIZON);
    timer::schedule(d.conn(), TIMER_HANDOFF, schedule_id, due).await?;
    d.wake_engine();
    Ok(())
}

/// The handoff timer of `schedule_id` fired; `at` is the instant it was set for.
pub(crate) async fn fire(
    d: &mut Decision<'_>,
    schedule_id: &str,
    at: Millis,
    now: Millis,
) -> AppResult<()> {
    let Some(s) = schedules::find(d.conn(), schedule_id).await? else {
        return Ok(());
    };
    let c = compile(&s)?;
    let before = c.on_call_at(at - 1);
    let after = c.on_call_at(at);
    if before != after && now - at <= STALE {
        announce(d, &s, &c, &before, &after, at, now).await?;
    } else if before != after {
        tracing::warn!(schedule = %s.id, at, "handoff announced too late; skipped");
    }
    arm_compiled(d, &s.id, &c, at.max(now - STALE)).await
}

async fn load(d: &mut Decision<'_>, ids: &[String]) -> AppResult<Vec<User>> {
    let mut out = Vec::new();
    for id in ids {
        if let Some(u) = users::get(d.conn(), id).await?
            && u.deactivated_at.is_none()
        {
            out.push(u);
        }
    }
    Ok(out)
}

async fn announce(
    d: &mut Decision<'_>,
    s: &Schedule,
    c: &Compiled,
    before: &[String],
    after: &[String],
    at: Millis,
    now: Millis,
) -> AppResult<()> {
    let coming: Vec<String> = after
        .iter()
        .filter(|u| !before.contains(u))
        .cloned()
        .collect();
    let going: Vec<String> = before
        .iter()
        .filter(|u| !after.contains(u))
        .cloned()
        .collect();
    let coming = load(d, &coming).await?;
    let going = load(d, &going).await?;
    let after_people = load(d, after).await?;
    let inherited = inherited(d, &s.id).await?;
    let listing = if inherited.is_empty() {
        "No incidents are open.".to_string()
    } else {
        let mut lines: Vec<String> = inherited
            .iter()
            .take(MAX_LISTED)
            .map(|i| {
                format!(
                    "- #{} {} [{}, {}]",
                    i.number,
                    i.title,
                    i.severity,
                    i.status.as_str()
                )
            })
            .collect();
        if inherited.len() > MAX_LISTED {
            lines.push(format!("… and {} more", inherited.len() - MAX_LISTED));
        }
        format!("Open incidents:\n{}", lines.join("\n"))
    };
    let numbers: Vec<i64> = inherited.iter().map(|i| i.number).collect();
    let until = until_off(c, at);
    for u in &coming {
        let until_text = match until.get(&u.id) {
            Some(t) => format!(" until {}", when(*t, Some(&u.time_zone))),
            None => String::new(),
        };
        let n = Notice {
            incident: None,
            purpose: "shift.start",
            key: format!("handoff:{}:{at}:on", s.id),
            subject: format!("You are on call for {}", s.name),
            text: format!(
                "Your on-call shift for {} started at {}{until_text}. {listing}",
                s.name,
                when(at, Some(&u.time_zone))
            ),
            data: json!({"schedule_id": s.id, "at": crate::rfc3339(at), "incidents": numbers}),
            at: now,
        };
        d.notify_user(u, Urgency::Low, &n).await?;
    }
    for u in &going {
        let n = Notice {
            incident: None,
            purpose: "shift.end",
            key: format!("handoff:{}:{at}:off", s.id),
            subject: format!("Your shift for {} ended", s.name),
            text: format!(
                "Your on-call shift for {} ended at {}; {} took over. {listing}",
                s.name,
                when(at, Some(&u.time_zone)),
                names(&after_people)
            ),
            data: json!({"schedule_id": s.id, "at": crate::rfc3339(at), "incidents": numbers,
                "handed_to": after}),
            at: now,
        };
        d.notify_user(u, Urgency::Low, &n).await?;
    }
    Ok(())
}

/// A day and time for people, in their zone: `Fri 2 Jan 09:00 Europe/London`.
fn when(ms: Millis, time_zone: Option<&str>) -> String {
    local_time(ms, time_zone, "%a %-d %b %H:%M")
}

/// When each person on call at `at` goes off call (within the horizon).
fn until_off(c: &Compiled, at: Millis) -> std::collections::HashMap<String, Millis> {
    let segments = c.final_schedule(at, at + HORIZON);
    let mut out = std::collections::HashMap::new();
    let Some(first) = segments.first().filter(|g| g.start == at) else {
        return out;
    };
    for user in &first.users {
        let mut end = first.end;
        for g in segments.iter().skip(1) {
            if g.start != end || !g.users.contains(user) {
                break;
            }
            end = g.end;
        }
        out.insert(user.clone(), end);
    }
    out
}

fn names_schedule(t: &Target, schedule_id: &str) -> bool {
    matches!(t, Target::Schedule { id } if id == schedule_id)
}

/// The open incidents whose paging or staffing runs through this schedule: those of
/// services whose escalation policy or role schedules (or their team's) name it, and
/// those without a service policy whose severity's policy names it.
async fn inherited(d: &mut Decision<'_>, schedule_id: &str) -> AppResult<Vec<Incident>> {
    let filter = Filter {
        statuses: vec![Status::Triggered, Status::Acknowledged],
        limit: 500,
        ..Filter::default()
    };
    let open = incidents::list(d.conn(), &filter).await?;
    if open.is_empty() {
        return Ok(open);
    }
    let uses: std::collections::HashSet<String> = policies::list(d.conn())
        .await?
        .into_iter()
        .filter(|p| {
            p.levels
                .iter()
                .flat_map(|l| l.targets.iter())
                .chain(p.fallback.iter())
                .any(|t| names_schedule(t, schedule_id))
        })
        .map(|p| p.id)
        .collect();
    let roles = schedules::role_schedules(d.conn()).await?;
    let by_role = |scope: Scope, id: &str| {
        roles
            .iter()
            .any(|r| r.scope == scope && r.scope_id == id && r.schedule_id == schedule_id)
    };
    let services = service::list(d.conn()).await?;
    let mut out = Vec::new();
    for i in open {
        let svc = i
            .service_id
            .as_ref()
            .and_then(|id| services.iter().find(|s| &s.id == id));
        let via_service = svc.is_some_and(|s| {
            s.escalation_policy_id
                .as_ref()
                .is_some_and(|p| uses.contains(p))
                || by_role(Scope::Service, &s.id)
                || s.team_id
                    .as_deref()
                    .is_some_and(|t| by_role(Scope::Team, t))
        });
        let via_severity = svc.and_then(|s| s.escalation_policy_id.as_ref()).is_none()
            && d.app
                .severity_policy_in(d.conn(), i.severity)
                .await?
                .escalation_policy
                .is_some_and(|p| uses.contains(&p));
        if via_service || via_severity {
            out.push(i);
        }
    }
    out.sort_by_key(|i| (i.severity, i.number));
    Ok(out)
}

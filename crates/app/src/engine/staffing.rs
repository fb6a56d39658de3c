//! Staffing by role schedules: on acknowledgement the missing observer and coordinator
//! come from whoever is on call in the role schedules of the incident's service (else its
//! team); an incident that still falls short of its severity's staffing policy is flagged
//! `understaffed` and the role schedules are paged. The flag clears when the roles are
//! filled or the incident is resolved.

use super::escalate::names;
use crate::outbox::{Notice, Urgency};
use crate::schedule::compile;
use crate::{AppResult, Decision};
use serde_json::{Value, json};
use triad_domain::Millis;
use triad_domain::incident::{Incident, Status};
use triad_domain::role::{IncidentRole, RoleAssignment, StaffingGap, staffing_gaps};
use triad_domain::schedule::Schedule;
use triad_domain::timeline::EventKind;
use triad_domain::user::User;
use triad_store::schedule::{self as schedules, Scope};
use triad_store::{incident as incidents, new_id, role as roles, service, user as users};

/// The roles role schedules fill (the responder is whoever acknowledges).
const FILLED: [IncidentRole; 2] = [IncidentRole::Observer, IncidentRole::Coordinator];

/// The schedule that fills `role` on this incident: its service's, else its service's
/// team's.
pub(crate) async fn role_schedule(
    d: &mut Decision<'_>,
    incident: &Incident,
    role: IncidentRole,
) -> AppResult<Option<Schedule>> {
    let Some(sid) = &incident.service_id else {
        return Ok(None);
    };
    let Some(svc) = service::get(d.conn(), sid).await? else {
        return Ok(None);
    };
    let mut scopes = vec![(Scope::Service, svc.id.clone())];
    if let Some(team) = svc.team_id {
        scopes.push((Scope::Team, team));
    }
    for (scope, id) in scopes {
        let found = schedules::role_schedules_of(d.conn(), scope, &id)
            .await?
            .into_iter()
            .find(|r| r.role == role);
        if let Some(r) = found {
            return Ok(schedules::find(d.conn(), &r.schedule_id).await?);
        }
    }
    Ok(None)
}

async fn active(d: &mut Decision<'_>, incident_id: &str) -> AppResult<Vec<RoleAssignment>> {
    Ok(roles::list(d.conn(), incident_id, true)
        .await?
        .into_iter()
        .map(|h| h.assignment)
        .collect())
}

/// On acknowledgement: fills each required observer/coordinator role nobody holds from
/// its role schedule (distinct people where the policy says so), then flags and pages
/// whatever is still missing.
pub(crate) async fn on_acknowledge(
    d: &mut Decision<'_>,
    incident: &mut Incident,
    now: Millis,
) -> AppResult<()> {
    let policy = d
        .app
        .severity_policy_in(d.conn(), incident.severity)
        .await?
        .staffing;
    for role in FILLED {
        let held = active(d, &incident.id).await?;
        if !policy.required.contains(&role) || held.iter().any(|a| a.role == role) {
            continue;
        }
        let Some(schedule) = role_schedule(d, incident, role).await? else {
            continue;
        };
        let mut chosen: Option<User> = None;
        for id in compile(&schedule)?.on_call_at(now) {
            let busy = policy.distinct
                && held
                    .iter()
                    .any(|a| a.user_id == id && policy.required.contains(&a.role));
            if busy {
                continue;
            }
            if let Some(u) = users::get(d.conn(), &id).await?
                && u.deactivated_at.is_none()
            {
                chosen = Some(u);
                break;
            }
        }
        let Some(user) = chosen else { continue };
        let a = RoleAssignment::open(new_id(), &incident.id, role, &user.id, None, now);
        roles::open(d.conn(), &a).await?;
        let body = format!(
            "{} became {} from the {} schedule",
            user.name,
            role.as_str(),
            schedule.name
        );
        let data = json!({"role": role.as_str(), "user_id": user.id, "assignment_id": a.id,
            "schedule_id": schedule.id});
        d.system_event(&incident.id, EventKind::RoleAssigned, body, data)
            .await?;
    }
    restaff(d, incident, now, true).await
}

/// Sets or clears the `understaffed` flag from the active roles (each change is a
/// timeline event); with `page`, a newly understaffed incident pages its role schedules.
/// Only acknowledged incidents are judged; a resolved one is never understaffed.
pub(crate) async fn restaff(
    d: &mut Decision<'_>,
    incident: &mut Incident,
    now: Millis,
    page: bool,
) -> AppResult<()> {
    if incident.status != Status::Acknowledged {
        if incident.understaffed_since.take().is_some() {
            incidents::save(d.conn(), incident).await?;
        }
        return Ok(());
    }
    let policy = d
        .app
        .severity_policy_in(d.conn(), incident.severity)
        .await?
        .staffing;
    let held = active(d, &incident.id).await?;
    let gaps = staffing_gaps(&held, &policy);
    if gaps.is_empty() {
        if incident.understaffed_since.take().is_some() {
            incidents::save(d.conn(), incident).await?;
            let body = "Every role the staffing policy requires is filled".to_string();
            d.system_event(&incident.id, EventKind::Staffed, body, json!({}))
                .await?;
        }
        return Ok(());
    }
    if incident.understaffed_since.is_some() {
        return Ok(());
    }
    incident.understaffed_since = Some(now);
    incidents::save(d.conn(), incident).await?;
    let words: Vec<String> = gaps.iter().map(describe).collect();
    let data: Vec<Value> = gaps.iter().map(gap_json).collect();
    let body = format!("Understaffed: {}", words.join("; "));
    d.system_event(
        &incident.id,
        EventKind::Understaffed,
        body,
        json!({"gaps": data}),
    )
    .await?;
    if page {
        for role in roles_wanted(&gaps) {
            page_role(d, incident, role, &held, policy.distinct, now).await?;
        }
    }
    Ok(())
}

fn describe(g: &StaffingGap) -> String {
    match g {
        StaffingGap::Missing(r) => format!("no {}", r.as_str()),
        StaffingGap::SamePerson { roles, .. } => {
            let r: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            format!("one person holds {}", r.join(" and "))
        }
    }
}

fn gap_json(g: &StaffingGap) -> Value {
    match g {
        StaffingGap::Missing(r) => json!({"missing": r.as_str()}),
        StaffingGap::SamePerson { user_id, roles } => json!({
            "same_person": user_id,
            "roles": roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        }),
    }
}

/// The roles somebody else must take: every missing one, and where one person holds
/// several, all of theirs but the first (the responder stays with the acknowledger).
fn roles_wanted(gaps: &[StaffingGap]) -> Vec<IncidentRole> {
    let mut out = Vec::new();
    for g in gaps {
        match g {
            StaffingGap::Missing(r) => out.push(*r),
            StaffingGap::SamePerson { roles, .. } => {
                out.extend(roles.iter().skip(1).filter(|r| FILLED.contains(r)))
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Pages the role schedule of `role`: whoever is on call; when nobody is, everyone in
/// the schedule's rotation now; when it has nobody at all, the administrators. People
/// already holding a required role are skipped where distinct people are required.
async fn page_role(
    d: &mut Decision<'_>,
    incident: &Incident,
    role: IncidentRole,
    held: &[RoleAssignment],
    distinct: bool,
    now: Millis,
) -> AppResult<()> {
    // Without a role schedule there is nobody to page; the flag and the timeline say so.
    let Some(schedule) = role_schedule(d, incident, role).await? else {
        return Ok(());
    };
    let compiled = compile(&schedule)?;
    let mut ids = compiled.on_call_at(now);
    let mut reach = "on call";
    if ids.is_empty() {
        reach = "in the rotation (nobody is on call)";
        ids = rotation(&schedule, now);
    }
    let mut people = Vec::new();
    for id in ids {
        if distinct && held.iter().any(|a| a.user_id == id) {
            continue;
        }
        if people.iter().any(|u: &User| u.id == id) {
            continue;
        }
        if let Some(u) = users::get(d.conn(), &id).await?
            && u.deactivated_at.is_none()
        {
            people.push(u);
        }
    }
    if people.is_empty() {
        reach = "the administrators (the schedule has nobody)";
        people = super::escalate::admins(d).await?;
    }
    let since = incident.understaffed_since.unwrap_or(now);
    let n = Notice {
        incident: Some(incident),
        purpose: "staffing_page",
        key: format!("staff:{}:{}:{since}", incident.id, role.as_str()),
        subject: format!(
            "#{} {} [{}] needs a {}",
            incident.number,
            incident.title,
            incident.severity,
            role.as_str()
        ),
        text: format!(
            "Incident #{} \"{}\" ({}) is acknowledged but has no {}. You are {} in the {} \
             schedule: take the role with `triad role {} {} --me`.",
            incident.number,
            incident.title,
            incident.severity,
            role.as_str(),
            if reach == "on call" {
                "on call"
            } else {
                "listed"
            },
            schedule.name,
            incident.number,
            role.as_str()
        ),
        data: json!({"role": role.as_str(), "schedule_id": schedule.id}),
        at: now,
    };
    let urgency = Urgency::of(incident.severity);
    let mut reached = Vec::new();
    for u in &people {
        let channels = d.notify_user(u, urgency, &n).await?;
        reached.push(json!({"id": u.id, "name": u.name, "channels": channels}));
    }
    let body = format!(
        "Paged {} to fill {} from the {} schedule ({reach})",
        names(&people),
        role.as_str(),
        schedule.name
    );
    d.system_event(
        &incident.id,
        EventKind::Paged,
        body,
        json!({"role": role.as_str(), "schedule_id": schedule.id, "users": reached,
            "purpose": "staffing", "reason": "understaffed"}),
    )
    .await?;
    Ok(())
}

/// Everyone in the rotation of the version in force at `now` (else the first one).
fn rotation(schedule: &Schedule, now: Millis) -> Vec<String> {
    let version = schedule
        .versions
        .iter()
        .rev()
        .find(|v| v.effective_from <= now)
        .or_else(|| schedule.versions.first());
    let mut out: Vec<String> = Vec::new();
    for layer in version.map(|v| v.layers.as_slice()).unwrap_or_default() {
        for p in &layer.participants {
            if !out.contains(p) {
                out.push(p.clone());
            }
        }
    }
    out
}

//! On-call schedules: create, read, change, delete; new versions of the layers with an
//! effective date; overrides; the final schedule and its coverage gaps between two times.
//! Every change re-arms the schedule's handoff timer.

use crate::engine::handoff;
use crate::team::taken;
use crate::{Actor, App, AppError, AppResult};
use triad_domain::Millis;
use triad_domain::schedule::{
    self as sched, Compiled, Layer, MAX_RANGE_DAYS, MAX_VERSIONS, Override, OverrideAction,
    Schedule, Segment, Version,
};
use triad_domain::user::{Permission, User};
use triad_domain::validate::{self, Validation};
use triad_store::schedule as schedules;
use triad_store::{Conn, new_id, user as users};

const DAY_MS: Millis = 86_400_000;
/// How far ahead a saved schedule's coverage gaps are reported.
pub const GAP_REPORT_DAYS: i64 = 28;

/// A schedule as submitted to `POST /schedules`.
#[derive(Debug, Clone, Default)]
pub struct ScheduleInput {
    pub name: String,
    pub description: Option<String>,
    pub time_zone: String,
    pub layers: Vec<Layer>,
    /// When the layers take effect; default now.
    pub effective_from: Option<Millis>,
}

/// Fields to change on `PATCH /schedules/{id}` (`None` keeps the value).
#[derive(Debug, Clone, Default)]
pub struct SchedulePatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub time_zone: Option<String>,
}

/// An override as submitted.
#[derive(Debug, Clone)]
pub struct OverrideInput {
    pub start: Millis,
    pub end: Millis,
    pub action: OverrideAction,
    pub user: String,
    pub replaces: Option<String>,
}

/// A saved schedule with the coverage gaps of the next [`GAP_REPORT_DAYS`] days.
#[derive(Debug, Clone)]
pub struct Saved {
    pub schedule: Schedule,
    pub gaps: Vec<(Millis, Millis)>,
}

/// The final schedule between two times, with the people it names.
#[derive(Debug, Clone)]
pub struct FinalSchedule {
    pub schedule: Schedule,
    pub from: Millis,
    pub to: Millis,
    pub segments: Vec<Segment>,
    pub gaps: Vec<(Millis, Millis)>,
    pub users: Vec<User>,
}

pub(crate) fn compile(s: &Schedule) -> AppResult<Compiled> {
    Compiled::new(s).map_err(|e| AppError::Internal(format!("schedule {}: {e}", s.id)))
}

/// Checks a `[from, to)` window a caller asked for.
pub fn check_range(from: Millis, to: Millis) -> AppResult<()> {
    if to <= from {
        return Err(AppError::field("to", "must be after from"));
    }
    if to - from > MAX_RANGE_DAYS * DAY_MS {
        return Err(AppError::field(
            "to",
            format!("must be at most {MAX_RANGE_DAYS} days after from"),
        ));
    }
    Ok(())
}

impl App {
    pub async fn create_schedule(&self, actor: &Actor, input: ScheduleInput) -> AppResult<Saved> {
        actor.require(Permission::Administer)?;
        let now = self.now();
        let mut d = self.decide().await?;
        let mut v = Validation::new();
        let name = v.check("name", validate::text(&input.name, 100));
        let description = v
            .check(
                "description",
                validate::optional_text(input.description.as_deref(), 2000),
            )
            .flatten();
        v.check("time_zone", sched::parse_zone(&input.time_zone));
        let effective_from = effective(&mut v, input.effective_from, now);
        let layers = check_layers(d.conn(), self, v, "layers", input.layers).await?;
        let schedule = Schedule {
            id: new_id(),
            name: name.unwrap_or_default(),
            description,
            time_zone: input.time_zone.trim().to_string(),
            versions: vec![Version {
                effective_from,
                layers,
            }],
            overrides: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        schedules::insert(d.conn(), &schedule, actor.user_id())
            .await
            .map_err(|e| taken(e, &schedule.name))?;
        handoff::arm(&mut d, &schedule, now).await?;
        d.commit().await?;
        saved(schedule, now)
    }

    pub async fn change_schedule(
        &self,
        actor: &Actor,
        key: &str,
        patch: SchedulePatch,
    ) -> AppResult<Saved> {
        actor.require(Permission::Administer)?;
        let now = self.now();
        let mut d = self.decide().await?;
        let mut s = find(d.conn(), key).await?;
        let mut v = Validation::new();
        if let Some(name) = &patch.name
            && let Some(name) = v.check("name", validate::text(name, 100))
        {
            s.name = name;
        }
        if let Some(desc) = &patch.description {
            s.description = v
                .check("description", validate::optional_text(Some(desc), 2000))
                .flatten();
        }
        if let Some(tz) = &patch.time_zone
            && v.check("time_zone", sched::parse_zone(tz)).is_some()
        {
            s.time_zone = tz.trim().to_string();
        }
        v.finish()?;
        s.updated_at = now;
        schedules::update(d.conn(), &s)
            .await
            .map_err(|e| taken(e, &s.name))?;
        handoff::arm(&mut d, &s, now).await?;
        d.commit().await?;
        saved(s, now)
    }

    /// Adds a version of the layers taking effect at `effective_from` (default now; never
    /// in the past). A version with the same `effective_from` is replaced. Versions that
    /// stopped applying long ago are dropped beyond [`MAX_VERSIONS`].
    pub async fn put_schedule_layers(
        &self,
        actor: &Actor,
        key: &str,
        layers: Vec<Layer>,
        effective_from: Option<Millis>,
    ) -> AppResult<Saved> {
        actor.require(Permission::Administer)?;
        let now = self.now();
        let mut d = self.decide().await?;
        let mut s = find(d.conn(), key).await?;
        let mut v = Validation::new();
        let effective_from = effective(&mut v, effective_from, now);
        let layers = check_layers(d.conn(), self, v, "layers", layers).await?;
        let version = Version {
            effective_from,
            layers,
        };
        schedules::put_version(d.conn(), &s.id, &version, actor.user_id(), now).await?;
        s.versions.retain(|x| x.effective_from != effective_from);
        s.versions.push(version);
        s.versions.sort_by_key(|x| x.effective_from);
        if s.versions.len() > MAX_VERSIONS {
            // Keep the newest; the oldest stopped applying long ago.
            let cut = s.versions[s.versions.len() - MAX_VERSIONS].effective_from;
            schedules::prune_versions(d.conn(), &s.id, cut).await?;
            s.versions.retain(|x| x.effective_from >= cut);
        }
        s.updated_at = now;
        schedules::update(d.conn(), &s).await?;
        handoff::arm(&mut d, &s, now).await?;
        d.commit().await?;
        saved(s, now)
    }

    pub async fn schedules(&self, actor: &Actor) -> AppResult<Vec<Schedule>> {
        actor.require(Permission::Read)?;
        let mut conn = self.store().read().await?;
        Ok(schedules::list(&mut conn).await?)
    }

    pub async fn schedule(&self, actor: &Actor, key: &str) -> AppResult<Schedule> {
        actor.require(Permission::Read)?;
        let mut conn = self.store().read().await?;
        find(&mut conn, key).await
    }

    /// Deletes a schedule; refused (409 `in_use`) while a policy or role schedule names it.
    pub async fn delete_schedule(&self, actor: &Actor, key: &str) -> AppResult<()> {
        actor.require(Permission::Administer)?;
        let mut d = self.decide().await?;
        let s = find(d.conn(), key).await?;
        schedules::delete(d.conn(), &s.id).await?;
        triad_store::timer::cancel(d.conn(), handoff::TIMER_HANDOFF, &s.id).await?;
        d.commit().await
    }

    /// Adds an override. Responders may override (swap a shift, cover for someone).
    pub async fn add_override(
        &self,
        actor: &Actor,
        key: &str,
        input: OverrideInput,
    ) -> AppResult<Override> {
        actor.require(Permission::Respond)?;
        let now = self.now();
        let mut d = self.decide().await?;
        let mut s = find(d.conn(), key).await?;
        let mut v = Validation::new();
        if input.end <= input.start {
            v.push("end", "must be after start");
        } else if input.end - input.start > MAX_RANGE_DAYS * DAY_MS {
            v.push(
                "end",
                format!("must be at most {MAX_RANGE_DAYS} days after start"),
            );
        }
        if input.end <= now {
            v.push(
                "end",
                "must be in the future; the past cannot be overridden",
            );
        }
        let user = person(d.conn(), self, &mut v, "user", &input.user).await?;
        let replaces = match input.replaces.as_deref().map(str::trim) {
            Some(r) if !r.is_empty() => {
                if input.action != OverrideAction::Replace {
                    v.push("replaces", "only a replace override names whom it replaces");
                }
                person(d.conn(), self, &mut v, "replaces", r).await?
            }
            _ => None,
        };
        v.finish()?;
        let o = Override {
            id: new_id(),
            start: input.start,
            end: input.end,
            action: input.action,
            user: user.unwrap_or_default(),
            replaces,
            created_at: now,
        };
        schedules::insert_override(d.conn(), &s.id, &o, actor.user_id()).await?;
        s.overrides.push(o.clone());
        handoff::arm(&mut d, &s, now).await?;
        d.commit().await?;
        Ok(o)
    }

    pub async fn delete_override(&self, actor: &Actor, key: &str, id: &str) -> AppResult<()> {
        actor.require(Permission::Respond)?;
        let now = self.now();
        let mut d = self.decide().await?;
        let mut s = find(d.conn(), key).await?;
        schedules::delete_override(d.conn(), &s.id, id).await?;
        s.overrides.retain(|o| o.id != id);
        handoff::arm(&mut d, &s, now).await?;
        d.commit().await
    }

    /// The final schedule over `[from, to)` with its gaps and the people it names.
    pub async fn final_schedule(
        &self,
        actor: &Actor,
        key: &str,
        from: Millis,
        to: Millis,
    ) -> AppResult<FinalSchedule> {
        actor.require(Permission::Read)?;
        check_range(from, to)?;
        let mut conn = self.store().read().await?;
        let schedule = find(&mut conn, key).await?;
        let c = compile(&schedule)?;
        let segments = c.final_schedule(from, to);
        let gaps = c.gaps(from, to);
        let all = users::list(&mut conn).await?;
        let users = all
            .into_iter()
            .filter(|u| segments.iter().any(|s| s.users.contains(&u.id)))
            .collect();
        Ok(FinalSchedule {
            schedule,
            from,
            to,
            segments,
            gaps,
            users,
        })
    }
}

/// A schedule by id or name, or 404.
pub(crate) async fn find(conn: &mut Conn, key: &str) -> AppResult<Schedule> {
    schedules::find(conn, key.trim())
        .await?
        .ok_or(AppError::NotFound("schedule"))
}

fn saved(schedule: Schedule, now: Millis) -> AppResult<Saved> {
    let gaps = compile(&schedule)?.gaps(now, now + GAP_REPORT_DAYS * DAY_MS);
    Ok(Saved { schedule, gaps })
}

/// `effective_from`, defaulting to now and refused in the past (a minute's grace for
/// clocks that differ).
fn effective(v: &mut Validation, at: Option<Millis>, now: Millis) -> Millis {
    match at {
        None => now,
        Some(t) if t < now - 60_000 => {
            v.push(
                "effective_from",
                "must not be in the past; history is not rewritten",
            );
            now
        }
        Some(t) => t.max(now),
    }
}

/// Validates layers and turns each participant (id or email) into a user id; finishes
/// `v`, so every field error of the request is reported at once.
async fn check_layers(
    conn: &mut Conn,
    app: &App,
    mut v: Validation,
    prefix: &str,
    mut layers: Vec<Layer>,
) -> AppResult<Vec<Layer>> {
    sched::validate_layers(&mut v, prefix, &layers);
    for (i, layer) in layers.iter_mut().enumerate() {
        layer.name = layer.name.trim().to_string();
        if let Some(tz) = &layer.time_zone {
            layer.time_zone = Some(tz.trim().to_string()).filter(|z| !z.is_empty());
        }
        for (j, p) in layer.participants.iter_mut().enumerate() {
            let field = format!("{prefix}[{i}].participants[{j}]");
            if let Some(id) = person(conn, app, &mut v, &field, p).await? {
                *p = id;
            }
        }
        for r in &mut layer.restrictions {
            r.days.sort_unstable();
            r.days.dedup();
        }
    }
    v.finish()?;
    Ok(layers)
}

/// The id of an active user named by id or email, or a field error.
async fn person(
    conn: &mut Conn,
    app: &App,
    v: &mut Validation,
    field: &str,
    key: &str,
) -> AppResult<Option<String>> {
    let key = key.trim();
    if key.is_empty() {
        v.push(field, "must name a user (id or email)");
        return Ok(None);
    }
    match app.find_user(conn, key).await? {
        Some(u) if u.deactivated_at.is_none() => Ok(Some(u.id)),
        Some(_) => {
            v.push(field, "this user is deactivated");
            Ok(None)
        }
        None => {
            v.push(field, "no such user");
            Ok(None)
        }
    }
}

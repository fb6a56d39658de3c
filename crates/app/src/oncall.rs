//! Who is on call (now or at a time, for every schedule and every role schedule), the
//! role schedules of teams and services, and the secret-URL iCalendar feeds of schedules
//! and people.

use crate::schedule::{check_range, compile, find};
use crate::secret::token_hash;
use crate::{Actor, App, AppError, AppResult};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use triad_domain::Millis;
use triad_domain::ical::{self, Event};
use triad_domain::role::IncidentRole;
use triad_domain::schedule::{Schedule, Segment};
use triad_domain::user::{Permission, User};
use triad_domain::validate::Validation;
use triad_store::schedule::{self as schedules, FeedKind, RoleSchedule, Scope};
use triad_store::{Conn, team as teams, user as users};

const DAY_MS: Millis = 86_400_000;
/// What a calendar feed shows when the URL names no window: a week back, 60 days ahead.
pub const FEED_PAST_DAYS: i64 = 7;
pub const FEED_AHEAD_DAYS: i64 = 60;
/// The roles a role schedule may fill.
pub const SCHEDULED_ROLES: [IncidentRole; 2] = [IncidentRole::Observer, IncidentRole::Coordinator];

/// One schedule's people on call at an instant, and until when the set holds.
#[derive(Debug, Clone)]
pub struct OnCall {
    pub schedule_id: String,
    pub schedule_name: String,
    pub users: Vec<User>,
    /// When this set of people changes (within 35 days), if it does.
    pub until: Option<Millis>,
}

/// Every schedule's and role schedule's people on call at `at`.
#[derive(Debug, Clone)]
pub struct OnCallReport {
    pub at: Millis,
    pub schedules: Vec<OnCall>,
    pub roles: Vec<(RoleSchedule, String)>,
}

/// A team's or service's role schedules (`None`: that role has none).
#[derive(Debug, Clone, Default)]
pub struct RoleSchedules {
    pub observer: Option<String>,
    pub coordinator: Option<String>,
}

fn pick(users: &[User], ids: &[String]) -> Vec<User> {
    ids.iter()
        .filter_map(|id| users.iter().find(|u| &u.id == id).cloned())
        .collect()
}

impl App {
    /// Who is on call at `at` (default now) in every schedule, and which schedule fills
    /// each role of each team and service.
    pub async fn on_call(&self, actor: &Actor, at: Option<Millis>) -> AppResult<OnCallReport> {
        actor.require(Permission::Read)?;
        let at = at.unwrap_or_else(|| self.now());
        let mut conn = self.store().read().await?;
        let list = schedules::list(&mut conn).await?;
        let people = users::list(&mut conn).await?;
        let mut out = Vec::new();
        for s in &list {
            let c = compile(s)?;
            out.push(OnCall {
                schedule_id: s.id.clone(),
                schedule_name: s.name.clone(),
                users: pick(&people, &c.on_call_at(at)),
                until: c.next_change(at, 35 * DAY_MS),
            });
        }
        let roles = schedules::role_schedules(&mut conn)
            .await?
            .into_iter()
            .map(|r| {
                let name = list
                    .iter()
                    .find(|s| s.id == r.schedule_id)
                    .map(|s| s.name.clone())
                    .unwrap_or_default();
                (r, name)
            })
            .collect();
        Ok(OnCallReport {
            at,
            schedules: out,
            roles,
        })
    }

    /// The role schedules of a team (by id or name) or service (by id or name).
    pub async fn role_schedules(
        &self,
        actor: &Actor,
        scope: Scope,
        key: &str,
    ) -> AppResult<Vec<RoleSchedule>> {
        actor.require(Permission::Read)?;
        let mut conn = self.store().read().await?;
        let id = scope_id(&mut conn, scope, key).await?;
        Ok(schedules::role_schedules_of(&mut conn, scope, &id).await?)
    }

    /// Replaces a team's or service's role schedules (a role left out has none).
    pub async fn set_role_schedules(
        &self,
        actor: &Actor,
        scope: Scope,
        key: &str,
        input: RoleSchedules,
    ) -> AppResult<Vec<RoleSchedule>> {
        actor.require(Permission::Administer)?;
        let mut d = self.decide().await?;
        let id = scope_id(d.conn(), scope, key).await?;
        let mut v = Validation::new();
        let mut chosen = Vec::new();
        for (role, want) in [
            (IncidentRole::Observer, &input.observer),
            (IncidentRole::Coordinator, &input.coordinator),
        ] {
            let sid = match want.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
                None => None,
                Some(k) => match schedules::find(d.conn(), k).await? {
                    Some(s) => Some(s.id),
                    None => {
                        v.push(role.as_str(), "no such schedule");
                        None
                    }
                },
            };
            chosen.push((role, sid));
        }
        v.finish()?;
        for (role, sid) in chosen {
            schedules::set_role_schedule(d.conn(), scope, &id, role, sid.as_deref()).await?;
        }
        let out = schedules::role_schedules_of(d.conn(), scope, &id).await?;
        d.commit().await?;
        Ok(out)
    }

    /// Creates (or rotates) the secret token of a schedule's calendar feed; the previous
    /// URL stops working. Returns the token.
    pub async fn schedule_feed_token(&self, actor: &Actor, key: &str) -> AppResult<String> {
        actor.require(Permission::Administer)?;
        let mut d = self.decide().await?;
        let s = find(d.conn(), key).await?;
        let token = new_feed_token();
        let hash = token_hash(&token);
        schedules::put_feed(
            d.conn(),
            FeedKind::Schedule,
            &s.id,
            &hash,
            actor.user_id(),
            self.now(),
        )
        .await?;
        d.commit().await?;
        Ok(token)
    }

    /// Creates (or rotates) the secret token of a person's own calendar feed.
    pub async fn user_feed_token(&self, actor: &Actor, key: &str) -> AppResult<String> {
        let user = self.user(actor, key).await?;
        actor.require_self_or_admin(&user.id)?;
        let mut d = self.decide().await?;
        let token = new_feed_token();
        let hash = token_hash(&token);
        schedules::put_feed(
            d.conn(),
            FeedKind::User,
            &user.id,
            &hash,
            actor.user_id(),
            self.now(),
        )
        .await?;
        d.commit().await?;
        Ok(token)
    }

    /// The iCalendar text of the feed a secret token opens (404 for an unknown token),
    /// over `[from, to)` (default: a week back to 60 days ahead).
    pub async fn calendar_feed(
        &self,
        token: &str,
        from: Option<Millis>,
        to: Option<Millis>,
    ) -> AppResult<String> {
        let now = self.now();
        let from = from.unwrap_or(now - FEED_PAST_DAYS * DAY_MS);
        let to = to.unwrap_or(now + FEED_AHEAD_DAYS * DAY_MS);
        check_range(from, to)?;
        let mut conn = self.store().read().await?;
        let (kind, subject) = schedules::feed(&mut conn, &token_hash(token.trim()))
            .await?
            .ok_or(AppError::NotFound("calendar"))?;
        let people = users::list(&mut conn).await?;
        let name_of = |id: &str| {
            people
                .iter()
                .find(|u| u.id == id)
                .map(|u| u.name.clone())
                .unwrap_or_else(|| id.to_string())
        };
        match kind {
            FeedKind::Schedule => {
                let s = find(&mut conn, &subject).await?;
                let events = compile(&s)?
                    .final_schedule(from, to)
                    .iter()
                    .map(|g| {
                        let who: Vec<String> = g.users.iter().map(|u| name_of(u)).collect();
                        Event {
                            uid: segment_uid(&s.id, g),
                            start: g.start,
                            end: g.end,
                            summary: format!("{}: {}", s.name, who.join(", ")),
                            description: Some(format!(
                                "On call for {}: {}",
                                s.name,
                                who.join(", ")
                            )),
                        }
                    })
                    .collect::<Vec<_>>();
                Ok(ical::calendar(&format!("{} on call", s.name), &events, now))
            }
            FeedKind::User => {
                let user = people
                    .iter()
                    .find(|u| u.id == subject)
                    .cloned()
                    .ok_or(AppError::NotFound("calendar"))?;
                let mut events = Vec::new();
                for s in schedules::list(&mut conn).await? {
                    if !mentions(&s, &user.id) {
                        continue;
                    }
                    for (start, end) in own_shifts(&compile(&s)?.final_schedule(from, to), &user.id)
                    {
                        events.push(Event {
                            uid: format!("{start}-{end}-{}.{}@triad", user.id, s.id),
                            start,
                            end,
                            summary: format!("On call: {}", s.name),
                            description: Some(format!("{} is on call for {}", user.name, s.name)),
                        });
                    }
                }
                events.sort_by_key(|e| (e.start, e.uid.clone()));
                Ok(ical::calendar(
                    &format!("{} on call", user.name),
                    &events,
                    now,
                ))
            }
        }
    }
}

/// A stable UID for a stretch of a schedule: the same stretch with the same people
/// always gets the same one.
fn segment_uid(schedule_id: &str, g: &Segment) -> String {
    let digest = Sha256::digest(g.users.join(",").as_bytes());
    format!(
        "{}-{}-{}.{schedule_id}@triad",
        g.start,
        g.end,
        &hex::encode(digest)[..12]
    )
}

/// Whether a schedule could put `user` on call (a layer or an override names them).
fn mentions(s: &Schedule, user: &str) -> bool {
    s.versions
        .iter()
        .flat_map(|v| v.layers.iter())
        .any(|l| l.participants.iter().any(|p| p == user))
        || s.overrides.iter().any(|o| o.user == user)
}

/// The person's own continuous on-call intervals within a final schedule.
pub fn own_shifts(segments: &[Segment], user: &str) -> Vec<(Millis, Millis)> {
    let mut out: Vec<(Millis, Millis)> = Vec::new();
    for g in segments
        .iter()
        .filter(|g| g.users.iter().any(|u| u == user))
    {
        match out.last_mut() {
            Some(last) if last.1 == g.start => last.1 = g.end,
            _ => out.push((g.start, g.end)),
        }
    }
    out
}

fn new_feed_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!("cal_{}", hex::encode(bytes))
}

async fn scope_id(conn: &mut Conn, scope: Scope, key: &str) -> AppResult<String> {
    let key = key.trim();
    match scope {
        Scope::Service => Ok(crate::service::find(conn, key)
            .await?
            .ok_or(AppError::NotFound("service"))?
            .id),
        Scope::Team => {
            if let Some(t) = teams::get(conn, key).await? {
                return Ok(t.id);
            }
            teams::list(conn)
                .await?
                .into_iter()
                .find(|t| t.name == key)
                .map(|t| t.id)
                .ok_or(AppError::NotFound("team"))
        }
    }
}

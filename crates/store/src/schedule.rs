//! On-call schedules with their versions and overrides, the role schedules of teams and
//! services, and the secret tokens of calendar feeds.

use crate::{Conn, StoreError};
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::HashMap;
use triad_domain::Millis;
use triad_domain::role::IncidentRole;
use triad_domain::schedule::{Layer, Override, OverrideAction, Schedule, Version};

const COLUMNS: &str = "id, name, description, time_zone, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<Schedule, StoreError> {
    Ok(Schedule {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        time_zone: row.try_get("time_zone")?,
        versions: Vec::new(),
        overrides: Vec::new(),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn action_str(a: OverrideAction) -> &'static str {
    match a {
        OverrideAction::Add => "add",
        OverrideAction::Remove => "remove",
        OverrideAction::Replace => "replace",
    }
}

fn parse_action(s: &str) -> Result<OverrideAction, StoreError> {
    match s {
        "add" => Ok(OverrideAction::Add),
        "remove" => Ok(OverrideAction::Remove),
        "replace" => Ok(OverrideAction::Replace),
        other => Err(StoreError::corrupt(
            "schedule_overrides.action",
            format!("unknown action {other:?}"),
        )),
    }
}

fn override_from_row(row: &AnyRow) -> Result<(String, Override), StoreError> {
    let action: String = row.try_get("action")?;
    Ok((
        row.try_get("schedule_id")?,
        Override {
            id: row.try_get("id")?,
            start: row.try_get("start_at")?,
            end: row.try_get("end_at")?,
            action: parse_action(&action)?,
            user: row.try_get("user_id")?,
            replaces: row.try_get("replaces")?,
            created_at: row.try_get("created_at")?,
        },
    ))
}

fn version_from_row(row: &AnyRow) -> Result<(String, Version), StoreError> {
    let layers: String = row.try_get("layers")?;
    let layers: Vec<Layer> = serde_json::from_str(&layers)
        .map_err(|e| StoreError::corrupt("schedule_versions.layers", e))?;
    Ok((
        row.try_get("schedule_id")?,
        Version {
            effective_from: row.try_get("effective_from")?,
            layers,
        },
    ))
}

/// Inserts the schedule row and its versions (overrides are added one by one).
pub async fn insert(conn: &mut Conn, s: &Schedule, by: Option<&str>) -> Result<(), StoreError> {
    let sql = format!("INSERT INTO schedules ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&s.id)
        .bind(&s.name)
        .bind(&s.description)
        .bind(&s.time_zone)
        .bind(s.created_at)
        .bind(s.updated_at)
        .execute(&mut *conn)
        .await?;
    for v in &s.versions {
        put_version(conn, &s.id, v, by, s.created_at).await?;
    }
    Ok(())
}

/// Writes name, description, time zone and `updated_at`.
pub async fn update(conn: &mut Conn, s: &Schedule) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE schedules SET name = $2, description = $3, time_zone = $4, updated_at = $5
         WHERE id = $1",
    )
    .bind(&s.id)
    .bind(&s.name)
    .bind(&s.description)
    .bind(&s.time_zone)
    .bind(s.updated_at)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("schedule"));
    }
    Ok(())
}

/// Adds a version, or replaces the one with the same `effective_from`.
pub async fn put_version(
    conn: &mut Conn,
    schedule_id: &str,
    v: &Version,
    by: Option<&str>,
    now: Millis,
) -> Result<(), StoreError> {
    let layers = serde_json::to_string(&v.layers)
        .map_err(|e| StoreError::corrupt("schedule_versions.layers", e))?;
    sqlx::query(
        "INSERT INTO schedule_versions (schedule_id, effective_from, layers, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (schedule_id, effective_from)
         DO UPDATE SET layers = excluded.layers, created_at = excluded.created_at,
                       created_by = excluded.created_by",
    )
    .bind(schedule_id)
    .bind(v.effective_from)
    .bind(layers)
    .bind(now)
    .bind(by)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes the versions that took effect before `before`, keeping the last of them (it
/// is still in force at `before`).
pub async fn prune_versions(
    conn: &mut Conn,
    schedule_id: &str,
    before: Millis,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "DELETE FROM schedule_versions WHERE schedule_id = $1 AND effective_from < $2
           AND effective_from < (SELECT MAX(effective_from) FROM schedule_versions
                                 WHERE schedule_id = $1 AND effective_from <= $2)",
    )
    .bind(schedule_id)
    .bind(before)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

async fn attach(
    conn: &mut Conn,
    list: &mut [Schedule],
    only: Option<&str>,
) -> Result<(), StoreError> {
    let filter = if only.is_some() {
        " WHERE schedule_id = $1"
    } else {
        ""
    };
    let vsql = format!(
        "SELECT schedule_id, effective_from, layers FROM schedule_versions{filter}
         ORDER BY schedule_id, effective_from"
    );
    let osql = format!(
        "SELECT id, schedule_id, start_at, end_at, action, user_id, replaces, created_at
         FROM schedule_overrides{filter} ORDER BY schedule_id, created_at, id"
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(vsql));
    if let Some(id) = only {
        q = q.bind(id);
    }
    let vrows = q.fetch_all(&mut *conn).await?;
    let mut q = sqlx::query(sqlx::AssertSqlSafe(osql));
    if let Some(id) = only {
        q = q.bind(id);
    }
    let orows = q.fetch_all(&mut *conn).await?;
    let index: HashMap<String, usize> = list
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.clone(), i))
        .collect();
    for row in &vrows {
        let (sid, v) = version_from_row(row)?;
        if let Some(&i) = index.get(&sid) {
            list[i].versions.push(v);
        }
    }
    for row in &orows {
        let (sid, o) = override_from_row(row)?;
        if let Some(&i) = index.get(&sid) {
            list[i].overrides.push(o);
        }
    }
    Ok(())
}

/// A schedule by id or by name, with its versions and overrides.
pub async fn find(conn: &mut Conn, key: &str) -> Result<Option<Schedule>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM schedules WHERE id = $1 OR name = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut list = vec![from_row(&row)?];
    let id = list[0].id.clone();
    attach(conn, &mut list, Some(&id)).await?;
    Ok(list.pop())
}

/// Every schedule by name, with versions and overrides (three queries in all).
pub async fn list(conn: &mut Conn) -> Result<Vec<Schedule>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM schedules ORDER BY name");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?;
    let mut list = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    attach(conn, &mut list, None).await?;
    Ok(list)
}

/// Deletes a schedule with its versions and overrides; refused with
/// [`StoreError::InUse`] while an escalation policy or a role schedule names it.
pub async fn delete(conn: &mut Conn, id: &str) -> Result<(), StoreError> {
    let users: i64 = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM role_schedules WHERE schedule_id = $1)
              + (SELECT COUNT(*) FROM escalation_policies WHERE levels LIKE $2 OR fallback LIKE $2)",
    )
    .bind(id)
    .bind(format!("%\"schedule\",\"id\":\"{id}\"%"))
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?;
    if users > 0 {
        return Err(StoreError::InUse(
            "an escalation policy or a role schedule uses this schedule".into(),
        ));
    }
    for sql in [
        "DELETE FROM schedule_overrides WHERE schedule_id = $1",
        "DELETE FROM schedule_versions WHERE schedule_id = $1",
        "DELETE FROM calendar_feeds WHERE kind = 'schedule' AND subject = $1",
    ] {
        sqlx::query(sql).bind(id).execute(&mut *conn).await?;
    }
    let done = sqlx::query("DELETE FROM schedules WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("schedule"));
    }
    Ok(())
}

pub async fn insert_override(
    conn: &mut Conn,
    schedule_id: &str,
    o: &Override,
    by: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO schedule_overrides
           (id, schedule_id, start_at, end_at, action, user_id, replaces, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&o.id)
    .bind(schedule_id)
    .bind(o.start)
    .bind(o.end)
    .bind(action_str(o.action))
    .bind(&o.user)
    .bind(&o.replaces)
    .bind(o.created_at)
    .bind(by)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn delete_override(
    conn: &mut Conn,
    schedule_id: &str,
    override_id: &str,
) -> Result<(), StoreError> {
    let done = sqlx::query("DELETE FROM schedule_overrides WHERE schedule_id = $1 AND id = $2")
        .bind(schedule_id)
        .bind(override_id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("override"));
    }
    Ok(())
}

/// Whose incidents a role schedule staffs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Team,
    Service,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Team => "team",
            Scope::Service => "service",
        }
    }
}

/// One role schedule: `schedule_id` fills `role` on the incidents of `scope_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSchedule {
    pub scope: Scope,
    pub scope_id: String,
    pub role: IncidentRole,
    pub schedule_id: String,
}

fn role_from_row(row: &AnyRow) -> Result<RoleSchedule, StoreError> {
    let scope: String = row.try_get("scope")?;
    let role: String = row.try_get("role")?;
    Ok(RoleSchedule {
        scope: match scope.as_str() {
            "team" => Scope::Team,
            "service" => Scope::Service,
            other => {
                return Err(StoreError::corrupt(
                    "role_schedules.scope",
                    format!("unknown scope {other:?}"),
                ));
            }
        },
        scope_id: row.try_get("scope_id")?,
        role: IncidentRole::parse(&role)
            .map_err(|e| StoreError::corrupt("role_schedules.role", e))?,
        schedule_id: row.try_get("schedule_id")?,
    })
}

/// Sets (`Some`) or clears (`None`) which schedule fills `role` for a team or service.
pub async fn set_role_schedule(
    conn: &mut Conn,
    scope: Scope,
    scope_id: &str,
    role: IncidentRole,
    schedule_id: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM role_schedules WHERE scope = $1 AND scope_id = $2 AND role = $3")
        .bind(scope.as_str())
        .bind(scope_id)
        .bind(role.as_str())
        .execute(&mut *conn)
        .await?;
    if let Some(sid) = schedule_id {
        sqlx::query(
            "INSERT INTO role_schedules (scope, scope_id, role, schedule_id) VALUES ($1, $2, $3, $4)",
        )
        .bind(scope.as_str())
        .bind(scope_id)
        .bind(role.as_str())
        .bind(sid)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The role schedules of one team or service.
pub async fn role_schedules_of(
    conn: &mut Conn,
    scope: Scope,
    scope_id: &str,
) -> Result<Vec<RoleSchedule>, StoreError> {
    let rows = sqlx::query(
        "SELECT scope, scope_id, role, schedule_id FROM role_schedules
         WHERE scope = $1 AND scope_id = $2 ORDER BY role",
    )
    .bind(scope.as_str())
    .bind(scope_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(role_from_row).collect()
}

/// Every role schedule.
pub async fn role_schedules(conn: &mut Conn) -> Result<Vec<RoleSchedule>, StoreError> {
    let rows = sqlx::query(
        "SELECT scope, scope_id, role, schedule_id FROM role_schedules
         ORDER BY scope, scope_id, role",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(role_from_row).collect()
}

/// What a calendar feed shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedKind {
    Schedule,
    User,
}

impl FeedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::Schedule => "schedule",
            FeedKind::User => "user",
        }
    }
}

/// Stores the hash of a feed's new secret token, replacing the subject's previous one.
pub async fn put_feed(
    conn: &mut Conn,
    kind: FeedKind,
    subject: &str,
    token_hash: &str,
    by: Option<&str>,
    now: Millis,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM calendar_feeds WHERE kind = $1 AND subject = $2")
        .bind(kind.as_str())
        .bind(subject)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO calendar_feeds (token_hash, kind, subject, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(kind.as_str())
    .bind(subject)
    .bind(now)
    .bind(by)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The feed a token hash opens: its kind and subject.
pub async fn feed(
    conn: &mut Conn,
    token_hash: &str,
) -> Result<Option<(FeedKind, String)>, StoreError> {
    let row = sqlx::query("SELECT kind, subject FROM calendar_feeds WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let kind: String = row.try_get("kind")?;
    let kind = match kind.as_str() {
        "schedule" => FeedKind::Schedule,
        "user" => FeedKind::User,
        other => {
            return Err(StoreError::corrupt(
                "calendar_feeds.kind",
                format!("unknown kind {other:?}"),
            ));
        }
    };
    Ok(Some((kind, row.try_get("subject")?)))
}

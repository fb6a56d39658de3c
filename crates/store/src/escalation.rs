//! Escalation policies, and the escalation runs that page through a frozen snapshot.

use crate::{Conn, StoreError};
use sqlx::Row;
use sqlx::any::AnyRow;
use triad_domain::Millis;
use triad_domain::escalation::{EscalationPolicy, Level, Position, Snapshot, Target};

const COLUMNS: &str =
    "id, name, description, levels, repeat_count, fallback, created_at, updated_at";

fn json<T: serde::de::DeserializeOwned>(column: &'static str, s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::corrupt(column, e))
}

fn from_row(row: &AnyRow) -> Result<EscalationPolicy, StoreError> {
    let levels: String = row.try_get("levels")?;
    let fallback: Option<String> = row.try_get("fallback")?;
    let repeat: i64 = row.try_get("repeat_count")?;
    Ok(EscalationPolicy {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        levels: json::<Vec<Level>>("escalation_policies.levels", &levels)?,
        repeat: u32::try_from(repeat)
            .map_err(|e| StoreError::corrupt("escalation_policies.repeat_count", e))?,
        fallback: fallback
            .as_deref()
            .map(|f| json::<Target>("escalation_policies.fallback", f))
            .transpose()?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

pub async fn insert(conn: &mut Conn, p: &EscalationPolicy) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO escalation_policies ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&p.id)
        .bind(&p.name)
        .bind(&p.description)
        .bind(to_json(&p.levels))
        .bind(i64::from(p.repeat))
        .bind(p.fallback.as_ref().map(to_json))
        .bind(p.created_at)
        .bind(p.updated_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn update(conn: &mut Conn, p: &EscalationPolicy) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE escalation_policies SET name = $2, description = $3, levels = $4, repeat_count = $5,
            fallback = $6, updated_at = $7 WHERE id = $1",
    )
    .bind(&p.id)
    .bind(&p.name)
    .bind(&p.description)
    .bind(to_json(&p.levels))
    .bind(i64::from(p.repeat))
    .bind(p.fallback.as_ref().map(to_json))
    .bind(p.updated_at)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("escalation policy"));
    }
    Ok(())
}

/// A policy by id or by name.
pub async fn find(conn: &mut Conn, key: &str) -> Result<Option<EscalationPolicy>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM escalation_policies WHERE id = $1 OR name = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list(conn: &mut Conn) -> Result<Vec<EscalationPolicy>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM escalation_policies ORDER BY name");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Deletes a policy; refused with [`StoreError::InUse`] while a service or a severity
/// policy names it. Running escalations keep their snapshot and are unaffected.
pub async fn delete(conn: &mut Conn, id: &str) -> Result<(), StoreError> {
    let users: i64 = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM services WHERE escalation_policy_id = $1)
              + (SELECT COUNT(*) FROM severity_policies WHERE policy LIKE $2)",
    )
    .bind(id)
    .bind(format!("%\"{id}\"%"))
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?;
    if users > 0 {
        return Err(StoreError::InUse(
            "a service or a severity policy uses this escalation policy".into(),
        ));
    }
    let done = sqlx::query("DELETE FROM escalation_policies WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("escalation policy"));
    }
    Ok(())
}

/// Why an escalation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Until somebody acknowledges.
    Ack,
    /// An audience's update is overdue.
    Comms,
    /// Somebody asked for an update.
    UpdateRequest,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Ack => "ack",
            Purpose::Comms => "comms",
            Purpose::UpdateRequest => "update_request",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "ack" => Ok(Purpose::Ack),
            "comms" => Ok(Purpose::Comms),
            "update_request" => Ok(Purpose::UpdateRequest),
            other => Err(StoreError::corrupt("escalations.purpose", other)),
        }
    }
}

/// One running (or finished) escalation.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub id: String,
    pub incident_id: String,
    pub purpose: Purpose,
    /// For comms runs: the overdue audience.
    pub audience: Option<String>,
    pub snapshot: Snapshot,
    pub position: Position,
    /// `active`, `stopped` or `exhausted`.
    pub state: String,
    pub started_at: Millis,
    pub ended_at: Option<Millis>,
    pub end_reason: Option<String>,
}

const RUN_COLUMNS: &str = "id, incident_id, purpose, audience, snapshot, level, round, state, started_at, ended_at, end_reason";

fn run_from_row(row: &AnyRow) -> Result<Run, StoreError> {
    let purpose: String = row.try_get("purpose")?;
    let snapshot: String = row.try_get("snapshot")?;
    let level: i64 = row.try_get("level")?;
    let round: i64 = row.try_get("round")?;
    Ok(Run {
        id: row.try_get("id")?,
        incident_id: row.try_get("incident_id")?,
        purpose: Purpose::parse(&purpose)?,
        audience: row.try_get("audience")?,
        snapshot: json("escalations.snapshot", &snapshot)?,
        position: Position {
            level: usize::try_from(level)
                .map_err(|e| StoreError::corrupt("escalations.level", e))?,
            round: u32::try_from(round).map_err(|e| StoreError::corrupt("escalations.round", e))?,
        },
        state: row.try_get("state")?,
        started_at: row.try_get("started_at")?,
        ended_at: row.try_get("ended_at")?,
        end_reason: row.try_get("end_reason")?,
    })
}

pub async fn insert_run(conn: &mut Conn, r: &Run) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO escalations ({RUN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&r.id)
        .bind(&r.incident_id)
        .bind(r.purpose.as_str())
        .bind(&r.audience)
        .bind(to_json(&r.snapshot))
        .bind(r.position.level as i64)
        .bind(i64::from(r.position.round))
        .bind(&r.state)
        .bind(r.started_at)
        .bind(r.ended_at)
        .bind(&r.end_reason)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Writes position, state and end of a run.
pub async fn save_run(conn: &mut Conn, r: &Run) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE escalations SET level = $2, round = $3, state = $4, ended_at = $5, end_reason = $6
         WHERE id = $1",
    )
    .bind(&r.id)
    .bind(r.position.level as i64)
    .bind(i64::from(r.position.round))
    .bind(&r.state)
    .bind(r.ended_at)
    .bind(&r.end_reason)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn get_run(conn: &mut Conn, id: &str) -> Result<Option<Run>, StoreError> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM escalations WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(run_from_row).transpose()
}

/// An incident's runs, oldest first; `active_only` keeps the running ones.
pub async fn runs(
    conn: &mut Conn,
    incident_id: &str,
    active_only: bool,
) -> Result<Vec<Run>, StoreError> {
    let filter = if active_only {
        "AND state = 'active'"
    } else {
        ""
    };
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM escalations WHERE incident_id = $1 {filter} ORDER BY started_at, id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(incident_id)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(run_from_row).collect()
}

//! Alerts: machine events routed to a service by an integration key, deduplicated by
//! their key while open, grouped into incidents; and the records of Opsgenie's
//! asynchronous requests.

use crate::{Conn, StoreError};
use sqlx::Row;
use sqlx::any::AnyRow;
use triad_domain::Millis;

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertStatus {
    Triggered,
    Acknowledged,
    Resolved,
}

impl AlertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Triggered => "triggered",
            AlertStatus::Acknowledged => "acknowledged",
            AlertStatus::Resolved => "resolved",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "triggered" => Ok(AlertStatus::Triggered),
            "acknowledged" => Ok(AlertStatus::Acknowledged),
            "resolved" => Ok(AlertStatus::Resolved),
            other => Err(StoreError::corrupt(
                "alerts.status",
                format!("unknown status {other:?}"),
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub id: String,
    pub service_id: String,
    pub integration_key_id: String,
    pub incident_id: String,
    pub dedup_key: String,
    pub group_key: Option<String>,
    /// The wire format it came in (`pagerduty`, `alertmanager`, …).
    pub format: String,
    pub status: AlertStatus,
    pub summary: String,
    pub source: Option<String>,
    pub severity: Option<String>,
    /// The latest event's details (JSON).
    pub details: String,
    /// How many triggers it received while open.
    pub occurrences: i64,
    pub created_at: Millis,
    pub last_event_at: Millis,
    pub resolved_at: Option<Millis>,
}

const COLUMNS: &str = "id, service_id, integration_key_id, incident_id, dedup_key, group_key, \
    format, status, summary, source, severity, details, occurrences, created_at, last_event_at, resolved_at";

fn from_row(row: &AnyRow) -> Result<Alert, StoreError> {
    let status: String = row.try_get("status")?;
    Ok(Alert {
        id: row.try_get("id")?,
        service_id: row.try_get("service_id")?,
        integration_key_id: row.try_get("integration_key_id")?,
        incident_id: row.try_get("incident_id")?,
        dedup_key: row.try_get("dedup_key")?,
        group_key: row.try_get("group_key")?,
        format: row.try_get("format")?,
        status: AlertStatus::parse(&status)?,
        summary: row.try_get("summary")?,
        source: row.try_get("source")?,
        severity: row.try_get("severity")?,
        details: row.try_get("details")?,
        occurrences: row.try_get("occurrences")?,
        created_at: row.try_get("created_at")?,
        last_event_at: row.try_get("last_event_at")?,
        resolved_at: row.try_get("resolved_at")?,
    })
}

pub async fn insert(conn: &mut Conn, a: &Alert) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO alerts ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&a.id)
        .bind(&a.service_id)
        .bind(&a.integration_key_id)
        .bind(&a.incident_id)
        .bind(&a.dedup_key)
        .bind(&a.group_key)
        .bind(&a.format)
        .bind(a.status.as_str())
        .bind(&a.summary)
        .bind(&a.source)
        .bind(&a.severity)
        .bind(&a.details)
        .bind(a.occurrences)
        .bind(a.created_at)
        .bind(a.last_event_at)
        .bind(a.resolved_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Writes the mutable fields: status, summary, source, severity, details, count, times.
pub async fn save(conn: &mut Conn, a: &Alert) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE alerts SET status = $2, summary = $3, source = $4, severity = $5, details = $6,
            occurrences = $7, last_event_at = $8, resolved_at = $9 WHERE id = $1",
    )
    .bind(&a.id)
    .bind(a.status.as_str())
    .bind(&a.summary)
    .bind(&a.source)
    .bind(&a.severity)
    .bind(&a.details)
    .bind(a.occurrences)
    .bind(a.last_event_at)
    .bind(a.resolved_at)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("alert"));
    }
    Ok(())
}

/// What a repeated trigger changes on an open alert.
#[derive(Debug, Clone, Copy)]
pub struct Retrigger<'a> {
    /// Replaces the summary, source and severity when the event has them.
    pub summary: Option<&'a str>,
    pub source: Option<&'a str>,
    pub severity: Option<&'a str>,
    /// The event's details (JSON), always replaced.
    pub details: &'a str,
    pub at: Millis,
}

/// A trigger for the open (not resolved) alert with this dedup key under this
/// integration key, in one statement: counts it (`occurrences + 1`), sets
/// `last_event_at`, and takes the event's fields as [`Retrigger`] says. Returns the
/// alert as updated with the chat webhook of its incident's service (what the timeline
/// mirror needs next), or `None` (nothing changed) when no alert with this key is open.
pub async fn retrigger_open(
    conn: &mut Conn,
    integration_key_id: &str,
    dedup_key: &str,
    r: Retrigger<'_>,
) -> Result<Option<(Alert, Option<String>)>, StoreError> {
    let one = [(integration_key_id, dedup_key, r)];
    Ok(retrigger_many(conn, &one).await?.pop())
}

/// Rows per statement in [`retrigger_many`] (7 parameters each).
const RETRIGGER_CHUNK: usize = 1000;

/// [`retrigger_open`] for many alerts in one statement per [`RETRIGGER_CHUNK`]: each
/// `(integration key id, dedup key, trigger)` counts and updates its open alert.
/// Returns the alerts that were open, as updated, each with its incident's chat
/// webhook, in no particular order (match them by key); keys with no open alert are
/// simply absent. The `(integration key id, dedup key)` pairs must be distinct: a
/// pair given twice would be counted once.
pub async fn retrigger_many(
    conn: &mut Conn,
    triggers: &[(&str, &str, Retrigger<'_>)],
) -> Result<Vec<(Alert, Option<String>)>, StoreError> {
    let mut out = Vec::with_capacity(triggers.len());
    for chunk in triggers.chunks(RETRIGGER_CHUNK) {
        // SQLite's RETURNING may only name the updated table, so each row is matched
        // back by its keys; `v`'s columns are prefixed so that no name is ambiguous.
        let sql = format!(
            "WITH v (v_key, v_dedup, v_at, v_summary, v_source, v_severity, v_details) AS (VALUES {})
             UPDATE alerts SET occurrences = occurrences + 1, last_event_at = v.v_at,
                summary = COALESCE(v.v_summary, summary), source = COALESCE(v.v_source, source),
                severity = COALESCE(v.v_severity, severity), details = v.v_details
             FROM v
             WHERE alerts.integration_key_id = v.v_key AND alerts.dedup_key = v.v_dedup
               AND alerts.status <> 'resolved'
             RETURNING {COLUMNS},
                (SELECT s.chat_webhook FROM incidents i JOIN services s ON s.id = i.service_id
                 WHERE i.id = alerts.incident_id) AS chat_webhook",
            crate::values_rows(chunk.len(), 7)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (key, dedup, r) in chunk {
            q = q
                .bind(*key)
                .bind(*dedup)
                .bind(r.at)
                .bind(r.summary)
                .bind(r.source)
                .bind(r.severity)
                .bind(r.details);
        }
        for row in q.fetch_all(&mut *conn).await? {
            out.push((from_row(&row)?, row.try_get("chat_webhook")?));
        }
    }
    Ok(out)
}

/// The open (not resolved) alert with this dedup key under this integration key.
pub async fn open_by_key(
    conn: &mut Conn,
    integration_key_id: &str,
    dedup_key: &str,
) -> Result<Option<Alert>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM alerts WHERE integration_key_id = $1 AND dedup_key = $2
           AND status <> 'resolved'"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(integration_key_id)
        .bind(dedup_key)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// An alert by id.
pub async fn get(conn: &mut Conn, id: &str) -> Result<Option<Alert>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM alerts WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The open incident that an open alert of this service and group belongs to.
pub async fn open_incident_of_group(
    conn: &mut Conn,
    service_id: &str,
    group_key: &str,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query(
        "SELECT a.incident_id FROM alerts a JOIN incidents i ON i.id = a.incident_id
         WHERE a.service_id = $1 AND a.group_key = $2 AND a.status <> 'resolved'
           AND i.status IN ('triggered', 'acknowledged')
         ORDER BY a.created_at LIMIT 1",
    )
    .bind(service_id)
    .bind(group_key)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        Some(r) => Some(r.try_get(0)?),
        None => None,
    })
}

/// An incident's alerts, oldest first.
pub async fn for_incident(conn: &mut Conn, incident_id: &str) -> Result<Vec<Alert>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM alerts WHERE incident_id = $1 ORDER BY created_at, id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(incident_id)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(from_row).collect()
}

/// How many of an incident's alerts are in each status: (triggered, acknowledged).
pub async fn open_counts(conn: &mut Conn, incident_id: &str) -> Result<(i64, i64), StoreError> {
    let row = sqlx::query(
        "SELECT COALESCE(SUM(CASE WHEN status = 'triggered' THEN 1 ELSE 0 END), 0),
                COALESCE(SUM(CASE WHEN status = 'acknowledged' THEN 1 ELSE 0 END), 0)
         FROM alerts WHERE incident_id = $1",
    )
    .bind(incident_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

/// Open alerts everywhere (for `/metrics`).
pub async fn count_open(conn: &mut Conn) -> Result<i64, StoreError> {
    Ok(
        sqlx::query("SELECT COUNT(*) FROM alerts WHERE status <> 'resolved'")
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?,
    )
}

/// The outcome of one Opsgenie request, answered by `GET /v2/alerts/requests/{id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeRequest {
    pub id: String,
    pub integration_key_id: String,
    /// `Create`, `Acknowledge`, `Close`, `AddNote`.
    pub action: String,
    pub success: bool,
    pub status: String,
    pub alert_id: Option<String>,
    pub alias: Option<String>,
    pub created_at: Millis,
}

pub async fn insert_request(conn: &mut Conn, r: &IntakeRequest) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO intake_requests (id, integration_key_id, action, success, status, alert_id, alias, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&r.id)
    .bind(&r.integration_key_id)
    .bind(&r.action)
    .bind(i64::from(r.success))
    .bind(&r.status)
    .bind(&r.alert_id)
    .bind(&r.alias)
    .bind(r.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A request of this integration key by id.
pub async fn get_request(
    conn: &mut Conn,
    integration_key_id: &str,
    id: &str,
) -> Result<Option<IntakeRequest>, StoreError> {
    let row = sqlx::query(
        "SELECT id, integration_key_id, action, success, status, alert_id, alias, created_at
         FROM intake_requests WHERE id = $1 AND integration_key_id = $2",
    )
    .bind(id)
    .bind(integration_key_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(IntakeRequest {
        id: r.try_get("id")?,
        integration_key_id: r.try_get("integration_key_id")?,
        action: r.try_get("action")?,
        success: crate::flag(r.try_get("success")?),
        status: r.try_get("status")?,
        alert_id: r.try_get("alert_id")?,
        alias: r.try_get("alias")?,
        created_at: r.try_get("created_at")?,
    }))
}

/// Resolves every open alert of an incident (the incident was resolved); returns how many.
pub async fn resolve_for_incident(
    conn: &mut Conn,
    incident_id: &str,
    now: Millis,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE alerts SET status = 'resolved', resolved_at = $2, last_event_at = $2
         WHERE incident_id = $1 AND status <> 'resolved'",
    )
    .bind(incident_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

//! The notification outbox. Rows are written in the transaction of the decision that
//! causes them (unique idempotency key: a decision replayed writes nothing twice), then
//! claimed with a lease by a delivery worker on any node, sent, and finished as sent,
//! failed (to be retried), dead or cancelled.

use crate::{Conn, StoreError};
use sqlx::Row;
use sqlx::any::AnyRow;
use triad_domain::Millis;

#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: String,
    pub idempotency_key: String,
    pub incident_id: Option<String>,
    /// Why it was sent: `page`, `receipt`, `reporter_update`, `reminder`, `chat`, ….
    pub purpose: String,
    pub user_id: Option<String>,
    /// Who it is for, in words (a person's name, "chat channel").
    pub recipient: String,
    pub channel: String,
    pub address: String,
    pub secret: Option<String>,
    pub subject: String,
    pub body: String,
    pub event: serde_json::Value,
    /// `pending`, `failed`, `sent`, `dead` or `cancelled`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Millis,
    pub lease_until: Option<Millis>,
    pub last_error: Option<String>,
    pub created_at: Millis,
    pub sent_at: Option<Millis>,
}

const COLUMNS: &str = "id, idempotency_key, incident_id, purpose, user_id, recipient, channel, address, secret, \
    subject, body, event, status, attempts, next_attempt_at, lease_until, last_error, created_at, sent_at";

fn from_row(row: &AnyRow) -> Result<Notification, StoreError> {
    let event: String = row.try_get("event")?;
    Ok(Notification {
        id: row.try_get("id")?,
        idempotency_key: row.try_get("idempotency_key")?,
        incident_id: row.try_get("incident_id")?,
        purpose: row.try_get("purpose")?,
        user_id: row.try_get("user_id")?,
        recipient: row.try_get("recipient")?,
        channel: row.try_get("channel")?,
        address: row.try_get("address")?,
        secret: row.try_get("secret")?,
        subject: row.try_get("subject")?,
        body: row.try_get("body")?,
        event: serde_json::from_str(&event)
            .map_err(|e| StoreError::corrupt("notifications.event", e))?,
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        lease_until: row.try_get("lease_until")?,
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        sent_at: row.try_get("sent_at")?,
    })
}

/// Adds `n` to the outbox unless a row with its idempotency key exists; `true` if added.
pub async fn enqueue(conn: &mut Conn, n: &Notification) -> Result<bool, StoreError> {
    let sql = format!(
        "INSERT INTO notifications ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
         $13, $14, $15, $16, $17, $18, $19) ON CONFLICT (idempotency_key) DO NOTHING"
    );
    let done = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&n.id)
        .bind(&n.idempotency_key)
        .bind(&n.incident_id)
        .bind(&n.purpose)
        .bind(&n.user_id)
        .bind(&n.recipient)
        .bind(&n.channel)
        .bind(&n.address)
        .bind(&n.secret)
        .bind(&n.subject)
        .bind(&n.body)
        .bind(n.event.to_string())
        .bind(&n.status)
        .bind(n.attempts)
        .bind(n.next_attempt_at)
        .bind(n.lease_until)
        .bind(&n.last_error)
        .bind(n.created_at)
        .bind(n.sent_at)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Leases up to `limit` notifications due at `now` until `lease_until`. A row whose lease
/// ran out (its worker died mid-send) is due again. The lease conditions are repeated
/// outside the subquery so that PostgreSQL re-checks them on a row another node just
/// claimed, and skips it.
pub async fn claim(
    conn: &mut Conn,
    now: Millis,
    lease_until: Millis,
    limit: u32,
) -> Result<Vec<Notification>, StoreError> {
    let due = "status IN ('pending', 'failed') AND next_attempt_at <= $2 \
               AND (lease_until IS NULL OR lease_until <= $2)";
    let sql = format!(
        "UPDATE notifications SET lease_until = $1
         WHERE id IN (SELECT id FROM notifications WHERE {due} ORDER BY next_attempt_at, id LIMIT $3)
           AND {due}
         RETURNING {COLUMNS}"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(lease_until)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await?;
    let mut out: Vec<Notification> = rows.iter().map(from_row).collect::<Result<_, _>>()?;
    out.sort_by(|a, b| (a.next_attempt_at, &a.id).cmp(&(b.next_attempt_at, &b.id)));
    Ok(out)
}

/// Records the end of an attempt: status, attempt count, next attempt, error, sent time.
/// Releases the lease. Only a row still in a deliverable state changes (a cancelled row
/// stays cancelled).
pub async fn finish(conn: &mut Conn, n: &Notification) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE notifications SET status = $2, attempts = $3, next_attempt_at = $4, last_error = $5,
            sent_at = $6, lease_until = NULL
         WHERE id = $1 AND status IN ('pending', 'failed')",
    )
    .bind(&n.id)
    .bind(&n.status)
    .bind(n.attempts)
    .bind(n.next_attempt_at)
    .bind(&n.last_error)
    .bind(n.sent_at)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Cancels an incident's undelivered notifications of the given purposes (an
/// acknowledged incident stops its pending pages). Returns how many.
pub async fn cancel_pending(
    conn: &mut Conn,
    incident_id: &str,
    purposes: &[&str],
    reason: &str,
) -> Result<u64, StoreError> {
    let marks: Vec<String> = (0..purposes.len()).map(|i| format!("${}", i + 3)).collect();
    let sql = format!(
        "UPDATE notifications SET status = 'cancelled', last_error = $2, lease_until = NULL
         WHERE incident_id = $1 AND status IN ('pending', 'failed') AND purpose IN ({})",
        marks.join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(incident_id)
        .bind(reason);
    for p in purposes {
        q = q.bind(*p);
    }
    Ok(q.execute(&mut *conn).await?.rows_affected())
}

/// An incident's notifications, oldest first.
pub async fn list(conn: &mut Conn, incident_id: &str) -> Result<Vec<Notification>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM notifications WHERE incident_id = $1 ORDER BY created_at, id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(incident_id)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(from_row).collect()
}

pub async fn get(conn: &mut Conn, id: &str) -> Result<Option<Notification>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM notifications WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// How many messages went to one destination since `since` (per-destination rate limit).
pub async fn sent_since(
    conn: &mut Conn,
    channel: &str,
    address: &str,
    since: Millis,
) -> Result<i64, StoreError> {
    Ok(sqlx::query(
        "SELECT COUNT(*) FROM notifications
         WHERE channel = $1 AND address = $2 AND status = 'sent' AND sent_at >= $3",
    )
    .bind(channel)
    .bind(address)
    .bind(since)
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?)
}

/// When the next notification can be claimed: its next attempt, or the end of the lease
/// another worker holds on it.
pub async fn next_due(conn: &mut Conn) -> Result<Option<Millis>, StoreError> {
    Ok(sqlx::query(
        "SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until > next_attempt_at
                         THEN lease_until ELSE next_attempt_at END)
         FROM notifications WHERE status IN ('pending', 'failed')",
    )
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?)
}

/// Cancels undelivered notifications whose idempotency key starts with `prefix` (the
/// pages of one escalation run). Returns how many.
pub async fn cancel_by_key_prefix(
    conn: &mut Conn,
    prefix: &str,
    reason: &str,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE notifications SET status = 'cancelled', last_error = $2, lease_until = NULL
         WHERE idempotency_key LIKE $1 AND status IN ('pending', 'failed')",
    )
    .bind(format!("{prefix}%"))
    .bind(reason)
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

/// How many notifications are in each status (for `/metrics`).
pub async fn count_by_status(conn: &mut Conn) -> Result<Vec<(String, i64)>, StoreError> {
    let rows =
        sqlx::query("SELECT status, COUNT(*) FROM notifications GROUP BY status ORDER BY status")
            .fetch_all(&mut *conn)
            .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// Moves every due, undelivered notification to one destination to `until` (the
/// destination is over its rate limit): the rows this worker claimed (`claimed`, whose
/// leases are released) and the unleased ones. Rows another worker holds are left to
/// it. Returns how many moved.
pub async fn defer_destination(
    conn: &mut Conn,
    channel: &str,
    address: &str,
    claimed: &[&str],
    now: Millis,
    until: Millis,
) -> Result<u64, StoreError> {
    let marks: Vec<String> = (0..claimed.len()).map(|i| format!("${}", i + 5)).collect();
    let mine = if marks.is_empty() {
        String::new()
    } else {
        format!(" OR id IN ({})", marks.join(", "))
    };
    let sql = format!(
        "UPDATE notifications SET next_attempt_at = $4, lease_until = NULL
         WHERE channel = $1 AND address = $2 AND status IN ('pending', 'failed')
           AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until <= $3{mine})"
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(channel)
        .bind(address)
        .bind(now)
        .bind(until);
    for id in claimed {
        q = q.bind(*id);
    }
    Ok(q.execute(&mut *conn).await?.rows_affected())
}

//! Durable timers. A timer is a row named by (kind, subject) with a due time and a
//! generation. Rescheduling replaces the row and bumps the generation; firing deletes the
//! row *with the generation it was read with*, inside the transaction that acts on it, so
//! a timer fires at most once across nodes and restarts, and a stale read does nothing.

use crate::{Conn, StoreError};
use sqlx::Row;
use triad_domain::Millis;

/// A timer as read from the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    pub kind: String,
    pub subject: String,
    pub generation: i64,
    pub due_at: Millis,
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<Timer, StoreError> {
    Ok(Timer {
        kind: r.try_get(0)?,
        subject: r.try_get(1)?,
        generation: r.try_get(2)?,
        due_at: r.try_get(3)?,
    })
}

/// Sets (or moves) the timer `(kind, subject)` to `due_at`.
pub async fn schedule(
    conn: &mut Conn,
    kind: &str,
    subject: &str,
    due_at: Millis,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO timers (kind, subject, generation, due_at) VALUES ($1, $2, 1, $3)
         ON CONFLICT (kind, subject)
         DO UPDATE SET generation = timers.generation + 1, due_at = $3",
    )
    .bind(kind)
    .bind(subject)
    .bind(due_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes the timer `(kind, subject)` if it exists.
pub async fn cancel(conn: &mut Conn, kind: &str, subject: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM timers WHERE kind = $1 AND subject = $2")
        .bind(kind)
        .bind(subject)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Up to `limit` timers due at `now`, earliest first.
pub async fn due(conn: &mut Conn, now: Millis, limit: u32) -> Result<Vec<Timer>, StoreError> {
    let rows = sqlx::query(
        "SELECT kind, subject, generation, due_at FROM timers WHERE due_at <= $1
         ORDER BY due_at, kind, subject LIMIT $2",
    )
    .bind(now)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The earliest due time of any timer.
pub async fn next_due(conn: &mut Conn) -> Result<Option<Millis>, StoreError> {
    let row = sqlx::query("SELECT MIN(due_at) FROM timers")
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get(0)?)
}

/// Every timer whose subject is `subject` or starts with `subject:` (an incident's).
pub async fn for_subject(conn: &mut Conn, subject: &str) -> Result<Vec<Timer>, StoreError> {
    let rows = sqlx::query(
        "SELECT kind, subject, generation, due_at FROM timers
         WHERE subject = $1 OR subject LIKE $2 ORDER BY due_at, kind",
    )
    .bind(subject)
    .bind(format!("{subject}:%"))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// How many timers exist (for `/metrics` and tests).
pub async fn count(conn: &mut Conn) -> Result<i64, StoreError> {
    Ok(sqlx::query("SELECT COUNT(*) FROM timers")
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?)
}

/// Claims timers for firing: deletes each one that still has the generation it was read
/// with, in one statement, and says which of them this transaction claimed (in the
/// order given). `false` means another node fired it, or it was moved or cancelled: do
/// nothing. On PostgreSQL a concurrent claimer waits for the first one's transaction and
/// then finds nothing, so exactly one transaction acts on each timer.
pub async fn take_many(conn: &mut Conn, timers: &[Timer]) -> Result<Vec<bool>, StoreError> {
    if timers.is_empty() {
        return Ok(Vec::new());
    }
    let clauses: Vec<String> = (0..timers.len())
        .map(|i| {
            format!(
                "(kind = ${} AND subject = ${} AND generation = ${})",
                3 * i + 1,
                3 * i + 2,
                3 * i + 3
            )
        })
        .collect();
    let sql = format!(
        "DELETE FROM timers WHERE {} RETURNING kind, subject",
        clauses.join(" OR ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for t in timers {
        q = q.bind(&t.kind).bind(&t.subject).bind(t.generation);
    }
    let taken: Vec<(String, String)> = q
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, StoreError>>()?;
    Ok(timers
        .iter()
        .map(|t| taken.iter().any(|(k, s)| *k == t.kind && *s == t.subject))
        .collect())
}

//! Named counters (incident numbers, the timeline sequence).
//!
//! `UPDATE ... RETURNING` takes the counter's row lock until the transaction ends, so
//! values are handed out in commit order on both backends: a live stream that has seen
//! sequence N can never later meet a smaller one.

use crate::{Conn, StoreError};
use sqlx::Row;

pub const INCIDENT_NUMBER: &str = "incident_number";
pub const TIMELINE_SEQ: &str = "timeline_seq";
/// Taken (with [`next`]) to serialise the first-start bootstrap across nodes.
pub const BOOTSTRAP: &str = "bootstrap";

/// Takes the next value of `name`.
pub async fn next(conn: &mut Conn, name: &str) -> Result<i64, StoreError> {
    let row = sqlx::query("UPDATE counters SET value = value + 1 WHERE name = $1 RETURNING value")
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound("counter"))?;
    Ok(row.try_get::<i64, _>(0)?)
}

/// Takes the next `n` values of `name` at once (for a batch of rows); returns the last
/// of them, so the batch owns `last - n + 1 ..= last`. `n` must be at least 1.
pub async fn advance(conn: &mut Conn, name: &str, n: i64) -> Result<i64, StoreError> {
    if n < 1 {
        return Err(StoreError::Config(format!(
            "counter {name}: cannot take {n} values"
        )));
    }
    let row = sqlx::query("UPDATE counters SET value = value + $2 WHERE name = $1 RETURNING value")
        .bind(name)
        .bind(n)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound("counter"))?;
    Ok(row.try_get::<i64, _>(0)?)
}

/// The last value handed out by `name` (0 when none).
pub async fn current(conn: &mut Conn, name: &str) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT value FROM counters WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound("counter"))?;
    Ok(row.try_get::<i64, _>(0)?)
}

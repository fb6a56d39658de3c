//! Published status updates, per audience.

use crate::{Conn, StoreError};
use sqlx::Row;
use sqlx::any::AnyRow;
use triad_domain::incident::PublicState;
use triad_domain::update::{Audience, StatusUpdate};

const COLUMNS: &str =
    "id, incident_id, audience, state, message, author_id, published_at, due_at, late_by_ms";

fn from_row(row: &AnyRow) -> Result<StatusUpdate, StoreError> {
    let audience: String = row.try_get("audience")?;
    let state: String = row.try_get("state")?;
    Ok(StatusUpdate {
        id: row.try_get("id")?,
        incident_id: row.try_get("incident_id")?,
        audience: Audience::parse(&audience)
            .map_err(|e| StoreError::corrupt("status_updates.audience", e))?,
        state: PublicState::parse(&state)
            .map_err(|e| StoreError::corrupt("status_updates.state", e))?,
        message: row.try_get("message")?,
        author_id: row.try_get("author_id")?,
        published_at: row.try_get("published_at")?,
        due_at: row.try_get("due_at")?,
        late_by_ms: row.try_get("late_by_ms")?,
    })
}

pub async fn insert(conn: &mut Conn, u: &StatusUpdate) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO status_updates (id, incident_id, audience, state, message, author_id, published_at, due_at, late_by_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&u.id)
    .bind(&u.incident_id)
    .bind(u.audience.as_str())
    .bind(u.state.as_str())
    .bind(&u.message)
    .bind(&u.author_id)
    .bind(u.published_at)
    .bind(u.due_at)
    .bind(u.late_by_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An incident's updates, newest first, optionally for one audience only.
pub async fn list(
    conn: &mut Conn,
    incident_id: &str,
    audience: Option<Audience>,
) -> Result<Vec<StatusUpdate>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM status_updates WHERE incident_id = $1 AND ($2 IS NULL OR audience = $2)
         ORDER BY published_at DESC, id DESC"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(incident_id)
        .bind(audience.map(|a| a.as_str()))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(from_row).collect()
}

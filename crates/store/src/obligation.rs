//! Communication obligations: per incident and audience, when the next update is due.

use crate::{Conn, StoreError};
use sqlx::Row;
use sqlx::any::AnyRow;
use triad_domain::obligation::Obligation;
use triad_domain::update::Audience;

fn from_row(row: &AnyRow) -> Result<Obligation, StoreError> {
    let audience: String = row.try_get("audience")?;
    Ok(Obligation {
        audience: Audience::parse(&audience)
            .map_err(|e| StoreError::corrupt("obligations.audience", e))?,
        due_at: row.try_get("due_at")?,
        remind_at: row.try_get("remind_at")?,
        overdue_since: row.try_get("overdue_since")?,
    })
}

/// Inserts or replaces the incident's obligation for `o.audience`.
pub async fn put(conn: &mut Conn, incident_id: &str, o: &Obligation) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO obligations (incident_id, audience, due_at, remind_at, overdue_since)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (incident_id, audience)
         DO UPDATE SET due_at = $3, remind_at = $4, overdue_since = $5",
    )
    .bind(incident_id)
    .bind(o.audience.as_str())
    .bind(o.due_at)
    .bind(o.remind_at)
    .bind(o.overdue_since)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn get(
    conn: &mut Conn,
    incident_id: &str,
    audience: Audience,
) -> Result<Option<Obligation>, StoreError> {
    let row = sqlx::query(
        "SELECT audience, due_at, remind_at, overdue_since FROM obligations
         WHERE incident_id = $1 AND audience = $2",
    )
    .bind(incident_id)
    .bind(audience.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list(conn: &mut Conn, incident_id: &str) -> Result<Vec<Obligation>, StoreError> {
    let rows = sqlx::query(
        "SELECT audience, due_at, remind_at, overdue_since FROM obligations
         WHERE incident_id = $1 ORDER BY audience",
    )
    .bind(incident_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Ends every obligation of an incident (on resolve).
pub async fn clear(conn: &mut Conn, incident_id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM obligations WHERE incident_id = $1")
        .bind(incident_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

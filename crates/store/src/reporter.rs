//! The people who reported an incident and are kept informed about it.

use crate::{Conn, StoreError};
use sqlx::Row;
use sqlx::any::AnyRow;
use triad_domain::Millis;

#[derive(Debug, Clone, PartialEq)]
pub struct Reporter {
    pub id: String,
    pub incident_id: String,
    pub name: String,
    pub email: Option<String>,
    pub webhook: Option<String>,
    pub webhook_secret: Option<String>,
    /// Set when the reporter is a Triad user.
    pub user_id: Option<String>,
    pub created_at: Millis,
}

const COLUMNS: &str = "id, incident_id, name, email, webhook, webhook_secret, user_id, created_at";

fn from_row(row: &AnyRow) -> Result<Reporter, StoreError> {
    Ok(Reporter {
        id: row.try_get("id")?,
        incident_id: row.try_get("incident_id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        webhook: row.try_get("webhook")?,
        webhook_secret: row.try_get("webhook_secret")?,
        user_id: row.try_get("user_id")?,
        created_at: row.try_get("created_at")?,
    })
}

pub async fn insert(conn: &mut Conn, r: &Reporter) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO incident_reporters ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&r.id)
        .bind(&r.incident_id)
        .bind(&r.name)
        .bind(&r.email)
        .bind(&r.webhook)
        .bind(&r.webhook_secret)
        .bind(&r.user_id)
        .bind(r.created_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn list(conn: &mut Conn, incident_id: &str) -> Result<Vec<Reporter>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM incident_reporters WHERE incident_id = $1 ORDER BY created_at, id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(incident_id)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(from_row).collect()
}

//! Technical services: what incidents are about and what alerts are routed to.

use crate::{Conn, StoreError};
use sqlx::Row;
use sqlx::any::AnyRow;
use triad_domain::Millis;
use triad_domain::severity::Severity;

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub team_id: Option<String>,
    /// The escalation policy paged for this service's incidents.
    pub escalation_policy_id: Option<String>,
    /// A Slack- or Mattermost-compatible incoming webhook that mirrors the timeline.
    pub chat_webhook: Option<String>,
    /// The severity of an incident opened by an alert that carries none.
    pub default_severity: Option<Severity>,
    /// Whether an incident opened by alerts resolves itself once they all resolve.
    pub auto_resolve: bool,
    pub created_at: Millis,
    pub updated_at: Millis,
}

const COLUMNS: &str = "id, name, description, team_id, escalation_policy_id, chat_webhook, \
    default_severity, auto_resolve, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<Service, StoreError> {
    Ok(Service {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        team_id: row.try_get("team_id")?,
        escalation_policy_id: row.try_get("escalation_policy_id")?,
        chat_webhook: row.try_get("chat_webhook")?,
        default_severity: row
            .try_get::<Option<String>, _>("default_severity")?
            .map(|s| Severity::parse(&s))
            .transpose()
            .map_err(|e| StoreError::corrupt("services.default_severity", e))?,
        auto_resolve: crate::flag(row.try_get("auto_resolve")?),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn insert(conn: &mut Conn, s: &Service) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO services (id, name, description, team_id, created_at, updated_at,
            escalation_policy_id, chat_webhook, default_severity, auto_resolve)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&s.id)
    .bind(&s.name)
    .bind(&s.description)
    .bind(&s.team_id)
    .bind(s.created_at)
    .bind(s.updated_at)
    .bind(&s.escalation_policy_id)
    .bind(&s.chat_webhook)
    .bind(s.default_severity.map(|v| v.as_str()))
    .bind(i64::from(s.auto_resolve))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn update(conn: &mut Conn, s: &Service) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE services SET name = $2, description = $3, team_id = $4, updated_at = $5,
            escalation_policy_id = $6, chat_webhook = $7, default_severity = $8, auto_resolve = $9
         WHERE id = $1",
    )
    .bind(&s.id)
    .bind(&s.name)
    .bind(&s.description)
    .bind(&s.team_id)
    .bind(s.updated_at)
    .bind(&s.escalation_policy_id)
    .bind(&s.chat_webhook)
    .bind(s.default_severity.map(|v| v.as_str()))
    .bind(i64::from(s.auto_resolve))
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("service"));
    }
    Ok(())
}

pub async fn get(conn: &mut Conn, id: &str) -> Result<Option<Service>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM services WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn get_by_name(conn: &mut Conn, name: &str) -> Result<Option<Service>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM services WHERE name = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list(conn: &mut Conn) -> Result<Vec<Service>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM services ORDER BY name");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Deletes a service; refused with [`StoreError::InUse`] while incidents name it.
pub async fn delete(conn: &mut Conn, id: &str) -> Result<(), StoreError> {
    // Its integration keys go with it (a key that routed alerts keeps it in use).
    sqlx::query(
        "DELETE FROM integration_keys WHERE service_id = $1
           AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.integration_key_id = integration_keys.id)",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM business_service_dependencies WHERE service_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let done = sqlx::query("DELETE FROM services WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("service"));
    }
    Ok(())
}

/// The chat webhook of the service an incident is about, if it names one.
pub async fn chat_webhook_of_incident(
    conn: &mut Conn,
    incident_id: &str,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query(
        "SELECT s.chat_webhook FROM incidents i JOIN services s ON s.id = i.service_id
         WHERE i.id = $1",
    )
    .bind(incident_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        Some(r) => r.try_get(0)?,
        None => None,
    })
}

//! Message templates per audience and stage (MiniJinja source, checked by `app`).

use crate::{Conn, StoreError};
use sqlx::Row;
use triad_domain::Millis;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub audience: String,
    pub stage: String,
    pub subject: String,
    pub body: String,
    pub updated_at: Millis,
    pub updated_by: Option<String>,
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<Template, StoreError> {
    Ok(Template {
        audience: r.try_get(0)?,
        stage: r.try_get(1)?,
        subject: r.try_get(2)?,
        body: r.try_get(3)?,
        updated_at: r.try_get(4)?,
        updated_by: r.try_get(5)?,
    })
}

pub async fn get(
    conn: &mut Conn,
    audience: &str,
    stage: &str,
) -> Result<Option<Template>, StoreError> {
    let row = sqlx::query(
        "SELECT audience, stage, subject, body, updated_at, updated_by FROM message_templates
         WHERE audience = $1 AND stage = $2",
    )
    .bind(audience)
    .bind(stage)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list(conn: &mut Conn) -> Result<Vec<Template>, StoreError> {
    let rows = sqlx::query(
        "SELECT audience, stage, subject, body, updated_at, updated_by FROM message_templates
         ORDER BY audience, stage",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Sets (or replaces) the template of an audience and stage.
pub async fn put(conn: &mut Conn, t: &Template) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO message_templates (audience, stage, subject, body, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (audience, stage) DO UPDATE SET subject = $3, body = $4, updated_at = $5,
            updated_by = $6",
    )
    .bind(&t.audience)
    .bind(&t.stage)
    .bind(&t.subject)
    .bind(&t.body)
    .bind(t.updated_at)
    .bind(&t.updated_by)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes a template (the built-in words apply again).
pub async fn delete(conn: &mut Conn, audience: &str, stage: &str) -> Result<(), StoreError> {
    let done = sqlx::query("DELETE FROM message_templates WHERE audience = $1 AND stage = $2")
        .bind(audience)
        .bind(stage)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("template"));
    }
    Ok(())
}

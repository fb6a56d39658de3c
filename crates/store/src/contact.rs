//! Contact methods (how a person can be reached) and notification rules (which method,
//! after what delay, for which urgency).

use crate::{Conn, StoreError};
use sqlx::Row;
use sqlx::any::AnyRow;
use triad_domain::Millis;

#[derive(Debug, Clone, PartialEq)]
pub struct ContactMethod {
    pub id: String,
    pub user_id: String,
    /// `email`, `webhook`, `slack`, `sms` or `voice`.
    pub kind: String,
    pub address: String,
    pub label: Option<String>,
    /// The signing secret of a webhook method.
    pub secret: Option<String>,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    pub user_id: String,
    pub contact_method_id: String,
    pub delay_seconds: i64,
    /// `high`, `low` or `any`.
    pub urgency: String,
    pub created_at: Millis,
}

const METHOD_COLUMNS: &str = "id, user_id, type, address, label, secret, created_at";
const RULE_COLUMNS: &str = "id, user_id, contact_method_id, delay_seconds, urgency, created_at";

fn method_from_row(row: &AnyRow) -> Result<ContactMethod, StoreError> {
    Ok(ContactMethod {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        kind: row.try_get("type")?,
        address: row.try_get("address")?,
        label: row.try_get("label")?,
        secret: row.try_get("secret")?,
        created_at: row.try_get("created_at")?,
    })
}

fn rule_from_row(row: &AnyRow) -> Result<Rule, StoreError> {
    Ok(Rule {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        contact_method_id: row.try_get("contact_method_id")?,
        delay_seconds: row.try_get("delay_seconds")?,
        urgency: row.try_get("urgency")?,
        created_at: row.try_get("created_at")?,
    })
}

pub async fn insert_method(conn: &mut Conn, m: &ContactMethod) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO contact_methods ({METHOD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&m.id)
        .bind(&m.user_id)
        .bind(&m.kind)
        .bind(&m.address)
        .bind(&m.label)
        .bind(&m.secret)
        .bind(m.created_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn methods(conn: &mut Conn, user_id: &str) -> Result<Vec<ContactMethod>, StoreError> {
    let sql = format!(
        "SELECT {METHOD_COLUMNS} FROM contact_methods WHERE user_id = $1 ORDER BY created_at, id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(method_from_row).collect()
}

/// Deletes one of `user_id`'s methods (and, by cascade, the rules that use it).
pub async fn delete_method(conn: &mut Conn, user_id: &str, id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM notification_rules WHERE contact_method_id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    let done = sqlx::query("DELETE FROM contact_methods WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("contact method"));
    }
    Ok(())
}

pub async fn insert_rule(conn: &mut Conn, r: &Rule) -> Result<(), StoreError> {
    let sql =
        format!("INSERT INTO notification_rules ({RULE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&r.id)
        .bind(&r.user_id)
        .bind(&r.contact_method_id)
        .bind(r.delay_seconds)
        .bind(&r.urgency)
        .bind(r.created_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn rules(conn: &mut Conn, user_id: &str) -> Result<Vec<Rule>, StoreError> {
    let sql = format!(
        "SELECT {RULE_COLUMNS} FROM notification_rules WHERE user_id = $1
         ORDER BY delay_seconds, created_at, id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(rule_from_row).collect()
}

pub async fn delete_rule(conn: &mut Conn, user_id: &str, id: &str) -> Result<(), StoreError> {
    let done = sqlx::query("DELETE FROM notification_rules WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("notification rule"));
    }
    Ok(())
}

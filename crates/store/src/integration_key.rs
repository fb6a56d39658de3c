//! Integration keys: the routing keys, GenieKeys and webhook path keys that route alerts
//! to a service. Only a key's SHA-256 is stored; the key itself is shown once.

use crate::{Conn, StoreError};
use sqlx::Row;
use sqlx::any::AnyRow;
use triad_domain::Millis;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationKey {
    pub id: String,
    pub service_id: String,
    pub name: Option<String>,
    /// The first characters of the key, to tell keys apart in listings.
    pub key_prefix: String,
    /// The generic webhook's field mapping (JSON), when one was set.
    pub mapping: Option<String>,
    pub rate_limit_per_minute: i64,
    pub created_at: Millis,
    pub created_by: Option<String>,
    pub revoked_at: Option<Millis>,
}

const COLUMNS: &str = "id, service_id, name, key_prefix, mapping, rate_limit_per_minute, \
    created_at, created_by, revoked_at";

fn from_row(row: &AnyRow) -> Result<IntegrationKey, StoreError> {
    Ok(IntegrationKey {
        id: row.try_get("id")?,
        service_id: row.try_get("service_id")?,
        name: row.try_get("name")?,
        key_prefix: row.try_get("key_prefix")?,
        mapping: row.try_get("mapping")?,
        rate_limit_per_minute: row.try_get("rate_limit_per_minute")?,
        created_at: row.try_get("created_at")?,
        created_by: row.try_get("created_by")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

pub async fn insert(conn: &mut Conn, k: &IntegrationKey, key_hash: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO integration_keys (id, service_id, name, key_hash, key_prefix, mapping,
            rate_limit_per_minute, created_at, created_by, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&k.id)
    .bind(&k.service_id)
    .bind(&k.name)
    .bind(key_hash)
    .bind(&k.key_prefix)
    .bind(&k.mapping)
    .bind(k.rate_limit_per_minute)
    .bind(k.created_at)
    .bind(&k.created_by)
    .bind(k.revoked_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The key whose SHA-256 is `key_hash`, revoked or not.
pub async fn by_hash(
    conn: &mut Conn,
    key_hash: &str,
) -> Result<Option<IntegrationKey>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM integration_keys WHERE key_hash = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(key_hash)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// A service's keys, oldest first.
pub async fn for_service(
    conn: &mut Conn,
    service_id: &str,
) -> Result<Vec<IntegrationKey>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM integration_keys WHERE service_id = $1 ORDER BY created_at, id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(service_id)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Revokes a key of a service; revoking twice keeps the first time.
pub async fn revoke(
    conn: &mut Conn,
    service_id: &str,
    id: &str,
    now: Millis,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE integration_keys SET revoked_at = COALESCE(revoked_at, $3)
         WHERE service_id = $1 AND id = $2",
    )
    .bind(service_id)
    .bind(id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("integration key"));
    }
    Ok(())
}

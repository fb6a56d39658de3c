//! Severity policies set through the API (a severity without a row runs on the
//! configuration file's policy).

use crate::{Conn, StoreError};
use sqlx::Row;
use triad_domain::Millis;
use triad_domain::policy::SeverityPolicy;
use triad_domain::severity::Severity;

pub async fn get(
    conn: &mut Conn,
    severity: Severity,
) -> Result<Option<SeverityPolicy>, StoreError> {
    let row = sqlx::query("SELECT policy FROM severity_policies WHERE severity = $1")
        .bind(severity.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(r) => {
            let s: String = r.try_get(0)?;
            serde_json::from_str(&s)
                .map(Some)
                .map_err(|e| StoreError::corrupt("severity_policies.policy", e))
        }
        None => Ok(None),
    }
}

pub async fn put(
    conn: &mut Conn,
    severity: Severity,
    policy: &SeverityPolicy,
    by: Option<&str>,
    now: Millis,
) -> Result<(), StoreError> {
    let json = serde_json::to_string(policy)
        .map_err(|e| StoreError::corrupt("severity_policies.policy", e))?;
    sqlx::query(
        "INSERT INTO severity_policies (severity, policy, updated_at, updated_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (severity) DO UPDATE SET policy = $2, updated_at = $3, updated_by = $4",
    )
    .bind(severity.as_str())
    .bind(json)
    .bind(now)
    .bind(by)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

//! Business impact: an incident's impact on each business service it affects, and the
//! administrator's overrides of the impact × tier severity matrix.

use crate::{Conn, StoreError};
use sqlx::Row;
use sqlx::any::AnyRow;
use triad_domain::Millis;
use triad_domain::severity::Severity;
use triad_domain::status::Impact;

/// One row of an incident's impact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentImpact {
    pub incident_id: String,
    pub business_service_id: String,
    pub impact: Impact,
    pub customers_affected: Option<i64>,
    pub updated_at: Millis,
    pub updated_by: Option<String>,
}

const COLUMNS: &str =
    "incident_id, business_service_id, impact, customers_affected, updated_at, updated_by";

pub(crate) fn from_row(row: &AnyRow) -> Result<IncidentImpact, StoreError> {
    let impact: String = row.try_get("impact")?;
    Ok(IncidentImpact {
        incident_id: row.try_get("incident_id")?,
        business_service_id: row.try_get("business_service_id")?,
        impact: Impact::parse(&impact)
            .map_err(|e| StoreError::corrupt("incident_impacts.impact", e))?,
        customers_affected: row.try_get("customers_affected")?,
        updated_at: row.try_get("updated_at")?,
        updated_by: row.try_get("updated_by")?,
    })
}

/// Replaces the incident's impact with `rows` (all for `incident_id`).
pub async fn replace(
    conn: &mut Conn,
    incident_id: &str,
    rows: &[IncidentImpact],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM incident_impacts WHERE incident_id = $1")
        .bind(incident_id)
        .execute(&mut *conn)
        .await?;
    for r in rows {
        let sql =
            format!("INSERT INTO incident_impacts ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(incident_id)
            .bind(&r.business_service_id)
            .bind(r.impact.as_str())
            .bind(r.customers_affected)
            .bind(r.updated_at)
            .bind(&r.updated_by)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The incident's impact, most severe first, then by business service id.
pub async fn list(conn: &mut Conn, incident_id: &str) -> Result<Vec<IncidentImpact>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM incident_impacts WHERE incident_id = $1");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(incident_id)
        .fetch_all(&mut *conn)
        .await?;
    let mut list = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    list.sort_by(|a, b| {
        b.impact
            .cmp(&a.impact)
            .then_with(|| a.business_service_id.cmp(&b.business_service_id))
    });
    Ok(list)
}

/// The ids of the incidents that record an impact on a business service.
pub async fn incidents_of(
    conn: &mut Conn,
    business_service_id: &str,
) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query(
        "SELECT incident_id FROM incident_impacts WHERE business_service_id = $1 ORDER BY incident_id",
    )
    .bind(business_service_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| r.try_get(0).map_err(StoreError::from))
        .collect()
}

/// The worst impact of each of the given incidents that has any (for ordering lists).
pub async fn worst_of(
    conn: &mut Conn,
    incident_ids: &[String],
) -> Result<std::collections::HashMap<String, Impact>, StoreError> {
    let mut worst = std::collections::HashMap::new();
    for chunk in incident_ids.chunks(500) {
        let marks: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT incident_id, impact FROM incident_impacts WHERE incident_id IN ({})",
            marks.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(id);
        }
        for row in q.fetch_all(&mut *conn).await? {
            let id: String = row.try_get(0)?;
            let impact: String = row.try_get(1)?;
            let impact = Impact::parse(&impact)
                .map_err(|e| StoreError::corrupt("incident_impacts.impact", e))?;
            let slot = worst.entry(id).or_insert(impact);
            *slot = (*slot).max(impact);
        }
    }
    Ok(worst)
}

/// The administrator's matrix cells (those that differ from the built-in defaults are
/// what give the matrix its shape; every stored cell is returned).
pub async fn matrix(conn: &mut Conn) -> Result<Vec<(Impact, i64, Severity)>, StoreError> {
    let rows =
        sqlx::query("SELECT impact, tier, severity FROM impact_matrix ORDER BY impact, tier")
            .fetch_all(&mut *conn)
            .await?;
    rows.iter()
        .map(|r| {
            let impact: String = r.try_get(0)?;
            let severity: String = r.try_get(2)?;
            Ok((
                Impact::parse(&impact)
                    .map_err(|e| StoreError::corrupt("impact_matrix.impact", e))?,
                r.try_get(1)?,
                Severity::parse(&severity)
                    .map_err(|e| StoreError::corrupt("impact_matrix.severity", e))?,
            ))
        })
        .collect()
}

/// Replaces the stored matrix cells.
pub async fn set_matrix(
    conn: &mut Conn,
    cells: &[(Impact, i64, Severity)],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM impact_matrix")
        .execute(&mut *conn)
        .await?;
    for (impact, tier, severity) in cells {
        sqlx::query("INSERT INTO impact_matrix (impact, tier, severity) VALUES ($1, $2, $3)")
            .bind(impact.as_str())
            .bind(*tier)
            .bind(severity.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

//! Support reports: human reports absorbed by incidents, each with its reporter.

use crate::{Conn, StoreError};
use sqlx::Row;
use sqlx::any::AnyRow;
use triad_domain::Millis;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub id: String,
    pub incident_id: String,
    /// The `incident_reporters` row subscribed by this report.
    pub reporter_id: String,
    pub text: String,
    pub external_ref: Option<String>,
    pub service_id: Option<String>,
    pub business_service_id: Option<String>,
    /// How it found its incident: `named`, `dedup_key`, `external_ref`, `text`, `new`.
    pub matched_by: String,
    pub created_by: Option<String>,
    pub created_at: Millis,
}

const COLUMNS: &str = "id, incident_id, reporter_id, text, external_ref, service_id, \
    business_service_id, matched_by, created_by, created_at";

fn from_row(row: &AnyRow) -> Result<Report, StoreError> {
    Ok(Report {
        id: row.try_get("id")?,
        incident_id: row.try_get("incident_id")?,
        reporter_id: row.try_get("reporter_id")?,
        text: row.try_get("text")?,
        external_ref: row.try_get("external_ref")?,
        service_id: row.try_get("service_id")?,
        business_service_id: row.try_get("business_service_id")?,
        matched_by: row.try_get("matched_by")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
    })
}

pub async fn insert(conn: &mut Conn, r: &Report) -> Result<(), StoreError> {
    let sql =
        format!("INSERT INTO reports ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&r.id)
        .bind(&r.incident_id)
        .bind(&r.reporter_id)
        .bind(&r.text)
        .bind(&r.external_ref)
        .bind(&r.service_id)
        .bind(&r.business_service_id)
        .bind(&r.matched_by)
        .bind(&r.created_by)
        .bind(r.created_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// An incident's reports, oldest first.
pub async fn for_incident(conn: &mut Conn, incident_id: &str) -> Result<Vec<Report>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM reports WHERE incident_id = $1 ORDER BY created_at, id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(incident_id)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(from_row).collect()
}

/// How many reports an incident absorbed.
pub async fn count_for_incident(conn: &mut Conn, incident_id: &str) -> Result<i64, StoreError> {
    Ok(
        sqlx::query("SELECT COUNT(*) FROM reports WHERE incident_id = $1")
            .bind(incident_id)
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?,
    )
}

/// The open reports that could describe the same outage: those of open incidents about
/// these services or business services (for text matching), newest first, at most 200.
pub async fn open_candidates(
    conn: &mut Conn,
    service_ids: &[String],
    business_service_ids: &[String],
) -> Result<Vec<Report>, StoreError> {
    if service_ids.is_empty() && business_service_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut marks = Vec::new();
    let mut n = 1;
    let mut clause = |column: &str, count: usize| {
        let m: Vec<String> = (n..n + count).map(|i| format!("${i}")).collect();
        n += count;
        format!(
            "r.{column} IN ({})",
            if m.is_empty() {
                "NULL".into()
            } else {
                m.join(", ")
            }
        )
    };
    marks.push(clause("service_id", service_ids.len()));
    marks.push(clause("business_service_id", business_service_ids.len()));
    let columns: Vec<String> = COLUMNS
        .split(", ")
        .map(|c| format!("r.{}", c.trim()))
        .collect();
    let sql = format!(
        "SELECT {} FROM reports r JOIN incidents i ON i.id = r.incident_id
         WHERE i.status IN ('triggered', 'acknowledged') AND ({})
         ORDER BY r.created_at DESC LIMIT 200",
        columns.join(", "),
        marks.join(" OR ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in service_ids.iter().chain(business_service_ids) {
        q = q.bind(id);
    }
    let rows = q.fetch_all(&mut *conn).await?;
    rows.iter().map(from_row).collect()
}

/// The open incident that already absorbed a report with this external reference.
pub async fn open_incident_by_ref(
    conn: &mut Conn,
    external_ref: &str,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query(
        "SELECT r.incident_id FROM reports r JOIN incidents i ON i.id = r.incident_id
         WHERE r.external_ref = $1 AND i.status IN ('triggered', 'acknowledged')
         ORDER BY r.created_at DESC LIMIT 1",
    )
    .bind(external_ref)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        Some(r) => Some(r.try_get(0)?),
        None => None,
    })
}

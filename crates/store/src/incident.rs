//! Incidents: insert, load (also under lock), save, and filtered, paginated listing.

use crate::{Conn, StoreError};
use sqlx::Row;
use sqlx::any::AnyRow;
use triad_domain::incident::{Incident, PublicState, Status};
use triad_domain::severity::Severity;

const COLUMNS: &str = "id, number, title, description, severity, status, public_state, service_id, \
    created_by, created_at, updated_at, ack_due_at, acknowledged_at, acknowledged_by, resolved_at, resolved_by, communication_gap_at, update_requests, understaffed_since";

fn from_row(row: &AnyRow) -> Result<Incident, StoreError> {
    let severity: String = row.try_get("severity")?;
    let status: String = row.try_get("status")?;
    let public_state: String = row.try_get("public_state")?;
    Ok(Incident {
        id: row.try_get("id")?,
        number: row.try_get("number")?,
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        severity: Severity::parse(&severity)
            .map_err(|e| StoreError::corrupt("incidents.severity", e))?,
        status: Status::parse(&status).map_err(|e| StoreError::corrupt("incidents.status", e))?,
        public_state: PublicState::parse(&public_state)
            .map_err(|e| StoreError::corrupt("incidents.public_state", e))?,
        service_id: row.try_get("service_id")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        ack_due_at: row.try_get("ack_due_at")?,
        acknowledged_at: row.try_get("acknowledged_at")?,
        acknowledged_by: row.try_get("acknowledged_by")?,
        resolved_at: row.try_get("resolved_at")?,
        resolved_by: row.try_get("resolved_by")?,
        communication_gap_at: row.try_get("communication_gap_at")?,
        update_requests: row.try_get("update_requests")?,
        understaffed_since: row.try_get("understaffed_since")?,
    })
}

pub async fn insert(conn: &mut Conn, i: &Incident) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO incidents ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&i.id)
        .bind(i.number)
        .bind(&i.title)
        .bind(&i.description)
        .bind(i.severity.as_str())
        .bind(i.status.as_str())
        .bind(i.public_state.as_str())
        .bind(&i.service_id)
        .bind(&i.created_by)
        .bind(i.created_at)
        .bind(i.updated_at)
        .bind(i.ack_due_at)
        .bind(i.acknowledged_at)
        .bind(&i.acknowledged_by)
        .bind(i.resolved_at)
        .bind(&i.resolved_by)
        .bind(i.communication_gap_at)
        .bind(i.update_requests)
        .bind(i.understaffed_since)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Writes every mutable field of `i`.
pub async fn save(conn: &mut Conn, i: &Incident) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE incidents SET title = $2, description = $3, severity = $4, status = $5, public_state = $6,
            service_id = $7, updated_at = $8, ack_due_at = $9, acknowledged_at = $10, acknowledged_by = $11,
            resolved_at = $12, resolved_by = $13, communication_gap_at = $14, update_requests = $15,
            understaffed_since = $16
         WHERE id = $1",
    )
    .bind(&i.id)
    .bind(&i.title)
    .bind(&i.description)
    .bind(i.severity.as_str())
    .bind(i.status.as_str())
    .bind(i.public_state.as_str())
    .bind(&i.service_id)
    .bind(i.updated_at)
    .bind(i.ack_due_at)
    .bind(i.acknowledged_at)
    .bind(&i.acknowledged_by)
    .bind(i.resolved_at)
    .bind(&i.resolved_by)
    .bind(i.communication_gap_at)
    .bind(i.update_requests)
    .bind(i.understaffed_since)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("incident"));
    }
    Ok(())
}

/// Runs `sql` (which ends in a `WHERE` on `{key}`) for an incident named by its
/// number (`42`) or its id, and reads the row it returns.
async fn fetch_by_key(
    conn: &mut Conn,
    sql: &str,
    key: &str,
) -> Result<Option<Incident>, StoreError> {
    let (clause, number) = match key.parse::<i64>() {
        Ok(n) => ("number = $1", Some(n)),
        Err(_) => ("id = $1", None),
    };
    let sql = sql.replace("{key}", clause);
    let q = sqlx::query(sqlx::AssertSqlSafe(sql));
    let q = match number {
        Some(n) => q.bind(n),
        None => q.bind(key),
    };
    let row = q.fetch_optional(&mut *conn).await?;
    row.as_ref().map(from_row).transpose()
}

/// Loads an incident by number or id.
pub async fn get(conn: &mut Conn, key: &str) -> Result<Option<Incident>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM incidents WHERE {{key}}");
    fetch_by_key(conn, &sql, key).await
}

/// Loads an incident inside a write transaction and locks its row until the
/// transaction ends, so concurrent decisions about one incident run one after the
/// other. The portable form of `SELECT ... FOR UPDATE`: a no-op `UPDATE ... RETURNING`
/// takes the row lock on PostgreSQL; SQLite's writer lock already serialises.
pub async fn lock(conn: &mut Conn, key: &str) -> Result<Option<Incident>, StoreError> {
    let sql =
        format!("UPDATE incidents SET updated_at = updated_at WHERE {{key}} RETURNING {COLUMNS}");
    fetch_by_key(conn, &sql, key).await
}

/// What to list: optional filters, newest first, a page at a time.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub statuses: Vec<Status>,
    pub severities: Vec<Severity>,
    /// Only incidents with a number below this (the cursor of the previous page).
    pub before_number: Option<i64>,
    pub limit: u32,
    /// Most severe business impact first (see [`impact_rank`]), then newest; with
    /// `before_number`, the cursor is `(before_rank, before_number)`.
    pub by_impact: bool,
    pub before_rank: Option<i64>,
}

/// An incident's worst business impact as a number: 4 major outage, 3 partial outage,
/// 2 degraded, 1 none, 0 not assessed.
pub const IMPACT_RANK: &str = "COALESCE((SELECT MAX(CASE x.impact WHEN 'major_outage' THEN 4 \
    WHEN 'partial_outage' THEN 3 WHEN 'degraded' THEN 2 ELSE 1 END) FROM incident_impacts x \
    WHERE x.incident_id = incidents.id), 0)";

/// The rank [`IMPACT_RANK`] gives an incident whose worst impact is `impact`.
pub fn impact_rank(impact: Option<triad_domain::status::Impact>) -> i64 {
    use triad_domain::status::Impact;
    match impact {
        None => 0,
        Some(Impact::None) => 1,
        Some(Impact::Degraded) => 2,
        Some(Impact::PartialOutage) => 3,
        Some(Impact::MajorOutage) => 4,
    }
}

pub async fn list(conn: &mut Conn, f: &Filter) -> Result<Vec<Incident>, StoreError> {
    // Filters are bound as parameters; the placeholders are generated, never the values.
    let mut clauses = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    let mut next = 1;
    for (column, values) in [
        (
            "status",
            f.statuses
                .iter()
                .map(|s| s.as_str().to_string())
                .collect::<Vec<_>>(),
        ),
        (
            "severity",
            f.severities
                .iter()
                .map(|s| s.as_str().to_string())
                .collect(),
        ),
    ] {
        if values.is_empty() {
            continue;
        }
        let marks: Vec<String> = (next..next + values.len())
            .map(|n| format!("${n}"))
            .collect();
        next += values.len();
        clauses.push(format!("{column} IN ({})", marks.join(", ")));
        binds.extend(values);
    }
    let ranked = f.by_impact && f.before_rank.is_some();
    if f.before_number.is_some() {
        if ranked {
            let (r, n) = (next, next + 1);
            clauses.push(format!(
                "(impact_rank < ${r} OR (impact_rank = ${r} AND number < ${n}))"
            ));
            next += 2;
        } else {
            clauses.push(format!("number < ${next}"));
            next += 1;
        }
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let sql = if f.by_impact {
        format!(
            "SELECT * FROM (SELECT {COLUMNS}, {IMPACT_RANK} AS impact_rank FROM incidents) ranked
             {filter} ORDER BY impact_rank DESC, number DESC LIMIT ${next}"
        )
    } else {
        format!("SELECT {COLUMNS} FROM incidents {filter} ORDER BY number DESC LIMIT ${next}")
    };
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in binds {
        q = q.bind(b);
    }
    if let Some(n) = f.before_number {
        if ranked {
            q = q.bind(f.before_rank.unwrap_or_default());
        }
        q = q.bind(n);
    }
    let rows = q.bind(i64::from(f.limit)).fetch_all(&mut *conn).await?;
    rows.iter().map(from_row).collect()
}

/// How many incidents are in each status (for `/metrics`).
pub async fn count_by_status(conn: &mut Conn) -> Result<Vec<(Status, i64)>, StoreError> {
    let rows = sqlx::query("SELECT status, COUNT(*) FROM incidents GROUP BY status")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            let s: String = r.try_get(0)?;
            let status =
                Status::parse(&s).map_err(|e| StoreError::corrupt("incidents.status", e))?;
            Ok((status, r.try_get::<i64, _>(1)?))
        })
        .collect()
}

/// Ids of a service's open (triggered or acknowledged) incidents, oldest first.
pub async fn open_for_service(
    conn: &mut Conn,
    service_id: &str,
) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query(
        "SELECT id FROM incidents WHERE service_id = $1 AND status IN ('triggered', 'acknowledged')
         ORDER BY number",
    )
    .bind(service_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
}

//! Role assignments on incidents. Rows are only ever opened and closed, never rewritten.

use crate::{Conn, StoreError};
use sqlx::Row;
use sqlx::any::AnyRow;
use triad_domain::Millis;
use triad_domain::role::{IncidentRole, RoleAssignment};

const COLUMNS: &str = "id, incident_id, role, user_id, assumed_at, released_at, assigned_by, released_by, handover_note";

fn from_row(row: &AnyRow) -> Result<RoleAssignment, StoreError> {
    let role: String = row.try_get("role")?;
    Ok(RoleAssignment {
        id: row.try_get("id")?,
        incident_id: row.try_get("incident_id")?,
        role: IncidentRole::parse(&role)
            .map_err(|e| StoreError::corrupt("incident_roles.role", e))?,
        user_id: row.try_get("user_id")?,
        assumed_at: row.try_get("assumed_at")?,
        released_at: row.try_get("released_at")?,
        assigned_by: row.try_get("assigned_by")?,
        released_by: row.try_get("released_by")?,
        handover_note: row.try_get("handover_note")?,
    })
}

pub async fn open(conn: &mut Conn, a: &RoleAssignment) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO incident_roles (id, incident_id, role, user_id, assumed_at, assigned_by)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&a.id)
    .bind(&a.incident_id)
    .bind(a.role.as_str())
    .bind(&a.user_id)
    .bind(a.assumed_at)
    .bind(&a.assigned_by)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Closes an active assignment with an optional handover note.
pub async fn close(
    conn: &mut Conn,
    assignment_id: &str,
    released_by: &str,
    note: Option<&str>,
    now: Millis,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE incident_roles SET released_at = $2, released_by = $3, handover_note = $4
         WHERE id = $1 AND released_at IS NULL",
    )
    .bind(assignment_id)
    .bind(now)
    .bind(released_by)
    .bind(note)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("active role assignment"));
    }
    Ok(())
}

/// An assignment with the holder's current name and email, for display.
#[derive(Debug, Clone, PartialEq)]
pub struct Holder {
    pub assignment: RoleAssignment,
    pub user_name: String,
    pub user_email: String,
}

/// Every assignment of an incident, oldest first; `active_only` leaves out released rows.
pub async fn list(
    conn: &mut Conn,
    incident_id: &str,
    active_only: bool,
) -> Result<Vec<Holder>, StoreError> {
    let filter = if active_only {
        "AND r.released_at IS NULL"
    } else {
        ""
    };
    let columns: Vec<String> = COLUMNS.split(", ").map(|c| format!("r.{c}")).collect();
    let sql = format!(
        "SELECT {}, u.name AS user_name, u.email AS user_email
         FROM incident_roles r JOIN users u ON u.id = r.user_id
         WHERE r.incident_id = $1 {filter} ORDER BY r.assumed_at, r.id",
        columns.join(", ")
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(incident_id)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Holder {
                assignment: from_row(r)?,
                user_name: r.try_get("user_name")?,
                user_email: r.try_get("user_email")?,
            })
        })
        .collect()
}

//! Business services: customer-facing capabilities with a criticality tier, the customers
//! they serve, stakeholder groups to inform, and the technical services they depend on.

use crate::{Conn, StoreError};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use triad_domain::Millis;

/// People to inform about a business service: by email and/or a chat webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StakeholderGroup {
    pub name: String,
    #[serde(default)]
    pub emails: Vec<String>,
    #[serde(default)]
    pub chat_webhook: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessService {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// 1 (most critical) to 4.
    pub tier: i64,
    pub customers_served: Option<String>,
    pub stakeholder_groups: Vec<StakeholderGroup>,
    /// Ids of the technical services it depends on.
    pub services: Vec<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

const COLUMNS: &str =
    "id, name, description, tier, customers_served, stakeholder_groups, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<BusinessService, StoreError> {
    let groups: String = row.try_get("stakeholder_groups")?;
    Ok(BusinessService {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        tier: row.try_get("tier")?,
        customers_served: row.try_get("customers_served")?,
        stakeholder_groups: serde_json::from_str(&groups)
            .map_err(|e| StoreError::corrupt("business_services.stakeholder_groups", e))?,
        services: Vec::new(),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn groups_json(b: &BusinessService) -> Result<String, StoreError> {
    serde_json::to_string(&b.stakeholder_groups)
        .map_err(|e| StoreError::corrupt("business_services.stakeholder_groups", e))
}

async fn set_services(conn: &mut Conn, b: &BusinessService) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM business_service_dependencies WHERE business_service_id = $1")
        .bind(&b.id)
        .execute(&mut *conn)
        .await?;
    for sid in &b.services {
        sqlx::query(
            "INSERT INTO business_service_dependencies (business_service_id, service_id) VALUES ($1, $2)",
        )
        .bind(&b.id)
        .bind(sid)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Inserts the business service and its dependencies.
pub async fn insert(conn: &mut Conn, b: &BusinessService) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO business_services ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&b.id)
        .bind(&b.name)
        .bind(&b.description)
        .bind(b.tier)
        .bind(&b.customers_served)
        .bind(groups_json(b)?)
        .bind(b.created_at)
        .bind(b.updated_at)
        .execute(&mut *conn)
        .await?;
    set_services(conn, b).await
}

/// Writes every field and replaces the dependencies.
pub async fn update(conn: &mut Conn, b: &BusinessService) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE business_services SET name = $2, description = $3, tier = $4, customers_served = $5,
            stakeholder_groups = $6, updated_at = $7 WHERE id = $1",
    )
    .bind(&b.id)
    .bind(&b.name)
    .bind(&b.description)
    .bind(b.tier)
    .bind(&b.customers_served)
    .bind(groups_json(b)?)
    .bind(b.updated_at)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("business service"));
    }
    set_services(conn, b).await
}

async fn attach(conn: &mut Conn, list: &mut [BusinessService]) -> Result<(), StoreError> {
    let rows = sqlx::query(
        "SELECT business_service_id, service_id FROM business_service_dependencies
         ORDER BY business_service_id, service_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    for r in rows {
        let bid: String = r.try_get(0)?;
        if let Some(b) = list.iter_mut().find(|b| b.id == bid) {
            b.services.push(r.try_get(1)?);
        }
    }
    Ok(())
}

/// A business service by id or name.
pub async fn find(conn: &mut Conn, key: &str) -> Result<Option<BusinessService>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM business_services WHERE id = $1 OR name = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut one = [from_row(&row)?];
    let deps = sqlx::query(
        "SELECT service_id FROM business_service_dependencies WHERE business_service_id = $1
         ORDER BY service_id",
    )
    .bind(&one[0].id)
    .fetch_all(&mut *conn)
    .await?;
    for r in deps {
        one[0].services.push(r.try_get(0)?);
    }
    let [b] = one;
    Ok(Some(b))
}

/// Every business service by name, with its dependencies.
pub async fn list(conn: &mut Conn) -> Result<Vec<BusinessService>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM business_services ORDER BY name");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?;
    let mut list = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    attach(conn, &mut list).await?;
    Ok(list)
}

/// Ids of the business services that depend on a technical service.
pub async fn depending_on(conn: &mut Conn, service_id: &str) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query(
        "SELECT business_service_id FROM business_service_dependencies WHERE service_id = $1
         ORDER BY business_service_id",
    )
    .bind(service_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
}

/// Deletes a business service; refused with [`StoreError::InUse`] while reports name it.
pub async fn delete(conn: &mut Conn, id: &str) -> Result<(), StoreError> {
    let used: i64 = sqlx::query("SELECT COUNT(*) FROM reports WHERE business_service_id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    if used > 0 {
        return Err(StoreError::InUse(
            "reports name this business service".into(),
        ));
    }
    sqlx::query("DELETE FROM business_service_dependencies WHERE business_service_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let done = sqlx::query("DELETE FROM business_services WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("business service"));
    }
    Ok(())
}

//! The public status page: its settings, components, scheduled maintenances, which
//! incidents are public, and the one read that gathers everything the page shows.

use crate::impact::{self, IncidentImpact};
use crate::{Conn, StoreError};
use sqlx::Row;
use sqlx::any::AnyRow;
use triad_domain::Millis;
use triad_domain::incident::PublicState;
use triad_domain::severity::Severity;

/// The page's settings (one row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// 12 lowercase base-36 characters, made once.
    pub page_id: String,
    pub name: String,
    pub url: String,
    /// IANA time zone the page's timestamps are written in.
    pub time_zone: String,
    pub updated_at: Millis,
}

/// The page's settings; `None` before [`init_page`].
pub async fn page(conn: &mut Conn) -> Result<Option<Page>, StoreError> {
    let row = sqlx::query("SELECT page_id, name, url, time_zone, updated_at FROM status_page")
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| {
        Ok(Page {
            page_id: r.try_get(0)?,
            name: r.try_get(1)?,
            url: r.try_get(2)?,
            time_zone: r.try_get(3)?,
            updated_at: r.try_get(4)?,
        })
    })
    .transpose()
}

/// Creates the settings row unless it exists (another node may win the race).
pub async fn init_page(conn: &mut Conn, p: &Page) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO status_page (singleton, page_id, name, url, time_zone, updated_at)
         VALUES (1, $1, $2, $3, $4, $5) ON CONFLICT (singleton) DO NOTHING",
    )
    .bind(&p.page_id)
    .bind(&p.name)
    .bind(&p.url)
    .bind(&p.time_zone)
    .bind(p.updated_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes name, url, time zone and `updated_at` (the id never changes).
pub async fn save_page(conn: &mut Conn, p: &Page) -> Result<(), StoreError> {
    sqlx::query("UPDATE status_page SET name = $1, url = $2, time_zone = $3, updated_at = $4")
        .bind(&p.name)
        .bind(&p.url)
        .bind(&p.time_zone)
        .bind(p.updated_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Marks the page changed at `now` (what Statuspage's `page.updated_at` reports).
pub async fn touch_page(conn: &mut Conn, now: Millis) -> Result<(), StoreError> {
    sqlx::query("UPDATE status_page SET updated_at = $1 WHERE updated_at < $1")
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A component of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub position: i64,
    /// A group shows its members' worst status and links to nothing itself.
    pub is_group: bool,
    pub group_id: Option<String>,
    pub service_id: Option<String>,
    pub business_service_id: Option<String>,
    pub showcase: bool,
    pub only_show_if_degraded: bool,
    /// `YYYY-MM-DD`: where the uptime history starts.
    pub start_date: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

const COMPONENT_COLUMNS: &str = "id, name, description, position, is_group, group_id, service_id, \
    business_service_id, showcase, only_show_if_degraded, start_date, created_at, updated_at";

fn component(row: &AnyRow) -> Result<Component, StoreError> {
    Ok(Component {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        position: row.try_get("position")?,
        is_group: row.try_get::<i64, _>("is_group")? != 0,
        group_id: row.try_get("group_id")?,
        service_id: row.try_get("service_id")?,
        business_service_id: row.try_get("business_service_id")?,
        showcase: row.try_get::<i64, _>("showcase")? != 0,
        only_show_if_degraded: row.try_get::<i64, _>("only_show_if_degraded")? != 0,
        start_date: row.try_get("start_date")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn insert_component(conn: &mut Conn, c: &Component) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO status_components ({COMPONENT_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    );
    bind_component(sqlx::query(sqlx::AssertSqlSafe(sql)), c)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Writes every field but `created_at`.
pub async fn update_component(conn: &mut Conn, c: &Component) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE status_components SET name = $2, description = $3, position = $4, is_group = $5,
            group_id = $6, service_id = $7, business_service_id = $8, showcase = $9,
            only_show_if_degraded = $10, start_date = $11, updated_at = $12
         WHERE id = $1",
    )
    .bind(&c.id)
    .bind(&c.name)
    .bind(&c.description)
    .bind(c.position)
    .bind(i64::from(c.is_group))
    .bind(&c.group_id)
    .bind(&c.service_id)
    .bind(&c.business_service_id)
    .bind(i64::from(c.showcase))
    .bind(i64::from(c.only_show_if_degraded))
    .bind(&c.start_date)
    .bind(c.updated_at)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("component"));
    }
    Ok(())
}

fn bind_component<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    c: &'q Component,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    q.bind(&c.id)
        .bind(&c.name)
        .bind(&c.description)
        .bind(c.position)
        .bind(i64::from(c.is_group))
        .bind(&c.group_id)
        .bind(&c.service_id)
        .bind(&c.business_service_id)
        .bind(i64::from(c.showcase))
        .bind(i64::from(c.only_show_if_degraded))
        .bind(&c.start_date)
        .bind(c.created_at)
        .bind(c.updated_at)
}

/// Deletes a component (it leaves the maintenances that named it). A group that still
/// has members is refused by the database ([`StoreError::InUse`]); `app` checks first
/// to say so plainly.
pub async fn delete_component(conn: &mut Conn, id: &str) -> Result<(), StoreError> {
    let done = sqlx::query("DELETE FROM status_components WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("component"));
    }
    Ok(())
}

/// Every component, by position then name.
pub async fn components(conn: &mut Conn) -> Result<Vec<Component>, StoreError> {
    let sql =
        format!("SELECT {COMPONENT_COLUMNS} FROM status_components ORDER BY position, name, id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(component).collect()
}

pub async fn get_component(conn: &mut Conn, id: &str) -> Result<Option<Component>, StoreError> {
    let sql = format!("SELECT {COMPONENT_COLUMNS} FROM status_components WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(component).transpose()
}

/// A scheduled maintenance and the components it takes down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maintenance {
    pub id: String,
    pub name: String,
    pub body: String,
    pub scheduled_for: Millis,
    pub scheduled_until: Millis,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub created_by: Option<String>,
    pub components: Vec<String>,
}

pub async fn insert_maintenance(conn: &mut Conn, m: &Maintenance) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO maintenances (id, name, body, scheduled_for, scheduled_until, created_at, updated_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&m.id)
    .bind(&m.name)
    .bind(&m.body)
    .bind(m.scheduled_for)
    .bind(m.scheduled_until)
    .bind(m.created_at)
    .bind(m.updated_at)
    .bind(&m.created_by)
    .execute(&mut *conn)
    .await?;
    for c in &m.components {
        sqlx::query(
            "INSERT INTO maintenance_components (maintenance_id, component_id) VALUES ($1, $2)",
        )
        .bind(&m.id)
        .bind(c)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub async fn delete_maintenance(conn: &mut Conn, id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM maintenance_components WHERE maintenance_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let done = sqlx::query("DELETE FROM maintenances WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("maintenance"));
    }
    Ok(())
}

/// Maintenances that have not ended by `now`, plus the `recent` latest-starting ones,
/// by start, latest first.
pub async fn maintenances(
    conn: &mut Conn,
    now: Millis,
    recent: i64,
) -> Result<Vec<Maintenance>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, name, body, scheduled_for, scheduled_until, created_at, updated_at, created_by
         FROM maintenances
         WHERE scheduled_until > $1
            OR id IN (SELECT id FROM maintenances ORDER BY scheduled_for DESC, id DESC LIMIT $2)
         ORDER BY scheduled_for DESC, id DESC",
    )
    .bind(now)
    .bind(recent)
    .fetch_all(&mut *conn)
    .await?;
    let mut list = rows
        .iter()
        .map(|r| {
            Ok(Maintenance {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                body: r.try_get(2)?,
                scheduled_for: r.try_get(3)?,
                scheduled_until: r.try_get(4)?,
                created_at: r.try_get(5)?,
                updated_at: r.try_get(6)?,
                created_by: r.try_get(7)?,
                components: Vec::new(),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let links = sqlx::query(
        "SELECT maintenance_id, component_id FROM maintenance_components
         WHERE maintenance_id IN (SELECT id FROM maintenances WHERE scheduled_until > $1
            OR id IN (SELECT id FROM maintenances ORDER BY scheduled_for DESC, id DESC LIMIT $2))
         ORDER BY component_id",
    )
    .bind(now)
    .bind(recent)
    .fetch_all(&mut *conn)
    .await?;
    for r in links {
        let mid: String = r.try_get(0)?;
        if let Some(m) = list.iter_mut().find(|m| m.id == mid) {
            m.components.push(r.try_get(1)?);
        }
    }
    Ok(list)
}

/// The public name of an incident whose first public update gave none.
pub const DEFAULT_PUBLIC_NAME: &str = "Service disruption";

/// Puts the incident on the page (its first public update) or records a later one:
/// the announced `state` and `updated_at`. `name` is kept from the first time unless
/// `rename` is given.
pub async fn publish_incident(
    conn: &mut Conn,
    incident_id: &str,
    name: &str,
    rename: bool,
    state: PublicState,
    now: Millis,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO public_incidents (incident_id, name, state, created_at, updated_at)
         VALUES ($1, $2, $5, $3, $3)
         ON CONFLICT (incident_id) DO UPDATE SET updated_at = $3, state = $5,
            name = CASE WHEN $4 = 1 THEN $2 ELSE public_incidents.name END",
    )
    .bind(incident_id)
    .bind(name)
    .bind(now)
    .bind(i64::from(rename))
    .bind(state.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The name the page shows for an incident, if it is public.
pub async fn public_name(conn: &mut Conn, incident_id: &str) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT name FROM public_incidents WHERE incident_id = $1")
        .bind(incident_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| r.try_get(0).map_err(StoreError::from))
        .transpose()
}

/// An incident as the page knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicIncident {
    pub id: String,
    pub name: String,
    /// When it first went public.
    pub created_at: Millis,
    pub updated_at: Millis,
    /// When the incident itself began.
    pub started_at: Millis,
    pub state: PublicState,
    pub severity: Severity,
    pub service_id: Option<String>,
    /// Public updates, newest first.
    pub updates: Vec<PublicUpdate>,
    pub impacts: Vec<IncidentImpact>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PublicUpdate {
    pub id: String,
    pub state: PublicState,
    pub message: String,
    pub published_at: Millis,
}

/// Which public incidents the page needs: those updated (publicly) since `$1`, those
/// not yet resolved, and the `$2` that went public last.
const SELECTED: &str = "SELECT incident_id FROM public_incidents WHERE updated_at >= $1
    UNION SELECT incident_id FROM public_incidents WHERE state <> 'resolved'
    UNION SELECT incident_id FROM (SELECT incident_id FROM public_incidents
        ORDER BY created_at DESC, incident_id DESC LIMIT $2) latest";

/// The public incidents the page shows (see [`SELECTED`]), latest first, with their
/// public updates (newest first) and impact. The updates and impact are read by the
/// ids the first query returned, so every incident comes with its own.
pub async fn public_incidents(
    conn: &mut Conn,
    since: Millis,
    recent: i64,
) -> Result<Vec<PublicIncident>, StoreError> {
    let sql = format!(
        "SELECT p.incident_id, p.name, p.created_at, p.updated_at, i.created_at, p.state,
                i.severity, i.service_id
         FROM public_incidents p JOIN incidents i ON i.id = p.incident_id
         WHERE p.incident_id IN ({SELECTED})
         ORDER BY p.created_at DESC, p.incident_id DESC"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(since)
        .bind(recent)
        .fetch_all(&mut *conn)
        .await?;
    let mut list = Vec::with_capacity(rows.len());
    for r in &rows {
        let state: String = r.try_get(5)?;
        let severity: String = r.try_get(6)?;
        list.push(PublicIncident {
            id: r.try_get(0)?,
            name: r.try_get(1)?,
            created_at: r.try_get(2)?,
            updated_at: r.try_get(3)?,
            started_at: r.try_get(4)?,
            state: PublicState::parse(&state)
                .map_err(|e| StoreError::corrupt("public_incidents.state", e))?,
            severity: Severity::parse(&severity)
                .map_err(|e| StoreError::corrupt("incidents.severity", e))?,
            service_id: r.try_get(7)?,
            updates: Vec::new(),
            impacts: Vec::new(),
        });
    }
    let index: std::collections::HashMap<String, usize> = list
        .iter()
        .enumerate()
        .map(|(n, i)| (i.id.clone(), n))
        .collect();
    let ids: Vec<String> = list.iter().map(|i| i.id.clone()).collect();
    for chunk in ids.chunks(500) {
        let marks = (1..=chunk.len())
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT id, incident_id, state, message, published_at FROM status_updates
             WHERE audience = 'public' AND incident_id IN ({marks})
             ORDER BY published_at DESC, id DESC"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(id);
        }
        for r in q.fetch_all(&mut *conn).await? {
            let incident: String = r.try_get(1)?;
            let state: String = r.try_get(2)?;
            if let Some(&n) = index.get(&incident) {
                list[n].updates.push(PublicUpdate {
                    id: r.try_get(0)?,
                    state: PublicState::parse(&state)
                        .map_err(|e| StoreError::corrupt("status_updates.state", e))?,
                    message: r.try_get(3)?,
                    published_at: r.try_get(4)?,
                });
            }
        }
        let sql = format!(
            "SELECT incident_id, business_service_id, impact, customers_affected, updated_at, updated_by
             FROM incident_impacts WHERE incident_id IN ({marks})
             ORDER BY incident_id, business_service_id"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(id);
        }
        for r in q.fetch_all(&mut *conn).await? {
            let row = impact::from_row(&r)?;
            if let Some(&n) = index.get(&row.incident_id) {
                list[n].impacts.push(row);
            }
        }
    }
    Ok(list)
}

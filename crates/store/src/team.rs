//! Teams and their members.

use crate::{Conn, StoreError};
use sqlx::Row;
use sqlx::any::AnyRow;
use triad_domain::Millis;

#[derive(Debug, Clone, PartialEq)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

fn from_row(row: &AnyRow) -> Result<Team, StoreError> {
    Ok(Team {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn insert(conn: &mut Conn, t: &Team) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO teams (id, name, description, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&t.id)
    .bind(&t.name)
    .bind(&t.description)
    .bind(t.created_at)
    .bind(t.updated_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn update(conn: &mut Conn, t: &Team) -> Result<(), StoreError> {
    let done =
        sqlx::query("UPDATE teams SET name = $2, description = $3, updated_at = $4 WHERE id = $1")
            .bind(&t.id)
            .bind(&t.name)
            .bind(&t.description)
            .bind(t.updated_at)
            .execute(&mut *conn)
            .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("team"));
    }
    Ok(())
}

pub async fn get(conn: &mut Conn, id: &str) -> Result<Option<Team>, StoreError> {
    let row = sqlx::query(
        "SELECT id, name, description, created_at, updated_at FROM teams WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list(conn: &mut Conn) -> Result<Vec<Team>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, name, description, created_at, updated_at FROM teams ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Deletes a team; refused with [`StoreError::InUse`] while services name it.
pub async fn delete(conn: &mut Conn, id: &str) -> Result<(), StoreError> {
    let done = sqlx::query("DELETE FROM teams WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("team"));
    }
    Ok(())
}

pub async fn members(conn: &mut Conn, team_id: &str) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query(
        "SELECT user_id FROM team_members WHERE team_id = $1 ORDER BY added_at, user_id",
    )
    .bind(team_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok(r.try_get::<String, _>(0)?))
        .collect()
}

/// Every membership, as (team id, user id), in the order members were added.
pub async fn all_members(conn: &mut Conn) -> Result<Vec<(String, String)>, StoreError> {
    let rows = sqlx::query("SELECT team_id, user_id FROM team_members ORDER BY added_at, user_id")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?)))
        .collect()
}

/// Makes the member list `user_ids`: removes the others, adds the new ones (members who
/// stay keep the time they were added).
pub async fn set_members(
    conn: &mut Conn,
    team_id: &str,
    user_ids: &[String],
    now: Millis,
) -> Result<(), StoreError> {
    let current = members(conn, team_id).await?;
    for gone in current.iter().filter(|u| !user_ids.contains(u)) {
        sqlx::query("DELETE FROM team_members WHERE team_id = $1 AND user_id = $2")
            .bind(team_id)
            .bind(gone)
            .execute(&mut *conn)
            .await?;
    }
    let new = user_ids.iter().filter(|u| !current.contains(u));
    for (i, user) in new.enumerate() {
        sqlx::query("INSERT INTO team_members (team_id, user_id, added_at) VALUES ($1, $2, $3)")
            .bind(team_id)
            .bind(user)
            .bind(now + i as i64)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

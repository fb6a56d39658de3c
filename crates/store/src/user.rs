//! Users: people who sign in, hold roles and get paged.

use crate::{Conn, StoreError, flag};
use sqlx::Row;
use sqlx::any::AnyRow;
use triad_domain::Millis;
use triad_domain::user::{SystemRole, User};

const COLUMNS: &str = "id, email, name, role, time_zone, created_at, updated_at, deactivated_at, must_change_password";

fn from_row(row: &AnyRow) -> Result<User, StoreError> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: SystemRole::parse(&role).map_err(|e| StoreError::corrupt("users.role", e))?,
        time_zone: row.try_get("time_zone")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        deactivated_at: row.try_get("deactivated_at")?,
        must_change_password: flag(row.try_get("must_change_password")?),
    })
}

/// A user to create; `password_hash` is already an argon2id PHC string.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub role: SystemRole,
    pub time_zone: &'a str,
    pub password_hash: Option<&'a str>,
    pub must_change_password: bool,
    pub now: Millis,
}

pub async fn insert(conn: &mut Conn, u: &NewUser<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO users (id, email, name, role, time_zone, password_hash, must_change_password, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(u.id)
    .bind(u.email)
    .bind(u.name)
    .bind(u.role.as_str())
    .bind(u.time_zone)
    .bind(u.password_hash)
    .bind(i64::from(u.must_change_password))
    .bind(u.now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut Conn, id: &str) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn get_by_email(conn: &mut Conn, email: &str) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE email = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(email)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Loads a user inside a write transaction and locks the row until it ends, so that
/// concurrent changes to one user apply one after the other (see `incident::lock`).
pub async fn lock(conn: &mut Conn, id: &str) -> Result<Option<User>, StoreError> {
    let sql = format!("UPDATE users SET updated_at = updated_at WHERE id = $1 RETURNING {COLUMNS}");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Every user, active and deactivated, ordered by email.
pub async fn list(conn: &mut Conn) -> Result<Vec<User>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users ORDER BY email");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(from_row).collect()
}

pub async fn count(conn: &mut Conn) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT COUNT(*) FROM users")
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get::<i64, _>(0)?)
}

/// The stored password hash of an active user with this email, with the user.
pub async fn credentials(
    conn: &mut Conn,
    email: &str,
) -> Result<Option<(User, Option<String>)>, StoreError> {
    let sql = format!("SELECT {COLUMNS}, password_hash FROM users WHERE email = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(email)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(r) => Ok(Some((from_row(&r)?, r.try_get("password_hash")?))),
        None => Ok(None),
    }
}

/// Writes every editable field of `user` (name, email, role, time zone, deactivation).
pub async fn update(conn: &mut Conn, user: &User) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE users SET email = $2, name = $3, role = $4, time_zone = $5, deactivated_at = $6, updated_at = $7
         WHERE id = $1",
    )
    .bind(&user.id)
    .bind(&user.email)
    .bind(&user.name)
    .bind(user.role.as_str())
    .bind(&user.time_zone)
    .bind(user.deactivated_at)
    .bind(user.updated_at)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("user"));
    }
    Ok(())
}

pub async fn set_password(
    conn: &mut Conn,
    id: &str,
    password_hash: &str,
    must_change: bool,
    now: Millis,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE users SET password_hash = $2, must_change_password = $3, updated_at = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(password_hash)
    .bind(i64::from(must_change))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("user"));
    }
    Ok(())
}

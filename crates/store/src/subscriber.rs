//! Subscribers of the status page, by email or signed webhook (double opt-in, one-click
//! unsubscribe). The confirmation token is stored as its SHA-256 only; the unsubscribe
//! token as is, since every message carries it.

use crate::{Conn, StoreError};
use sqlx::Row;
use sqlx::any::AnyRow;
use triad_domain::Millis;

/// The scope of a subscription to the whole page.
pub const PAGE: &str = "page";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscriber {
    pub id: String,
    /// `email` or `webhook`.
    pub channel: String,
    /// The email address or the webhook URL.
    pub address: String,
    /// A webhook's signing secret.
    pub secret: Option<String>,
    /// A component id, or [`PAGE`].
    pub scope: String,
    pub token_hash: String,
    pub unsubscribe_token: String,
    pub created_at: Millis,
    pub confirm_sent_at: Millis,
    pub confirmed_at: Option<Millis>,
    pub unsubscribed_at: Option<Millis>,
}

const COLUMNS: &str = "id, channel, address, secret, scope, token_hash, unsubscribe_token, created_at, \
    confirm_sent_at, confirmed_at, unsubscribed_at";

fn from_row(row: &AnyRow) -> Result<Subscriber, StoreError> {
    Ok(Subscriber {
        id: row.try_get("id")?,
        channel: row.try_get("channel")?,
        address: row.try_get("address")?,
        secret: row.try_get("secret")?,
        scope: row.try_get("scope")?,
        token_hash: row.try_get("token_hash")?,
        unsubscribe_token: row.try_get("unsubscribe_token")?,
        created_at: row.try_get("created_at")?,
        confirm_sent_at: row.try_get("confirm_sent_at")?,
        confirmed_at: row.try_get("confirmed_at")?,
        unsubscribed_at: row.try_get("unsubscribed_at")?,
    })
}

pub async fn insert(conn: &mut Conn, s: &Subscriber) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO subscribers ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&s.id)
        .bind(&s.channel)
        .bind(&s.address)
        .bind(&s.secret)
        .bind(&s.scope)
        .bind(&s.token_hash)
        .bind(&s.unsubscribe_token)
        .bind(s.created_at)
        .bind(s.confirm_sent_at)
        .bind(s.confirmed_at)
        .bind(s.unsubscribed_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The live (not unsubscribed) subscription of an address on a channel to a scope.
pub async fn live(
    conn: &mut Conn,
    channel: &str,
    address: &str,
    scope: &str,
) -> Result<Option<Subscriber>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM subscribers
         WHERE channel = $1 AND address = $2 AND scope = $3 AND unsubscribed_at IS NULL"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(channel)
        .bind(address)
        .bind(scope)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The subscriber a confirmation link (by its token's hash) or an unsubscribe link (by
/// its token) belongs to.
pub async fn by_token(
    conn: &mut Conn,
    token_hash: Option<&str>,
    unsubscribe_token: Option<&str>,
) -> Result<Option<Subscriber>, StoreError> {
    let (column, value) = match (token_hash, unsubscribe_token) {
        (Some(h), _) => ("token_hash", h),
        (None, Some(t)) => ("unsubscribe_token", t),
        (None, None) => return Ok(None),
    };
    let sql = format!("SELECT {COLUMNS} FROM subscribers WHERE {column} = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(value)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Writes the token, secret, confirmation and unsubscription times of a subscriber.
pub async fn save(conn: &mut Conn, s: &Subscriber) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE subscribers SET token_hash = $2, confirm_sent_at = $3, confirmed_at = $4,
            unsubscribed_at = $5, secret = $6 WHERE id = $1",
    )
    .bind(&s.id)
    .bind(&s.token_hash)
    .bind(s.confirm_sent_at)
    .bind(s.confirmed_at)
    .bind(s.unsubscribed_at)
    .bind(&s.secret)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("subscriber"));
    }
    Ok(())
}

/// Confirmed, live subscribers of any of `scopes`, by channel, address, then scope.
pub async fn confirmed(conn: &mut Conn, scopes: &[String]) -> Result<Vec<Subscriber>, StoreError> {
    let mut all = Vec::new();
    for chunk in scopes.chunks(500) {
        let marks = (1..=chunk.len())
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {COLUMNS} FROM subscribers WHERE scope IN ({marks})
               AND confirmed_at IS NOT NULL AND unsubscribed_at IS NULL ORDER BY channel, address, scope"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for s in chunk {
            q = q.bind(s);
        }
        for row in q.fetch_all(&mut *conn).await? {
            all.push(from_row(&row)?);
        }
    }
    all.sort_by(|a, b| (&a.channel, &a.address, &a.scope).cmp(&(&b.channel, &b.address, &b.scope)));
    Ok(all)
}

/// Ends every live subscription to a scope (its component was deleted).
pub async fn end_scope(conn: &mut Conn, scope: &str, now: Millis) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE subscribers SET unsubscribed_at = $2 WHERE scope = $1 AND unsubscribed_at IS NULL",
    )
    .bind(scope)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// How many subscriptions are confirmed and live, and how many await confirmation.
pub async fn counts(conn: &mut Conn) -> Result<(i64, i64), StoreError> {
    let row = sqlx::query(
        "SELECT COALESCE(SUM(CASE WHEN confirmed_at IS NOT NULL THEN 1 ELSE 0 END), 0),
                COALESCE(SUM(CASE WHEN confirmed_at IS NULL THEN 1 ELSE 0 END), 0)
         FROM subscribers WHERE unsubscribed_at IS NULL",
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

/// Makes a user follow a business service; `false` if they did already.
pub async fn follow(
    conn: &mut Conn,
    business_service_id: &str,
    user_id: &str,
    now: Millis,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO business_service_followers (business_service_id, user_id, created_at)
         VALUES ($1, $2, $3) ON CONFLICT (business_service_id, user_id) DO NOTHING",
    )
    .bind(business_service_id)
    .bind(user_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Stops following; `false` if the user did not follow it.
pub async fn unfollow(
    conn: &mut Conn,
    business_service_id: &str,
    user_id: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "DELETE FROM business_service_followers WHERE business_service_id = $1 AND user_id = $2",
    )
    .bind(business_service_id)
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The user ids following a business service, in order.
pub async fn followers(
    conn: &mut Conn,
    business_service_id: &str,
) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query(
        "SELECT user_id FROM business_service_followers WHERE business_service_id = $1 ORDER BY user_id",
    )
    .bind(business_service_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| r.try_get(0).map_err(StoreError::from))
        .collect()
}

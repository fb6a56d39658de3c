//! Tracker sync: configured trackers (Jira projects), incident ↔ ticket links, the
//! durable jobs the engine runs against the tracker, and the inbound webhook deliveries
//! already applied (for idempotency).

use crate::{Conn, StoreError};
use sqlx::Row;
use sqlx::any::AnyRow;
use triad_domain::Millis;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracker {
    pub id: String,
    pub name: String,
    /// `jira`.
    pub kind: String,
    /// `https://site.atlassian.net` (no trailing slash).
    pub base_url: String,
    /// 2 (plain text bodies) or 3 (Atlassian Document Format).
    pub api_version: i64,
    /// `basic` (user + API token), `bearer` or `none`.
    pub auth_kind: String,
    pub auth_user: Option<String>,
    pub auth_secret: Option<String>,
    pub project_key: String,
    pub issue_type: String,
    /// The name of the transition (or of its target status) applied on resolve.
    pub resolve_transition: String,
    pub min_severity: String,
    /// Verifies `X-Hub-Signature` of inbound webhooks when set.
    pub inbound_secret: Option<String>,
    pub created_at: Millis,
}

const TRACKER_COLUMNS: &str = "id, name, kind, base_url, api_version, auth_kind, auth_user, \
    auth_secret, project_key, issue_type, resolve_transition, min_severity, inbound_secret, created_at";

fn tracker(row: &AnyRow) -> Result<Tracker, StoreError> {
    Ok(Tracker {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        kind: row.try_get("kind")?,
        base_url: row.try_get("base_url")?,
        api_version: row.try_get("api_version")?,
        auth_kind: row.try_get("auth_kind")?,
        auth_user: row.try_get("auth_user")?,
        auth_secret: row.try_get("auth_secret")?,
        project_key: row.try_get("project_key")?,
        issue_type: row.try_get("issue_type")?,
        resolve_transition: row.try_get("resolve_transition")?,
        min_severity: row.try_get("min_severity")?,
        inbound_secret: row.try_get("inbound_secret")?,
        created_at: row.try_get("created_at")?,
    })
}

pub async fn insert(conn: &mut Conn, t: &Tracker) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO trackers ({TRACKER_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&t.id)
        .bind(&t.name)
        .bind(&t.kind)
        .bind(&t.base_url)
        .bind(t.api_version)
        .bind(&t.auth_kind)
        .bind(&t.auth_user)
        .bind(&t.auth_secret)
        .bind(&t.project_key)
        .bind(&t.issue_type)
        .bind(&t.resolve_transition)
        .bind(&t.min_severity)
        .bind(&t.inbound_secret)
        .bind(t.created_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn list(conn: &mut Conn) -> Result<Vec<Tracker>, StoreError> {
    let sql = format!("SELECT {TRACKER_COLUMNS} FROM trackers ORDER BY name");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(tracker).collect()
}

/// A tracker by id or name.
pub async fn find(conn: &mut Conn, key: &str) -> Result<Option<Tracker>, StoreError> {
    let sql = format!("SELECT {TRACKER_COLUMNS} FROM trackers WHERE id = $1 OR name = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(tracker).transpose()
}

/// A tracker by id only (what inbound webhook URLs name: a name is guessable).
pub async fn get(conn: &mut Conn, id: &str) -> Result<Option<Tracker>, StoreError> {
    let sql = format!("SELECT {TRACKER_COLUMNS} FROM trackers WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(tracker).transpose()
}

/// Deletes a tracker with its links, jobs and delivery records.
pub async fn delete(conn: &mut Conn, id: &str) -> Result<(), StoreError> {
    for table in ["tracker_jobs", "tracker_links", "tracker_deliveries"] {
        let sql = format!("DELETE FROM {table} WHERE tracker_id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    let done = sqlx::query("DELETE FROM trackers WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("tracker"));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub tracker_id: String,
    pub incident_id: String,
    pub issue_key: String,
    pub issue_id: Option<String>,
    /// `created` or `inbound`.
    pub origin: String,
    pub created_at: Millis,
}

/// Records a link; `false` if the ticket was linked already. A `created` link replaces
/// an `inbound` one for the same ticket (Jira's webhook about Triad's own new issue can
/// arrive before the create call's answer is recorded).
pub async fn link(conn: &mut Conn, l: &Link) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO tracker_links (tracker_id, incident_id, issue_key, issue_id, origin, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (tracker_id, issue_key) DO UPDATE SET origin = 'created', issue_id = $4
            WHERE tracker_links.origin = 'inbound' AND $5 = 'created'
              AND tracker_links.incident_id = $2",
    )
    .bind(&l.tracker_id)
    .bind(&l.incident_id)
    .bind(&l.issue_key)
    .bind(&l.issue_id)
    .bind(&l.origin)
    .bind(l.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn link_row(r: &AnyRow) -> Result<Link, StoreError> {
    Ok(Link {
        tracker_id: r.try_get("tracker_id")?,
        incident_id: r.try_get("incident_id")?,
        issue_key: r.try_get("issue_key")?,
        issue_id: r.try_get("issue_id")?,
        origin: r.try_get("origin")?,
        created_at: r.try_get("created_at")?,
    })
}

/// An incident's links, oldest first.
pub async fn links(conn: &mut Conn, incident_id: &str) -> Result<Vec<Link>, StoreError> {
    let rows = sqlx::query(
        "SELECT tracker_id, incident_id, issue_key, issue_id, origin, created_at FROM tracker_links
         WHERE incident_id = $1 ORDER BY created_at, issue_key",
    )
    .bind(incident_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(link_row).collect()
}

/// The link of a ticket, if any.
pub async fn link_of(
    conn: &mut Conn,
    tracker_id: &str,
    issue_key: &str,
) -> Result<Option<Link>, StoreError> {
    let row = sqlx::query(
        "SELECT tracker_id, incident_id, issue_key, issue_id, origin, created_at FROM tracker_links
         WHERE tracker_id = $1 AND issue_key = $2",
    )
    .bind(tracker_id)
    .bind(issue_key)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(link_row).transpose()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: String,
    /// The order jobs run in (per incident and tracker); set by [`enqueue`].
    pub seq: i64,
    pub idempotency_key: String,
    pub tracker_id: String,
    pub incident_id: String,
    /// `create`, `comment` or `transition`.
    pub kind: String,
    /// The ticket; `None` for the issue Triad creates for the incident.
    pub issue_key: Option<String>,
    /// The summary and description (create, as JSON), or the comment's text.
    pub body: String,
    /// `pending`, `done` or `dead`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Millis,
    pub last_error: Option<String>,
    pub created_at: Millis,
    pub done_at: Option<Millis>,
}

const JOB_COLUMNS: &str = "id, seq, idempotency_key, tracker_id, incident_id, kind, issue_key, body, \
    status, attempts, next_attempt_at, last_error, created_at, done_at";

fn job(r: &AnyRow) -> Result<Job, StoreError> {
    Ok(Job {
        id: r.try_get("id")?,
        seq: r.try_get("seq")?,
        idempotency_key: r.try_get("idempotency_key")?,
        tracker_id: r.try_get("tracker_id")?,
        incident_id: r.try_get("incident_id")?,
        kind: r.try_get("kind")?,
        issue_key: r.try_get("issue_key")?,
        body: r.try_get("body")?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        last_error: r.try_get("last_error")?,
        created_at: r.try_get("created_at")?,
        done_at: r.try_get("done_at")?,
    })
}

/// The counter that orders jobs.
pub const JOB_SEQ: &str = "tracker_job";

/// Adds a job unless one with its key exists; `true` if added. Its `seq` comes from
/// the [`JOB_SEQ`] counter (locked until the transaction ends, so seq order is commit
/// order).
pub async fn enqueue(conn: &mut Conn, j: &Job) -> Result<bool, StoreError> {
    let exists = sqlx::query("SELECT 1 FROM tracker_jobs WHERE idempotency_key = $1")
        .bind(&j.idempotency_key)
        .fetch_optional(&mut *conn)
        .await?;
    if exists.is_some() {
        return Ok(false);
    }
    let seq = crate::counter::next(conn, JOB_SEQ).await?;
    let sql = format!(
        "INSERT INTO tracker_jobs ({JOB_COLUMNS}, lease_until)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, NULL)"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&j.id)
        .bind(seq)
        .bind(&j.idempotency_key)
        .bind(&j.tracker_id)
        .bind(&j.incident_id)
        .bind(&j.kind)
        .bind(&j.issue_key)
        .bind(&j.body)
        .bind(&j.status)
        .bind(j.attempts)
        .bind(j.next_attempt_at)
        .bind(&j.last_error)
        .bind(j.created_at)
        .bind(j.done_at)
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

/// Pending jobs due at `now` whose lease (if any) ran out and that no older pending job
/// of the same incident and tracker holds back, in `seq` order.
pub async fn due(conn: &mut Conn, now: Millis, limit: i64) -> Result<Vec<Job>, StoreError> {
    let sql = format!(
        "SELECT {JOB_COLUMNS} FROM tracker_jobs j
         WHERE status = 'pending' AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
           AND NOT EXISTS (SELECT 1 FROM tracker_jobs o WHERE o.tracker_id = j.tracker_id
               AND o.incident_id = j.incident_id AND o.status = 'pending' AND o.seq < j.seq)
         ORDER BY seq LIMIT $2"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(job).collect()
}

/// Takes a job for `lease_ms` (so no other node runs it meanwhile), if it is still as
/// it was read (pending, due, `attempts` unchanged) and nobody holds it. Returns the
/// lease's end, which [`settle`] must present.
pub async fn claim(
    conn: &mut Conn,
    job: &Job,
    now: Millis,
    lease_ms: i64,
) -> Result<Option<Millis>, StoreError> {
    let until = now + lease_ms;
    let done = sqlx::query(
        "UPDATE tracker_jobs SET lease_until = $3
         WHERE id = $1 AND status = 'pending' AND attempts = $4 AND next_attempt_at <= $2
           AND (lease_until IS NULL OR lease_until <= $2)",
    )
    .bind(&job.id)
    .bind(now)
    .bind(until)
    .bind(job.attempts)
    .execute(&mut *conn)
    .await?;
    Ok((done.rows_affected() == 1).then_some(until))
}

/// Records an attempt's outcome (`done`, `dead`, or `pending` again at `next`) if the
/// job is still held under `lease` — `false` when the lease ran out and another node
/// took the job. `lease: None` settles a job nobody claimed (one that cannot run).
#[allow(clippy::too_many_arguments)]
pub async fn settle(
    conn: &mut Conn,
    id: &str,
    lease: Option<Millis>,
    status: &str,
    attempts: i64,
    next: Millis,
    error: Option<&str>,
    now: Millis,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE tracker_jobs SET status = $2, attempts = $3, next_attempt_at = $4, last_error = $5,
            lease_until = NULL, done_at = CASE WHEN $2 = 'pending' THEN NULL ELSE $6 END
         WHERE id = $1 AND status = 'pending'
           AND ((lease_until IS NULL AND $7 IS NULL) OR lease_until = $7)",
    )
    .bind(id)
    .bind(status)
    .bind(attempts)
    .bind(next)
    .bind(error)
    .bind(now)
    .bind(lease)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An incident's jobs, in `seq` order.
pub async fn jobs(conn: &mut Conn, incident_id: &str) -> Result<Vec<Job>, StoreError> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM tracker_jobs WHERE incident_id = $1 ORDER BY seq");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(incident_id)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(job).collect()
}

/// Remembers an inbound delivery; `false` if it was seen before (a replay).
pub async fn first_delivery(
    conn: &mut Conn,
    tracker_id: &str,
    identifier: &str,
    now: Millis,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO tracker_deliveries (tracker_id, identifier, received_at) VALUES ($1, $2, $3)
         ON CONFLICT (tracker_id, identifier) DO NOTHING",
    )
    .bind(tracker_id)
    .bind(identifier)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

//! The append-only internal timeline. Events get a global sequence number in commit
//! order (see [`crate::counter`]), which live streams use to resume.

use crate::{Conn, StoreError, counter, new_id};
use sqlx::Row;
use sqlx::any::AnyRow;
use triad_domain::timeline::{EventKind, NewEvent, TimelineEvent};

const COLUMNS: &str = "seq, id, incident_id, at, actor_id, actor_name, kind, body, data";

fn from_row(row: &AnyRow) -> Result<TimelineEvent, StoreError> {
    let kind: String = row.try_get("kind")?;
    let data: String = row.try_get("data")?;
    Ok(TimelineEvent {
        seq: row.try_get("seq")?,
        id: row.try_get("id")?,
        incident_id: row.try_get("incident_id")?,
        at: row.try_get("at")?,
        actor_id: row.try_get("actor_id")?,
        actor_name: row.try_get("actor_name")?,
        kind: EventKind::from_name(&kind).ok_or_else(|| {
            StoreError::corrupt("timeline_events.kind", format!("unknown kind {kind:?}"))
        })?,
        body: row.try_get("body")?,
        data: serde_json::from_str(&data)
            .map_err(|e| StoreError::corrupt("timeline_events.data", e))?,
    })
}

/// Appends an event; call only inside the transaction that made the change it records.
pub async fn append(conn: &mut Conn, e: NewEvent) -> Result<TimelineEvent, StoreError> {
    append_many(conn, vec![e])
        .await?
        .pop()
        .ok_or(StoreError::NotFound("timeline event"))
}

/// Rows per multi-row `INSERT` in [`append_many`] (9 parameters each, well inside both
/// backends' limits on parameters per statement).
const APPEND_CHUNK: usize = 500;

/// Appends several events with one counter update and one `INSERT` per
/// [`APPEND_CHUNK`] rows: the same rows, in the same order and with consecutive
/// sequence numbers, as calling [`append`] for each in turn.
pub async fn append_many(
    conn: &mut Conn,
    events: Vec<NewEvent>,
) -> Result<Vec<TimelineEvent>, StoreError> {
    let Ok(n) = i64::try_from(events.len()) else {
        return Err(StoreError::Config(
            "too many timeline events at once".into(),
        ));
    };
    if n == 0 {
        return Ok(Vec::new());
    }
    let last = counter::advance(conn, counter::TIMELINE_SEQ, n).await?;
    let stored: Vec<TimelineEvent> = events
        .into_iter()
        .zip(last - n + 1..)
        .map(|(e, seq)| TimelineEvent {
            seq,
            id: new_id(),
            incident_id: e.incident_id,
            at: e.at,
            actor_id: e.actor_id,
            actor_name: e.actor_name,
            kind: e.kind,
            body: e.body,
            data: e.data,
        })
        .collect();
    for chunk in stored.chunks(APPEND_CHUNK) {
        let sql = format!(
            "INSERT INTO timeline_events (seq, id, incident_id, at, actor_id, actor_name, kind, body, data)
             VALUES {}",
            crate::values_rows(chunk.len(), 9)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for e in chunk {
            q = q
                .bind(e.seq)
                .bind(&e.id)
                .bind(&e.incident_id)
                .bind(e.at)
                .bind(&e.actor_id)
                .bind(&e.actor_name)
                .bind(e.kind.as_str())
                .bind(&e.body)
                .bind(e.data.to_string());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(stored)
}

/// The newest `limit` of one incident's events after `after`, oldest first.
pub async fn newest_after(
    conn: &mut Conn,
    incident_id: &str,
    after: i64,
    limit: u32,
) -> Result<Vec<TimelineEvent>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM timeline_events WHERE incident_id = $1 AND seq > $2
         ORDER BY seq DESC LIMIT $3"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(incident_id)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await?;
    let mut list = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    list.reverse();
    Ok(list)
}

/// One incident's events of one kind, oldest first.
pub async fn of_kind(
    conn: &mut Conn,
    incident_id: &str,
    kind: triad_domain::timeline::EventKind,
) -> Result<Vec<TimelineEvent>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM timeline_events WHERE incident_id = $1 AND kind = $2 ORDER BY seq"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(incident_id)
        .bind(kind.as_str())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Events with a sequence number above `after`, oldest first, at most `limit`;
/// one incident's, or every incident's when `incident_id` is `None`.
pub async fn after(
    conn: &mut Conn,
    incident_id: Option<&str>,
    after: i64,
    limit: u32,
) -> Result<Vec<TimelineEvent>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM timeline_events
         WHERE seq > $1 AND ($2 IS NULL OR incident_id = $2) ORDER BY seq LIMIT $3"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(after)
        .bind(incident_id)
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(from_row).collect()
}

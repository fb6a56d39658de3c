//! Live streams (Server-Sent Events) of committed timeline events.
//!
//! Each stream reads from the database, never from an in-memory queue: it sends every
//! event after the last one it sent, in sequence order, then waits for this process's
//! commit signal (or a short poll, so commits made by other nodes arrive too). Events
//! therefore appear only after commit, exactly once, and a client that reconnects with
//! `Last-Event-ID` (or `?after=`) receives exactly what it missed.

use crate::AppState;
use crate::dto::TimelineEventDto;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery, Auth, bearer_token};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use triad_domain::user::Permission;
use utoipa::IntoParams;

/// How often a stream looks for events committed by other nodes.
const POLL: Duration = Duration::from_secs(2);
/// How often an open stream checks that its token is still valid (revoked tokens and
/// deactivated users lose their streams within this time).
const RECHECK: Duration = Duration::from_secs(30);
const BATCH: u32 = 500;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StreamParams {
    /// Resume after this sequence number (for clients that cannot set `Last-Event-ID`).
    pub after: Option<i64>,
}

fn resume_point(headers: &HeaderMap, after: Option<i64>) -> ApiResult<Option<i64>> {
    if let Some(v) = headers.get("last-event-id") {
        let text = v.to_str().unwrap_or_default().trim();
        return text.parse::<i64>().map(Some).map_err(|_| {
            ApiError::field(
                "Last-Event-ID",
                "must be the id of an event this server sent",
            )
        });
    }
    Ok(after)
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/stream", tag = "streams",
    params(("id" = String, Path, description = "incident number or id"), StreamParams,
        ("Last-Event-ID" = Option<i64>, Header, description = "resume after this event")),
    responses((status = 200, content_type = "text/event-stream", description = "`event:` is the timeline kind, `id:` its seq, `data:` a TimelineEvent")))]
pub async fn incident_stream(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<StreamParams>,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let incident_id = s.app.incident_id(&actor, &id).await?;
    let from = resume_point(&headers, p.after)?;
    open(s, bearer(&headers), Some(incident_id), from).await
}

#[utoipa::path(get, path = "/api/v1/stream", tag = "streams",
    params(StreamParams, ("Last-Event-ID" = Option<i64>, Header, description = "resume after this event")),
    responses((status = 200, content_type = "text/event-stream", description = "every incident's timeline events")))]
pub async fn global_stream(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<StreamParams>,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    actor.require(Permission::Read)?;
    let from = resume_point(&headers, p.after)?;
    open(s, bearer(&headers), None, from).await
}

/// The token the stream was opened with (the `Auth` extractor has already accepted it).
fn bearer(headers: &HeaderMap) -> String {
    bearer_token(headers).unwrap_or_default().to_string()
}

async fn open(
    s: AppState,
    token: String,
    incident_id: Option<String>,
    from: Option<i64>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    // Subscribe before reading the start point, so no commit can slip between them.
    let mut signal = s.app.subscribe();
    let mut last = match from {
        Some(n) => n,
        None => s.app.latest_seq().await?,
    };
    let (tx, rx) = mpsc::channel::<Result<Event, Infallible>>(64);
    let shutdown = s.shutdown.clone();
    let metrics = s.metrics.clone();
    tokio::spawn(async move {
        metrics.stream_opened();
        let mut checked_at = s.app.now();
        'outer: loop {
            // Re-check the token on waking once RECHECK has passed on the app's clock.
            if s.app.now() - checked_at >= RECHECK.as_millis() as i64 {
                if s.app.authenticate(&token).await.is_err() {
                    break;
                }
                checked_at = s.app.now();
            }
            match s
                .app
                .events_after(incident_id.as_deref(), last, BATCH)
                .await
            {
                Ok(events) => {
                    let full = events.len() == BATCH as usize;
                    for e in events {
                        let dto = TimelineEventDto::from(&e);
                        let data = serde_json::to_string(&dto).unwrap_or_default();
                        let event = Event::default()
                            .id(e.seq.to_string())
                            .event(e.kind.as_str())
                            .data(data);
                        // A client that stops reading must not hold up shutdown.
                        tokio::select! {
                            sent = tx.send(Ok(event)) => if sent.is_err() { break 'outer },
                            _ = shutdown.cancelled() => break 'outer,
                        }
                        last = e.seq;
                    }
                    if full {
                        continue;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "live stream cannot read events; retrying"),
            }
            tokio::select! {
                _ = signal.changed() => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = tx.closed() => break,
                _ = shutdown.cancelled() => break,
            }
        }
        metrics.stream_closed();
    });
    Ok(Sse::new(ReceiverStream::new(rx))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

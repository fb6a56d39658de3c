//! Operating Triad: `/healthz`, `/readyz`, Prometheus `/metrics`, and the middleware
//! that counts, times and logs every request.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

/// Latency buckets, seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Request counters and latency histograms, per route template (never per raw path, so
/// ids do not explode the series).
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<(String, String), Histogram>>,
    streams: AtomicI64,
}

impl Metrics {
    fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        if let Ok(mut r) = self.requests.lock() {
            *r.entry((method.to_string(), route.to_string(), status))
                .or_default() += 1;
        }
        if let Ok(mut l) = self.latency.lock() {
            let h = l
                .entry((method.to_string(), route.to_string()))
                .or_default();
            for (i, bound) in BUCKETS.iter().enumerate() {
                if seconds <= *bound {
                    h.counts[i] += 1;
                }
            }
            h.count += 1;
            h.sum += seconds;
        }
    }

    pub fn stream_opened(&self) {
        self.streams.fetch_add(1, Ordering::Relaxed);
    }

    pub fn stream_closed(&self) {
        self.streams.fetch_sub(1, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP triad_http_requests_total HTTP requests by route and status."
        );
        let _ = writeln!(out, "# TYPE triad_http_requests_total counter");
        if let Ok(r) = self.requests.lock() {
            for ((m, route, status), n) in r.iter() {
                let _ = writeln!(
                    out,
                    "triad_http_requests_total{{method=\"{m}\",route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP triad_http_request_duration_seconds HTTP request latency."
        );
        let _ = writeln!(out, "# TYPE triad_http_request_duration_seconds histogram");
        if let Ok(l) = self.latency.lock() {
            for ((m, route), h) in l.iter() {
                let labels = format!("method=\"{m}\",route=\"{route}\"");
                for (i, bound) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "triad_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "triad_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    out,
                    "triad_http_request_duration_seconds_sum{{{labels}}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "triad_http_request_duration_seconds_count{{{labels}}} {}",
                    h.count
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP triad_live_streams Open Server-Sent Event streams."
        );
        let _ = writeln!(out, "# TYPE triad_live_streams gauge");
        let _ = writeln!(
            out,
            "triad_live_streams {}",
            self.streams.load(Ordering::Relaxed)
        );
    }
}

/// Counts, times and logs each request. Never logs headers (tokens) or bodies.
pub async fn observe(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let response = next.run(req).await;
    let elapsed = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    s.metrics.record(&method, &route, status, elapsed);
    tracing::info!(target: "triad::http", %method, %route, status, ms = (elapsed * 10_000.0).round() / 10.0, "request");
    response
}

pub async fn healthz() -> &'static str {
    "ok\n"
}

pub async fn readyz(State(s): State<AppState>) -> Response {
    match s.app.ready().await {
        Ok(()) => "ready\n".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the database is unreachable",
            )
            .into_response()
        }
    }
}

pub async fn metrics(State(s): State<AppState>) -> Response {
    let mut out = String::new();
    s.metrics.render(&mut out);
    let _ = writeln!(out, "# HELP triad_incidents Incidents by status.");
    let _ = writeln!(out, "# TYPE triad_incidents gauge");
    match s.app.incident_counts().await {
        Ok(counts) => {
            for status in triad_domain::incident::Status::ALL {
                let n = counts
                    .iter()
                    .find(|(s, _)| *s == status)
                    .map_or(0, |(_, n)| *n);
                let _ = writeln!(out, "triad_incidents{{status=\"{status}\"}} {n}");
            }
            let _ = writeln!(out, "triad_database_up 1");
            if let Ok((timers, behind, by_status)) = s.app.engine_gauges().await {
                let _ = writeln!(
                    out,
                    "# HELP triad_timers_pending Engine timers not yet fired."
                );
                let _ = writeln!(out, "# TYPE triad_timers_pending gauge");
                let _ = writeln!(out, "triad_timers_pending {timers}");
                let _ = writeln!(
                    out,
                    "# HELP triad_timer_backlog_seconds How far past its due time the oldest unfired timer is."
                );
                let _ = writeln!(out, "# TYPE triad_timer_backlog_seconds gauge");
                let _ = writeln!(
                    out,
                    "triad_timer_backlog_seconds {}",
                    behind as f64 / 1000.0
                );
                let _ = writeln!(
                    out,
                    "# HELP triad_notifications Notifications by delivery status."
                );
                let _ = writeln!(out, "# TYPE triad_notifications gauge");
                for status in ["pending", "failed", "sent", "dead", "cancelled"] {
                    let n = by_status
                        .iter()
                        .find(|(s, _)| s == status)
                        .map_or(0, |(_, n)| *n);
                    let _ = writeln!(out, "triad_notifications{{status=\"{status}\"}} {n}");
                }
            }
            if let Ok(open) = s.app.open_alerts().await {
                let _ = writeln!(
                    out,
                    "# HELP triad_alerts_open Alerts not yet resolved (triggered or acknowledged)."
                );
                let _ = writeln!(out, "# TYPE triad_alerts_open gauge");
                let _ = writeln!(out, "triad_alerts_open {open}");
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "metrics cannot count incidents");
            let _ = writeln!(out, "triad_database_up 0");
        }
    }
    let c = s.app.intake_counts();
    for (name, help, value) in [
        (
            "triad_intake_batches_total",
            "Transactions of the intake's group-commit writer, one per batch.",
            c.batches,
        ),
        (
            "triad_intake_commands_total",
            "Intake requests the writer took from its queue (divide by batches for the batch size).",
            c.commands,
        ),
        (
            "triad_intake_set_wise_events_total",
            "Alert events applied set-wise (trigger-only requests: one statement for a batch's repeats).",
            c.set_wise_events,
        ),
        (
            "triad_intake_failed_batches_total",
            "Intake batches that failed as a whole and were retried one request at a time.",
            c.failed_batches,
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} counter");
        let _ = writeln!(out, "{name} {value}");
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}

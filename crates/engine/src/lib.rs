//! The engine's runtime: fires due timers and delivers the outbox. [`Engine::tick`] does
//! one full pass at an explicit `now` (tests call it after advancing a `ManualClock`);
//! [`Engine::run`] loops, waking on this process's commits, at the earliest due timer or
//! notification, and on a poll for work committed by other nodes.

use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use triad_app::delivery::{Attempt, Batch};
use triad_app::tracker::JobOutcome;
use triad_app::{App, AppResult};
use triad_notify::jira::{JiraClient, JiraTarget};
use triad_notify::{Channel, Message, Notifier, Outcome};
use triad_store::notification::Notification;
use triad_store::timer::Timer;

/// Timers fired per read; deliveries claimed per read; sends in flight at once.
const TIMER_BATCH: u32 = 500;
/// Timers fired per transaction (one commit for the lot).
const TIMERS_PER_COMMIT: usize = 32;
const DELIVERY_BATCH: u32 = 200;
const CONCURRENT_SENDS: usize = 16;
/// The shortest pause between passes, so a clock step cannot make the loop spin.
const MIN_WAIT_MS: i64 = 5;

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TickReport {
    pub timers_fired: usize,
    /// For each timer fired: how late it fired (ms after its due time, by the app clock).
    pub lateness_ms: Vec<i64>,
    pub delivered: usize,
    pub retried: usize,
    pub rejected: usize,
    /// Timers or deliveries that failed with an error (left for a later pass).
    pub errors: usize,
}

/// What a connector's answer means for a tracker job.
fn job_outcome(outcome: Outcome) -> JobOutcome {
    match outcome {
        Outcome::Delivered { .. } => JobOutcome::Done,
        Outcome::Retry { error, retry_after } => JobOutcome::Retry {
            error,
            retry_after_ms: retry_after.map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        },
        Outcome::Rejected { error } => JobOutcome::Failed { error },
    }
}

/// The engine of one node.
#[derive(Clone)]
pub struct Engine {
    app: App,
    notifier: Arc<dyn Notifier>,
    poll: Duration,
    /// Calls trackers (Jira) for the tracker sync jobs.
    jira: JiraClient,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("poll", &self.poll).finish()
    }
}

impl Engine {
    /// `poll` bounds how long work committed by another node can wait.
    pub fn new(app: App, notifier: Arc<dyn Notifier>, poll: Duration) -> Engine {
        Engine {
            app,
            notifier,
            poll,
            jira: JiraClient::with_defaults(),
        }
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    /// One pass at `now`: fire every due timer, then deliver every due notification
    /// (including the ones those timers just wrote). Errors of single timers or
    /// deliveries are logged and left for the next pass; they never stop the pass.
    pub async fn tick(&self, now: i64) -> AppResult<TickReport> {
        let mut report = TickReport::default();
        self.fire_due(now, &mut report).await?;
        self.deliver_due(now, &mut report).await?;
        self.sync_trackers(now, &mut report).await?;
        Ok(report)
    }

    /// Fires every timer due at `now`, a batch to a transaction.
    pub async fn fire_due(&self, now: i64, report: &mut TickReport) -> AppResult<()> {
        loop {
            let due = self.app.due_timers(now, TIMER_BATCH).await?;
            let mut fired_any = false;
            for chunk in due.chunks(TIMERS_PER_COMMIT) {
                // One commit for the chunk; if anything in it fails, nothing of it was
                // written, and each timer gets its own transaction instead, so one bad
                // timer delays only itself.
                let outcomes: Vec<(&Timer, AppResult<bool>)> = match self
                    .app
                    .fire_timers(chunk)
                    .await
                {
                    Ok(fired) => chunk.iter().zip(fired.into_iter().map(Ok)).collect(),
                    Err(e) if chunk.len() > 1 => {
                        tracing::warn!(error = %e, "a batch of timers failed; firing them one by one");
                        let mut v = Vec::with_capacity(chunk.len());
                        for t in chunk {
                            v.push((t, self.app.fire_timer(t).await));
                        }
                        v
                    }
                    Err(e) => vec![(&chunk[0], Err(e))],
                };
                let at = self.app.now();
                for (t, outcome) in outcomes {
                    match outcome {
                        Ok(true) => {
                            fired_any = true;
                            report.timers_fired += 1;
                            report.lateness_ms.push(at - t.due_at);
                        }
                        Ok(false) => {}
                        Err(e) => {
                            report.errors += 1;
                            tracing::error!(kind = %t.kind, subject = %t.subject, error = %e, "timer failed; it will be retried");
                        }
                    }
                }
            }
            if due.len() < TIMER_BATCH as usize || !fired_any {
                break;
            }
        }
        Ok(())
    }

    /// Runs every tracker job due at `now`, in order per incident and tracker (a job
    /// waits while an older one of its incident and tracker is pending).
    pub async fn sync_trackers(&self, now: i64, report: &mut TickReport) -> AppResult<()> {
        // A job that waited for an older one may become runnable within this pass.
        for _ in 0..4 {
            let due = self.app.due_tracker_jobs(now, 200).await?;
            let mut ran = false;
            for job in &due {
                let Some((tracker, issue, lease)) = self.app.claim_tracker_job(job).await? else {
                    continue;
                };
                ran = true;
                let (outcome, created) = self.call_tracker(job, &tracker, issue.as_deref()).await;
                match &outcome {
                    JobOutcome::Done => report.delivered += 1,
                    JobOutcome::Retry { .. } => report.retried += 1,
                    JobOutcome::Failed { .. } => report.rejected += 1,
                }
                if let Err(e) = self
                    .app
                    .settle_tracker_job(job, &tracker, lease, &outcome, created)
                    .await
                {
                    report.errors += 1;
                    tracing::error!(error = %e, "could not record a tracker call; its lease will run out and it will run again");
                }
            }
            if !ran {
                break;
            }
        }
        Ok(())
    }

    async fn call_tracker(
        &self,
        job: &triad_store::tracker::Job,
        t: &triad_store::tracker::Tracker,
        issue: Option<&str>,
    ) -> (JobOutcome, Option<(String, String)>) {
        if t.kind == "webhook" {
            return self.call_webhook_tracker(job, t, issue).await;
        }
        let target = JiraTarget {
            base_url: t.base_url.clone(),
            api_version: t.api_version,
            auth_kind: t.auth_kind.clone(),
            auth_user: t.auth_user.clone(),
            auth_secret: t.auth_secret.clone(),
            project_key: t.project_key.clone(),
            issue_type: t.issue_type.clone(),
        };
        let now = self.app.now();
        let (outcome, created) = match (job.kind.as_str(), issue) {
            ("create", _) => {
                let v: serde_json::Value = serde_json::from_str(&job.body).unwrap_or_default();
                let text = |k: &str| {
                    v.get(k)
                        .and_then(|x| x.as_str())
                        .unwrap_or_default()
                        .to_string()
                };
                let labels: Vec<String> = v
                    .get("labels")
                    .and_then(|l| l.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|l| l.as_str().map(str::to_string))
                    .collect();
                let r = self
                    .jira
                    .create_issue(
                        &target,
                        &text("summary"),
                        &text("description"),
                        &labels,
                        now,
                    )
                    .await;
                (r.outcome, r.issue)
            }
            ("comment", Some(key)) => (self.jira.comment(&target, key, &job.body, now).await, None),
            ("transition", Some(key)) => (
                self.jira.transition(&target, key, &job.body, now).await,
                None,
            ),
            (kind, _) => (
                Outcome::Rejected {
                    error: format!("a {kind} job without its issue"),
                },
                None,
            ),
        };
        (job_outcome(outcome), created)
    }

    /// A webhook tracker: one signed JSON event per job, sent like a webhook contact
    /// method's (`Triad-Signature` with the tracker's token), through the engine's
    /// channels. A create links the incident to `triad-<number>` at that tracker.
    async fn call_webhook_tracker(
        &self,
        job: &triad_store::tracker::Job,
        t: &triad_store::tracker::Tracker,
        issue: Option<&str>,
    ) -> (JobOutcome, Option<(String, String)>) {
        let incident = self
            .app
            .incident_number(&job.incident_id)
            .await
            .ok()
            .flatten();
        let key = issue.map(str::to_string).unwrap_or_else(|| {
            format!(
                "triad-{}",
                incident.map(|n| n.to_string()).unwrap_or_default()
            )
        });
        let (kind, detail) = match job.kind.as_str() {
            "create" => (
                "ticket.create",
                serde_json::from_str(&job.body).unwrap_or_default(),
            ),
            "comment" => ("ticket.comment", serde_json::json!({"text": job.body})),
            _ => (
                "ticket.transition",
                serde_json::json!({"transition": job.body}),
            ),
        };
        let event = serde_json::json!({
            "type": kind,
            "tracker": t.name,
            "ticket": key,
            "incident_id": job.incident_id,
            "incident_number": incident,
            "job_id": job.id,
            "detail": detail,
        });
        let message = Message {
            notification_id: job.id.clone(),
            idempotency_key: job.idempotency_key.clone(),
            channel: Channel::Webhook,
            address: t.base_url.clone(),
            recipient_name: Some(t.name.clone()),
            subject: format!("{kind} {key}"),
            text: job.body.clone(),
            event,
            secret: t.auth_secret.clone(),
            created_at: job.created_at,
        };
        let outcome = job_outcome(self.notifier.send(&message, self.app.now()).await);
        let created = (job.kind == "create" && outcome == JobOutcome::Done)
            .then(|| (job.incident_id.clone(), key));
        (outcome, created)
    }

    /// Delivers every notification due at `now`.
    pub async fn deliver_due(&self, now: i64, report: &mut TickReport) -> AppResult<()> {
        loop {
            let batches = self.app.claim_deliveries(now, DELIVERY_BATCH).await?;
            if batches.is_empty() {
                break;
            }
            let results: Vec<(Batch, Attempt)> = futures::stream::iter(batches)
                .map(|b| async move {
                    let attempt = self.send(&b).await;
                    (b, attempt)
                })
                .buffer_unordered(CONCURRENT_SENDS)
                .collect()
                .await;
            for (batch, attempt) in results {
                match &attempt {
                    Attempt::Delivered { .. } => report.delivered += batch.items.len(),
                    Attempt::Retry { .. } => report.retried += batch.items.len(),
                    Attempt::Rejected { .. } => report.rejected += batch.items.len(),
                }
                if let Err(e) = self.app.record_delivery(&batch, &attempt).await {
                    report.errors += 1;
                    tracing::error!(error = %e, "could not record a delivery; its lease will run out and it will be retried");
                }
            }
        }
        Ok(())
    }

    async fn send(&self, batch: &Batch) -> Attempt {
        let Some(message) = to_message(&batch.items) else {
            return Attempt::Rejected {
                error: format!("unknown channel {:?}", batch.items[0].channel),
            };
        };
        match self.notifier.send(&message, self.app.now()).await {
            Outcome::Delivered { detail } => Attempt::Delivered { detail },
            Outcome::Retry { error, retry_after } => Attempt::Retry {
                error,
                retry_after_ms: retry_after
                    .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            },
            Outcome::Rejected { error } => Attempt::Rejected { error },
        }
    }

    /// Runs until `shutdown` is cancelled: one loop fires timers, another delivers the
    /// outbox, so slow destinations never hold up a deadline. Each loop wakes when this
    /// process commits new work, at its next due time, and at least every `poll`. A pass
    /// in progress finishes first, so deliveries in flight are completed and recorded.
    pub async fn run(self, shutdown: CancellationToken) {
        tokio::join!(
            self.clone().run_part(Part::Timers, shutdown.clone()),
            self.clone().run_part(Part::Deliveries, shutdown),
        );
        tracing::info!("engine stopped");
    }

    async fn run_part(self, part: Part, shutdown: CancellationToken) {
        let mut signals = self.app.work_signals();
        loop {
            let now = self.app.now();
            let mut report = TickReport::default();
            let result = match part {
                Part::Timers => self.fire_due(now, &mut report).await,
                Part::Deliveries => self.deliver_due(now, &mut report).await,
            };
            // After a failure, wait a full poll before trying again rather than spinning
            // on a timer or delivery that keeps failing.
            let failed = match result {
                Ok(()) => report.errors > 0,
                Err(e) => {
                    tracing::error!(error = %e, ?part, "engine pass failed; retrying");
                    true
                }
            };
            let next = match part {
                Part::Timers => self.app.next_timer_at().await,
                Part::Deliveries => self.app.next_delivery_at().await,
            };
            let wait = match next {
                _ if failed => self.poll,
                Ok(Some(at)) => {
                    let ms = (at - self.app.now()).clamp(MIN_WAIT_MS, self.poll.as_millis() as i64);
                    Duration::from_millis(ms as u64)
                }
                Ok(None) => self.poll,
                Err(e) => {
                    tracing::error!(error = %e, "engine cannot read its next work");
                    self.poll
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = signals.changed() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Part {
    Timers,
    Deliveries,
}

/// The message for a batch: one notification as it is, several to one destination
/// combined into one message.
pub fn to_message(items: &[Notification]) -> Option<Message> {
    let first = items.first()?;
    let channel = Channel::parse(&first.channel)?;
    let mut m = Message {
        notification_id: first.id.clone(),
        idempotency_key: first.idempotency_key.clone(),
        channel,
        address: first.address.clone(),
        recipient_name: Some(first.recipient.clone()),
        subject: first.subject.clone(),
        text: first.body.clone(),
        event: first.event.clone(),
        secret: first.secret.clone(),
        created_at: first.created_at,
    };
    if items.len() > 1 {
        m.subject = format!(
            "{} notifications from Triad: {}",
            items.len(),
            first.subject
        );
        m.text = items
            .iter()
            .map(|n| format!("• {}\n{}", n.subject, n.body))
            .collect::<Vec<_>>()
            .join("\n\n");
        m.event = serde_json::json!({
            "type": "batch",
            "items": items.iter().map(|n| n.event.clone()).collect::<Vec<_>>(),
        });
    }
    Some(m)
}

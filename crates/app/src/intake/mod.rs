//! Alert intake: integration keys authenticate senders, a per-key rate limit protects
//! the rest, and ONE writer task applies events in batches, one transaction per batch
//! (group commit), answering each sender only after its batch has committed and been
//! flushed to disk — so a 202 means durably stored, and durability costs one flush per
//! batch (or fewer: one flush covers every batch committed while the previous flush
//! ran), not per event.

mod apply;

use crate::{Actor, App, AppError, AppResult};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{mpsc, oneshot};
use triad_domain::Millis;
use triad_intake::{AlertEvent, ChangeEvent, opsgenie};
use triad_store::integration_key::{self as keys, IntegrationKey};

/// Most events the writer applies in one transaction.
pub const MAX_BATCH: usize = 256;
/// Events waiting for the writer before senders are told to back off (503).
const QUEUE: usize = 8192;
/// How long a looked-up key is trusted before it is read again (revocations on other
/// nodes take effect within this time; on this node at once).
const KEY_CACHE_MS: Millis = 5_000;

/// What a sender asks for.
#[derive(Debug, Clone)]
pub enum Command {
    /// Alert events, applied in order (an Alertmanager group is several).
    Alerts(Vec<AlertEvent>),
    /// Opsgenie: create an alert (or count it again while its alias is open), recording
    /// the request for `GET /v2/alerts/requests/{id}`.
    OpsgenieCreate(AlertEvent),
    /// A change event onto the service's open incidents.
    Change(ChangeEvent),
    /// Opsgenie: acknowledge or close (the event's action) the alert named by `id`.
    Opsgenie {
        id: opsgenie::Identifier,
        event: AlertEvent,
    },
    /// Opsgenie: a note on the alert named by `id`.
    OpsgenieNote {
        id: opsgenie::Identifier,
        note: opsgenie::Note,
    },
}

/// What happened to one alert event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub dedup_key: String,
    pub alert_id: Option<String>,
    pub incident_id: Option<String>,
    /// `created`, `updated`, `acknowledged`, `resolved`, `noted`, or `dropped` (an
    /// acknowledge or resolve for no open alert: accepted and ignored, as PagerDuty does).
    pub status: &'static str,
}

/// The answer to a command, after it committed.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub applied: Vec<Applied>,
    /// The incidents a change event was recorded on.
    pub incidents: Vec<String>,
    /// Opsgenie's request id (`GET /v2/alerts/requests/{id}`).
    pub request_id: Option<String>,
}

struct Job {
    key: IntegrationKey,
    command: Command,
    reply: oneshot::Sender<AppResult<Outcome>>,
}

/// A fixed one-minute window per key.
#[derive(Debug, Clone, Copy)]
struct Window {
    started: Millis,
    count: i64,
}

/// The writer's running totals since this process started (for `/metrics`).
#[derive(Debug, Default)]
struct Counts {
    batches: AtomicU64,
    commands: AtomicU64,
    failed_batches: AtomicU64,
    set_wise: AtomicU64,
    /// Set for good when a flush to disk failed: see [`syncer`].
    stopped: std::sync::atomic::AtomicBool,
}

/// Why the intake refuses everything after a failed flush.
const STOPPED: &str = "the intake stopped after a failed flush to disk; events committed \
    since may not be on disk; restart Triad";

fn stopped_error() -> AppError {
    AppError::Unavailable(STOPPED.into())
}

/// A snapshot of the writer's totals since this process started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IntakeCounts {
    /// Transactions the writer committed or attempted, one per batch.
    pub batches: u64,
    /// Commands (requests) taken from the queue.
    pub commands: u64,
    /// Batches that failed as a whole and were retried one command at a time.
    pub failed_batches: u64,
    /// Alert events applied through the set-wise path ([`apply::triggers`]).
    pub set_wise_events: u64,
}

/// The running intake of one process.
pub(crate) struct Intake {
    queue: mpsc::Sender<Job>,
    keys: Mutex<HashMap<String, (IntegrationKey, Millis)>>,
    windows: Mutex<HashMap<String, Window>>,
    counts: std::sync::Arc<Counts>,
}

impl Intake {
    fn start(app: App) -> Intake {
        let (queue, jobs) = mpsc::channel(QUEUE);
        let counts = std::sync::Arc::new(Counts::default());
        tokio::spawn(writer(app, jobs, counts.clone()));
        Intake {
            queue,
            keys: Mutex::new(HashMap::new()),
            windows: Mutex::new(HashMap::new()),
            counts,
        }
    }
}

/// The actor an integration key acts as on the timeline.
pub fn actor_of(key: &IntegrationKey, format: &str) -> Actor {
    let name = key.name.as_deref().unwrap_or("integration");
    Actor::Integration(format!("{name} ({format}, key {}…)", key.key_prefix))
}

impl App {
    fn intake(&self) -> &Intake {
        self.inner
            .intake
            .get_or_init(|| Intake::start(self.clone()))
    }

    /// The live integration key `key` names, or 401-kind `Unauthenticated`.
    pub async fn integration_key(&self, key: &str) -> AppResult<IntegrationKey> {
        let hash = crate::secret::token_hash(key.trim());
        let now = self.now();
        if let Ok(cache) = self.intake().keys.lock()
            && let Some((k, at)) = cache.get(&hash)
            && now - at < KEY_CACHE_MS
        {
            return Ok(k.clone());
        }
        let mut conn = self.store().read().await?;
        let found = keys::by_hash(&mut conn, &hash).await?;
        drop(conn);
        match found {
            Some(k) if k.revoked_at.is_none() => {
                if let Ok(mut cache) = self.intake().keys.lock() {
                    cache.insert(hash, (k.clone(), now));
                }
                Ok(k)
            }
            _ => Err(AppError::Unauthenticated(
                "unknown or revoked integration key",
            )),
        }
    }

    /// Forgets cached keys (after a revocation on this node).
    pub(crate) fn forget_integration_keys(&self) {
        if let Some(i) = self.inner.intake.get()
            && let Ok(mut cache) = i.keys.lock()
        {
            cache.clear();
        }
    }

    /// Counts `events` against the key's per-minute limit; `RateLimited` when over.
    pub fn check_rate(&self, key: &IntegrationKey, events: i64) -> AppResult<()> {
        let now = self.now();
        let Ok(mut windows) = self.intake().windows.lock() else {
            return Ok(());
        };
        let w = windows.entry(key.id.clone()).or_insert(Window {
            started: now,
            count: 0,
        });
        if now - w.started >= 60_000 || now < w.started {
            *w = Window {
                started: now,
                count: 0,
            };
        }
        if w.count + events > key.rate_limit_per_minute {
            let left = 60_000 - (now - w.started);
            return Err(AppError::RateLimited {
                limit: key.rate_limit_per_minute,
                retry_after_seconds: u64::try_from(left.div_euclid(1000) + 1).unwrap_or(60),
            });
        }
        w.count += events;
        Ok(())
    }

    /// Applies a command for `key` through the group-commit writer; returns once it has
    /// committed and is on disk. An error means it was not stored, or (a failed flush,
    /// 503) that it may not be on disk; either way the sender should retry.
    pub async fn submit(&self, key: &IntegrationKey, command: Command) -> AppResult<Outcome> {
        if self.intake_stopped() {
            return Err(stopped_error());
        }
        let (reply, answer) = oneshot::channel();
        let job = Job {
            key: key.clone(),
            command,
            reply,
        };
        self.intake().queue.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => AppError::Unavailable(
                "the intake queue is full; nothing was stored, retry shortly".into(),
            ),
            mpsc::error::TrySendError::Closed(_) => {
                AppError::Internal("the intake writer stopped".into())
            }
        })?;
        answer
            .await
            .map_err(|_| AppError::Internal("the intake writer dropped a request".into()))?
    }

    /// Whether the intake has stopped after a failed flush to disk (see ADR 0006): it
    /// then refuses every event with 503 and `/readyz` fails until Triad restarts.
    pub fn intake_stopped(&self) -> bool {
        self.inner
            .intake
            .get()
            .is_some_and(|i| i.counts.stopped.load(Ordering::SeqCst))
    }

    /// The group-commit writer's totals (zero until the first intake request).
    pub fn intake_counts(&self) -> IntakeCounts {
        self.inner
            .intake
            .get()
            .map_or_else(IntakeCounts::default, |i| IntakeCounts {
                batches: i.counts.batches.load(Ordering::Relaxed),
                commands: i.counts.commands.load(Ordering::Relaxed),
                failed_batches: i.counts.failed_batches.load(Ordering::Relaxed),
                set_wise_events: i.counts.set_wise.load(Ordering::Relaxed),
            })
    }

    /// How many alerts are open (for `/metrics`).
    pub async fn open_alerts(&self) -> AppResult<i64> {
        let mut conn = self.store().read().await?;
        Ok(triad_store::alert::count_open(&mut conn).await?)
    }

    /// An Opsgenie request's recorded outcome.
    pub async fn intake_request(
        &self,
        key: &IntegrationKey,
        id: &str,
    ) -> AppResult<triad_store::alert::IntakeRequest> {
        let mut conn = self.store().read().await?;
        triad_store::alert::get_request(&mut conn, &key.id, id)
            .await?
            .ok_or(AppError::NotFound("request"))
    }
}

type Reply = oneshot::Sender<AppResult<Outcome>>;

/// The one writer: takes whatever is queued (up to [`MAX_BATCH`]), applies it in one
/// transaction and hands the answers to [`syncer`], which sends them once the commit is
/// on disk; meanwhile the writer goes on with the next batch. If a batch fails, each
/// job is retried alone so one bad event cannot fail its neighbours; a refusal is
/// answered at once (nothing was stored).
async fn writer(app: App, mut jobs: mpsc::Receiver<Job>, counts: std::sync::Arc<Counts>) {
    // Bounded, so that a stalled disk stops the writer and fills the queue (503) instead
    // of piling up commits nobody has been answered for.
    let (to_sync, committed) = mpsc::channel(SYNC_QUEUE);
    tokio::spawn(syncer(app.clone(), committed, counts.clone()));
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        if counts.stopped.load(Ordering::SeqCst) {
            for job in batch {
                let _ = job.reply.send(Err(stopped_error()));
            }
            continue;
        }
        counts.batches.fetch_add(1, Ordering::Relaxed);
        counts
            .commands
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        let mut done: Vec<(Reply, Outcome)> = Vec::with_capacity(batch.len());
        match run_batch(&app, &batch, &counts).await {
            Ok(outcomes) => done.extend(batch.into_iter().map(|j| j.reply).zip(outcomes)),
            Err(e) if batch.len() == 1 => {
                if let Some(job) = batch.pop() {
                    let _ = job.reply.send(Err(e));
                }
            }
            Err(e) => {
                counts.failed_batches.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, commands = batch.len(),
                    "an intake batch failed; retrying its commands one at a time");
                for job in batch {
                    match run_batch(&app, std::slice::from_ref(&job), &counts).await {
                        Ok(mut o) => done.push((job.reply, o.pop().unwrap_or_default())),
                        Err(e) => {
                            let _ = job.reply.send(Err(e));
                        }
                    }
                }
            }
        }
        if !done.is_empty() && to_sync.send(done).await.is_err() {
            tracing::error!("the intake's disk flusher stopped; the writer stops too");
            return;
        }
    }
}

/// Committed batches waiting for their flush before the writer waits too.
const SYNC_QUEUE: usize = 64;

/// Answers committed requests once their commits are on disk: takes every batch
/// committed so far, flushes the write-ahead log once for all of them
/// ([`triad_store::Store::sync_wal`]), then answers.
///
/// A failed flush stops the intake for good. The batches it covered are committed and
/// visible but may never reach the disk, and every later commit depends on them (after
/// a power loss SQLite's recovery stops at the first missing frame), so no later flush
/// can make anything safe to confirm. Everything is answered 503 from then on and
/// `/readyz` fails until Triad is restarted (as PostgreSQL stops on a failed fsync).
async fn syncer(
    app: App,
    mut committed: mpsc::Receiver<Vec<(Reply, Outcome)>>,
    counts: std::sync::Arc<Counts>,
) {
    while let Some(mut ready) = committed.recv().await {
        while let Ok(more) = committed.try_recv() {
            ready.extend(more);
        }
        let flushed = if counts.stopped.load(Ordering::SeqCst) {
            Err(stopped_error())
        } else {
            app.store().sync_wal().await.map_err(|e| {
                counts.stopped.store(true, Ordering::SeqCst);
                tracing::error!(error = %e, requests = ready.len(),
                    "intake events were committed but could not be flushed to disk; \
                     the intake stops (503) until Triad is restarted");
                stopped_error()
            })
        };
        for (reply, outcome) in ready {
            let answer = match &flushed {
                Ok(()) => Ok(outcome),
                Err(_) => Err(stopped_error()),
            };
            let _ = reply.send(answer);
        }
    }
}

/// Applies a batch in one transaction, in order. Consecutive trigger-only commands with
/// distinct dedup keys (a storm of repeats) go through [`apply::triggers`] together;
/// everything else one command at a time.
async fn run_batch(app: &App, batch: &[Job], counts: &Counts) -> AppResult<Vec<Outcome>> {
    let now = app.now();
    let mut d = app.decide_held().await?;
    let mut out = Vec::with_capacity(batch.len());
    let mut rest = batch;
    while let Some(job) = rest.first() {
        let run = trigger_run(rest);
        if run.is_empty() {
            out.push(apply::command(&mut d, &job.key, &job.command, now).await?);
            rest = &rest[1..];
        } else {
            out.extend(apply::triggers(&mut d, &run, now).await?);
            let events: usize = run.iter().map(|(_, events)| events.len()).sum();
            counts.set_wise.fetch_add(events as u64, Ordering::Relaxed);
            rest = &rest[run.len()..];
        }
    }
    d.commit().await?;
    Ok(out)
}

/// The longest run at the start of `jobs` of trigger-only commands whose named dedup
/// keys are distinct (per integration key); empty when the first job is not one.
fn trigger_run(jobs: &[Job]) -> Vec<(&IntegrationKey, &[AlertEvent])> {
    let mut seen = std::collections::HashSet::new();
    let mut run = Vec::new();
    for job in jobs {
        let Some(events) = apply::only_triggers(&job.command) else {
            break;
        };
        let named: Vec<(&str, &str)> = events
            .iter()
            .filter_map(|e| e.dedup_key.as_deref())
            .map(|k| (job.key.id.as_str(), k))
            .collect();
        let distinct: std::collections::HashSet<_> = named.iter().copied().collect();
        if distinct.len() < named.len() || named.iter().any(|k| seen.contains(k)) {
            break;
        }
        seen.extend(named);
        run.push((&job.key, events));
    }
    run
}

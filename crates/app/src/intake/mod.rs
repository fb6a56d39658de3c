//! Alert intake: integration keys authenticate senders, a per-key rate limit protects
//! the rest, and ONE writer task applies events in batches, one transaction per batch
//! (group commit), answering each sender only after its batch has committed — so a 202
//! means durably stored, and durability costs one commit per batch, not per event.

mod apply;

use crate::{Actor, App, AppError, AppResult};
use std::collections::HashMap;
use std::sync::Mutex;
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

/// The running intake of one process.
pub(crate) struct Intake {
    queue: mpsc::Sender<Job>,
    keys: Mutex<HashMap<String, (IntegrationKey, Millis)>>,
    windows: Mutex<HashMap<String, Window>>,
}

impl Intake {
    fn start(app: App) -> Intake {
        let (queue, jobs) = mpsc::channel(QUEUE);
        tokio::spawn(writer(app, jobs));
        Intake {
            queue,
            keys: Mutex::new(HashMap::new()),
            windows: Mutex::new(HashMap::new()),
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
    /// committed (or failed, having changed nothing).
    pub async fn submit(&self, key: &IntegrationKey, command: Command) -> AppResult<Outcome> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            key: key.clone(),
            command,
            reply,
        };
        self.intake().queue.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => AppError::Store(triad_store::StoreError::Config(
                "the intake queue is full; retry shortly".into(),
            )),
            mpsc::error::TrySendError::Closed(_) => {
                AppError::Internal("the intake writer stopped".into())
            }
        })?;
        answer
            .await
            .map_err(|_| AppError::Internal("the intake writer dropped a request".into()))?
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

/// The one writer: takes whatever is queued (up to [`MAX_BATCH`]), applies it in one
/// transaction and answers everyone; if the batch fails, each job is retried alone so
/// one bad event cannot fail its neighbours.
async fn writer(app: App, mut jobs: mpsc::Receiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        match run_batch(&app, &batch).await {
            Ok(outcomes) => {
                for (job, outcome) in batch.into_iter().zip(outcomes) {
                    let _ = job.reply.send(Ok(outcome));
                }
            }
            Err(e) if batch.len() == 1 => {
                if let Some(job) = batch.pop() {
                    let _ = job.reply.send(Err(e));
                }
            }
            Err(_) => {
                for job in batch {
                    let result = run_batch(&app, std::slice::from_ref(&job))
                        .await
                        .map(|mut o| o.pop().unwrap_or_default());
                    let _ = job.reply.send(result);
                }
            }
        }
    }
}

async fn run_batch(app: &App, batch: &[Job]) -> AppResult<Vec<Outcome>> {
    let now = app.now();
    let mut d = app.decide().await?;
    let mut out = Vec::with_capacity(batch.len());
    for job in batch {
        out.push(apply::command(&mut d, &job.key, &job.command, now).await?);
    }
    d.commit().await?;
    Ok(out)
}

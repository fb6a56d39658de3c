//! Triad's use cases. Each public function is one decision: authorise the actor, load
//! what it needs, ask `domain` for the decision, then write state and timeline events in
//! ONE transaction, and only after the commit tell live streams (see [`App::subscribe`]).

pub mod actor;
pub mod auth;
pub mod clock;
pub mod contact;
pub mod delivery;
pub mod engine;
pub mod error;
pub mod impact;
pub mod incident;
pub mod intake;
pub mod integration;
mod lifecycle;
pub mod oncall;
mod outbox;
pub mod policy;
pub mod report;
pub mod role;
pub mod schedule;
pub mod secret;
pub mod service;
pub mod status;
pub mod subscription;
pub mod team;
pub mod template;
pub mod timeline;
pub mod token;
pub mod tracker;
pub mod update;
pub mod update_request;
pub mod user;

pub use actor::Actor;
pub use error::{AppError, AppResult};

use clock::Clock;
use std::sync::Arc;
use tokio::sync::watch;
use triad_domain::Millis;
use triad_domain::policy::SeverityPolicies;
use triad_domain::timeline::{EventKind, NewEvent, TimelineEvent};
use triad_store::{Store, Tx, counter};

/// Formats epoch milliseconds as RFC 3339 UTC (`2026-11-24T10:00:00Z`), the one time
/// format of the API, the timeline's data and the CLI.
pub fn rfc3339(ms: Millis) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| ms.to_string())
}

/// Settings the use cases depend on.
#[derive(Debug, Clone, Default)]
pub struct AppConfig {
    /// The severity policies of the configuration file (the API can override them).
    pub policies: SeverityPolicies,
    pub delivery: delivery::DeliveryConfig,
}

/// The application: store, clock, configuration and the commit signal. Cheap to clone.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    config: AppConfig,
    /// The highest timeline sequence number committed by this process.
    committed: watch::Sender<i64>,
    /// Poked after a commit that wrote timers or outbox rows: wakes the engine.
    work: watch::Sender<u64>,
    /// Alert intake's writer and caches, started by the first intake request.
    intake: std::sync::OnceLock<intake::Intake>,
    /// Moves whenever this process changes what the public status page shows.
    status_generation: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("store", &self.inner.store)
            .finish()
    }
}

impl App {
    pub async fn new(store: Store, clock: Arc<dyn Clock>, config: AppConfig) -> AppResult<App> {
        let mut conn = store.read().await?;
        let last = counter::current(&mut conn, counter::TIMELINE_SEQ).await?;
        drop(conn);
        let (committed, _) = watch::channel(last);
        Ok(App {
            inner: Arc::new(Inner {
                store,
                clock,
                config,
                committed,
                work: watch::channel(0).0,
                intake: std::sync::OnceLock::new(),
                status_generation: std::sync::atomic::AtomicU64::new(0),
            }),
        })
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn now(&self) -> Millis {
        self.inner.clock.now()
    }

    pub fn config(&self) -> &AppConfig {
        &self.inner.config
    }

    /// A receiver that changes whenever this process commits timeline events; its value
    /// is the highest sequence number committed. Other nodes' commits are not signalled
    /// here, so readers also poll (see `http::stream`).
    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.inner.committed.subscribe()
    }

    /// A receiver that changes whenever a commit of this process wrote timers or
    /// notifications. Each engine loop holds its own receiver.
    pub fn work_signals(&self) -> watch::Receiver<u64> {
        self.inner.work.subscribe()
    }

    /// Starts a decision: one write transaction that collects timeline events.
    pub(crate) async fn decide(&self) -> AppResult<Decision<'_>> {
        let tx = self.inner.store.begin().await?;
        Ok(self.decision(tx))
    }

    /// [`App::decide`] on the store's held connection ([`Store::begin_held`]), for the
    /// intake's group-commit writer.
    pub(crate) async fn decide_held(&self) -> AppResult<Decision<'_>> {
        let tx = self.inner.store.begin_held().await?;
        Ok(self.decision(tx))
    }

    fn decision(&self, tx: Tx) -> Decision<'_> {
        Decision {
            app: self,
            tx,
            last_seq: None,
            pending: Vec::new(),
            wake: false,
            chat: std::collections::HashMap::new(),
            reach: std::collections::HashMap::new(),
            admins: None,
        }
    }

    /// A timeline event by `actor` about `incident_id`, at the current time.
    pub(crate) fn event(
        &self,
        actor: &Actor,
        incident_id: &str,
        kind: EventKind,
        body: String,
        data: serde_json::Value,
    ) -> NewEvent {
        NewEvent {
            incident_id: incident_id.to_string(),
            at: self.now(),
            actor_id: actor.user_id().map(str::to_string),
            actor_name: Some(actor.name().to_string()),
            kind,
            body,
            data,
        }
    }

    /// Checks that the database answers.
    pub async fn ready(&self) -> AppResult<()> {
        if self.intake_stopped() {
            return Err(AppError::Unavailable(
                "the intake stopped after a failed flush to disk; restart Triad".into(),
            ));
        }
        Ok(self.inner.store.ping().await?)
    }
}

/// One transaction in progress; see [`App::decide`].
pub(crate) struct Decision<'a> {
    app: &'a App,
    tx: Tx,
    last_seq: Option<i64>,
    /// Timeline events deferred by [`Decision::defer`], written at the next append or
    /// at commit.
    pending: Vec<NewEvent>,
    /// Whether the engine has new work once this commits.
    wake: bool,
    /// Each incident's chat mirror webhook, looked up once per decision.
    chat: std::collections::HashMap<String, Option<String>>,
    /// Each person's contact methods and notification rules, read once per decision.
    reach: std::collections::HashMap<String, outbox::Reach>,
    /// The active administrators, read once per decision.
    admins: Option<Vec<triad_domain::user::User>>,
}

impl Decision<'_> {
    pub(crate) fn conn(&mut self) -> &mut triad_store::Conn {
        self.tx.conn()
    }

    /// Appends a timeline event (after any deferred ones), and mirrors it to the
    /// incident's chat channel.
    pub(crate) async fn append(&mut self, event: NewEvent) -> AppResult<TimelineEvent> {
        self.pending.push(event);
        self.flush()
            .await?
            .ok_or(AppError::Internal("a timeline append wrote nothing".into()))
    }

    /// Queues a timeline event to be written with the next [`Decision::append`] or at
    /// commit, together with the others queued: one counter update and one `INSERT` for
    /// all of them (the intake writer's repeated triggers). Sequence numbers still follow
    /// the order of the calls; the event is not readable in this transaction until then.
    pub(crate) fn defer(&mut self, event: NewEvent) {
        self.pending.push(event);
    }

    /// Writes the queued events and mirrors each to chat; returns the last one.
    async fn flush(&mut self) -> AppResult<Option<TimelineEvent>> {
        if self.pending.is_empty() {
            return Ok(None);
        }
        let events = std::mem::take(&mut self.pending);
        let mut stored = triad_store::timeline::append_many(self.tx.conn(), events).await?;
        for ev in &stored {
            self.mirror_to_chat(ev).await?;
        }
        let last = stored.pop();
        if let Some(ev) = &last {
            self.last_seq = Some(ev.seq);
        }
        Ok(last)
    }

    /// Appends an event the engine itself decided (actor: Triad).
    pub(crate) async fn system_event(
        &mut self,
        incident_id: &str,
        kind: EventKind,
        body: String,
        data: serde_json::Value,
    ) -> AppResult<TimelineEvent> {
        let event = self
            .app
            .event(&Actor::System, incident_id, kind, body, data);
        self.append(event).await
    }

    /// Marks that this decision wrote timers or outbox rows.
    pub(crate) fn wake_engine(&mut self) {
        self.wake = true;
    }

    /// Commits, then signals live streams. Nothing is signalled for a failed commit.
    pub(crate) async fn commit(mut self) -> AppResult<()> {
        self.flush().await?;
        self.tx.commit().await?;
        if self.wake {
            self.app.inner.work.send_modify(|n| *n = n.wrapping_add(1));
        }
        if let Some(seq) = self.last_seq {
            self.app.inner.committed.send_if_modified(|v| {
                let newer = seq > *v;
                if newer {
                    *v = seq;
                }
                newer
            });
        }
        Ok(())
    }
}

//! Test support: a fresh database per test on either backend, a running server over
//! real HTTP driven by a `ManualClock`, and helpers to make users and call the API; real
//! third-party programs for the protocol tests: an SMTP server ([`SmtpServer`]),
//! Prometheus Alertmanager ([`Alertmanager`]) and Python clients ([`run_python`]).

pub mod alertmanager;
mod db;
pub mod node;
pub mod python;
mod recorder;
mod sink;
mod smtp;

pub use alertmanager::Alertmanager;
pub use db::{TestDb, postgres_url};
pub use node::run_node;
pub use python::{run_python, run_python_ok};
pub use recorder::{Recorder, Sent};
pub use sink::{Answer, Hit, Sink, reply};
pub use smtp::{SmtpServer, python_with};
pub use triad_app::clock::{Clock, ManualClock};

use reqwest::Method;
use serde_json::Value;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use triad_app::token::NewToken;
use triad_app::user::NewUser;
use triad_app::{Actor, App, AppConfig};
use triad_store::Store;

/// 2026-01-01T00:00:00Z: where every test clock starts.
pub const T0: i64 = 1_767_225_600_000;

/// Runs an async test body once on SQLite and once on PostgreSQL:
/// `both_backends!(name, |db| async move { ... })` defines `name_sqlite` and
/// `name_postgres`. The PostgreSQL variant needs `TRIAD_TEST_POSTGRES_URL`; without it
/// the test says it is skipped (CI always sets it).
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::TestDb::sqlite().await;
                ($body)(db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(db) = $crate::TestDb::postgres().await else {
                    eprintln!("skipped: TRIAD_TEST_POSTGRES_URL is not set");
                    return;
                };
                ($body)(db).await;
            }
        }
    };
}

/// A Triad server on 127.0.0.1 with a manual clock, an admin, and its token.
pub struct TestApp {
    pub base: String,
    pub app: App,
    pub clock: ManualClock,
    /// The engine, driven by the test: call [`TestApp::tick`] after moving the clock.
    pub engine: triad_engine::Engine,
    /// Every message the engine delivered (unless the test installed other channels).
    pub recorder: Recorder,
    pub admin_token: String,
    pub http: reqwest::Client,
    shutdown: CancellationToken,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    pub db: TestDb,
}

impl TestApp {
    pub async fn spawn(db: TestDb) -> TestApp {
        Self::spawn_with(db, AppConfig::default(), None).await
    }

    /// Like [`TestApp::spawn`], with a configuration and, optionally, real channels
    /// instead of the recorder.
    pub async fn spawn_with(
        db: TestDb,
        config: AppConfig,
        notifier: Option<Arc<dyn triad_notify::Notifier>>,
    ) -> TestApp {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let store = Store::connect(&db.url).await.expect("connect");
        store.migrate().await.expect("migrate");
        let clock = ManualClock::new(T0);
        let app = App::new(store, Arc::new(clock.clone()), config)
            .await
            .expect("app");
        let recorder = Recorder::new();
        let notifier = notifier.unwrap_or_else(|| Arc::new(recorder.clone()));
        let engine =
            triad_engine::Engine::new(app.clone(), notifier, std::time::Duration::from_secs(1));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let shutdown = CancellationToken::new();
        let state = triad_http::AppState::new(app.clone(), shutdown.clone());
        let server = tokio::spawn(triad_http::serve(listener, state));
        let mut t = TestApp {
            base,
            app,
            clock,
            engine,
            recorder,
            admin_token: String::new(),
            http: reqwest::Client::new(),
            shutdown,
            server: Some(server),
            db,
        };
        let (_, token) = t.user("admin@example.com", "Ada Admin", "admin").await;
        t.admin_token = token;
        t
    }

    /// Runs one engine pass at the clock's current time.
    pub async fn tick(&self) -> triad_engine::TickReport {
        self.engine
            .tick(self.clock.now())
            .await
            .expect("engine pass")
    }

    /// Moves the clock forward by `seconds`, then runs one engine pass.
    pub async fn advance(&self, seconds: i64) -> triad_engine::TickReport {
        self.clock.advance_secs(seconds);
        self.tick().await
    }

    /// Creates a user with a system role; returns their id and an API token.
    pub async fn user(&self, email: &str, name: &str, role: &str) -> (String, String) {
        let user = self
            .app
            .create_user(
                &Actor::System,
                NewUser {
                    email: email.into(),
                    name: name.into(),
                    role: role.into(),
                    ..Default::default()
                },
            )
            .await
            .expect("create user");
        let (token, _) = self
            .app
            .create_token(
                &Actor::System,
                NewToken {
                    user: Some(user.id.clone()),
                    name: "test".into(),
                    lifetime_days: None,
                },
            )
            .await
            .expect("create token");
        (user.id, token)
    }

    /// Sends a request; returns the status and the JSON body (`Null` when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// Declares an incident as `token`'s user (asserting 201); returns the incident and
    /// its API path (`/api/v1/incidents/<number>`).
    pub async fn declare(&self, token: &str, title: &str, severity: &str) -> (Value, String) {
        let (status, incident) = self
            .post(
                "/api/v1/incidents",
                token,
                serde_json::json!({"title": title, "severity": severity}),
            )
            .await;
        assert_eq!(status, 201, "declare: {incident}");
        let path = format!("/api/v1/incidents/{}", incident["number"]);
        (incident, path)
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(h) = self.server.take() {
            let _ = h.await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

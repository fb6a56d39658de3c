//! Property tests of the whole engine (real store, real app, real engine, recording
//! channel, manual clock): random sequences of declarations, clock moves,
//! acknowledgements, resolutions, reopenings, updates, notes, role changes and update
//! requests, checked against three invariants:
//!
//! 1. nothing is paged for an incident while it is acknowledged or resolved;
//! 2. no idempotency key is delivered twice;
//! 3. an overdue obligation is never skipped silently: every deadline that passed has
//!    an `update_overdue` event, and every late update answers one.

use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;
use triad_app::incident::Declare;
use triad_app::policy::{PolicyInput, SeverityInput};
use triad_app::role::Assign;
use triad_app::update::Publish;
use triad_app::{Actor, App, AppConfig};
use triad_domain::escalation::{Level, Target};
use triad_domain::incident::{Status, Transition};
use triad_domain::user::User;
use triad_engine::Engine;
use triad_testkit::{Clock, ManualClock, Recorder, T0, TestDb};

#[derive(Debug, Clone)]
enum Op {
    Declare(u8),
    Advance(u16),
    Ack(u8),
    Resolve(u8),
    Reopen(u8),
    Publish(u8, u8),
    Note(u8),
    Coordinator(u8),
    AskForUpdate(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0u8..4).prop_map(Op::Declare),
        5 => (0u16..700).prop_map(Op::Advance),
        2 => any::<u8>().prop_map(Op::Ack),
        1 => any::<u8>().prop_map(Op::Resolve),
        1 => any::<u8>().prop_map(Op::Reopen),
        2 => (any::<u8>(), 0u8..3).prop_map(|(i, a)| Op::Publish(i, a)),
        2 => any::<u8>().prop_map(Op::Note),
        1 => any::<u8>().prop_map(Op::Coordinator),
        1 => any::<u8>().prop_map(Op::AskForUpdate),
    ]
}

struct World {
    app: App,
    engine: Engine,
    clock: ManualClock,
    recorder: Recorder,
    responders: Vec<User>,
    coordinator: User,
    /// Incident number → status in the model.
    status: HashMap<i64, Status>,
    numbers: Vec<i64>,
    /// How many recorded messages have been checked.
    seen: usize,
}

async fn world(db: &TestDb) -> World {
    let store = triad_store::Store::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let clock = ManualClock::new(T0);
    let app = App::new(store, Arc::new(clock.clone()), AppConfig::default())
        .await
        .unwrap();
    let recorder = Recorder::new();
    let engine = Engine::new(
        app.clone(),
        Arc::new(recorder.clone()),
        std::time::Duration::from_secs(1),
    );
    let mut users = Vec::new();
    for (email, role) in [
        ("r1@example.com", "responder"),
        ("r2@example.com", "responder"),
        ("c@example.com", "responder"),
        ("admin@example.com", "admin"),
    ] {
        let u = app
            .create_user(
                &Actor::System,
                triad_app::user::NewUser {
                    email: email.into(),
                    name: email.into(),
                    role: role.into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        users.push(u);
    }
    let policy = app
        .create_escalation_policy(
            &Actor::System,
            PolicyInput {
                name: "on-call".into(),
                levels: vec![
                    Level {
                        delay_seconds: 60,
                        targets: vec![Target::User {
                            id: users[0].id.clone(),
                        }],
                    },
                    Level {
                        delay_seconds: 120,
                        targets: vec![Target::User {
                            id: users[1].id.clone(),
                        }],
                    },
                ],
                repeat: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    for sev in ["SEV1", "SEV2", "SEV3", "SEV4"] {
        let p = app
            .config()
            .policies
            .get(triad_domain::severity::Severity::parse(sev).unwrap())
            .clone();
        app.put_severity_policy(
            &Actor::System,
            sev,
            SeverityInput {
                ack_deadline_seconds: p.ack_deadline_seconds,
                staffing: p.staffing,
                cadence: p.cadence,
                reminder_lead_seconds: Some(120),
                escalation_policy: Some(policy.id.clone()),
                comms_escalation_policy: None,
            },
        )
        .await
        .unwrap();
    }
    World {
        app,
        engine,
        clock,
        recorder,
        coordinator: users[2].clone(),
        responders: users[..2].to_vec(),
        status: HashMap::new(),
        numbers: Vec::new(),
        seen: 0,
    }
}

impl World {
    fn pick(&self, i: u8) -> Option<i64> {
        (!self.numbers.is_empty()).then(|| self.numbers[i as usize % self.numbers.len()])
    }

    async fn apply(&mut self, op: &Op) {
        let me = Actor::User(self.responders[0].clone());
        match *op {
            Op::Declare(sev) => {
                let v = self
                    .app
                    .declare(
                        &me,
                        Declare {
                            title: "p".into(),
                            severity: format!("SEV{}", sev + 1),
                            ..Default::default()
                        },
                    )
                    .await
                    .unwrap();
                self.numbers.push(v.incident.number);
                self.status.insert(v.incident.number, Status::Triggered);
            }
            Op::Advance(s) => self.clock.advance_secs(i64::from(s)),
            Op::Ack(i) | Op::Resolve(i) | Op::Reopen(i) => {
                let Some(n) = self.pick(i) else { return };
                let t = match op {
                    Op::Ack(_) => Transition::Acknowledge,
                    Op::Resolve(_) => Transition::Resolve,
                    _ => Transition::Reopen,
                };
                if let Ok(v) = self.app.transition(&me, &n.to_string(), t).await {
                    self.status.insert(n, v.incident.status);
                }
            }
            Op::Publish(i, a) => {
                let Some(n) = self.pick(i) else { return };
                let audience = ["public", "reporters", "stakeholders"][a as usize];
                self.app
                    .publish_update(
                        &me,
                        &n.to_string(),
                        Publish {
                            audience: audience.into(),
                            state: "identified".into(),
                            message: "m".into(),
                            public_title: None,
                        },
                    )
                    .await
                    .unwrap();
            }
            Op::Note(i) => {
                let Some(n) = self.pick(i) else { return };
                self.app.add_note(&me, &n.to_string(), "n").await.unwrap();
            }
            Op::Coordinator(i) => {
                let Some(n) = self.pick(i) else { return };
                let _ = self
                    .app
                    .assign_role(
                        &me,
                        &n.to_string(),
                        Assign {
                            role: "coordinator".into(),
                            user: self.coordinator.id.clone(),
                            note: None,
                        },
                    )
                    .await;
            }
            Op::AskForUpdate(i) => {
                let Some(n) = self.pick(i) else { return };
                let _ = self.app.request_update(&me, &n.to_string(), None).await;
            }
        }
        self.engine.tick(self.clock.now()).await.unwrap();
        self.check_pages();
    }

    /// Invariant 1, checked after every step against the model's statuses.
    fn check_pages(&mut self) {
        let sent = self.recorder.sent();
        for s in &sent[self.seen..] {
            for ev in events(&s.message.event) {
                if ev["type"] == "incident.page" {
                    let n = ev["incident"]["number"].as_i64().unwrap();
                    assert_eq!(
                        self.status[&n],
                        Status::Triggered,
                        "incident {n} paged while not triggered: {}",
                        s.message.subject
                    );
                }
            }
        }
        self.seen = sent.len();
    }

    /// Invariants 2 and 3, checked at the end.
    async fn check_end(&self) {
        let mut delivered: HashMap<String, usize> = HashMap::new();
        for s in self.recorder.sent() {
            for ev in events(&s.message.event) {
                *delivered
                    .entry(ev["idempotency_key"].as_str().unwrap().to_string())
                    .or_default() += 1;
            }
        }
        for (key, n) in &delivered {
            assert_eq!(*n, 1, "{key} delivered {n} times");
        }
        let admin = Actor::System;
        let now = self.clock.now();
        for n in &self.numbers {
            let key = n.to_string();
            let timeline = self.app.timeline(&admin, &key, 0, None).await.unwrap();
            let overdue: Vec<(String, String)> = timeline
                .iter()
                .filter(|e| e.kind.as_str() == "update_overdue")
                .map(|e| {
                    (
                        e.data["audience"].as_str().unwrap().to_string(),
                        e.data["due_at"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            for u in self.app.updates(&admin, &key, None).await.unwrap() {
                if let (Some(due), Some(late)) = (u.due_at, u.late_by_ms)
                    && late > 0
                {
                    let want = (u.audience.as_str().to_string(), triad_app::rfc3339(due));
                    assert!(
                        overdue.contains(&want),
                        "#{n}: a late {} update answers a deadline nobody flagged",
                        want.0
                    );
                }
            }
            let id = self.app.incident(&admin, &key).await.unwrap().incident.id;
            let mut conn = self.app.store().read().await.unwrap();
            for ob in triad_store::obligation::list(&mut conn, &id).await.unwrap() {
                if ob.due_at <= now {
                    assert!(
                        ob.overdue_since.is_some(),
                        "#{n}: {} passed its deadline silently",
                        ob.audience.as_str()
                    );
                    let want = (
                        ob.audience.as_str().to_string(),
                        triad_app::rfc3339(ob.due_at),
                    );
                    assert!(overdue.contains(&want), "#{n}: no update_overdue event");
                }
            }
        }
    }
}

/// The notification documents in a message (one, or several when coalesced).
fn events(doc: &serde_json::Value) -> Vec<serde_json::Value> {
    match doc["items"].as_array() {
        Some(items) if doc["type"] == "batch" => items.clone(),
        _ => vec![doc.clone()],
    }
}

fn run(postgres: bool, cases: u32) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let config = ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(ops in proptest::collection::vec(op(), 1..40))| {
        rt.block_on(async {
            let db = if postgres {
                TestDb::postgres().await.expect("TRIAD_TEST_POSTGRES_URL is set")
            } else {
                TestDb::sqlite().await
            };
            let mut w = world(&db).await;
            for op in &ops {
                w.apply(op).await;
            }
            w.check_end().await;
        });
    });
}

#[test]
fn engine_invariants_hold_sqlite() {
    run(false, 24);
}

#[test]
fn engine_invariants_hold_postgres() {
    if triad_testkit::postgres_url().is_none() {
        eprintln!("skipped: TRIAD_TEST_POSTGRES_URL is not set");
        return;
    }
    run(true, 8);
}

//! The store conformance suite for the engine's tables: timers, the notification outbox,
//! escalation policies and runs, severity policies, obligations, reporters, contact
//! methods and rules. The same assertions on SQLite and on PostgreSQL.

use serde_json::json;
use triad_domain::escalation::{EscalationPolicy, Level, Position, Target};
use triad_domain::incident::{Incident, PublicState, Status};
use triad_domain::obligation::Obligation;
use triad_domain::policy::SeverityPolicies;
use triad_domain::severity::Severity;
use triad_domain::update::Audience;
use triad_domain::user::SystemRole;
use triad_store::contact::{self, ContactMethod, Rule};
use triad_store::escalation::{self, Purpose, Run};
use triad_store::notification::{self, Notification};
use triad_store::reporter::{self, Reporter};
use triad_store::service::{self, Service};
use triad_store::{Store, StoreError, incident, new_id, obligation, severity_policy, timer, user};
use triad_testkit::{TestDb, both_backends};

async fn open(db: &TestDb) -> Store {
    let store = Store::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    store
}

async fn setup(store: &Store) -> (String, String) {
    let uid = new_id();
    let iid = new_id();
    let mut tx = store.begin().await.unwrap();
    user::insert(
        tx.conn(),
        &user::NewUser {
            id: &uid,
            email: "u@example.com",
            name: "U",
            role: SystemRole::Responder,
            time_zone: "UTC",
            password_hash: None,
            must_change_password: false,
            now: 1,
        },
    )
    .await
    .unwrap();
    incident::insert(
        tx.conn(),
        &Incident {
            id: iid.clone(),
            number: 1,
            title: "t".into(),
            description: None,
            severity: Severity::Sev1,
            status: Status::Triggered,
            public_state: PublicState::Investigating,
            service_id: None,
            created_by: None,
            created_at: 1,
            updated_at: 1,
            ack_due_at: Some(300_001),
            acknowledged_at: None,
            acknowledged_by: None,
            resolved_at: None,
            resolved_by: None,
            communication_gap_at: Some(5),
            understaffed_since: None,
            update_requests: 2,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (uid, iid)
}

fn note(key: &str, incident_id: &str, at: i64) -> Notification {
    Notification {
        id: new_id(),
        idempotency_key: key.into(),
        incident_id: Some(incident_id.into()),
        purpose: "page".into(),
        user_id: None,
        recipient: "R".into(),
        channel: "sms".into(),
        address: "+4915112345678".into(),
        secret: None,
        subject: "s".into(),
        body: "b".into(),
        event: json!({"type": "incident.page"}),
        status: "pending".into(),
        attempts: 0,
        next_attempt_at: at,
        lease_until: None,
        last_error: None,
        created_at: at,
        sent_at: None,
    }
}

both_backends!(timers_fire_once_by_generation, |db: TestDb| async move {
    let store = open(&db).await;
    let mut tx = store.begin().await.unwrap();
    timer::schedule(tx.conn(), "ack_due", "i1", 100)
        .await
        .unwrap();
    timer::schedule(tx.conn(), "remind", "i1:public", 50)
        .await
        .unwrap();
    timer::schedule(tx.conn(), "escalate", "run", 500)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut c = store.read().await.unwrap();
    let due = timer::due(&mut c, 100, 10).await.unwrap();
    assert_eq!(
        due.iter().map(|t| t.subject.as_str()).collect::<Vec<_>>(),
        ["i1:public", "i1"]
    );
    assert_eq!(timer::next_due(&mut c).await.unwrap(), Some(50));
    assert_eq!(timer::for_subject(&mut c, "i1").await.unwrap().len(), 2);
    drop(c);
    // Rescheduling bumps the generation: the copy read before is stale and takes nothing.
    let stale = due[1].clone();
    let mut tx = store.begin().await.unwrap();
    timer::schedule(tx.conn(), "ack_due", "i1", 90)
        .await
        .unwrap();
    assert!(
        !timer::take_many(tx.conn(), std::slice::from_ref(&stale))
            .await
            .unwrap()[0]
    );
    tx.commit().await.unwrap();
    let mut c = store.read().await.unwrap();
    let fresh = timer::due(&mut c, 100, 10).await.unwrap();
    drop(c);
    let fresh = fresh.iter().find(|t| t.kind == "ack_due").unwrap().clone();
    assert_eq!((fresh.generation, fresh.due_at), (stale.generation + 1, 90));
    let mut tx = store.begin().await.unwrap();
    assert!(
        timer::take_many(tx.conn(), std::slice::from_ref(&fresh))
            .await
            .unwrap()[0]
    );
    assert!(
        !timer::take_many(tx.conn(), std::slice::from_ref(&fresh))
            .await
            .unwrap()[0],
        "once only"
    );
    drop(tx); // rolled back: the timer is still there
    let mut tx = store.begin().await.unwrap();
    assert!(
        timer::take_many(tx.conn(), std::slice::from_ref(&fresh))
            .await
            .unwrap()[0]
    );
    timer::cancel(tx.conn(), "escalate", "run").await.unwrap();
    tx.commit().await.unwrap();
    let mut c = store.read().await.unwrap();
    assert_eq!(timer::count(&mut c).await.unwrap(), 1);
    drop(c);
    // Several at once: only the current generation of each is taken.
    let mut tx = store.begin().await.unwrap();
    timer::schedule(tx.conn(), "ack_due", "a", 1).await.unwrap();
    timer::schedule(tx.conn(), "ack_due", "b", 1).await.unwrap();
    let both = timer::due(tx.conn(), 1, 10).await.unwrap();
    timer::schedule(tx.conn(), "ack_due", "b", 1).await.unwrap(); // b moves on
    assert_eq!(
        timer::take_many(tx.conn(), &both).await.unwrap(),
        [true, false]
    );
    assert_eq!(
        timer::take_many(tx.conn(), &both).await.unwrap(),
        [false, false]
    );
    assert!(timer::take_many(tx.conn(), &[]).await.unwrap().is_empty());
    tx.commit().await.unwrap();
});

both_backends!(
    the_outbox_is_idempotent_and_leased,
    |db: TestDb| async move {
        let store = open(&db).await;
        let (_, iid) = setup(&store).await;
        let mut tx = store.begin().await.unwrap();
        assert!(
            notification::enqueue(tx.conn(), &note("k1", &iid, 10))
                .await
                .unwrap()
        );
        assert!(
            !notification::enqueue(tx.conn(), &note("k1", &iid, 10))
                .await
                .unwrap()
        );
        assert!(
            notification::enqueue(tx.conn(), &note("k2", &iid, 20))
                .await
                .unwrap()
        );
        assert!(
            notification::enqueue(tx.conn(), &note("k3", &iid, 99))
                .await
                .unwrap()
        );
        tx.commit().await.unwrap();
        let mut tx = store.begin().await.unwrap();
        let claimed = notification::claim(tx.conn(), 50, 1_000, 10).await.unwrap();
        assert_eq!(
            claimed
                .iter()
                .map(|n| n.idempotency_key.as_str())
                .collect::<Vec<_>>(),
            ["k1", "k2"]
        );
        // Leased: a second claim before the lease ends gets nothing.
        assert!(
            notification::claim(tx.conn(), 60, 2_000, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(notification::next_due(tx.conn()).await.unwrap(), Some(99));
        let mut sent = claimed[0].clone();
        sent.status = "sent".into();
        sent.attempts = 1;
        sent.sent_at = Some(60);
        assert!(notification::finish(tx.conn(), &sent).await.unwrap());
        assert_eq!(
            notification::sent_since(tx.conn(), "sms", "+4915112345678", 0)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            notification::cancel_pending(tx.conn(), &iid, &["page"], "acknowledged")
                .await
                .unwrap(),
            2
        );
        // A cancelled row stays cancelled when its worker reports back.
        let mut late = claimed[1].clone();
        late.status = "sent".into();
        assert!(!notification::finish(tx.conn(), &late).await.unwrap());
        tx.commit().await.unwrap();
        let mut c = store.read().await.unwrap();
        let all = notification::list(&mut c, &iid).await.unwrap();
        let statuses: Vec<&str> = all.iter().map(|n| n.status.as_str()).collect();
        assert_eq!(statuses, ["sent", "cancelled", "cancelled"]);
        assert_eq!(all[1].last_error.as_deref(), Some("acknowledged"));
        assert_eq!(all[0].event, json!({"type": "incident.page"}));
        assert_eq!(
            notification::get(&mut c, &all[0].id)
                .await
                .unwrap()
                .unwrap(),
            all[0]
        );
        let counts = notification::count_by_status(&mut c).await.unwrap();
        assert_eq!(
            counts,
            vec![("cancelled".to_string(), 2), ("sent".to_string(), 1)]
        );
        drop(c);
        // An expired lease makes a row claimable again; cancel by key prefix.
        let mut tx = store.begin().await.unwrap();
        notification::enqueue(tx.conn(), &note("page:run1:0:0", &iid, 10))
            .await
            .unwrap();
        assert_eq!(
            notification::claim(tx.conn(), 10, 100, 5)
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(notification::next_due(tx.conn()).await.unwrap(), Some(100));
        assert_eq!(
            notification::claim(tx.conn(), 100, 200, 5)
                .await
                .unwrap()
                .len(),
            1
        );
        // Over its rate limit, a destination's due rows move a minute on: the worker's own
        // claimed rows and unleased ones.
        notification::enqueue(tx.conn(), &note("k4", &iid, 100))
            .await
            .unwrap();
        notification::enqueue(tx.conn(), &note("k5", &iid, 100))
            .await
            .unwrap();
        let held = notification::claim(tx.conn(), 100, 900, 1).await.unwrap();
        let mine = notification::claim(tx.conn(), 100, 900, 1).await.unwrap();
        assert_eq!(
            notification::defer_destination(
                tx.conn(),
                "sms",
                "+4915112345678",
                &[mine[0].id.as_str()],
                100,
                60_100
            )
            .await
            .unwrap(),
            1,
            "{held:?} is another worker's"
        );
        assert_eq!(
            notification::cancel_by_key_prefix(tx.conn(), "page:run1:", "stopped")
                .await
                .unwrap(),
            1
        );
        tx.commit().await.unwrap();
    }
);

both_backends!(policies_runs_and_obligations, |db: TestDb| async move {
    let store = open(&db).await;
    let (uid, iid) = setup(&store).await;
    let p = EscalationPolicy {
        id: new_id(),
        name: "on-call".into(),
        description: Some("d".into()),
        levels: vec![Level {
            delay_seconds: 60,
            targets: vec![Target::User { id: uid.clone() }],
        }],
        repeat: 2,
        fallback: Some(Target::IncidentRole {
            role: triad_domain::role::IncidentRole::Coordinator,
        }),
        created_at: 1,
        updated_at: 1,
    };
    let mut tx = store.begin().await.unwrap();
    escalation::insert(tx.conn(), &p).await.unwrap();
    assert!(matches!(
        escalation::insert(
            tx.conn(),
            &EscalationPolicy {
                id: new_id(),
                ..p.clone()
            }
        )
        .await,
        Err(StoreError::Conflict(_))
    ));
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    escalation::insert(tx.conn(), &p).await.unwrap();
    let mut sev = SeverityPolicies::default().get(Severity::Sev2).clone();
    sev.escalation_policy = Some(p.id.clone());
    severity_policy::put(tx.conn(), Severity::Sev2, &sev, Some(&uid), 5)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut c = store.read().await.unwrap();
    assert_eq!(
        escalation::find(&mut c, "on-call").await.unwrap().unwrap(),
        p
    );
    assert_eq!(escalation::find(&mut c, &p.id).await.unwrap().unwrap(), p);
    assert_eq!(escalation::list(&mut c).await.unwrap(), vec![p.clone()]);
    assert_eq!(
        severity_policy::get(&mut c, Severity::Sev2).await.unwrap(),
        Some(sev)
    );
    assert_eq!(
        severity_policy::get(&mut c, Severity::Sev1).await.unwrap(),
        None
    );
    drop(c);
    // In use by a severity policy, then by a service.
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        escalation::delete(tx.conn(), &p.id).await,
        Err(StoreError::InUse(_))
    ));
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    severity_policy::put(
        tx.conn(),
        Severity::Sev2,
        SeverityPolicies::default().get(Severity::Sev2),
        None,
        6,
    )
    .await
    .unwrap();
    let s = Service {
        id: new_id(),
        name: "svc".into(),
        description: None,
        team_id: None,
        escalation_policy_id: Some(p.id.clone()),
        chat_webhook: Some("https://chat.example.com/h".into()),
        default_severity: None,
        auto_resolve: true,
        created_at: 1,
        updated_at: 1,
    };
    service::insert(tx.conn(), &s).await.unwrap();
    let mut inc = incident::get(tx.conn(), &iid).await.unwrap().unwrap();
    assert_eq!(
        (inc.communication_gap_at, inc.update_requests),
        (Some(5), 2)
    );
    inc.service_id = Some(s.id.clone());
    inc.update_requests = 3;
    incident::save(tx.conn(), &inc).await.unwrap();
    assert_eq!(
        service::chat_webhook_of_incident(tx.conn(), &iid)
            .await
            .unwrap()
            .as_deref(),
        Some("https://chat.example.com/h")
    );
    assert!(matches!(
        escalation::delete(tx.conn(), &p.id).await,
        Err(StoreError::InUse(_))
    ));
    drop(tx);

    // A run keeps its snapshot; the policy may change under it.
    let mut run = Run {
        id: new_id(),
        incident_id: iid.clone(),
        purpose: Purpose::Comms,
        audience: Some("public".into()),
        snapshot: p.snapshot(),
        position: Position { level: 0, round: 0 },
        state: "active".into(),
        started_at: 10,
        ended_at: None,
        end_reason: None,
    };
    let mut tx = store.begin().await.unwrap();
    escalation::insert_run(tx.conn(), &run).await.unwrap();
    escalation::update(
        tx.conn(),
        &EscalationPolicy {
            repeat: 0,
            ..p.clone()
        },
    )
    .await
    .unwrap();
    run.position = Position { level: 0, round: 1 };
    run.state = "stopped".into();
    run.ended_at = Some(20);
    run.end_reason = Some("an update was published".into());
    escalation::save_run(tx.conn(), &run).await.unwrap();
    tx.commit().await.unwrap();
    let mut c = store.read().await.unwrap();
    assert_eq!(
        escalation::get_run(&mut c, &run.id).await.unwrap().unwrap(),
        run
    );
    assert!(
        escalation::runs(&mut c, &iid, true)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        escalation::runs(&mut c, &iid, false).await.unwrap(),
        vec![run.clone()]
    );
    drop(c);

    let ob = Obligation {
        audience: Audience::Public,
        due_at: 1000,
        remind_at: 880,
        overdue_since: None,
    };
    let mut tx = store.begin().await.unwrap();
    obligation::put(tx.conn(), &iid, &ob).await.unwrap();
    let overdue = Obligation {
        overdue_since: Some(1000),
        ..ob.clone()
    };
    obligation::put(tx.conn(), &iid, &overdue).await.unwrap();
    assert_eq!(
        obligation::get(tx.conn(), &iid, Audience::Public)
            .await
            .unwrap(),
        Some(overdue.clone())
    );
    assert_eq!(
        obligation::list(tx.conn(), &iid).await.unwrap(),
        vec![overdue]
    );
    obligation::clear(tx.conn(), &iid).await.unwrap();
    assert!(obligation::list(tx.conn(), &iid).await.unwrap().is_empty());
    tx.commit().await.unwrap();
});

both_backends!(reporters_contacts_and_rules, |db: TestDb| async move {
    let store = open(&db).await;
    let (uid, iid) = setup(&store).await;
    let r = Reporter {
        id: new_id(),
        incident_id: iid.clone(),
        name: "Pat".into(),
        email: Some("pat@example.com".into()),
        webhook: Some("https://x.example.com/h".into()),
        webhook_secret: Some("whsec_0123456789abcdef".into()),
        user_id: None,
        created_at: 3,
    };
    let m = ContactMethod {
        id: new_id(),
        user_id: uid.clone(),
        kind: "sms".into(),
        address: "+4915112345678".into(),
        label: Some("mobile".into()),
        secret: None,
        created_at: 4,
    };
    let rule = Rule {
        id: new_id(),
        user_id: uid.clone(),
        contact_method_id: m.id.clone(),
        delay_seconds: 60,
        urgency: "high".into(),
        created_at: 5,
    };
    let mut tx = store.begin().await.unwrap();
    reporter::insert(tx.conn(), &r).await.unwrap();
    contact::insert_method(tx.conn(), &m).await.unwrap();
    contact::insert_rule(tx.conn(), &rule).await.unwrap();
    tx.commit().await.unwrap();
    let mut c = store.read().await.unwrap();
    assert_eq!(reporter::list(&mut c, &iid).await.unwrap(), vec![r]);
    assert_eq!(
        contact::methods(&mut c, &uid).await.unwrap(),
        vec![m.clone()]
    );
    assert_eq!(
        contact::rules(&mut c, &uid).await.unwrap(),
        vec![rule.clone()]
    );
    drop(c);
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        contact::delete_rule(tx.conn(), "someone-else", &rule.id).await,
        Err(StoreError::NotFound(_))
    ));
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    contact::delete_method(tx.conn(), &uid, &m.id)
        .await
        .unwrap();
    assert!(contact::rules(tx.conn(), &uid).await.unwrap().is_empty());
    assert!(matches!(
        contact::delete_method(tx.conn(), &uid, &m.id).await,
        Err(StoreError::NotFound(_))
    ));
    tx.commit().await.unwrap();
});

//! The store conformance suite: every store function, the same assertions, on SQLite
//! and on PostgreSQL (`TRIAD_TEST_POSTGRES_URL`).

use serde_json::json;
use triad_domain::incident::{Incident, PublicState, Status};
use triad_domain::role::{IncidentRole, RoleAssignment};
use triad_domain::severity::Severity;
use triad_domain::timeline::{EventKind, NewEvent};
use triad_domain::update::{Audience, StatusUpdate};
use triad_domain::user::SystemRole;
use triad_store::incident::Filter;
use triad_store::service::Service;
use triad_store::team::Team;
use triad_store::token::ApiToken;
use triad_store::{
    Store, StoreError, counter, incident, new_id, role, service, team, timeline, token, update,
    user,
};
use triad_testkit::{TestDb, both_backends};

async fn open(db: &TestDb) -> Store {
    let store = Store::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    store.migrate().await.unwrap(); // applying twice is a no-op
    store
}

async fn add_user(store: &Store, email: &str) -> String {
    let id = new_id();
    let mut tx = store.begin().await.unwrap();
    user::insert(
        tx.conn(),
        &user::NewUser {
            id: &id,
            email,
            name: "Name",
            role: SystemRole::Responder,
            time_zone: "UTC",
            password_hash: Some("$argon2id$stub"),
            must_change_password: false,
            now: 1_000,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

fn an_incident(number: i64, severity: Severity, status: Status) -> Incident {
    Incident {
        id: new_id(),
        number,
        title: format!("incident {number}"),
        description: Some("d".into()),
        severity,
        status,
        public_state: PublicState::Investigating,
        service_id: None,
        created_by: None,
        created_at: number * 10,
        updated_at: number * 10,
        ack_due_at: Some(number * 10 + 300_000),
        acknowledged_at: None,
        acknowledged_by: None,
        resolved_at: (status == Status::Resolved).then_some(number * 10 + 5),
        resolved_by: None,
        communication_gap_at: None,
        understaffed_since: None,
        update_requests: 0,
    }
}

both_backends!(counters_and_users, |db: TestDb| async move {
    let store = open(&db).await;
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        counter::next(tx.conn(), counter::INCIDENT_NUMBER)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        counter::next(tx.conn(), counter::INCIDENT_NUMBER)
            .await
            .unwrap(),
        2
    );
    drop(tx); // rolled back: the numbers are handed out again
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        counter::next(tx.conn(), counter::INCIDENT_NUMBER)
            .await
            .unwrap(),
        1
    );
    tx.commit().await.unwrap();
    let mut c = store.read().await.unwrap();
    assert_eq!(
        counter::current(&mut c, counter::INCIDENT_NUMBER)
            .await
            .unwrap(),
        1
    );
    assert!(matches!(
        counter::next(&mut c, "nope").await,
        Err(StoreError::NotFound(_))
    ));
    drop(c);

    let id = add_user(&store, "ana@example.com").await;
    let mut tx = store.begin().await.unwrap();
    let dup = user::insert(
        tx.conn(),
        &user::NewUser {
            id: &new_id(),
            email: "ana@example.com",
            name: "Dup",
            role: SystemRole::Viewer,
            time_zone: "UTC",
            password_hash: None,
            must_change_password: false,
            now: 2,
        },
    )
    .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    drop(tx);
    let mut c = store.read().await.unwrap();
    let mut u = user::get(&mut c, &id).await.unwrap().unwrap();
    assert_eq!(
        (u.email.as_str(), u.role, u.must_change_password),
        ("ana@example.com", SystemRole::Responder, false)
    );
    assert_eq!(
        user::get_by_email(&mut c, "ana@example.com")
            .await
            .unwrap()
            .unwrap()
            .id,
        id
    );
    assert!(user::get(&mut c, "missing").await.unwrap().is_none());
    let (_, hash) = user::credentials(&mut c, "ana@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hash.as_deref(), Some("$argon2id$stub"));
    drop(c);
    let mut tx = store.begin().await.unwrap();
    u.name = "Ana B".into();
    u.deactivated_at = Some(50);
    u.updated_at = 50;
    user::update(tx.conn(), &u).await.unwrap();
    user::set_password(tx.conn(), &id, "$argon2id$new", true, 60)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut c = store.read().await.unwrap();
    let got = user::get(&mut c, &id).await.unwrap().unwrap();
    assert_eq!(
        (
            got.name.as_str(),
            got.deactivated_at,
            got.must_change_password,
            got.updated_at
        ),
        ("Ana B", Some(50), true, 60)
    );
    assert_eq!(user::count(&mut c).await.unwrap(), 1);
    assert_eq!(user::list(&mut c).await.unwrap().len(), 1);
});

both_backends!(tokens_live_expire_and_revoke, |db: TestDb| async move {
    let store = open(&db).await;
    let uid = add_user(&store, "t@example.com").await;
    let mk = |id: &str, expires_at: Option<i64>| ApiToken {
        id: id.into(),
        user_id: uid.clone(),
        name: "n".into(),
        prefix: "triad_abc".into(),
        created_at: 100,
        expires_at,
        last_used_at: None,
        revoked_at: None,
    };
    let mut tx = store.begin().await.unwrap();
    token::insert(tx.conn(), &mk("a", None), "hash-a")
        .await
        .unwrap();
    token::insert(tx.conn(), &mk("b", Some(1_000)), "hash-b")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // A failed statement ends a transaction on PostgreSQL, so each refusal gets its own.
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        token::insert(tx.conn(), &mk("c", None), "hash-a").await,
        Err(StoreError::Conflict(_))
    ));
    drop(tx);
    let mut c = store.read().await.unwrap();
    assert_eq!(
        token::find_live(&mut c, "hash-a", 5_000)
            .await
            .unwrap()
            .unwrap()
            .id,
        "a"
    );
    assert_eq!(
        token::find_live(&mut c, "hash-b", 999)
            .await
            .unwrap()
            .unwrap()
            .id,
        "b"
    );
    assert!(
        token::find_live(&mut c, "hash-b", 1_000)
            .await
            .unwrap()
            .is_none(),
        "expired at its instant"
    );
    assert!(
        token::find_live(&mut c, "hash-x", 0)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(token::list(&mut c, Some(&uid)).await.unwrap().len(), 2);
    assert_eq!(token::list(&mut c, None).await.unwrap().len(), 2);
    assert!(token::list(&mut c, Some("other")).await.unwrap().is_empty());
    drop(c);
    let mut tx = store.begin().await.unwrap();
    token::touch(tx.conn(), "a", 10_000).await.unwrap();
    token::touch(tx.conn(), "a", 20_000).await.unwrap(); // within a minute: not rewritten
    token::revoke(tx.conn(), "a", 30_000).await.unwrap();
    token::revoke_all_of(tx.conn(), &uid, 40_000).await.unwrap();
    tx.commit().await.unwrap();
    let mut c = store.read().await.unwrap();
    let a = token::get(&mut c, "a").await.unwrap().unwrap();
    assert_eq!((a.last_used_at, a.revoked_at), (Some(10_000), Some(30_000)));
    assert_eq!(
        token::get(&mut c, "b").await.unwrap().unwrap().revoked_at,
        Some(40_000)
    );
    assert!(
        token::find_live(&mut c, "hash-a", 5_000)
            .await
            .unwrap()
            .is_none()
    );
});

both_backends!(teams_services_and_references, |db: TestDb| async move {
    let store = open(&db).await;
    let u1 = add_user(&store, "a@example.com").await;
    let u2 = add_user(&store, "b@example.com").await;
    let t = Team {
        id: new_id(),
        name: "Data".into(),
        description: None,
        created_at: 1,
        updated_at: 1,
    };
    let s = Service {
        id: new_id(),
        name: "ingest".into(),
        description: Some("kafka".into()),
        team_id: Some(t.id.clone()),
        escalation_policy_id: None,
        chat_webhook: None,
        default_severity: None,
        auto_resolve: true,
        created_at: 2,
        updated_at: 2,
    };
    let mut tx = store.begin().await.unwrap();
    team::insert(tx.conn(), &t).await.unwrap();
    team::set_members(tx.conn(), &t.id, &[u2.clone(), u1.clone()], 5)
        .await
        .unwrap();
    service::insert(tx.conn(), &s).await.unwrap();
    tx.commit().await.unwrap();
    let mut c = store.read().await.unwrap();
    assert_eq!(
        team::members(&mut c, &t.id).await.unwrap(),
        vec![u2.clone(), u1.clone()]
    );
    assert_eq!(
        service::get_by_name(&mut c, "ingest")
            .await
            .unwrap()
            .unwrap(),
        s
    );
    assert_eq!(team::list(&mut c).await.unwrap(), vec![t.clone()]);
    assert_eq!(
        team::all_members(&mut c).await.unwrap(),
        vec![(t.id.clone(), u2.clone()), (t.id.clone(), u1.clone())]
    );
    drop(c);
    // A team that owns a service cannot go; a service named by an incident cannot either.
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        team::delete(tx.conn(), &t.id).await,
        Err(StoreError::InUse(_))
    ));
    drop(tx);
    let mut inc = an_incident(1, Severity::Sev2, Status::Triggered);
    inc.service_id = Some(s.id.clone());
    let mut tx = store.begin().await.unwrap();
    incident::insert(tx.conn(), &inc).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        service::delete(tx.conn(), &s.id).await,
        Err(StoreError::InUse(_))
    ));
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    let renamed = Service {
        name: "ingest-v2".into(),
        team_id: None,
        updated_at: 9,
        ..s.clone()
    };
    service::update(tx.conn(), &renamed).await.unwrap();
    team::set_members(tx.conn(), &t.id, std::slice::from_ref(&u1), 10)
        .await
        .unwrap();
    team::delete(tx.conn(), &t.id).await.unwrap();
    assert!(matches!(
        team::delete(tx.conn(), &t.id).await,
        Err(StoreError::NotFound(_))
    ));
    tx.commit().await.unwrap();
    let mut c = store.read().await.unwrap();
    assert_eq!(service::list(&mut c).await.unwrap(), vec![renamed]);
    assert!(team::get(&mut c, &t.id).await.unwrap().is_none());
});

both_backends!(incidents_roles_timeline_updates, |db: TestDb| async move {
    let store = open(&db).await;
    let ana = add_user(&store, "ana@example.com").await;
    let bo = add_user(&store, "bo@example.com").await;
    let mut tx = store.begin().await.unwrap();
    let mut all = Vec::new();
    for (n, sev, st) in [
        (1, Severity::Sev1, Status::Resolved),
        (2, Severity::Sev2, Status::Triggered),
        (3, Severity::Sev1, Status::Acknowledged),
        (4, Severity::Sev4, Status::Triggered),
    ] {
        let i = an_incident(n, sev, st);
        incident::insert(tx.conn(), &i).await.unwrap();
        all.push(i);
    }
    assert!(matches!(
        incident::insert(
            tx.conn(),
            &an_incident(4, Severity::Sev1, Status::Triggered)
        )
        .await,
        Err(StoreError::Conflict(_))
    ));
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    for i in &all {
        incident::insert(tx.conn(), i).await.unwrap();
    }
    tx.commit().await.unwrap();

    let mut c = store.read().await.unwrap();
    assert_eq!(incident::get(&mut c, "3").await.unwrap().unwrap(), all[2]);
    assert_eq!(
        incident::get(&mut c, &all[2].id).await.unwrap().unwrap(),
        all[2]
    );
    assert!(incident::get(&mut c, "99").await.unwrap().is_none());
    let numbers = |v: Vec<Incident>| v.iter().map(|i| i.number).collect::<Vec<_>>();
    let list = |f: Filter| {
        let store = store.clone();
        async move {
            let mut c = store.read().await.unwrap();
            numbers(incident::list(&mut c, &f).await.unwrap())
        }
    };
    assert_eq!(
        list(Filter {
            limit: 10,
            ..Default::default()
        })
        .await,
        vec![4, 3, 2, 1]
    );
    assert_eq!(
        list(Filter {
            limit: 2,
            ..Default::default()
        })
        .await,
        vec![4, 3]
    );
    assert_eq!(
        list(Filter {
            limit: 10,
            before_number: Some(3),
            ..Default::default()
        })
        .await,
        vec![2, 1]
    );
    assert_eq!(
        list(Filter {
            limit: 10,
            severities: vec![Severity::Sev1],
            ..Default::default()
        })
        .await,
        vec![3, 1]
    );
    assert_eq!(
        list(Filter {
            limit: 10,
            statuses: vec![Status::Triggered, Status::Acknowledged],
            severities: vec![Severity::Sev1, Severity::Sev2],
            before_number: Some(4),
            ..Default::default()
        })
        .await,
        vec![3, 2]
    );
    let mut counts = incident::count_by_status(&mut c).await.unwrap();
    counts.sort_by_key(|(s, _)| s.as_str());
    assert_eq!(
        counts,
        vec![
            (Status::Acknowledged, 1),
            (Status::Resolved, 1),
            (Status::Triggered, 2)
        ]
    );
    drop(c);

    // Lock, change, save; roles open and close; events and updates in the same transaction.
    let mut tx = store.begin().await.unwrap();
    let mut i = incident::lock(tx.conn(), "2").await.unwrap().unwrap();
    assert!(incident::lock(tx.conn(), "77").await.unwrap().is_none());
    i.apply(
        triad_domain::incident::Transition::Acknowledge,
        Some(&ana),
        500,
    )
    .unwrap();
    incident::save(tx.conn(), &i).await.unwrap();
    let assign = |id: &str, role: IncidentRole, user: &str| RoleAssignment {
        id: id.into(),
        incident_id: i.id.clone(),
        role,
        user_id: user.into(),
        assumed_at: 500,
        released_at: None,
        assigned_by: Some(ana.clone()),
        released_by: None,
        handover_note: None,
    };
    role::open(tx.conn(), &assign("r1", IncidentRole::Responder, &ana))
        .await
        .unwrap();
    role::open(tx.conn(), &assign("r2", IncidentRole::Coordinator, &bo))
        .await
        .unwrap();
    role::close(tx.conn(), "r2", &ana, Some("shift ends"), 600)
        .await
        .unwrap();
    assert!(matches!(
        role::close(tx.conn(), "r2", &ana, None, 601).await,
        Err(StoreError::NotFound(_))
    ));
    role::open(tx.conn(), &assign("r3", IncidentRole::Coordinator, &ana))
        .await
        .unwrap();
    let e1 = timeline::append(
        tx.conn(),
        NewEvent {
            incident_id: i.id.clone(),
            at: 500,
            actor_id: Some(ana.clone()),
            actor_name: Some("Ana".into()),
            kind: EventKind::Acknowledged,
            body: "ack".into(),
            data: json!({"k": [1, 2]}),
        },
    )
    .await
    .unwrap();
    let e2 = timeline::append(
        tx.conn(),
        NewEvent {
            incident_id: all[3].id.clone(),
            at: 501,
            actor_id: None,
            actor_name: None,
            kind: EventKind::Note,
            body: "elsewhere".into(),
            data: json!({}),
        },
    )
    .await
    .unwrap();
    assert!(e2.seq > e1.seq);
    for (n, aud) in [
        (1, Audience::Public),
        (2, Audience::Stakeholders),
        (3, Audience::Public),
    ] {
        update::insert(
            tx.conn(),
            &StatusUpdate {
                id: format!("u{n}"),
                incident_id: i.id.clone(),
                audience: aud,
                state: PublicState::Identified,
                message: format!("m{n}"),
                author_id: Some(bo.clone()),
                published_at: 700 + n,
                due_at: Some(650),
                late_by_ms: Some(50 + n),
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();

    let mut c = store.read().await.unwrap();
    let got = incident::get(&mut c, &i.id).await.unwrap().unwrap();
    assert_eq!(
        (got.status, got.acknowledged_by.as_deref()),
        (Status::Acknowledged, Some(ana.as_str()))
    );
    let active: Vec<(String, IncidentRole)> = role::list(&mut c, &i.id, true)
        .await
        .unwrap()
        .into_iter()
        .map(|h| (h.assignment.id, h.assignment.role))
        .collect();
    assert_eq!(
        active,
        vec![
            ("r1".into(), IncidentRole::Responder),
            ("r3".into(), IncidentRole::Coordinator)
        ]
    );
    let history = role::list(&mut c, &i.id, false).await.unwrap();
    assert_eq!(history.len(), 3);
    let r2 = history.iter().find(|h| h.assignment.id == "r2").unwrap();
    assert_eq!(
        (
            r2.assignment.released_at,
            r2.assignment.handover_note.as_deref(),
            r2.user_email.as_str()
        ),
        (Some(600), Some("shift ends"), "bo@example.com")
    );
    let mine = timeline::after(&mut c, Some(&i.id), 0, 100).await.unwrap();
    assert_eq!(mine, vec![e1.clone()]);
    assert_eq!(
        timeline::after(&mut c, None, 0, 100).await.unwrap(),
        vec![e1.clone(), e2.clone()]
    );
    assert_eq!(
        timeline::after(&mut c, None, e1.seq, 100).await.unwrap(),
        vec![e2.clone()]
    );
    assert_eq!(timeline::after(&mut c, None, 0, 1).await.unwrap(), vec![e1]);
    let ups: Vec<String> = update::list(&mut c, &i.id, None)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(ups, ["u3", "u2", "u1"]);
    let public: Vec<String> = update::list(&mut c, &i.id, Some(Audience::Public))
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(public, ["u3", "u1"]);
    drop(c);

    // The same person cannot hold the same role twice at once (a unique index guards it).
    let mut tx = store.begin().await.unwrap();
    let twice = role::open(tx.conn(), &assign("r4", IncidentRole::Responder, &ana)).await;
    assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
});

both_backends!(
    concurrent_writers_keep_numbers_unique,
    |db: TestDb| async move {
        let store = open(&db).await;
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut got = Vec::new();
                for _ in 0..10 {
                    let mut tx = store.begin().await.unwrap();
                    got.push(
                        counter::next(tx.conn(), counter::INCIDENT_NUMBER)
                            .await
                            .unwrap(),
                    );
                    tx.commit().await.unwrap();
                }
                got
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all.sort_unstable();
        assert_eq!(all, (1..=80).collect::<Vec<i64>>());
    }
);

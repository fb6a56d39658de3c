//! The store conformance suite for intake: integration keys, business services, alerts
//! (the open-dedup-key uniqueness, groups, counts), Opsgenie requests, reports, and the
//! services' intake settings. The same assertions on SQLite and on PostgreSQL.

use triad_domain::incident::{Incident, PublicState, Status};
use triad_domain::severity::Severity;
use triad_store::alert::{self, Alert, AlertStatus, IntakeRequest};
use triad_store::business_service::{self as business, BusinessService, StakeholderGroup};
use triad_store::integration_key::{self as keys, IntegrationKey};
use triad_store::report::{self, Report};
use triad_store::service::{self, Service};
use triad_store::{Store, StoreError, incident, new_id, timeline};
use triad_testkit::{TestDb, both_backends};

async fn open(db: &TestDb) -> Store {
    let store = Store::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    store
}

fn an_incident(number: i64, service_id: &str, status: Status) -> Incident {
    Incident {
        id: new_id(),
        number,
        title: format!("incident {number}"),
        description: None,
        severity: Severity::Sev2,
        status,
        public_state: PublicState::Investigating,
        service_id: Some(service_id.to_string()),
        created_by: None,
        created_at: number,
        updated_at: number,
        ack_due_at: None,
        acknowledged_at: None,
        acknowledged_by: None,
        resolved_at: None,
        resolved_by: None,
        communication_gap_at: None,
        understaffed_since: None,
        update_requests: 0,
    }
}

fn an_alert(key: &IntegrationKey, incident_id: &str, dedup: &str, group: Option<&str>) -> Alert {
    Alert {
        id: new_id(),
        service_id: key.service_id.clone(),
        integration_key_id: key.id.clone(),
        incident_id: incident_id.to_string(),
        dedup_key: dedup.to_string(),
        group_key: group.map(str::to_string),
        format: "pagerduty".into(),
        status: AlertStatus::Triggered,
        summary: "disk full".into(),
        source: Some("db-1".into()),
        severity: Some("SEV1".into()),
        details: "{\"free\":\"1%\"}".into(),
        occurrences: 1,
        created_at: 10,
        last_event_at: 10,
        resolved_at: None,
    }
}

both_backends!(
    keys_alerts_reports_and_business_services,
    |db: TestDb| async move {
        let store = open(&db).await;
        let mut tx = store.begin().await.unwrap();
        let svc = Service {
            id: new_id(),
            name: "db".into(),
            description: None,
            team_id: None,
            escalation_policy_id: None,
            chat_webhook: None,
            default_severity: Some(Severity::Sev2),
            auto_resolve: false,
            created_at: 1,
            updated_at: 1,
        };
        service::insert(tx.conn(), &svc).await.unwrap();
        assert_eq!(
            service::get(tx.conn(), &svc.id).await.unwrap().unwrap(),
            svc
        );

        // Keys: found by hash, listed, revoked once.
        let key = IntegrationKey {
            id: new_id(),
            service_id: svc.id.clone(),
            name: Some("prometheus".into()),
            key_prefix: "abc123".into(),
            mapping: Some("{\"summary\":\"/t\"}".into()),
            rate_limit_per_minute: 120,
            created_at: 2,
            created_by: None,
            revoked_at: None,
        };
        keys::insert(tx.conn(), &key, "hash-1").await.unwrap();
        assert_eq!(
            keys::by_hash(tx.conn(), "hash-1").await.unwrap().unwrap(),
            key
        );
        assert!(keys::by_hash(tx.conn(), "hash-2").await.unwrap().is_none());
        assert_eq!(
            keys::for_service(tx.conn(), &svc.id).await.unwrap(),
            vec![key.clone()]
        );

        // Alerts: one open per (key, dedup key); groups find their open incident.
        let i1 = an_incident(1, &svc.id, Status::Triggered);
        let i2 = an_incident(2, &svc.id, Status::Resolved);
        incident::insert(tx.conn(), &i1).await.unwrap();
        incident::insert(tx.conn(), &i2).await.unwrap();
        let mut a = an_alert(&key, &i1.id, "db-1/disk", Some("g1"));
        alert::insert(tx.conn(), &a).await.unwrap();
        assert_eq!(
            alert::open_by_key(tx.conn(), &key.id, "db-1/disk")
                .await
                .unwrap()
                .unwrap(),
            a
        );
        assert_eq!(alert::get(tx.conn(), &a.id).await.unwrap().unwrap(), a);
        assert_eq!(
            alert::open_incident_of_group(tx.conn(), &svc.id, "g1")
                .await
                .unwrap(),
            Some(i1.id.clone())
        );
        assert_eq!(
            alert::open_incident_of_group(tx.conn(), &svc.id, "g2")
                .await
                .unwrap(),
            None
        );
        let b = an_alert(&key, &i1.id, "db-2/disk", None);
        alert::insert(tx.conn(), &b).await.unwrap();
        assert_eq!(alert::open_counts(tx.conn(), &i1.id).await.unwrap(), (2, 0));
        // A repeated trigger counts and updates the open alert in one statement; absent
        // fields keep their values, and a key with no open alert changes nothing.
        let r = alert::Retrigger {
            summary: None,
            source: Some("db-2"),
            severity: None,
            details: "{}",
            at: 15,
        };
        let (got, chat) = alert::retrigger_open(tx.conn(), &key.id, "db-2/disk", r)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(chat, None, "the service has no chat webhook");
        assert_eq!(
            (
                got.occurrences,
                got.last_event_at,
                got.summary.as_str(),
                got.source.as_deref(),
                got.severity.as_deref(),
                got.details.as_str()
            ),
            (2, 15, "disk full", Some("db-2"), Some("SEV1"), "{}")
        );
        assert!(
            alert::retrigger_open(tx.conn(), &key.id, "nope", r)
                .await
                .unwrap()
                .is_none()
        );
        a.status = AlertStatus::Acknowledged;
        a.occurrences = 3;
        a.last_event_at = 20;
        alert::save(tx.conn(), &a).await.unwrap();
        assert_eq!(alert::open_counts(tx.conn(), &i1.id).await.unwrap(), (1, 1));
        assert_eq!(alert::count_open(tx.conn()).await.unwrap(), 2);
        // Resolving an incident's alerts touches only the open ones of that incident.
        let other = an_incident(3, &svc.id, Status::Resolved);
        incident::insert(tx.conn(), &other).await.unwrap();
        let c = an_alert(&key, &other.id, "db-3/disk", None);
        alert::insert(tx.conn(), &c).await.unwrap();
        assert_eq!(
            alert::resolve_for_incident(tx.conn(), &other.id, 25)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            alert::resolve_for_incident(tx.conn(), &other.id, 26)
                .await
                .unwrap(),
            0
        );
        let c = alert::get(tx.conn(), &c.id).await.unwrap().unwrap();
        assert_eq!((c.status, c.resolved_at), (AlertStatus::Resolved, Some(25)));
        assert_eq!(alert::count_open(tx.conn()).await.unwrap(), 2);
        a.status = AlertStatus::Resolved;
        a.resolved_at = Some(30);
        alert::save(tx.conn(), &a).await.unwrap();
        assert!(
            alert::open_by_key(tx.conn(), &key.id, "db-1/disk")
                .await
                .unwrap()
                .is_none()
        );
        // Once resolved, the same dedup key may open again.
        let again = an_alert(&key, &i1.id, "db-1/disk", None);
        alert::insert(tx.conn(), &again).await.unwrap();
        let all = alert::for_incident(tx.conn(), &i1.id).await.unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[0], a);
        assert_eq!(
            incident::open_for_service(tx.conn(), &svc.id)
                .await
                .unwrap(),
            vec![i1.id.clone()]
        );
        tx.commit().await.unwrap();
        // A second open alert with the same key is refused (its own transaction: a failed
        // statement spoils a PostgreSQL transaction).
        let mut tx = store.begin().await.unwrap();
        assert!(matches!(
            alert::insert(tx.conn(), &an_alert(&key, &i1.id, "db-1/disk", None)).await,
            Err(StoreError::Conflict(_))
        ));
        drop(tx);

        let mut tx = store.begin().await.unwrap();
        // Opsgenie requests belong to their key.
        let r = IntakeRequest {
            id: new_id(),
            integration_key_id: key.id.clone(),
            action: "Create".into(),
            success: true,
            status: "Created alert".into(),
            alert_id: Some(again.id.clone()),
            alias: Some("db-1/disk".into()),
            created_at: 40,
        };
        alert::insert_request(tx.conn(), &r).await.unwrap();
        assert_eq!(
            alert::get_request(tx.conn(), &key.id, &r.id)
                .await
                .unwrap()
                .unwrap(),
            r
        );
        assert!(
            alert::get_request(tx.conn(), "other-key", &r.id)
                .await
                .unwrap()
                .is_none()
        );

        // Business services with their dependencies.
        let mut biz = BusinessService {
            id: new_id(),
            name: "Checkout".into(),
            description: Some("buying things".into()),
            tier: 1,
            customers_served: Some("all EU customers".into()),
            stakeholder_groups: vec![StakeholderGroup {
                name: "exec".into(),
                emails: vec!["cto@example.com".into()],
                chat_webhook: None,
            }],
            services: vec![svc.id.clone()],
            created_at: 5,
            updated_at: 5,
        };
        business::insert(tx.conn(), &biz).await.unwrap();
        assert_eq!(
            business::find(tx.conn(), "Checkout")
                .await
                .unwrap()
                .unwrap(),
            biz
        );
        assert_eq!(
            business::depending_on(tx.conn(), &svc.id).await.unwrap(),
            vec![biz.id.clone()]
        );
        biz.tier = 2;
        biz.services.clear();
        biz.updated_at = 6;
        business::update(tx.conn(), &biz).await.unwrap();
        assert_eq!(business::list(tx.conn()).await.unwrap(), vec![biz.clone()]);

        // Reports: by incident, by reference, as text candidates; a business service in use.
        let rep = Report {
            id: new_id(),
            incident_id: i1.id.clone(),
            reporter_id: new_id(),
            text: "dashboards stopped".into(),
            external_ref: Some("ZD-1".into()),
            service_id: Some(svc.id.clone()),
            business_service_id: Some(biz.id.clone()),
            matched_by: "new".into(),
            created_by: None,
            created_at: 50,
        };
        report::insert(tx.conn(), &rep).await.unwrap();
        let old = Report {
            id: new_id(),
            incident_id: i2.id.clone(),
            external_ref: Some("ZD-2".into()),
            created_at: 51,
            ..rep.clone()
        };
        report::insert(tx.conn(), &old).await.unwrap();
        assert_eq!(
            report::for_incident(tx.conn(), &i1.id).await.unwrap(),
            vec![rep.clone()]
        );
        assert_eq!(
            report::count_for_incident(tx.conn(), &i1.id).await.unwrap(),
            1
        );
        assert_eq!(
            report::open_incident_by_ref(tx.conn(), "ZD-1")
                .await
                .unwrap(),
            Some(i1.id.clone())
        );
        assert_eq!(
            report::open_incident_by_ref(tx.conn(), "ZD-2")
                .await
                .unwrap(),
            None,
            "resolved"
        );
        let c = report::open_candidates(tx.conn(), &[], std::slice::from_ref(&biz.id))
            .await
            .unwrap();
        assert_eq!(c, vec![rep.clone()]);
        let c = report::open_candidates(tx.conn(), std::slice::from_ref(&svc.id), &[])
            .await
            .unwrap();
        assert_eq!(c, vec![rep.clone()]);
        assert!(
            report::open_candidates(tx.conn(), &[], &[])
                .await
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            business::delete(tx.conn(), &biz.id).await,
            Err(StoreError::InUse(_))
        ));
        keys::revoke(tx.conn(), &svc.id, &key.id, 60).await.unwrap();
        keys::revoke(tx.conn(), &svc.id, &key.id, 70).await.unwrap();
        assert_eq!(
            keys::by_hash(tx.conn(), "hash-1")
                .await
                .unwrap()
                .unwrap()
                .revoked_at,
            Some(60)
        );
        assert!(matches!(
            keys::revoke(tx.conn(), &svc.id, "nope", 1).await,
            Err(StoreError::NotFound(_))
        ));
        tx.commit().await.unwrap();
        store.close().await;
    }
);

both_backends!(
    batched_retriggers_and_timeline_appends,
    |db: TestDb| async move {
        let store = open(&db).await;
        let mut tx = store.begin().await.unwrap();
        let svc = Service {
            id: new_id(),
            name: "web".into(),
            description: None,
            team_id: None,
            escalation_policy_id: None,
            chat_webhook: Some("http://127.0.0.1:9/chat".into()),
            default_severity: None,
            auto_resolve: true,
            created_at: 1,
            updated_at: 1,
        };
        service::insert(tx.conn(), &svc).await.unwrap();
        let mk_key = |name: &str| IntegrationKey {
            id: new_id(),
            service_id: svc.id.clone(),
            name: Some(name.into()),
            key_prefix: "abc123".into(),
            mapping: None,
            rate_limit_per_minute: 120,
            created_at: 2,
            created_by: None,
            revoked_at: None,
        };
        let (k1, k2) = (mk_key("one"), mk_key("two"));
        for (k, hash) in [(&k1, "h1"), (&k2, "h2")] {
            keys::insert(tx.conn(), k, hash).await.unwrap();
        }
        let inc = an_incident(1, &svc.id, Status::Triggered);
        incident::insert(tx.conn(), &inc).await.unwrap();
        // Open: k1/a, k1/b, k2/a (the same dedup key under another key); resolved: k1/c.
        let a1 = an_alert(&k1, &inc.id, "a", None);
        let b1 = an_alert(&k1, &inc.id, "b", None);
        let a2 = an_alert(&k2, &inc.id, "a", None);
        let mut c1 = an_alert(&k1, &inc.id, "c", None);
        c1.status = AlertStatus::Resolved;
        c1.resolved_at = Some(11);
        for a in [&a1, &b1, &a2, &c1] {
            alert::insert(tx.conn(), a).await.unwrap();
        }
        let r = |summary: Option<&'static str>, at: i64| alert::Retrigger {
            summary,
            source: None,
            severity: Some("SEV2"),
            details: "{\"n\":1}",
            at,
        };
        let triggers = [
            (k1.id.as_str(), "a", r(Some("a again"), 20)),
            (k1.id.as_str(), "c", r(None, 21)),
            (k2.id.as_str(), "a", r(None, 22)),
            (k1.id.as_str(), "missing", r(None, 23)),
        ];
        let mut got = alert::retrigger_many(tx.conn(), &triggers).await.unwrap();
        got.sort_by_key(|(a, _)| a.last_event_at);
        let seen: Vec<_> = got
            .iter()
            .map(|(a, chat)| {
                (
                    a.id.clone(),
                    a.occurrences,
                    a.last_event_at,
                    a.summary.clone(),
                    a.severity.clone(),
                    chat.clone(),
                )
            })
            .collect();
        let chat = svc.chat_webhook.clone();
        assert_eq!(
            seen,
            vec![
                (
                    a1.id.clone(),
                    2,
                    20,
                    "a again".into(),
                    Some("SEV2".into()),
                    chat.clone()
                ),
                (
                    a2.id.clone(),
                    2,
                    22,
                    "disk full".into(),
                    Some("SEV2".into()),
                    chat
                ),
            ],
            "only the open alerts of each (key, dedup key) change"
        );
        let untouched = alert::get(tx.conn(), &b1.id).await.unwrap().unwrap();
        assert_eq!(untouched, b1);
        let resolved = alert::get(tx.conn(), &c1.id).await.unwrap().unwrap();
        assert_eq!(resolved, c1);
        assert!(
            alert::retrigger_many(tx.conn(), &[])
                .await
                .unwrap()
                .is_empty()
        );

        // Appending several events takes consecutive sequence numbers, in order, after
        // what single appends took, and the rows read back equal what was returned.
        let ev = |body: &str| triad_domain::timeline::NewEvent {
            incident_id: inc.id.clone(),
            at: 30,
            actor_id: None,
            actor_name: Some("prometheus".into()),
            kind: triad_domain::timeline::EventKind::Alert,
            body: body.into(),
            data: serde_json::json!({"body": body}),
        };
        let first = timeline::append(tx.conn(), ev("first")).await.unwrap();
        let many =
            timeline::append_many(tx.conn(), (0..1203).map(|i| ev(&i.to_string())).collect())
                .await
                .unwrap();
        assert_eq!(many.len(), 1203, "more than one INSERT's worth of rows");
        for (i, e) in many.iter().enumerate() {
            assert_eq!(e.seq, first.seq + 1 + i as i64);
            assert_eq!(e.body, i.to_string());
        }
        let last = timeline::append(tx.conn(), ev("last")).await.unwrap();
        assert_eq!(last.seq, first.seq + 1204);
        assert!(
            timeline::append_many(tx.conn(), Vec::new())
                .await
                .unwrap()
                .is_empty()
        );
        let stored = timeline::after(tx.conn(), Some(&inc.id), first.seq, 2000)
            .await
            .unwrap();
        assert_eq!(stored.len(), 1204);
        assert_eq!(stored[..1203], many[..]);
        tx.commit().await.unwrap();
        store.close().await;
    }
);

/// Reads one integer with a fresh transaction's connection, outside any held one.
async fn count_services(store: &Store) -> i64 {
    use sqlx::Row;
    let mut conn = store.read().await.unwrap();
    sqlx::query("SELECT COUNT(*) FROM services")
        .fetch_one(&mut *conn)
        .await
        .unwrap()
        .get::<i64, _>(0)
}

/// SQLite's `PRAGMA synchronous` on this connection (1 NORMAL, 2 FULL).
async fn synchronous(conn: &mut triad_store::Conn) -> i64 {
    use sqlx::Row;
    sqlx::query("PRAGMA synchronous")
        .fetch_one(conn)
        .await
        .unwrap()
        .get::<i64, _>(0)
}

fn a_service(name: &str) -> Service {
    Service {
        id: new_id(),
        name: name.into(),
        description: None,
        team_id: None,
        escalation_policy_id: None,
        chat_webhook: None,
        default_severity: None,
        auto_resolve: false,
        created_at: 1,
        updated_at: 1,
    }
}

// The intake writer's held connection: commits are visible to other connections,
// a transaction dropped without commit is rolled back (and the write lock released),
// the flush of the write-ahead log succeeds, and on SQLite only the held connection
// skips the flush at commit: every pooled connection keeps `synchronous = FULL`.
both_backends!(
    held_connection_commits_rolls_back_and_syncs,
    |db: TestDb| async move {
        let store = open(&db).await;
        let mut tx = store.begin_held().await.unwrap();
        service::insert(tx.conn(), &a_service("kept"))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        store.sync_wal().await.unwrap();
        assert_eq!(count_services(&store).await, 1);

        let mut tx = store.begin_held().await.unwrap();
        service::insert(tx.conn(), &a_service("dropped"))
            .await
            .unwrap();
        drop(tx);
        // Both kinds of transaction wait for the rollback, then work.
        let mut tx = store.begin().await.unwrap();
        service::insert(tx.conn(), &a_service("pooled"))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.begin_held().await.unwrap();
        service::insert(tx.conn(), &a_service("held again"))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        store.sync_wal().await.unwrap();
        assert_eq!(
            count_services(&store).await,
            3,
            "the dropped insert is gone"
        );

        // A failed statement leaves the held transaction to be rolled back on drop.
        let mut tx = store.begin_held().await.unwrap();
        let dup = service::insert(tx.conn(), &a_service("kept")).await;
        assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
        drop(tx);
        let mut tx = store.begin_held().await.unwrap();
        service::insert(tx.conn(), &a_service("after a failure"))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(count_services(&store).await, 4);

        if store.backend() == triad_store::Backend::Sqlite {
            let mut tx = store.begin_held().await.unwrap();
            assert_eq!(
                synchronous(tx.conn()).await,
                1,
                "NORMAL on the held connection"
            );
            drop(tx);
            // Every pooled connection (the pool holds at most 8) keeps FULL.
            let mut pooled = Vec::new();
            for _ in 0..8 {
                let mut c = store.read().await.unwrap();
                assert_eq!(synchronous(&mut c).await, 2, "FULL on pooled connections");
                pooled.push(c);
            }
        }
        store.close().await;
    }
);

// SQLite resolves a database reached through a symbolic link to its target, and keeps
// the write-ahead log beside the target: the flush must find that log, not
// `<link>-wal` (which does not exist).
#[tokio::test]
async fn the_log_flush_follows_a_symlinked_database_to_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("data").join("real.db");
    let link = dir.path().join("link.db");
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::File::create(&target).unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let store = Store::connect(&triad_store::DatabaseUrl::Sqlite(link.clone()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let mut tx = store.begin_held().await.unwrap();
    service::insert(tx.conn(), &a_service("linked"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    store.sync_wal().await.unwrap();
    assert!(dir.path().join("data").join("real.db-wal").exists());
    assert!(!dir.path().join("link.db-wal").exists());
    // An injected failure is reported once, as a disk error would be.
    store.fail_next_wal_sync();
    let err = store.sync_wal().await.unwrap_err();
    assert!(err.to_string().contains("write-ahead log"), "{err}");
    store.sync_wal().await.unwrap();
    store.close().await;
}

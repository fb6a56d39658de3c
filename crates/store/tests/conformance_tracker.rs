//! The store conformance suite for tracker sync: trackers, links, ordered jobs with
//! leases, and inbound deliveries seen once. The same assertions on SQLite and on
//! PostgreSQL.

use triad_domain::incident::{Incident, PublicState, Status};
use triad_domain::severity::Severity;
use triad_store::tracker::{self, Job, Link, Tracker};
use triad_store::{Store, StoreError, incident, new_id};
use triad_testkit::{TestDb, both_backends};

async fn open(db: &TestDb) -> Store {
    let store = Store::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    store
}

fn an_incident(number: i64) -> Incident {
    Incident {
        id: new_id(),
        number,
        title: format!("incident {number}"),
        description: None,
        severity: Severity::Sev2,
        status: Status::Triggered,
        public_state: PublicState::Investigating,
        service_id: None,
        created_by: None,
        created_at: 1,
        updated_at: 1,
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

fn a_job(t: &Tracker, i: &Incident, kind: &str, key: &str) -> Job {
    Job {
        id: new_id(),
        seq: 0,
        idempotency_key: key.into(),
        tracker_id: t.id.clone(),
        incident_id: i.id.clone(),
        kind: kind.into(),
        issue_key: None,
        body: "b".into(),
        status: "pending".into(),
        attempts: 0,
        next_attempt_at: 10,
        last_error: None,
        created_at: 10,
        done_at: None,
    }
}

both_backends!(
    trackers_links_jobs_and_deliveries,
    |db: TestDb| async move {
        let store = open(&db).await;
        let mut tx = store.begin().await.unwrap();
        let t = Tracker {
            id: new_id(),
            name: "Ops".into(),
            kind: "jira".into(),
            base_url: "https://jira.example".into(),
            api_version: 3,
            auth_kind: "basic".into(),
            auth_user: Some("bot@example.com".into()),
            auth_secret: Some("tok".into()),
            project_key: "OPS".into(),
            issue_type: "Incident".into(),
            resolve_transition: "Done".into(),
            min_severity: "SEV2".into(),
            inbound_secret: None,
            created_at: 1,
        };
        tracker::insert(tx.conn(), &t).await.unwrap();
        assert_eq!(
            tracker::find(tx.conn(), "Ops").await.unwrap(),
            Some(t.clone())
        );
        assert_eq!(
            tracker::find(tx.conn(), &t.id).await.unwrap(),
            Some(t.clone())
        );
        assert_eq!(tracker::list(tx.conn()).await.unwrap(), vec![t.clone()]);
        let (a, b) = (an_incident(1), an_incident(2));
        incident::insert(tx.conn(), &a).await.unwrap();
        incident::insert(tx.conn(), &b).await.unwrap();

        // Jobs take increasing seq numbers; a key is used once.
        assert!(
            tracker::enqueue(tx.conn(), &a_job(&t, &a, "create", "create:a"))
                .await
                .unwrap()
        );
        assert!(
            tracker::enqueue(tx.conn(), &a_job(&t, &b, "create", "create:b"))
                .await
                .unwrap()
        );
        assert!(
            tracker::enqueue(tx.conn(), &a_job(&t, &a, "comment", "comment:a:1"))
                .await
                .unwrap()
        );
        assert!(
            !tracker::enqueue(tx.conn(), &a_job(&t, &a, "comment", "comment:a:1"))
                .await
                .unwrap()
        );
        let jobs = tracker::jobs(tx.conn(), &a.id).await.unwrap();
        assert_eq!(
            jobs.iter().map(|j| j.kind.as_str()).collect::<Vec<_>>(),
            ["create", "comment"]
        );
        assert!(jobs[0].seq < jobs[1].seq);
        let due = tracker::due(tx.conn(), 10, 10).await.unwrap();
        assert_eq!(due.len(), 2, "a's comment waits for a's create");
        assert!(
            tracker::due(tx.conn(), 9, 10).await.unwrap().is_empty(),
            "not before next_attempt_at"
        );
        // A claim holds the job until the lease ends, and only as it was read.
        let lease = tracker::claim(tx.conn(), &jobs[0], 10, 100).await.unwrap();
        assert_eq!(lease, Some(110));
        assert_eq!(
            tracker::claim(tx.conn(), &jobs[0], 50, 100).await.unwrap(),
            None,
            "held"
        );
        assert_eq!(
            tracker::due(tx.conn(), 50, 10).await.unwrap().len(),
            1,
            "b's create; a's comment waits"
        );
        assert!(
            !tracker::settle(tx.conn(), &jobs[0].id, Some(999), "done", 1, 50, None, 50)
                .await
                .unwrap(),
            "not my lease"
        );
        let lease = tracker::claim(tx.conn(), &jobs[0], 110, 100)
            .await
            .unwrap()
            .expect("the lease ran out");
        assert!(
            tracker::settle(
                tx.conn(),
                &jobs[0].id,
                Some(lease),
                "pending",
                1,
                500,
                Some("HTTP 429"),
                110
            )
            .await
            .unwrap()
        );
        let again = tracker::jobs(tx.conn(), &a.id).await.unwrap()[0].clone();
        assert_eq!(
            (again.status.as_str(), again.attempts, again.next_attempt_at),
            ("pending", 1, 500)
        );
        assert_eq!(again.last_error.as_deref(), Some("HTTP 429"));
        assert_eq!(again.done_at, None);
        assert_eq!(
            tracker::claim(tx.conn(), &jobs[0], 600, 100).await.unwrap(),
            None,
            "read before the retry: stale"
        );
        assert_eq!(
            tracker::claim(tx.conn(), &again, 400, 100).await.unwrap(),
            None,
            "not due yet"
        );
        let lease = tracker::claim(tx.conn(), &again, 600, 100)
            .await
            .unwrap()
            .unwrap();
        assert!(
            tracker::settle(
                tx.conn(),
                &jobs[0].id,
                Some(lease),
                "done",
                2,
                600,
                None,
                600
            )
            .await
            .unwrap()
        );
        let done = &tracker::jobs(tx.conn(), &a.id).await.unwrap()[0];
        assert_eq!((done.status.as_str(), done.done_at), ("done", Some(600)));
        assert!(
            !tracker::settle(
                tx.conn(),
                &jobs[0].id,
                Some(lease),
                "dead",
                3,
                700,
                None,
                700
            )
            .await
            .unwrap(),
            "done stays done"
        );
        // The comment is runnable now that the create is done.
        assert_eq!(tracker::due(tx.conn(), 700, 10).await.unwrap().len(), 2);

        // Links: one per ticket.
        let link = Link {
            tracker_id: t.id.clone(),
            incident_id: a.id.clone(),
            issue_key: "OPS-1".into(),
            issue_id: Some("10001".into()),
            origin: "created".into(),
            created_at: 5,
        };
        assert!(tracker::link(tx.conn(), &link).await.unwrap());
        assert!(
            !tracker::link(
                tx.conn(),
                &Link {
                    incident_id: b.id.clone(),
                    ..link.clone()
                }
            )
            .await
            .unwrap()
        );
        assert_eq!(
            tracker::links(tx.conn(), &a.id).await.unwrap(),
            vec![link.clone()]
        );
        assert_eq!(
            tracker::link_of(tx.conn(), &t.id, "OPS-1").await.unwrap(),
            Some(link.clone())
        );
        assert_eq!(
            tracker::link_of(tx.conn(), &t.id, "OPS-2").await.unwrap(),
            None
        );

        // Deliveries: the first time only.
        assert!(
            tracker::first_delivery(tx.conn(), &t.id, "wh-1", 1)
                .await
                .unwrap()
        );
        assert!(
            !tracker::first_delivery(tx.conn(), &t.id, "wh-1", 2)
                .await
                .unwrap()
        );

        // Deleting the tracker takes its links, jobs and deliveries with it.
        tracker::delete(tx.conn(), &t.id).await.unwrap();
        assert!(tracker::links(tx.conn(), &a.id).await.unwrap().is_empty());
        assert!(tracker::jobs(tx.conn(), &a.id).await.unwrap().is_empty());
        assert!(matches!(
            tracker::delete(tx.conn(), &t.id).await,
            Err(StoreError::NotFound(_))
        ));
        tx.commit().await.unwrap();
        store.close().await;
    }
);

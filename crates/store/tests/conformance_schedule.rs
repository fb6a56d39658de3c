//! The store conformance suite for on-call schedules: schedules with versions and
//! overrides, role schedules, calendar feed tokens and the incident's understaffed flag.
//! The same assertions on SQLite and on PostgreSQL.

use jiff::civil::{date, time};
use triad_domain::escalation::{EscalationPolicy, Level, Target};
use triad_domain::incident::{Incident, PublicState, Status};
use triad_domain::role::IncidentRole;
use triad_domain::schedule::{Layer, Override, OverrideAction, Schedule, ShiftUnit, Version};
use triad_domain::severity::Severity;
use triad_domain::user::SystemRole;
use triad_store::schedule::{self as schedules, FeedKind, Scope};
use triad_store::{Store, StoreError, escalation, incident, new_id, user};
use triad_testkit::{TestDb, both_backends};

async fn open(db: &TestDb) -> Store {
    let store = Store::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    store
}

fn layer(who: &str) -> Layer {
    Layer {
        name: "daily".into(),
        time_zone: Some("Asia/Kolkata".into()),
        participants: vec![who.to_string()],
        shift_length: 1,
        shift_unit: ShiftUnit::Days,
        start: date(2026, 1, 5),
        handoff_time: time(9, 30, 0, 0),
        restrictions: Vec::new(),
    }
}

both_backends!(
    schedules_versions_overrides_roles_and_feeds,
    |db: TestDb| async move {
        let store = open(&db).await;
        let uid = new_id();
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
        let mut s = Schedule {
            id: new_id(),
            name: "primary".into(),
            description: Some("the rota".into()),
            time_zone: "Europe/London".into(),
            versions: vec![Version {
                effective_from: 10,
                layers: vec![layer(&uid)],
            }],
            overrides: Vec::new(),
            created_at: 10,
            updated_at: 10,
        };
        schedules::insert(tx.conn(), &s, Some(&uid)).await.unwrap();
        tx.commit().await.unwrap();
        // The name is unique (a failed statement spoils a PostgreSQL transaction: its own).
        let dup = Schedule {
            id: new_id(),
            ..s.clone()
        };
        let mut tx = store.begin().await.unwrap();
        assert!(matches!(
            schedules::insert(tx.conn(), &dup, None).await,
            Err(StoreError::Conflict(_))
        ));
        drop(tx);

        let mut tx = store.begin().await.unwrap();
        // By id and by name, with its version intact (civil dates and times round-trip).
        for key in [s.id.as_str(), "primary"] {
            assert_eq!(schedules::find(tx.conn(), key).await.unwrap().unwrap(), s);
        }
        assert!(schedules::find(tx.conn(), "nope").await.unwrap().is_none());
        // A second version; the same effective time replaces it.
        let mut v2 = Version {
            effective_from: 1000,
            layers: vec![layer(&uid), layer(&uid)],
        };
        schedules::put_version(tx.conn(), &s.id, &v2, None, 20)
            .await
            .unwrap();
        v2.layers.pop();
        schedules::put_version(tx.conn(), &s.id, &v2, None, 21)
            .await
            .unwrap();
        let v3 = Version {
            effective_from: 2000,
            layers: vec![layer(&uid)],
        };
        schedules::put_version(tx.conn(), &s.id, &v3, None, 22)
            .await
            .unwrap();
        let got = schedules::find(tx.conn(), &s.id).await.unwrap().unwrap();
        let froms: Vec<i64> = got.versions.iter().map(|v| v.effective_from).collect();
        assert_eq!(froms, [10, 1000, 2000]);
        assert_eq!(got.versions[1].layers.len(), 1);
        // Pruning before 1500 keeps the version still in force then (1000).
        assert_eq!(
            schedules::prune_versions(tx.conn(), &s.id, 1500)
                .await
                .unwrap(),
            1
        );
        let got = schedules::find(tx.conn(), &s.id).await.unwrap().unwrap();
        let froms: Vec<i64> = got.versions.iter().map(|v| v.effective_from).collect();
        assert_eq!(froms, [1000, 2000]);

        // Overrides come back in the order they were made.
        let o1 = Override {
            id: new_id(),
            start: 100,
            end: 200,
            action: OverrideAction::Replace,
            user: uid.clone(),
            replaces: Some(uid.clone()),
            created_at: 30,
        };
        let o2 = Override {
            id: new_id(),
            start: 150,
            end: 250,
            action: OverrideAction::Remove,
            user: uid.clone(),
            replaces: None,
            created_at: 31,
        };
        schedules::insert_override(tx.conn(), &s.id, &o2, Some(&uid))
            .await
            .unwrap();
        schedules::insert_override(tx.conn(), &s.id, &o1, None)
            .await
            .unwrap();
        let got = schedules::find(tx.conn(), &s.id).await.unwrap().unwrap();
        assert_eq!(got.overrides, [o1.clone(), o2.clone()]);
        schedules::delete_override(tx.conn(), &s.id, &o2.id)
            .await
            .unwrap();
        assert!(matches!(
            schedules::delete_override(tx.conn(), &s.id, &o2.id).await,
            Err(StoreError::NotFound(_))
        ));

        // Renaming, and the list carries versions and overrides of every schedule.
        s.name = "renamed".into();
        s.time_zone = "Pacific/Chatham".into();
        s.updated_at = 40;
        schedules::update(tx.conn(), &s).await.unwrap();
        let other = Schedule {
            id: new_id(),
            name: "another".into(),
            versions: vec![Version {
                effective_from: 5,
                layers: vec![layer(&uid)],
            }],
            ..s.clone()
        };
        schedules::insert(tx.conn(), &other, None).await.unwrap();
        let list = schedules::list(tx.conn()).await.unwrap();
        let names: Vec<&str> = list.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(names, ["another", "renamed"]);
        assert_eq!(list[1].time_zone, "Pacific/Chatham");
        assert_eq!((list[0].versions.len(), list[1].versions.len()), (1, 2));
        assert_eq!((list[0].overrides.len(), list[1].overrides.len()), (0, 1));

        // Role schedules: set, replace, clear; a schedule in use cannot be deleted.
        schedules::set_role_schedule(
            tx.conn(),
            Scope::Team,
            "t1",
            IncidentRole::Coordinator,
            Some(&s.id),
        )
        .await
        .unwrap();
        schedules::set_role_schedule(
            tx.conn(),
            Scope::Team,
            "t1",
            IncidentRole::Coordinator,
            Some(&other.id),
        )
        .await
        .unwrap();
        schedules::set_role_schedule(
            tx.conn(),
            Scope::Service,
            "s1",
            IncidentRole::Observer,
            Some(&s.id),
        )
        .await
        .unwrap();
        let team = schedules::role_schedules_of(tx.conn(), Scope::Team, "t1")
            .await
            .unwrap();
        assert_eq!(team.len(), 1);
        assert_eq!(
            (team[0].role, team[0].schedule_id.as_str()),
            (IncidentRole::Coordinator, other.id.as_str())
        );
        assert_eq!(schedules::role_schedules(tx.conn()).await.unwrap().len(), 2);
        assert!(matches!(
            schedules::delete(tx.conn(), &s.id).await,
            Err(StoreError::InUse(_))
        ));
        schedules::set_role_schedule(
            tx.conn(),
            Scope::Service,
            "s1",
            IncidentRole::Observer,
            None,
        )
        .await
        .unwrap();
        // So does an escalation policy that names it.
        let p = EscalationPolicy {
            id: new_id(),
            name: "rota".into(),
            description: None,
            levels: vec![Level {
                delay_seconds: 60,
                targets: vec![Target::Schedule { id: s.id.clone() }],
            }],
            repeat: 0,
            fallback: None,
            created_at: 1,
            updated_at: 1,
        };
        escalation::insert(tx.conn(), &p).await.unwrap();
        assert!(matches!(
            schedules::delete(tx.conn(), &s.id).await,
            Err(StoreError::InUse(_))
        ));
        escalation::delete(tx.conn(), &p.id).await.unwrap();

        // Calendar feeds: one live token per subject.
        schedules::put_feed(tx.conn(), FeedKind::Schedule, &s.id, "hash-1", None, 50)
            .await
            .unwrap();
        schedules::put_feed(tx.conn(), FeedKind::User, &uid, "hash-2", Some(&uid), 50)
            .await
            .unwrap();
        assert_eq!(
            schedules::feed(tx.conn(), "hash-1").await.unwrap(),
            Some((FeedKind::Schedule, s.id.clone()))
        );
        schedules::put_feed(tx.conn(), FeedKind::Schedule, &s.id, "hash-3", None, 51)
            .await
            .unwrap();
        assert!(
            schedules::feed(tx.conn(), "hash-1")
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            schedules::feed(tx.conn(), "hash-2").await.unwrap(),
            Some((FeedKind::User, uid.clone()))
        );
        // Deleting takes versions, overrides and the feed with it.
        schedules::delete(tx.conn(), &s.id).await.unwrap();
        assert!(schedules::find(tx.conn(), &s.id).await.unwrap().is_none());
        assert!(
            schedules::feed(tx.conn(), "hash-3")
                .await
                .unwrap()
                .is_none()
        );
        assert!(matches!(
            schedules::delete(tx.conn(), &s.id).await,
            Err(StoreError::NotFound(_))
        ));

        // The incident's understaffed flag round-trips.
        let mut i = Incident {
            id: new_id(),
            number: 1,
            title: "t".into(),
            description: None,
            severity: Severity::Sev1,
            status: Status::Acknowledged,
            public_state: PublicState::Investigating,
            service_id: None,
            created_by: None,
            created_at: 1,
            updated_at: 1,
            ack_due_at: None,
            acknowledged_at: Some(2),
            acknowledged_by: None,
            resolved_at: None,
            resolved_by: None,
            communication_gap_at: None,
            understaffed_since: Some(7),
            update_requests: 0,
        };
        incident::insert(tx.conn(), &i).await.unwrap();
        assert_eq!(
            incident::get(tx.conn(), &i.id)
                .await
                .unwrap()
                .unwrap()
                .understaffed_since,
            Some(7)
        );
        i.understaffed_since = None;
        incident::save(tx.conn(), &i).await.unwrap();
        assert_eq!(incident::get(tx.conn(), &i.id).await.unwrap().unwrap(), i);
        tx.commit().await.unwrap();
        store.close().await;
    }
);

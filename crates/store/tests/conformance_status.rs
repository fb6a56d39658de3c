//! The store conformance suite for business impact and the status page: impacts and the
//! matrix, the page's settings row, components, maintenances, public incidents and the
//! page's one read, and the incident list ordered by impact. The same assertions on
//! SQLite and on PostgreSQL.

use triad_domain::incident::{Incident, PublicState, Status};
use triad_domain::severity::Severity;
use triad_domain::status::Impact;
use triad_domain::update::{Audience, StatusUpdate};
use triad_store::business_service::{self as business, BusinessService};
use triad_store::impact::{self, IncidentImpact};
use triad_store::incident::{self, Filter};
use triad_store::status::{self, Component, Maintenance, Page};
use triad_store::{Store, StoreError, new_id, update};
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
        title: format!("internal title {number}"),
        description: None,
        severity: Severity::Sev3,
        status: Status::Triggered,
        public_state: PublicState::Investigating,
        service_id: None,
        created_by: None,
        created_at: number * 1000,
        updated_at: number * 1000,
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

fn a_business(name: &str, tier: i64) -> BusinessService {
    BusinessService {
        id: new_id(),
        name: name.into(),
        description: None,
        tier,
        customers_served: None,
        stakeholder_groups: Vec::new(),
        services: Vec::new(),
        created_at: 1,
        updated_at: 1,
    }
}

fn a_component(name: &str, position: i64) -> Component {
    Component {
        id: new_id(),
        name: name.into(),
        description: None,
        position,
        is_group: false,
        group_id: None,
        service_id: None,
        business_service_id: None,
        showcase: true,
        only_show_if_degraded: false,
        start_date: None,
        created_at: 1,
        updated_at: 1,
    }
}

fn an_impact(incident: &Incident, b: &BusinessService, impact: Impact) -> IncidentImpact {
    IncidentImpact {
        incident_id: incident.id.clone(),
        business_service_id: b.id.clone(),
        impact,
        customers_affected: Some(7),
        updated_at: 5,
        updated_by: None,
    }
}

both_backends!(impacts_and_the_matrix, |db: TestDb| async move {
    let store = open(&db).await;
    let mut tx = store.begin().await.unwrap();
    let (a, b) = (a_business("A", 1), a_business("B", 3));
    business::insert(tx.conn(), &a).await.unwrap();
    business::insert(tx.conn(), &b).await.unwrap();
    let (i1, i2, i3) = (an_incident(1), an_incident(2), an_incident(3));
    for i in [&i1, &i2, &i3] {
        incident::insert(tx.conn(), i).await.unwrap();
    }
    let rows = vec![
        an_impact(&i1, &b, Impact::MajorOutage),
        an_impact(&i1, &a, Impact::Degraded),
    ];
    impact::replace(tx.conn(), &i1.id, &rows).await.unwrap();
    impact::replace(tx.conn(), &i2.id, &[an_impact(&i2, &a, Impact::None)])
        .await
        .unwrap();
    let listed = impact::list(tx.conn(), &i1.id).await.unwrap();
    assert_eq!(listed, rows, "most severe first");
    // Replacing is a replacement.
    impact::replace(
        tx.conn(),
        &i1.id,
        &[an_impact(&i1, &a, Impact::PartialOutage)],
    )
    .await
    .unwrap();
    assert_eq!(impact::list(tx.conn(), &i1.id).await.unwrap().len(), 1);
    let worst = impact::worst_of(tx.conn(), &[i1.id.clone(), i2.id.clone(), i3.id.clone()])
        .await
        .unwrap();
    assert_eq!(worst.get(&i1.id), Some(&Impact::PartialOutage));
    assert_eq!(worst.get(&i2.id), Some(&Impact::None));
    assert_eq!(worst.get(&i3.id), None);
    // Ordered by impact: partial outage, none, then the unassessed one.
    let by_impact = |before: Option<(i64, i64)>| Filter {
        limit: 10,
        by_impact: true,
        before_rank: before.map(|b| b.0),
        before_number: before.map(|b| b.1),
        ..Filter::default()
    };
    let numbers = |v: Vec<Incident>| v.iter().map(|i| i.number).collect::<Vec<_>>();
    assert_eq!(
        numbers(incident::list(tx.conn(), &by_impact(None)).await.unwrap()),
        [1, 2, 3]
    );
    assert_eq!(
        numbers(
            incident::list(tx.conn(), &by_impact(Some((3, 1))))
                .await
                .unwrap()
        ),
        [2, 3]
    );
    assert_eq!(
        numbers(
            incident::list(tx.conn(), &by_impact(Some((1, 2))))
                .await
                .unwrap()
        ),
        [3]
    );
    // A business service with impact on record cannot be deleted.
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let err = business::delete(tx.conn(), &a.id).await.unwrap_err();
    assert!(matches!(err, StoreError::InUse(_)), "{err:?}");
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(impact::matrix(tx.conn()).await.unwrap(), vec![]);
    let cells = vec![
        (Impact::Degraded, 3, Severity::Sev1),
        (Impact::None, 1, Severity::Sev4),
    ];
    impact::set_matrix(tx.conn(), &cells).await.unwrap();
    let mut got = impact::matrix(tx.conn()).await.unwrap();
    got.sort_by_key(|c| (c.0, c.1));
    let mut want = cells.clone();
    want.sort_by_key(|c| (c.0, c.1));
    assert_eq!(got, want);
    impact::set_matrix(tx.conn(), &[]).await.unwrap();
    assert_eq!(impact::matrix(tx.conn()).await.unwrap(), vec![]);
    tx.commit().await.unwrap();
    store.close().await;
});

both_backends!(page_components_and_maintenances, |db: TestDb| async move {
    let store = open(&db).await;
    let mut tx = store.begin().await.unwrap();
    assert_eq!(status::page(tx.conn()).await.unwrap(), None);
    let page = Page {
        page_id: "abc123def456".into(),
        name: "Status".into(),
        url: "/status".into(),
        time_zone: "Etc/UTC".into(),
        updated_at: 10,
    };
    status::init_page(tx.conn(), &page).await.unwrap();
    // A second init (another node) changes nothing.
    status::init_page(
        tx.conn(),
        &Page {
            page_id: "zzzzzzzzzzzz".into(),
            ..page.clone()
        },
    )
    .await
    .unwrap();
    assert_eq!(status::page(tx.conn()).await.unwrap(), Some(page.clone()));
    status::touch_page(tx.conn(), 5).await.unwrap();
    assert_eq!(
        status::page(tx.conn()).await.unwrap().unwrap().updated_at,
        10,
        "never backwards"
    );
    status::touch_page(tx.conn(), 20).await.unwrap();
    let changed = Page {
        name: "Acme".into(),
        time_zone: "Europe/Berlin".into(),
        updated_at: 30,
        ..page
    };
    status::save_page(tx.conn(), &changed).await.unwrap();
    assert_eq!(status::page(tx.conn()).await.unwrap(), Some(changed));

    let mut group = a_component("Group", 1);
    group.is_group = true;
    let mut member = a_component("Member", 2);
    member.group_id = Some(group.id.clone());
    member.start_date = Some("2026-01-01".into());
    member.description = Some("d".into());
    let other = a_component("Other", 0);
    for c in [&group, &member, &other] {
        status::insert_component(tx.conn(), c).await.unwrap();
    }
    let all = status::components(tx.conn()).await.unwrap();
    assert_eq!(
        all,
        vec![other.clone(), group.clone(), member.clone()],
        "by position"
    );
    member.name = "Renamed".into();
    member.only_show_if_degraded = true;
    member.updated_at = 9;
    status::update_component(tx.conn(), &member).await.unwrap();
    assert_eq!(
        status::get_component(tx.conn(), &member.id).await.unwrap(),
        Some(member.clone())
    );
    let ghost = a_component("Ghost", 9);
    assert!(matches!(
        status::update_component(tx.conn(), &ghost).await,
        Err(StoreError::NotFound(_))
    ));
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    let err = status::delete_component(tx.conn(), &group.id)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::InUse(_)),
        "a group with members: {err:?}"
    );
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    let m = |name: &str, from: i64, until: i64, comps: Vec<String>| Maintenance {
        id: new_id(),
        name: name.into(),
        body: "b".into(),
        scheduled_for: from,
        scheduled_until: until,
        created_at: 1,
        updated_at: 1,
        created_by: None,
        components: comps,
    };
    let old = m("old", 100, 200, vec![]);
    let now_on = m("now", 900, 2000, vec![member.id.clone(), other.id.clone()]);
    let next = m("next", 5000, 6000, vec![group.id.clone()]);
    for x in [&old, &now_on, &next] {
        status::insert_maintenance(tx.conn(), x).await.unwrap();
    }
    let mut sorted_now = now_on.clone();
    sorted_now.components.sort();
    let listed = status::maintenances(tx.conn(), 1000, 50).await.unwrap();
    assert_eq!(listed, vec![next.clone(), sorted_now.clone(), old.clone()]);
    // Only the latest one, plus those not over.
    let listed = status::maintenances(tx.conn(), 1000, 1).await.unwrap();
    assert_eq!(
        listed.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(),
        ["next", "now"]
    );
    // Deleting a component takes it out of maintenances.
    status::delete_component(tx.conn(), &other.id)
        .await
        .unwrap();
    let listed = status::maintenances(tx.conn(), 1000, 50).await.unwrap();
    assert_eq!(listed[1].components, vec![member.id.clone()]);
    status::delete_maintenance(tx.conn(), &old.id)
        .await
        .unwrap();
    assert!(matches!(
        status::delete_maintenance(tx.conn(), &old.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        status::maintenances(tx.conn(), 1000, 50)
            .await
            .unwrap()
            .len(),
        2
    );
    tx.commit().await.unwrap();
    store.close().await;
});

both_backends!(
    public_incidents_are_what_was_said_publicly,
    |db: TestDb| async move {
        let store = open(&db).await;
        let mut tx = store.begin().await.unwrap();
        let b = a_business("B", 2);
        business::insert(tx.conn(), &b).await.unwrap();
        let day = 86_400_000;
        let mut incidents = Vec::new();
        for n in 1..=4 {
            let i = an_incident(n);
            incident::insert(tx.conn(), &i).await.unwrap();
            incidents.push(i);
        }
        let say = |i: &Incident, audience: Audience, state: PublicState, at: i64| StatusUpdate {
            id: new_id(),
            incident_id: i.id.clone(),
            audience,
            state,
            message: format!("{} at {at}", audience.as_str()),
            author_id: None,
            published_at: at,
            due_at: None,
            late_by_ms: None,
        };
        // 1: public long ago and resolved; 2: public long ago, still open; 3: public recently,
        // renamed; 4: never public (a stakeholder update only).
        let plan = [
            (0usize, PublicState::Investigating, 1_000, Some("Old one")),
            (0, PublicState::Resolved, 2_000, None),
            (1, PublicState::Identified, 3_000, Some("Still going")),
            (2, PublicState::Investigating, 100 * day, Some("Fresh")),
            (
                2,
                PublicState::Monitoring,
                100 * day + 60_000,
                Some("Fresh, renamed"),
            ),
        ];
        for (n, state, at, title) in plan {
            let i = &incidents[n];
            update::insert(tx.conn(), &say(i, Audience::Public, state, at))
                .await
                .unwrap();
            let name = title.unwrap_or(&i.title);
            status::publish_incident(tx.conn(), &i.id, name, title.is_some(), state, at)
                .await
                .unwrap();
        }
        update::insert(
            tx.conn(),
            &say(
                &incidents[2],
                Audience::Stakeholders,
                PublicState::Identified,
                100 * day + 1,
            ),
        )
        .await
        .unwrap();
        update::insert(
            tx.conn(),
            &say(
                &incidents[3],
                Audience::Stakeholders,
                PublicState::Identified,
                100 * day,
            ),
        )
        .await
        .unwrap();
        impact::replace(
            tx.conn(),
            &incidents[2].id,
            &[an_impact(&incidents[2], &b, Impact::PartialOutage)],
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let mut conn = store.read().await.unwrap();
        // The window starts after incidents 1 and 2 went public: 2 stays (unresolved),
        // 1 stays only among the latest `recent`.
        let since = 50 * day;
        let got = status::public_incidents(&mut conn, since, 50)
            .await
            .unwrap();
        let names: Vec<&str> = got.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(
            names,
            ["Fresh, renamed", "Still going", "Old one"],
            "latest first"
        );
        let fresh = &got[0];
        assert_eq!(fresh.state, PublicState::Monitoring);
        assert_eq!(fresh.created_at, 100 * day);
        assert_eq!(fresh.updated_at, 100 * day + 60_000);
        assert_eq!(fresh.started_at, incidents[2].created_at);
        assert_eq!(fresh.severity, Severity::Sev3);
        assert_eq!(fresh.updates.len(), 2, "public updates only");
        assert!(
            fresh
                .updates
                .iter()
                .all(|u| u.message.starts_with("public"))
        );
        assert!(
            fresh.updates[0].published_at > fresh.updates[1].published_at,
            "newest first"
        );
        assert_eq!(fresh.impacts.len(), 1);
        assert_eq!(
            got[1].name, "Still going",
            "the name is kept without a new title"
        );
        assert_eq!(got[2].state, PublicState::Resolved);
        let got = status::public_incidents(&mut conn, since, 1).await.unwrap();
        let names: Vec<&str> = got.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(
            names,
            ["Fresh, renamed", "Still going"],
            "the old resolved one drops out"
        );
        drop(conn);
        store.close().await;
    }
);

both_backends!(subscribers_live_confirm_and_end, |db: TestDb| async move {
    use triad_store::subscriber::{self, PAGE, Subscriber};
    let store = open(&db).await;
    let mut tx = store.begin().await.unwrap();
    let sub = |email: &str, scope: &str, n: i64| Subscriber {
        id: new_id(),
        channel: "email".into(),
        address: email.into(),
        secret: None,
        scope: scope.into(),
        token_hash: format!("hash-{email}-{scope}"),
        unsubscribe_token: format!("unsub-{email}-{scope}"),
        created_at: n,
        confirm_sent_at: n,
        confirmed_at: None,
        unsubscribed_at: None,
    };
    let a = sub("a@example.com", PAGE, 1);
    let b = sub("b@example.com", "comp-1", 2);
    let c = sub("a@example.com", "comp-1", 3);
    for s in [&a, &b, &c] {
        subscriber::insert(tx.conn(), s).await.unwrap();
    }
    // One live subscription per address and scope.
    let twin = Subscriber {
        id: new_id(),
        token_hash: "other".into(),
        unsubscribe_token: "other".into(),
        ..a.clone()
    };
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        subscriber::insert(tx.conn(), &twin).await,
        Err(StoreError::Conflict(_))
    ));
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        subscriber::live(tx.conn(), "email", "a@example.com", PAGE)
            .await
            .unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        subscriber::by_token(tx.conn(), Some("hash-b@example.com-comp-1"), None)
            .await
            .unwrap(),
        Some(b.clone())
    );
    assert_eq!(
        subscriber::by_token(tx.conn(), None, Some("unsub-a@example.com-comp-1"))
            .await
            .unwrap(),
        Some(c.clone())
    );
    assert_eq!(
        subscriber::by_token(tx.conn(), None, None).await.unwrap(),
        None
    );
    assert_eq!(subscriber::counts(tx.conn()).await.unwrap(), (0, 3));
    let scopes = vec![PAGE.to_string(), "comp-1".to_string()];
    assert!(
        subscriber::confirmed(tx.conn(), &scopes)
            .await
            .unwrap()
            .is_empty(),
        "none confirmed yet"
    );
    for s in [&a, &b, &c] {
        let mut s = s.clone();
        s.confirmed_at = Some(10);
        subscriber::save(tx.conn(), &s).await.unwrap();
    }
    let got = subscriber::confirmed(tx.conn(), &scopes).await.unwrap();
    let pairs: Vec<(&str, &str)> = got
        .iter()
        .map(|s| (s.address.as_str(), s.scope.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("a@example.com", "comp-1"),
            ("a@example.com", PAGE),
            ("b@example.com", "comp-1")
        ]
    );
    assert_eq!(
        subscriber::confirmed(tx.conn(), &[PAGE.to_string()])
            .await
            .unwrap()
            .len(),
        1
    );
    // Ending a component's subscriptions leaves the page's.
    assert_eq!(
        subscriber::end_scope(tx.conn(), "comp-1", 20)
            .await
            .unwrap(),
        2
    );
    assert_eq!(subscriber::counts(tx.conn()).await.unwrap(), (1, 0));
    assert_eq!(
        subscriber::live(tx.conn(), "email", "b@example.com", "comp-1")
            .await
            .unwrap(),
        None
    );
    // The same URL as a webhook is another subscription, with its secret kept.
    let hook = Subscriber {
        id: new_id(),
        channel: "webhook".into(),
        address: "https://hooks.example/a".into(),
        secret: Some("s3cret-s3cret-s3cret".into()),
        token_hash: "hook".into(),
        unsubscribe_token: "hook".into(),
        ..a.clone()
    };
    subscriber::insert(tx.conn(), &hook).await.unwrap();
    assert_eq!(
        subscriber::live(tx.conn(), "webhook", "https://hooks.example/a", PAGE)
            .await
            .unwrap(),
        Some(hook.clone())
    );
    // After unsubscribing, the same address may subscribe again.
    subscriber::insert(
        tx.conn(),
        &Subscriber {
            id: new_id(),
            token_hash: "again".into(),
            unsubscribe_token: "again".into(),
            ..b.clone()
        },
    )
    .await
    .unwrap();
    let ghost = sub("ghost@example.com", PAGE, 1);
    assert!(matches!(
        subscriber::save(tx.conn(), &ghost).await,
        Err(StoreError::NotFound(_))
    ));
    tx.commit().await.unwrap();
    store.close().await;
});

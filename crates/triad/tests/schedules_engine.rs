//! What the engine does with schedules, on both databases with a ManualClock: an
//! escalation level naming a schedule pages whoever is on call when it is paged; a
//! handoff tells the incoming person what they inherit and the outgoing one who took
//! over; an acknowledged incident whose coordinator schedule has nobody on call is
//! flagged understaffed and the schedule is paged, until somebody takes the role.

use reqwest::Method;
use serde_json::{Value, json};
use triad_testkit::{TestApp, TestDb, both_backends};

async fn events(t: &TestApp, path: &str, kind: &str) -> Vec<Value> {
    let (st, all) = t.get(&format!("{path}/timeline"), &t.admin_token).await;
    assert_eq!(st, 200, "{all}");
    all.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .cloned()
        .collect()
}

/// Messages sent to `address` carrying an event of `kind` (alone or in a batch).
fn of_type(t: &TestApp, address: &str, kind: &str) -> Vec<triad_testkit::Sent> {
    t.recorder
        .to(address)
        .into_iter()
        .filter(|s| {
            let e = &s.message.event;
            e["type"] == kind
                || e["items"]
                    .as_array()
                    .is_some_and(|items| items.iter().any(|i| i["type"] == kind))
        })
        .collect()
}

/// The ids of the people a `paged` event names.
fn ids(e: &Value) -> Vec<String> {
    e["data"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect()
}

async fn schedule(t: &TestApp, name: &str, layers: Value) -> String {
    let (st, s) = t
        .post(
            "/api/v1/schedules",
            &t.admin_token,
            json!({"name": name, "time_zone": "Europe/London", "layers": layers}),
        )
        .await;
    assert_eq!(st, 201, "{s}");
    s["id"].as_str().unwrap().to_string()
}

both_backends!(schedules_page_and_hand_off, |db: TestDb| async move {
    let t = TestApp::spawn(db).await;
    let admin = t.admin_token.clone();
    let (ana, _) = t.user("ana@example.com", "Ana", "responder").await;
    let (ben, _) = t.user("ben@example.com", "Ben", "responder").await;
    // Ana until 09:00 London on 1 January, then Ben.
    let primary = schedule(
        &t,
        "primary",
        json!([{"name": "daily", "participants": [ana, ben], "shift_length": 1,
            "shift_unit": "days", "start": "2025-12-29", "handoff_time": "09:00"}]),
    )
    .await;
    let (st, p) = t
        .post(
            "/api/v1/escalation-policies",
            &admin,
            json!({"name": "follow the rota", "repeat": 2, "levels": [
                {"delay_seconds": 300, "targets": [{"type": "schedule", "id": primary}]}]}),
        )
        .await;
    assert_eq!(st, 201, "{p}");
    let (st, _) = t
        .post(
            "/api/v1/services",
            &admin,
            json!({"name": "ingest", "escalation_policy": "follow the rota"}),
        )
        .await;
    assert_eq!(st, 201);
    // 08:58: the incident pages Ana, who is on call.
    t.clock.advance_secs(8 * 3600 + 58 * 60);
    let (st, inc) = t
        .post(
            "/api/v1/incidents",
            &admin,
            json!({"title": "Ingest stalled", "severity": "SEV2", "service": "ingest"}),
        )
        .await;
    assert_eq!(st, 201, "{inc}");
    let path = format!("/api/v1/incidents/{}", inc["number"]);
    t.tick().await;
    let paged = events(&t, &path, "paged").await;
    assert_eq!(paged.len(), 1);
    assert_eq!(ids(&paged[0]), vec![ana.to_string()], "{paged:?}");
    assert_eq!(t.recorder.to("ana@example.com").len(), 1);

    // 09:00 the shift changes hands; 09:03 the repeat pages Ben, now on call.
    t.advance(5 * 60).await;
    let paged = events(&t, &path, "paged").await;
    assert_eq!(paged.len(), 2, "{paged:?}");
    assert_eq!(ids(&paged[1]), vec![ben.to_string()], "{paged:?}");
    let start = of_type(&t, "ben@example.com", "shift.start");
    assert_eq!(start.len(), 1, "{start:?}");
    assert!(
        start[0]
            .message
            .text
            .contains("started at Thu 1 Jan 09:00 UTC until Fri 2 Jan 09:00 UTC")
            && start[0]
                .message
                .text
                .contains(&format!("#{} Ingest stalled", inc["number"])),
        "{}",
        start[0].message.text
    );
    let end = of_type(&t, "ana@example.com", "shift.end");
    assert_eq!(end.len(), 1);
    assert!(
        end[0].message.text.contains("Ben took over"),
        "{}",
        end[0].message.text
    );
    // The next handoff is armed for 09:00 tomorrow, and fires once.
    t.advance(24 * 3600).await;
    t.advance(60).await;
    assert_eq!(of_type(&t, "ana@example.com", "shift.start").len(), 1);
    t.stop().await;
});

both_backends!(
    empty_coordinator_schedule_leaves_the_incident_understaffed,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let admin = t.admin_token.clone();
        let (rita, rita_tok) = t.user("rita@example.com", "Rita", "responder").await;
        let (omar, _) = t.user("omar@example.com", "Omar", "responder").await;
        let (cora, _) = t.user("cora@example.com", "Cora", "responder").await;
        let weekly = |who: &str| {
            json!([{"name": "weekly", "participants": [who], "shift_length": 1,
            "shift_unit": "weeks", "start": "2025-12-29", "handoff_time": "09:00"}])
        };
        schedule(&t, "secondary", weekly(&omar)).await;
        // The manager on duty covers office hours only; at midnight nobody is on call.
        let mod_id = schedule(
        &t,
        "manager on duty",
        json!([{"name": "office", "participants": [cora], "shift_length": 1,
            "shift_unit": "weeks", "start": "2025-12-29", "handoff_time": "09:00",
            "restrictions": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}]}]),
    )
    .await;
        let (st, team) = t
            .post("/api/v1/teams", &admin, json!({"name": "ingest team"}))
            .await;
        assert_eq!(st, 201, "{team}");
        let (st, rs) = t
            .call(
                Method::PUT,
                "/api/v1/teams/ingest team/role-schedules",
                Some(&admin),
                Some(json!({"observer": "secondary", "coordinator": "manager on duty"})),
            )
            .await;
        assert_eq!(st, 200, "{rs}");
        let (st, svc) = t
            .post(
                "/api/v1/services",
                &admin,
                json!({"name": "ingest", "team": team["id"]}),
            )
            .await;
        assert_eq!(st, 201, "{svc}");
        let (st, inc) = t
            .post(
                "/api/v1/incidents",
                &admin,
                json!({"title": "Ingest stalled", "severity": "SEV1", "service": "ingest"}),
            )
            .await;
        assert_eq!(st, 201, "{inc}");
        let path = format!("/api/v1/incidents/{}", inc["number"]);
        let (st, acked) = t
            .post(&format!("{path}/acknowledge"), &rita_tok, json!({}))
            .await;
        assert_eq!(st, 200, "{acked}");
        assert_eq!(acked["understaffed"], true, "{acked}");
        let held: Vec<(&str, &str)> = acked["roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["role"].as_str().unwrap(), r["user_id"].as_str().unwrap()))
            .collect();
        assert_eq!(
            held,
            [("responder", rita.as_str()), ("observer", omar.as_str())]
        );
        let flagged = events(&t, &path, "understaffed").await;
        assert_eq!(flagged.len(), 1);
        assert_eq!(
            flagged[0]["data"]["gaps"],
            json!([{"missing": "coordinator"}])
        );
        let paged: Vec<Value> = events(&t, &path, "paged")
            .await
            .into_iter()
            .filter(|e| e["data"]["reason"] == "understaffed")
            .collect();
        assert_eq!(paged.len(), 1, "{paged:?}");
        assert_eq!(paged[0]["data"]["schedule_id"], mod_id.as_str());
        assert_eq!(ids(&paged[0]), vec![cora.to_string()]);
        t.tick().await;
        let to_cora = t.recorder.to("cora@example.com");
        assert_eq!(to_cora.len(), 1, "{to_cora:?}");
        assert!(to_cora[0].message.subject.contains("needs a coordinator"));
        // The list and the single view both show the flag until somebody takes the role.
        let (_, list) = t.get("/api/v1/incidents", &admin).await;
        assert_eq!(list["items"][0]["understaffed"], true);
        let (st, _) = t
            .post(
                &format!("{path}/roles"),
                &rita_tok,
                json!({"role": "coordinator", "user": cora}),
            )
            .await;
        assert_eq!(st, 200);
        let (_, i) = t.get(&path, &admin).await;
        assert_eq!(i["understaffed"], false, "{i}");
        assert_eq!(events(&t, &path, "staffed").await.len(), 1);
        // Releasing the coordinator flags it again (without paging again).
        let (st, _) = t
            .call(
                Method::DELETE,
                &format!("{path}/roles/coordinator/{cora}"),
                Some(&rita_tok),
                None,
            )
            .await;
        assert_eq!(st, 200);
        let (_, i) = t.get(&path, &admin).await;
        assert_eq!(i["understaffed"], true, "{i}");
        assert_eq!(events(&t, &path, "understaffed").await.len(), 2);
        // Resolving clears it.
        let (st, r) = t
            .post(&format!("{path}/resolve"), &rita_tok, json!({}))
            .await;
        assert_eq!(st, 200, "{r}");
        assert_eq!(r["understaffed"], false);
        t.stop().await;
    }
);

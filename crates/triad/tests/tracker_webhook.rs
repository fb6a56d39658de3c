//! The generic webhook tracker (for CRMs and help desks): one signed JSON event per
//! ticket action — opened, each external update, resolved — in order, once each.
//! SQLite and PostgreSQL.

use serde_json::json;
use triad_testkit::{TestApp, TestDb, both_backends};

both_backends!(
    a_webhook_tracker_gets_one_event_per_action,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let admin = t.admin_token.clone();
        for (body, field) in [
            (
                json!({"kind": "fax", "name": "x", "base_url": "https://crm.example/h"}),
                "kind",
            ),
            (
                json!({"kind": "webhook", "name": "x", "base_url": "https://crm.example/h", "token": "short"}),
                "token",
            ),
            (
                json!({"kind": "webhook", "name": "x", "base_url": "https://crm.example/h", "auth": "basic"}),
                "auth",
            ),
        ] {
            let (s, v) = t.post("/api/v1/trackers", &admin, body).await;
            assert_eq!(
                (s, v["error"]["fields"][0]["field"].clone()),
                (422, json!(field)),
                "{v}"
            );
        }
        let (s, tracker) = t
            .post(
                "/api/v1/trackers",
                &admin,
                json!({"kind": "webhook", "name": "CRM",
            "base_url": "https://crm.example/hooks/triad", "token": "a-signing-secret-1234"}),
            )
            .await;
        assert_eq!(s, 201, "{tracker}");
        assert_eq!(tracker["kind"], "webhook");
        let (inc, path) = t.declare(&admin, "Checkout failing", "SEV2").await;
        let (s, _) = t
            .post(
                &format!("{path}/updates"),
                &admin,
                json!({"audience": "reporters", "state": "identified", "message": "Found it."}),
            )
            .await;
        assert_eq!(s, 201);
        assert_eq!(
            t.post(&format!("{path}/resolve"), &admin, json!({}))
                .await
                .0,
            200
        );
        t.tick().await;
        t.advance(600).await;
        let events: Vec<serde_json::Value> = t
            .recorder
            .sent()
            .iter()
            .filter(|s| s.message.address == "https://crm.example/hooks/triad")
            .map(|s| {
                assert_eq!(
                    s.message.secret.as_deref(),
                    Some("a-signing-secret-1234"),
                    "signed"
                );
                s.message.event.clone()
            })
            .collect();
        let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            ["ticket.create", "ticket.comment", "ticket.transition"],
            "in order, once each"
        );
        let ticket = format!("triad-{}", inc["number"]);
        assert!(
            events
                .iter()
                .all(|e| e["ticket"] == ticket.as_str() && e["incident_number"] == inc["number"])
        );
        assert!(
            events[0]["detail"]["summary"]
                .as_str()
                .unwrap()
                .contains("Checkout failing")
        );
        assert!(
            events[1]["detail"]["text"]
                .as_str()
                .unwrap()
                .contains("Found it.")
        );
        assert_eq!(events[2]["detail"]["transition"], "Done");
        let (_, sync) = t.get(&format!("{path}/tracker-sync"), &admin).await;
        assert_eq!(sync["links"][0]["issue_key"], ticket.as_str());
        t.stop().await;
    }
);

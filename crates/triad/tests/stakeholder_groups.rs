//! Stakeholder updates reach the stakeholder groups of the business services the
//! incident affects — by email and chat webhook, once per address and update — and
//! nothing else reaches them. SQLite and PostgreSQL.

use reqwest::Method;
use serde_json::json;
use triad_testkit::{TestApp, TestDb, both_backends};

fn sent(t: &TestApp) -> Vec<(String, String, String)> {
    let mut v: Vec<(String, String, String)> = t
        .recorder
        .sent()
        .iter()
        .filter(|s| s.message.subject.contains("Checkout failing"))
        .map(|s| {
            (
                s.message.channel.as_str().to_string(),
                s.message.address.clone(),
                s.message.subject.clone(),
            )
        })
        .collect();
    v.sort();
    v
}

both_backends!(
    stakeholder_updates_reach_the_affected_groups,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let admin = t.admin_token.clone();
        assert_eq!(
            t.post("/api/v1/services", &admin, json!({"name": "api"}))
                .await
                .0,
            201
        );
        let (s, v) = t
        .post("/api/v1/business-services", &admin, json!({"name": "Checkout", "tier": 1, "services": ["api"],
            "stakeholder_groups": [{"name": "execs", "emails": ["cto@example.com", "ceo@example.com"],
                                    "chat_webhook": "https://chat.example/hooks/execs"}]}))
        .await;
        assert_eq!(s, 201, "{v}");
        let (s, v) = t
        .post("/api/v1/business-services", &admin, json!({"name": "Reports", "tier": 3,
            "stakeholder_groups": [{"name": "finance", "emails": ["cfo@example.com", "CTO@example.com", "cto@example.com"]}]}))
        .await;
        assert_eq!(s, 201, "{v}");
        let (s, inc) = t
            .post(
                "/api/v1/incidents",
                &admin,
                json!({"title": "Checkout failing", "severity": "SEV2", "service": "api"}),
            )
            .await;
        assert_eq!(s, 201);
        let path = format!("/api/v1/incidents/{}", inc["number"]);
        let publish =
            |audience: &'static str, message: &'static str| {
                let t = &t;
                let path = path.clone();
                async move {
                    let (s, v) = t
                .post(&format!("{path}/updates"), &t.admin_token,
                      json!({"audience": audience, "state": "identified", "message": message}))
                .await;
                    assert_eq!(s, 201, "{v}");
                }
            };
        // Nothing assessed: the business services that depend on the incident's service.
        publish("stakeholders", "Card payments fail for 20% of customers.").await;
        t.tick().await;
        let got = sent(&t);
        let to: Vec<(&str, &str)> = got
            .iter()
            .map(|(c, a, _)| (c.as_str(), a.as_str()))
            .collect();
        assert_eq!(
            to,
            [
                ("email", "ceo@example.com"),
                ("email", "cto@example.com"),
                ("slack", "https://chat.example/hooks/execs")
            ]
        );
        let body = t
            .recorder
            .sent()
            .iter()
            .find(|s| s.message.address == "cto@example.com")
            .map(|s| s.message.text.clone())
            .unwrap();
        assert!(
            body.contains("Card payments fail for 20% of customers.")
                && body.contains("Checkout (tier 1)"),
            "{body}"
        );
        // With impact recorded, the impacted ones: Reports degraded, Checkout none.
        let (s, _) = t
        .call(Method::PUT, &format!("{path}/impact"), Some(&admin),
              Some(json!({"business_services": [{"id": "Reports", "impact": "degraded"}, {"id": "Checkout", "impact": "none"}]})))
        .await;
        assert_eq!(s, 200);
        let before = t.recorder.sent().len();
        publish("stakeholders", "Reports are delayed too.").await;
        // Public and reporter updates never go to stakeholder groups.
        publish("public", "Some payments fail.").await;
        t.tick().await;
        let new: Vec<String> = t.recorder.sent()[before..]
            .iter()
            .filter(|s| {
                s.message.text.contains("Reports are delayed too.")
                    || s.message.text.contains("Some payments fail.")
            })
            .map(|s| s.message.address.to_lowercase())
            .collect::<Vec<_>>();
        let mut new = new;
        new.sort();
        assert_eq!(
            new,
            ["cfo@example.com", "cto@example.com"],
            "CTO once though named twice"
        );
        // A stakeholder follows Reports themselves: reached through their own account.
        let (_, sam) = t
            .user("sam@example.com", "Sam Stakeholder", "stakeholder")
            .await;
        let follow = "/api/v1/business-services/Reports/follow";
        assert_eq!(t.get(follow, &sam).await.1, json!({"following": false}));
        assert_eq!(
            t.call(Method::PUT, follow, Some(&sam), None).await,
            (200, json!({"following": true}))
        );
        assert_eq!(
            t.call(Method::PUT, follow, Some(&sam), None).await.0,
            200,
            "again is harmless"
        );
        assert_eq!(t.get(follow, &sam).await.1, json!({"following": true}));
        assert_eq!(
            t.get("/api/v1/business-services/Nope/follow", &sam).await.0,
            404
        );
        let before = t.recorder.sent().len();
        publish("stakeholders", "Reports catch up tonight.").await;
        t.tick().await;
        let mut to: Vec<String> = t.recorder.sent()[before..]
            .iter()
            .filter(|s| s.message.text.contains("Reports catch up tonight."))
            .map(|s| s.message.address.to_lowercase())
            .collect();
        to.sort();
        assert_eq!(
            to,
            ["cfo@example.com", "cto@example.com", "sam@example.com"]
        );
        assert_eq!(
            t.call(Method::DELETE, follow, Some(&sam), None).await,
            (200, json!({"following": false}))
        );
        let before = t.recorder.sent().len();
        publish("stakeholders", "All caught up.").await;
        t.tick().await;
        assert!(
            t.recorder.sent()[before..]
                .iter()
                .all(|s| s.message.address != "sam@example.com")
        );
        t.stop().await;
    }
);

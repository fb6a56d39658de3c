//! Message templates per audience and stage: checked when saved (an unknown variable or
//! a syntax error is a 422 naming the field), used for reporters, stakeholder groups and
//! status page subscribers, and removable (the built-in words come back). SQLite and
//! PostgreSQL.

use reqwest::Method;
use serde_json::{Value, json};
use triad_testkit::{TestApp, TestDb, both_backends};

async fn put(t: &TestApp, path: &str, token: &str, body: Value) -> (u16, Value) {
    t.call(Method::PUT, path, Some(token), Some(body)).await
}

fn field(v: &Value) -> Value {
    v["error"]["fields"][0]["field"].clone()
}

both_backends!(
    templates_word_the_messages_of_each_audience,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let admin = t.admin_token.clone();
        // Refusals first: nothing is saved for them.
        for (path, body, want) in [
            (
                "/api/v1/message-templates/reporters/update",
                json!({"subject": "x", "body": "{{ incident.tittle }}"}),
                "body",
            ),
            (
                "/api/v1/message-templates/reporters/update",
                json!({"subject": "{% if %}", "body": "x"}),
                "subject",
            ),
            (
                "/api/v1/message-templates/reporters/later",
                json!({"subject": "x", "body": "y"}),
                "stage",
            ),
            (
                "/api/v1/message-templates/press/update",
                json!({"subject": "x", "body": "y"}),
                "audience",
            ),
            (
                "/api/v1/message-templates/reporters/update",
                json!({"subject": " ", "body": "y"}),
                "subject",
            ),
        ] {
            let (s, v) = put(&t, path, &admin, body).await;
            assert_eq!((s, field(&v)), (422, json!(want)), "{path}: {v}");
        }
        let (_, viewer) = t.user("v@example.com", "V", "viewer").await;
        let (s, _) = put(
            &t,
            "/api/v1/message-templates/reporters/update",
            &viewer,
            json!({"subject": "x", "body": "y"}),
        )
        .await;
        assert_eq!(s, 403);
        assert_eq!(
            t.get("/api/v1/message-templates", &admin).await.1,
            json!([])
        );

        let (s, v) = put(
        &t,
        "/api/v1/message-templates/reporters/update",
        &admin,
        json!({"subject": "Incident {{ incident.number }}: {{ update.state }}",
               "body": "Hello,\n{{ update.message }}\nNext update: {{ next_update_due or 'when we know more' }}.\n-- The Acme support team"}),
    )
    .await;
        assert_eq!(s, 200, "{v}");
        let (s, _) = put(
        &t,
        "/api/v1/message-templates/stakeholders/update",
        &admin,
        json!({"subject": "[{{ data.impact }}] {{ incident.title }}", "body": "For {{ data.group }}: {{ update.message }}"}),
    )
    .await;
        assert_eq!(s, 200);
        let (_, list) = t.get("/api/v1/message-templates", &admin).await;
        assert_eq!(list.as_array().unwrap().len(), 2);

        assert_eq!(
            t.post("/api/v1/services", &admin, json!({"name": "api"}))
                .await
                .0,
            201
        );
        let (s, _) = t
            .post(
                "/api/v1/business-services",
                &admin,
                json!({"name": "Checkout", "tier": 1, "services": ["api"],
            "stakeholder_groups": [{"name": "execs", "emails": ["cto@example.com"]}]}),
            )
            .await;
        assert_eq!(s, 201);
        let (s, inc) = t
            .post(
                "/api/v1/incidents",
                &admin,
                json!({"title": "Checkout failing", "severity": "SEV2", "service": "api",
            "reporter": {"name": "Pat", "email": "pat@customer.example"}}),
            )
            .await;
        assert_eq!(s, 201, "{inc}");
        let path = format!("/api/v1/incidents/{}", inc["number"]);
        // The receipt goes first (messages due together to one address are batched).
        t.tick().await;
        for audience in ["reporters", "stakeholders"] {
            let (s, _) = t
            .post(&format!("{path}/updates"), &admin, json!({"audience": audience, "state": "identified", "message": "We found the cause."}))
            .await;
            assert_eq!(s, 201);
        }
        t.tick().await;
        let mail = |to: &str| {
            t.recorder
                .sent()
                .iter()
                .rev()
                .find(|s| s.message.address == to)
                .map(|s| (s.message.subject.clone(), s.message.text.clone()))
                .unwrap_or_default()
        };
        let (subject, text) = mail("pat@customer.example");
        assert_eq!(subject, format!("Incident {}: identified", inc["number"]));
        assert_eq!(
            text,
            "Hello,\nWe found the cause.\nNext update: when we know more.\n-- The Acme support team"
        );
        assert_eq!(
            mail("cto@example.com"),
            (
                "[not assessed] Checkout failing".to_string(),
                "For execs: We found the cause.".to_string()
            )
        );

        // Status page subscribers: the template words the update; the unsubscribe link follows.
        let page_url = format!("{}/status", t.base);
        assert_eq!(
            put(
                &t,
                "/api/v1/status-page",
                &admin,
                json!({"url": page_url, "name": "Acme"})
            )
            .await
            .0,
            200
        );
        let (s, _) = put(
        &t,
        "/api/v1/message-templates/public/update",
        &admin,
        json!({"subject": "{{ page.name }}: {{ incident.public_name }}", "body": "{{ update.message }} ({{ update.state }})"}),
    )
    .await;
        assert_eq!(s, 200);
        let (s, _) = t
            .call(
                Method::POST,
                "/status/subscriptions",
                None,
                Some(json!({"email": "fan@example.com"})),
            )
            .await;
        assert_eq!(s, 202);
        t.tick().await;
        let (_, confirm) = mail("fan@example.com");
        let link = confirm
            .split_whitespace()
            .find(|w| w.starts_with(&format!("{page_url}/subscriptions/confirm?token=")))
            .unwrap()
            .to_string();
        assert_eq!(
            t.http.post(&link).send().await.unwrap().status().as_u16(),
            200
        );
        let (s, _) = t
            .post(
                &format!("{path}/updates"),
                &admin,
                json!({"audience": "public", "state": "identified",
            "message": "Some payments fail.", "public_title": "Payment failures"}),
            )
            .await;
        assert_eq!(s, 201);
        t.tick().await;
        let (subject, text) = mail("fan@example.com");
        assert_eq!(subject, "Acme: Payment failures");
        assert!(
            text.starts_with("Some payments fail. (identified)\n\n"),
            "{text}"
        );
        assert!(text.contains("/subscriptions/unsubscribe?token="), "{text}");

        // Removed: the built-in words come back.
        let (s, _) = t
            .call(
                Method::DELETE,
                "/api/v1/message-templates/reporters/update",
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(s, 204);
        let (s, _) = t
            .call(
                Method::DELETE,
                "/api/v1/message-templates/reporters/update",
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(s, 404);
        let (s, _) = t
            .post(
                &format!("{path}/updates"),
                &admin,
                json!({"audience": "reporters", "state": "monitoring", "message": "A fix is out."}),
            )
            .await;
        assert_eq!(s, 201);
        t.tick().await;
        let (subject, text) = mail("pat@customer.example");
        assert!(
            subject.starts_with(&format!(
                "Update on #{} Checkout failing: monitoring",
                inc["number"]
            )),
            "{subject}"
        );
        assert!(text.starts_with("A fix is out."), "{text}");
        t.stop().await;
    }
);

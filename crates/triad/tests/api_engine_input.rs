//! Bad input to the engine's API gets 4xx with the offending field named, and nothing
//! is stored; on SQLite and on PostgreSQL.

use reqwest::Method;
use serde_json::{Value, json};
use triad_testkit::{TestApp, TestDb, both_backends};

/// The fields a 422 names.
fn fields(v: &Value) -> Vec<String> {
    v["error"]["fields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["field"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

both_backends!(bad_engine_input_names_its_field, |db: TestDb| async move {
    let t = TestApp::spawn(db).await;
    let admin = t.admin_token.clone();
    let (uid, tok) = t.user("u@example.com", "U", "responder").await;
    let cases: Vec<(Method, String, Value, u16, Vec<&str>)> = vec![
        (
            Method::POST,
            "/api/v1/escalation-policies".into(),
            json!({"name": "p", "levels": []}),
            422,
            vec!["levels"],
        ),
        (
            Method::POST,
            "/api/v1/escalation-policies".into(),
            json!({"name": "", "levels": [{"delay_seconds": 0, "targets": [{"type": "user", "id": "nobody"}]}], "repeat": 99}),
            422,
            vec![
                "name",
                "levels[0].delay_seconds",
                "repeat",
                "levels[0].targets[0]",
            ],
        ),
        (
            Method::POST,
            "/api/v1/escalation-policies".into(),
            json!({"name": "p", "levels": [{"delay_seconds": 60, "targets": [{"type": "schedule", "id": "s"}]}]}),
            422,
            vec!["levels[0].targets[0]"],
        ),
        (
            Method::POST,
            "/api/v1/escalation-policies".into(),
            json!({"name": "p", "levels": [{"delay_seconds": 60, "targets": [{"type": "team", "id": "x"}]}]}),
            422,
            vec!["levels[0].targets[0].type"],
        ),
        (
            Method::PUT,
            "/api/v1/severity-policies/SEV9".into(),
            json!({"ack_deadline_seconds": 60, "staffing": {"required": ["responder"], "distinct": false}}),
            422,
            vec!["severity"],
        ),
        (
            Method::PUT,
            "/api/v1/severity-policies/SEV1".into(),
            json!({"ack_deadline_seconds": 0, "staffing": {"required": ["observer", "boss"], "distinct": true},
                   "cadence": {"public": {"first_after_ack_seconds": 10, "every_seconds": 1200}, "press": {"first_after_ack_seconds": 300, "every_seconds": 300}},
                   "comms_escalation_policy": "none-such"}),
            422,
            vec!["staffing.required[1]", "cadence.press"],
        ),
        (
            Method::PUT,
            "/api/v1/severity-policies/SEV1".into(),
            json!({"ack_deadline_seconds": 0, "staffing": {"required": ["observer"], "distinct": true},
                   "cadence": {"public": {"first_after_ack_seconds": 10, "every_seconds": 1200}},
                   "comms_escalation_policy": "none-such"}),
            422,
            vec![
                "ack_deadline_seconds",
                "staffing.required",
                "cadence.public.first_after_ack_seconds",
                "comms_escalation_policy",
            ],
        ),
        (
            Method::POST,
            "/api/v1/users/me/contact-methods".into(),
            json!({"type": "pager", "address": "x"}),
            422,
            vec!["type"],
        ),
        (
            Method::POST,
            "/api/v1/users/me/contact-methods".into(),
            json!({"type": "sms", "address": "0151-123", "secret": "0123456789abcdef"}),
            422,
            vec!["address", "secret"],
        ),
        (
            Method::POST,
            "/api/v1/users/me/contact-methods".into(),
            json!({"type": "webhook", "address": "ftp://x", "secret": "short"}),
            422,
            vec!["address", "secret"],
        ),
        (
            Method::POST,
            "/api/v1/users/me/notification-rules".into(),
            json!({"contact_method_id": "x", "delay_seconds": -5, "urgency": "urgent"}),
            422,
            vec!["delay_seconds", "urgency", "contact_method_id"],
        ),
        (
            Method::POST,
            "/api/v1/incidents".into(),
            json!({"title": "t", "severity": "SEV2", "reporter": {"name": "P"}}),
            422,
            vec!["reporter"],
        ),
        (
            Method::POST,
            "/api/v1/incidents".into(),
            json!({"title": "t", "severity": "SEV2", "reporter": {"email": "nope", "webhook": "gopher://x", "webhook_secret": "s"}}),
            422,
            vec![
                "reporter.name",
                "reporter.email",
                "reporter.webhook",
                "reporter.webhook_secret",
            ],
        ),
        (
            Method::POST,
            "/api/v1/incidents".into(),
            json!({"title": "t", "severity": "SEV2", "reporter": {"name": "P", "phone": "1"}}),
            422,
            vec!["reporter.phone"],
        ),
        (
            Method::POST,
            "/api/v1/services".into(),
            json!({"name": "s", "escalation_policy": "none-such", "chat_webhook": "not a url"}),
            422,
            vec!["escalation_policy", "chat_webhook"],
        ),
    ];
    for (method, path, body, want, want_fields) in cases {
        let token = if path.contains("/users/me") {
            &tok
        } else {
            &admin
        };
        let (s, v) = t
            .call(method.clone(), &path, Some(token), Some(body.clone()))
            .await;
        assert_eq!(s, want, "{method} {path} {body}: {v}");
        assert_eq!(v["error"]["code"], "validation_failed", "{path}: {v}");
        let got = fields(&v);
        for f in want_fields {
            assert!(
                got.iter().any(|g| g == f),
                "{path} {body}: {f} not in {got:?}"
            );
        }
    }
    // Nothing was stored by the refused requests.
    assert_eq!(
        t.get("/api/v1/escalation-policies", &admin).await.1,
        json!([])
    );
    assert_eq!(
        t.get("/api/v1/users/me/contact-methods", &tok).await.1,
        json!([])
    );
    let (_, list) = t.get("/api/v1/incidents", &admin).await;
    assert_eq!(list["items"], json!([]));

    // A policy in use cannot be deleted; an update request on a resolved incident is a
    // conflict; someone else's contact methods are not yours to read.
    let (s, p) = t
        .post(
            "/api/v1/escalation-policies",
            &admin,
            json!({"name": "p", "levels": [{"delay_seconds": 60, "targets": [{"type": "user", "id": uid}]}]}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let (s, _) = t
        .post(
            "/api/v1/services",
            &admin,
            json!({"name": "s", "escalation_policy": "p"}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, v) = t
        .call(
            Method::DELETE,
            "/api/v1/escalation-policies/p",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("in_use")),
        "{v}"
    );
    let (_, path) = t.declare(&admin, "x", "SEV3").await;
    t.post(&format!("{path}/resolve"), &admin, json!({})).await;
    let (s, v) = t
        .post(&format!("{path}/update-requests"), &tok, json!({}))
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("incident_resolved"))
    );
    let (s, _) = t
        .get("/api/v1/users/admin@example.com/contact-methods", &tok)
        .await;
    assert_eq!(s, 403);
    t.stop().await;
});

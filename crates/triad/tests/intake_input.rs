//! Bad input to intake administration (services' intake settings, integration keys,
//! business services) gets 4xx naming the field and stores nothing; both databases.

use reqwest::Method;
use serde_json::{Value, json};
use triad_testkit::{TestApp, TestDb, both_backends};

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

both_backends!(
    bad_intake_admin_input_names_its_field,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let admin = t.admin_token.clone();
        let (st, _) = t
            .post("/api/v1/services", &admin, json!({"name": "db"}))
            .await;
        assert_eq!(st, 201);
        let (st, _) = t
            .post(
                "/api/v1/business-services",
                &admin,
                json!({"name": "Checkout", "tier": 1}),
            )
            .await;
        assert_eq!(st, 201);
        let cases: Vec<(Method, &str, Value, u16, Vec<&str>)> = vec![
            (
                Method::POST,
                "/api/v1/services",
                json!({"name": "x", "default_severity": "SEV9"}),
                422,
                vec!["default_severity"],
            ),
            (
                Method::PATCH,
                "/api/v1/services/db",
                json!({"auto_resolve": "yes"}),
                422,
                vec!["auto_resolve"],
            ),
            (
                Method::POST,
                "/api/v1/services/db/integration-keys",
                json!({"rate_limit_per_minute": 0}),
                422,
                vec!["rate_limit_per_minute"],
            ),
            (
                Method::POST,
                "/api/v1/services/db/integration-keys",
                json!({"mapping": {"summary": "title"}}),
                422,
                vec!["mapping"],
            ),
            (
                Method::POST,
                "/api/v1/services/db/integration-keys",
                json!({"mapping": {"colour": "/x"}}),
                422,
                vec!["mapping"],
            ),
            (
                Method::POST,
                "/api/v1/services/db/integration-keys",
                json!({"name": "x".repeat(101)}),
                422,
                vec!["name"],
            ),
            (
                Method::POST,
                "/api/v1/services/nope/integration-keys",
                json!({}),
                404,
                vec![],
            ),
            (
                Method::POST,
                "/api/v1/business-services",
                json!({}),
                422,
                vec!["name", "tier"],
            ),
            (
                Method::POST,
                "/api/v1/business-services",
                json!({"name": "x", "tier": 9}),
                422,
                vec!["tier"],
            ),
            (
                Method::POST,
                "/api/v1/business-services",
                json!({"name": "x", "tier": 1, "services": ["nope"],
            "stakeholder_groups": [{"name": "", "emails": ["not-an-email"], "chat_webhook": "ftp://x"}]}),
                422,
                vec![
                    "services[0]",
                    "stakeholder_groups[0].name",
                    "stakeholder_groups[0].emails[0]",
                    "stakeholder_groups[0].chat_webhook",
                ],
            ),
            (
                Method::POST,
                "/api/v1/business-services",
                json!({"name": "Checkout", "tier": 2}),
                409,
                vec![],
            ),
            (
                Method::PATCH,
                "/api/v1/business-services/Checkout",
                json!({"tier": 0}),
                422,
                vec!["tier"],
            ),
            (
                Method::GET,
                "/api/v1/business-services/nope",
                Value::Null,
                404,
                vec![],
            ),
            (
                Method::POST,
                "/api/v1/reports",
                json!({"reporter": {"name": "P", "email": "x"}, "text": "t", "business_service": "nope", "severity": "SEV0"}),
                422,
                vec!["reporter.email", "business_service", "severity"],
            ),
            (
                Method::POST,
                "/api/v1/reports",
                json!({"reporter": {"name": "P"}, "text": "t", "incident": "999"}),
                422,
                vec!["incident"],
            ),
        ];
        for (method, path, body, want, want_fields) in cases {
            let body = (!body.is_null()).then_some(body);
            let (st, v) = t.call(method.clone(), path, Some(&admin), body).await;
            assert_eq!(st, want, "{method} {path}: {v}");
            for f in &want_fields {
                assert!(
                    fields(&v).iter().any(|x| x == f),
                    "{method} {path}: {f} not in {v}"
                );
            }
        }
        // Nothing was stored by the refusals.
        let (_, list) = t.get("/api/v1/business-services", &admin).await;
        assert_eq!(list.as_array().unwrap().len(), 1);
        let (_, keys) = t.get("/api/v1/services/db/integration-keys", &admin).await;
        assert_eq!(keys, json!([]));
        let (_, services) = t.get("/api/v1/services", &admin).await;
        assert_eq!(services.as_array().unwrap().len(), 1);
        let (_, incidents) = t.get("/api/v1/incidents", &admin).await;
        assert_eq!(incidents["items"], json!([]));
        t.stop().await;
    }
);

//! Pagination, password sign-in, operations endpoints and the OpenAPI document; on
//! SQLite and on PostgreSQL.

use reqwest::Method;
use serde_json::{Value, json};
use triad_testkit::{TestApp, TestDb, both_backends};

both_backends!(pagination_login_and_ops, |db: TestDb| async move {
    let t = TestApp::spawn(db).await;
    let tok = t.admin_token.clone();
    for i in 0..5 {
        let sev = if i % 2 == 0 { "SEV1" } else { "SEV3" };
        t.declare(&tok, &format!("i{i}"), sev).await;
    }
    let (_, page1) = t.get("/api/v1/incidents?limit=2", &tok).await;
    let nums = |p: &Value| {
        p["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["number"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(nums(&page1), vec![5, 4]);
    let c = page1["next_cursor"].as_str().unwrap();
    let (_, page2) = t
        .get(&format!("/api/v1/incidents?limit=2&cursor={c}"), &tok)
        .await;
    assert_eq!(nums(&page2), vec![3, 2]);
    let c = page2["next_cursor"].as_str().unwrap();
    let (_, page3) = t
        .get(&format!("/api/v1/incidents?limit=2&cursor={c}"), &tok)
        .await;
    assert_eq!(nums(&page3), vec![1]);
    assert!(page3["next_cursor"].is_null());
    let (_, sev1) = t.get("/api/v1/incidents?severity=P1", &tok).await;
    assert_eq!(nums(&sev1), vec![5, 3, 1]);
    t.post("/api/v1/incidents/5/resolve", &tok, json!({})).await;
    let (_, open) = t
        .get("/api/v1/incidents?status=open&severity=SEV1", &tok)
        .await;
    assert_eq!(nums(&open), vec![3, 1]);

    // Password sign-in gives a working token.
    let (s, _) = t.post("/api/v1/users", &tok, json!({"email": "pat@example.com", "name": "Pat", "role": "support", "password": "a long enough password"})).await;
    assert_eq!(s, 201);
    let (s, login) = t
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "PAT@example.com", "password": "a long enough password"})),
        )
        .await;
    assert_eq!(s, 200, "{login}");
    let (s, me) = t
        .get("/api/v1/users/me", login["token"].as_str().unwrap())
        .await;
    assert_eq!((s, me["role"].as_str()), (200, Some("support")));

    // Teams list with their members.
    let (s, team) = t
        .post(
            "/api/v1/teams",
            &tok,
            json!({"name": "Data", "members": ["pat@example.com"]}),
        )
        .await;
    assert_eq!(s, 201, "{team}");
    let (_, teams) = t.get("/api/v1/teams", &tok).await;
    assert_eq!(teams[0]["members"], json!([me["id"]]));

    let health = t
        .http
        .get(format!("{}/healthz", t.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = t
        .http
        .get(format!("{}/readyz", t.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let metrics = t
        .http
        .get(format!("{}/metrics", t.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("triad_incidents{status=\"resolved\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("triad_incidents{status=\"triggered\"} 4"));
    // Each open incident waits on its acknowledgement deadline; none is late yet.
    assert!(metrics.contains("triad_timers_pending 4"), "{metrics}");
    assert!(
        metrics.contains("triad_timer_backlog_seconds 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("triad_notifications{status=\"dead\"} 0")
            && metrics.contains("triad_alerts_open 0"),
        "{metrics}"
    );
    assert!(metrics.contains(
        "triad_http_requests_total{method=\"GET\",route=\"/api/v1/incidents\",status=\"200\"}"
    ));
    assert!(metrics.contains("triad_http_request_duration_seconds_bucket"));

    let (s, doc) = t
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(s, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for p in [
        "/api/v1/incidents",
        "/api/v1/incidents/{id}/acknowledge",
        "/api/v1/incidents/{id}/roles/{role}/{user}",
        "/api/v1/stream",
        "/api/v1/tokens",
    ] {
        assert!(doc["paths"].get(p).is_some(), "OpenAPI lacks {p}");
    }
    t.stop().await;
});

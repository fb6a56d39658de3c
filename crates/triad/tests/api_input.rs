//! What users may change about themselves, and the documented error for bad input;
//! each test runs on SQLite and on PostgreSQL.

use reqwest::Method;
use serde_json::{Value, json};
use triad_testkit::{TestApp, TestDb, both_backends};

/// method, path, raw body, expected status, error code, a field the error must name.
type BadCase = (
    Method,
    String,
    Option<&'static str>,
    u16,
    &'static str,
    Option<&'static str>,
);

both_backends!(users_change_what_they_may, |db: TestDb| async move {
    let t = TestApp::spawn(db).await;
    let (me, tok) = t.user("sam@example.com", "Sam", "support").await;
    let patch = |body: Value| {
        let t = &t;
        let tok = tok.clone();
        let me = me.clone();
        async move {
            t.call(
                Method::PATCH,
                &format!("/api/v1/users/{me}"),
                Some(&tok),
                Some(body),
            )
            .await
        }
    };
    let (s, v) = patch(json!({"name": "Samantha", "time_zone": "Europe/Berlin"})).await;
    assert_eq!(
        (s, v["name"].as_str(), v["time_zone"].as_str()),
        (200, Some("Samantha"), Some("Europe/Berlin"))
    );
    for body in [
        json!({"role": "admin"}),
        json!({"email": "other@example.com"}),
    ] {
        let (s, v) = patch(body.clone()).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (403, Some("forbidden")),
            "{body}"
        );
    }
    let (s, v) = patch(json!({"time_zone": "Mars/Olympus"})).await;
    assert_eq!(
        (s, v["error"]["fields"][0]["field"].as_str()),
        (422, Some("time_zone"))
    );
    // An admin moving an email onto another user's is a clear conflict.
    let (s, v) = t
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{me}"),
            Some(&t.admin_token),
            Some(json!({"email": "admin@example.com"})),
        )
        .await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("email_taken")));
    let (s, v) = t
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{me}"),
            Some(&t.admin_token),
            Some(json!({"email": "Sam.New@Example.com", "role": "responder"})),
        )
        .await;
    assert_eq!(
        (s, v["email"].as_str(), v["role"].as_str()),
        (200, Some("sam.new@example.com"), Some("responder"))
    );
    // Deactivation revokes the user's tokens at once.
    let (s, _) = t
        .call(
            Method::DELETE,
            &format!("/api/v1/users/{me}"),
            Some(&t.admin_token),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(t.get("/api/v1/users/me", &tok).await.0, 401);
    let admin_id = t.get("/api/v1/users/me", &t.admin_token).await.1["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, v) = t
        .call(
            Method::DELETE,
            &format!("/api/v1/users/{admin_id}"),
            Some(&t.admin_token),
            None,
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("cannot_deactivate_self"))
    );
    t.stop().await;
});

both_backends!(bad_input_gets_documented_errors, |db: TestDb| async move {
    let t = TestApp::spawn(db).await;
    let tok = t.admin_token.clone();
    let (_, p) = t.declare(&tok, "x", "SEV2").await;
    t.post(
        &format!("{p}/roles"),
        &tok,
        json!({"role": "coordinator", "user": "admin@example.com"}),
    )
    .await;
    let cases: Vec<BadCase> = vec![
        (
            Method::POST,
            "/api/v1/incidents".into(),
            Some(r#"{"title":"x","severity":"SEV9"}"#),
            422,
            "validation_failed",
            Some("severity"),
        ),
        (
            Method::POST,
            "/api/v1/incidents".into(),
            Some(r#"{"severity":"SEV1"}"#),
            422,
            "validation_failed",
            Some("title"),
        ),
        (
            Method::POST,
            "/api/v1/incidents".into(),
            Some(r#"{"title":"   ","severity":"SEV1"}"#),
            422,
            "validation_failed",
            Some("title"),
        ),
        (
            Method::POST,
            "/api/v1/incidents".into(),
            Some(r#"{"title":7,"severity":"SEV1"}"#),
            422,
            "validation_failed",
            Some("title"),
        ),
        (
            Method::POST,
            "/api/v1/incidents".into(),
            Some(r#"{"title":"x","severity":"SEV1","service":"nope"}"#),
            422,
            "validation_failed",
            Some("service"),
        ),
        (
            Method::POST,
            "/api/v1/incidents".into(),
            Some(r#"{"title":"x","#),
            400,
            "malformed_json",
            None,
        ),
        (
            Method::POST,
            "/api/v1/incidents".into(),
            Some("[]"),
            422,
            "validation_failed",
            Some("body"),
        ),
        (
            Method::GET,
            "/api/v1/incidents/999999".into(),
            None,
            404,
            "not_found",
            None,
        ),
        (
            Method::POST,
            "/api/v1/incidents".into(),
            Some(r#"{"title":"x","severity":"SEV1","service":"a\u0000b"}"#),
            422,
            "validation_failed",
            Some("service"),
        ),
        (
            Method::POST,
            format!("{p}/roles"),
            Some(r#"{"role":"observer","user":"\u0000"}"#),
            422,
            "validation_failed",
            Some("user"),
        ),
        (
            Method::GET,
            "/api/v1/incidents/a%00b".into(),
            None,
            404,
            "not_found",
            None,
        ),
        (
            Method::GET,
            "/api/v1/incidents?cursor=n1%00".into(),
            None,
            422,
            "validation_failed",
            Some("query"),
        ),
        (
            Method::GET,
            format!("{p}/timeline?limit=5000"),
            None,
            422,
            "validation_failed",
            Some("limit"),
        ),
        (
            Method::POST,
            "/api/v1/tokens".into(),
            Some(r#"{"name":"t","expires_in_days":0}"#),
            422,
            "validation_failed",
            Some("expires_in_days"),
        ),
        (
            Method::GET,
            "/api/v1/incidents/no-such-id".into(),
            None,
            404,
            "not_found",
            None,
        ),
        (
            Method::GET,
            "/api/v1/incidents?status=sleeping".into(),
            None,
            422,
            "validation_failed",
            Some("status"),
        ),
        (
            Method::GET,
            "/api/v1/incidents?limit=0".into(),
            None,
            422,
            "validation_failed",
            Some("limit"),
        ),
        (
            Method::GET,
            "/api/v1/incidents?cursor=zzz".into(),
            None,
            422,
            "validation_failed",
            Some("cursor"),
        ),
        (
            Method::GET,
            "/api/v1/incidents?limit=abc".into(),
            None,
            422,
            "validation_failed",
            Some("query"),
        ),
        (
            Method::POST,
            format!("{p}/roles"),
            Some(r#"{"role":"captain","user":"admin@example.com"}"#),
            422,
            "validation_failed",
            Some("role"),
        ),
        (
            Method::POST,
            format!("{p}/roles"),
            Some(r#"{"role":"observer","user":"ghost@example.com"}"#),
            422,
            "validation_failed",
            Some("user"),
        ),
        (
            Method::POST,
            format!("{p}/roles"),
            Some(r#"{"role":"coordinator","user":"admin@example.com"}"#),
            409,
            "role_already_held",
            None,
        ),
        (
            Method::DELETE,
            format!("{p}/roles/observer/admin@example.com"),
            None,
            404,
            "not_found",
            None,
        ),
        (
            Method::POST,
            format!("{p}/updates"),
            Some(r#"{"audience":"everyone","state":"calm","message":""}"#),
            422,
            "validation_failed",
            Some("audience"),
        ),
        (
            Method::POST,
            format!("{p}/notes"),
            Some(r#"{"body":""}"#),
            422,
            "validation_failed",
            Some("body"),
        ),
        (Method::POST, format!("{p}/resolve"), None, 200, "", None),
        (
            Method::POST,
            format!("{p}/acknowledge"),
            None,
            409,
            "illegal_transition",
            None,
        ),
        (
            Method::POST,
            format!("{p}/resolve"),
            None,
            409,
            "illegal_transition",
            None,
        ),
        (
            Method::POST,
            "/api/v1/users".into(),
            Some(r#"{"email":"admin@example.com","name":"Dup","role":"viewer"}"#),
            409,
            "email_taken",
            None,
        ),
        (
            Method::POST,
            "/api/v1/users".into(),
            Some(r#"{"email":"x","name":"","role":"boss","time_zone":"Mars/Base"}"#),
            422,
            "validation_failed",
            Some("email"),
        ),
        (
            Method::POST,
            "/api/v1/users".into(),
            Some(r#"{"email":"short@example.com","name":"S","role":"viewer","password":"short"}"#),
            422,
            "validation_failed",
            Some("password"),
        ),
        (
            Method::GET,
            "/api/v1/nope".into(),
            None,
            404,
            "not_found",
            None,
        ),
        (
            Method::PUT,
            "/api/v1/incidents".into(),
            None,
            405,
            "method_not_allowed",
            None,
        ),
        (
            Method::POST,
            "/api/v1/auth/login".into(),
            Some(r#"{"email":"admin@example.com","password":"wrong password"}"#),
            401,
            "unauthorized",
            None,
        ),
    ];
    for (method, path, body, status, code, field) in cases {
        let mut req = t
            .http
            .request(method.clone(), format!("{}{path}", t.base))
            .bearer_auth(&tok);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        let got = resp.status().as_u16();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        assert_eq!(got, status, "{method} {path} {body:?}: {v}");
        if status >= 400 {
            assert_eq!(v["error"]["code"], code, "{method} {path}: {v}");
        }
        if let Some(f) = field {
            let fields: Vec<&str> = v["error"]["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["field"].as_str().unwrap())
                .collect();
            assert!(
                fields.contains(&f),
                "{method} {path}: wanted field {f} in {v}"
            );
        }
    }
    // A body that is not JSON at all is refused by media type.
    let resp = t
        .http
        .post(format!("{}/api/v1/incidents", t.base))
        .bearer_auth(&tok)
        .header("content-type", "text/plain")
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
    // A revoked token stops working at once.
    let (_, created) = t
        .post("/api/v1/tokens", &tok, json!({"name": "short-lived"}))
        .await;
    let secret = created["token"].as_str().unwrap().to_string();
    assert_eq!(t.get("/api/v1/users/me", &secret).await.0, 200);
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        t.call(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            Some(&tok),
            None
        )
        .await
        .0,
        204
    );
    assert_eq!(t.get("/api/v1/users/me", &secret).await.0, 401);
    // Listings never show secrets.
    let (_, list) = t.get("/api/v1/tokens", &tok).await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|x| x.get("token").is_none())
    );
    t.stop().await;
});

//! End-to-end API scenarios over real HTTP, each on SQLite and on PostgreSQL.

use futures::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use triad_testkit::{TestApp, TestDb, both_backends};

/// Reads Server-Sent Events from a response: (id, event, data) triples.
struct Sse {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buf: String,
}

impl Sse {
    async fn open(t: &TestApp, path: &str, token: &str, last_id: Option<i64>) -> Sse {
        let mut req = t.http.get(format!("{}{path}", t.base)).bearer_auth(token);
        if let Some(id) = last_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        Sse {
            body: Box::pin(resp.bytes_stream()),
            buf: String::new(),
        }
    }

    async fn next(&mut self) -> (i64, String, Value) {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let frame: String = self.buf.drain(..end + 2).collect();
                let (mut id, mut event, mut data) = (None, String::new(), String::new());
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = Some(v.trim().parse::<i64>().unwrap());
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if let Some(id) = id {
                    return (id, event, serde_json::from_str(&data).unwrap());
                }
                continue; // a keep-alive comment
            }
            let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), self.body.next())
                .await
                .expect("an event within 10 s")
                .expect("stream open")
                .unwrap();
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

both_backends!(whole_flow_over_http, |db: TestDb| async move {
    let t = TestApp::spawn(db).await;
    let (resp_id, resp) = t
        .user("rita@example.com", "Rita Responder", "responder")
        .await;
    let (obs_id, obs) = t
        .user("otto@example.com", "Otto Observer", "responder")
        .await;
    let (coord_id, _) = t
        .user("cora@example.com", "Cora Coordinator", "responder")
        .await;
    let (coord2_id, coord2) = t
        .user("carl@example.com", "Carl Coordinator", "responder")
        .await;
    let mut live = Sse::open(&t, "/api/v1/stream", &t.admin_token, None).await;

    let step = |t: &TestApp| t.clock.advance_secs(60);
    let (s, inc) = t.post("/api/v1/incidents", &resp, json!({"title": "Data ingest down", "severity": "SEV1", "description": "P1 from support"})).await;
    assert_eq!(s, 201, "{inc}");
    assert_eq!(
        (inc["status"].as_str(), inc["severity"].as_str()),
        (Some("triggered"), Some("SEV1"))
    );
    assert_eq!(inc["ack_due_at"], "2026-01-01T00:05:00Z");
    let n = inc["number"].as_i64().unwrap();
    let path = format!("/api/v1/incidents/{n}");

    step(&t);
    let (s, acked) = t
        .post(&format!("{path}/acknowledge"), &resp, json!({}))
        .await;
    assert_eq!(s, 200, "{acked}");
    assert_eq!(acked["status"], "acknowledged");
    assert_eq!(acked["acknowledged_by"], resp_id.as_str());
    assert_eq!(acked["roles"][0]["role"], "responder");
    assert_eq!(acked["roles"][0]["user_id"], resp_id.as_str());

    step(&t);
    let (s, _) = t
        .post(
            &format!("{path}/roles"),
            &t.admin_token,
            json!({"role": "observer", "user": "otto@example.com"}),
        )
        .await;
    assert_eq!(s, 200);
    step(&t);
    let (s, _) = t
        .post(
            &format!("{path}/roles"),
            &t.admin_token,
            json!({"role": "coordinator", "user": coord_id}),
        )
        .await;
    assert_eq!(s, 200);
    step(&t);
    let (s, roles) = t
        .post(&format!("{path}/roles"), &resp, json!({"role": "coordinator", "user": coord2_id, "note": "Cora off shift; next public update due 00:25"}))
        .await;
    assert_eq!(s, 200, "{roles}");
    let active: Vec<(&str, &str)> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["role"].as_str().unwrap(), r["user_id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        active,
        vec![
            ("responder", resp_id.as_str()),
            ("observer", obs_id.as_str()),
            ("coordinator", coord2_id.as_str())
        ]
    );
    let (_, history) = t.get(&format!("{path}/roles"), &obs).await;
    let coords: Vec<&Value> = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["role"] == "coordinator")
        .collect();
    assert_eq!(coords.len(), 2, "history keeps both coordinators");
    assert_eq!(coords[0]["user_id"], coord_id.as_str());
    assert_eq!(coords[0]["released_at"], "2026-01-01T00:04:00Z");
    assert_eq!(
        coords[0]["handover_note"],
        "Cora off shift; next public update due 00:25"
    );
    assert_eq!(coords[1]["user_id"], coord2_id.as_str());
    assert!(coords[1]["released_at"].is_null());

    for body in ["kafka consumer lag 40 min", "rolling back deploy 1182"] {
        step(&t);
        let (s, _) = t
            .post(&format!("{path}/notes"), &obs, json!({"body": body}))
            .await;
        assert_eq!(s, 201);
    }
    for audience in ["stakeholders", "reporters", "public"] {
        step(&t);
        let (s, u) = t
            .post(&format!("{path}/updates"), &coord2, json!({"audience": audience, "state": "identified", "message": format!("Cause found ({audience})")}))
            .await;
        assert_eq!(s, 201, "{u}");
        assert_eq!(u["audience"], audience);
    }
    let (_, updates) = t.get(&format!("{path}/updates"), &obs).await;
    assert_eq!(updates.as_array().unwrap().len(), 3);
    let (_, public_only) = t
        .get(&format!("{path}/updates?audience=public"), &obs)
        .await;
    assert_eq!(public_only.as_array().unwrap().len(), 1);

    step(&t);
    let (s, done) = t.post(&format!("{path}/resolve"), &resp, json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(
        (done["status"].as_str(), done["public_state"].as_str()),
        (Some("resolved"), Some("resolved"))
    );

    let (s, timeline) = t.get(&format!("{path}/timeline"), &obs).await;
    assert_eq!(s, 200);
    let events = timeline.as_array().unwrap();
    let got: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap(),
                e["actor_id"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    let admin_id = t.get("/api/v1/users/me", &t.admin_token).await.1["id"]
        .as_str()
        .unwrap()
        .to_string();
    let want = vec![
        ("incident_declared", resp_id.as_str()),
        ("acknowledged", resp_id.as_str()),
        ("role_assigned", resp_id.as_str()),
        ("role_assigned", admin_id.as_str()),
        ("role_assigned", admin_id.as_str()),
        ("role_handed_over", resp_id.as_str()),
        ("note", obs_id.as_str()),
        ("note", obs_id.as_str()),
        ("update_published", coord2_id.as_str()),
        ("update_published", coord2_id.as_str()),
        ("update_published", coord2_id.as_str()),
        ("resolved", resp_id.as_str()),
    ];
    assert_eq!(got, want);
    let times: Vec<&str> = events.iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert_eq!(times[0], "2026-01-01T00:00:00Z");
    assert_eq!(times[11], "2026-01-01T00:10:00Z");
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "in time order: {times:?}"
    );
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));

    // The live stream saw every event of the flow, in order, after it was committed.
    for e in events {
        let (id, kind, data) = live.next().await;
        assert_eq!(
            (id, kind.as_str()),
            (e["seq"].as_i64().unwrap(), e["kind"].as_str().unwrap())
        );
        assert_eq!(&data, e);
    }

    // Reopen returns it to triggered; a second resolve of a resolved incident is refused.
    let (s, err) = t.post(&format!("{path}/resolve"), &resp, json!({})).await;
    assert_eq!(
        (s, err["error"]["code"].as_str()),
        (409, Some("illegal_transition"))
    );
    let (s, again) = t.post(&format!("{path}/reopen"), &resp, json!({})).await;
    assert_eq!((s, again["status"].as_str()), (200, Some("triggered")));
    t.stop().await;
});

both_backends!(reconnect_with_last_event_id, |db: TestDb| async move {
    let t = TestApp::spawn(db).await;
    let tok = t.admin_token.clone();
    let (_, inc) = t
        .post(
            "/api/v1/incidents",
            &tok,
            json!({"title": "x", "severity": "SEV3"}),
        )
        .await;
    let path = format!("/api/v1/incidents/{}", inc["number"]);
    let stream_path = format!("{path}/stream");
    let mut first = Sse::open(&t, &stream_path, &tok, Some(0)).await;
    let (declared, kind, _) = first.next().await;
    assert_eq!(kind, "incident_declared");
    for i in 0..3 {
        t.post(
            &format!("{path}/notes"),
            &tok,
            json!({"body": format!("note {i}")}),
        )
        .await;
    }
    let (seen, _, d) = first.next().await;
    assert_eq!(d["body"], "note 0");
    drop(first); // the client goes away after note 0

    t.post(&format!("{path}/notes"), &tok, json!({"body": "note 3"}))
        .await;
    let mut second = Sse::open(&t, &stream_path, &tok, Some(seen)).await;
    let mut bodies = Vec::new();
    for _ in 0..3 {
        let (id, _, d) = second.next().await;
        assert!(id > seen);
        bodies.push(d["body"].as_str().unwrap().to_string());
    }
    assert_eq!(bodies, ["note 1", "note 2", "note 3"]);
    // Nothing else is pending: the next event is the next action's.
    t.post(&format!("{path}/acknowledge"), &tok, json!({}))
        .await;
    let (_, kind, _) = second.next().await;
    assert_eq!(kind, "acknowledged");
    assert!(declared < seen);
    // A stream of another incident does not see this one's events.
    let (_, other) = t
        .post(
            "/api/v1/incidents",
            &tok,
            json!({"title": "y", "severity": "SEV4"}),
        )
        .await;
    let mut third = Sse::open(
        &t,
        &format!("/api/v1/incidents/{}/stream", other["number"]),
        &tok,
        Some(0),
    )
    .await;
    let (_, kind, d) = third.next().await;
    assert_eq!(
        (kind.as_str(), d["incident_id"].as_str()),
        ("incident_declared", other["id"].as_str())
    );
    t.stop().await;
});

/// What a role is allowed on a route: the status a permitted caller gets.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Need {
    Read,
    Declare,
    Note,
    Respond,
    Admin,
    AnyUser,
}

fn allowed(role: &str, need: Need) -> bool {
    match need {
        Need::AnyUser | Need::Read => true,
        Need::Declare | Need::Note => matches!(role, "admin" | "responder" | "support"),
        Need::Respond => matches!(role, "admin" | "responder"),
        Need::Admin => role == "admin",
    }
}

both_backends!(every_route_by_every_role, |db: TestDb| async move {
    let t = TestApp::spawn(db).await;
    let mut tokens = vec![("admin".to_string(), Some(t.admin_token.clone()))];
    for role in ["responder", "support", "stakeholder", "viewer"] {
        let (_, tok) = t.user(&format!("{role}@example.com"), role, role).await;
        tokens.push((role.to_string(), Some(tok)));
    }
    tokens.push(("anonymous".into(), None));
    tokens.push((
        "bad-token".into(),
        Some("triad_0000000000000000000000000000000000000000000000000000000000000000".into()),
    ));
    let (helper_id, _) = t.user("helper@example.com", "Helper", "responder").await;
    let admin = t.admin_token.clone();

    let mut checked = 0;
    for (role, token) in &tokens {
        // Fresh subjects for every caller so that state changes do not interfere.
        let new_incident = |state: &'static str| {
            let t = &t;
            let admin = admin.clone();
            let helper_id = helper_id.clone();
            async move {
                let (_, i) = t
                    .post(
                        "/api/v1/incidents",
                        &admin,
                        json!({"title": "t", "severity": "SEV2"}),
                    )
                    .await;
                let p = format!("/api/v1/incidents/{}", i["number"]);
                match state {
                    "resolved" => assert_eq!(
                        t.post(&format!("{p}/resolve"), &admin, json!({})).await.0,
                        200
                    ),
                    "observed" => assert_eq!(
                        t.post(
                            &format!("{p}/roles"),
                            &admin,
                            json!({"role": "observer", "user": helper_id})
                        )
                        .await
                        .0,
                        200
                    ),
                    _ => {}
                }
                p
            }
        };
        let victim = t
            .user(&format!("victim-{role}@example.com"), "Victim", "viewer")
            .await
            .0;
        let cases: Vec<(Method, String, Option<Value>, Need, u16)> = vec![
            (
                Method::GET,
                "/api/v1/incidents".into(),
                None,
                Need::Read,
                200,
            ),
            (
                Method::POST,
                "/api/v1/incidents".into(),
                Some(json!({"title": "new", "severity": "P2"})),
                Need::Declare,
                201,
            ),
            (Method::GET, new_incident("").await, None, Need::Read, 200),
            (
                Method::PATCH,
                new_incident("").await,
                Some(json!({"title": "renamed"})),
                Need::Respond,
                200,
            ),
            (
                Method::POST,
                format!("{}/acknowledge", new_incident("").await),
                None,
                Need::Respond,
                200,
            ),
            (
                Method::POST,
                format!("{}/resolve", new_incident("").await),
                None,
                Need::Respond,
                200,
            ),
            (
                Method::POST,
                format!("{}/reopen", new_incident("resolved").await),
                None,
                Need::Respond,
                200,
            ),
            (
                Method::POST,
                format!("{}/roles", new_incident("").await),
                Some(json!({"role": "observer", "user": helper_id})),
                Need::Respond,
                200,
            ),
            (
                Method::DELETE,
                format!(
                    "{}/roles/observer/{helper_id}",
                    new_incident("observed").await
                ),
                None,
                Need::Respond,
                200,
            ),
            (
                Method::GET,
                format!("{}/roles", new_incident("").await),
                None,
                Need::Read,
                200,
            ),
            (
                Method::POST,
                format!("{}/notes", new_incident("").await),
                Some(json!({"body": "n"})),
                Need::Note,
                201,
            ),
            (
                Method::GET,
                format!("{}/timeline", new_incident("").await),
                None,
                Need::Read,
                200,
            ),
            (
                Method::POST,
                format!("{}/updates", new_incident("").await),
                Some(json!({"audience": "public", "state": "investigating", "message": "m"})),
                Need::Respond,
                201,
            ),
            (
                Method::GET,
                format!("{}/updates", new_incident("").await),
                None,
                Need::Read,
                200,
            ),
            (Method::GET, "/api/v1/users".into(), None, Need::Read, 200),
            (
                Method::POST,
                "/api/v1/users".into(),
                Some(
                    json!({"email": format!("new-{role}@example.com"), "name": "N", "role": "viewer"}),
                ),
                Need::Admin,
                201,
            ),
            (
                Method::GET,
                "/api/v1/users/me".into(),
                None,
                Need::Read,
                200,
            ),
            (
                Method::PATCH,
                format!("/api/v1/users/{victim}"),
                Some(json!({"name": "Renamed"})),
                Need::Admin,
                200,
            ),
            (
                Method::DELETE,
                format!("/api/v1/users/{victim}"),
                None,
                Need::Admin,
                200,
            ),
            (Method::GET, "/api/v1/teams".into(), None, Need::Read, 200),
            (
                Method::POST,
                "/api/v1/teams".into(),
                Some(json!({"name": format!("team-{role}")})),
                Need::Admin,
                201,
            ),
            (
                Method::GET,
                "/api/v1/services".into(),
                None,
                Need::Read,
                200,
            ),
            (
                Method::POST,
                "/api/v1/services".into(),
                Some(json!({"name": format!("svc-{role}")})),
                Need::Admin,
                201,
            ),
            (
                Method::GET,
                "/api/v1/tokens".into(),
                None,
                Need::AnyUser,
                200,
            ),
            (
                Method::POST,
                "/api/v1/tokens".into(),
                Some(json!({"name": "extra"})),
                Need::AnyUser,
                201,
            ),
            (
                Method::GET,
                "/api/v1/tokens?all=true".into(),
                None,
                Need::Admin,
                200,
            ),
        ];
        for (method, path, body, need, ok) in cases {
            let body = body
                .or_else(|| (method == Method::POST || method == Method::PATCH).then(|| json!({})));
            let (status, resp) = t.call(method.clone(), &path, token.as_deref(), body).await;
            let (want, code) = match (role.as_str(), token) {
                (_, None) | ("bad-token", _) => (401, Some("unauthorized")),
                _ if allowed(role, need) => (ok, None),
                _ => (403, Some("forbidden")),
            };
            assert_eq!(status, want, "{role} {method} {path}: {resp}");
            if let Some(code) = code {
                assert_eq!(resp["error"]["code"], code, "{role} {method} {path}");
                assert!(
                    resp["error"]["message"]
                        .as_str()
                        .is_some_and(|m| !m.is_empty())
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 26 * 7);
    t.stop().await;
});

both_backends!(bad_input_gets_documented_errors, |db: TestDb| async move {
    let t = TestApp::spawn(db).await;
    let tok = t.admin_token.clone();
    let (_, inc) = t
        .post(
            "/api/v1/incidents",
            &tok,
            json!({"title": "x", "severity": "SEV2"}),
        )
        .await;
    let p = format!("/api/v1/incidents/{}", inc["number"]);
    t.post(
        &format!("{p}/roles"),
        &tok,
        json!({"role": "coordinator", "user": "admin@example.com"}),
    )
    .await;
    let cases: Vec<(Method, String, Option<&str>, u16, &str, Option<&str>)> = vec![
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

both_backends!(pagination_login_and_ops, |db: TestDb| async move {
    let t = TestApp::spawn(db).await;
    let tok = t.admin_token.clone();
    for i in 0..5 {
        let sev = if i % 2 == 0 { "SEV1" } else { "SEV3" };
        t.post(
            "/api/v1/incidents",
            &tok,
            json!({"title": format!("i{i}"), "severity": sev}),
        )
        .await;
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

//! The whole incident flow over real HTTP, and live streams (SSE) with resumption;
//! each test runs on SQLite and on PostgreSQL.

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

    /// True when the server closes the stream before sending another event.
    async fn ended(&mut self) -> bool {
        loop {
            if self.buf.contains("id:") {
                return false;
            }
            match tokio::time::timeout(std::time::Duration::from_secs(10), self.body.next()).await {
                Ok(None) | Ok(Some(Err(_))) => return true,
                Ok(Some(Ok(chunk))) => self.buf.push_str(&String::from_utf8_lossy(&chunk)),
                Err(_) => return false,
            }
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
        // No escalation policy applies: the engine says so on the timeline.
        ("paged", "-"),
        ("acknowledged", resp_id.as_str()),
        ("role_assigned", resp_id.as_str()),
        // SEV1 wants an observer and a coordinator too, and no role schedule fills them.
        ("understaffed", "-"),
        ("role_assigned", admin_id.as_str()),
        ("role_assigned", admin_id.as_str()),
        ("staffed", "-"),
        ("role_handed_over", resp_id.as_str()),
        ("note", obs_id.as_str()),
        ("note", obs_id.as_str()),
        ("update_published", coord2_id.as_str()),
        ("update_published", coord2_id.as_str()),
        ("update_published", coord2_id.as_str()),
        ("resolved", resp_id.as_str()),
        // The engine tells the team that it is resolved.
        ("reporter_notified", "-"),
    ];
    assert_eq!(got, want);
    assert_eq!(events[0]["data"]["ack_due_at"], "2026-01-01T00:05:00Z");
    let times: Vec<&str> = events.iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert_eq!(times[0], "2026-01-01T00:00:00Z");
    assert_eq!(times[14], "2026-01-01T00:10:00Z");
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
    // Reopened at 00:10, it must be accepted again within SEV1's five minutes.
    assert_eq!(again["ack_due_at"], "2026-01-01T00:15:00Z");
    assert!(again["acknowledged_at"].is_null());
    t.stop().await;
});

both_backends!(
    revoked_token_loses_its_open_stream,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let (_, path) = t.declare(&t.admin_token, "watched", "SEV3").await;
        let (_, created) = t
            .post(
                "/api/v1/tokens",
                &t.admin_token,
                json!({"name": "dashboard"}),
            )
            .await;
        let token = created["token"].as_str().unwrap().to_string();
        let mut live = Sse::open(&t, "/api/v1/stream", &token, None).await;
        t.post(
            &format!("{path}/notes"),
            &t.admin_token,
            json!({"body": "one"}),
        )
        .await;
        assert_eq!(live.next().await.2["body"], "one");
        let id = created["id"].as_str().unwrap();
        let (s, _) = t
            .call(
                Method::DELETE,
                &format!("/api/v1/tokens/{id}"),
                Some(&t.admin_token),
                None,
            )
            .await;
        assert_eq!(s, 204);
        // Past the re-check interval on the app's clock, the next wake-up ends the stream
        // before it sends anything more.
        t.clock.advance_secs(31);
        t.post(
            &format!("{path}/notes"),
            &t.admin_token,
            json!({"body": "two"}),
        )
        .await;
        assert!(
            live.ended().await,
            "the stream ends once its token is revoked"
        );
        t.stop().await;
    }
);

both_backends!(reconnect_with_last_event_id, |db: TestDb| async move {
    let t = TestApp::spawn(db).await;
    let tok = t.admin_token.clone();
    let (_, path) = t.declare(&tok, "x", "SEV3").await;
    let stream_path = format!("{path}/stream");
    let mut first = Sse::open(&t, &stream_path, &tok, Some(0)).await;
    let (_, kind, _) = first.next().await;
    assert_eq!(kind, "incident_declared");
    let (declared, kind, _) = first.next().await;
    assert_eq!(kind, "paged");
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
    let (other, other_path) = t.declare(&tok, "y", "SEV4").await;
    let mut third = Sse::open(&t, &format!("{other_path}/stream"), &tok, Some(0)).await;
    let (_, kind, d) = third.next().await;
    assert_eq!(
        (kind.as_str(), d["incident_id"].as_str()),
        ("incident_declared", other["id"].as_str())
    );
    t.stop().await;
});

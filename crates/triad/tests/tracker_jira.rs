//! Tracker sync against a Jira stand-in that enforces Jira's documented paths, auth and
//! body shapes (protocols.md §2.8): it rejects a v3 body that is not Atlassian Document
//! Format, a v2 body that is, and wrong credentials, as Jira does. Triad must open one
//! issue per incident, add one comment per external update, apply one transition on
//! resolve, honour `Retry-After`, and apply a replayed inbound webhook once. SQLite and
//! PostgreSQL; the clock is moved by the test.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use triad_testkit::{TestApp, TestDb, both_backends};

#[derive(Default)]
struct Jira {
    /// issue key -> (status, comments as plain text)
    issues: BTreeMap<String, (String, Vec<String>)>,
    /// Every accepted call: "POST /rest/api/3/issue", …
    calls: Vec<String>,
    /// Every refusal, with its reason.
    refused: Vec<String>,
    /// Answer the next create with 429 and `Retry-After: 60`.
    throttle_next_create: bool,
    next_id: u32,
}

type Shared = Arc<Mutex<Jira>>;

const BASIC: &str = "Basic b3BzQGV4YW1wbGUuY29tOnRvazNu"; // ops@example.com:tok3n
const BEARER: &str = "Bearer pat-2";

fn error(status: StatusCode, message: &str) -> (StatusCode, axum::Json<Value>) {
    (
        status,
        axum::Json(json!({"errorMessages": [message], "errors": {}})),
    )
}

/// Checks auth for the API version and whether `body` fits it (ADF for 3, a string for 2).
fn check(
    j: &mut Jira,
    v: &str,
    headers: &HeaderMap,
    rich: Option<&Value>,
) -> Result<(), (StatusCode, axum::Json<Value>)> {
    let auth = headers
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let want = if v == "3" { BASIC } else { BEARER };
    if auth != want {
        j.refused.push(format!("auth {auth:?} on v{v}"));
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "Client must be authenticated to access this resource.",
        ));
    }
    if headers.get("content-type").is_some_and(|c| {
        !c.to_str()
            .unwrap_or_default()
            .starts_with("application/json")
    }) {
        j.refused.push("content type".into());
        return Err(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
        ));
    }
    if let Some(body) = rich {
        let adf = body.get("type") == Some(&json!("doc"))
            && body.get("version") == Some(&json!(1))
            && body.get("content").is_some_and(Value::is_array);
        let ok = if v == "3" { adf } else { body.is_string() };
        if !ok {
            j.refused.push(format!("v{v} rich text {body}"));
            return Err(error(
                StatusCode::BAD_REQUEST,
                "Operation value must be an Atlassian Document (see the Atlassian Document Format)",
            ));
        }
    }
    Ok(())
}

async fn create(
    State(s): State<Shared>,
    Path(v): Path<String>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut j = s.lock().unwrap();
    let fields = &body["fields"];
    if let Err(e) = check(&mut j, &v, &headers, Some(&fields["description"])) {
        return e.into_response();
    }
    let summary = fields["summary"].as_str().unwrap_or_default();
    if fields["project"]["key"].as_str().is_none()
        || fields["issuetype"]["name"].as_str().is_none()
        || summary.is_empty()
        || summary.chars().count() > 255
    {
        j.refused.push(format!("create fields {fields}"));
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"errorMessages": [], "errors": {"summary": "You must specify a summary of the issue."}}))).into_response();
    }
    if j.throttle_next_create {
        j.throttle_next_create = false;
        return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "60")], "").into_response();
    }
    j.next_id += 1;
    let key = format!(
        "{}-{}",
        fields["project"]["key"].as_str().unwrap(),
        j.next_id
    );
    j.issues.insert(key.clone(), ("To Do".into(), Vec::new()));
    j.calls.push(format!("POST /rest/api/{v}/issue {key}"));
    let id = (10_000 + j.next_id).to_string();
    (
        StatusCode::CREATED,
        axum::Json(
            json!({"id": id, "key": key, "self": format!("https://jira/rest/api/{v}/issue/{id}")}),
        ),
    )
        .into_response()
}

async fn comment(
    State(s): State<Shared>,
    Path((v, key)): Path<(String, String)>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut j = s.lock().unwrap();
    if let Err(e) = check(&mut j, &v, &headers, Some(&body["body"])) {
        return e.into_response();
    }
    let text = triad_domain::adf::plain_text(&body["body"]);
    let Some(issue) = j.issues.get_mut(&key) else {
        return error(
            StatusCode::NOT_FOUND,
            "Issue does not exist or you do not have permission to see it.",
        )
        .into_response();
    };
    issue.1.push(text);
    j.calls
        .push(format!("POST /rest/api/{v}/issue/{key}/comment"));
    (
        StatusCode::CREATED,
        axum::Json(json!({"id": "1", "body": body["body"]})),
    )
        .into_response()
}

const TRANSITIONS: &str = r#"{"expand":"transitions","transitions":[
  {"id":"21","name":"Start work","to":{"id":"3","name":"In Progress","statusCategory":{"key":"indeterminate"}},"hasScreen":false},
  {"id":"31","name":"Close","to":{"id":"5","name":"Done","statusCategory":{"key":"done"}},"hasScreen":false}]}"#;

async fn list_transitions(
    State(s): State<Shared>,
    Path((v, key)): Path<(String, String)>,
    headers: HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut j = s.lock().unwrap();
    if let Err(e) = check(&mut j, &v, &headers, None) {
        return e.into_response();
    }
    if !j.issues.contains_key(&key) {
        return error(StatusCode::NOT_FOUND, "Issue does not exist").into_response();
    }
    j.calls
        .push(format!("GET /rest/api/{v}/issue/{key}/transitions"));
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        TRANSITIONS,
    )
        .into_response()
}

async fn transition(
    State(s): State<Shared>,
    Path((v, key)): Path<(String, String)>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut j = s.lock().unwrap();
    if let Err(e) = check(&mut j, &v, &headers, None) {
        return e.into_response();
    }
    let to = match body["transition"]["id"].as_str() {
        Some("21") => "In Progress",
        Some("31") => "Done",
        _ => {
            j.refused.push(format!("transition {body}"));
            return error(
                StatusCode::BAD_REQUEST,
                "Transition id is not valid for this issue.",
            )
            .into_response();
        }
    };
    let Some(issue) = j.issues.get_mut(&key) else {
        return error(StatusCode::NOT_FOUND, "Issue does not exist").into_response();
    };
    issue.0 = to.into();
    j.calls
        .push(format!("POST /rest/api/{v}/issue/{key}/transitions {to}"));
    StatusCode::NO_CONTENT.into_response()
}

async fn start_jira() -> (String, Shared) {
    let shared: Shared = Arc::default();
    let app = Router::new()
        .route("/rest/api/{v}/issue", post(create))
        .route("/rest/api/{v}/issue/{key}/comment", post(comment))
        .route(
            "/rest/api/{v}/issue/{key}/transitions",
            get(list_transitions).post(transition),
        )
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, shared)
}

fn calls(j: &Shared) -> Vec<String> {
    j.lock().unwrap().calls.clone()
}

async fn webhook(
    t: &TestApp,
    tracker: &str,
    id: &str,
    body: &Value,
    secret: Option<&str>,
) -> (u16, Value) {
    let raw = serde_json::to_vec(body).unwrap();
    let mut req = t
        .http
        .post(format!("{}/hooks/jira/{tracker}", t.base))
        .header("content-type", "application/json")
        .header("X-Atlassian-Webhook-Identifier", id)
        .body(raw.clone());
    if let Some(secret) = secret {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(&raw);
        req = req.header(
            "X-Hub-Signature",
            format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
        );
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

both_backends!(
    issues_comments_transitions_and_webhooks,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let admin = t.admin_token.clone();
        let (jira, state) = start_jira().await;
        // The stand-in is strict: a v3 description that is not ADF is refused.
        let r = t.http.post(format!("{jira}/rest/api/3/issue")).header("authorization", BASIC)
        .json(&json!({"fields": {"project": {"key": "OPS"}, "issuetype": {"name": "Incident"}, "summary": "s", "description": "plain"}}))
        .send().await.unwrap();
        assert_eq!(r.status().as_u16(), 400);
        state.lock().unwrap().refused.clear();

        let secret = "a-long-inbound-secret";
        let (s, ops) = t.post("/api/v1/trackers", &admin, json!({"name": "Ops Jira", "base_url": jira, "api_version": 3,
        "auth": "basic", "user": "ops@example.com", "token": "tok3n", "project_key": "OPS", "min_severity": "SEV2",
        "resolve_transition": "Done", "inbound_secret": secret})).await;
        assert_eq!(s, 201, "{ops}");
        assert!(
            ops.get("token").is_none() && ops["inbound_signed"] == true,
            "secrets are never shown: {ops}"
        );
        let (s, sup) = t
            .post(
                "/api/v1/trackers",
                &admin,
                json!({"name": "Support", "base_url": jira, "api_version": 2,
        "auth": "bearer", "token": "pat-2", "project_key": "SUP", "resolve_transition": "close"}),
            )
            .await;
        assert_eq!(s, 201, "{sup}");
        for (body, field) in [
            (
                json!({"name": "x", "base_url": "ftp://x", "project_key": "X", "auth": "none"}),
                "base_url",
            ),
            (
                json!({"name": "x", "base_url": jira, "project_key": "X", "api_version": 4, "auth": "none"}),
                "api_version",
            ),
            (
                json!({"name": "x", "base_url": jira, "project_key": "X"}),
                "user",
            ),
            (
                json!({"name": "x", "base_url": jira, "project_key": "X", "auth": "bearer"}),
                "token",
            ),
            (
                json!({"name": "x", "base_url": jira, "project_key": "", "auth": "none"}),
                "project_key",
            ),
            (
                json!({"name": "x", "base_url": jira, "project_key": "X", "auth": "none", "inbound_secret": "short"}),
                "inbound_secret",
            ),
        ] {
            let (s, v) = t.post("/api/v1/trackers", &admin, body).await;
            assert_eq!(
                (s, v["error"]["fields"][0]["field"].clone()),
                (422, json!(field)),
                "{v}"
            );
        }

        // A SEV2 incident: an issue at both trackers; Ops answers the first try with 429.
        state.lock().unwrap().throttle_next_create = true;
        let (inc, path) = t.declare(&admin, "Checkout failing", "SEV2").await;
        let number = inc["number"].as_i64().unwrap();
        t.tick().await;
        assert_eq!(
            calls(&state),
            ["POST /rest/api/2/issue SUP-1"],
            "Ops throttled, Support done"
        );
        let (_, sync) = t.get(&format!("{path}/tracker-sync"), &admin).await;
        let ops_create = sync["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["tracker_id"] == ops["id"])
            .unwrap()
            .clone();
        assert_eq!(ops_create["status"], "pending");
        assert_eq!(ops_create["attempts"], 1);
        // Two external updates meanwhile; they wait for Ops's issue.
        for (audience, message) in [
            ("stakeholders", "Payments fail for some EU customers."),
            ("public", "Some payments fail."),
        ] {
            let (s, _) = t
                .post(
                    &format!("{path}/updates"),
                    &admin,
                    json!({"audience": audience, "state": "identified", "message": message}),
                )
                .await;
            assert_eq!(s, 201);
        }
        t.advance(59).await;
        assert!(
            !calls(&state).iter().any(|c| c.contains("OPS")),
            "Retry-After: 60 is honoured: {:?}",
            calls(&state)
        );
        t.advance(2).await;
        let c = calls(&state);
        assert!(
            c.contains(&"POST /rest/api/3/issue OPS-2".to_string()),
            "{c:?}"
        );
        {
            let j = state.lock().unwrap();
            assert!(j.refused.is_empty(), "{:?}", j.refused);
            let ops_issue = &j.issues["OPS-2"];
            let sup_issue = &j.issues["SUP-1"];
            assert_eq!(
                ops_issue.1.len(),
                2,
                "one comment per update: {:?}",
                ops_issue.1
            );
            assert_eq!(sup_issue.1.len(), 2, "{:?}", sup_issue.1);
            assert!(
                ops_issue.1[0].contains("Payments fail for some EU customers.")
                    && ops_issue.1[1].contains("Some payments fail.")
            );
            assert!(sup_issue.1[0].starts_with("Update from Triad (stakeholders, identified)"));
        }
        // A SEV4 incident reaches only the tracker that takes every severity.
        let (_, minor) = t.declare(&admin, "Slow reports", "SEV4").await;
        t.tick().await;
        assert_eq!(
            calls(&state)
                .iter()
                .filter(|c| c.contains("/issue "))
                .count(),
            3
        );
        assert_eq!(
            state
                .lock()
                .unwrap()
                .issues
                .keys()
                .filter(|k| k.starts_with("OPS"))
                .count(),
            1
        );
        let _ = minor;

        // Inbound: a support ticket labelled with the incident is linked and absorbed like a
        // report; the replayed delivery changes nothing.
        state
            .lock()
            .unwrap()
            .issues
            .insert("SUP-77".into(), ("Open".into(), Vec::new()));
        let ticket = json!({"timestamp": 1, "webhookEvent": "jira:issue_updated", "issue_event_type_name": "issue_generic",
        "user": {"accountId": "a1", "displayName": "Sam Support"},
        "issue": {"id": "20077", "key": "SUP-77", "fields": {"summary": "Customer cannot pay", "labels": [format!("triad-{number}")],
                  "reporter": {"displayName": "Sam Support"}}},
        "changelog": {"id": "1", "items": [{"field": "status", "fromString": "Open", "toString": "Escalated"}]}});
        let sup_id = sup["id"].as_str().unwrap();
        assert_eq!(
            webhook(&t, sup_id, "wh-1", &ticket, None).await,
            (200, json!({"status": "applied"}))
        );
        assert_eq!(
            webhook(&t, sup_id, "wh-1", &ticket, None).await,
            (200, json!({"status": "duplicate"}))
        );
        let (_, reports) = t.get(&format!("{path}/reports"), &admin).await;
        assert_eq!(reports.as_array().unwrap().len(), 1, "{reports}");
        assert_eq!(reports[0]["external_ref"], "SUP-77");
        let (_, timeline) = t.get(&format!("{path}/timeline"), &admin).await;
        let moved = timeline
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                e["body"]
                    .as_str()
                    .unwrap()
                    .contains("SUP-77 moved from Open to Escalated")
            })
            .count();
        assert_eq!(moved, 1, "applied once");
        // Human comments land on the timeline; Triad's own comments echoed back do not.
        let said = |id: &str, text: &str| {
            json!({"webhookEvent": "comment_created", "issue": {"id": "20077", "key": "SUP-77", "fields": {}},
        "comment": {"id": id, "author": {"displayName": "Sam Support"}, "body": text}})
        };
        assert_eq!(
            webhook(
                &t,
                sup_id,
                "wh-2",
                &said("c1", "Customer says it works on mobile"),
                None
            )
            .await
            .0,
            200
        );
        assert_eq!(
            webhook(
                &t,
                sup_id,
                "wh-3",
                &said(
                    "c2",
                    "Update from Triad (public, identified): Some payments fail."
                ),
                None
            )
            .await
            .0,
            200
        );
        let (_, timeline) = t.get(&format!("{path}/timeline"), &admin).await;
        let notes: Vec<&str> = timeline
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "note")
            .map(|e| e["body"].as_str().unwrap())
            .collect();
        assert!(
            notes
                .iter()
                .any(|n| n.contains("Customer says it works on mobile")),
            "{notes:?}"
        );
        assert!(
            !notes.iter().any(|n| n.contains("Update from Triad")),
            "{notes:?}"
        );
        // Triad's own issue carries the label too: its webhook is not a new ticket.
        let own = json!({"webhookEvent": "jira:issue_created", "issue": {"id": "10001", "key": "SUP-1",
        "fields": {"summary": "x", "labels": ["triad", format!("triad-{number}")]}}});
        assert_eq!(
            webhook(&t, sup_id, "wh-own", &own, None).await,
            (200, json!({"status": "applied"})),
            "linked already: applied to its incident"
        );
        // While Triad's create call is still being retried, its issue's webhook (labelled
        // `triad`) is not taken for a support ticket.
        state.lock().unwrap().throttle_next_create = true;
        let (race, race_path) = t.declare(&admin, "Race", "SEV1").await;
        t.tick().await;
        let own_new = json!({"webhookEvent": "jira:issue_created", "issue": {"id": "10009", "key": "OPS-50",
            "fields": {"summary": "x", "labels": ["triad", format!("triad-{}", race["number"])]}}});
        assert_eq!(
            webhook(
                &t,
                ops["id"].as_str().unwrap(),
                "wh-own-2",
                &own_new,
                Some(secret)
            )
            .await,
            (200, json!({"status": "ignored"})),
            "an issue of ours not yet linked"
        );
        let (_, race_reports) = t.get(&format!("{race_path}/reports"), &admin).await;
        assert_eq!(race_reports, json!([]));
        t.advance(61).await;
        let (_, reports) = t.get(&format!("{path}/reports"), &admin).await;
        assert_eq!(
            reports.as_array().unwrap().len(),
            1,
            "no bogus report: {reports}"
        );
        // Inbound URLs name the tracker by id only.
        assert_eq!(
            webhook(&t, "Support", "wh-name", &ticket, None).await.0,
            404
        );
        // Signed tracker: a wrong or missing signature is refused, the right one applies.
        let ops_id = ops["id"].as_str().unwrap();
        let other = json!({"webhookEvent": "jira:issue_updated", "issue": {"key": "OPS-999", "fields": {"labels": []}}});
        assert_eq!(webhook(&t, ops_id, "s-1", &other, None).await.0, 401);
        assert_eq!(
            webhook(&t, ops_id, "s-1", &other, Some("wrong-secret-wrong"))
                .await
                .0,
            401
        );
        assert_eq!(
            webhook(&t, ops_id, "s-1", &other, Some(secret)).await,
            (200, json!({"status": "ignored"}))
        );
        let (s, v) = t
            .call(
                Method::POST,
                &format!("/hooks/jira/{sup_id}"),
                None,
                Some(json!({"webhookEvent": "x"})),
            )
            .await;
        assert_eq!(
            (s, v["error"]["fields"][0]["field"].clone()),
            (422, json!("issue.key"))
        );

        // The next external update reaches the created issue and the linked ticket, once.
        let (s, _) = t
            .post(
                &format!("{path}/updates"),
                &admin,
                json!({"audience": "reporters", "state": "monitoring", "message": "A fix is out."}),
            )
            .await;
        assert_eq!(s, 201);
        t.tick().await;
        // Resolving transitions the issues Triad opened (by transition or status name).
        assert_eq!(
            t.post(&format!("{path}/resolve"), &admin, json!({}))
                .await
                .0,
            200
        );
        t.tick().await;
        t.advance(3600).await;
        {
            let j = state.lock().unwrap();
            assert!(j.refused.is_empty(), "{:?}", j.refused);
            assert_eq!(j.issues["SUP-77"].1.len(), 1, "{:?}", j.issues["SUP-77"]);
            assert_eq!(
                j.issues["SUP-77"].0, "Open",
                "a linked ticket is not Triad's to close"
            );
            assert_eq!(j.issues["OPS-2"].1.len(), 3);
            assert_eq!(j.issues["SUP-1"].1.len(), 3);
            assert_eq!(j.issues["OPS-2"].0, "Done");
            assert_eq!(j.issues["SUP-1"].0, "Done");
            let transitions = j
                .calls
                .iter()
                .filter(|c| c.contains("/transitions "))
                .count();
            assert_eq!(
                transitions, 2,
                "one transition per created issue: {:?}",
                j.calls
            );
        }
        let (_, sync) = t.get(&format!("{path}/tracker-sync"), &admin).await;
        assert!(
            sync["jobs"]
                .as_array()
                .unwrap()
                .iter()
                .all(|j| j["status"] == "done"),
            "{sync}"
        );
        let origins: Vec<&str> = sync["links"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["origin"].as_str().unwrap())
            .collect();
        assert_eq!(origins.len(), 3, "{sync}");
        t.stop().await;
    }
);

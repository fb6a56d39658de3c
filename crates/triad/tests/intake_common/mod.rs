//! Helpers shared by the intake suites (`intake`, `intake_writer`): a service with an
//! integration key, raw sends to the vendor routes, and reads of incidents and timelines.
#![allow(dead_code)]

use reqwest::Method;
use serde_json::{Value, json};
use triad_testkit::TestApp;

/// A service and an integration key for it; returns the key.
pub async fn service_key(t: &TestApp, name: &str, extra: Value) -> String {
    let (st, s) = t
        .post("/api/v1/services", &t.admin_token, json!({"name": name}))
        .await;
    assert_eq!(st, 201, "{s}");
    let (st, k) = t
        .post(
            &format!("/api/v1/services/{name}/integration-keys"),
            &t.admin_token,
            extra,
        )
        .await;
    assert_eq!(st, 201, "{k}");
    let key = k["key"].as_str().unwrap().to_string();
    assert_eq!(key.len(), 32);
    key
}

/// Posts raw JSON to a non-API route; returns (status, body, headers).
pub async fn send(
    t: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut req = t
        .http
        .request(method, format!("{}{path}", t.base))
        .json(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
        headers,
    )
}

pub async fn incidents(t: &TestApp) -> Vec<Value> {
    let (_, list) = t.get("/api/v1/incidents", &t.admin_token).await;
    list["items"].as_array().unwrap().clone()
}

pub async fn kinds(t: &TestApp, number: &Value) -> Vec<String> {
    let (_, ev) = t
        .get(
            &format!("/api/v1/incidents/{number}/timeline"),
            &t.admin_token,
        )
        .await;
    ev.as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

pub fn pd_event(key: &str, action: &str, dedup: Option<&str>) -> Value {
    let mut e = json!({"routing_key": key, "event_action": action, "payload": {
        "summary": "DiskFull on db-1", "source": "db-1", "severity": "critical",
        "timestamp": "2026-01-01T00:00:00.000+0000", "custom_details": {"free": "1%"}}});
    if let Some(d) = dedup {
        e["dedup_key"] = json!(d);
    }
    e
}

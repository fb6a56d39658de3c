//! A status page with something on it, shared by the status page suites: a page in
//! Europe/Berlin, a group with two members, a component linked to a service, one public
//! incident with business impact, one resolved, and maintenances upcoming, active and
//! done.

#![allow(dead_code)]

use reqwest::Method;
use serde_json::{Value, json};
use triad_testkit::{Clock, TestApp};

pub struct Page {
    pub api: String,
    pub group: String,
    pub checkout: String,
    pub search: String,
    pub worker: String,
    pub open_incident: String,
    pub resolved_incident: String,
    pub incident_path: String,
    pub upcoming: String,
    pub active: String,
    pub done: String,
}

pub async fn made(t: &TestApp, path: &str, body: Value) -> Value {
    let (status, v) = t.post(path, &t.admin_token, body).await;
    assert_eq!(status, 201, "{path}: {v}");
    v
}

pub async fn put(t: &TestApp, path: &str, body: Value) -> (u16, Value) {
    t.call(Method::PUT, path, Some(&t.admin_token), Some(body))
        .await
}

/// Fetches a public document with no token; asserts 200 and the CORS header.
pub async fn public(t: &TestApp, path: &str) -> Value {
    let resp = t
        .http
        .get(format!("{}{path}", t.base))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 200, "{path}");
    assert_eq!(
        resp.headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap()),
        Some("*"),
        "{path} is CORS-open"
    );
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    resp.json().await.expect("json")
}

pub async fn publish(t: &TestApp, path: &str, state: &str, message: &str, title: Option<&str>) {
    let mut body = json!({"audience": "public", "state": state, "message": message});
    if let Some(title) = title {
        body["public_title"] = json!(title);
    }
    let (status, v) = t
        .post(&format!("{path}/updates"), &t.admin_token, body)
        .await;
    assert_eq!(status, 201, "{v}");
}

pub async fn setup(t: &TestApp) -> Page {
    let (s, page) = put(
        t,
        "/api/v1/status-page",
        json!({"name": "Acme Status", "url": "https://status.acme.test/", "time_zone": "Europe/Berlin"}),
    )
    .await;
    assert_eq!(s, 200, "{page}");
    let api = made(t, "/api/v1/services", json!({"name": "api"})).await;
    made(t, "/api/v1/services", json!({"name": "worker"})).await;
    let checkout_biz = made(
        t,
        "/api/v1/business-services",
        json!({"name": "Checkout", "tier": 1, "services": [api["id"]]}),
    )
    .await;
    let search_biz = made(
        t,
        "/api/v1/business-services",
        json!({"name": "Search", "tier": 3, "services": [api["id"]]}),
    )
    .await;
    let group = made(
        t,
        "/api/v1/status-page/components",
        json!({"name": "Storefront", "group": true, "position": 1}),
    )
    .await;
    let checkout = made(
        t,
        "/api/v1/status-page/components",
        json!({"name": "Checkout", "group_id": group["id"], "business_service": "Checkout",
               "description": "Paying for orders", "position": 2, "start_date": "2025-06-01"}),
    )
    .await;
    let search = made(
        t,
        "/api/v1/status-page/components",
        json!({"name": "Search", "group_id": group["id"], "business_service": search_biz["id"], "position": 3}),
    )
    .await;
    let worker_c = made(
        t,
        "/api/v1/status-page/components",
        json!({"name": "Background jobs", "service": "worker", "position": 4, "only_show_if_degraded": true}),
    )
    .await;
    let _ = checkout_biz;

    // A resolved public incident on the worker, from earlier.
    let (done, done_path) = t
        .declare(&t.admin_token, "kafka lag on worker-3", "SEV3")
        .await;
    publish(
        t,
        &done_path,
        "investigating",
        "Jobs are delayed.",
        Some("Delayed jobs"),
    )
    .await;
    t.clock.advance_secs(600);
    publish(t, &done_path, "monitoring", "A fix is in place.", None).await;
    t.clock.advance_secs(600);
    publish(t, &done_path, "resolved", "Jobs run on time again.", None).await;
    t.clock.advance_secs(3600);

    // The open incident: internal title, a public title, impact on both business services.
    let (s, open) = t
        .post(
            "/api/v1/incidents",
            &t.admin_token,
            json!({"title": "PRIMARY-DB disk full", "severity": "SEV2", "service": "api"}),
        )
        .await;
    assert_eq!(s, 201, "{open}");
    let path = format!("/api/v1/incidents/{}", open["number"]);
    let (s, impact) = put(
        t,
        &format!("{path}/impact"),
        json!({"business_services": [
            {"id": "Checkout", "impact": "partial_outage", "customers_affected": 1200},
            {"id": "Search", "impact": "degraded"}]}),
    )
    .await;
    assert_eq!(s, 200, "{impact}");
    // A stakeholder update never reaches the page.
    let (s, _) = t
        .post(
            &format!("{path}/updates"),
            &t.admin_token,
            json!({"audience": "stakeholders", "state": "identified", "message": "INTERNAL: PRIMARY-DB is full"}),
        )
        .await;
    assert_eq!(s, 201);
    publish(
        t,
        &path,
        "investigating",
        "Some payments fail.",
        Some("Payment failures"),
    )
    .await;
    t.clock.advance_secs(300);
    publish(t, &path, "identified", "We found the cause.", None).await;

    // Maintenances: one done, one in progress (on the group), one to come.
    let at = |secs: i64| triad_app::rfc3339(t.clock.now() + secs * 1000);
    let done_m = made(
        t,
        "/api/v1/status-page/maintenances",
        json!({"name": "Old upgrade", "body": "Upgrading the database.", "scheduled_for": at(-7200),
               "scheduled_until": at(-3600), "components": [worker_c["id"]]}),
    )
    .await;
    let active = made(
        t,
        "/api/v1/status-page/maintenances",
        json!({"name": "Search reindex", "body": "Search results may be stale.", "scheduled_for": at(-60),
               "scheduled_until": at(3600), "components": [search["id"]]}),
    )
    .await;
    let upcoming = made(
        t,
        "/api/v1/status-page/maintenances",
        json!({"name": "Network work", "body": "Brief interruptions.", "scheduled_for": at(86_400),
               "scheduled_until": at(90_000), "components": [group["id"]]}),
    )
    .await;
    Page {
        api: api["id"].as_str().unwrap().into(),
        group: group["id"].as_str().unwrap().into(),
        checkout: checkout["id"].as_str().unwrap().into(),
        search: search["id"].as_str().unwrap().into(),
        worker: worker_c["id"].as_str().unwrap().into(),
        open_incident: open["id"].as_str().unwrap().into(),
        resolved_incident: done["id"].as_str().unwrap().into(),
        incident_path: path,
        upcoming: upcoming["id"].as_str().unwrap().into(),
        active: active["id"].as_str().unwrap().into(),
        done: done_m["id"].as_str().unwrap().into(),
    }
}

//! Managing the status page: settings, components and maintenances, who may do what,
//! and every refusal naming its field; deleting things the page shows. SQLite and
//! PostgreSQL.

mod status_common;

use reqwest::Method;
use serde_json::{Value, json};
use status_common::*;
use triad_testkit::{TestApp, TestDb, both_backends};

#[allow(unused_imports)]
use triad_testkit::Clock as _;

fn field(v: &Value) -> String {
    v["error"]["fields"][0]["field"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

both_backends!(refusals_name_their_field, |db: TestDb| async move {
    let t = TestApp::spawn(db).await;
    made(&t, "/api/v1/services", json!({"name": "api"})).await;
    made(
        &t,
        "/api/v1/business-services",
        json!({"name": "Checkout", "tier": 1}),
    )
    .await;
    let group = made(
        &t,
        "/api/v1/status-page/components",
        json!({"name": "G", "group": true}),
    )
    .await;
    let plain = made(
        &t,
        "/api/v1/status-page/components",
        json!({"name": "Plain"}),
    )
    .await;
    for (body, want) in [
        (json!({"name": ""}), "name"),
        (
            json!({"name": "x", "service": "api", "business_service": "Checkout"}),
            "business_service",
        ),
        (json!({"name": "x", "service": "nope"}), "service"),
        (
            json!({"name": "x", "business_service": "nope"}),
            "business_service",
        ),
        (
            json!({"name": "x", "group": true, "service": "api"}),
            "group",
        ),
        (
            json!({"name": "x", "group": true, "group_id": group["id"]}),
            "group_id",
        ),
        (json!({"name": "x", "group_id": plain["id"]}), "group_id"),
        (json!({"name": "x", "group_id": "nope"}), "group_id"),
        (
            json!({"name": "x", "start_date": "31/01/2026"}),
            "start_date",
        ),
        (json!({"name": "x", "colour": "red"}), "colour"),
    ] {
        let (s, v) = t
            .post(
                "/api/v1/status-page/components",
                &t.admin_token,
                body.clone(),
            )
            .await;
        assert_eq!(s, 422, "{body}: {v}");
        assert_eq!(field(&v), want, "{body}: {v}");
    }
    for (body, want) in [
        (json!({"time_zone": "Mars/Olympus"}), "time_zone"),
        (json!({"url": "status.example.com"}), "url"),
        (json!({"name": ""}), "name"),
    ] {
        let (s, v) = put(&t, "/api/v1/status-page", body.clone()).await;
        assert_eq!((s, field(&v)), (422, want.to_string()), "{body}: {v}");
    }
    let ok = |m: Value| {
        let mut base = json!({"name": "m", "body": "b", "scheduled_for": "2026-01-02T00:00:00Z",
            "scheduled_until": "2026-01-02T01:00:00Z"});
        for (k, v) in m.as_object().unwrap() {
            base[k] = v.clone();
        }
        base
    };
    for (body, want) in [
        (
            ok(json!({"scheduled_until": "2026-01-01T23:00:00Z"})),
            "scheduled_until",
        ),
        (ok(json!({"scheduled_for": "tomorrow"})), "scheduled_for"),
        (ok(json!({"components": ["nope"]})), "components[0]"),
        (ok(json!({"name": ""})), "name"),
        (ok(json!({"body": ""})), "body"),
    ] {
        let (s, v) = t
            .post(
                "/api/v1/status-page/maintenances",
                &t.admin_token,
                body.clone(),
            )
            .await;
        assert_eq!((s, field(&v)), (422, want.to_string()), "{body}: {v}");
    }
    // Nothing refused was stored.
    let (_, list) = t
        .get("/api/v1/status-page/components", &t.admin_token)
        .await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let (_, list) = t
        .get("/api/v1/status-page/maintenances", &t.admin_token)
        .await;
    assert_eq!(list, json!([]));
    t.stop().await;
});

both_backends!(who_may_do_what, |db: TestDb| async move {
    let t = TestApp::spawn(db).await;
    let (_, responder) = t.user("r@example.com", "R", "responder").await;
    let (_, viewer) = t.user("v@example.com", "V", "viewer").await;
    let c = made(&t, "/api/v1/status-page/components", json!({"name": "API"})).await;
    let cid = c["id"].as_str().unwrap();
    let maint = json!({"name": "m", "body": "b", "scheduled_for": "2026-01-02T00:00:00Z",
        "scheduled_until": "2026-01-02T01:00:00Z", "components": [cid]});
    // Components and settings: administrators. Maintenances: responders too.
    for (method, path, body, token, want) in [
        (
            Method::POST,
            "/api/v1/status-page/components".to_string(),
            Some(json!({"name": "x"})),
            &responder,
            403,
        ),
        (
            Method::PUT,
            format!("/api/v1/status-page/components/{cid}"),
            Some(json!({"name": "x"})),
            &responder,
            403,
        ),
        (
            Method::DELETE,
            format!("/api/v1/status-page/components/{cid}"),
            None,
            &responder,
            403,
        ),
        (
            Method::PUT,
            "/api/v1/status-page".to_string(),
            Some(json!({"name": "x"})),
            &responder,
            403,
        ),
        (
            Method::POST,
            "/api/v1/status-page/maintenances".to_string(),
            Some(maint.clone()),
            &viewer,
            403,
        ),
        (
            Method::GET,
            "/api/v1/status-page".to_string(),
            None,
            &viewer,
            200,
        ),
        (
            Method::GET,
            "/api/v1/status-page/components".to_string(),
            None,
            &viewer,
            200,
        ),
        (
            Method::GET,
            "/api/v1/status-page/maintenances".to_string(),
            None,
            &viewer,
            200,
        ),
        (
            Method::POST,
            "/api/v1/status-page/maintenances".to_string(),
            Some(maint.clone()),
            &responder,
            201,
        ),
    ] {
        let (s, v) = t.call(method.clone(), &path, Some(token), body).await;
        assert_eq!(s, want, "{method} {path}: {v}");
    }
    let (s, _) = t.call(Method::GET, "/api/v1/status-page", None, None).await;
    assert_eq!(
        s, 401,
        "the settings API needs a token; the page itself does not"
    );
    let (_, list) = t.get("/api/v1/status-page/maintenances", &viewer).await;
    let mid = list[0]["id"].as_str().unwrap().to_string();
    assert_eq!(list[0]["status"], "scheduled");
    assert_eq!(list[0]["components"], json!([cid]));
    let (s, _) = t
        .call(
            Method::DELETE,
            &format!("/api/v1/status-page/maintenances/{mid}"),
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(s, 403);
    let (s, _) = t
        .call(
            Method::DELETE,
            &format!("/api/v1/status-page/maintenances/{mid}"),
            Some(&responder),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = t
        .call(
            Method::DELETE,
            &format!("/api/v1/status-page/maintenances/{mid}"),
            Some(&responder),
            None,
        )
        .await;
    assert_eq!(s, 404);
    t.stop().await;
});

both_backends!(
    changes_and_deletions_show_on_the_page,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let p = setup(&t).await;
        let summary = "/status/api/v2/summary.json";
        // A group with members cannot be deleted, nor turned into a plain component.
        let (s, v) = t
            .call(
                Method::DELETE,
                &format!("/api/v1/status-page/components/{}", p.group),
                Some(&t.admin_token),
                None,
            )
            .await;
        assert_eq!(s, 409, "{v}");
        let (s, v) = put(
            &t,
            &format!("/api/v1/status-page/components/{}", p.group),
            json!({"name": "Storefront"}),
        )
        .await;
        assert_eq!((s, field(&v)), (422, "group".to_string()));
        // Renaming shows at once.
        let (s, v) = put(
        &t,
        &format!("/api/v1/status-page/components/{}", p.checkout),
        json!({"name": "Payments", "group_id": p.group, "business_service": "Checkout", "position": 2}),
    )
    .await;
        assert_eq!(s, 200, "{v}");
        let page = public(&t, summary).await;
        assert!(
            page["components"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["name"] == "Payments")
        );
        // Deleting Search takes it off the page and out of the maintenance that named it.
        let (s, _) = t
            .call(
                Method::DELETE,
                &format!("/api/v1/status-page/components/{}", p.search),
                Some(&t.admin_token),
                None,
            )
            .await;
        assert_eq!(s, 204);
        let page = public(&t, summary).await;
        let ids: Vec<&str> = page["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert!(!ids.contains(&p.search.as_str()));
        let active = page["scheduled_maintenances"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == p.active.as_str())
            .unwrap();
        assert_eq!(active["components"], json!([]));
        assert_eq!(page["components"][0]["components"], json!([p.checkout]));
        // Cancelling a maintenance removes it.
        let (s, _) = t
            .call(
                Method::DELETE,
                &format!("/api/v1/status-page/maintenances/{}", p.upcoming),
                Some(&t.admin_token),
                None,
            )
            .await;
        assert_eq!(s, 204);
        let up = public(&t, "/status/api/v2/scheduled-maintenances/upcoming.json").await;
        assert_eq!(up["scheduled_maintenances"], json!([]));
        // Unknown paths under the API are JSON 404s that browsers can read.
        let r = t
            .http
            .get(format!("{}/status/api/v2/nothing.json", t.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 404);
        // A CORS preflight is answered.
        let r = t
            .http
            .request(Method::OPTIONS, format!("{}{summary}", t.base))
            .header("Origin", "https://example.org")
            .header("Access-Control-Request-Method", "GET")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 204);
        assert_eq!(r.headers()["access-control-allow-origin"], "*");
        t.stop().await;
    }
);

both_backends!(
    what_the_page_never_says_and_what_it_follows,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let summary = "/status/api/v2/summary.json";
        made(&t, "/api/v1/services", json!({"name": "api"})).await;
        made(
            &t,
            "/api/v1/business-services",
            json!({"name": "Checkout", "tier": 1}),
        )
        .await;
        let api_c = made(
            &t,
            "/api/v1/status-page/components",
            json!({"name": "API", "service": "api"}),
        )
        .await;
        let biz_c = made(
            &t,
            "/api/v1/status-page/components",
            json!({"name": "Pay", "business_service": "Checkout"}),
        )
        .await;
        made(&t, "/api/v1/services", json!({"name": "spare"})).await;
        let spare_c = made(
            &t,
            "/api/v1/status-page/components",
            json!({"name": "Spare", "service": "spare"}),
        )
        .await;
        // No public title: the internal title never shows; the page says "Service disruption".
        let (s, inc) = t
        .post(
            "/api/v1/incidents",
            &t.admin_token,
            json!({"title": "db-9 corrupted by ACME import", "severity": "SEV3", "service": "api"}),
        )
        .await;
        assert_eq!(s, 201);
        let path = format!("/api/v1/incidents/{}", inc["number"]);
        publish(&t, &path, "investigating", "Looking.", None).await;
        let page = public(&t, summary).await;
        assert_eq!(page["incidents"][0]["name"], "Service disruption");
        assert!(!page.to_string().contains("ACME"));
        // Unassessed SEV3 on the component's service: degraded; a severity change shows at once.
        let status = |page: &Value, id: &Value| {
            page["components"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["id"] == *id)
                .unwrap()["status"]
                .clone()
        };
        assert_eq!(status(&page, &api_c["id"]), "degraded_performance");
        let (s, _) = t
            .call(
                Method::PATCH,
                &path,
                Some(&t.admin_token),
                Some(json!({"severity": "SEV1"})),
            )
            .await;
        assert_eq!(s, 200);
        let page = public(&t, summary).await;
        assert_eq!(status(&page, &api_c["id"]), "major_outage");
        assert_eq!(page["incidents"][0]["impact"], "critical");
        // monitoring_at is when it last went to monitoring.
        publish(&t, &path, "monitoring", "Fix out.", None).await;
        t.clock.advance_secs(60);
        publish(&t, &path, "identified", "It came back.", None).await;
        t.clock.advance_secs(60);
        publish(&t, &path, "monitoring", "Second fix out.", None).await;
        let page = public(&t, summary).await;
        let last: jiff::Timestamp = page["incidents"][0]["incident_updates"][0]["created_at"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let mon: jiff::Timestamp = page["incidents"][0]["monitoring_at"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(mon, last);
        // Impact: a huge customer count is refused; a business service with impact on
        // record is kept; deleting a service unlinks its component.
        let (s, v) = put(
        &t,
        &format!("{path}/impact"),
        json!({"business_services": [{"id": "Checkout", "impact": "degraded", "customers_affected": 9_223_372_036_854_775_807i64}]}),
    )
    .await;
        assert_eq!(
            (s, field(&v)),
            (422, "business_services[0].customers_affected".to_string())
        );
        let (s, _) = put(
            &t,
            &format!("{path}/impact"),
            json!({"business_services": [{"id": "Checkout", "impact": "degraded"}]}),
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(
            status(&public(&t, summary).await, &biz_c["id"]),
            "degraded_performance"
        );
        let (s, v) = t
            .call(
                Method::DELETE,
                "/api/v1/business-services/Checkout",
                Some(&t.admin_token),
                None,
            )
            .await;
        assert_eq!(s, 409, "{v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("kept for their history"),
            "{v}"
        );
        publish(&t, &path, "resolved", "Done.", None).await;
        let (s, _) = t
            .call(
                Method::PATCH,
                &path,
                Some(&t.admin_token),
                Some(json!({"title": "still internal"})),
            )
            .await;
        assert_eq!(s, 200);
        // A maintenance with no components still says the page is under maintenance.
        let at = |secs: i64| triad_app::rfc3339(triad_testkit::Clock::now(&t.clock) + secs * 1000);
        made(
        &t,
        "/api/v1/status-page/maintenances",
        json!({"name": "Everything", "body": "b", "scheduled_for": at(-1), "scheduled_until": at(600)}),
    )
    .await;
        let page = public(&t, summary).await;
        assert_eq!(
            page["status"],
            json!({"indicator": "maintenance", "description": "Service Under Maintenance"})
        );
        let (s, v) = t
            .call(
                Method::DELETE,
                "/api/v1/services/spare",
                Some(&t.admin_token),
                None,
            )
            .await;
        assert!(s == 204 || s == 200, "{s} {v}");
        let (_, comps) = t
            .get("/api/v1/status-page/components", &t.admin_token)
            .await;
        let spare_now = comps
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == spare_c["id"])
            .unwrap()
            .clone();
        assert!(
            spare_now["service_id"].is_null(),
            "unlinked, kept: {spare_now}"
        );
        // Page addresses that would make broken or foreign links are refused.
        for url in [
            "/",
            "//evil.example",
            "https://",
            "https://user@evil.example",
            "ftp://x",
            "/status?x=1",
            "/sta tus",
        ] {
            let (s, v) = put(&t, "/api/v1/status-page", json!({"url": url})).await;
            assert_eq!((s, field(&v)), (422, "url".to_string()), "{url}: {v}");
        }
        let (s, v) = put(&t, "/api/v1/status-page", json!({"url": "/status/"})).await;
        assert_eq!((s, v["url"].clone()), (200, json!("/status")));
        t.stop().await;
    }
);

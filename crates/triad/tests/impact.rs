//! Business impact: setting and reading an incident's impact, the severity and audiences
//! it suggests through the impact × tier matrix, the matrix itself, the incident list
//! ordered by impact, and every refusal naming its field. SQLite and PostgreSQL.

use reqwest::Method;
use serde_json::{Value, json};
use triad_testkit::{TestApp, TestDb, both_backends};

async fn put(t: &TestApp, path: &str, token: &str, body: Value) -> (u16, Value) {
    t.call(Method::PUT, path, Some(token), Some(body)).await
}

fn field(v: &Value) -> String {
    v["error"]["fields"][0]["field"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn business(t: &TestApp, name: &str, tier: i64) {
    let (s, v) = t
        .post(
            "/api/v1/business-services",
            &t.admin_token,
            json!({"name": name, "tier": tier}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
}

both_backends!(
    impact_suggests_severity_and_audiences,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        business(&t, "Checkout", 1).await;
        business(&t, "Reports", 4).await;
        let (_, path) = t.declare(&t.admin_token, "payments failing", "SEV3").await;
        let (s, empty) = t.get(&format!("{path}/impact"), &t.admin_token).await;
        assert_eq!(s, 200);
        assert_eq!(
            empty,
            json!({"business_services": [], "suggested_severity": null, "audiences": [], "customers_affected": 0})
        );
        let (s, r) = put(
            &t,
            &format!("{path}/impact"),
            &t.admin_token,
            json!({"business_services": [
            {"id": "Reports", "impact": "major_outage"},
            {"id": "Checkout", "impact": "partial_outage", "customers_affected": 1200}]}),
        )
        .await;
        assert_eq!(s, 200, "{r}");
        // Most severe first; tier 1 partial outage -> SEV2 beats tier 4 major outage -> SEV3.
        let names: Vec<&str> = r["business_services"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Reports", "Checkout"]);
        assert_eq!(r["business_services"][1]["tier"], 1);
        assert_eq!(r["business_services"][1]["customers_affected"], 1200);
        assert_eq!(r["suggested_severity"], "SEV2");
        assert_eq!(r["customers_affected"], 1200);
        let audiences = r["audiences"].as_array().unwrap();
        assert!(
            !audiences.is_empty() && audiences.iter().any(|a| a == "public"),
            "{r}"
        );
        let (_, again) = t.get(&format!("{path}/impact"), &t.admin_token).await;
        assert_eq!(again, r);
        // The change is on the timeline, with what it replaced.
        let (_, timeline) = t.get(&format!("{path}/timeline"), &t.admin_token).await;
        let ev = timeline
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == "impact_changed")
            .expect("an impact_changed event");
        assert!(
            ev["body"]
                .as_str()
                .unwrap()
                .contains("Checkout: partial_outage")
        );
        assert_eq!(ev["data"]["suggested_severity"], "SEV2");
        // Escalating Checkout to a major outage suggests SEV1; clearing empties it.
        let (_, r) = put(
            &t,
            &format!("{path}/impact"),
            &t.admin_token,
            json!({"business_services": [{"id": "Checkout", "impact": "major_outage"}]}),
        )
        .await;
        assert_eq!(r["suggested_severity"], "SEV1");
        let (s, r) = put(
            &t,
            &format!("{path}/impact"),
            &t.admin_token,
            json!({"business_services": []}),
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(r["business_services"], json!([]));
        t.stop().await;
    }
);

both_backends!(impact_refusals_name_their_field, |db: TestDb| async move {
    let t = TestApp::spawn(db).await;
    business(&t, "Checkout", 1).await;
    let (_, path) = t.declare(&t.admin_token, "x", "SEV3").await;
    let p = format!("{path}/impact");
    for (body, want) in [
        (
            json!({"business_services": [{"id": "Checkout", "impact": "down"}]}),
            "business_services[0].impact",
        ),
        (
            json!({"business_services": [{"id": "Nope", "impact": "degraded"}]}),
            "business_services[0].id",
        ),
        (
            json!({"business_services": [{"id": "Checkout", "impact": "degraded"},
                                      {"id": "Checkout", "impact": "none"}]}),
            "business_services[1].id",
        ),
        (
            json!({"business_services": [{"id": "Checkout", "impact": "degraded", "customers_affected": -1}]}),
            "business_services[0].customers_affected",
        ),
    ] {
        let (s, v) = put(&t, &p, &t.admin_token, body).await;
        assert_eq!((s, field(&v)), (422, want.to_string()), "{v}");
    }
    let (s, v) = put(
        &t,
        &p,
        &t.admin_token,
        json!({"business_services": [{"id": "Checkout"}]}),
    )
    .await;
    assert_eq!(
        (s, field(&v)),
        (422, "business_services[0].impact".to_string()),
        "{v}"
    );
    let (s, _) = put(
        &t,
        "/api/v1/incidents/999/impact",
        &t.admin_token,
        json!({"business_services": []}),
    )
    .await;
    assert_eq!(s, 404);
    let (_, viewer) = t.user("v@example.com", "Viewer", "viewer").await;
    let (s, _) = put(&t, &p, &viewer, json!({"business_services": []})).await;
    assert_eq!(s, 403);
    let (s, _) = t.get(&p, &viewer).await;
    assert_eq!(s, 200, "anyone signed in may read it");
    // Nothing was stored by the refused requests.
    let (_, r) = t.get(&p, &t.admin_token).await;
    assert_eq!(r["business_services"], json!([]));
    t.stop().await;
});

both_backends!(
    the_matrix_can_be_changed_by_admins,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        business(&t, "Search", 3).await;
        let (s, m) = t.get("/api/v1/impact-matrix", &t.admin_token).await;
        assert_eq!(s, 200);
        let cells = m["cells"].as_array().unwrap();
        assert_eq!(cells.len(), 16);
        assert!(cells.contains(&json!({"impact": "major_outage", "tier": 1, "severity": "SEV1"})));
        assert!(cells.contains(&json!({"impact": "degraded", "tier": 3, "severity": "SEV4"})));
        let (s, m) = put(
            &t,
            "/api/v1/impact-matrix",
            &t.admin_token,
            json!({"cells": [{"impact": "degraded", "tier": 3, "severity": "P2"}]}),
        )
        .await;
        assert_eq!(s, 200, "{m}");
        assert!(
            m["cells"]
                .as_array()
                .unwrap()
                .contains(&json!({"impact": "degraded", "tier": 3, "severity": "SEV2"}))
        );
        let (_, path) = t.declare(&t.admin_token, "slow search", "SEV4").await;
        let (_, r) = put(
            &t,
            &format!("{path}/impact"),
            &t.admin_token,
            json!({"business_services": [{"id": "Search", "impact": "degraded"}]}),
        )
        .await;
        assert_eq!(r["suggested_severity"], "SEV2");
        for (body, want) in [
            (
                json!({"cells": [{"impact": "degraded", "tier": 5, "severity": "SEV1"}]}),
                "cells[0].tier",
            ),
            (
                json!({"cells": [{"impact": "meh", "tier": 1, "severity": "SEV1"}]}),
                "cells[0].impact",
            ),
            (
                json!({"cells": [{"impact": "none", "tier": 1, "severity": "SEV9"}]}),
                "cells[0].severity",
            ),
            (
                json!({"cells": [{"impact": "none", "tier": 1, "severity": "SEV4"},
                          {"impact": "none", "tier": 1, "severity": "SEV3"}]}),
                "cells[1]",
            ),
        ] {
            let (s, v) = put(&t, "/api/v1/impact-matrix", &t.admin_token, body).await;
            assert_eq!((s, field(&v)), (422, want.to_string()), "{v}");
        }
        let (_, responder) = t.user("r@example.com", "R", "responder").await;
        let (s, _) = put(
            &t,
            "/api/v1/impact-matrix",
            &responder,
            json!({"cells": []}),
        )
        .await;
        assert_eq!(s, 403);
        t.stop().await;
    }
);

both_backends!(
    the_list_orders_by_impact_across_pages,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        business(&t, "Checkout", 1).await;
        let mut numbers = Vec::new();
        for (title, impact) in [
            ("a", Some("degraded")),
            ("b", None),
            ("c", Some("major_outage")),
            ("d", Some("none")),
            ("e", Some("degraded")),
            ("f", None),
        ] {
            let (inc, path) = t.declare(&t.admin_token, title, "SEV3").await;
            numbers.push(inc["number"].as_i64().unwrap());
            if let Some(impact) = impact {
                let (s, _) = put(
                    &t,
                    &format!("{path}/impact"),
                    &t.admin_token,
                    json!({"business_services": [{"id": "Checkout", "impact": impact}]}),
                )
                .await;
                assert_eq!(s, 200);
            }
        }
        let titles = |v: &Value| -> Vec<String> {
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["title"].as_str().unwrap().to_string())
                .collect()
        };
        let (s, all) = t.get("/api/v1/incidents?sort=impact", &t.admin_token).await;
        assert_eq!(s, 200, "{all}");
        let want = ["c", "e", "a", "d", "f", "b"];
        assert_eq!(titles(&all), want);
        // Page by page with the cursor gives the same order.
        let mut walked = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/incidents?sort=impact&limit=2&cursor={c}"),
                None => "/api/v1/incidents?sort=impact&limit=2".to_string(),
            };
            let (s, page) = t.get(&path, &t.admin_token).await;
            assert_eq!(s, 200, "{page}");
            walked.extend(titles(&page));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        assert_eq!(walked, want);
        let (_, by_number) = t.get("/api/v1/incidents", &t.admin_token).await;
        assert_eq!(titles(&by_number), ["f", "e", "d", "c", "b", "a"]);
        let (s, v) = t
            .get("/api/v1/incidents?sort=loudest", &t.admin_token)
            .await;
        assert_eq!((s, field(&v)), (422, "sort".to_string()));
        let (_, p1) = t.get("/api/v1/incidents?limit=1", &t.admin_token).await;
        let c = p1["next_cursor"].as_str().unwrap();
        let (s, v) = t
            .get(
                &format!("/api/v1/incidents?sort=impact&cursor={c}"),
                &t.admin_token,
            )
            .await;
        assert_eq!(
            (s, field(&v)),
            (422, "cursor".to_string()),
            "a cursor of the other sort"
        );
        let _ = numbers;
        t.stop().await;
    }
);

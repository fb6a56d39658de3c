//! Helpers shared by the delivery suites (`engine_webhook`, `engine_email`): a server
//! whose engine sends through real channels, an incident that pages one person, and
//! reads of its notifications and timeline.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::sync::Arc;
use triad_app::AppConfig;
use triad_app::delivery::DeliveryConfig;
use triad_notify::router::{Channels, NotifyConfig};
use triad_testkit::{TestApp, TestDb};

/// A Triad server whose engine delivers through real channels.
pub async fn spawn(db: TestDb, max_attempts: Option<u32>, notify: NotifyConfig) -> TestApp {
    let mut config = AppConfig::default();
    if let Some(n) = max_attempts {
        config.delivery = DeliveryConfig {
            max_attempts: n,
            ..DeliveryConfig::default()
        };
    }
    let channels = Channels::from_config(&notify).expect("channels from the notify config");
    TestApp::spawn_with(db, config, Some(Arc::new(channels))).await
}

/// A one-level escalation policy paging `user` (next level only after an hour, so no
/// exhaustion interferes), a service using it, and a SEV3 incident declared on that
/// service by the admin. Returns the incident and its API path.
pub async fn declare_paging(t: &TestApp, user: &str, title: &str) -> (Value, String) {
    let admin = &t.admin_token;
    let (st, policy) = t
        .post(
            "/api/v1/escalation-policies",
            admin,
            json!({"name": "on-call", "levels": [
                {"delay_seconds": 3600, "targets": [{"type": "user", "id": user}]}
            ], "repeat": 0}),
        )
        .await;
    assert_eq!(st, 201, "{policy}");
    let (st, svc) = t
        .post(
            "/api/v1/services",
            admin,
            json!({"name": "payments", "escalation_policy": "on-call"}),
        )
        .await;
    assert_eq!(st, 201, "{svc}");
    let (st, inc) = t
        .post(
            "/api/v1/incidents",
            admin,
            json!({"title": title, "severity": "SEV3", "service": "payments"}),
        )
        .await;
    assert_eq!(st, 201, "{inc}");
    let path = format!("/api/v1/incidents/{}", inc["number"]);
    (inc, path)
}

/// The incident's one `page` notification, as the notifications API shows it.
pub async fn the_page(t: &TestApp, path: &str) -> Value {
    let (st, list) = t
        .get(&format!("{path}/notifications"), &t.admin_token)
        .await;
    assert_eq!(st, 200, "{list}");
    let pages: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["purpose"] == "page")
        .collect();
    assert_eq!(pages.len(), 1, "expected exactly one page: {list:#}");
    pages[0].clone()
}

/// The incident's timeline events of `kind`, oldest first.
pub async fn events(t: &TestApp, path: &str, kind: &str) -> Vec<Value> {
    let (st, all) = t.get(&format!("{path}/timeline"), &t.admin_token).await;
    assert_eq!(st, 200, "{all}");
    all.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .cloned()
        .collect()
}

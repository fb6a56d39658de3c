//! Alert intake over real HTTP on both databases, in each vendor's own shapes:
//! PagerDuty Events v2 (dedup semantics, generated keys, change events), Alertmanager
//! and Grafana webhooks (grouped by groupKey, tracked by fingerprint), Opsgenie (alias
//! with a slash, request status), the generic webhook with a field mapping, per-key
//! rate limits, revoked keys, and every inbound event on the incident's timeline.

mod intake_common;

use intake_common::*;
use reqwest::Method;
use serde_json::{Value, json};
use triad_testkit::{TestApp, TestDb, both_backends};

both_backends!(pagerduty_events_v2, |db: TestDb| async move {
    let t = TestApp::spawn(db).await;
    let key = service_key(&t, "db", json!({"name": "prometheus"})).await;
    // Trigger twice with one key: one alert, one incident, counted twice.
    for _ in 0..2 {
        let (st, b, _) = send(
            &t,
            Method::POST,
            "/v2/enqueue",
            &[],
            &pd_event(&key, "trigger", Some("db-1/disk")),
        )
        .await;
        assert_eq!(st, 202, "{b}");
        assert_eq!(
            b,
            json!({"status": "success", "message": "Event processed", "dedup_key": "db-1/disk"})
        );
    }
    let list = incidents(&t).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["severity"], "SEV1");
    assert_eq!(list[0]["title"], "DiskFull on db-1");
    let n = list[0]["number"].clone();
    // Without a dedup key the server makes one and says which.
    let (st, b, _) = send(
        &t,
        Method::POST,
        "/v2/enqueue",
        &[],
        &pd_event(&key, "trigger", None),
    )
    .await;
    assert_eq!(st, 202);
    let generated = b["dedup_key"].as_str().unwrap().to_string();
    assert!(!generated.is_empty());
    assert_eq!(incidents(&t).await.len(), 2);
    // Acknowledge, then resolve: the incident follows its only alert.
    let (st, _, _) = send(
        &t,
        Method::POST,
        "/v2/enqueue",
        &[],
        &pd_event(&key, "acknowledge", Some("db-1/disk")),
    )
    .await;
    assert_eq!(st, 202);
    let (_, i) = t
        .get(&format!("/api/v1/incidents/{n}"), &t.admin_token)
        .await;
    assert_eq!(i["status"], "acknowledged", "{i}");
    // Alertmanager sends a payload with resolve; it is ignored.
    let (st, _, _) = send(
        &t,
        Method::POST,
        "/v2/enqueue",
        &[],
        &pd_event(&key, "resolve", Some("db-1/disk")),
    )
    .await;
    assert_eq!(st, 202);
    let (_, i) = t
        .get(&format!("/api/v1/incidents/{n}"), &t.admin_token)
        .await;
    assert_eq!(i["status"], "resolved", "{i}");
    // Ack or resolve of nothing open is accepted and dropped.
    let (st, b, _) = send(
        &t,
        Method::POST,
        "/v2/enqueue",
        &[],
        &json!({"routing_key": key, "event_action": "resolve", "dedup_key": "never-seen"}),
    )
    .await;
    assert_eq!((st, b["dedup_key"].as_str()), (202, Some("never-seen")));
    // After the resolve the same key opens a new incident.
    let (st, _, _) = send(
        &t,
        Method::POST,
        "/v2/enqueue",
        &[],
        &pd_event(&key, "trigger", Some("db-1/disk")),
    )
    .await;
    assert_eq!(st, 202);
    assert_eq!(incidents(&t).await.len(), 3);
    // Resolving an incident by hand resolves its alerts: the next trigger opens anew.
    let (st, _, _) = send(
        &t,
        Method::POST,
        "/v2/enqueue",
        &[],
        &pd_event(&key, "trigger", Some("cache/hit-rate")),
    )
    .await;
    assert_eq!(st, 202);
    let cache = incidents(&t).await[0]["number"].clone();
    let (st, _) = t
        .post(
            &format!("/api/v1/incidents/{cache}/resolve"),
            &t.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(st, 200);
    let (st, _, _) = send(
        &t,
        Method::POST,
        "/v2/enqueue",
        &[],
        &pd_event(&key, "trigger", Some("cache/hit-rate")),
    )
    .await;
    assert_eq!(st, 202);
    assert_ne!(incidents(&t).await[0]["number"], cache);
    assert_eq!(incidents(&t).await.len(), 5);
    // Every inbound event is on the timeline.
    let k = kinds(&t, &n).await;
    assert_eq!(k.iter().filter(|k| *k == "alert").count(), 4, "{k:?}");
    assert!(k.contains(&"acknowledged".to_string()) && k.contains(&"resolved".to_string()));
    // A change event lands on the open incidents of the service.
    let (st, b, _) = send(&t, Method::POST, "/v2/change/enqueue", &[], &json!({"routing_key": key,
        "payload": {"summary": "Deployed db v2.3", "source": "ci"}, "links": [{"href": "https://ci.example/1"}]})).await;
    assert_eq!(
        (st, &b),
        (
            202,
            &json!({"status": "success", "message": "Change event processed"})
        )
    );
    let open: Vec<Value> = incidents(&t)
        .await
        .into_iter()
        .filter(|i| i["status"] != "resolved")
        .collect();
    assert_eq!(open.len(), 3);
    for i in &open {
        assert!(
            kinds(&t, &i["number"])
                .await
                .contains(&"change".to_string())
        );
    }
    // Refusals in PagerDuty's shape: 400 with reasons, never a 5xx.
    let unknown = "u".repeat(32);
    for (body, reason) in [
        (
            json!({"routing_key": "short", "event_action": "trigger"}),
            "routing_key",
        ),
        (
            pd_event(&unknown, "trigger", None),
            "routing_key: not a known integration key",
        ),
        (
            json!({"routing_key": key, "event_action": "explode"}),
            "event_action",
        ),
        (
            json!({"routing_key": key, "event_action": "trigger", "payload": {"source": "x", "severity": "info"}}),
            "payload.summary",
        ),
        (
            json!({"routing_key": key, "event_action": "acknowledge"}),
            "dedup_key",
        ),
        (json!([1, 2]), ""),
    ] {
        let (st, b, _) = send(&t, Method::POST, "/v2/enqueue", &[], &body).await;
        assert_eq!(st, 400, "{body} → {b}");
        assert_eq!(b["status"], "invalid event");
        let errors = b["errors"].as_array().unwrap();
        assert!(
            errors.iter().any(|e| e.as_str().unwrap().contains(reason)),
            "{reason}: {b}"
        );
    }
    let huge = json!({"routing_key": key, "event_action": "trigger", "payload": {"summary": "x", "source": "y",
        "severity": "info", "custom_details": {"blob": "z".repeat(600_000)}}});
    let (st, b, _) = send(&t, Method::POST, "/v2/enqueue", &[], &huge).await;
    assert_eq!(st, 400, "{b}");
    t.stop().await;
});

fn am_alert(name: &str, instance: &str, status: &str, fp: &str) -> Value {
    json!({"status": status, "labels": {"alertname": name, "instance": instance, "severity": "warning"},
        "annotations": {"summary": format!("{name} on {instance}")},
        "startsAt": "2026-01-01T00:00:00.123456789Z",
        "endsAt": if status == "firing" { "0001-01-01T00:00:00Z" } else { "2026-01-01T00:10:00Z" },
        "generatorURL": "http://prom:9090/graph", "fingerprint": fp})
}

fn am_group(version: &str, status: &str, alerts: Vec<Value>) -> Value {
    json!({"version": version, "receiver": "triad", "status": status, "alerts": alerts,
        "groupLabels": {"alertname": "DiskFull"}, "commonLabels": {"alertname": "DiskFull"},
        "commonAnnotations": {}, "externalURL": "http://am:9093",
        "groupKey": "{}:{alertname=\"DiskFull\"}", "truncatedAlerts": 0})
}

both_backends!(
    alertmanager_and_grafana_webhooks_group_by_group_key,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let key = service_key(&t, "db", json!({})).await;
        for (format, version) in [("alertmanager", "4"), ("grafana", "1")] {
            let path = format!("/hooks/{format}/{key}");
            let two = am_group(
                version,
                "firing",
                vec![
                    am_alert(
                        "DiskFull",
                        &format!("{format}-1"),
                        "firing",
                        &format!("{format}aaaaaaaaaaaa"),
                    ),
                    am_alert(
                        "DiskFull",
                        &format!("{format}-2"),
                        "firing",
                        &format!("{format}bbbbbbbbbbbb"),
                    ),
                ],
            );
            let (st, b, _) = send(&t, Method::POST, &path, &[], &two).await;
            assert_eq!(st, 202, "{b}");
            // Re-sent on the next group flush: still the same two alerts and one incident.
            let (st, _, _) = send(&t, Method::POST, &path, &[], &two).await;
            assert_eq!(st, 202);
            let mine: Vec<Value> = incidents(&t)
                .await
                .into_iter()
                .filter(|i| i["title"].as_str().unwrap().contains(format))
                .collect();
            assert_eq!(mine.len(), 1, "{mine:?}");
            assert_eq!(mine[0]["severity"], "SEV3");
            let n = mine[0]["number"].clone();
            // One resolves: the incident stays open; then the other: it resolves.
            let one = am_group(
                version,
                "firing",
                vec![
                    am_alert(
                        "DiskFull",
                        &format!("{format}-1"),
                        "resolved",
                        &format!("{format}aaaaaaaaaaaa"),
                    ),
                    am_alert(
                        "DiskFull",
                        &format!("{format}-2"),
                        "firing",
                        &format!("{format}bbbbbbbbbbbb"),
                    ),
                ],
            );
            send(&t, Method::POST, &path, &[], &one).await;
            let (_, i) = t
                .get(&format!("/api/v1/incidents/{n}"), &t.admin_token)
                .await;
            assert_eq!(i["status"], "triggered");
            let done = am_group(
                version,
                "resolved",
                vec![am_alert(
                    "DiskFull",
                    &format!("{format}-2"),
                    "resolved",
                    &format!("{format}bbbbbbbbbbbb"),
                )],
            );
            let (st, _, _) = send(&t, Method::PUT, &path, &[], &done).await;
            assert_eq!(st, 202);
            let (_, i) = t
                .get(&format!("/api/v1/incidents/{n}"), &t.admin_token)
                .await;
            assert_eq!(i["status"], "resolved", "{i}");
            let k = kinds(&t, &n).await;
            // Two triggered, two repeated, one resolved with one repeated, the last resolved.
            assert_eq!(
                k.iter().filter(|k| *k == "alert").count(),
                2 + 2 + 2 + 1,
                "{k:?}"
            );
        }
        // Bad bodies get 400 with the reason; an unknown key is 404 (permanent: no retries).
        for body in [
            json!({"version": "4"}),
            json!({"version": "9", "groupKey": "g", "alerts": []}),
            json!("text"),
        ] {
            let (st, b, _) = send(
                &t,
                Method::POST,
                &format!("/hooks/alertmanager/{key}"),
                &[],
                &body,
            )
            .await;
            assert_eq!(st, 400, "{body}: {b}");
            assert_eq!(b["error"]["code"], "invalid_payload");
        }
        let (st, _, _) = send(
            &t,
            Method::POST,
            "/hooks/alertmanager/not-a-key",
            &[],
            &am_group("4", "firing", vec![]),
        )
        .await;
        assert_eq!(st, 404);
        let (st, _, _) = send(
            &t,
            Method::POST,
            &format!("/hooks/nagios/{key}"),
            &[],
            &json!({}),
        )
        .await;
        assert_eq!(st, 404);
        t.stop().await;
    }
);

both_backends!(opsgenie_alert_api, |db: TestDb| async move {
    let t = TestApp::spawn(db).await;
    let key = service_key(&t, "db", json!({})).await;
    let auth = format!("GenieKey {key}");
    let h = [("authorization", auth.as_str())];
    let (st, b, headers) = send(
        &t,
        Method::POST,
        "/v2/alerts",
        &h,
        &json!({"message": "db-1 disk full",
        "alias": "db-1/disk", "priority": "P1", "tags": ["db"], "details": {"disk": "/var"}}),
    )
    .await;
    assert_eq!(st, 202, "{b}");
    assert_eq!(b["result"], "Request will be processed");
    let request = b["requestId"].as_str().unwrap().to_string();
    assert_eq!(headers["x-request-id"], request.as_str());
    let (st, r, _) = send(
        &t,
        Method::GET,
        &format!("/v2/alerts/requests/{request}"),
        &h,
        &Value::Null,
    )
    .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(
        (
            r["data"]["success"].as_bool(),
            r["data"]["action"].as_str(),
            r["data"]["alias"].as_str()
        ),
        (Some(true), Some("Create"), Some("db-1/disk"))
    );
    let list = incidents(&t).await;
    assert_eq!(
        (list.len(), list[0]["severity"].as_str()),
        (1, Some("SEV1"))
    );
    let n = list[0]["number"].clone();
    // The alias arrives percent-encoded, as opsgenie-sdk sends it.
    let (st, _, _) = send(
        &t,
        Method::POST,
        "/v2/alerts/db-1%2Fdisk/notes?identifierType=alias",
        &h,
        &json!({"note": "looking", "user": "rita"}),
    )
    .await;
    assert_eq!(st, 202);
    let (st, _, _) = send(
        &t,
        Method::POST,
        "/v2/alerts/db-1%2Fdisk/acknowledge?identifierType=alias",
        &h,
        &json!({}),
    )
    .await;
    assert_eq!(st, 202);
    let (_, i) = t
        .get(&format!("/api/v1/incidents/{n}"), &t.admin_token)
        .await;
    assert_eq!(i["status"], "acknowledged");
    let (st, b, _) = send(
        &t,
        Method::POST,
        "/v2/alerts/db-1%2Fdisk/close?identifierType=alias",
        &h,
        &json!({"note": "fixed"}),
    )
    .await;
    assert_eq!(st, 202);
    let (_, r, _) = send(
        &t,
        Method::GET,
        &format!("/v2/alerts/requests/{}", b["requestId"].as_str().unwrap()),
        &h,
        &Value::Null,
    )
    .await;
    assert_eq!(r["data"]["status"], "Closed alert");
    let (_, i) = t
        .get(&format!("/api/v1/incidents/{n}"), &t.admin_token)
        .await;
    assert_eq!(i["status"], "resolved");
    // Closing again: accepted, and the request says the alert does not exist.
    let (_, b, _) = send(
        &t,
        Method::POST,
        "/v2/alerts/db-1%2Fdisk/close?identifierType=alias",
        &h,
        &json!({}),
    )
    .await;
    let (_, r, _) = send(
        &t,
        Method::GET,
        &format!("/v2/alerts/requests/{}", b["requestId"].as_str().unwrap()),
        &h,
        &Value::Null,
    )
    .await;
    assert_eq!(
        (r["data"]["success"].as_bool(), r["data"]["status"].as_str()),
        (Some(false), Some("Alert does not exist"))
    );
    // Refusals in Opsgenie's shape.
    let (st, b, _) = send(
        &t,
        Method::POST,
        "/v2/alerts",
        &[("authorization", "GenieKey nope")],
        &json!({"message": "x"}),
    )
    .await;
    assert_eq!(
        (st, b["message"].as_str()),
        (401, Some("Could not authenticate"))
    );
    let (st, b, _) = send(&t, Method::POST, "/v2/alerts", &h, &json!({"alias": "x"})).await;
    assert_eq!(st, 422, "{b}");
    assert!(
        b["errors"]["message"].as_str().unwrap().contains("message"),
        "{b}"
    );
    let (st, _, _) = send(
        &t,
        Method::POST,
        "/v2/alerts/x/acknowledge?identifierType=nickname",
        &h,
        &json!({}),
    )
    .await;
    assert_eq!(st, 422);
    t.stop().await;
});

both_backends!(
    generic_webhook_rate_limits_and_revoked_keys,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let key = service_key(&t, "shop", json!({"rate_limit_per_minute": 3, "mapping": {
        "summary": "/alert/title", "dedup_key": "/alert/id", "severity": "/alert/level", "action": "/state"}})).await;
        let path = format!("/hooks/generic/{key}");
        let fire = json!({"alert": {"id": "chk-1", "title": "Checkout failing", "level": "high"}, "state": "alerting"});
        let (st, b, _) = send(&t, Method::POST, &path, &[], &fire).await;
        assert_eq!(st, 202, "{b}");
        assert_eq!(incidents(&t).await[0]["severity"], "SEV2");
        let (st, _, _) = send(
            &t,
            Method::POST,
            &path,
            &[],
            &json!({"alert": {"id": "chk-1"}, "state": "resolved"}),
        )
        .await;
        assert_eq!(st, 202);
        assert_eq!(incidents(&t).await[0]["status"], "resolved");
        let (st, b, _) = send(&t, Method::POST, &path, &[], &json!({"alert": {}})).await;
        assert_eq!(st, 400, "{b}");
        assert!(
            b["error"]["message"]
                .as_str()
                .unwrap()
                .contains("/alert/title"),
            "{b}"
        );
        // The third accepted event in the minute is the last (a refused body does not count);
        // the next is refused with 429 and Retry-After; a minute later the key works again.
        let (st, _, _) = send(&t, Method::POST, &path, &[], &fire).await;
        assert_eq!(st, 202);
        let (st, b, headers) = send(&t, Method::POST, &path, &[], &fire).await;
        assert_eq!(st, 429, "{b}");
        assert_eq!(b["error"]["code"], "rate_limited");
        assert!(headers.contains_key("retry-after"));
        t.clock.advance_secs(60);
        let (st, _, _) = send(&t, Method::POST, &path, &[], &fire).await;
        assert_eq!(st, 202);
        // A bad mapping is refused when the key is made.
        let (st, b) = t
            .post(
                "/api/v1/services/shop/integration-keys",
                &t.admin_token,
                json!({"mapping": {"summary": "no-slash"}}),
            )
            .await;
        assert_eq!(st, 422, "{b}");
        assert_eq!(b["error"]["fields"][0]["field"], "mapping");
        // A revoked key stops working at once.
        let (_, keys) = t
            .get("/api/v1/services/shop/integration-keys", &t.admin_token)
            .await;
        assert!(keys[0].get("key").is_none(), "the key is shown once");
        let id = keys[0]["id"].as_str().unwrap();
        let (st, _) = t
            .call(
                Method::DELETE,
                &format!("/api/v1/services/shop/integration-keys/{id}"),
                Some(&t.admin_token),
                None,
            )
            .await;
        assert_eq!(st, 204);
        let (st, _, _) = send(&t, Method::POST, &path, &[], &fire).await;
        assert_eq!(st, 404);
        let (st, b, _) = send(
            &t,
            Method::POST,
            "/v2/enqueue",
            &[],
            &pd_event(&key, "trigger", None),
        )
        .await;
        assert_eq!(st, 400, "{b}");
        t.stop().await;
    }
);

both_backends!(
    alert_events_reach_the_chat_mirror,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let key = service_key(&t, "db", json!({})).await;
        let (st, _) = t
            .call(
                Method::PATCH,
                "/api/v1/services/db",
                Some(&t.admin_token),
                Some(json!({"chat_webhook": "http://chat.invalid/db"})),
            )
            .await;
        assert_eq!(st, 200);
        for _ in 0..3 {
            let (st, _, _) = send(
                &t,
                Method::POST,
                "/v2/enqueue",
                &[],
                &pd_event(&key, "trigger", Some("db-1/disk")),
            )
            .await;
            assert_eq!(st, 202);
        }
        t.tick().await;
        let text: String = t
            .recorder
            .to("http://chat.invalid/db")
            .iter()
            .map(|s| s.message.text.clone())
            .collect();
        assert!(text.contains("triggered via pagerduty"), "{text}");
        assert!(
            text.contains("triggered again (2 times)")
                && text.contains("triggered again (3 times)"),
            "{text}"
        );
        t.stop().await;
    }
);

//! The real clients against Triad, on both databases: Debian's Alertmanager 0.25 pointed
//! at the webhook and at `/v2/enqueue` (a `pagerduty_configs` entry with `routing_key`
//! and `url`), Python `pdpyras` 5.4 and `opsgenie-sdk` 2.1.5. `.ci/run` installs them.
//! The waits poll for what an external process sent, with a bounded deadline; none
//! waits for a Triad timer.

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use triad_testkit::{Alertmanager, TestApp, TestDb, both_backends, run_python_ok};

async fn key_for(t: &TestApp, service: &str) -> String {
    let (st, _) = t
        .post("/api/v1/services", &t.admin_token, json!({"name": service}))
        .await;
    assert_eq!(st, 201);
    let (st, k) = t
        .post(
            &format!("/api/v1/services/{service}/integration-keys"),
            &t.admin_token,
            json!({"name": service}),
        )
        .await;
    assert_eq!(st, 201, "{k}");
    k["key"].as_str().unwrap().to_string()
}

/// The service's incidents (the list names the service by id).
async fn incidents_of(t: &TestApp, service: &str) -> Vec<Value> {
    let (_, s) = t
        .get(&format!("/api/v1/services/{service}"), &t.admin_token)
        .await;
    let (_, list) = t.get("/api/v1/incidents", &t.admin_token).await;
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["service_id"] == s["id"])
        .cloned()
        .collect()
}

/// Polls (at most 30 s) until `service` has exactly one incident in `status`.
async fn wait_for_one(t: &TestApp, am: &Alertmanager, service: &str, status: &str) -> Value {
    let started = Instant::now();
    loop {
        let list = incidents_of(t, service).await;
        if list.len() == 1 && list[0]["status"] == status {
            return list[0].clone();
        }
        assert!(
            list.len() <= 1,
            "{service}: more than one incident: {list:#?}"
        );
        if started.elapsed() > Duration::from_secs(30) {
            panic!(
                "{service}: no single {status} incident within 30 s: {list:#?}\n{}",
                am.log()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

both_backends!(
    alertmanager_webhook_and_pagerduty_receiver,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let hook_key = key_for(&t, "via-webhook").await;
        let pd_key = key_for(&t, "via-pagerduty").await;
        let config = format!(
            "route:
  receiver: triad
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: triad
    webhook_configs:
      - url: {base}/hooks/alertmanager/{hook_key}
        send_resolved: true
    pagerduty_configs:
      - routing_key: {pd_key}
        url: {base}/v2/enqueue
        send_resolved: true
        severity: critical
",
            base = t.base
        );
        let am = tokio::task::spawn_blocking(move || Alertmanager::start(&config))
            .await
            .unwrap();
        let labels = json!({"alertname": "DiskFull", "instance": "db-1", "severity": "critical"});
        let alert =
            json!([{"labels": labels, "annotations": {"summary": "Disk almost full on db-1"}}]);
        let pushed = alert.clone();
        let am = tokio::task::spawn_blocking(move || {
            am.push(&pushed);
            am
        })
        .await
        .unwrap();
        let hooked = wait_for_one(&t, &am, "via-webhook", "triggered").await;
        let paged = wait_for_one(&t, &am, "via-pagerduty", "triggered").await;
        assert_eq!(hooked["title"], "Disk almost full on db-1");
        assert_eq!(hooked["severity"], "SEV1");
        assert!(
            paged["title"].as_str().unwrap().contains("DiskFull"),
            "{paged}"
        );
        assert_eq!(paged["severity"], "SEV1");
        // Resolved at Alertmanager: both incidents resolve, still one each.
        let am = tokio::task::spawn_blocking(move || {
            am.resolve(&labels);
            am
        })
        .await
        .unwrap();
        wait_for_one(&t, &am, "via-webhook", "resolved").await;
        wait_for_one(&t, &am, "via-pagerduty", "resolved").await;
        let (_, timeline) = t
            .get(
                &format!("/api/v1/incidents/{}/timeline", hooked["number"]),
                &t.admin_token,
            )
            .await;
        let alerts: Vec<&Value> = timeline
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "alert")
            .collect();
        assert!(alerts.len() >= 2, "triggered and resolved: {timeline:#}");
        assert_eq!(alerts[0]["data"]["format"], "alertmanager");
        drop(am);
        t.stop().await;
    }
);

/// pdpyras: two triggers with one key, acknowledge, resolve, and a trigger without a key
/// (the server's key comes back). `session.url` is the Events API base.
const PDPYRAS: &str = r#"
import json, sys, pdpyras
session = pdpyras.EventsAPISession(sys.argv[2])
session.url = sys.argv[1]
session.retry[429] = 1
out = {}
out["first"] = session.trigger("Checkout failing", "web-1", dedup_key="checkout/5xx", severity="error")
out["second"] = session.trigger("Checkout failing", "web-1", dedup_key="checkout/5xx", severity="error")
out["ack"] = session.acknowledge("checkout/5xx")
out["resolve"] = session.resolve("checkout/5xx")
out["generated"] = session.trigger("Queue backlog", "worker-2", severity="warning")
print(json.dumps(out))
"#;

both_backends!(
    pdpyras_trigger_acknowledge_resolve,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let key = key_for(&t, "web").await;
        let base = t.base.clone();
        let out =
            tokio::task::spawn_blocking(move || run_python_ok("pdpyras", PDPYRAS, &[&base, &key]))
                .await
                .unwrap();
        let got: Value = serde_json::from_str(&out).unwrap();
        for step in ["first", "second", "ack", "resolve"] {
            assert_eq!(got[step], "checkout/5xx", "{step}: {got}");
        }
        let generated = got["generated"].as_str().unwrap();
        assert!(
            !generated.is_empty() && generated != "checkout/5xx",
            "{got}"
        );
        let list = incidents_of(&t, "web").await;
        assert_eq!(
            list.len(),
            2,
            "one alert for the two triggers, one for the keyless: {list:#?}"
        );
        let checkout = list
            .iter()
            .find(|i| i["title"] == "Checkout failing")
            .unwrap();
        assert_eq!(checkout["status"], "resolved");
        assert_eq!(checkout["severity"], "SEV2");
        let backlog = list.iter().find(|i| i["title"] == "Queue backlog").unwrap();
        assert_eq!(
            (backlog["status"].as_str(), backlog["severity"].as_str()),
            (Some("triggered"), Some("SEV3"))
        );
        t.stop().await;
    }
);

/// opsgenie-sdk: create, acknowledge and close by an alias containing `/`; then read
/// the create request's status.
const OPSGENIE: &str = r#"
import json, sys, opsgenie_sdk
conf = opsgenie_sdk.configuration.Configuration()
conf.host = sys.argv[1]
conf.api_key["Authorization"] = sys.argv[2]
conf.retry_count = 1
api = opsgenie_sdk.AlertApi(api_client=opsgenie_sdk.api_client.ApiClient(configuration=conf))
created = api.create_alert(create_alert_payload=opsgenie_sdk.CreateAlertPayload(
    message="Disk almost full on db-1", alias="db-1/disk", priority="P2",
    tags=["disk"], details={"free": "3%"}, source="prometheus"))
acked = api.acknowledge_alert(identifier="db-1/disk", identifier_type="alias",
    acknowledge_alert_payload=opsgenie_sdk.AcknowledgeAlertPayload(user="ada", note="on it"))
closed = api.close_alert(identifier="db-1/disk", identifier_type="alias",
    close_alert_payload=opsgenie_sdk.CloseAlertPayload(note="fixed"))
status = api.get_request_status(request_id=created.request_id)
print(json.dumps({"create": created.request_id, "ack": acked.request_id, "close": closed.request_id,
                  "status": {"success": status.data.is_success, "action": status.data.action,
                             "alias": status.data.alias, "alert_id": status.data.alert_id}}))
"#;

both_backends!(
    opsgenie_sdk_create_acknowledge_close,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let key = key_for(&t, "db").await;
        let base = t.base.clone();
        let out = tokio::task::spawn_blocking(move || {
            run_python_ok("opsgenie_sdk", OPSGENIE, &[&base, &key])
        })
        .await
        .unwrap();
        let got: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(got["status"]["success"], true, "{got}");
        assert_eq!(got["status"]["action"], "Create");
        assert_eq!(got["status"]["alias"], "db-1/disk");
        assert!(got["status"]["alert_id"].is_string());
        let list = incidents_of(&t, "db").await;
        assert_eq!(list.len(), 1, "{list:#?}");
        assert_eq!(
            (list[0]["status"].as_str(), list[0]["severity"].as_str()),
            (Some("resolved"), Some("SEV2"))
        );
        let (_, timeline) = t
            .get(
                &format!("/api/v1/incidents/{}/timeline", list[0]["number"]),
                &t.admin_token,
            )
            .await;
        let kinds: Vec<&str> = timeline
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert!(
            kinds.contains(&"acknowledged") && kinds.contains(&"resolved"),
            "{kinds:?}"
        );
        t.stop().await;
    }
);

//! Proves the third-party client harness against the recording [`Sink`]: a real
//! Alertmanager notifying a webhook and PagerDuty Events v2, pdpyras sending an event,
//! and opsgenie-sdk creating and acknowledging an alert. Nothing here involves Triad's
//! timers: the waits poll what an external process sent, with a bounded deadline.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};
use triad_testkit::{Alertmanager, Hit, ManualClock, Sink, T0, reply, run_python_ok};

const ROUTING_KEY: &str = "0123456789abcdef0123456789abcdef";

/// What PagerDuty's Events API answers to an accepted event.
const PD_ACCEPTED: &str =
    r#"{"status":"success","message":"Event processed","dedup_key":"db-1/disk"}"#;

/// Waits (at most 20 s) until `sink` has a hit matching `want`; returns it. Shows
/// everything the sink got, and Alertmanager's log, when none came.
async fn wait_for(
    sink: &Sink,
    am: Option<&Alertmanager>,
    what: &str,
    want: impl Fn(&Hit) -> bool,
) -> Hit {
    let started = Instant::now();
    loop {
        if let Some(hit) = sink.hits().into_iter().find(|h| want(h)) {
            return hit;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let got: Vec<String> = sink
                .hits()
                .iter()
                .map(|h| {
                    format!(
                        "{} {} {}",
                        h.method,
                        h.path,
                        String::from_utf8_lossy(&h.body)
                    )
                })
                .collect();
            panic!(
                "no {what} within 20 s; the sink got {got:#?}\n{}",
                am.map(Alertmanager::log).unwrap_or_default()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn sha256_hex(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alertmanager_notifies_a_webhook_and_pagerduty_then_resolves() {
    let sink = Sink::start(ManualClock::new(T0), |_| reply(202, PD_ACCEPTED)).await;
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
      - url: {sink}/hooks/alertmanager/k3y
        send_resolved: true
    pagerduty_configs:
      - routing_key: {ROUTING_KEY}
        url: {sink}/v2/enqueue
        send_resolved: true
",
        sink = sink.url
    );
    let am = tokio::task::spawn_blocking(move || Alertmanager::start(&config))
        .await
        .unwrap();
    assert!(am.base.starts_with("http://127.0.0.1:"), "{}", am.base);

    let labels = json!({"alertname": "DiskFull", "instance": "db-1", "severity": "critical"});
    am.push(&json!([{
        "labels": labels,
        "annotations": {"summary": "Disk almost full on db-1"},
        "generatorURL": "http://prometheus.test/graph?g0.expr=disk",
    }]));
    let fingerprint = am.alerts()[0]["fingerprint"].as_str().unwrap().to_string();

    let is_webhook = |status: &'static str| {
        move |h: &Hit| h.path == "/hooks/alertmanager/k3y" && h.json()["status"] == status
    };
    let is_pd = |action: &'static str| {
        move |h: &Hit| h.path == "/v2/enqueue" && h.json()["event_action"] == action
    };

    let hook = wait_for(&sink, Some(&am), "firing webhook", is_webhook("firing")).await;
    let body = hook.json();
    eprintln!("webhook headers {:?}\nwebhook body {body:#}", hook.headers);
    assert_eq!(hook.method, "POST");
    assert_eq!(hook.header("content-type"), Some("application/json"));
    assert_eq!(hook.header("user-agent"), Some("Alertmanager/0.25.0"));
    assert_eq!(
        hook.body.last(),
        Some(&b'\n'),
        "Go's json.Encoder ends the body"
    );
    assert_eq!(body["version"], "4");
    assert_eq!(body["receiver"], "triad");
    assert_eq!(body["externalURL"], am.base.as_str());
    let group_key = body["groupKey"].as_str().unwrap().to_string();
    assert_eq!(group_key, r#"{}:{alertname="DiskFull"}"#);
    assert_eq!(body["groupLabels"], json!({"alertname": "DiskFull"}));
    let alert = &body["alerts"][0];
    assert_eq!(alert["status"], "firing");
    assert_eq!(alert["labels"], labels);
    assert_eq!(alert["fingerprint"], fingerprint.as_str());
    assert_eq!(fingerprint.len(), 16, "{fingerprint}");
    assert_eq!(alert["endsAt"], "0001-01-01T00:00:00Z");

    let trigger = wait_for(&sink, Some(&am), "PagerDuty trigger", is_pd("trigger")).await;
    let event = trigger.json();
    eprintln!(
        "pagerduty headers {:?}\npagerduty body {event:#}",
        trigger.headers
    );
    assert_eq!(trigger.header("content-type"), Some("application/json"));
    assert_eq!(event["routing_key"], ROUTING_KEY);
    assert_eq!(event["dedup_key"], sha256_hex(&group_key));
    assert_eq!(
        event["client_url"],
        format!("{}/#/alerts?receiver=triad", am.base)
    );
    assert!(event.get("timestamp").is_none() && event["payload"].get("timestamp").is_none());
    assert!(
        event["payload"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("[FIRING:1] DiskFull"),
        "{event}"
    );

    // Resolved: pushed again with endsAt = the startsAt Alertmanager gave it.
    am.resolve(&labels);
    let hook = wait_for(&sink, Some(&am), "resolved webhook", is_webhook("resolved")).await;
    let body = hook.json();
    eprintln!("resolved webhook body {body:#}");
    assert_eq!(body["groupKey"], group_key.as_str());
    assert_eq!(body["alerts"][0]["status"], "resolved");
    assert_eq!(body["alerts"][0]["fingerprint"], fingerprint.as_str());
    let resolve = wait_for(&sink, Some(&am), "PagerDuty resolve", is_pd("resolve")).await;
    let event = resolve.json();
    eprintln!("pagerduty resolve body {event:#}");
    assert_eq!(event["routing_key"], ROUTING_KEY);
    assert_eq!(event["dedup_key"], sha256_hex(&group_key));
}

#[test]
fn alertmanager_that_cannot_start_panics_with_its_log() {
    let panic = std::panic::catch_unwind(|| Alertmanager::start("route: {receiver: nobody}\n"))
        .err()
        .expect("a config naming an undefined receiver is rejected");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("Alertmanager exited with"), "{message}");
    assert!(message.contains("nobody"), "the log is shown: {message}");
}

/// pdpyras 5.4: `session.url` is the Events API *base*; it posts to `<url>/v2/enqueue`
/// and returns the `dedup_key` of the 202 body.
const PDPYRAS_TRIGGER: &str = r#"
import json, sys, pdpyras
session = pdpyras.EventsAPISession(sys.argv[2])
session.url = sys.argv[1]
session.retry[429] = 1  # pdpyras retries 429 forever unless told otherwise
key = session.trigger(
    "Disk almost full on db-1", "db-1", dedup_key="db-1/disk", severity="critical",
    custom_details={"free": "3%"}, links=[{"href": "http://runbooks.test/disk", "text": "Runbook"}],
)
print(json.dumps({"dedup_key": key}))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pdpyras_sends_an_event() {
    let sink = Sink::start(ManualClock::new(T0), |_| reply(202, PD_ACCEPTED)).await;
    let url = sink.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        run_python_ok("pdpyras", PDPYRAS_TRIGGER, &[&url, ROUTING_KEY])
    })
    .await
    .unwrap();
    let printed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(printed["dedup_key"], "db-1/disk");

    let hits = sink.hits();
    assert_eq!(hits.len(), 1, "{hits:?}");
    let hit = &hits[0];
    eprintln!(
        "pdpyras headers {:?}\npdpyras body {:#}",
        hit.headers,
        hit.json()
    );
    assert_eq!(
        (hit.method.as_str(), hit.path.as_str()),
        ("POST", "/v2/enqueue")
    );
    assert_eq!(hit.header("content-type"), Some("application/json"));
    assert!(hit.header("user-agent").unwrap().starts_with("pdpyras/5.4"));
    assert_eq!(hit.header("authorization"), None);
    assert_eq!(
        hit.json(),
        json!({
            "event_action": "trigger",
            "routing_key": ROUTING_KEY,
            "dedup_key": "db-1/disk",
            "payload": {
                "summary": "Disk almost full on db-1",
                "source": "db-1",
                "severity": "critical",
                "custom_details": {"free": "3%"},
            },
            "links": [{"href": "http://runbooks.test/disk", "text": "Runbook"}],
        })
    );
}

/// opsgenie-sdk 2.1.5: `Configuration.host` is the API base; the alias goes into the
/// path percent-encoded (no character is safe).
const OPSGENIE_CREATE_AND_ACK: &str = r#"
import json, sys, opsgenie_sdk
conf = opsgenie_sdk.configuration.Configuration()
conf.host = sys.argv[1]
conf.api_key["Authorization"] = sys.argv[2]
conf.retry_count = 1  # the SDK's tenacity retry waits up to 30 s between tries
api = opsgenie_sdk.AlertApi(api_client=opsgenie_sdk.api_client.ApiClient(configuration=conf))
created = api.create_alert(create_alert_payload=opsgenie_sdk.CreateAlertPayload(
    message="Disk almost full on db-1", alias="db-1/disk", description="3% free",
    responders=[{"name": "SRE", "type": "team"}], tags=["disk"], details={"free": "3%"},
    entity="db-1", source="prometheus", priority="P1",
))
acked = api.acknowledge_alert(
    identifier="db-1/disk", identifier_type="alias",
    acknowledge_alert_payload=opsgenie_sdk.AcknowledgeAlertPayload(user="ada@example.com", note="on it"),
)
print(json.dumps({r: {"result": o.result, "took": o.took, "request_id": o.request_id}
                  for r, o in (("create", created), ("ack", acked))}))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opsgenie_sdk_creates_and_acknowledges_by_alias() {
    let sink = Sink::start(ManualClock::new(T0), |n| {
        reply(
            202,
            &format!(
                r#"{{"result":"Request will be processed","took":0.1,"requestId":"req-{n}"}}"#
            ),
        )
    })
    .await;
    let url = sink.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        run_python_ok(
            "opsgenie_sdk",
            OPSGENIE_CREATE_AND_ACK,
            &[&url, "genie-key-1"],
        )
    })
    .await
    .unwrap();
    let printed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(printed["create"]["request_id"], "req-0");
    assert_eq!(printed["create"]["result"], "Request will be processed");
    assert_eq!(printed["ack"]["request_id"], "req-1");

    let hits = sink.hits();
    assert_eq!(hits.len(), 2, "{hits:?}");
    for hit in &hits {
        eprintln!(
            "opsgenie {} {} headers {:?}\nbody {:#}",
            hit.method,
            hit.path,
            hit.headers,
            hit.json()
        );
        assert_eq!(hit.method, "POST");
        assert_eq!(hit.header("authorization"), Some("GenieKey genie-key-1"));
        assert_eq!(hit.header("content-type"), Some("application/json"));
    }
    assert_eq!(hits[0].path, "/v2/alerts");
    let create = hits[0].json();
    assert_eq!(create["message"], "Disk almost full on db-1");
    assert_eq!(create["alias"], "db-1/disk");
    assert_eq!(
        create["responders"],
        json!([{"name": "SRE", "type": "team"}])
    );
    assert_eq!(create["priority"], "P1");
    assert_eq!(
        hits[1].path,
        "/v2/alerts/db-1%2Fdisk/acknowledge?identifierType=alias"
    );
    assert_eq!(
        hits[1].json(),
        json!({"user": "ada@example.com", "note": "on it"})
    );
}

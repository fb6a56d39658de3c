//! Tests for the Alertmanager / Grafana webhook parser, with bodies shaped like the
//! captures in protocols.md §2.3 and Grafana's documented payload (§2.4).

use super::*;
use serde_json::json;
use triad_domain::severity::Severity;

fn am_body() -> Value {
    json!({
        "receiver": "triad",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "DiskFull", "env": "prod", "instance": "db-2:9100",
                    "job": "node", "severity": "critical"},
                "annotations": {"summary": "Disk almost full on db-2",
                    "description": "/ is 97% full"},
                "startsAt": "2024-05-01T12:00:00.123456789Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://vm:19090/graph?g0.expr=node_filesystem_avail_bytes",
                "fingerprint": "1a2b3c4d5e6f7a8b"
            },
            {
                "status": "resolved",
                "labels": {"alertname": "DiskFull", "env": "prod", "instance": "db-1:9100",
                    "job": "node", "severity": "critical"},
                "annotations": {"summary": "Disk almost full on db-1"},
                "startsAt": "2024-05-01T11:00:00Z",
                "endsAt": "2024-05-01T11:55:00Z",
                "generatorURL": "",
                "fingerprint": "8b7a6f5e4d3c2b1a"
            }
        ],
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": {"alertname": "DiskFull", "env": "prod", "job": "node",
            "severity": "critical"},
        "commonAnnotations": {},
        "externalURL": "http://vm:19093",
        "version": "4",
        "groupKey": "{}:{alertname=\"DiskFull\"}",
        "truncatedAlerts": 0
    })
}

fn grafana_body() -> Value {
    json!({
        "receiver": "triad",
        "status": "firing",
        "orgId": 1,
        "alerts": [{
            "status": "firing",
            "labels": {"alertname": "High CPU", "grafana_folder": "Infra", "instance": "web-1"},
            "annotations": {"description": "\nCPU above 90% for 5m\nsee runbook",
                "runbook_url": "https://wiki/cpu"},
            "startsAt": "2024-05-01T14:00:00+02:00",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://grafana:3000/alerting/grafana/abc/view?orgId=1",
            "fingerprint": "c6eadffa33fcdf37",
            "silenceURL": "http://grafana:3000/alerting/silence/new?matcher=alertname%3DHigh+CPU",
            "dashboardURL": "http://grafana:3000/d/abc?orgId=1",
            "panelURL": "http://grafana:3000/d/abc?orgId=1&viewPanel=2",
            "imageURL": "",
            "values": {"B": 95.2, "C": 1},
            "valueString": "[ var='B' labels={instance=web-1} value=95.2 ]"
        }],
        "groupLabels": {"alertname": "High CPU"},
        "commonLabels": {"alertname": "High CPU", "grafana_folder": "Infra", "instance": "web-1"},
        "commonAnnotations": {},
        "externalURL": "http://grafana:3000/",
        "version": "1",
        "groupKey": "{}/{alertname=\"High CPU\"}:{alertname=\"High CPU\"}",
        "truncatedAlerts": 0,
        "title": "[FIRING:1] High CPU (Infra web-1)",
        "state": "alerting",
        "message": "**Firing**\n\nValue: B=95.2"
    })
}

fn parse(body: &Value, format: Format) -> Result<Vec<AlertEvent>, Rejection> {
    // Go's json.Encoder ends the body with a newline.
    parse_webhook(format!("{body}\n").as_bytes(), format)
}

fn alert_with(alert: Value) -> Value {
    json!({"version": "4", "groupKey": "{}:{}", "alerts": [alert]})
}

#[test]
fn alertmanager_v4_firing_and_resolved() {
    let events = parse(&am_body(), Format::Alertmanager).unwrap();
    assert_eq!(events.len(), 2);
    let (firing, resolved) = (&events[0], &events[1]);
    assert_eq!(firing.format, Format::Alertmanager);
    assert_eq!(firing.action, Action::Trigger);
    assert_eq!(resolved.action, Action::Resolve);
    assert_eq!(firing.dedup_key.as_deref(), Some("1a2b3c4d5e6f7a8b"));
    assert_eq!(resolved.dedup_key.as_deref(), Some("8b7a6f5e4d3c2b1a"));
    for e in &events {
        assert_eq!(e.group_key.as_deref(), Some("{}:{alertname=\"DiskFull\"}"));
        assert_eq!(e.severity, Some(Severity::Sev1));
    }
    assert_eq!(firing.summary.as_deref(), Some("Disk almost full on db-2"));
    assert_eq!(firing.source.as_deref(), Some("db-2:9100"));
    assert_eq!(firing.occurred_at, Some(1_714_564_800_123));
    assert_eq!(resolved.occurred_at, Some(1_714_561_200_000));
    assert_eq!(
        firing.details,
        json!({
            "labels": {"alertname": "DiskFull", "env": "prod", "instance": "db-2:9100",
                "job": "node", "severity": "critical"},
            "annotations": {"summary": "Disk almost full on db-2", "description": "/ is 97% full"},
            "status": "firing",
            "endsAt": "0001-01-01T00:00:00Z",
            "receiver": "triad",
            "externalURL": "http://vm:19093",
            "groupLabels": {"alertname": "DiskFull"},
            "truncatedAlerts": 0
        })
    );
    assert_eq!(resolved.details["status"], "resolved");
    assert_eq!(resolved.details["endsAt"], "2024-05-01T11:55:00Z");
    assert_eq!(
        firing.links,
        [Link {
            href: "http://vm:19090/graph?g0.expr=node_filesystem_avail_bytes".into(),
            text: Some("Source".into())
        }]
    );
    assert!(
        resolved.links.is_empty(),
        "empty generatorURL gives no link"
    );
}

#[test]
fn grafana_v1_with_org_values_and_urls() {
    let events = parse(&grafana_body(), Format::Grafana).unwrap();
    let [e] = events.as_slice() else {
        panic!("one alert expected: {events:?}")
    };
    assert_eq!(e.format, Format::Grafana);
    assert_eq!(e.action, Action::Trigger);
    assert_eq!(e.dedup_key.as_deref(), Some("c6eadffa33fcdf37"));
    assert_eq!(e.summary.as_deref(), Some("CPU above 90% for 5m"));
    assert_eq!(e.source.as_deref(), Some("web-1"));
    assert_eq!(e.severity, None);
    assert_eq!(e.occurred_at, Some(1_714_564_800_000));
    assert_eq!(e.details["orgId"], 1);
    assert_eq!(e.details["values"], json!({"B": 95.2, "C": 1}));
    assert_eq!(
        e.details["valueString"],
        "[ var='B' labels={instance=web-1} value=95.2 ]"
    );
    assert!(e.details.get("message").is_none());
    let texts: Vec<_> = e.links.iter().filter_map(|l| l.text.as_deref()).collect();
    assert_eq!(texts, ["Source", "Silence", "Dashboard", "Panel"]);
    assert_eq!(e.links[2].href, "http://grafana:3000/d/abc?orgId=1");
}

#[test]
fn either_version_on_either_route() {
    for format in [Format::Alertmanager, Format::Grafana] {
        assert_eq!(parse(&am_body(), format).unwrap()[0].format, format);
        assert_eq!(parse(&grafana_body(), format).unwrap()[0].format, format);
    }
}

#[test]
fn empty_alerts_is_nothing_to_do() {
    let body = json!({"version": "4", "groupKey": "{}:{}", "alerts": [], "status": "resolved"});
    assert_eq!(parse(&body, Format::Alertmanager), Ok(vec![]));
}

#[test]
fn summary_fallbacks() {
    let cases = [
        (
            json!({"summary": "S", "title": "T", "description": "D"}),
            "S",
        ),
        (
            json!({"summary": "  ", "title": "T\nmore", "description": "D"}),
            "T",
        ),
        (json!({"description": "\n\n  first  \nsecond"}), "first"),
        (json!({"runbook_url": "x"}), "DiskFull"),
    ];
    for (annotations, want) in cases {
        let alert = json!({"status": "firing", "labels": {"alertname": "DiskFull"},
            "annotations": annotations});
        let events = parse(&alert_with(alert), Format::Alertmanager).unwrap();
        assert_eq!(events[0].summary.as_deref(), Some(want), "{annotations}");
    }
    let bare = json!({"status": "firing", "labels": {"alertname": ""}});
    let events = parse(&alert_with(bare), Format::Alertmanager).unwrap();
    assert_eq!(events[0].summary.as_deref(), Some("alert"));
}

#[test]
fn long_text_is_cut_by_characters_never_refused() {
    let alert = json!({"status": "firing", "labels": {"a": "b"},
        "annotations": {"summary": "ж".repeat(5000)}});
    let events = parse(&alert_with(alert), Format::Alertmanager).unwrap();
    let summary = events[0].summary.clone().unwrap();
    assert_eq!(summary.chars().count(), MAX_SUMMARY);
    assert!(summary.ends_with('…'));
}

#[test]
fn severity_source_and_fallback_dedup_key() {
    let alert = json!({"status": "firing", "labels": {"priority": "P2", "job": "api",
        "severity": "unknown"}, "generatorURL": "http://prom/graph"});
    let e = &parse(&alert_with(alert), Format::Alertmanager).unwrap()[0];
    assert_eq!(e.severity, Some(Severity::Sev2));
    assert_eq!(e.source.as_deref(), Some("api"));

    let alert = json!({"status": "firing", "labels": {"x": "1"}, "generatorURL": "http://prom/g"});
    let e = &parse(&alert_with(alert), Format::Alertmanager).unwrap()[0];
    assert_eq!(e.source.as_deref(), Some("http://prom/g"));

    let mut body = alert_with(json!({"status": "resolved", "labels": {"b": "2", "a": "1"},
        "fingerprint": ""}));
    body["externalURL"] = json!("http://vm:19093");
    let e = &parse(&body, Format::Alertmanager).unwrap()[0];
    assert_eq!(e.source.as_deref(), Some("http://vm:19093"));
    let key = e.dedup_key.clone().unwrap();
    assert_eq!(key.len(), 16);
    assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(key, label_digest(&[("a", "1"), ("b", "2")]));
}

#[test]
fn label_digest_is_fnv1a_and_unambiguous() {
    assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
    assert_ne!(label_digest(&[("a", "bc")]), label_digest(&[("ab", "c")]));
    assert_ne!(
        label_digest(&[("a", "1"), ("b", "2")]),
        label_digest(&[("a", "1b2")])
    );
    // Same labels in a different JSON order: same key.
    let one = alert_with(json!({"status": "firing", "labels": {"z": "1", "a": "2"}}));
    let two = r#"{"version":"4","groupKey":"{}:{}","alerts":[{"status":"firing","labels":{"a":"2","z":"1"}}]}"#;
    assert_eq!(
        parse(&one, Format::Alertmanager).unwrap()[0].dedup_key,
        parse_webhook(two.as_bytes(), Format::Alertmanager).unwrap()[0].dedup_key
    );
}

#[test]
fn malformed_webhooks() {
    let alert = |a: Value| alert_with(a);
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({}),
            vec![
                "version: is required",
                "groupKey: is required",
                "alerts: is required",
            ],
        ),
        (
            json!({"version": "3", "groupKey": "k", "alerts": []}),
            vec!["version: must be \"4\" (Alertmanager) or \"1\" (Grafana)"],
        ),
        (
            json!({"version": 4, "groupKey": 1, "alerts": {}}),
            vec![
                "version: must be a string (got number)",
                "groupKey: must be a string (got number)",
                "alerts: must be an array (got object)",
            ],
        ),
        (
            json!({"version": "4", "groupKey": "", "alerts": [], "externalURL": 5}),
            vec![
                "groupKey: must not be empty",
                "externalURL: must be a string (got number)",
            ],
        ),
        (
            json!({"version": "1", "groupKey": "k", "alerts": ["firing", {}]}),
            vec![
                "alerts[0]: must be an object (got string)",
                "alerts[1].status: is required",
                "alerts[1].labels: is required",
            ],
        ),
        (
            alert(json!({"status": "pending", "labels": ["a"]})),
            vec![
                "alerts[0].status: must be firing or resolved",
                "alerts[0].labels: must be an object (got array)",
            ],
        ),
        (
            alert(json!({"status": true, "labels": {"a": 1, "b": "x"}})),
            vec![
                "alerts[0].status: must be a string (got boolean)",
                "alerts[0].labels.a: must be a string (got number)",
            ],
        ),
        (
            alert(json!({"status": "firing", "labels": {}, "startsAt": "2024-05-01"})),
            vec!["alerts[0].startsAt: must be an RFC 3339 timestamp"],
        ),
        (
            alert(json!({"status": "firing", "labels": {}, "annotations": "x",
                "fingerprint": "f".repeat(513), "generatorURL": 1})),
            vec![
                "alerts[0].annotations: must be an object (got string)",
                "alerts[0].fingerprint: must be at most 512 characters",
                "alerts[0].generatorURL: must be a string (got number)",
            ],
        ),
        (
            alert(json!({"status": "firing", "labels": {}, "annotations": {"summary": ["s"]}})),
            vec!["alerts[0].annotations.summary: must be a string (got array)"],
        ),
        (json!([]), vec!["body: must be a JSON object (got array)"]),
    ];
    for (body, want) in cases {
        let got = parse(&body, Format::Alertmanager).unwrap_err().reasons;
        assert_eq!(got, want, "{body}");
    }
    let raw: [(&[u8], &str); 3] = [
        (b"", "body: is empty (a JSON object is required)"),
        (b"{\"version\":\"4\xff\"}", "body: is not valid UTF-8"),
        (
            b"{\"version\":\"4\",}",
            "body: is not valid JSON (line 1, column 16)",
        ),
    ];
    for (body, want) in raw {
        let got = parse_webhook(body, Format::Grafana).unwrap_err().reasons;
        assert_eq!(got, [want], "{body:?}");
    }
}

//! Tests for the PagerDuty Events v2 parsers, with bodies shaped like the real clients'.

use super::*;
use crate::Link;
use serde_json::json;

const KEY: &str = "R0123456789abcdef0123456789abcde";
const AM_DEDUP: &str = "3f0c8c2e2d8b5e1f6b7a0d4c9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f";

fn enqueue(body: serde_json::Value) -> Result<Enqueue, Rejection> {
    parse_enqueue(body.to_string().as_bytes())
}

fn reasons(result: Result<impl std::fmt::Debug, Rejection>) -> Vec<String> {
    result.unwrap_err().reasons
}

#[test]
fn pdpyras_trigger_without_dedup_key() {
    // pdpyras 5.4 EventsAPISession.trigger(summary, source, severity=…, custom_details=…)
    let body = json!({
        "event_action": "trigger",
        "routing_key": KEY,
        "payload": {
            "summary": "Disk almost full on db-1",
            "source": "db-1.prod",
            "severity": "critical",
            "custom_details": {"free_gb": 1.5, "mount": "/var/lib/postgresql"}
        }
    });
    let got = enqueue(body).unwrap();
    assert_eq!(got.routing_key, KEY);
    let e = got.event;
    assert_eq!(e.format, Format::PagerDuty);
    assert_eq!(e.action, Action::Trigger);
    assert_eq!(e.dedup_key, None);
    assert_eq!(e.summary.as_deref(), Some("Disk almost full on db-1"));
    assert_eq!(e.source.as_deref(), Some("db-1.prod"));
    assert_eq!(e.severity, Some(Severity::Sev1));
    assert_eq!(e.occurred_at, None);
    assert_eq!(
        e.details,
        json!({"custom_details": {"free_gb": 1.5, "mount": "/var/lib/postgresql"}})
    );
    assert!(e.links.is_empty());
    assert_eq!((e.group_key, e.note, e.user), (None, None, None));
}

#[test]
fn alertmanager_trigger_keeps_client_links_images_and_payload_extras() {
    let body = format!(
        r#"{{"routing_key":"{KEY}","dedup_key":"{AM_DEDUP}","event_action":"trigger",
        "payload":{{"summary":"[FIRING:2] DiskFull (prod node critical)","source":"Alertmanager",
        "severity":"error","class":"disk","component":"node","group":"prod",
        "custom_details":{{"firing":"Labels:\n - alertname = DiskFull\n","num_firing":"2",
        "num_resolved":"0","resolved":""}}}},
        "client":"Alertmanager","client_url":"http://vm:19093/#/alerts?receiver=pd",
        "links":[{{"href":"http://grafana/d/1","text":"Dashboard"}},{{"href":"http://runbook"}}],
        "images":[{{"src":"https://img/1.png","href":"https://img","alt":"graph"}}]}}
"#
    );
    let e = parse_enqueue(body.as_bytes()).unwrap().event;
    assert_eq!(e.action, Action::Trigger);
    assert_eq!(e.dedup_key.as_deref(), Some(AM_DEDUP));
    assert_eq!(e.severity, Some(Severity::Sev2));
    assert_eq!(e.details["class"], "disk");
    assert_eq!(e.details["component"], "node");
    assert_eq!(e.details["group"], "prod");
    assert_eq!(e.details["custom_details"]["num_firing"], "2");
    assert_eq!(e.details["client"], "Alertmanager");
    assert_eq!(
        e.details["client_url"],
        "http://vm:19093/#/alerts?receiver=pd"
    );
    assert_eq!(e.details["images"][0]["alt"], "graph");
    assert_eq!(
        e.links,
        [
            Link {
                href: "http://grafana/d/1".into(),
                text: Some("Dashboard".into())
            },
            Link {
                href: "http://runbook".into(),
                text: None
            },
        ]
    );
}

#[test]
fn alertmanager_resolve_ignores_its_payload() {
    // Alertmanager sends the whole payload on resolve; even a broken one must not matter.
    for payload in [
        json!({"summary": "[RESOLVED] DiskFull", "source": "Alertmanager", "severity": "error"}),
        json!({"summary": "", "severity": "bogus", "timestamp": "never"}),
        json!("not an object"),
    ] {
        let body = json!({
            "routing_key": KEY, "dedup_key": AM_DEDUP, "event_action": "resolve",
            "payload": payload, "client": "Alertmanager", "links": "junk"
        });
        let e = enqueue(body).unwrap().event;
        assert_eq!(e.action, Action::Resolve);
        assert_eq!(e.dedup_key.as_deref(), Some(AM_DEDUP));
        assert_eq!((e.summary, e.severity, e.source), (None, None, None));
        assert_eq!(e.details, json!({}));
        assert!(e.links.is_empty());
    }
}

#[test]
fn acknowledge_needs_only_the_key() {
    let body =
        json!({"routing_key": KEY, "event_action": "acknowledge", "dedup_key": "srv01/HTTP"});
    let e = enqueue(body).unwrap().event;
    assert_eq!(e.action, Action::Acknowledge);
    assert_eq!(e.dedup_key.as_deref(), Some("srv01/HTTP"));
}

#[test]
fn timestamps_in_both_offset_forms() {
    // The official `pagerduty` 7.2 client needs a timestamp; PagerDuty's own example omits
    // the colon.
    for (stamp, want) in [
        ("2015-07-17T08:42:58.315+0000", Some(1_437_122_578_315)),
        ("2015-07-17T08:42:58.315+00:00", Some(1_437_122_578_315)),
        ("2015-07-17T10:42:58.315Z", Some(1_437_129_778_315)),
        ("0001-01-01T00:00:00Z", None),
    ] {
        let body = json!({"routing_key": KEY, "event_action": "trigger", "payload": {
            "summary": "s", "source": "h", "severity": "info", "timestamp": stamp}});
        let e = enqueue(body).unwrap().event;
        assert_eq!(e.occurred_at, want, "{stamp}");
        assert_eq!(e.severity, Some(Severity::Sev4));
    }
}

#[test]
fn unknown_fields_nulls_and_an_empty_trigger_dedup_key_are_tolerated() {
    let body = json!({"routing_key": KEY, "event_action": "trigger", "dedup_key": "",
        "extra": {"x": 1}, "client": null,
        "payload": {"summary": "  padded  ", "source": "h", "severity": "warning",
            "timestamp": null, "whatever": true}});
    let e = enqueue(body).unwrap().event;
    assert_eq!(e.dedup_key, None);
    assert_eq!(e.summary.as_deref(), Some("padded"));
    assert_eq!(e.severity, Some(Severity::Sev3));
    assert_eq!(e.details, json!({}));
}

#[test]
fn limits_are_in_characters() {
    let summary = "é".repeat(MAX_SUMMARY);
    let key = "ü".repeat(MAX_PD_DEDUP_KEY);
    let body = json!({"routing_key": "é".repeat(32), "event_action": "trigger", "dedup_key": key,
        "payload": {"summary": summary, "source": "h", "severity": "info"}});
    let got = enqueue(body).unwrap();
    assert_eq!(got.event.summary.as_deref(), Some(summary.as_str()));
    assert_eq!(got.event.dedup_key.as_deref(), Some(key.as_str()));
}

#[test]
fn malformed_enqueue_bodies() {
    let long = "x".repeat(MAX_SUMMARY + 1);
    let trig = |payload: serde_json::Value| json!({"routing_key": KEY, "event_action": "trigger", "payload": payload});
    let ok_payload = json!({"summary": "s", "source": "h", "severity": "info"});
    let cases: Vec<(serde_json::Value, Vec<&str>)> = vec![
        (
            json!({}),
            vec!["routing_key: is required", "event_action: is required"],
        ),
        (
            json!({"routing_key": "short", "event_action": "trigger", "payload": ok_payload}),
            vec!["Length of 'routing_key' is incorrect (should be 32 characters)"],
        ),
        (
            json!({"routing_key": 42, "event_action": "fire"}),
            vec![
                "routing_key: must be a string (got number)",
                "event_action: must be one of trigger, acknowledge, resolve",
            ],
        ),
        (
            json!({"routing_key": KEY, "event_action": ["trigger"]}),
            vec!["event_action: must be a string (got array)"],
        ),
        (
            json!({"routing_key": KEY, "event_action": "Trigger", "payload": ok_payload}),
            vec!["event_action: must be one of trigger, acknowledge, resolve"],
        ),
        (
            json!({"routing_key": KEY, "event_action": "trigger"}),
            vec!["payload: is required for trigger"],
        ),
        (
            trig(json!([])),
            vec!["payload: must be an object (got array)"],
        ),
        (
            trig(json!({})),
            vec![
                "payload.summary: is required",
                "payload.source: is required",
                "payload.severity: is required",
            ],
        ),
        (
            trig(json!({"summary": " ", "source": "", "severity": "CRITICAL"})),
            vec![
                "payload.summary: must not be empty",
                "payload.source: must not be empty",
                "payload.severity: must be one of critical, error, warning, info",
            ],
        ),
        (
            trig(json!({"summary": long, "source": 1, "severity": 1})),
            vec![
                "payload.summary: must be at most 1024 characters",
                "payload.source: must be a string (got number)",
                "payload.severity: must be a string (got number)",
            ],
        ),
        (
            trig(json!({"summary": "s", "source": "h", "severity": "info",
                "timestamp": "2015-07-17 08:42"})),
            vec![
                "payload.timestamp: must be an ISO 8601 timestamp with an offset (e.g. 2015-07-17T08:42:58.315+0000)",
            ],
        ),
        (
            trig(json!({"summary": "s", "source": "h", "severity": "info", "timestamp": 1437})),
            vec!["payload.timestamp: must be a string (got number)"],
        ),
        (
            json!({"routing_key": KEY, "event_action": "trigger", "payload": ok_payload,
                "links": [{"text": "no href"}, {"href": ""}]}),
            vec![
                "links[0].href: is required",
                "links[1].href: must not be empty",
            ],
        ),
        (
            json!({"routing_key": KEY, "event_action": "trigger", "payload": ok_payload,
                "links": {"href": "x"}}),
            vec!["links: must be an array (got object)"],
        ),
        (
            json!({"routing_key": KEY, "event_action": "resolve"}),
            vec!["dedup_key: is required for acknowledge and resolve"],
        ),
        (
            json!({"routing_key": KEY, "event_action": "acknowledge", "dedup_key": ""}),
            vec!["dedup_key: is required for acknowledge and resolve"],
        ),
        (
            json!({"routing_key": KEY, "event_action": "acknowledge", "dedup_key": 7}),
            vec!["dedup_key: must be a string (got number)"],
        ),
        (
            json!({"routing_key": "k", "event_action": "resolve",
                "dedup_key": "k".repeat(256)}),
            vec![
                "Length of 'routing_key' is incorrect (should be 32 characters)",
                "dedup_key: must be at most 255 characters",
            ],
        ),
        (json!([]), vec!["body: must be a JSON object (got array)"]),
        (
            json!("trigger"),
            vec!["body: must be a JSON object (got string)"],
        ),
    ];
    for (body, want) in cases {
        assert_eq!(reasons(enqueue(body.clone())), want, "{body}");
    }
    let raw: [(&[u8], &str); 4] = [
        (b"", "body: is empty (a JSON object is required)"),
        (
            b"{\"routing_key\": \"\xc3\x28\"}",
            "body: is not valid UTF-8",
        ),
        (
            b"{\"routing_key\"",
            "body: is not valid JSON (line 1, column 14)",
        ),
        (b"null", "body: must be a JSON object (got null)"),
    ];
    for (body, want) in raw {
        assert_eq!(reasons(parse_enqueue(body)), [want], "{body:?}");
    }
}

#[test]
fn change_event_from_python_pagerduty() {
    let body = json!({
        "routing_key": KEY,
        "payload": {
            "summary": "Deployed api v2.3.1",
            "source": "ci.example.com",
            "timestamp": "2024-05-01T12:00:00.000+0000",
            "custom_details": {"build": 1234, "commit": "abc123"}
        },
        "links": [{"href": "https://ci.example.com/1234", "text": "Build"}],
        "images": [{"src": "https://ci.example.com/badge.png"}]
    });
    let (key, change) = parse_change(body.to_string().as_bytes()).unwrap();
    assert_eq!(key, KEY);
    assert_eq!(change.summary, "Deployed api v2.3.1");
    assert_eq!(change.source.as_deref(), Some("ci.example.com"));
    assert_eq!(change.occurred_at, Some(1_714_564_800_000));
    assert_eq!(
        change.details,
        json!({"custom_details": {"build": 1234, "commit": "abc123"},
            "images": [{"src": "https://ci.example.com/badge.png"}]})
    );
    assert_eq!(change.links.len(), 1);
}

#[test]
fn minimal_change_event() {
    let body = json!({"routing_key": KEY, "payload": {"summary": "config change"}});
    let (_, change) = parse_change(body.to_string().as_bytes()).unwrap();
    assert_eq!(change.summary, "config change");
    assert_eq!((change.source, change.occurred_at), (None, None));
    assert_eq!(change.details, json!({}));
}

#[test]
fn malformed_change_bodies() {
    let cases: Vec<(serde_json::Value, Vec<&str>)> = vec![
        (
            json!({}),
            vec!["routing_key: is required", "payload: is required"],
        ),
        (
            json!({"routing_key": "abc", "payload": {"summary": "s"}}),
            vec!["Length of 'routing_key' is incorrect (should be 32 characters)"],
        ),
        (
            json!({"routing_key": KEY, "payload": "deploy"}),
            vec!["payload: must be an object (got string)"],
        ),
        (
            json!({"routing_key": KEY, "payload": {"source": ["x"], "timestamp": "soon"}}),
            vec![
                "payload.summary: is required",
                "payload.source: must be a string (got array)",
                "payload.timestamp: must be an ISO 8601 timestamp with an offset (e.g. 2015-07-17T08:42:58.315+0000)",
            ],
        ),
        (
            json!({"routing_key": KEY, "payload": {"summary": "y".repeat(1025)},
                "links": [3]}),
            vec![
                "payload.summary: must be at most 1024 characters",
                "links[0]: must be an object (got number)",
            ],
        ),
        (json!(1), vec!["body: must be a JSON object (got number)"]),
    ];
    for (body, want) in cases {
        assert_eq!(
            reasons(parse_change(body.to_string().as_bytes())),
            want,
            "{body}"
        );
    }
    assert_eq!(reasons(parse_change(b"\xff")), ["body: is not valid UTF-8"]);
    assert_eq!(
        reasons(parse_change(b"")),
        ["body: is empty (a JSON object is required)"]
    );
}

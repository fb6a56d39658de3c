//! Tests for the generic JSON webhook mapping.

use super::*;
use serde_json::json;
use triad_domain::severity::Severity;

fn run(body: Value, mapping: &Mapping) -> Result<AlertEvent, Rejection> {
    parse(body.to_string().as_bytes(), mapping)
}

fn uptime_mapping() -> Mapping {
    Mapping {
        summary: "/alert/title".into(),
        dedup_key: Some("/alert/id".into()),
        severity: Some("/alert/level".into()),
        source: Some("/monitor/url".into()),
        action: Some("/state".into()),
        group_key: Some("/monitor/name".into()),
        resolve_values: vec!["UP".into()],
        acknowledge_values: vec![],
    }
}

#[test]
fn default_mapping_trigger_and_resolve() {
    let body = json!({"summary": "Checkout latency high", "dedup_key": "checkout/p99",
        "severity": "High", "source": "grafana-cloud", "status": "firing", "extra": [1, 2]});
    let e = run(body.clone(), &Mapping::default()).unwrap();
    assert_eq!(e.format, Format::Generic);
    assert_eq!(e.action, Action::Trigger);
    assert_eq!(e.summary.as_deref(), Some("Checkout latency high"));
    assert_eq!(e.dedup_key.as_deref(), Some("checkout/p99"));
    assert_eq!(e.severity, Some(Severity::Sev2));
    assert_eq!(e.source.as_deref(), Some("grafana-cloud"));
    assert_eq!(e.group_key, None);
    assert_eq!(e.details, body);

    for status in ["resolved", "OK", " Recovered ", "closed", "resolve"] {
        let e = run(
            json!({"dedup_key": "checkout/p99", "status": status}),
            &Mapping::default(),
        )
        .unwrap();
        assert_eq!(e.action, Action::Resolve, "{status}");
        assert_eq!(e.summary, None);
    }
    for status in ["ACK", "acknowledged", "Acknowledge"] {
        let e = run(
            json!({"dedup_key": 17, "status": status}),
            &Mapping::default(),
        )
        .unwrap();
        assert_eq!(e.action, Action::Acknowledge, "{status}");
        assert_eq!(e.dedup_key.as_deref(), Some("17"));
    }
}

#[test]
fn custom_mapping_with_nested_pointers_and_numbers() {
    let body = json!({"alert": {"title": 503, "id": 98765, "level": "P1"},
        "monitor": {"name": "shop", "url": "https://shop.example.com"}, "state": "DOWN"});
    let e = run(body, &uptime_mapping()).unwrap();
    assert_eq!(e.action, Action::Trigger);
    assert_eq!(e.summary.as_deref(), Some("503"));
    assert_eq!(e.dedup_key.as_deref(), Some("98765"));
    assert_eq!(e.severity, Some(Severity::Sev1));
    assert_eq!(e.source.as_deref(), Some("https://shop.example.com"));
    assert_eq!(e.group_key.as_deref(), Some("shop"));

    let resolve = json!({"alert": {"id": "98765"}, "state": "up"});
    assert_eq!(
        run(resolve, &uptime_mapping()).unwrap().action,
        Action::Resolve
    );
}

#[test]
fn pointer_escapes_and_lenient_optional_fields() {
    let mapping = Mapping {
        summary: "/a~1b/~0t".into(),
        ..Mapping::default()
    };
    let body = json!({"a/b": {"~t": "escaped"}, "severity": ["x"], "source": {"h": 1},
        "status": 3, "dedup_key": null});
    let e = run(body, &mapping).unwrap();
    assert_eq!(e.summary.as_deref(), Some("escaped"));
    assert_eq!((e.severity, e.source, e.dedup_key), (None, None, None));
    assert_eq!(e.action, Action::Trigger);
}

#[test]
fn long_summary_is_cut_by_characters() {
    let body = json!({"summary": "ø".repeat(MAX_SUMMARY * 2)});
    let e = run(body, &Mapping::default()).unwrap();
    assert_eq!(e.summary.map(|s| s.chars().count()), Some(MAX_SUMMARY));
}

#[test]
fn malformed_generic_bodies() {
    let (default, uptime) = (Mapping::default(), uptime_mapping());
    let no_dedup = Mapping {
        dedup_key: None,
        ..Mapping::default()
    };
    let cases: Vec<(Value, &Mapping, Vec<&str>)> = vec![
        (
            json!({}),
            &uptime,
            vec!["/alert/title: not found in the body"],
        ),
        (
            json!({"summary": ""}),
            &default,
            vec!["/summary: must not be empty"],
        ),
        (
            json!({"summary": null}),
            &default,
            vec!["/summary: must be a non-empty string or a number (got null)"],
        ),
        (
            json!({"summary": {"text": "x"}}),
            &default,
            vec!["/summary: must be a non-empty string or a number (got object)"],
        ),
        (
            json!({"status": "resolved"}),
            &default,
            vec!["/dedup_key: is required to acknowledge or resolve"],
        ),
        (
            json!({"status": "ack", "dedup_key": "  "}),
            &default,
            vec!["/dedup_key: is required to acknowledge or resolve"],
        ),
        (
            json!({"status": "resolved"}),
            &no_dedup,
            vec![
                "dedup_key: is required to acknowledge or resolve (the mapping has no dedup_key pointer)",
            ],
        ),
        (
            json!({"summary": "s", "dedup_key": {"id": 1}}),
            &default,
            vec!["/dedup_key: must be a string or a number (got object)"],
        ),
        (
            json!({"summary": "s", "dedup_key": "k".repeat(513)}),
            &default,
            vec!["/dedup_key: must be at most 512 characters"],
        ),
        (
            json!({"summary": [], "dedup_key": true}),
            &default,
            vec![
                "/summary: must be a non-empty string or a number (got array)",
                "/dedup_key: must be a string or a number (got boolean)",
            ],
        ),
        (
            json!({"status": "resolved", "dedup_key": []}),
            &default,
            vec!["/dedup_key: must be a string or a number (got array)"],
        ),
        (
            json!("summary"),
            &default,
            vec!["body: must be a JSON object (got string)"],
        ),
        (
            json!([{"summary": "s"}]),
            &default,
            vec!["body: must be a JSON object (got array)"],
        ),
    ];
    for (body, mapping, want) in cases {
        assert_eq!(
            run(body.clone(), mapping).unwrap_err().reasons,
            want,
            "{body}"
        );
    }
    let raw: [(&[u8], &str); 3] = [
        (b"", "body: is empty (a JSON object is required)"),
        (b"\xed\xa0\x80", "body: is not valid UTF-8"),
        (
            b"{\"summary\": \"\\ud800\"}",
            "body: is not valid JSON (line 1, column 20)",
        ),
    ];
    for (body, want) in raw {
        let got = parse(body, &default).unwrap_err().reasons;
        assert_eq!(got, [want], "{body:?}");
    }
}

#[test]
fn mapping_serde_defaults_and_unknown_fields() {
    let m: Mapping = serde_json::from_str(r#"{"summary": "/title"}"#).unwrap();
    assert_eq!(m.summary, "/title");
    assert_eq!((m.dedup_key, m.action), (None, None));
    assert_eq!(m.resolve_values, Mapping::default().resolve_values);
    assert_eq!(m.acknowledge_values, ["acknowledged", "acknowledge", "ack"]);

    let err = serde_json::from_str::<Mapping>(r#"{"summary": "/t", "title": "/x"}"#);
    assert!(
        err.unwrap_err()
            .to_string()
            .contains("unknown field `title`")
    );
    assert!(serde_json::from_str::<Mapping>("{}").is_err());

    let round = serde_json::to_value(Mapping::default()).unwrap();
    assert_eq!(
        serde_json::from_value::<Mapping>(round).unwrap(),
        Mapping::default()
    );
}

#[test]
fn mapping_validation() {
    assert_eq!(Mapping::default().validate(), Ok(()));
    assert_eq!(uptime_mapping().validate(), Ok(()));
    let whole_body = Mapping {
        summary: String::new(),
        ..Mapping::default()
    };
    assert_eq!(whole_body.validate(), Ok(()));

    let bad = Mapping {
        summary: "title".into(),
        dedup_key: Some("/".repeat(513)),
        severity: Some("#/sev".into()),
        source: None,
        action: Some("/ok".into()),
        group_key: Some("é".repeat(512).replacen('é', "/", 1)),
        resolve_values: vec!["r".into(); 21],
        acknowledge_values: vec!["a".into(); 20],
    };
    assert_eq!(
        bad.validate().unwrap_err().reasons,
        [
            "summary: must be a JSON pointer: empty or starting with '/'",
            "dedup_key: must be at most 512 characters",
            "severity: must be a JSON pointer: empty or starting with '/'",
            "resolve_values: must have at most 20 entries",
        ]
    );
}

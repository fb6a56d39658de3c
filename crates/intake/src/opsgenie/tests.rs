//! Tests for the Opsgenie Alert API v2 parsers, with bodies shaped like opsgenie-sdk's and
//! Alertmanager's.

use super::*;
use serde_json::json;

fn create(body: serde_json::Value) -> Result<AlertEvent, Rejection> {
    parse_create(body.to_string().as_bytes())
}

fn reasons<T: std::fmt::Debug>(result: Result<T, Rejection>) -> Vec<String> {
    result.unwrap_err().reasons
}

#[test]
fn sdk_create_with_alias_priority_tags_and_details() {
    let body = json!({
        "message": "Disk full on db-1",
        "alias": "db-1/disk",
        "description": "/var/lib/postgresql is 98% full",
        "responders": [{"name": "dba", "type": "team"}, {"username": "ann@example.com", "type": "user"}],
        "visibleTo": [{"name": "ops", "type": "team"}],
        "actions": ["Restart", "Expand volume"],
        "tags": ["prod", "disk"],
        "details": {"host": "db-1", "mount": "/var/lib/postgresql"},
        "entity": "db-1",
        "source": "monitoring",
        "priority": "P1",
        "user": "ann@example.com",
        "note": "opened from the SDK"
    });
    let e = create(body).unwrap();
    assert_eq!(e.format, Format::Opsgenie);
    assert_eq!(e.action, Action::Trigger);
    assert_eq!(e.dedup_key.as_deref(), Some("db-1/disk"));
    assert_eq!(e.summary.as_deref(), Some("Disk full on db-1"));
    assert_eq!(e.severity, Some(Severity::Sev1));
    assert_eq!(e.source.as_deref(), Some("monitoring"));
    assert_eq!(e.user.as_deref(), Some("ann@example.com"));
    assert_eq!(e.note.as_deref(), Some("opened from the SDK"));
    assert_eq!(
        e.details,
        json!({
            "tags": ["prod", "disk"],
            "details": {"host": "db-1", "mount": "/var/lib/postgresql"},
            "entity": "db-1",
            "responders": [{"name": "dba", "type": "team"}, {"username": "ann@example.com", "type": "user"}],
            "visibleTo": [{"name": "ops", "type": "team"}],
            "actions": ["Restart", "Expand volume"],
            "description": "/var/lib/postgresql is 98% full"
        })
    );
    assert_eq!((e.group_key, e.occurred_at), (None, None));
    assert!(e.links.is_empty());
}

#[test]
fn alertmanager_create_and_minimal_create() {
    let alias = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    let body = format!(
        r#"{{"alias":"{alias}","message":"[FIRING:1] DiskFull db-1 (prod critical)",
        "description":"Alerts Firing:\nLabels:\n - alertname = DiskFull\n",
        "details":{{"alertname":"DiskFull","severity":"critical"}},
        "source":"http://vm:19093/#/alerts?receiver=og","responders":[{{"name":"ops","type":"team"}}],
        "tags":["prod"],"priority":"P2"}}
"#
    );
    let e = parse_create(body.as_bytes()).unwrap();
    assert_eq!(e.dedup_key.as_deref(), Some(alias));
    assert_eq!(e.severity, Some(Severity::Sev2));
    assert_eq!(e.details["details"]["alertname"], "DiskFull");

    let e = create(json!({"message": "  ping  "})).unwrap();
    assert_eq!(e.summary.as_deref(), Some("ping"));
    assert_eq!((e.dedup_key, e.severity, e.source), (None, None, None));
    assert_eq!(e.details, json!({}));
}

#[test]
fn priorities_map_p5_to_sev4() {
    for (p, want) in [
        ("P1", Severity::Sev1),
        ("P2", Severity::Sev2),
        ("P3", Severity::Sev3),
        ("P4", Severity::Sev4),
        ("P5", Severity::Sev4),
    ] {
        let e = create(json!({"message": "m", "priority": p})).unwrap();
        assert_eq!(e.severity, Some(want), "{p}");
    }
}

#[test]
fn limits_count_characters() {
    let e = create(json!({"message": "ü".repeat(130), "alias": "ß".repeat(512)})).unwrap();
    assert_eq!(e.summary.map(|s| s.chars().count()), Some(130));
    assert_eq!(e.dedup_key.map(|s| s.chars().count()), Some(512));
}

#[test]
fn malformed_create_bodies() {
    let cases: Vec<(serde_json::Value, Vec<&str>)> = vec![
        (json!({}), vec!["message: Message can not be empty."]),
        (
            json!({"message": ""}),
            vec!["message: Message can not be empty."],
        ),
        (
            json!({"message": " \n"}),
            vec!["message: Message can not be empty."],
        ),
        (
            json!({"message": null}),
            vec!["message: Message can not be empty."],
        ),
        (
            json!({"message": 5}),
            vec!["message: must be a string (got number)"],
        ),
        (
            json!({"message": "x".repeat(131)}),
            vec!["message: must be at most 130 characters"],
        ),
        (
            json!({"message": "m", "alias": "a".repeat(513), "description": "d".repeat(15_001),
                "note": "n".repeat(25_001)}),
            vec![
                "alias: must be at most 512 characters",
                "description: must be at most 15000 characters",
                "note: must be at most 25000 characters",
            ],
        ),
        (
            json!({"message": "m", "priority": "p1"}),
            vec!["priority: must be one of P1, P2, P3, P4, P5"],
        ),
        (
            json!({"message": "m", "priority": 1, "alias": ["a"]}),
            vec![
                "alias: must be a string (got array)",
                "priority: must be a string (got number)",
            ],
        ),
        (
            json!({"message": "m", "tags": "prod", "responders": [{"name": "x"}, "ops"],
                "visibleTo": {}, "actions": [1]}),
            vec![
                "tags: must be an array (got string)",
                "responders[1]: must be an object (got string)",
                "visibleTo: must be an array (got object)",
                "actions[0]: must be a string (got number)",
            ],
        ),
        (
            json!({"message": "m", "details": {"a": "1", "b": 2}, "entity": {}, "source": 1,
                "user": true}),
            vec![
                "details.b: must be a string (got number)",
                "entity: must be a string (got object)",
                "source: must be a string (got number)",
                "user: must be a string (got boolean)",
            ],
        ),
        (
            json!({"message": "m", "details": ["a"]}),
            vec!["details: must be an object (got array)"],
        ),
        (
            json!(["m"]),
            vec!["body: must be a JSON object (got array)"],
        ),
    ];
    for (body, want) in cases {
        assert_eq!(reasons(create(body.clone())), want, "{body}");
    }
    assert_eq!(
        reasons(parse_create(b"")),
        ["body: is empty (a JSON object is required)"]
    );
    assert_eq!(
        reasons(parse_create(b"{\"message\":\"\xe2\x82\"}")),
        ["body: is not valid UTF-8"]
    );
    assert_eq!(
        reasons(parse_create(b"{'message':'m'}")),
        ["body: is not valid JSON (line 1, column 2)"]
    );
}

#[test]
fn identifiers() {
    let id = |seg, ty| identifier(seg, ty);
    assert_eq!(
        id("db-1/disk", Some("alias")),
        Ok(Identifier {
            kind: IdentifierType::Alias,
            value: "db-1/disk".into()
        })
    );
    // Already decoded by the router: a literal %2F stays as it is.
    assert_eq!(id("a%2Fb", Some("ALIAS")).unwrap().value, "a%2Fb");
    assert_eq!(id("70413a06", None).unwrap().kind, IdentifierType::Id);
    assert_eq!(id("70413a06", Some("Id")).unwrap().kind, IdentifierType::Id);
    assert_eq!(id("1234", Some("tiny")).unwrap().kind, IdentifierType::Tiny);
    assert_eq!(IdentifierType::Tiny.as_str(), "tiny");

    let bad: [(&str, Option<&str>, &[&str]); 4] = [
        (
            "x",
            Some("name"),
            &["identifierType: must be one of id, alias, tiny"],
        ),
        (
            "x",
            Some(""),
            &["identifierType: must be one of id, alias, tiny"],
        ),
        ("", None, &["identifier: is required"]),
        (
            "",
            Some("uuid"),
            &[
                "identifierType: must be one of id, alias, tiny",
                "identifier: is required",
            ],
        ),
    ];
    for (seg, ty, want) in bad {
        assert_eq!(reasons(id(seg, ty)), want, "{seg:?} {ty:?}");
    }
    let long = "k".repeat(513);
    assert_eq!(
        reasons(id(&long, Some("alias"))),
        ["identifier: must be at most 512 characters"]
    );
}

#[test]
fn acknowledge_and_close_bodies() {
    for body in [&b""[..], b"{}", b"\n", b"{\"user\":null}"] {
        for action in [Action::Acknowledge, Action::Resolve] {
            let e = parse_action(body, action).unwrap();
            assert_eq!(e.action, action);
            assert_eq!(e.format, Format::Opsgenie);
            assert_eq!(
                (e.dedup_key, e.summary, e.user, e.note),
                (None, None, None, None)
            );
        }
    }
    // Alertmanager's close.
    let e = parse_action(br#"{"source":"http://vm:19093/"}"#, Action::Resolve).unwrap();
    assert_eq!(e.source.as_deref(), Some("http://vm:19093/"));
    let e = parse_action(
        br#"{"user":"ann","source":"sdk","note":"looking"}"#,
        Action::Acknowledge,
    )
    .unwrap();
    assert_eq!(
        (e.user.as_deref(), e.source.as_deref(), e.note.as_deref()),
        (Some("ann"), Some("sdk"), Some("looking"))
    );
}

#[test]
fn malformed_action_bodies() {
    let cases: [(&[u8], Action, &[&str]); 6] = [
        (
            b"[]",
            Action::Resolve,
            &["body: must be a JSON object (got array)"],
        ),
        (b"\xc0", Action::Resolve, &["body: is not valid UTF-8"]),
        (
            b"{",
            Action::Acknowledge,
            &["body: is not valid JSON (line 1, column 1)"],
        ),
        (
            br#"{"user":1,"source":[],"note":{}}"#,
            Action::Acknowledge,
            &[
                "user: must be a string (got number)",
                "source: must be a string (got array)",
                "note: must be a string (got object)",
            ],
        ),
        (
            b"{}",
            Action::Trigger,
            &["action: only acknowledge and close take this body"],
        ),
        (
            b"\"close\"",
            Action::Resolve,
            &["body: must be a JSON object (got string)"],
        ),
    ];
    for (body, action, want) in cases {
        assert_eq!(reasons(parse_action(body, action)), want, "{body:?}");
    }
}

#[test]
fn notes() {
    let n = parse_note(br#"{"note":"Restarted postgres","user":"ann","source":"cli"}"#).unwrap();
    assert_eq!(
        n,
        Note {
            note: "Restarted postgres".into(),
            user: Some("ann".into()),
            source: Some("cli".into())
        }
    );
    let n = parse_note(br#"{"note":"x"}"#).unwrap();
    assert_eq!((n.user, n.source), (None, None));

    let long = json!({"note": "n".repeat(25_001)}).to_string();
    let cases: [(&[u8], &[&str]); 7] = [
        (b"", &["body: is empty (a JSON object is required)"]),
        (b"{}", &["note: is required"]),
        (br#"{"note":""}"#, &["note: must not be empty"]),
        (
            br#"{"note":3,"user":[]}"#,
            &[
                "note: must be a string (got number)",
                "user: must be a string (got array)",
            ],
        ),
        (long.as_bytes(), &["note: must be at most 25000 characters"]),
        (b"\xff", &["body: is not valid UTF-8"]),
        (b"true", &["body: must be a JSON object (got boolean)"]),
    ];
    for (body, want) in cases {
        assert_eq!(reasons(parse_note(body)), want, "{body:?}");
    }
}

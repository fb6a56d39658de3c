//! Property tests: no parser panics on any input, and whatever a parser accepts keeps the
//! event invariants (a trigger has a non-empty summary of at most MAX_SUMMARY characters,
//! dedup keys are bounded, PagerDuty ack/resolve name their alert).

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};
use triad_intake::generic::{self, Mapping};
use triad_intake::{
    Action, AlertEvent, Format, MAX_DEDUP_KEY, MAX_SUMMARY, alertmanager, opsgenie, pagerduty,
};

/// Field names the parsers look for, so random objects often reach the deep checks.
const KEYS: &[&str] = &[
    "routing_key",
    "event_action",
    "dedup_key",
    "payload",
    "summary",
    "source",
    "severity",
    "timestamp",
    "custom_details",
    "links",
    "href",
    "text",
    "images",
    "client",
    "alerts",
    "labels",
    "annotations",
    "status",
    "fingerprint",
    "startsAt",
    "endsAt",
    "generatorURL",
    "externalURL",
    "silenceURL",
    "message",
    "alias",
    "description",
    "priority",
    "tags",
    "details",
    "note",
    "user",
    "version",
    "groupKey",
    "title",
    "alertname",
    "instance",
    "job",
];

/// Values the parsers give meaning to.
const WORDS: &[&str] = &[
    "",
    " ",
    "trigger",
    "acknowledge",
    "resolve",
    "firing",
    "resolved",
    "4",
    "1",
    "critical",
    "error",
    "warning",
    "info",
    "P1",
    "P5",
    "ack",
    "ok",
    "db-1/disk",
    "R0123456789abcdef0123456789abcde",
    "2015-07-17T08:42:58.315+0000",
    "0001-01-01T00:00:00Z",
    "2024-05-01T12:00:00.123456789Z",
    "{}:{alertname=\"DiskFull\"}",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(KEYS).prop_map(String::from),
        1 => "[a-zA-Z_]{0,8}",
    ]
}

fn long_text() -> impl Strategy<Value = String> {
    (select(&['x', 'é', '日', '😀'][..]), 100usize..1300).prop_map(|(c, n)| c.to_string().repeat(n))
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        2 => any::<i64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        5 => select(WORDS).prop_map(Value::from),
        3 => any::<String>().prop_map(Value::String),
        1 => long_text().prop_map(Value::String),
    ]
}

fn object_of(inner: impl Strategy<Value = Value>, max: usize) -> impl Strategy<Value = Value> {
    prop::collection::vec((key(), inner), 0..max)
        .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>()))
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            1 => prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            3 => object_of(inner, 8),
        ]
    })
}

fn custom_mapping() -> Mapping {
    Mapping {
        summary: "/payload/summary".into(),
        dedup_key: Some("/alias".into()),
        severity: Some("/labels/severity".into()),
        source: Some("/source".into()),
        action: Some("/status".into()),
        group_key: Some("/groupKey".into()),
        resolve_values: vec!["resolved".into()],
        acknowledge_values: vec!["acknowledge".into()],
    }
}

fn check_event(e: &AlertEvent) -> Result<(), TestCaseError> {
    if e.action == Action::Trigger {
        let summary = e.summary.as_deref().unwrap_or_default();
        prop_assert!(!summary.trim().is_empty(), "trigger without summary: {e:?}");
        prop_assert!(summary.chars().count() <= MAX_SUMMARY);
    }
    if let Some(key) = &e.dedup_key {
        prop_assert!(!key.is_empty());
        prop_assert!(key.chars().count() <= MAX_DEDUP_KEY);
    }
    prop_assert!(e.links.iter().all(|l| !l.href.is_empty()));
    Ok(())
}

/// Runs `body` through every parser; checks what they accept.
fn every_parser(body: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(got) = pagerduty::parse_enqueue(body) {
        prop_assert_eq!(got.routing_key.chars().count(), pagerduty::ROUTING_KEY_LEN);
        prop_assert_eq!(got.event.format, Format::PagerDuty);
        check_event(&got.event)?;
        let key = got.event.dedup_key.as_deref().unwrap_or_default();
        prop_assert!(key.chars().count() <= pagerduty::MAX_PD_DEDUP_KEY);
        if got.event.action != Action::Trigger {
            prop_assert!(got.event.dedup_key.is_some(), "ack/resolve without key");
        }
    }
    if let Ok((routing_key, change)) = pagerduty::parse_change(body) {
        prop_assert_eq!(routing_key.chars().count(), pagerduty::ROUTING_KEY_LEN);
        prop_assert!(!change.summary.trim().is_empty());
        prop_assert!(change.summary.chars().count() <= MAX_SUMMARY);
    }
    if let Ok(e) = opsgenie::parse_create(body) {
        prop_assert_eq!(e.action, Action::Trigger);
        prop_assert!(
            e.summary
                .as_deref()
                .is_some_and(|s| s.chars().count() <= 130)
        );
        check_event(&e)?;
    }
    for action in [Action::Acknowledge, Action::Resolve] {
        if let Ok(e) = opsgenie::parse_action(body, action) {
            prop_assert_eq!(e.action, action);
            prop_assert_eq!(e.dedup_key, None);
        }
    }
    if let Ok(note) = opsgenie::parse_note(body) {
        prop_assert!(!note.note.trim().is_empty());
    }
    for format in [Format::Alertmanager, Format::Grafana] {
        if let Ok(events) = alertmanager::parse_webhook(body, format) {
            for e in &events {
                prop_assert_eq!(e.format, format);
                prop_assert!(e.dedup_key.is_some() && e.group_key.is_some());
                prop_assert!(e.action != Action::Acknowledge);
                check_event(e)?;
            }
        }
    }
    for mapping in [Mapping::default(), custom_mapping()] {
        if let Ok(e) = generic::parse(body, &mapping) {
            check_event(&e)?;
            if e.action != Action::Trigger {
                prop_assert!(e.dedup_key.is_some(), "generic ack/resolve without key");
            }
        }
    }
    let segment = String::from_utf8_lossy(body);
    for kind in [None, Some("alias"), Some("TINY"), Some("bogus")] {
        if let Ok(id) = opsgenie::identifier(&segment, kind) {
            prop_assert_eq!(id.value.as_str(), segment.as_ref());
        }
    }
    Ok(())
}

/// Valid bodies of every format, to be mutated.
fn seeds() -> Vec<Value> {
    let key = "R0123456789abcdef0123456789abcde";
    vec![
        json!({"routing_key": key, "event_action": "trigger", "dedup_key": "srv01/HTTP",
            "payload": {"summary": "Disk full", "source": "db-1", "severity": "critical",
                "timestamp": "2015-07-17T08:42:58.315+0000", "custom_details": {"a": "b"}},
            "links": [{"href": "https://x", "text": "x"}], "client": "Alertmanager"}),
        json!({"routing_key": key, "event_action": "resolve", "dedup_key": "srv01/HTTP",
            "payload": {"summary": "[RESOLVED] Disk full", "source": "am", "severity": "error"}}),
        json!({"routing_key": key, "payload": {"summary": "Deployed", "source": "ci",
            "timestamp": "2024-05-01T12:00:00Z", "custom_details": {"v": 1}}, "links": []}),
        json!({"message": "Disk full", "alias": "db-1/disk", "priority": "P1", "tags": ["prod"],
            "details": {"host": "db-1"}, "responders": [{"name": "ops", "type": "team"}],
            "source": "sdk", "user": "ann", "note": "n", "description": "d"}),
        json!({"note": "Restarted", "user": "ann", "source": "cli"}),
        json!({"version": "4", "groupKey": "{}:{alertname=\"DiskFull\"}", "receiver": "r",
            "externalURL": "http://vm:19093", "alerts": [
                {"status": "firing", "labels": {"alertname": "DiskFull", "severity": "critical"},
                 "annotations": {"summary": "s"}, "startsAt": "2024-05-01T12:00:00.1Z",
                 "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://p",
                 "fingerprint": "1a2b3c4d5e6f7a8b"},
                {"status": "resolved", "labels": {"alertname": "DiskFull"}}]}),
        json!({"version": "1", "orgId": 1, "groupKey": "g", "alerts": [{"status": "firing",
            "labels": {"alertname": "CPU"}, "values": {"B": 1.5}, "dashboardURL": "http://g/d",
            "annotations": {"description": "line one\nline two"}}]}),
        json!({"summary": "Latency", "dedup_key": "k1", "severity": "high", "status": "firing",
            "alias": "k1", "payload": {"summary": "nested"}, "groupKey": "g"}),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Remove,
    Replace(Value),
}

/// Applies `mutation` to the node that `path` picks (each step an index, modulo the
/// container's size); removing the root replaces it with null.
fn mutate(value: &mut Value, path: &[usize], mutation: Mutation) {
    let (step, rest) = match path.split_first() {
        Some(split) => split,
        None => {
            *value = match mutation {
                Mutation::Remove => Value::Null,
                Mutation::Replace(v) => v,
            };
            return;
        }
    };
    match value {
        Value::Object(map) if !map.is_empty() => {
            let Some(key) = map.keys().nth(step % map.len()).cloned() else {
                return;
            };
            if rest.is_empty() && matches!(mutation, Mutation::Remove) {
                map.remove(&key);
            } else if let Some(child) = map.get_mut(&key) {
                mutate(child, rest, mutation);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let i = step % items.len();
            if rest.is_empty() && matches!(mutation, Mutation::Remove) {
                items.remove(i);
            } else if let Some(child) = items.get_mut(i) {
                mutate(child, rest, mutation);
            }
        }
        _ => mutate(value, &[], mutation),
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => Just(Mutation::Remove),
        3 => leaf().prop_map(Mutation::Replace),
        1 => json_value().prop_map(Mutation::Replace),
    ]
}

#[test]
fn seeds_are_valid_for_their_parser() {
    let bytes: Vec<Vec<u8>> = seeds().iter().map(|v| v.to_string().into_bytes()).collect();
    assert!(pagerduty::parse_enqueue(&bytes[0]).is_ok());
    assert!(pagerduty::parse_enqueue(&bytes[1]).is_ok());
    assert!(pagerduty::parse_change(&bytes[2]).is_ok());
    assert!(opsgenie::parse_create(&bytes[3]).is_ok());
    assert!(opsgenie::parse_note(&bytes[4]).is_ok());
    assert!(opsgenie::parse_action(&bytes[4], Action::Acknowledge).is_ok());
    assert_eq!(
        alertmanager::parse_webhook(&bytes[5], Format::Alertmanager).map(|v| v.len()),
        Ok(2)
    );
    assert!(alertmanager::parse_webhook(&bytes[6], Format::Grafana).is_ok());
    assert!(generic::parse(&bytes[7], &Mapping::default()).is_ok());
    assert!(generic::parse(&bytes[7], &custom_mapping()).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..4096)) {
        every_parser(&body)?;
    }

    #[test]
    fn arbitrary_json_never_panics_and_keeps_invariants(
        value in prop_oneof![1 => json_value(), 3 => object_of(json_value(), 10)]
    ) {
        every_parser(value.to_string().as_bytes())?;
    }

    #[test]
    fn mutated_valid_bodies_never_panic(
        seed in 0usize..8,
        edits in prop::collection::vec(
            (prop::collection::vec(any::<usize>(), 0..5), mutation()), 1..4),
    ) {
        let mut value = seeds().swap_remove(seed);
        for (path, m) in edits {
            mutate(&mut value, &path, m);
        }
        every_parser(value.to_string().as_bytes())?;
        // The same body, pretty-printed with Go's trailing newline.
        let pretty = serde_json::to_string_pretty(&value).unwrap_or_default() + "\n";
        every_parser(pretty.as_bytes())?;
    }
}

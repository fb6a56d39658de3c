//! Alertmanager (`version` "4") and Grafana (`version` "1") webhook bodies: one
//! [`AlertEvent`] per alert in the notification.
//!
//! A field this module reads must have its documented type when present (labels are
//! strings, `startsAt` a timestamp, URLs strings); fields only copied into `details`
//! (`endsAt`, `values`, `orgId`, …) are copied as they are. Long text is cut, never
//! refused. One malformed alert refuses the whole notification (Alertmanager treats a
//! 4xx as final for that flush and sends the group again at the next interval).

use crate::fields::{self, Object, Problems};
use crate::{
    Action, AlertEvent, Format, Link, MAX_DEDUP_KEY, MAX_SUMMARY, Rejection, severity, time,
};
use serde_json::Value;

/// Top-level fields copied into every event's details when present.
const SHARED_DETAILS: [&str; 5] = [
    "receiver",
    "externalURL",
    "groupLabels",
    "truncatedAlerts",
    "orgId",
];
/// Per-alert fields copied into its event's details when present (Grafana adds `values`
/// and `valueString`).
const ALERT_DETAILS: [&str; 4] = ["annotations", "endsAt", "values", "valueString"];
/// Per-alert URLs that become links, with their link text.
const LINKS: [(&str, &str); 5] = [
    ("generatorURL", "Source"),
    ("silenceURL", "Silence"),
    ("dashboardURL", "Dashboard"),
    ("panelURL", "Panel"),
    ("imageURL", "Image"),
];

/// Parses a webhook notification. Either `version` is accepted on either route; `format`
/// says which route it came in on and is stamped on each event.
pub fn parse_webhook(body: &[u8], format: Format) -> Result<Vec<AlertEvent>, Rejection> {
    let obj = fields::object(body)?;
    let mut problems = Problems::default();
    match fields::get(&obj, "version") {
        None => problems.add("version", "is required"),
        Some(Value::String(v)) if v == "4" || v == "1" => {}
        Some(Value::String(_)) => {
            problems.add("version", "must be \"4\" (Alertmanager) or \"1\" (Grafana)")
        }
        Some(other) => problems.wrong_type("version", "a string", other),
    }
    let group_key = fields::req_text(&obj, "groupKey", "groupKey", None, &mut problems);
    let external_url = fields::opt_str(&obj, "externalURL", "externalURL", None, &mut problems);
    let alerts = match fields::get(&obj, "alerts") {
        None => {
            problems.add("alerts", "is required");
            &[][..]
        }
        Some(Value::Array(alerts)) => alerts.as_slice(),
        Some(other) => {
            problems.wrong_type("alerts", "an array", other);
            &[][..]
        }
    };
    let mut shared = Object::new();
    fields::copy_present(&obj, &SHARED_DETAILS, &mut shared);
    let context = Context {
        format,
        group_key: group_key.unwrap_or_default(),
        external_url: external_url.filter(|u| !u.is_empty()),
        shared,
    };
    let mut events = Vec::with_capacity(alerts.len());
    for (i, alert) in alerts.iter().enumerate() {
        if let Some(event) = read_alert(&format!("alerts[{i}]"), alert, &context, &mut problems) {
            events.push(event);
        }
    }
    problems.finish()?;
    Ok(events)
}

/// What every alert of one notification shares.
struct Context {
    format: Format,
    group_key: String,
    external_url: Option<String>,
    shared: Object,
}

fn read_alert(
    name: &str,
    alert: &Value,
    context: &Context,
    problems: &mut Problems,
) -> Option<AlertEvent> {
    let Value::Object(alert) = alert else {
        problems.wrong_type(name, "an object", alert);
        return None;
    };
    let action = status(alert, name, problems);
    let labels = labels(alert, name, problems);
    let annotations = fields::opt_object(
        alert,
        "annotations",
        &format!("{name}.annotations"),
        problems,
    );
    let summary = annotations.and_then(|a| summary_annotation(a, name, problems));
    let fingerprint = fields::opt_str(
        alert,
        "fingerprint",
        &format!("{name}.fingerprint"),
        Some(MAX_DEDUP_KEY),
        problems,
    )
    .filter(|f| !f.is_empty());
    let starts_at = fields::opt_str(
        alert,
        "startsAt",
        &format!("{name}.startsAt"),
        None,
        problems,
    )
    .and_then(|text| {
        time::parse(&text).unwrap_or_else(|_| {
            problems.add(&format!("{name}.startsAt"), "must be an RFC 3339 timestamp");
            None
        })
    });
    let mut links = Vec::new();
    let mut generator_url = None;
    for (key, text) in LINKS {
        let url = fields::opt_str(alert, key, &format!("{name}.{key}"), None, problems);
        if let Some(href) = url.filter(|u| !u.trim().is_empty()) {
            if key == "generatorURL" {
                generator_url = Some(href.clone());
            }
            links.push(Link {
                href,
                text: Some(text.to_owned()),
            });
        }
    }
    let (action, labels) = (action?, labels?);

    let label = |key: &str| labels.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let present = |v: Option<&str>| v.filter(|v| !v.trim().is_empty()).map(str::to_owned);
    let summary = summary
        .or_else(|| present(label("alertname")))
        .unwrap_or_else(|| "alert".to_owned());
    let severity = label("severity")
        .and_then(severity::map)
        .or_else(|| label("priority").and_then(severity::map));
    let source = present(label("instance"))
        .or_else(|| present(label("job")))
        .or(generator_url)
        .or_else(|| context.external_url.clone());
    let dedup_key = fingerprint.unwrap_or_else(|| label_digest(&labels));

    let mut details = context.shared.clone();
    let label_map = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
        .collect();
    details.insert("labels".into(), Value::Object(label_map));
    details.insert("status".into(), Value::String(status_word(action).into()));
    fields::copy_present(alert, &ALERT_DETAILS, &mut details);
    Some(AlertEvent {
        format: context.format,
        action,
        dedup_key: Some(dedup_key),
        group_key: Some(context.group_key.clone()),
        summary: Some(fields::truncate(summary.trim(), MAX_SUMMARY)),
        source,
        severity,
        occurred_at: starts_at,
        details: Value::Object(details),
        links,
        note: None,
        user: None,
    })
}

fn status(alert: &Object, name: &str, problems: &mut Problems) -> Option<Action> {
    let field = format!("{name}.status");
    match fields::get(alert, "status") {
        None => problems.add(&field, "is required"),
        Some(Value::String(s)) if s == "firing" => return Some(Action::Trigger),
        Some(Value::String(s)) if s == "resolved" => return Some(Action::Resolve),
        Some(Value::String(_)) => problems.add(&field, "must be firing or resolved"),
        Some(other) => problems.wrong_type(&field, "a string", other),
    }
    None
}

fn status_word(action: Action) -> &'static str {
    match action {
        Action::Resolve => "resolved",
        Action::Trigger | Action::Acknowledge => "firing",
    }
}

/// The alert's labels, sorted by name; every value must be a string.
fn labels<'a>(
    alert: &'a Object,
    name: &str,
    problems: &mut Problems,
) -> Option<Vec<(&'a str, &'a str)>> {
    let field = format!("{name}.labels");
    let map = match fields::get(alert, "labels") {
        None => {
            problems.add(&field, "is required");
            return None;
        }
        Some(Value::Object(map)) => map,
        Some(other) => {
            problems.wrong_type(&field, "an object", other);
            return None;
        }
    };
    let mut labels = Vec::with_capacity(map.len());
    let mut ok = true;
    for (key, value) in map {
        match value {
            Value::String(v) => labels.push((key.as_str(), v.as_str())),
            other => {
                problems.wrong_type(&format!("{field}.{key}"), "a string", other);
                ok = false;
            }
        }
    }
    labels.sort_unstable();
    ok.then_some(labels)
}

/// `summary`, else the first non-blank line of `title`, else of `description`.
fn summary_annotation(annotations: &Object, name: &str, problems: &mut Problems) -> Option<String> {
    let mut read = |key: &str| {
        let field = format!("{name}.annotations.{key}");
        fields::opt_str(annotations, key, &field, None, problems)
    };
    let (summary, title, description) = (read("summary"), read("title"), read("description"));
    let first_line = |text: Option<String>| {
        text.and_then(|t| {
            t.lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(str::to_owned)
        })
    };
    summary
        .filter(|s| !s.trim().is_empty())
        .or_else(|| first_line(title))
        .or_else(|| first_line(description))
}

/// A stable identity for an alert that came without a fingerprint: FNV-1a 64 over its
/// sorted labels, as 16 hex digits. Names and values are delimited by bytes that never
/// occur in UTF-8 (0xFF, 0xFE), so distinct label sets cannot run together.
fn label_digest(sorted_labels: &[(&str, &str)]) -> String {
    let mut bytes = Vec::new();
    for (name, value) in sorted_labels {
        bytes.extend_from_slice(name.as_bytes());
        bytes.push(0xFF);
        bytes.extend_from_slice(value.as_bytes());
        bytes.push(0xFE);
    }
    format!("{:016x}", fnv1a_64(&bytes))
}

fn fnv1a_64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

#[cfg(test)]
mod tests;

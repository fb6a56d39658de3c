//! PagerDuty Events API v2 request bodies: alert events (`POST /v2/enqueue`) and change
//! events (`POST /v2/change/enqueue`).

use crate::fields::{self, Object, Problems};
use crate::{Action, AlertEvent, ChangeEvent, Format, MAX_SUMMARY, Rejection, time};
use serde_json::Value;
use triad_domain::Millis;
use triad_domain::severity::Severity;

/// Length of every PagerDuty routing (integration) key.
pub const ROUTING_KEY_LEN: usize = 32;
/// PagerDuty's own limit on `dedup_key` (lower than [`crate::MAX_DEDUP_KEY`]).
pub const MAX_PD_DEDUP_KEY: usize = 255;

/// The reason PagerDuty itself gives for a routing key of the wrong length.
const ROUTING_KEY_REASON: &str = "Length of 'routing_key' is incorrect (should be 32 characters)";

/// An alert event and the integration key it was sent to.
#[derive(Debug, Clone, PartialEq)]
pub struct Enqueue {
    pub routing_key: String,
    pub event: AlertEvent,
}

/// Parses a `/v2/enqueue` body. Every problem found is reported, each naming its field.
/// For acknowledge and resolve only `routing_key`, `event_action` and `dedup_key` are
/// read: whatever else comes with them (Alertmanager sends its payload, links and client
/// on resolve) is ignored and never refuses the event.
pub fn parse_enqueue(body: &[u8]) -> Result<Enqueue, Rejection> {
    let obj = fields::object(body)?;
    let mut problems = Problems::default();
    let routing_key = routing_key(&obj, &mut problems);
    let action = event_action(&obj, &mut problems);
    let dedup_key = fields::opt_str(
        &obj,
        "dedup_key",
        "dedup_key",
        Some(MAX_PD_DEDUP_KEY),
        &mut problems,
    )
    .filter(|key| !key.is_empty());

    let mut event = AlertEvent {
        format: Format::PagerDuty,
        action: action.unwrap_or(Action::Trigger),
        dedup_key,
        group_key: None,
        summary: None,
        source: None,
        severity: None,
        occurred_at: None,
        details: Value::Object(Object::new()),
        links: Vec::new(),
        note: None,
        user: None,
    };
    match action {
        Some(Action::Trigger) => read_trigger(&obj, &mut event, &mut problems),
        Some(Action::Acknowledge | Action::Resolve) => {
            // Absent, null or "": a wrong type or length was reported already.
            let blank = fields::get(&obj, "dedup_key").is_none_or(|v| v.as_str() == Some(""));
            if event.dedup_key.is_none() && blank {
                problems.add("dedup_key", "is required for acknowledge and resolve");
            }
        }
        None => {}
    }
    problems.finish()?;
    Ok(Enqueue {
        routing_key: routing_key.unwrap_or_default(),
        event,
    })
}

/// Parses a `/v2/change/enqueue` body into the routing key and the change.
pub fn parse_change(body: &[u8]) -> Result<(String, ChangeEvent), Rejection> {
    let obj = fields::object(body)?;
    let mut problems = Problems::default();
    let routing_key = routing_key(&obj, &mut problems);
    let mut details = Object::new();
    fields::copy_present(&obj, &["images"], &mut details);
    let (mut summary, mut source, mut occurred_at) = (None, None, None);
    match fields::get(&obj, "payload") {
        None => problems.add("payload", "is required"),
        Some(Value::Object(payload)) => {
            summary = fields::req_text(
                payload,
                "summary",
                "payload.summary",
                Some(MAX_SUMMARY),
                &mut problems,
            );
            source = fields::opt_str(payload, "source", "payload.source", None, &mut problems);
            occurred_at = timestamp(payload, &mut problems);
            fields::copy_present(payload, &["custom_details"], &mut details);
        }
        Some(other) => problems.wrong_type("payload", "an object", other),
    }
    let links = fields::links(&obj, "links", &mut problems);
    problems.finish()?;
    let change = ChangeEvent {
        summary: summary.unwrap_or_default(),
        source: source.filter(|s| !s.is_empty()),
        occurred_at,
        details: Value::Object(details),
        links,
    };
    Ok((routing_key.unwrap_or_default(), change))
}

fn routing_key(obj: &Object, problems: &mut Problems) -> Option<String> {
    match fields::get(obj, "routing_key") {
        None => problems.add("routing_key", "is required"),
        Some(Value::String(key)) if key.chars().count() == ROUTING_KEY_LEN => {
            return Some(key.clone());
        }
        Some(Value::String(_)) => problems.verbatim(ROUTING_KEY_REASON),
        Some(other) => problems.wrong_type("routing_key", "a string", other),
    }
    None
}

fn event_action(obj: &Object, problems: &mut Problems) -> Option<Action> {
    match fields::get(obj, "event_action") {
        None => problems.add("event_action", "is required"),
        Some(Value::String(action)) => match action.as_str() {
            "trigger" => return Some(Action::Trigger),
            "acknowledge" => return Some(Action::Acknowledge),
            "resolve" => return Some(Action::Resolve),
            _ => problems.add(
                "event_action",
                "must be one of trigger, acknowledge, resolve",
            ),
        },
        Some(other) => problems.wrong_type("event_action", "a string", other),
    }
    None
}

/// The trigger-only parts: the payload, `client`, `client_url`, `images`, `links`.
fn read_trigger(obj: &Object, event: &mut AlertEvent, problems: &mut Problems) {
    let mut details = Object::new();
    match fields::get(obj, "payload") {
        None => problems.add("payload", "is required for trigger"),
        Some(Value::Object(payload)) => {
            event.summary = fields::req_text(
                payload,
                "summary",
                "payload.summary",
                Some(MAX_SUMMARY),
                problems,
            );
            event.source = fields::req_text(payload, "source", "payload.source", None, problems);
            event.severity = severity(payload, problems);
            event.occurred_at = timestamp(payload, problems);
            fields::copy_present(
                payload,
                &["component", "group", "class", "custom_details"],
                &mut details,
            );
        }
        Some(other) => problems.wrong_type("payload", "an object", other),
    }
    fields::copy_present(obj, &["client", "client_url", "images"], &mut details);
    event.details = Value::Object(details);
    event.links = fields::links(obj, "links", problems);
}

fn severity(payload: &Object, problems: &mut Problems) -> Option<Severity> {
    let value = fields::get(payload, "severity");
    let severity = match value.and_then(Value::as_str) {
        Some("critical") => Severity::Sev1,
        Some("error") => Severity::Sev2,
        Some("warning") => Severity::Sev3,
        Some("info") => Severity::Sev4,
        Some(_) => {
            problems.add(
                "payload.severity",
                "must be one of critical, error, warning, info",
            );
            return None;
        }
        None => {
            match value {
                None => problems.add("payload.severity", "is required"),
                Some(other) => problems.wrong_type("payload.severity", "a string", other),
            }
            return None;
        }
    };
    Some(severity)
}

fn timestamp(payload: &Object, problems: &mut Problems) -> Option<Millis> {
    let text = fields::opt_str(payload, "timestamp", "payload.timestamp", None, problems)?;
    time::parse(&text).unwrap_or_else(|_| {
        problems.add(
            "payload.timestamp",
            "must be an ISO 8601 timestamp with an offset (e.g. 2015-07-17T08:42:58.315+0000)",
        );
        None
    })
}

#[cfg(test)]
mod tests;

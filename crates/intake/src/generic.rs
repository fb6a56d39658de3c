//! Generic JSON webhooks: a per-integration-key [`Mapping`] of RFC 6901 JSON pointers
//! says where in an arbitrary body the summary, dedup key, severity, source, action and
//! group key are.

use crate::fields::{self, Problems};
use crate::{Action, AlertEvent, Format, MAX_DEDUP_KEY, MAX_SUMMARY, Rejection, severity};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest JSON pointer a mapping may hold.
pub const MAX_POINTER: usize = 512;
/// Most entries in `resolve_values` or `acknowledge_values`.
pub const MAX_VALUES: usize = 20;

/// Where to find each part of an event in a generic webhook's body. Every field except
/// the value lists is an RFC 6901 JSON pointer (`"/alert/title"`; `~1` escapes `/`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub summary: String,
    #[serde(default)]
    pub dedup_key: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub group_key: Option<String>,
    /// Values (any case) of the action field that resolve the alert.
    #[serde(default = "default_resolve_values")]
    pub resolve_values: Vec<String>,
    /// Values (any case) of the action field that acknowledge the alert.
    #[serde(default = "default_acknowledge_values")]
    pub acknowledge_values: Vec<String>,
}

fn default_resolve_values() -> Vec<String> {
    ["resolved", "resolve", "ok", "closed", "recovered"]
        .map(String::from)
        .into()
}

fn default_acknowledge_values() -> Vec<String> {
    ["acknowledged", "acknowledge", "ack"]
        .map(String::from)
        .into()
}

impl Default for Mapping {
    fn default() -> Self {
        Mapping {
            summary: "/summary".into(),
            dedup_key: Some("/dedup_key".into()),
            severity: Some("/severity".into()),
            source: Some("/source".into()),
            action: Some("/status".into()),
            group_key: None,
            resolve_values: default_resolve_values(),
            acknowledge_values: default_acknowledge_values(),
        }
    }
}

impl Mapping {
    /// Checks a mapping before it is saved: every pointer is `""` (the whole body) or
    /// starts with `/` and has at most [`MAX_POINTER`] characters; each value list has at
    /// most [`MAX_VALUES`] entries.
    pub fn validate(&self) -> Result<(), Rejection> {
        let mut problems = Problems::default();
        let pointers = [
            ("summary", Some(&self.summary)),
            ("dedup_key", self.dedup_key.as_ref()),
            ("severity", self.severity.as_ref()),
            ("source", self.source.as_ref()),
            ("action", self.action.as_ref()),
            ("group_key", self.group_key.as_ref()),
        ];
        for (name, pointer) in pointers {
            let Some(pointer) = pointer else { continue };
            if !(pointer.is_empty() || pointer.starts_with('/')) {
                problems.add(name, "must be a JSON pointer: empty or starting with '/'");
            } else if fields::exceeds(pointer, MAX_POINTER) {
                problems.add(
                    name,
                    format_args!("must be at most {MAX_POINTER} characters"),
                );
            }
        }
        for (name, values) in [
            ("resolve_values", &self.resolve_values),
            ("acknowledge_values", &self.acknowledge_values),
        ] {
            if values.len() > MAX_VALUES {
                problems.add(name, format_args!("must have at most {MAX_VALUES} entries"));
            }
        }
        problems.finish()
    }

    fn action_of(&self, word: &str) -> Action {
        let word = word.trim().to_lowercase();
        let listed = |values: &[String]| values.iter().any(|v| v.trim().to_lowercase() == word);
        if listed(&self.resolve_values) {
            Action::Resolve
        } else if listed(&self.acknowledge_values) {
            Action::Acknowledge
        } else {
            Action::Trigger
        }
    }
}

/// Parses a generic webhook body with `mapping` (assumed validated when it was saved; an
/// invalid pointer simply finds nothing). The summary is required for a trigger (cut to
/// [`MAX_SUMMARY`] characters, never refused for length); acknowledge and resolve need a
/// dedup key instead. Severity, source and group key of an unusable type are left out;
/// the whole body is kept as the details.
pub fn parse(body: &[u8], mapping: &Mapping) -> Result<AlertEvent, Rejection> {
    let body = Value::Object(fields::object(body)?);
    let mut problems = Problems::default();
    let at = |pointer: &Option<String>| pointer.as_deref().and_then(|p| body.pointer(p));

    let action = at(&mapping.action)
        .and_then(scalar)
        .map_or(Action::Trigger, |word| mapping.action_of(&word));
    let summary = match body.pointer(&mapping.summary) {
        Some(value) => match scalar(value) {
            Some(text) => Some(fields::truncate(&text, MAX_SUMMARY)),
            None if action != Action::Trigger => None,
            None if value.as_str().is_some() => {
                problems.add(&mapping.summary, "must not be empty");
                None
            }
            None => {
                let got = fields::kind(value);
                let what = format!("must be a non-empty string or a number (got {got})");
                problems.add(&mapping.summary, what);
                None
            }
        },
        None if action != Action::Trigger => None,
        None => {
            problems.add(&mapping.summary, "not found in the body");
            None
        }
    };
    let dedup_key = match (mapping.dedup_key.as_deref(), at(&mapping.dedup_key)) {
        (Some(pointer), Some(value)) => dedup_key(pointer, value, &mut problems),
        _ => None,
    };
    if action != Action::Trigger && dedup_key.is_none() {
        match mapping.dedup_key.as_deref() {
            Some(pointer) if body.pointer(pointer).is_none_or(is_blank) => {
                problems.add(pointer, "is required to acknowledge or resolve");
            }
            Some(_) => {}
            None => problems.add(
                "dedup_key",
                "is required to acknowledge or resolve (the mapping has no dedup_key pointer)",
            ),
        }
    }
    let severity = at(&mapping.severity)
        .and_then(scalar)
        .and_then(|s| severity::map(&s));
    let source = at(&mapping.source).and_then(scalar);
    let group_key = at(&mapping.group_key).and_then(scalar);
    problems.finish()?;
    Ok(AlertEvent {
        format: Format::Generic,
        action,
        dedup_key,
        group_key,
        summary,
        source,
        severity,
        occurred_at: None,
        details: body,
        links: Vec::new(),
        note: None,
        user: None,
    })
}

/// A non-blank string (trimmed) or a number, as text.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// The dedup key at `pointer`: absent when blank or null, refused when of another type
/// or too long (silently dropping it would open a new alert on every event).
fn dedup_key(pointer: &str, value: &Value, problems: &mut Problems) -> Option<String> {
    if is_blank(value) {
        return None;
    }
    let Some(key) = scalar(value) else {
        problems.wrong_type(pointer, "a string or a number", value);
        return None;
    };
    if fields::exceeds(&key, MAX_DEDUP_KEY) {
        problems.add(
            pointer,
            format_args!("must be at most {MAX_DEDUP_KEY} characters"),
        );
        return None;
    }
    Some(key)
}

#[cfg(test)]
mod tests;

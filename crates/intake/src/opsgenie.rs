//! Opsgenie Alert API v2 request bodies: create, acknowledge, close and add-note, and the
//! `{identifier}?identifierType=` addressing of an existing alert.

use crate::fields::{self, Object, Problems};
use crate::{Action, AlertEvent, Format, MAX_DEDUP_KEY, Rejection};
use serde_json::Value;
use triad_domain::severity::Severity;

/// Longest `message` Opsgenie accepts (Alertmanager cuts its messages to this many runes).
pub const MAX_MESSAGE: usize = 130;
/// Longest `alias` (and path identifier) accepted.
pub const MAX_ALIAS: usize = MAX_DEDUP_KEY;
/// Longest `description`.
pub const MAX_DESCRIPTION: usize = 15_000;
/// Longest `note`.
pub const MAX_NOTE: usize = 25_000;

/// What a path `{identifier}` is, per the `identifierType` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentifierType {
    /// The alert's id (the default).
    Id,
    /// The alias given at create: the dedup key.
    Alias,
    /// The short numeric id Opsgenie shows people.
    Tiny,
}

impl IdentifierType {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentifierType::Id => "id",
            IdentifierType::Alias => "alias",
            IdentifierType::Tiny => "tiny",
        }
    }
}

/// An existing alert as a request names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identifier {
    pub kind: IdentifierType,
    pub value: String,
}

/// An add-note request: not a state change, so not an [`AlertEvent`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub note: String,
    pub user: Option<String>,
    pub source: Option<String>,
}

/// Parses a `POST /v2/alerts` body. Reasons for `message` use Opsgenie's own words.
pub fn parse_create(body: &[u8]) -> Result<AlertEvent, Rejection> {
    let obj = fields::object(body)?;
    let mut problems = Problems::default();
    let summary = message(&obj, &mut problems);
    let alias = text(&obj, "alias", Some(MAX_ALIAS), &mut problems);
    let description = text(&obj, "description", Some(MAX_DESCRIPTION), &mut problems);
    let severity = priority(&obj, &mut problems);
    array_of(&obj, "tags", Kind::String, &mut problems);
    array_of(&obj, "responders", Kind::Object, &mut problems);
    array_of(&obj, "visibleTo", Kind::Object, &mut problems);
    array_of(&obj, "actions", Kind::String, &mut problems);
    string_map(&obj, "details", &mut problems);
    text(&obj, "entity", None, &mut problems);
    let source = text(&obj, "source", None, &mut problems);
    let user = text(&obj, "user", None, &mut problems);
    let note = text(&obj, "note", Some(MAX_NOTE), &mut problems);
    problems.finish()?;

    let mut details = Object::new();
    let kept = [
        "tags",
        "details",
        "entity",
        "responders",
        "visibleTo",
        "actions",
    ];
    fields::copy_present(&obj, &kept, &mut details);
    if let Some(description) = description {
        details.insert("description".into(), Value::String(description));
    }
    Ok(AlertEvent {
        format: Format::Opsgenie,
        action: Action::Trigger,
        dedup_key: alias,
        group_key: None,
        summary,
        source,
        severity,
        occurred_at: None,
        details: Value::Object(details),
        links: Vec::new(),
        note,
        user,
    })
}

/// Reads `{identifier}` (already percent-decoded by the router: `db-1%2Fdisk` arrives
/// here as `db-1/disk`) and `identifierType` (`id` when absent; any case).
pub fn identifier(segment: &str, identifier_type: Option<&str>) -> Result<Identifier, Rejection> {
    let mut problems = Problems::default();
    let kind = match identifier_type.map(str::to_ascii_lowercase).as_deref() {
        None | Some("id") => Some(IdentifierType::Id),
        Some("alias") => Some(IdentifierType::Alias),
        Some("tiny") => Some(IdentifierType::Tiny),
        Some(_) => {
            problems.add("identifierType", "must be one of id, alias, tiny");
            None
        }
    };
    if segment.is_empty() {
        problems.add("identifier", "is required");
    } else if fields::exceeds(segment, MAX_ALIAS) {
        problems.add(
            "identifier",
            format_args!("must be at most {MAX_ALIAS} characters"),
        );
    }
    problems.finish()?;
    Ok(Identifier {
        kind: kind.unwrap_or(IdentifierType::Id),
        value: segment.to_owned(),
    })
}

/// Parses an acknowledge (`Action::Acknowledge`) or close (`Action::Resolve`) body:
/// empty, `{}` or `{user?, source?, note?}`. The event names no alert: the caller resolves
/// the path identifier into its dedup key.
pub fn parse_action(body: &[u8], action: Action) -> Result<AlertEvent, Rejection> {
    if action == Action::Trigger {
        return Err(Rejection::new(
            "action: only acknowledge and close take this body",
        ));
    }
    let obj = if body.trim_ascii().is_empty() {
        Object::new()
    } else {
        fields::object(body)?
    };
    let mut problems = Problems::default();
    let user = text(&obj, "user", None, &mut problems);
    let source = text(&obj, "source", None, &mut problems);
    let note = text(&obj, "note", Some(MAX_NOTE), &mut problems);
    problems.finish()?;
    Ok(AlertEvent {
        format: Format::Opsgenie,
        action,
        dedup_key: None,
        group_key: None,
        summary: None,
        source,
        severity: None,
        occurred_at: None,
        details: Value::Object(Object::new()),
        links: Vec::new(),
        note,
        user,
    })
}

/// Parses an add-note body: `{note, user?, source?}`.
pub fn parse_note(body: &[u8]) -> Result<Note, Rejection> {
    let obj = fields::object(body)?;
    let mut problems = Problems::default();
    let note = fields::req_text(&obj, "note", "note", Some(MAX_NOTE), &mut problems);
    let user = text(&obj, "user", None, &mut problems);
    let source = text(&obj, "source", None, &mut problems);
    problems.finish()?;
    Ok(Note {
        note: note.unwrap_or_default(),
        user,
        source,
    })
}

/// `message`: required, at most [`MAX_MESSAGE`] characters, trimmed.
fn message(obj: &Object, problems: &mut Problems) -> Option<String> {
    match fields::get(obj, "message") {
        Some(Value::String(s)) if fields::exceeds(s, MAX_MESSAGE) => problems.add(
            "message",
            format_args!("must be at most {MAX_MESSAGE} characters"),
        ),
        Some(Value::String(s)) if !s.trim().is_empty() => return Some(s.trim().to_owned()),
        None | Some(Value::String(_)) => problems.add("message", "Message can not be empty."),
        Some(other) => problems.wrong_type("message", "a string", other),
    }
    None
}

/// An optional string field; blank counts as absent.
fn text(obj: &Object, key: &str, max: Option<usize>, problems: &mut Problems) -> Option<String> {
    fields::opt_str(obj, key, key, max, problems).filter(|s| !s.trim().is_empty())
}

fn priority(obj: &Object, problems: &mut Problems) -> Option<Severity> {
    let value = fields::get(obj, "priority")?;
    let severity = match value.as_str() {
        Some("P1") => Severity::Sev1,
        Some("P2") => Severity::Sev2,
        Some("P3") => Severity::Sev3,
        Some("P4" | "P5") => Severity::Sev4,
        Some(_) => {
            problems.add("priority", "must be one of P1, P2, P3, P4, P5");
            return None;
        }
        None => {
            problems.wrong_type("priority", "a string", value);
            return None;
        }
    };
    Some(severity)
}

#[derive(Clone, Copy)]
enum Kind {
    String,
    Object,
}

/// Checks that an optional field is an array whose items are all of one kind.
fn array_of(obj: &Object, key: &str, kind: Kind, problems: &mut Problems) {
    let Some(value) = fields::get(obj, key) else {
        return;
    };
    let Value::Array(items) = value else {
        problems.wrong_type(key, "an array", value);
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let (fits, expected) = match kind {
            Kind::String => (item.is_string(), "a string"),
            Kind::Object => (item.is_object(), "an object"),
        };
        if !fits {
            problems.wrong_type(&format!("{key}[{i}]"), expected, item);
        }
    }
}

/// Checks that an optional field is an object of string values (`details`).
fn string_map(obj: &Object, key: &str, problems: &mut Problems) {
    let Some(value) = fields::get(obj, key) else {
        return;
    };
    let Value::Object(map) = value else {
        problems.wrong_type(key, "an object", value);
        return;
    };
    for (name, item) in map {
        if !item.is_string() {
            problems.wrong_type(&format!("{key}.{name}"), "a string", item);
        }
    }
}

#[cfg(test)]
mod tests;

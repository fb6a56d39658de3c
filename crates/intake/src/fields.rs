//! JSON plumbing the parsers share: body decoding, typed field reads that record problems
//! instead of stopping at the first, links, and truncation by characters.

use crate::{Link, MAX_BODY, Rejection};
use serde_json::{Map, Value};
use std::fmt::Display;

pub(crate) type Object = Map<String, Value>;

/// Decodes a body that must be exactly one JSON value (a UTF-8 byte-order mark is skipped).
pub(crate) fn value(body: &[u8]) -> Result<Value, Rejection> {
    if body.len() > MAX_BODY {
        return Err(Rejection::new(format!(
            "body: must be at most {MAX_BODY} bytes"
        )));
    }
    let text = std::str::from_utf8(body).map_err(|_| Rejection::new("body: is not valid UTF-8"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_ascii().is_empty() {
        return Err(Rejection::new("body: is empty (a JSON object is required)"));
    }
    serde_json::from_str(text).map_err(|e| {
        Rejection::new(format!(
            "body: is not valid JSON (line {}, column {})",
            e.line(),
            e.column()
        ))
    })
}

/// Decodes a body that must be one JSON object.
pub(crate) fn object(body: &[u8]) -> Result<Object, Rejection> {
    match value(body)? {
        Value::Object(map) => Ok(map),
        other => Err(Rejection::new(format!(
            "body: must be a JSON object (got {})",
            kind(&other)
        ))),
    }
}

/// The JSON type of a value, for reasons: "must be a string (got number)".
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A field's value; `null` counts as absent (clients serialize unset options as null).
pub(crate) fn get<'a>(obj: &'a Object, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

/// Every problem found in one request, each naming its field.
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<String>);

impl Problems {
    pub(crate) fn add(&mut self, field: &str, what: impl Display) {
        self.0.push(format!("{field}: {what}"));
    }

    /// A reason whose text is fixed by the vendor and already names its field.
    pub(crate) fn verbatim(&mut self, reason: &str) {
        self.0.push(reason.to_owned());
    }

    pub(crate) fn wrong_type(&mut self, field: &str, expected: &str, got: &Value) {
        self.add(
            field,
            format_args!("must be {expected} (got {})", kind(got)),
        );
    }

    /// `Ok(())` when nothing was found, else a rejection listing everything.
    pub(crate) fn finish(self) -> Result<(), Rejection> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Rejection { reasons: self.0 })
        }
    }
}

/// An optional string field of at most `max` characters. Problems are recorded and give
/// `None`.
pub(crate) fn opt_str(
    obj: &Object,
    key: &str,
    name: &str,
    max: Option<usize>,
    problems: &mut Problems,
) -> Option<String> {
    match get(obj, key)? {
        Value::String(s) => {
            if let Some(max) = max.filter(|&max| exceeds(s, max)) {
                problems.add(name, format_args!("must be at most {max} characters"));
                return None;
            }
            Some(s.clone())
        }
        other => {
            problems.wrong_type(name, "a string", other);
            None
        }
    }
}

/// A required, non-blank string of at most `max` characters, trimmed.
pub(crate) fn req_text(
    obj: &Object,
    key: &str,
    name: &str,
    max: Option<usize>,
    problems: &mut Problems,
) -> Option<String> {
    let Some(value) = get(obj, key) else {
        problems.add(name, "is required");
        return None;
    };
    let Value::String(s) = value else {
        problems.wrong_type(name, "a string", value);
        return None;
    };
    if s.trim().is_empty() {
        problems.add(name, "must not be empty");
        return None;
    }
    if let Some(max) = max.filter(|&max| exceeds(s, max)) {
        problems.add(name, format_args!("must be at most {max} characters"));
        return None;
    }
    Some(s.trim().to_owned())
}

/// An optional object field (any contents).
pub(crate) fn opt_object<'a>(
    obj: &'a Object,
    key: &str,
    name: &str,
    problems: &mut Problems,
) -> Option<&'a Object> {
    match get(obj, key)? {
        Value::Object(map) => Some(map),
        other => {
            problems.wrong_type(name, "an object", other);
            None
        }
    }
}

/// `links: [{href (required), text?}]`.
pub(crate) fn links(obj: &Object, key: &str, problems: &mut Problems) -> Vec<Link> {
    let Some(value) = get(obj, key) else {
        return Vec::new();
    };
    let Value::Array(items) = value else {
        problems.wrong_type(key, "an array", value);
        return Vec::new();
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let name = format!("{key}[{i}]");
        let Value::Object(link) = item else {
            problems.wrong_type(&name, "an object", item);
            continue;
        };
        let href = req_text(link, "href", &format!("{name}.href"), None, problems);
        let text = opt_str(link, "text", &format!("{name}.text"), None, problems);
        if let Some(href) = href {
            out.push(Link { href, text });
        }
    }
    out
}

/// Copies the named fields that are present (and not null) into `details`.
pub(crate) fn copy_present(obj: &Object, keys: &[&str], details: &mut Object) {
    for &key in keys {
        if let Some(value) = get(obj, key) {
            details.insert(key.to_owned(), value.clone());
        }
    }
}

/// Whether `s` has more than `max` characters (without counting past `max + 1`).
pub(crate) fn exceeds(s: &str, max: usize) -> bool {
    s.chars().nth(max).is_some()
}

/// `s` cut to at most `max` characters (never inside a character); a cut text ends with
/// `…`.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if !exceeds(s, max) {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    if max > 0 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn truncate_counts_characters_not_bytes() {
        assert_eq!(truncate("héllo", 5), "héllo");
        assert_eq!(truncate("héllo wörld", 5), "héll…");
        assert_eq!(truncate("日本語のテキスト", 3).chars().count(), 3);
        assert_eq!(truncate("abc", 0), "");
        assert!(!exceeds("ééé", 3));
        assert!(exceeds("éééé", 3));
    }

    #[test]
    fn body_decoding_reasons() {
        let reason = |body: &[u8]| object(body).unwrap_err().reasons;
        assert_eq!(reason(b""), ["body: is empty (a JSON object is required)"]);
        assert_eq!(
            reason(b" \n"),
            ["body: is empty (a JSON object is required)"]
        );
        assert_eq!(reason(b"\xff\xfe"), ["body: is not valid UTF-8"]);
        assert_eq!(reason(b"[1]"), ["body: must be a JSON object (got array)"]);
        assert_eq!(
            reason(b"{\"a\":"),
            ["body: is not valid JSON (line 1, column 5)"]
        );
        assert_eq!(
            reason(b"{} {}"),
            ["body: is not valid JSON (line 1, column 4)"]
        );
        let big = vec![b' '; MAX_BODY + 1];
        assert_eq!(reason(&big), ["body: must be at most 524288 bytes"]);
        assert!(object("\u{feff}{}\n".as_bytes()).is_ok());
    }

    #[test]
    fn links_collect_every_problem() {
        let obj = json!({"links": [{"href": "https://x", "text": "X"}, {"text": 1}, "y"]});
        let Value::Object(obj) = obj else { panic!() };
        let mut problems = Problems::default();
        let links = links(&obj, "links", &mut problems);
        assert_eq!(
            links,
            [Link {
                href: "https://x".into(),
                text: Some("X".into())
            }]
        );
        assert_eq!(
            problems.finish().unwrap_err().reasons,
            [
                "links[1].href: is required",
                "links[1].text: must be a string (got number)",
                "links[2]: must be an object (got string)",
            ]
        );
    }
}

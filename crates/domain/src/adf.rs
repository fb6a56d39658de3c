//! Atlassian Document Format (Jira Cloud REST v3's rich text): plain text to a document
//! of paragraphs, and a document back to plain text.

use serde_json::{Value, json};

/// A rich-text field in the version's format: ADF for v3, a string for v2.
pub fn rich_text(api_version: i64, text: &str) -> Value {
    if api_version < 3 {
        return json!(text);
    }
    let paragraphs: Vec<Value> = text
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let mut content = Vec::new();
            for (n, line) in p.lines().enumerate() {
                if n > 0 {
                    content.push(json!({"type": "hardBreak"}));
                }
                if !line.is_empty() {
                    content.push(json!({"type": "text", "text": line}));
                }
            }
            json!({"type": "paragraph", "content": content})
        })
        .collect();
    json!({"type": "doc", "version": 1, "content": paragraphs})
}

/// The plain text of a rich-text value (an ADF document or a string).
pub fn plain_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(o) => {
            let mut out = String::new();
            if let Some(Value::String(t)) = o.get("text") {
                out.push_str(t);
            }
            if o.get("type").and_then(Value::as_str) == Some("hardBreak") {
                out.push('\n');
            }
            if let Some(Value::Array(children)) = o.get("content") {
                for c in children {
                    out.push_str(&plain_text(c));
                }
                if o.get("type").and_then(Value::as_str) == Some("paragraph") {
                    out.push('\n');
                }
            }
            out
        }
        Value::Array(items) => items.iter().map(plain_text).collect(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adf_round_trips_paragraphs_and_lines() {
        let doc = rich_text(3, "First line\nsecond line\n\nNext paragraph");
        assert_eq!(doc["type"], "doc");
        assert_eq!(doc["version"], 1);
        assert_eq!(doc["content"].as_array().unwrap().len(), 2);
        assert_eq!(
            doc["content"][0]["content"][1],
            json!({"type": "hardBreak"})
        );
        assert_eq!(
            plain_text(&doc),
            "First line\nsecond line\nNext paragraph\n"
        );
        assert_eq!(rich_text(2, "plain"), json!("plain"));
        assert_eq!(plain_text(&json!("plain")), "plain");
    }
}

//! Human-readable tables for the client's answers.

use serde_json::Value;

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    List,
    Incident,
    Event,
    Update,
    Roles,
    Timeline,
}

pub(crate) fn s(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Left-aligned columns, two spaces apart.
pub(crate) fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let mut out = vec![line(headers.iter().map(|h| h.to_string()).collect())];
    out.extend(rows.into_iter().map(line));
    out.join("\n")
}

fn roles(v: &Value) -> String {
    let rows = v
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    vec![
                        s(&r["role"]),
                        s(&r["user_name"]),
                        s(&r["user_email"]),
                        s(&r["assumed_at"]),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    table(&["ROLE", "NAME", "EMAIL", "SINCE"], rows)
}

fn timeline(v: &Value) -> String {
    let rows = v
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    vec![
                        s(&e["at"]),
                        s(&e["kind"]),
                        s(&e["actor_name"]),
                        s(&e["body"]),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    table(&["AT", "KIND", "ACTOR", "WHAT"], rows)
}

pub fn human(v: &Value, kind: Kind) -> String {
    match kind {
        Kind::List => {
            let rows: Vec<Vec<String>> = v["items"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|i| {
                            vec![
                                format!("#{}", s(&i["number"])),
                                s(&i["severity"]),
                                s(&i["status"]),
                                s(&i["created_at"]),
                                s(&i["title"]),
                            ]
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut out = table(&["NUMBER", "SEV", "STATUS", "DECLARED", "TITLE"], rows);
            if let Some(c) = v["next_cursor"].as_str() {
                out.push_str(&format!("\n(more: cursor {c})"));
            }
            out
        }
        Kind::Incident => {
            let mut out = format!(
                "#{} {} [{} {}] public: {}\nid: {}\ndeclared: {}  ack due: {}  acknowledged: {}  resolved: {}",
                s(&v["number"]),
                s(&v["title"]),
                s(&v["severity"]),
                s(&v["status"]),
                s(&v["public_state"]),
                s(&v["id"]),
                s(&v["created_at"]),
                s(&v["ack_due_at"]),
                s(&v["acknowledged_at"]),
                s(&v["resolved_at"]),
            );
            if v["understaffed"].as_bool() == Some(true) {
                out.push_str(&format!(
                    "\nUNDERSTAFFED since {}: see the timeline's understaffed event",
                    s(&v["understaffed_since"])
                ));
            }
            if let Some(d) = v["description"].as_str() {
                out.push_str(&format!("\n\n{d}"));
            }
            if v["roles"].as_array().is_some_and(|r| !r.is_empty()) {
                out.push_str(&format!("\n\n{}", roles(&v["roles"])));
            }
            if v["timeline"].is_array() {
                out.push_str(&format!("\n\n{}", timeline(&v["timeline"])));
            }
            out
        }
        Kind::Event => format!("{} {} (event {})", s(&v["at"]), s(&v["body"]), s(&v["seq"])),
        Kind::Update => format!(
            "Published to {} ({}) at {}",
            s(&v["audience"]),
            s(&v["state"]),
            s(&v["published_at"])
        ),
        Kind::Roles => roles(v),
        Kind::Timeline => timeline(v),
    }
}

//! Input validation shared by every layer: per-field reasons and parsing newtypes.

use serde::Serialize;
use std::fmt;

/// Why one field was refused, in words meant for the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldReason(pub String);

impl fmt::Display for FieldReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One refused field: its name (a JSON path such as `reporter.email`) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

/// Collects every problem in a request so the client sees them all at once.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Validation {
    errors: Vec<FieldError>,
}

impl Validation {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, field: &str, reason: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.to_string(),
            reason: reason.into(),
        });
    }

    /// Records the error of `result` under `field` and returns its value, if any.
    pub fn check<T>(&mut self, field: &str, result: Result<T, FieldReason>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.push(field, e.0);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// `Ok(())` when nothing was refused, else every field error.
    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }
}

/// Trims `input` and checks it is non-empty and at most `max` characters.
pub fn text(input: &str, max: usize) -> Result<String, FieldReason> {
    let t = input.trim();
    if t.is_empty() {
        return Err(FieldReason("must not be empty".into()));
    }
    if t.chars().count() > max {
        return Err(FieldReason(format!("must be at most {max} characters")));
    }
    if t.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(FieldReason("must not contain control characters".into()));
    }
    Ok(t.to_string())
}

/// Like [`text`], but an absent or blank value is `None` rather than an error.
pub fn optional_text(input: Option<&str>, max: usize) -> Result<Option<String>, FieldReason> {
    match input.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => text(t, max).map(Some),
    }
}

/// An email address, normalised to lower case. Deliberately permissive: one `@`,
/// a non-empty local part, and a domain with a dot or `localhost`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, FieldReason> {
        let t = input.trim().to_ascii_lowercase();
        let bad = || FieldReason("must be an email address such as ana@example.com".into());
        if t.len() > 254 || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = t.split_once('@').ok_or_else(bad)?;
        if local.is_empty() || domain.is_empty() || domain.contains('@') {
            return Err(bad());
        }
        let labels_ok = domain
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        if !labels_ok || !(domain.contains('.') || domain == "localhost") {
            return Err(bad());
        }
        Ok(Email(t))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Ana@Example.COM ").unwrap().as_str(),
            "ana@example.com"
        );
        assert!(Email::parse("root@localhost").is_ok());
        for bad in [
            "",
            "ana",
            "@x.com",
            "ana@",
            "a@b@c.com",
            "a b@c.com",
            "a@c",
            "a@.com",
            "a@x..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_limits() {
        assert_eq!(text("  hi  ", 10).unwrap(), "hi");
        assert!(text("   ", 10).is_err());
        assert!(text("abcdef", 5).is_err());
        assert!(text("a\u{0}b", 5).is_err());
        assert_eq!(optional_text(Some("  "), 5).unwrap(), None);
        assert_eq!(optional_text(None, 5).unwrap(), None);
    }

    #[test]
    fn validation_collects_all() {
        let mut v = Validation::new();
        assert_eq!(v.check("a", text("", 3)), None);
        assert_eq!(v.check("b", text("ok", 3)), Some("ok".to_string()));
        v.push("c", "bad");
        let errs = v.finish().unwrap_err();
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].field, "a");
        assert_eq!(errs[1].field, "c");
    }
}

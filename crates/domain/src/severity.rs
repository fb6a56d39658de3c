//! Incident severity: SEV1 (worst) to SEV4, with the P1..P4 aliases other tools use.

use crate::validate::FieldReason;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How bad an incident is. `Sev1` is the most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Severity {
    Sev1,
    Sev2,
    Sev3,
    Sev4,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Sev1,
        Severity::Sev2,
        Severity::Sev3,
        Severity::Sev4,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Sev1 => "SEV1",
            Severity::Sev2 => "SEV2",
            Severity::Sev3 => "SEV3",
            Severity::Sev4 => "SEV4",
        }
    }

    /// Accepts `SEV1`..`SEV4` and `P1`..`P4`, in any case, surrounding blanks ignored.
    pub fn parse(input: &str) -> Result<Self, FieldReason> {
        let s = input.trim().to_ascii_uppercase();
        let digit = s.strip_prefix("SEV").or_else(|| s.strip_prefix('P'));
        match digit {
            Some("1") => Ok(Severity::Sev1),
            Some("2") => Ok(Severity::Sev2),
            Some("3") => Ok(Severity::Sev3),
            Some("4") => Ok(Severity::Sev4),
            _ => Err(FieldReason(
                "must be one of SEV1, SEV2, SEV3, SEV4 (or P1..P4)".into(),
            )),
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Severity {
    type Error = FieldReason;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Severity::parse(&value)
    }
}

impl From<Severity> for String {
    fn from(value: Severity) -> Self {
        value.as_str().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_both_spellings_and_aliases() {
        for (input, want) in [
            ("SEV1", Severity::Sev1),
            ("sev2", Severity::Sev2),
            (" P3 ", Severity::Sev3),
            ("p4", Severity::Sev4),
        ] {
            assert_eq!(Severity::parse(input).unwrap(), want, "{input}");
        }
    }

    #[test]
    fn rejects_everything_else() {
        for input in ["", "SEV0", "SEV5", "P", "critical", "SEV11", "1"] {
            assert!(Severity::parse(input).is_err(), "{input}");
        }
    }

    #[test]
    fn round_trips_through_text() {
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()).unwrap(), s);
        }
    }
}

//! Triad's pure model and rules: no I/O, no async, and never the wall clock.
//!
//! Every function here takes the current time as an argument (`now`, epoch
//! milliseconds) when it needs one, so the rules are testable without waiting.

pub mod adf;
pub mod draft;
pub mod escalation;
pub mod ical;
pub mod incident;
pub mod matching;
pub mod obligation;
pub mod policy;
pub mod role;
pub mod schedule;
pub mod severity;
pub mod status;
pub mod timeline;
pub mod update;
pub mod user;
pub mod validate;

/// A point in time: milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// Parses a lower-case keyword into one of a fixed set of variants.
///
/// Used by every enum in the model so that the accepted spellings and the
/// error message ("one of: a, b, c") are the same everywhere.
pub(crate) fn parse_keyword<T: Copy>(
    input: &str,
    table: &[(&'static str, T)],
) -> Result<T, validate::FieldReason> {
    let wanted = input.trim().to_ascii_lowercase();
    table
        .iter()
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| *value)
        .ok_or_else(|| {
            let names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
            validate::FieldReason(format!("must be one of: {}", names.join(", ")))
        })
}

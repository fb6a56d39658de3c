//! Wire formats in, normalized alert events out. Each module parses one vendor's request
//! bodies (as the real clients send them; see `shared/reference/protocols.md`) into an
//! [`AlertEvent`] or a [`ChangeEvent`], or refuses them with a [`Rejection`] that says
//! why in words the sender's logs will show. Pure: no I/O, no clock.

pub mod alertmanager;
mod fields;
pub mod generic;
pub mod opsgenie;
pub mod pagerduty;
pub mod severity;
mod time;

use serde_json::Value;
use triad_domain::Millis;
use triad_domain::severity::Severity;

/// Largest request body any intake route accepts (PagerDuty's limit: 512 KB).
pub const MAX_BODY: usize = 512 * 1024;
/// Longest dedup key accepted by any format: Opsgenie's `alias` limit (512). PagerDuty's
/// own, lower limit (255) is checked in [`pagerduty`]; every [`AlertEvent::dedup_key`] a
/// parser returns is at most this many characters.
pub const MAX_DEDUP_KEY: usize = 512;
/// Longest summary kept (PagerDuty's limit).
pub const MAX_SUMMARY: usize = 1024;

/// Which wire format an event came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    PagerDuty,
    Opsgenie,
    Alertmanager,
    Grafana,
    Generic,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::PagerDuty => "pagerduty",
            Format::Opsgenie => "opsgenie",
            Format::Alertmanager => "alertmanager",
            Format::Grafana => "grafana",
            Format::Generic => "generic",
        }
    }
}

/// What an alert event asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Open the alert, or (same dedup key, still open) record it again.
    Trigger,
    Acknowledge,
    Resolve,
}

/// A link sent with an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub href: String,
    pub text: Option<String>,
}

/// One alert event, whatever format it came in.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertEvent {
    pub format: Format,
    pub action: Action,
    /// The alert's identity while open. `None` only for a trigger that named none (the
    /// server generates one and returns it).
    pub dedup_key: Option<String>,
    /// Alerts with the same group key (Alertmanager's and Grafana's `groupKey`) belong to
    /// the same incident while it is open.
    pub group_key: Option<String>,
    /// Required for a trigger (at most [`MAX_SUMMARY`] characters); ignored otherwise.
    pub summary: Option<String>,
    pub source: Option<String>,
    /// Mapped from the sender's own severity or priority, when it gave one.
    pub severity: Option<Severity>,
    /// When the sender says it happened (not when it arrived).
    pub occurred_at: Option<Millis>,
    /// Everything else worth keeping: custom details, labels, annotations, tags.
    pub details: Value,
    pub links: Vec<Link>,
    /// A note or comment sent with the event (Opsgenie's `note`).
    pub note: Option<String>,
    /// Who the sender says did it (Opsgenie's `user`).
    pub user: Option<String>,
}

/// An informational change (a deploy, a config change): goes on the timelines of the
/// service's open incidents, pages nobody.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeEvent {
    pub summary: String,
    pub source: Option<String>,
    pub occurred_at: Option<Millis>,
    pub details: Value,
    pub links: Vec<Link>,
}

/// Why a request was refused: a permanent fault of the request (4xx; senders must not
/// retry it). Each reason names the field: `"payload.summary: is required"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub reasons: Vec<String>,
}

impl Rejection {
    pub fn new(reason: impl Into<String>) -> Self {
        Rejection {
            reasons: vec![reason.into()],
        }
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reasons.join("; "))
    }
}

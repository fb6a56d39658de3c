//! The incident and its lifecycle: `triggered` → `acknowledged` → `resolved`, with reopen.

use crate::severity::Severity;
use crate::validate::FieldReason;
use crate::{Millis, parse_keyword};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where an incident is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Triggered,
    Acknowledged,
    Resolved,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Triggered, Status::Acknowledged, Status::Resolved];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Triggered => "triggered",
            Status::Acknowledged => "acknowledged",
            Status::Resolved => "resolved",
        }
    }

    pub fn parse(input: &str) -> Result<Self, FieldReason> {
        parse_keyword(input, &Self::ALL.map(|s| (s.as_str(), s)))
    }

    pub fn is_open(self) -> bool {
        self != Status::Resolved
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the incident's curated updates say about it (the external view).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PublicState {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
}

impl PublicState {
    pub const ALL: [PublicState; 4] = [
        PublicState::Investigating,
        PublicState::Identified,
        PublicState::Monitoring,
        PublicState::Resolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PublicState::Investigating => "investigating",
            PublicState::Identified => "identified",
            PublicState::Monitoring => "monitoring",
            PublicState::Resolved => "resolved",
        }
    }

    pub fn parse(input: &str) -> Result<Self, FieldReason> {
        parse_keyword(input, &Self::ALL.map(|s| (s.as_str(), s)))
    }
}

/// A change of lifecycle a person (or, later, the engine) asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Acknowledge,
    Resolve,
    Reopen,
}

impl Transition {
    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Acknowledge => "acknowledge",
            Transition::Resolve => "resolve",
            Transition::Reopen => "reopen",
        }
    }
}

/// A transition the current status does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {} an incident that is {}", .transition.as_str(), .from.as_str())]
pub struct IllegalTransition {
    pub from: Status,
    pub transition: Transition,
}

/// The status after `transition`, or why it is refused.
///
/// Acknowledging needs a triggered incident; resolving needs an open one;
/// reopening needs a resolved one and returns it to `triggered`, so that it
/// must be accepted again.
pub fn next_status(from: Status, transition: Transition) -> Result<Status, IllegalTransition> {
    use Status::*;
    use Transition::*;
    match (from, transition) {
        (Triggered, Acknowledge) => Ok(Acknowledged),
        (Triggered | Acknowledged, Resolve) => Ok(Resolved),
        (Resolved, Reopen) => Ok(Triggered),
        _ => Err(IllegalTransition { from, transition }),
    }
}

/// An incident as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    pub id: String,
    pub number: i64,
    pub title: String,
    pub description: Option<String>,
    pub severity: Severity,
    pub status: Status,
    pub public_state: PublicState,
    pub service_id: Option<String>,
    pub created_by: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub ack_due_at: Option<Millis>,
    pub acknowledged_at: Option<Millis>,
    pub acknowledged_by: Option<String>,
    pub resolved_at: Option<Millis>,
    pub resolved_by: Option<String>,
    /// Set while the team works without telling anyone (see `app::engine`).
    pub communication_gap_at: Option<Millis>,
    /// Since when the incident has fallen short of its staffing policy (`None`: staffed).
    pub understaffed_since: Option<Millis>,
    /// How many times somebody pressed "I am not getting updates".
    pub update_requests: i64,
}

impl Incident {
    /// Applies `transition` at `now` by `actor` (a user id; `None` for the system),
    /// updating the milestone fields.
    pub fn apply(
        &mut self,
        transition: Transition,
        actor: Option<&str>,
        now: Millis,
    ) -> Result<(), IllegalTransition> {
        let next = next_status(self.status, transition)?;
        match transition {
            Transition::Acknowledge => {
                self.acknowledged_at = Some(now);
                self.acknowledged_by = actor.map(str::to_string);
            }
            Transition::Resolve => {
                self.resolved_at = Some(now);
                self.resolved_by = actor.map(str::to_string);
                self.public_state = PublicState::Resolved;
            }
            Transition::Reopen => {
                self.resolved_at = None;
                self.resolved_by = None;
                self.acknowledged_at = None;
                self.acknowledged_by = None;
                self.public_state = PublicState::Investigating;
            }
        }
        self.status = next;
        self.updated_at = now;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn incident() -> Incident {
        Incident {
            id: "i".into(),
            number: 1,
            title: "t".into(),
            description: None,
            severity: Severity::Sev1,
            status: Status::Triggered,
            public_state: PublicState::Investigating,
            service_id: None,
            created_by: None,
            created_at: 0,
            updated_at: 0,
            ack_due_at: Some(300_000),
            acknowledged_at: None,
            acknowledged_by: None,
            resolved_at: None,
            resolved_by: None,
            communication_gap_at: None,
            understaffed_since: None,
            update_requests: 0,
        }
    }

    #[test]
    fn the_whole_table() {
        use Status::*;
        use Transition::*;
        let table = [
            (Triggered, Acknowledge, Some(Acknowledged)),
            (Triggered, Resolve, Some(Resolved)),
            (Triggered, Reopen, None),
            (Acknowledged, Acknowledge, None),
            (Acknowledged, Resolve, Some(Resolved)),
            (Acknowledged, Reopen, None),
            (Resolved, Acknowledge, None),
            (Resolved, Resolve, None),
            (Resolved, Reopen, Some(Triggered)),
        ];
        for (from, t, want) in table {
            assert_eq!(next_status(from, t).ok(), want, "{from:?} {t:?}");
        }
    }

    #[test]
    fn milestones_follow_transitions() {
        let mut i = incident();
        i.apply(Transition::Acknowledge, Some("u1"), 10).unwrap();
        assert_eq!(
            (i.acknowledged_at, i.acknowledged_by.as_deref()),
            (Some(10), Some("u1"))
        );
        i.apply(Transition::Resolve, Some("u2"), 20).unwrap();
        assert_eq!(i.public_state, PublicState::Resolved);
        assert_eq!(i.resolved_at, Some(20));
        let err = i.apply(Transition::Resolve, Some("u2"), 30).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot resolve an incident that is resolved"
        );
        assert_eq!(i.updated_at, 20, "a refused transition changes nothing");
        i.apply(Transition::Reopen, None, 40).unwrap();
        assert_eq!(i.status, Status::Triggered);
        assert_eq!(i.resolved_at, None);
        assert_eq!(i.public_state, PublicState::Investigating);
    }

    fn any_transition() -> impl Strategy<Value = Transition> {
        prop_oneof![
            Just(Transition::Acknowledge),
            Just(Transition::Resolve),
            Just(Transition::Reopen)
        ]
    }

    proptest! {
        /// Whatever sequence is asked for, the milestones stay consistent with the status.
        #[test]
        fn milestones_always_consistent(steps in proptest::collection::vec(any_transition(), 0..40)) {
            let mut i = incident();
            for (n, t) in steps.into_iter().enumerate() {
                let before = i.clone();
                match i.apply(t, Some("u"), n as i64) {
                    Ok(()) => prop_assert_eq!(i.status, next_status(before.status, t).unwrap()),
                    Err(_) => prop_assert_eq!(&i, &before),
                }
                prop_assert_eq!(i.resolved_at.is_some(), i.status == Status::Resolved);
                if i.status == Status::Triggered {
                    prop_assert!(i.acknowledged_at.is_none());
                }
                if i.status == Status::Acknowledged {
                    prop_assert!(i.acknowledged_at.is_some());
                }
            }
        }
    }
}

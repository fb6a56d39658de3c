//! The internal timeline: append-only, typed, unfiltered events of one incident.

use crate::Millis;
use serde::{Deserialize, Serialize};

/// What happened. The string form is stable: clients and the SSE `event:` field use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    IncidentDeclared,
    IncidentChanged,
    Acknowledged,
    Resolved,
    Reopened,
    RoleAssigned,
    RoleHandedOver,
    RoleReleased,
    Note,
    UpdatePublished,
    Paged,
    EscalationExhausted,
    AckOverdue,
    UpdateReminder,
    UpdateOverdue,
    CommunicationGap,
    UpdateRequested,
    ReporterNotified,
    NotificationFailed,
    NotificationDead,
    /// The incident fell short of its staffing policy.
    Understaffed,
    /// Every role the staffing policy requires is filled again.
    Staffed,
    /// An alert event arrived (triggered, repeated, acknowledged, resolved, a note).
    Alert,
    /// A change event (a deploy, a config change) on the service.
    Change,
    /// A support report was absorbed by the incident.
    ReportReceived,
    /// The incident's impact on business services was assessed or changed.
    ImpactChanged,
}

impl EventKind {
    pub const ALL: [EventKind; 26] = [
        EventKind::IncidentDeclared,
        EventKind::IncidentChanged,
        EventKind::Acknowledged,
        EventKind::Resolved,
        EventKind::Reopened,
        EventKind::RoleAssigned,
        EventKind::RoleHandedOver,
        EventKind::RoleReleased,
        EventKind::Note,
        EventKind::UpdatePublished,
        EventKind::Paged,
        EventKind::EscalationExhausted,
        EventKind::AckOverdue,
        EventKind::UpdateReminder,
        EventKind::UpdateOverdue,
        EventKind::CommunicationGap,
        EventKind::UpdateRequested,
        EventKind::ReporterNotified,
        EventKind::NotificationFailed,
        EventKind::NotificationDead,
        EventKind::Understaffed,
        EventKind::Staffed,
        EventKind::Alert,
        EventKind::Change,
        EventKind::ReportReceived,
        EventKind::ImpactChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::IncidentDeclared => "incident_declared",
            EventKind::IncidentChanged => "incident_changed",
            EventKind::Acknowledged => "acknowledged",
            EventKind::Resolved => "resolved",
            EventKind::Reopened => "reopened",
            EventKind::RoleAssigned => "role_assigned",
            EventKind::RoleHandedOver => "role_handed_over",
            EventKind::RoleReleased => "role_released",
            EventKind::Note => "note",
            EventKind::UpdatePublished => "update_published",
            EventKind::Paged => "paged",
            EventKind::EscalationExhausted => "escalation_exhausted",
            EventKind::AckOverdue => "ack_overdue",
            EventKind::UpdateReminder => "update_reminder",
            EventKind::UpdateOverdue => "update_overdue",
            EventKind::CommunicationGap => "communication_gap",
            EventKind::UpdateRequested => "update_requested",
            EventKind::ReporterNotified => "reporter_notified",
            EventKind::NotificationFailed => "notification_failed",
            EventKind::NotificationDead => "notification_dead",
            EventKind::Understaffed => "understaffed",
            EventKind::Staffed => "staffed",
            EventKind::Alert => "alert",
            EventKind::Change => "change",
            EventKind::ReportReceived => "report_received",
            EventKind::ImpactChanged => "impact_changed",
        }
    }

    /// The kind named by `s`; `None` for a name this version does not know.
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// An event about to be appended: the store gives it its sequence number.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub incident_id: String,
    pub at: Millis,
    pub actor_id: Option<String>,
    /// The actor's name when the event happened (the timeline is a record, so a later
    /// rename does not rewrite it).
    pub actor_name: Option<String>,
    pub kind: EventKind,
    /// One human-readable line.
    pub body: String,
    /// Structured detail for machines (ids, old and new values).
    pub data: serde_json::Value,
}

/// An appended event. `seq` is global, strictly increasing in commit order, and is
/// the id live streams use for resumption.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEvent {
    pub seq: i64,
    pub id: String,
    pub incident_id: String,
    pub at: Millis,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    pub kind: EventKind,
    pub body: String,
    pub data: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::from_name(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert_eq!(EventKind::from_name("nope"), None);
    }
}

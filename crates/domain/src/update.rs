//! External status updates: curated messages per audience (never the internal timeline).

use crate::incident::PublicState;
use crate::validate::FieldReason;
use crate::{Millis, parse_keyword};
use serde::{Deserialize, Serialize};

/// Who an update is written for; each audience has its own cadence and detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Internal stakeholders: leadership, account managers, other teams.
    Stakeholders,
    /// Support engineers and the people who reported the incident.
    Reporters,
    /// Customers, through the public status page.
    Public,
}

impl Audience {
    pub const ALL: [Audience; 3] = [
        Audience::Stakeholders,
        Audience::Reporters,
        Audience::Public,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Stakeholders => "stakeholders",
            Audience::Reporters => "reporters",
            Audience::Public => "public",
        }
    }

    pub fn parse(input: &str) -> Result<Self, FieldReason> {
        parse_keyword(input, &Self::ALL.map(|a| (a.as_str(), a)))
    }
}

/// A published update.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusUpdate {
    pub id: String,
    pub incident_id: String,
    pub audience: Audience,
    pub state: PublicState,
    pub message: String,
    pub author_id: Option<String>,
    pub published_at: Millis,
    /// The deadline this update answered, when its audience had one.
    pub due_at: Option<Millis>,
    /// How late it was against that deadline (0 when on time).
    pub late_by_ms: Option<i64>,
}

/// The longest update message accepted, in characters.
pub const MAX_MESSAGE: usize = 10_000;

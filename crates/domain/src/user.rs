//! People and what their system role lets them do.

use crate::validate::FieldReason;
use crate::{Millis, parse_keyword};
use serde::{Deserialize, Serialize};

/// A user's role across the whole system (distinct from roles on an incident).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemRole {
    Admin,
    Responder,
    Support,
    Stakeholder,
    Viewer,
}

/// Something a request wants to do; checked against the caller's [`SystemRole`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read incidents, timelines, updates, users, teams, services.
    Read,
    /// Declare a new incident (support engineers file reports too).
    Declare,
    /// Add a note to an incident's internal timeline.
    Note,
    /// Acknowledge, resolve, reopen, change, staff an incident, publish updates.
    Respond,
    /// Manage users, teams, services and other people's tokens.
    Administer,
}

impl SystemRole {
    pub const ALL: [SystemRole; 5] = [
        SystemRole::Admin,
        SystemRole::Responder,
        SystemRole::Support,
        SystemRole::Stakeholder,
        SystemRole::Viewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SystemRole::Admin => "admin",
            SystemRole::Responder => "responder",
            SystemRole::Support => "support",
            SystemRole::Stakeholder => "stakeholder",
            SystemRole::Viewer => "viewer",
        }
    }

    pub fn parse(input: &str) -> Result<Self, FieldReason> {
        parse_keyword(input, &Self::ALL.map(|r| (r.as_str(), r)))
    }

    /// The permission matrix, documented in `docs/api.md`.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            SystemRole::Admin => true,
            SystemRole::Responder => matches!(permission, Read | Declare | Note | Respond),
            SystemRole::Support => matches!(permission, Read | Declare | Note),
            SystemRole::Stakeholder | SystemRole::Viewer => permission == Read,
        }
    }
}

/// A person who can sign in or be paged.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: SystemRole,
    pub time_zone: String,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// Set when the account was deactivated; a deactivated user cannot sign in
    /// and their tokens stop working, but history that names them stays intact.
    pub deactivated_at: Option<Millis>,
    pub must_change_password: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix() {
        use Permission::*;
        let all = [Read, Declare, Note, Respond, Administer];
        let expect = |role: SystemRole| -> Vec<Permission> {
            all.into_iter().filter(|p| role.allows(*p)).collect()
        };
        assert_eq!(expect(SystemRole::Admin), all.to_vec());
        assert_eq!(
            expect(SystemRole::Responder),
            vec![Read, Declare, Note, Respond]
        );
        assert_eq!(expect(SystemRole::Support), vec![Read, Declare, Note]);
        assert_eq!(expect(SystemRole::Stakeholder), vec![Read]);
        assert_eq!(expect(SystemRole::Viewer), vec![Read]);
    }
}

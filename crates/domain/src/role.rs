//! The three incident roles, their assignment history, and the staffing rule.

use crate::validate::FieldReason;
use crate::{Millis, parse_keyword};
use serde::{Deserialize, Serialize};

/// A role on an incident's team. `Responder` may be held by several people at once;
/// `Observer` and `Coordinator` by one person at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentRole {
    Responder,
    Observer,
    Coordinator,
}

impl IncidentRole {
    pub const ALL: [IncidentRole; 3] = [
        IncidentRole::Responder,
        IncidentRole::Observer,
        IncidentRole::Coordinator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentRole::Responder => "responder",
            IncidentRole::Observer => "observer",
            IncidentRole::Coordinator => "coordinator",
        }
    }

    pub fn parse(input: &str) -> Result<Self, FieldReason> {
        parse_keyword(input, &Self::ALL.map(|r| (r.as_str(), r)))
    }

    /// Whether several people may hold the role at the same time.
    pub fn is_shared(self) -> bool {
        self == IncidentRole::Responder
    }
}

/// One person holding one role for a span of time. Rows are never overwritten:
/// a handover closes one row (`released_at`) and opens another.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleAssignment {
    pub id: String,
    pub incident_id: String,
    pub role: IncidentRole,
    pub user_id: String,
    pub assumed_at: Millis,
    pub released_at: Option<Millis>,
    pub assigned_by: Option<String>,
    pub released_by: Option<String>,
    /// The note given when this person handed the role on (or was released).
    pub handover_note: Option<String>,
}

impl RoleAssignment {
    /// A new, active assignment of `role` to `user_id`, starting at `now`.
    pub fn open(
        id: String,
        incident_id: &str,
        role: IncidentRole,
        user_id: &str,
        assigned_by: Option<&str>,
        now: Millis,
    ) -> Self {
        RoleAssignment {
            id,
            incident_id: incident_id.to_string(),
            role,
            user_id: user_id.to_string(),
            assumed_at: now,
            released_at: None,
            assigned_by: assigned_by.map(str::to_string),
            released_by: None,
            handover_note: None,
        }
    }

    pub fn is_active(&self) -> bool {
        self.released_at.is_none()
    }
}

/// What assigning `user` to `role` means given who holds what now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssignmentPlan {
    /// Nobody holds it (or it is shared): open a new row.
    Assign,
    /// Somebody else holds this single-holder role: close their row, open the new one.
    HandOver {
        from_assignment: String,
        from_user: String,
    },
    /// The user already holds the role: nothing to do (a conflict for the caller).
    AlreadyHeld,
}

/// Decides how to give `role` to `user`, given the incident's active assignments.
pub fn plan_assignment(
    active: &[RoleAssignment],
    role: IncidentRole,
    user: &str,
) -> AssignmentPlan {
    let holders: Vec<&RoleAssignment> = active
        .iter()
        .filter(|a| a.role == role && a.is_active())
        .collect();
    if holders.iter().any(|a| a.user_id == user) {
        return AssignmentPlan::AlreadyHeld;
    }
    match (role.is_shared(), holders.first()) {
        (false, Some(current)) => AssignmentPlan::HandOver {
            from_assignment: current.id.clone(),
            from_user: current.user_id.clone(),
        },
        _ => AssignmentPlan::Assign,
    }
}

/// Which roles a severity requires, and whether each must be a different person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staffing {
    pub required: Vec<IncidentRole>,
    pub distinct: bool,
}

/// A way in which an incident's team falls short of its staffing policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffingGap {
    Missing(IncidentRole),
    /// One person holds several required roles where the policy wants distinct people.
    SamePerson {
        user_id: String,
        roles: Vec<IncidentRole>,
    },
}

/// Every gap between the active assignments and the policy; empty means fully staffed.
pub fn staffing_gaps(active: &[RoleAssignment], policy: &Staffing) -> Vec<StaffingGap> {
    let active: Vec<&RoleAssignment> = active.iter().filter(|a| a.is_active()).collect();
    let mut gaps: Vec<StaffingGap> = policy
        .required
        .iter()
        .filter(|r| !active.iter().any(|a| a.role == **r))
        .map(|r| StaffingGap::Missing(*r))
        .collect();
    if policy.distinct {
        let mut users: Vec<&str> = active.iter().map(|a| a.user_id.as_str()).collect();
        users.sort_unstable();
        users.dedup();
        for user in users {
            let mut roles: Vec<IncidentRole> = active
                .iter()
                .filter(|a| a.user_id == user && policy.required.contains(&a.role))
                .map(|a| a.role)
                .collect();
            roles.sort_unstable();
            roles.dedup();
            // A person holding a required role may only be excused if somebody else
            // also covers each of their other roles.
            let uncovered = roles
                .iter()
                .filter(|r| !active.iter().any(|a| a.role == **r && a.user_id != user))
                .count();
            if roles.len() > 1 && uncovered > 1 {
                gaps.push(StaffingGap::SamePerson {
                    user_id: user.to_string(),
                    roles,
                });
            }
        }
    }
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(id: &str, role: IncidentRole, user: &str) -> RoleAssignment {
        RoleAssignment {
            id: id.into(),
            incident_id: "i".into(),
            role,
            user_id: user.into(),
            assumed_at: 0,
            released_at: None,
            assigned_by: None,
            released_by: None,
            handover_note: None,
        }
    }

    #[test]
    fn single_holder_roles_hand_over() {
        let active = [held("a1", IncidentRole::Coordinator, "ana")];
        assert_eq!(
            plan_assignment(&active, IncidentRole::Coordinator, "bo"),
            AssignmentPlan::HandOver {
                from_assignment: "a1".into(),
                from_user: "ana".into()
            }
        );
        assert_eq!(
            plan_assignment(&active, IncidentRole::Coordinator, "ana"),
            AssignmentPlan::AlreadyHeld
        );
        assert_eq!(
            plan_assignment(&active, IncidentRole::Observer, "ana"),
            AssignmentPlan::Assign
        );
    }

    #[test]
    fn responders_accumulate() {
        let active = [held("a1", IncidentRole::Responder, "ana")];
        assert_eq!(
            plan_assignment(&active, IncidentRole::Responder, "bo"),
            AssignmentPlan::Assign
        );
        assert_eq!(
            plan_assignment(&active, IncidentRole::Responder, "ana"),
            AssignmentPlan::AlreadyHeld
        );
    }

    #[test]
    fn released_rows_do_not_count() {
        let mut gone = held("a1", IncidentRole::Coordinator, "ana");
        gone.released_at = Some(5);
        assert_eq!(
            plan_assignment(&[gone], IncidentRole::Coordinator, "ana"),
            AssignmentPlan::Assign
        );
    }

    #[test]
    fn staffing_gaps_found() {
        let policy = Staffing {
            required: IncidentRole::ALL.to_vec(),
            distinct: true,
        };
        assert_eq!(staffing_gaps(&[], &policy).len(), 3);
        let full = [
            held("1", IncidentRole::Responder, "ana"),
            held("2", IncidentRole::Observer, "bo"),
            held("3", IncidentRole::Coordinator, "cy"),
        ];
        assert!(staffing_gaps(&full, &policy).is_empty());
        let doubled = [
            held("1", IncidentRole::Responder, "ana"),
            held("2", IncidentRole::Observer, "bo"),
            held("3", IncidentRole::Coordinator, "ana"),
        ];
        assert_eq!(
            staffing_gaps(&doubled, &policy),
            vec![StaffingGap::SamePerson {
                user_id: "ana".into(),
                roles: vec![IncidentRole::Responder, IncidentRole::Coordinator]
            }]
        );
        // A second responder covers ana's responder duty, so ana may coordinate.
        let covered = [
            held("1", IncidentRole::Responder, "ana"),
            held("4", IncidentRole::Responder, "dee"),
            held("2", IncidentRole::Observer, "bo"),
            held("3", IncidentRole::Coordinator, "ana"),
        ];
        assert!(staffing_gaps(&covered, &policy).is_empty());
        let relaxed = Staffing {
            distinct: false,
            ..policy
        };
        assert!(staffing_gaps(&doubled, &relaxed).is_empty());
    }
}

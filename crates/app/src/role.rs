//! Staffing an incident: assign, hand over and release the three roles.

use crate::{Actor, App, AppError, AppResult};
use serde_json::json;
use triad_domain::role::{AssignmentPlan, IncidentRole, RoleAssignment, plan_assignment};
use triad_domain::timeline::EventKind;
use triad_domain::user::Permission;
use triad_domain::validate::{self, Validation};
use triad_store::role::{self as roles, Holder};
use triad_store::{incident as incidents, new_id};

/// The longest handover note accepted.
pub const MAX_NOTE: usize = 5_000;

/// Give `role` to `user` (id or email). For observer and coordinator this hands the
/// role over from its current holder, whose row closes with `note`.
#[derive(Debug, Clone, Default)]
pub struct Assign {
    pub role: String,
    pub user: String,
    pub note: Option<String>,
}

impl App {
    pub async fn assign_role(
        &self,
        actor: &Actor,
        key: &str,
        input: Assign,
    ) -> AppResult<Vec<Holder>> {
        actor.require(Permission::Respond)?;
        let mut v = Validation::new();
        let role = v.check("role", IncidentRole::parse(&input.role));
        let note = v
            .check(
                "note",
                validate::optional_text(input.note.as_deref(), MAX_NOTE),
            )
            .flatten();
        if input.user.trim().is_empty() {
            v.push("user", "must not be empty");
        }
        let now = self.now();
        let mut d = self.decide().await?;
        let mut incident = incidents::lock(d.conn(), key)
            .await?
            .ok_or(AppError::NotFound("incident"))?;
        let user = match self.find_user(d.conn(), &input.user).await? {
            Some(u) if u.deactivated_at.is_some() => {
                v.push("user", "is deactivated");
                None
            }
            Some(u) => Some(u),
            None if input.user.trim().is_empty() => None,
            None => {
                v.push("user", "no such user");
                None
            }
        };
        v.finish()?;
        let (Some(role), Some(user)) = (role, user) else {
            return Err(AppError::Internal(
                "validation passed with a missing field".into(),
            ));
        };
        let active: Vec<RoleAssignment> = roles::list(d.conn(), &incident.id, true)
            .await?
            .into_iter()
            .map(|h| h.assignment)
            .collect();
        let by = actor.user_id().map(str::to_string);
        let assignment =
            RoleAssignment::open(new_id(), &incident.id, role, &user.id, by.as_deref(), now);
        let event = match plan_assignment(&active, role, &user.id) {
            AssignmentPlan::AlreadyHeld => {
                return Err(AppError::conflict(
                    "role_already_held",
                    format!(
                        "{} is already {} of this incident",
                        user.name,
                        role.as_str()
                    ),
                ));
            }
            AssignmentPlan::Assign => {
                roles::open(d.conn(), &assignment).await?;
                let body = format!(
                    "{} assigned {} as {}",
                    actor.name(),
                    user.name,
                    role.as_str()
                );
                let data = json!({"role": role.as_str(), "user_id": user.id, "assignment_id": assignment.id, "note": note});
                self.event(actor, &incident.id, EventKind::RoleAssigned, body, data)
            }
            AssignmentPlan::HandOver {
                from_assignment,
                from_user,
            } => {
                let releaser = by.as_deref().unwrap_or(&from_user);
                roles::close(d.conn(), &from_assignment, releaser, note.as_deref(), now).await?;
                roles::open(d.conn(), &assignment).await?;
                let from_name = self
                    .find_user(d.conn(), &from_user)
                    .await?
                    .map(|u| u.name)
                    .unwrap_or_else(|| from_user.clone());
                let mut body = format!(
                    "{} handed {} over from {from_name} to {}",
                    actor.name(),
                    role.as_str(),
                    user.name
                );
                if let Some(n) = &note {
                    body.push_str(&format!(": {n}"));
                }
                let data = json!({
                    "role": role.as_str(), "from_user_id": from_user, "to_user_id": user.id,
                    "released_assignment_id": from_assignment, "assignment_id": assignment.id, "note": note,
                });
                self.event(actor, &incident.id, EventKind::RoleHandedOver, body, data)
            }
        };
        d.append(event).await?;
        crate::engine::staffing::restaff(&mut d, &mut incident, now, false).await?;
        let holders = roles::list(d.conn(), &incident.id, true).await?;
        d.commit().await?;
        Ok(holders)
    }

    /// Ends `user`'s hold on `role`, with an optional note.
    pub async fn release_role(
        &self,
        actor: &Actor,
        key: &str,
        role: &str,
        user: &str,
        note: Option<&str>,
    ) -> AppResult<Vec<Holder>> {
        actor.require(Permission::Respond)?;
        let mut v = Validation::new();
        let role = v.check("role", IncidentRole::parse(role));
        let note = v
            .check("note", validate::optional_text(note, MAX_NOTE))
            .flatten();
        v.finish()?;
        let Some(role) = role else {
            return Err(AppError::Internal(
                "validation passed with a missing field".into(),
            ));
        };
        let now = self.now();
        let mut d = self.decide().await?;
        let mut incident = incidents::lock(d.conn(), key)
            .await?
            .ok_or(AppError::NotFound("incident"))?;
        let user = self
            .find_user(d.conn(), user)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        let held = roles::list(d.conn(), &incident.id, true)
            .await?
            .into_iter()
            .find(|h| h.assignment.role == role && h.assignment.user_id == user.id)
            .ok_or(AppError::NotFound("role assignment"))?;
        let releaser = actor.user_id().unwrap_or(&user.id).to_string();
        roles::close(
            d.conn(),
            &held.assignment.id,
            &releaser,
            note.as_deref(),
            now,
        )
        .await?;
        let mut body = format!(
            "{} released {} from {}",
            actor.name(),
            user.name,
            role.as_str()
        );
        if let Some(n) = &note {
            body.push_str(&format!(": {n}"));
        }
        let data = json!({"role": role.as_str(), "user_id": user.id, "assignment_id": held.assignment.id, "note": note});
        d.append(self.event(actor, &incident.id, EventKind::RoleReleased, body, data))
            .await?;
        crate::engine::staffing::restaff(&mut d, &mut incident, now, false).await?;
        let holders = roles::list(d.conn(), &incident.id, true).await?;
        d.commit().await?;
        Ok(holders)
    }

    /// The full role history of an incident, oldest first.
    pub async fn role_history(&self, actor: &Actor, key: &str) -> AppResult<Vec<Holder>> {
        actor.require(Permission::Read)?;
        let mut conn = self.store().read().await?;
        let incident = incidents::get(&mut conn, key)
            .await?
            .ok_or(AppError::NotFound("incident"))?;
        Ok(roles::list(&mut conn, &incident.id, false).await?)
    }
}

/// Allows responders and administrators, and whoever holds the incident's coordinator
/// role now (publishing updates and setting impact are the coordinator's job).
pub(crate) async fn require_respond_or_coordinator(
    conn: &mut triad_store::Conn,
    actor: &Actor,
    incident_id: &str,
) -> AppResult<()> {
    if actor.can(Permission::Respond) {
        return Ok(());
    }
    let coordinates = roles::list(conn, incident_id, true).await?.iter().any(|h| {
        h.assignment.role == IncidentRole::Coordinator
            && Some(h.assignment.user_id.as_str()) == actor.user_id()
    });
    if coordinates {
        Ok(())
    } else {
        actor.require(Permission::Respond)
    }
}

//! Who is acting: a signed-in user, the system itself (offline administration), or an
//! integration key sending alerts.

use crate::{AppError, AppResult};
use triad_domain::user::{Permission, User};

#[derive(Debug, Clone)]
pub enum Actor {
    User(User),
    /// The operator at the server's console (`triad user add`, `triad token create`,
    /// first-start bootstrap). Allowed everything.
    System,
    /// An integration key sending alerts (its name is shown on the timeline). It may
    /// open, acknowledge, resolve and annotate incidents, nothing else.
    Integration(String),
}

impl Actor {
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Actor::User(u) => Some(&u.id),
            Actor::System | Actor::Integration(_) => None,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Actor::User(u) => &u.name,
            Actor::System => "Triad",
            Actor::Integration(name) => name,
        }
    }

    pub fn can(&self, permission: Permission) -> bool {
        match self {
            Actor::User(u) => !u.must_change_password && u.role.allows(permission),
            Actor::System => true,
            Actor::Integration(_) => matches!(
                permission,
                Permission::Declare | Permission::Note | Permission::Respond
            ),
        }
    }

    /// `Ok` when the actor may do `permission`, else a 403-kind error saying what is needed.
    /// A user still on a one-time password may do nothing until they change it.
    pub fn require(&self, permission: Permission) -> AppResult<()> {
        if matches!(self, Actor::User(u) if u.must_change_password) {
            return Err(AppError::PasswordChangeRequired);
        }
        if self.can(permission) {
            return Ok(());
        }
        let role = match self {
            Actor::User(u) => u.role.as_str(),
            Actor::System => "system",
            Actor::Integration(_) => "integration",
        };
        let what = match permission {
            Permission::Read => "read",
            Permission::Declare => "declare incidents",
            Permission::Note => "add notes",
            Permission::Respond => "act on incidents",
            Permission::Administer => "administer Triad",
        };
        Err(AppError::Forbidden(format!(
            "the {role} role may not {what}"
        )))
    }

    /// `Ok` when the actor is `user_id` or may administer.
    pub fn require_self_or_admin(&self, user_id: &str) -> AppResult<()> {
        if self.user_id() == Some(user_id) {
            return Ok(());
        }
        self.require(Permission::Administer)
    }
}

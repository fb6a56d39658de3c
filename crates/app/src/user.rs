//! Users: create, list, change, deactivate; and the first administrator.

use crate::auth::check_password;
use crate::secret;
use crate::{Actor, App, AppError, AppResult};
use triad_domain::user::{Permission, SystemRole, User};
use triad_domain::validate::{self, Email, Validation};
use triad_store::{counter, new_id, token as tokens, user as users};

/// A user to create. `password` is optional: a user without one signs in only with
/// tokens an admin makes for them.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: String,
    pub time_zone: Option<String>,
    pub password: Option<String>,
}

/// Fields to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<String>,
    pub time_zone: Option<String>,
}

/// The first administrator, created on first start with a one-time password.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    pub email: String,
    pub password: String,
}

fn check_time_zone(v: &mut Validation, tz: Option<&str>) -> Option<String> {
    let tz = tz.map(str::trim).filter(|t| !t.is_empty()).unwrap_or("UTC");
    match jiff::tz::TimeZone::get(tz) {
        Ok(_) => Some(tz.to_string()),
        Err(_) => {
            v.push(
                "time_zone",
                "must be an IANA time zone such as Europe/Berlin",
            );
            None
        }
    }
}

impl App {
    pub async fn create_user(&self, actor: &Actor, input: NewUser) -> AppResult<User> {
        actor.require(Permission::Administer)?;
        let mut v = Validation::new();
        let email = v.check("email", Email::parse(&input.email));
        let name = v.check("name", validate::text(&input.name, 200));
        let role = v.check("role", SystemRole::parse(&input.role));
        let tz = check_time_zone(&mut v, input.time_zone.as_deref());
        v.finish()?;
        let (Some(email), Some(name), Some(role), Some(tz)) = (email, name, role, tz) else {
            return Err(AppError::Internal(
                "validation passed with a missing field".into(),
            ));
        };
        let hash = match &input.password {
            Some(p) => {
                check_password(p, "password")?;
                Some(
                    secret::hash_password_off_thread(p)
                        .await
                        .map_err(AppError::Internal)?,
                )
            }
            None => None,
        };
        let now = self.now();
        let id = new_id();
        let mut d = self.decide().await?;
        if users::get_by_email(d.conn(), email.as_str())
            .await?
            .is_some()
        {
            return Err(AppError::conflict(
                "email_taken",
                format!("a user with email {email} exists"),
            ));
        }
        users::insert(
            d.conn(),
            &users::NewUser {
                id: &id,
                email: email.as_str(),
                name: &name,
                role,
                time_zone: &tz,
                password_hash: hash.as_deref(),
                must_change_password: false,
                now,
            },
        )
        .await?;
        let user = users::get(d.conn(), &id)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        d.commit().await?;
        Ok(user)
    }

    /// On an empty database, creates an admin with a random one-time password and
    /// returns it (to print once). `None` when any user exists already.
    pub async fn bootstrap_admin(&self, email: &str) -> AppResult<Option<Bootstrap>> {
        let email =
            Email::parse(email).map_err(|e| AppError::field("bootstrap_admin_email", e.0))?;
        let mut conn = self.store().read().await?;
        let existing = users::count(&mut conn).await?;
        drop(conn);
        if existing > 0 {
            return Ok(None);
        }
        let password = secret::random_secret(20);
        let hash = secret::hash_password_off_thread(&password)
            .await
            .map_err(AppError::Internal)?;
        let mut d = self.decide().await?;
        // Checked again holding the bootstrap row's lock: two nodes may start at once.
        counter::next(d.conn(), counter::BOOTSTRAP).await?;
        if users::count(d.conn()).await? > 0 {
            return Ok(None);
        }
        users::insert(
            d.conn(),
            &users::NewUser {
                id: &new_id(),
                email: email.as_str(),
                name: "Administrator",
                role: SystemRole::Admin,
                time_zone: "UTC",
                password_hash: Some(&hash),
                must_change_password: true,
                now: self.now(),
            },
        )
        .await?;
        d.commit().await?;
        Ok(Some(Bootstrap {
            email: email.to_string(),
            password,
        }))
    }

    pub async fn users(&self, actor: &Actor) -> AppResult<Vec<User>> {
        actor.require(Permission::Read)?;
        let mut conn = self.store().read().await?;
        Ok(users::list(&mut conn).await?)
    }

    /// A user by id or email; `me` names the actor.
    pub async fn user(&self, actor: &Actor, key: &str) -> AppResult<User> {
        // Anyone signed in may see themselves (even before changing a one-time password).
        let key = if key == "me" {
            actor.user_id().ok_or(AppError::NotFound("user"))?
        } else {
            actor.require(Permission::Read)?;
            key
        };
        let mut conn = self.store().read().await?;
        self.find_user(&mut conn, key)
            .await?
            .ok_or(AppError::NotFound("user"))
    }

    /// Changes a user. Anyone may change their own name and time zone; email and
    /// role are an admin's to change.
    pub async fn change_user(
        &self,
        actor: &Actor,
        key: &str,
        change: UserChange,
    ) -> AppResult<User> {
        let mut d = self.decide().await?;
        let found = self
            .find_user(d.conn(), key)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        actor.require_self_or_admin(&found.id)?;
        if (change.email.is_some() || change.role.is_some()) && !actor.can(Permission::Administer) {
            return Err(AppError::Forbidden(
                "only an admin may change a user's email or role".into(),
            ));
        }
        let mut user = users::lock(d.conn(), &found.id)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        let mut v = Validation::new();
        if let Some(e) = change
            .email
            .as_deref()
            .and_then(|e| v.check("email", Email::parse(e)))
        {
            if e.as_str() != user.email
                && users::get_by_email(d.conn(), e.as_str()).await?.is_some()
            {
                return Err(AppError::conflict(
                    "email_taken",
                    format!("a user with email {e} exists"),
                ));
            }
            user.email = e.to_string();
        }
        if let Some(n) = change
            .name
            .as_deref()
            .and_then(|n| v.check("name", validate::text(n, 200)))
        {
            user.name = n;
        }
        if let Some(r) = change
            .role
            .as_deref()
            .and_then(|r| v.check("role", SystemRole::parse(r)))
        {
            user.role = r;
        }
        if let Some(tz) = change
            .time_zone
            .as_deref()
            .and_then(|tz| check_time_zone(&mut v, Some(tz)))
        {
            user.time_zone = tz;
        }
        v.finish()?;
        user.updated_at = self.now();
        users::update(d.conn(), &user).await?;
        d.commit().await?;
        Ok(user)
    }

    /// Deactivates a user and revokes their tokens; their history stays.
    pub async fn deactivate_user(&self, actor: &Actor, key: &str) -> AppResult<User> {
        actor.require(Permission::Administer)?;
        let now = self.now();
        let mut d = self.decide().await?;
        let found = self
            .find_user(d.conn(), key)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        let mut user = users::lock(d.conn(), &found.id)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        if actor.user_id() == Some(user.id.as_str()) {
            return Err(AppError::conflict(
                "cannot_deactivate_self",
                "you cannot deactivate yourself",
            ));
        }
        if user.deactivated_at.is_none() {
            user.deactivated_at = Some(now);
            user.updated_at = now;
            users::update(d.conn(), &user).await?;
            tokens::revoke_all_of(d.conn(), &user.id, now).await?;
        }
        d.commit().await?;
        Ok(user)
    }
}

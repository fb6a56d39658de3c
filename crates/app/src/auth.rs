//! Signing in: bearer tokens on every request, and email + password to get a token.

use crate::secret::{self, MIN_PASSWORD};
use crate::token::NewToken;
use crate::{Actor, App, AppError, AppResult};
use triad_domain::user::User;
use triad_store::{token as tokens, user as users};

/// How long a token made by a password sign-in lives.
pub const LOGIN_TOKEN_DAYS: u32 = 30;

impl App {
    /// The user behind a bearer token, if the token is live and the user active.
    pub async fn authenticate(&self, bearer: &str) -> AppResult<Actor> {
        let invalid = AppError::Unauthenticated("the token is invalid, expired or revoked");
        if !bearer.starts_with(secret::TOKEN_PREFIX) {
            return Err(invalid);
        }
        let now = self.now();
        let hash = secret::token_hash(bearer);
        let mut conn = self.store().read().await?;
        let token = tokens::find_live(&mut conn, &hash, now)
            .await?
            .ok_or(invalid)?;
        let user = users::get(&mut conn, &token.user_id)
            .await?
            .filter(|u| u.deactivated_at.is_none())
            .ok_or(AppError::Unauthenticated("the token's user is deactivated"))?;
        drop(conn);
        if token.last_used_at.is_none_or(|t| t < now - 60_000) {
            let mut d = self.decide().await?;
            tokens::touch(d.conn(), &token.id, now).await?;
            d.commit().await?;
        }
        Ok(Actor::User(user))
    }

    /// Checks an email and password and issues a new token (valid for
    /// [`LOGIN_TOKEN_DAYS`]). Returns the token, shown once, and the user.
    pub async fn login(&self, email: &str, password: &str) -> AppResult<(String, User)> {
        let refused = AppError::Unauthenticated("wrong email or password");
        let email = email.trim().to_ascii_lowercase();
        let mut conn = self.store().read().await?;
        let found = users::credentials(&mut conn, &email).await?;
        drop(conn);
        let (user, hash) = match found {
            Some((user, Some(hash))) if user.deactivated_at.is_none() => (user, hash),
            _ => {
                // Same work as a real check, so timing does not reveal which emails exist.
                secret::verify_password_off_thread(password, None).await;
                return Err(refused);
            }
        };
        if !secret::verify_password_off_thread(password, Some(hash)).await {
            return Err(refused);
        }
        let actor = Actor::User(user.clone());
        let (token, _) = self
            .create_token(
                &actor,
                NewToken {
                    user: Some(user.id.clone()),
                    name: "password sign-in".into(),
                    lifetime_days: Some(LOGIN_TOKEN_DAYS),
                },
            )
            .await?;
        Ok((token, user))
    }

    /// Changes the actor's own password; needs the current one.
    pub async fn change_password(&self, actor: &Actor, current: &str, new: &str) -> AppResult<()> {
        let Actor::User(user) = actor else {
            return Err(AppError::Forbidden("only a user has a password".into()));
        };
        let mut conn = self.store().read().await?;
        let stored = users::credentials(&mut conn, &user.email)
            .await?
            .and_then(|(_, h)| h);
        drop(conn);
        let matches = match stored {
            Some(h) => secret::verify_password_off_thread(current, Some(h)).await,
            None => false,
        };
        if !matches {
            return Err(AppError::field(
                "current_password",
                "is not the current password",
            ));
        }
        check_password(new, "new_password")?;
        if new == current {
            return Err(AppError::field(
                "new_password",
                "must differ from the current password",
            ));
        }
        let hash = secret::hash_password_off_thread(new)
            .await
            .map_err(AppError::Internal)?;
        let mut d = self.decide().await?;
        users::set_password(d.conn(), &user.id, &hash, false, self.now()).await?;
        d.commit().await
    }
}

/// Refuses passwords that are too short (or absurdly long).
pub fn check_password(password: &str, field: &str) -> AppResult<()> {
    let n = password.chars().count();
    if n < MIN_PASSWORD {
        return Err(AppError::field(
            field,
            format!("must be at least {MIN_PASSWORD} characters"),
        ));
    }
    if n > 1024 {
        return Err(AppError::field(field, "must be at most 1024 characters"));
    }
    Ok(())
}

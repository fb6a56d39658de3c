//! API tokens: create (shown once), list, revoke.

use crate::secret;
use crate::{Actor, App, AppError, AppResult};
use triad_domain::validate;
use triad_store::token::{self as tokens, ApiToken};
use triad_store::{new_id, user as users};

/// A token to create. `user` is an id or email; `None` means the actor.
#[derive(Debug, Clone, Default)]
pub struct NewToken {
    pub user: Option<String>,
    pub name: String,
    /// Lifetime in days (1..=3650); `None` never expires.
    pub lifetime_days: Option<u32>,
}

/// The longest token lifetime accepted, in days.
pub const MAX_LIFETIME_DAYS: u32 = 3650;

impl App {
    /// Creates a token; returns the secret (shown once, never stored) and its metadata.
    /// Users may create their own; admins anybody's.
    pub async fn create_token(
        &self,
        actor: &Actor,
        input: NewToken,
    ) -> AppResult<(String, ApiToken)> {
        let name = validate::text(&input.name, 100).map_err(|e| AppError::field("name", e.0))?;
        let now = self.now();
        let expires_at = match input.lifetime_days {
            None => None,
            Some(d @ 1..=MAX_LIFETIME_DAYS) => Some(now + i64::from(d) * 86_400_000),
            Some(_) => {
                return Err(AppError::field(
                    "expires_in_days",
                    format!("must be between 1 and {MAX_LIFETIME_DAYS}"),
                ));
            }
        };
        let user_key = match (&input.user, actor.user_id()) {
            (Some(u), _) => u.clone(),
            (None, Some(me)) => me.to_string(),
            (None, None) => return Err(AppError::field("user", "is required")),
        };
        let mut d = self.decide().await?;
        let user = self
            .find_user(d.conn(), &user_key)
            .await?
            .ok_or_else(|| AppError::field("user", "no such user"))?;
        actor.require_self_or_admin(&user.id)?;
        if user.deactivated_at.is_some() {
            return Err(AppError::field("user", "is deactivated"));
        }
        let secret = secret::new_token();
        let token = ApiToken {
            id: new_id(),
            user_id: user.id,
            name,
            prefix: secret::token_display_prefix(&secret),
            created_at: now,
            expires_at,
            last_used_at: None,
            revoked_at: None,
        };
        tokens::insert(d.conn(), &token, &secret::token_hash(&secret)).await?;
        d.commit().await?;
        Ok((secret, token))
    }

    /// The actor's tokens, or with `all` (admins only) everybody's.
    pub async fn tokens(&self, actor: &Actor, all: bool) -> AppResult<Vec<ApiToken>> {
        let mut conn = self.store().read().await?;
        if all {
            actor.require(triad_domain::user::Permission::Administer)?;
            return Ok(tokens::list(&mut conn, None).await?);
        }
        let me = actor
            .user_id()
            .ok_or_else(|| AppError::field("all", "the system actor has no tokens of its own"))?;
        Ok(tokens::list(&mut conn, Some(me)).await?)
    }

    pub async fn token(&self, actor: &Actor, id: &str) -> AppResult<ApiToken> {
        let mut conn = self.store().read().await?;
        let token = tokens::get(&mut conn, id)
            .await?
            .ok_or(AppError::NotFound("token"))?;
        // Somebody else's token is reported missing rather than forbidden, so ids
        // cannot be probed.
        if actor.require_self_or_admin(&token.user_id).is_err() {
            return Err(AppError::NotFound("token"));
        }
        Ok(token)
    }

    /// Revokes a token at once; idempotent.
    pub async fn revoke_token(&self, actor: &Actor, id: &str) -> AppResult<()> {
        let token = self.token(actor, id).await?;
        let mut d = self.decide().await?;
        tokens::revoke(d.conn(), &token.id, self.now()).await?;
        d.commit().await
    }

    /// Looks a user up by id or email.
    pub(crate) async fn find_user(
        &self,
        conn: &mut triad_store::Conn,
        key: &str,
    ) -> AppResult<Option<triad_domain::user::User>> {
        let key = key.trim();
        if key.contains('@') {
            Ok(users::get_by_email(conn, &key.to_ascii_lowercase()).await?)
        } else {
            Ok(users::get(conn, key).await?)
        }
    }
}

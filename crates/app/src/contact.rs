//! A person's contact methods (email, webhook, Slack/Mattermost, SMS, voice) and
//! notification rules (which method, after what delay, for which urgency). A user
//! manages their own; an administrator anyone's.

use crate::{Actor, App, AppResult, secret};
use triad_domain::validate::{self, Validation};
use triad_store::contact::{self, ContactMethod, Rule};
use triad_store::new_id;

/// The contact-method types, as the API spells them.
pub const TYPES: [&str; 5] = ["email", "webhook", "slack", "sms", "voice"];
/// Urgencies a rule can apply to.
pub const URGENCIES: [&str; 3] = ["high", "low", "any"];
/// The longest delay a rule may have (one day).
pub const MAX_RULE_DELAY_SECONDS: i64 = 86_400;

#[derive(Debug, Clone, Default)]
pub struct MethodInput {
    pub kind: String,
    pub address: String,
    pub label: Option<String>,
    /// For webhooks: the signing secret; generated when absent.
    pub secret: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RuleInput {
    pub contact_method_id: String,
    pub delay_seconds: i64,
    pub urgency: Option<String>,
}

/// Checks an `http://` or `https://` URL with a host and no spaces.
pub fn check_url(input: &str) -> Result<String, validate::FieldReason> {
    let s = input.trim();
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or_else(|| validate::FieldReason("must be an http:// or https:// URL".into()))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || s.chars().any(char::is_whitespace) || s.len() > 2000 {
        return Err(validate::FieldReason(
            "must be an http:// or https:// URL with a host and no spaces".into(),
        ));
    }
    Ok(s.to_string())
}

/// Checks an E.164 phone number: `+` then 8 to 15 digits.
pub fn check_phone(input: &str) -> Result<String, validate::FieldReason> {
    let s: String = input.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let ok = s
        .strip_prefix('+')
        .is_some_and(|d| (8..=15).contains(&d.len()) && d.chars().all(|c| c.is_ascii_digit()));
    if ok {
        Ok(s)
    } else {
        Err(validate::FieldReason(
            "must be an E.164 phone number such as +4915112345678".into(),
        ))
    }
}

/// Checks `address` for a contact method of type `kind`.
pub fn check_address(kind: &str, address: &str) -> Result<String, validate::FieldReason> {
    match kind {
        "email" => validate::Email::parse(address).map(|e| e.as_str().to_string()),
        "webhook" | "slack" => check_url(address),
        "sms" | "voice" => check_phone(address),
        _ => Err(validate::FieldReason("unknown contact method type".into())),
    }
}

/// A new webhook signing secret.
pub fn new_webhook_secret() -> String {
    format!("whsec_{}", secret::random_secret(32))
}

impl App {
    /// The user (id, email or `me`) whose contact settings `actor` may manage.
    async fn contact_owner(&self, actor: &Actor, key: &str) -> AppResult<String> {
        let user = self.user(actor, key).await?;
        actor.require_self_or_admin(&user.id)?;
        Ok(user.id)
    }

    /// Adds a contact method. A webhook's secret is returned here, and only here.
    pub async fn add_contact_method(
        &self,
        actor: &Actor,
        user: &str,
        input: MethodInput,
    ) -> AppResult<ContactMethod> {
        let user_id = self.contact_owner(actor, user).await?;
        let mut v = Validation::new();
        let kind = input.kind.trim().to_ascii_lowercase();
        if !TYPES.contains(&kind.as_str()) {
            v.push("type", format!("must be one of: {}", TYPES.join(", ")));
        }
        let address = if TYPES.contains(&kind.as_str()) {
            v.check("address", check_address(&kind, &input.address))
        } else {
            None
        };
        let label = v
            .check(
                "label",
                validate::optional_text(input.label.as_deref(), 100),
            )
            .flatten();
        let secret = match (kind.as_str(), input.secret.as_deref().map(str::trim)) {
            ("webhook", Some(s)) if s.len() < 16 || s.len() > 200 => {
                v.push("secret", "must be between 16 and 200 characters");
                None
            }
            ("webhook", Some(s)) => Some(s.to_string()),
            ("webhook", None) => Some(new_webhook_secret()),
            (_, Some(_)) => {
                v.push("secret", "only webhook contact methods have a secret");
                None
            }
            (_, None) => None,
        };
        v.finish()?;
        let m = ContactMethod {
            id: new_id(),
            user_id,
            kind,
            address: address.unwrap_or_default(),
            label,
            secret,
            created_at: self.now(),
        };
        let mut d = self.decide().await?;
        contact::insert_method(d.conn(), &m).await?;
        d.commit().await?;
        Ok(m)
    }

    pub async fn contact_methods(
        &self,
        actor: &Actor,
        user: &str,
    ) -> AppResult<Vec<ContactMethod>> {
        let user_id = self.contact_owner(actor, user).await?;
        let mut conn = self.store().read().await?;
        Ok(contact::methods(&mut conn, &user_id).await?)
    }

    /// Deletes a contact method and the rules that use it.
    pub async fn delete_contact_method(
        &self,
        actor: &Actor,
        user: &str,
        id: &str,
    ) -> AppResult<()> {
        let user_id = self.contact_owner(actor, user).await?;
        let mut d = self.decide().await?;
        contact::delete_method(d.conn(), &user_id, id).await?;
        d.commit().await
    }

    pub async fn add_notification_rule(
        &self,
        actor: &Actor,
        user: &str,
        input: RuleInput,
    ) -> AppResult<Rule> {
        let user_id = self.contact_owner(actor, user).await?;
        let mut v = Validation::new();
        if !(0..=MAX_RULE_DELAY_SECONDS).contains(&input.delay_seconds) {
            v.push(
                "delay_seconds",
                format!("must be between 0 and {MAX_RULE_DELAY_SECONDS}"),
            );
        }
        let urgency = input
            .urgency
            .as_deref()
            .unwrap_or("any")
            .trim()
            .to_ascii_lowercase();
        if !URGENCIES.contains(&urgency.as_str()) {
            v.push(
                "urgency",
                format!("must be one of: {}", URGENCIES.join(", ")),
            );
        }
        let mut d = self.decide().await?;
        let methods = contact::methods(d.conn(), &user_id).await?;
        if !methods.iter().any(|m| m.id == input.contact_method_id) {
            v.push("contact_method_id", "no such contact method for this user");
        }
        v.finish()?;
        let r = Rule {
            id: new_id(),
            user_id,
            contact_method_id: input.contact_method_id,
            delay_seconds: input.delay_seconds,
            urgency,
            created_at: self.now(),
        };
        contact::insert_rule(d.conn(), &r).await?;
        d.commit().await?;
        Ok(r)
    }

    pub async fn notification_rules(&self, actor: &Actor, user: &str) -> AppResult<Vec<Rule>> {
        let user_id = self.contact_owner(actor, user).await?;
        let mut conn = self.store().read().await?;
        Ok(contact::rules(&mut conn, &user_id).await?)
    }

    pub async fn delete_notification_rule(
        &self,
        actor: &Actor,
        user: &str,
        id: &str,
    ) -> AppResult<()> {
        let user_id = self.contact_owner(actor, user).await?;
        let mut d = self.decide().await?;
        contact::delete_rule(d.conn(), &user_id, id).await?;
        d.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_per_type() {
        assert!(check_address("webhook", "https://hooks.example.com/x").is_ok());
        assert!(check_address("slack", "http://127.0.0.1:9/hook").is_ok());
        assert!(check_address("webhook", "ftp://x").is_err());
        assert!(check_address("webhook", "https:///nohost").is_err());
        assert_eq!(
            check_address("sms", "+49 151 1234 5678").unwrap(),
            "+4915112345678"
        );
        assert!(check_address("voice", "0151123").is_err());
        assert!(check_address("email", "not-an-email").is_err());
    }
}

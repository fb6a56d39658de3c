//! Integration keys of services (create, list, revoke) and business services (the
//! customer-facing capabilities that depend on services).

use crate::team::taken;
use crate::{Actor, App, AppError, AppResult};
use rand::RngCore;
use rand::rngs::OsRng;
use triad_domain::user::Permission;
use triad_domain::validate::{self, Validation};
use triad_intake::generic::Mapping;
use triad_store::business_service::{self as business, BusinessService, StakeholderGroup};
use triad_store::integration_key::{self as keys, IntegrationKey};
use triad_store::{Conn, new_id};

/// Length of an integration key (PagerDuty's routing key length).
pub const KEY_LENGTH: usize = 32;
/// Events per minute per key unless the key says otherwise.
pub const DEFAULT_RATE_LIMIT: i64 = 6_000;
/// The most a key may be allowed.
pub const MAX_RATE_LIMIT: i64 = 1_000_000;

/// A key to create.
#[derive(Debug, Clone, Default)]
pub struct KeyInput {
    pub name: Option<String>,
    /// The generic webhook's field mapping (JSON); default [`Mapping::default`].
    pub mapping: Option<serde_json::Value>,
    pub rate_limit_per_minute: Option<i64>,
}

/// A business service to create, or the fields to change (`None` keeps a value).
#[derive(Debug, Clone, Default)]
pub struct BusinessInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub tier: Option<i64>,
    pub customers_served: Option<String>,
    pub stakeholder_groups: Option<Vec<StakeholderGroup>>,
    /// Service ids or names.
    pub services: Option<Vec<String>>,
}

/// A new random key: 32 lowercase letters and digits.
fn new_key() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; KEY_LENGTH];
    OsRng.fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

impl App {
    /// Creates an integration key for a service; returns it with the key itself, which
    /// is shown this once (only its SHA-256 is kept).
    pub async fn create_integration_key(
        &self,
        actor: &Actor,
        service: &str,
        input: KeyInput,
    ) -> AppResult<(IntegrationKey, String)> {
        actor.require(Permission::Administer)?;
        let mut v = Validation::new();
        let name = v
            .check("name", validate::optional_text(input.name.as_deref(), 100))
            .flatten();
        let mapping = match input.mapping {
            None => None,
            Some(m) => match serde_json::from_value::<Mapping>(m) {
                Ok(m) => match m.validate() {
                    Ok(()) => serde_json::to_string(&m).ok(),
                    Err(r) => {
                        v.push("mapping", r.to_string());
                        None
                    }
                },
                Err(e) => {
                    v.push("mapping", e.to_string());
                    None
                }
            },
        };
        let limit = input.rate_limit_per_minute.unwrap_or(DEFAULT_RATE_LIMIT);
        if !(1..=MAX_RATE_LIMIT).contains(&limit) {
            v.push(
                "rate_limit_per_minute",
                format!("must be between 1 and {MAX_RATE_LIMIT}"),
            );
        }
        let mut d = self.decide().await?;
        let svc = crate::service::find(d.conn(), service)
            .await?
            .ok_or(AppError::NotFound("service"))?;
        v.finish()?;
        let key = new_key();
        let k = IntegrationKey {
            id: new_id(),
            service_id: svc.id,
            name,
            key_prefix: key.chars().take(6).collect(),
            mapping,
            rate_limit_per_minute: limit,
            created_at: self.now(),
            created_by: actor.user_id().map(str::to_string),
            revoked_at: None,
        };
        keys::insert(d.conn(), &k, &crate::secret::token_hash(&key)).await?;
        d.commit().await?;
        Ok((k, key))
    }

    pub async fn integration_keys(
        &self,
        actor: &Actor,
        service: &str,
    ) -> AppResult<Vec<IntegrationKey>> {
        actor.require(Permission::Administer)?;
        let mut conn = self.store().read().await?;
        let svc = crate::service::find(&mut conn, service)
            .await?
            .ok_or(AppError::NotFound("service"))?;
        Ok(keys::for_service(&mut conn, &svc.id).await?)
    }

    /// Revokes a key: events sent with it are refused from now on (on other nodes
    /// within seconds).
    pub async fn revoke_integration_key(
        &self,
        actor: &Actor,
        service: &str,
        id: &str,
    ) -> AppResult<()> {
        actor.require(Permission::Administer)?;
        let mut d = self.decide().await?;
        let svc = crate::service::find(d.conn(), service)
            .await?
            .ok_or(AppError::NotFound("service"))?;
        keys::revoke(d.conn(), &svc.id, id, self.now()).await?;
        d.commit().await?;
        self.forget_integration_keys();
        Ok(())
    }

    pub async fn create_business_service(
        &self,
        actor: &Actor,
        input: BusinessInput,
    ) -> AppResult<BusinessService> {
        actor.require(Permission::Administer)?;
        let now = self.now();
        let mut b = BusinessService {
            id: new_id(),
            name: String::new(),
            description: None,
            tier: 0,
            customers_served: None,
            stakeholder_groups: Vec::new(),
            services: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        let mut d = self.decide().await?;
        apply(d.conn(), &mut b, input, true).await?;
        business::insert(d.conn(), &b)
            .await
            .map_err(|e| taken(e, &b.name))?;
        d.commit().await?;
        Ok(b)
    }

    pub async fn change_business_service(
        &self,
        actor: &Actor,
        key: &str,
        input: BusinessInput,
    ) -> AppResult<BusinessService> {
        actor.require(Permission::Administer)?;
        let mut d = self.decide().await?;
        let mut b = business::find(d.conn(), key.trim())
            .await?
            .ok_or(AppError::NotFound("business service"))?;
        apply(d.conn(), &mut b, input, false).await?;
        b.updated_at = self.now();
        business::update(d.conn(), &b)
            .await
            .map_err(|e| taken(e, &b.name))?;
        d.commit().await?;
        Ok(b)
    }

    pub async fn business_services(&self, actor: &Actor) -> AppResult<Vec<BusinessService>> {
        actor.require(Permission::Read)?;
        let mut conn = self.store().read().await?;
        Ok(business::list(&mut conn).await?)
    }

    pub async fn business_service(&self, actor: &Actor, key: &str) -> AppResult<BusinessService> {
        actor.require(Permission::Read)?;
        let mut conn = self.store().read().await?;
        business::find(&mut conn, key.trim())
            .await?
            .ok_or(AppError::NotFound("business service"))
    }

    pub async fn delete_business_service(&self, actor: &Actor, key: &str) -> AppResult<()> {
        actor.require(Permission::Administer)?;
        let mut d = self.decide().await?;
        let b = business::find(d.conn(), key.trim())
            .await?
            .ok_or(AppError::NotFound("business service"))?;
        let ids = triad_store::impact::incidents_of(d.conn(), &b.id).await?;
        if !ids.is_empty() {
            return Err(AppError::conflict(
                "in_use",
                format!(
                    "{} incident(s) record an impact on this business service; it is kept for their history",
                    ids.len()
                ),
            ));
        }
        business::delete(d.conn(), &b.id).await?;
        d.commit().await?;
        self.status_changed();
        Ok(())
    }
}

async fn apply(
    conn: &mut Conn,
    b: &mut BusinessService,
    input: BusinessInput,
    creating: bool,
) -> AppResult<()> {
    let mut v = Validation::new();
    match input.name.as_deref() {
        Some(n) => {
            if let Some(n) = v.check("name", validate::text(n, 100)) {
                b.name = n;
            }
        }
        None if creating => v.push("name", "is required"),
        None => {}
    }
    if let Some(desc) = input.description.as_deref() {
        b.description = v
            .check("description", validate::optional_text(Some(desc), 2000))
            .flatten();
    }
    match input.tier {
        Some(t) if (1..=4).contains(&t) => b.tier = t,
        Some(_) => v.push("tier", "must be between 1 (most critical) and 4"),
        None if creating => v.push("tier", "is required: 1 (most critical) to 4"),
        None => {}
    }
    if let Some(c) = input.customers_served.as_deref() {
        b.customers_served = v
            .check("customers_served", validate::optional_text(Some(c), 500))
            .flatten();
    }
    if let Some(groups) = input.stakeholder_groups {
        if groups.len() > 50 {
            v.push("stakeholder_groups", "must have at most 50 groups");
        }
        let mut clean = Vec::new();
        for (i, g) in groups.into_iter().enumerate() {
            let name = v.check(
                &format!("stakeholder_groups[{i}].name"),
                validate::text(&g.name, 100),
            );
            let mut emails = Vec::new();
            for (j, e) in g.emails.iter().enumerate() {
                if let Some(e) = v.check(
                    &format!("stakeholder_groups[{i}].emails[{j}]"),
                    validate::Email::parse(e),
                ) {
                    emails.push(e.as_str().to_string());
                }
            }
            let chat_webhook = match g.chat_webhook.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(url) => v.check(
                    &format!("stakeholder_groups[{i}].chat_webhook"),
                    crate::contact::check_url(url),
                ),
            };
            if let Some(name) = name {
                clean.push(StakeholderGroup {
                    name,
                    emails,
                    chat_webhook,
                });
            }
        }
        b.stakeholder_groups = clean;
    }
    if let Some(list) = input.services {
        let mut ids = Vec::new();
        for (i, key) in list.iter().enumerate() {
            match crate::service::find(conn, key).await? {
                Some(s) if !ids.contains(&s.id) => ids.push(s.id),
                Some(_) => {}
                None => v.push(&format!("services[{i}]"), "no such service"),
            }
        }
        b.services = ids;
    }
    Ok(v.finish()?)
}

//! Technical services: what incidents are about.

use crate::team::taken;
use crate::{Actor, App, AppError, AppResult};
use triad_domain::user::Permission;
use triad_domain::validate::{self, Validation};
use triad_store::service::{self as services, Service};
use triad_store::{Conn, new_id, team as teams};

/// A service to create, or the fields to change (`None` keeps the current value;
/// `team: Some("")` removes the owning team).
#[derive(Debug, Clone, Default)]
pub struct ServiceInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub team: Option<String>,
    /// Escalation policy id or name; `Some("")` removes it.
    pub escalation_policy: Option<String>,
    /// Slack/Mattermost incoming webhook mirroring the timeline; `Some("")` removes it.
    pub chat_webhook: Option<String>,
    /// Severity of incidents opened by alerts that carry none; `Some("")` removes it.
    pub default_severity: Option<String>,
    /// Resolve an alert-opened incident once all its alerts are resolved.
    pub auto_resolve: Option<bool>,
}

impl App {
    pub async fn create_service(&self, actor: &Actor, input: ServiceInput) -> AppResult<Service> {
        actor.require(Permission::Administer)?;
        let now = self.now();
        let mut service = Service {
            id: new_id(),
            name: String::new(),
            description: None,
            team_id: None,
            escalation_policy_id: None,
            chat_webhook: None,
            default_severity: None,
            auto_resolve: true,
            created_at: now,
            updated_at: now,
        };
        let mut d = self.decide().await?;
        apply(d.conn(), &mut service, input, true).await?;
        services::insert(d.conn(), &service)
            .await
            .map_err(|e| taken(e, &service.name))?;
        d.commit().await?;
        Ok(service)
    }

    pub async fn change_service(
        &self,
        actor: &Actor,
        key: &str,
        input: ServiceInput,
    ) -> AppResult<Service> {
        actor.require(Permission::Administer)?;
        let mut d = self.decide().await?;
        let mut service = find(d.conn(), key)
            .await?
            .ok_or(AppError::NotFound("service"))?;
        apply(d.conn(), &mut service, input, false).await?;
        service.updated_at = self.now();
        services::update(d.conn(), &service)
            .await
            .map_err(|e| taken(e, &service.name))?;
        d.commit().await?;
        Ok(service)
    }

    pub async fn services(&self, actor: &Actor) -> AppResult<Vec<Service>> {
        actor.require(Permission::Read)?;
        let mut conn = self.store().read().await?;
        Ok(services::list(&mut conn).await?)
    }

    /// A service by id or name.
    pub async fn service(&self, actor: &Actor, key: &str) -> AppResult<Service> {
        actor.require(Permission::Read)?;
        let mut conn = self.store().read().await?;
        find(&mut conn, key)
            .await?
            .ok_or(AppError::NotFound("service"))
    }

    /// Deletes a service; refused (409 `in_use`) while incidents name it.
    pub async fn delete_service(&self, actor: &Actor, key: &str) -> AppResult<()> {
        actor.require(Permission::Administer)?;
        let mut d = self.decide().await?;
        let service = find(d.conn(), key)
            .await?
            .ok_or(AppError::NotFound("service"))?;
        services::delete(d.conn(), &service.id).await?;
        d.commit().await?;
        // Components linked to it are unlinked by the database.
        self.status_changed();
        Ok(())
    }
}

/// A service by id, else by name.
pub(crate) async fn find(conn: &mut Conn, key: &str) -> AppResult<Option<Service>> {
    if let Some(s) = services::get(conn, key).await? {
        return Ok(Some(s));
    }
    Ok(services::get_by_name(conn, key.trim()).await?)
}

async fn apply(
    conn: &mut Conn,
    s: &mut Service,
    input: ServiceInput,
    creating: bool,
) -> AppResult<()> {
    let mut v = Validation::new();
    match input.name.as_deref() {
        Some(n) => {
            if let Some(n) = v.check("name", validate::text(n, 100)) {
                s.name = n;
            }
        }
        None if creating => v.push("name", "is required"),
        None => {}
    }
    if let Some(desc) = input.description.as_deref() {
        s.description = v
            .check("description", validate::optional_text(Some(desc), 2000))
            .flatten();
    }
    match input.team.as_deref().map(str::trim) {
        None => {}
        Some("") => s.team_id = None,
        Some(t) => match teams::get(conn, t).await? {
            Some(team) => s.team_id = Some(team.id),
            None => v.push("team", "no such team"),
        },
    }
    match input.escalation_policy.as_deref().map(str::trim) {
        None => {}
        Some("") => s.escalation_policy_id = None,
        Some(p) => {
            if let Some(id) =
                crate::policy::policy_id(conn, &mut v, "escalation_policy", Some(p)).await?
            {
                s.escalation_policy_id = Some(id);
            }
        }
    }
    match input.chat_webhook.as_deref().map(str::trim) {
        None => {}
        Some("") => s.chat_webhook = None,
        Some(url) => {
            s.chat_webhook = v.check("chat_webhook", crate::contact::check_url(url));
        }
    }
    match input.default_severity.as_deref().map(str::trim) {
        None => {}
        Some("") => s.default_severity = None,
        Some(sev) => {
            if let Some(sev) = v.check(
                "default_severity",
                triad_domain::severity::Severity::parse(sev),
            ) {
                s.default_severity = Some(sev);
            }
        }
    }
    if let Some(a) = input.auto_resolve {
        s.auto_resolve = a;
    }
    Ok(v.finish()?)
}

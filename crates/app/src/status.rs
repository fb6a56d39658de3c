//! The public status page: settings, components and scheduled maintenances (for
//! administrators), and the snapshot the page and its Statuspage-compatible API serve.
//!
//! What the page says comes only from what was said publicly: an incident appears with
//! its first `public` update and shows the state its latest public update announced.
//! Component statuses come from the incidents' business impact (see
//! [`triad_domain::status`]) and from maintenances in progress.

use crate::{Actor, App, AppError, AppResult};
use rand::RngCore;
use rand::rngs::OsRng;
use std::collections::HashMap;
use triad_domain::Millis;
use triad_domain::incident::PublicState;
use triad_domain::status::{
    ComponentStatus, MaintenanceStatus, PageImpact, PageStatus, page_status,
};
use triad_domain::user::Permission;
use triad_domain::validate::{self, Validation};
use triad_store::status::{self as store, Component, Maintenance, Page, PublicIncident};
use triad_store::{business_service, new_id, service};

/// How far back the page looks: 90 days of uptime history.
pub const HISTORY_MS: Millis = 90 * 86_400_000;
/// How many of the latest incidents and maintenances the lists hold.
pub const RECENT: i64 = 50;

/// The page's settings as an administrator sets them.
#[derive(Debug, Clone, Default)]
pub struct PageInput {
    pub name: Option<String>,
    pub url: Option<String>,
    pub time_zone: Option<String>,
}

/// A component to create or replace.
#[derive(Debug, Clone, Default)]
pub struct ComponentInput {
    pub name: String,
    pub description: Option<String>,
    pub position: Option<i64>,
    pub group: bool,
    pub group_id: Option<String>,
    pub service: Option<String>,
    pub business_service: Option<String>,
    pub showcase: Option<bool>,
    pub only_show_if_degraded: bool,
    pub start_date: Option<String>,
}

/// A maintenance to schedule.
#[derive(Debug, Clone, Default)]
pub struct MaintenanceInput {
    pub name: String,
    pub body: String,
    pub scheduled_for: Millis,
    pub scheduled_until: Millis,
    pub components: Vec<String>,
}

/// A component with what it shows now and its history.
#[derive(Debug, Clone)]
pub struct ComponentView {
    pub component: Component,
    pub status: ComponentStatus,
    /// A group's member ids.
    pub members: Vec<String>,
    /// `(from, until, status)` of every public incident and maintenance that touched it
    /// in the history window.
    pub spans: Vec<(Millis, Millis, ComponentStatus)>,
}

/// A public incident with what the page derives from it.
#[derive(Debug, Clone)]
pub struct IncidentView {
    pub incident: PublicIncident,
    pub impact: PageImpact,
    pub monitoring_at: Option<Millis>,
    pub resolved_at: Option<Millis>,
    /// Indices into [`Snapshot::components`] of the components it affects.
    pub components: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct MaintenanceView {
    pub maintenance: Maintenance,
    pub status: MaintenanceStatus,
    /// Indices into [`Snapshot::components`].
    pub components: Vec<usize>,
}

/// Everything the public page shows, read at one instant.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub page: Page,
    pub now: Millis,
    pub status: PageStatus,
    pub components: Vec<ComponentView>,
    /// Latest first.
    pub incidents: Vec<IncidentView>,
    /// Latest start first.
    pub maintenances: Vec<MaintenanceView>,
    /// When a maintenance next starts or ends: the snapshot is stale from then on.
    pub changes_at: Option<Millis>,
}

impl App {
    /// The page's settings, made on first use with a fresh page id.
    pub async fn status_page(&self) -> AppResult<Page> {
        let mut conn = self.store().read().await?;
        if let Some(page) = store::page(&mut conn).await? {
            return Ok(page);
        }
        drop(conn);
        let d = self.decide().await?;
        let mut d = d;
        store::init_page(
            d.conn(),
            &Page {
                page_id: page_id(),
                name: "Status".into(),
                url: "/status".into(),
                time_zone: "Etc/UTC".into(),
                updated_at: self.now(),
            },
        )
        .await?;
        let page = store::page(d.conn())
            .await?
            .ok_or_else(|| AppError::Internal("the status page row vanished".into()))?;
        d.commit().await?;
        Ok(page)
    }

    /// Changes the page's name, public address or time zone. Administrators only.
    pub async fn set_status_page(&self, actor: &Actor, input: PageInput) -> AppResult<Page> {
        actor.require(Permission::Administer)?;
        let mut page = self.status_page().await?;
        let mut v = Validation::new();
        if let Some(name) = &input.name
            && let Some(name) = v.check("name", validate::text(name, 200))
        {
            page.name = name;
        }
        if let Some(url) = &input.url {
            match page_url(url) {
                Some(url) => page.url = url,
                None => v.push(
                    "url",
                    "must be the page's public address, such as https://status.example.com, or a path such as /status",
                ),
            }
        }
        if let Some(zone) = &input.time_zone {
            match jiff::tz::TimeZone::get(zone.trim()) {
                Ok(_) => page.time_zone = zone.trim().to_string(),
                Err(_) => v.push(
                    "time_zone",
                    "must be an IANA time zone, such as Etc/UTC or Europe/Berlin",
                ),
            }
        }
        v.finish()?;
        page.updated_at = self.now();
        let mut d = self.decide().await?;
        store::save_page(d.conn(), &page).await?;
        d.commit().await?;
        self.status_changed();
        Ok(page)
    }

    pub async fn status_components(&self, actor: &Actor) -> AppResult<Vec<Component>> {
        actor.require(Permission::Read)?;
        let mut conn = self.store().read().await?;
        Ok(store::components(&mut conn).await?)
    }

    pub async fn create_component(
        &self,
        actor: &Actor,
        input: ComponentInput,
    ) -> AppResult<Component> {
        actor.require(Permission::Administer)?;
        let now = self.now();
        let mut d = self.decide().await?;
        let position = match input.position {
            Some(p) => p,
            None => store::components(d.conn()).await?.len() as i64 + 1,
        };
        let mut c = Component {
            id: new_id(),
            name: String::new(),
            description: None,
            position,
            is_group: false,
            group_id: None,
            service_id: None,
            business_service_id: None,
            showcase: true,
            only_show_if_degraded: false,
            start_date: None,
            created_at: now,
            updated_at: now,
        };
        apply_component(d.conn(), &mut c, input).await?;
        store::insert_component(d.conn(), &c).await?;
        store::touch_page(d.conn(), now).await?;
        d.commit().await?;
        self.status_changed();
        Ok(c)
    }

    /// Replaces a component's fields.
    pub async fn replace_component(
        &self,
        actor: &Actor,
        id: &str,
        input: ComponentInput,
    ) -> AppResult<Component> {
        actor.require(Permission::Administer)?;
        let mut d = self.decide().await?;
        let mut c = store::get_component(d.conn(), id)
            .await?
            .ok_or(AppError::NotFound("component"))?;
        if c.is_group && !input.group {
            let has_members = store::components(d.conn())
                .await?
                .iter()
                .any(|m| m.group_id.as_deref() == Some(id));
            if has_members {
                return Err(AppError::field(
                    "group",
                    "this group still has members; move them out first",
                ));
            }
        }
        let position = input.position.unwrap_or(c.position);
        apply_component(d.conn(), &mut c, input).await?;
        c.position = position;
        c.updated_at = self.now();
        store::update_component(d.conn(), &c).await?;
        store::touch_page(d.conn(), c.updated_at).await?;
        d.commit().await?;
        self.status_changed();
        Ok(c)
    }

    pub async fn delete_component(&self, actor: &Actor, id: &str) -> AppResult<()> {
        actor.require(Permission::Administer)?;
        let mut d = self.decide().await?;
        let members = store::components(d.conn())
            .await?
            .iter()
            .filter(|m| m.group_id.as_deref() == Some(id))
            .count();
        if members > 0 {
            return Err(AppError::conflict(
                "in_use",
                format!("this group still has {members} member(s); move or delete them first"),
            ));
        }
        store::delete_component(d.conn(), id).await?;
        store::touch_page(d.conn(), self.now()).await?;
        triad_store::subscriber::end_scope(d.conn(), id, self.now()).await?;
        d.commit().await?;
        self.status_changed();
        Ok(())
    }

    /// Maintenances not yet over, and the latest 50.
    pub async fn maintenances(&self, actor: &Actor) -> AppResult<Vec<Maintenance>> {
        actor.require(Permission::Read)?;
        let mut conn = self.store().read().await?;
        Ok(store::maintenances(&mut conn, self.now(), RECENT).await?)
    }

    pub async fn schedule_maintenance(
        &self,
        actor: &Actor,
        input: MaintenanceInput,
    ) -> AppResult<Maintenance> {
        actor.require(Permission::Respond)?;
        let mut v = Validation::new();
        let name = v.check("name", validate::text(&input.name, 200));
        let body = v.check("body", validate::text(&input.body, 10_000));
        if input.scheduled_until <= input.scheduled_for {
            v.push("scheduled_until", "must be after scheduled_for");
        }
        let mut d = self.decide().await?;
        let mut components = Vec::new();
        for (n, id) in input.components.iter().enumerate() {
            match store::get_component(d.conn(), id).await? {
                Some(c) if !components.contains(&c.id) => components.push(c.id),
                Some(_) => {}
                None => v.push(&format!("components[{n}]"), "no such component"),
            }
        }
        v.finish()?;
        let (Some(name), Some(body)) = (name, body) else {
            return Err(AppError::Internal(
                "validation passed with a missing field".into(),
            ));
        };
        let now = self.now();
        let m = Maintenance {
            id: new_id(),
            name,
            body,
            scheduled_for: input.scheduled_for,
            scheduled_until: input.scheduled_until,
            created_at: now,
            updated_at: now,
            created_by: actor.user_id().map(str::to_string),
            components,
        };
        store::insert_maintenance(d.conn(), &m).await?;
        store::touch_page(d.conn(), now).await?;
        d.commit().await?;
        self.status_changed();
        Ok(m)
    }

    /// Cancels (deletes) a maintenance.
    pub async fn cancel_maintenance(&self, actor: &Actor, id: &str) -> AppResult<()> {
        actor.require(Permission::Respond)?;
        let mut d = self.decide().await?;
        store::delete_maintenance(d.conn(), id).await?;
        store::touch_page(d.conn(), self.now()).await?;
        d.commit().await?;
        self.status_changed();
        Ok(())
    }

    /// Everything the public page shows, now. No login: only public facts are in it.
    pub async fn status_snapshot(&self) -> AppResult<Snapshot> {
        let page = self.status_page().await?;
        let now = self.now();
        let mut conn = self.store().read().await?;
        let components = store::components(&mut conn).await?;
        let incidents = store::public_incidents(&mut conn, now - HISTORY_MS, RECENT).await?;
        let maintenances = store::maintenances(&mut conn, now, RECENT).await?;
        drop(conn);
        Ok(build(page, now, components, incidents, maintenances))
    }

    /// Tells the page's cache that what it shows changed (in this process).
    pub(crate) fn status_changed(&self) {
        self.inner
            .status_generation
            .fetch_add(1, std::sync::atomic::Ordering::Release);
    }

    /// Moves whenever this process changes what the status page shows.
    pub fn status_generation(&self) -> u64 {
        self.inner
            .status_generation
            .load(std::sync::atomic::Ordering::Acquire)
    }
}

/// The page's public address: an absolute http(s) URL with a host, or a path on this
/// server (one leading slash, not just `/`); no whitespace or control characters. The
/// trailing slash is dropped, since links are made by appending `/incidents/…`.
fn page_url(input: &str) -> Option<String> {
    let url = input.trim().trim_end_matches('/');
    if url.is_empty() || url.len() > 500 || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return None;
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let ok = match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            !host.is_empty() && !host.contains('@')
        }
        None => url.starts_with('/') && !url.starts_with("//") && !url.contains(['?', '#']),
    };
    ok.then(|| url.to_string())
}

/// A page id in Statuspage's shape: 12 lowercase base-36 characters.
fn page_id() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    let mut n = u128::from_le_bytes(bytes);
    let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
    (0..12)
        .map(|_| {
            let d = (n % 36) as usize;
            n /= 36;
            digits[d] as char
        })
        .collect()
}

async fn apply_component(
    conn: &mut triad_store::Conn,
    c: &mut Component,
    input: ComponentInput,
) -> AppResult<()> {
    let mut v = Validation::new();
    if let Some(name) = v.check("name", validate::text(&input.name, 200)) {
        c.name = name;
    }
    c.description = v
        .check(
            "description",
            validate::optional_text(input.description.as_deref(), 2_000),
        )
        .flatten();
    c.is_group = input.group;
    c.showcase = input.showcase.unwrap_or(true);
    c.only_show_if_degraded = input.only_show_if_degraded;
    c.start_date = None;
    if let Some(date) = input.start_date.as_deref().filter(|d| !d.trim().is_empty()) {
        match date.trim().parse::<jiff::civil::Date>() {
            Ok(d) => c.start_date = Some(d.to_string()),
            Err(_) => v.push("start_date", "must be a date such as 2026-01-31"),
        }
    }
    c.group_id = None;
    if let Some(gid) = input.group_id.as_deref().filter(|g| !g.is_empty()) {
        match triad_store::status::get_component(conn, gid).await? {
            _ if c.is_group => v.push("group_id", "a group cannot be inside another group"),
            Some(g) if g.is_group && g.id != c.id => c.group_id = Some(g.id),
            Some(_) => v.push("group_id", "must be a group component"),
            None => v.push("group_id", "no such component"),
        }
    }
    c.service_id = None;
    c.business_service_id = None;
    let links = (input.service.as_deref(), input.business_service.as_deref());
    if c.is_group && (links.0.is_some() || links.1.is_some()) {
        v.push(
            "group",
            "a group takes its status from its members; link the members instead",
        );
    } else if links.0.is_some() && links.1.is_some() {
        v.push(
            "business_service",
            "link a component to a service or to a business service, not both",
        );
    }
    if let Some(key) = links.0 {
        let found = match service::get(conn, key).await? {
            Some(s) => Some(s),
            None => service::get_by_name(conn, key).await?,
        };
        match found {
            Some(s) => c.service_id = Some(s.id),
            None => v.push("service", "no such service"),
        }
    }
    if let Some(key) = links.1 {
        match business_service::find(conn, key).await? {
            Some(b) => c.business_service_id = Some(b.id),
            None => v.push("business_service", "no such business service"),
        }
    }
    v.finish()?;
    Ok(())
}

/// The status an incident gives a (non-group) component, if it affects it.
pub(crate) fn affects(c: &Component, i: &PublicIncident) -> Option<ComponentStatus> {
    if let Some(b) = &c.business_service_id {
        return i
            .impacts
            .iter()
            .find(|x| &x.business_service_id == b)
            .map(|x| x.impact.component_status())
            .filter(|s| *s != ComponentStatus::Operational);
    }
    let s = c.service_id.as_ref()?;
    if i.service_id.as_ref() != Some(s) {
        return None;
    }
    let status = match i.impacts.iter().map(|x| x.impact).max() {
        Some(worst) => worst.component_status(),
        None => match PageImpact::from_severity(i.severity) {
            PageImpact::Critical => ComponentStatus::MajorOutage,
            PageImpact::Major => ComponentStatus::PartialOutage,
            _ => ComponentStatus::DegradedPerformance,
        },
    };
    Some(status).filter(|s| *s != ComponentStatus::Operational)
}

/// Computes the page from its rows (pure; see the module docs for the rules).
pub fn build(
    page: Page,
    now: Millis,
    components: Vec<Component>,
    incidents: Vec<PublicIncident>,
    maintenances: Vec<Maintenance>,
) -> Snapshot {
    let index: HashMap<String, usize> = components
        .iter()
        .enumerate()
        .map(|(n, c)| (c.id.clone(), n))
        .collect();
    let mut views: Vec<ComponentView> = components
        .into_iter()
        .map(|component| ComponentView {
            component,
            status: ComponentStatus::Operational,
            members: Vec::new(),
            spans: Vec::new(),
        })
        .collect();
    for n in 0..views.len() {
        if let Some(g) = views[n].component.group_id.clone()
            && let Some(&gi) = index.get(&g)
        {
            let id = views[n].component.id.clone();
            views[gi].members.push(id);
        }
    }
    let since = now - HISTORY_MS;
    let mut worst_incident: Option<PageImpact> = None;
    let mut incident_views = Vec::with_capacity(incidents.len());
    for i in incidents {
        let open = i.state != PublicState::Resolved;
        let resolved_at = if open {
            None
        } else {
            i.updates
                .iter()
                .find(|u| u.state == PublicState::Resolved)
                .map(|u| u.published_at)
                .or(Some(i.updated_at))
        };
        // Updates are newest first: when it last went to monitoring.
        let monitoring_at = i
            .updates
            .iter()
            .find(|u| u.state == PublicState::Monitoring)
            .map(|u| u.published_at);
        let impact = i
            .impacts
            .iter()
            .map(|x| x.impact.page_impact())
            .max()
            .unwrap_or_else(|| PageImpact::from_severity(i.severity));
        if open {
            worst_incident = worst_incident.max(Some(impact));
        }
        let until = resolved_at.unwrap_or(now);
        let mut affected = Vec::new();
        for (n, v) in views.iter_mut().enumerate() {
            if v.component.is_group {
                continue;
            }
            if let Some(status) = affects(&v.component, &i) {
                affected.push(n);
                if open {
                    v.status = v.status.max(status);
                }
                if until > since {
                    v.spans.push((i.created_at, until, status));
                }
            }
        }
        incident_views.push(IncidentView {
            incident: i,
            impact,
            monitoring_at,
            resolved_at,
            components: affected,
        });
    }
    let mut changes_at: Option<Millis> = None;
    let mut in_progress = false;
    let mut maintenance_views = Vec::with_capacity(maintenances.len());
    for m in maintenances {
        let status = MaintenanceStatus::at(m.scheduled_for, m.scheduled_until, now);
        in_progress |= status == MaintenanceStatus::InProgress;
        for t in [m.scheduled_for, m.scheduled_until] {
            if t > now {
                changes_at = Some(changes_at.map_or(t, |c| c.min(t)));
            }
        }
        let mut touched: Vec<usize> = Vec::new();
        for id in &m.components {
            let Some(&n) = index.get(id) else { continue };
            touched.push(n);
            // A group under maintenance takes its members with it.
            for member in views[n].members.clone() {
                if let Some(&mn) = index.get(&member) {
                    touched.push(mn);
                }
            }
        }
        touched.sort_unstable();
        touched.dedup();
        for &n in &touched {
            let v = &mut views[n];
            if v.component.is_group {
                continue;
            }
            if status == MaintenanceStatus::InProgress {
                v.status = v.status.max(ComponentStatus::UnderMaintenance);
            }
            if m.scheduled_until > since && m.scheduled_for < now {
                v.spans.push((
                    m.scheduled_for,
                    m.scheduled_until.min(now),
                    ComponentStatus::UnderMaintenance,
                ));
            }
        }
        let listed: Vec<usize> = m
            .components
            .iter()
            .filter_map(|id| index.get(id).copied())
            .collect();
        maintenance_views.push(MaintenanceView {
            maintenance: m,
            status,
            components: listed,
        });
    }
    // Groups show their members' worst status, and list among an incident's components
    // when one of their members does.
    for n in 0..views.len() {
        if !views[n].component.is_group {
            continue;
        }
        let worst = views[n]
            .members
            .iter()
            .filter_map(|m| index.get(m))
            .map(|&m| views[m].status)
            .max()
            .unwrap_or(ComponentStatus::Operational);
        views[n].status = worst;
    }
    for iv in &mut incident_views {
        let mut groups: Vec<usize> = iv
            .components
            .iter()
            .filter_map(|&n| views[n].component.group_id.as_ref())
            .filter_map(|g| index.get(g).copied())
            .collect();
        iv.components.append(&mut groups);
        iv.components.sort_unstable();
        iv.components.dedup();
    }
    let worst_component = views
        .iter()
        .map(|v| v.status)
        .max()
        .unwrap_or(ComponentStatus::Operational);
    Snapshot {
        status: page_status(worst_component, worst_incident, in_progress),
        page,
        now,
        components: views,
        incidents: incident_views,
        maintenances: maintenance_views,
        changes_at,
    }
}

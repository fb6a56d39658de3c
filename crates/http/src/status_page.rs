//! The public status page at `/status`: HTML, an Atom feed, and the Atlassian
//! Statuspage public JSON API under `/status/api/v2/` (protocols.md §2.6), so that
//! Statuspage widgets and clients read Triad unchanged.
//!
//! No login. Only the dedicated public types below are serialized, built from
//! [`triad_app::status::Snapshot`], which holds public facts only. Every body is
//! rendered once into a cache that is rebuilt when this process publishes something
//! that changes the page, when a maintenance starts or ends, and at most
//! [`MAX_AGE_MS`] after it was built (so another node's change shows within that).

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::status_html;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::sync::{Arc, RwLock};
use triad_app::status::{IncidentView, MaintenanceView, Snapshot};
use triad_domain::Millis;
use triad_domain::status::MaintenanceStatus;

/// The longest a cached page is served without looking at the database again.
pub const MAX_AGE_MS: Millis = 5_000;

/// The JSON documents, in the order of [`Doc`].
const DOCS: usize = 8;

/// One of the Statuspage API's documents.
#[derive(Debug, Clone, Copy)]
pub enum Doc {
    Summary,
    Status,
    Components,
    Incidents,
    Unresolved,
    Maintenances,
    Upcoming,
    Active,
}

/// The rendered page, shared by every request until it goes stale.
pub struct Rendered {
    generation: u64,
    stale_at: Millis,
    json: [Bytes; DOCS],
    pub html: Bytes,
    pub atom: Bytes,
    pub snapshot: Snapshot,
}

/// The cache: readers share the last rendering; one rebuild at a time.
#[derive(Default)]
pub struct StatusCache {
    current: RwLock<Option<Arc<Rendered>>>,
    rebuild: tokio::sync::Mutex<()>,
}

impl StatusCache {
    fn fresh(&self, generation: u64, now: Millis) -> Option<Arc<Rendered>> {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        current
            .as_ref()
            .filter(|r| r.generation == generation && now < r.stale_at)
            .cloned()
    }

    /// The current rendering, rebuilt first if stale. If the rebuild fails (the
    /// database is unreachable), the last rendering is served for another second
    /// rather than an error, and the failure is logged.
    pub async fn get(&self, s: &AppState) -> ApiResult<Arc<Rendered>> {
        let app = &s.app;
        if let Some(r) = self.fresh(app.status_generation(), app.now()) {
            return Ok(r);
        }
        let _one = self.rebuild.lock().await;
        // Read the generation before the snapshot: a change committed meanwhile moves
        // it again, and the next request rebuilds.
        let generation = app.status_generation();
        if let Some(r) = self.fresh(generation, app.now()) {
            return Ok(r);
        }
        let rendered = match app.status_snapshot().await {
            Ok(snapshot) => Arc::new(render(generation, snapshot)?),
            Err(e) => {
                let last = self
                    .current
                    .read()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone();
                let Some(last) = last else {
                    return Err(e.into());
                };
                tracing::warn!(error = %e, "status page: rebuild failed; serving the last rendering");
                Arc::new(Rendered {
                    generation,
                    stale_at: app.now() + RETRY_MS,
                    json: last.json.clone(),
                    html: last.html.clone(),
                    atom: last.atom.clone(),
                    snapshot: last.snapshot.clone(),
                })
            }
        };
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(rendered.clone());
        Ok(rendered)
    }
}

/// After a failed rebuild, how long the last rendering is served before trying again.
const RETRY_MS: Millis = 1_000;

fn render(generation: u64, snapshot: Snapshot) -> ApiResult<Rendered> {
    let v = View::new(&snapshot);
    let json = [
        v.json(&Summary {
            page: v.page(),
            components: v.components(),
            incidents: v.incidents(is_unresolved),
            scheduled_maintenances: v.maintenances(|m| m.status != MaintenanceStatus::Completed),
            status: v.status(),
        })?,
        v.json(&StatusDoc {
            page: v.page(),
            status: v.status(),
        })?,
        v.json(&ComponentsDoc {
            page: v.page(),
            components: v.components(),
        })?,
        v.json(&IncidentsDoc {
            page: v.page(),
            incidents: v.incidents(|_| true).into_iter().take(50).collect(),
        })?,
        v.json(&IncidentsDoc {
            page: v.page(),
            incidents: v.incidents(is_unresolved),
        })?,
        v.json(&MaintenancesDoc {
            page: v.page(),
            scheduled_maintenances: v.maintenances(|_| true).into_iter().take(50).collect(),
        })?,
        v.json(&MaintenancesDoc {
            page: v.page(),
            scheduled_maintenances: v.maintenances(|m| m.status == MaintenanceStatus::Scheduled),
        })?,
        v.json(&MaintenancesDoc {
            page: v.page(),
            scheduled_maintenances: v.maintenances(|m| m.status == MaintenanceStatus::InProgress),
        })?,
    ];
    let stale_at = (snapshot.now + MAX_AGE_MS).min(snapshot.changes_at.unwrap_or(Millis::MAX));
    Ok(Rendered {
        generation,
        stale_at,
        json,
        html: Bytes::from(status_html::page(&snapshot)),
        atom: Bytes::from(status_html::atom(&snapshot)),
        snapshot,
    })
}

/// What `summary.json` and `unresolved.json` list: incidents whose latest public update
/// did not say resolved.
pub fn is_unresolved(i: &IncidentView) -> bool {
    i.incident.state != triad_domain::incident::PublicState::Resolved
}

/// Formats a time as the page shows it: ISO 8601 with milliseconds in the page's zone
/// (`2026-01-01T09:00:00.000Z`, `…+01:00`).
pub fn stamp(zone: &jiff::tz::TimeZone, ms: Millis) -> String {
    let Ok(t) = jiff::Timestamp::from_millisecond(ms) else {
        return ms.to_string();
    };
    let z = t.to_zoned(zone.clone());
    if z.offset().seconds() == 0 {
        z.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    } else {
        z.strftime("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
    }
}

/// Serializes a snapshot into the wire types.
struct View<'a> {
    s: &'a Snapshot,
    zone: jiff::tz::TimeZone,
}

impl<'a> View<'a> {
    fn new(s: &'a Snapshot) -> Self {
        let zone = jiff::tz::TimeZone::get(&s.page.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
        View { s, zone }
    }

    fn json<T: Serialize>(&self, doc: &T) -> ApiResult<Bytes> {
        serde_json::to_vec(doc).map(Bytes::from).map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("status page JSON: {e}"),
            )
        })
    }

    fn t(&self, ms: Millis) -> String {
        stamp(&self.zone, ms)
    }

    fn page(&self) -> PageJson<'a> {
        let p = &self.s.page;
        PageJson {
            id: &p.page_id,
            name: &p.name,
            url: &p.url,
            time_zone: &p.time_zone,
            updated_at: self.t(p.updated_at),
        }
    }

    fn status(&self) -> StatusJson {
        StatusJson {
            indicator: self.s.status.indicator,
            description: self.s.status.description,
        }
    }

    fn component(&self, n: usize) -> ComponentJson<'a> {
        let v = &self.s.components[n];
        let c = &v.component;
        ComponentJson {
            id: &c.id,
            name: &c.name,
            status: v.status.as_str(),
            created_at: self.t(c.created_at),
            updated_at: self.t(c.updated_at),
            position: c.position,
            description: c.description.as_deref(),
            showcase: c.showcase,
            start_date: c.start_date.as_deref(),
            group_id: c.group_id.as_deref(),
            page_id: &self.s.page.page_id,
            group: c.is_group,
            only_show_if_degraded: c.only_show_if_degraded,
            components: c
                .is_group
                .then(|| v.members.iter().map(String::as_str).collect()),
        }
    }

    fn components(&self) -> Vec<ComponentJson<'a>> {
        (0..self.s.components.len())
            .map(|n| self.component(n))
            .collect()
    }

    fn incidents(&self, keep: impl Fn(&IncidentView) -> bool) -> Vec<IncidentJson<'a>> {
        self.s
            .incidents
            .iter()
            .filter(|i| keep(i))
            .map(|iv| {
                let i = &iv.incident;
                IncidentJson {
                    id: &i.id,
                    name: &i.name,
                    status: i.state.as_str(),
                    created_at: self.t(i.created_at),
                    updated_at: self.t(i.updated_at),
                    monitoring_at: iv.monitoring_at.map(|t| self.t(t)),
                    resolved_at: iv.resolved_at.map(|t| self.t(t)),
                    impact: iv.impact.as_str(),
                    shortlink: format!("{}/incidents/{}", self.s.page.url, i.id),
                    started_at: self.t(i.started_at),
                    page_id: &self.s.page.page_id,
                    incident_updates: i
                        .updates
                        .iter()
                        .map(|u| UpdateJson {
                            id: u.id.clone(),
                            status: u.state.as_str(),
                            body: &u.message,
                            incident_id: &i.id,
                            created_at: self.t(u.published_at),
                            updated_at: self.t(u.published_at),
                            display_at: self.t(u.published_at),
                            affected_components: None,
                            deliver_notifications: true,
                            custom_tweet: None,
                            tweet_id: None,
                        })
                        .collect(),
                    components: iv.components.iter().map(|&n| self.component(n)).collect(),
                }
            })
            .collect()
    }

    fn maintenances(&self, keep: impl Fn(&MaintenanceView) -> bool) -> Vec<MaintenanceJson<'a>> {
        self.s
            .maintenances
            .iter()
            .filter(|m| keep(m))
            .map(|mv| {
                let m = &mv.maintenance;
                // The maintenance's own story, newest first: announced, started, done.
                let mut updates = Vec::new();
                let mut say = |suffix: &str, status: &'static str, body: &'a str, at: Millis| {
                    updates.push(UpdateJson {
                        id: format!("{}-{suffix}", m.id),
                        status,
                        body,
                        incident_id: &m.id,
                        created_at: self.t(at),
                        updated_at: self.t(at),
                        display_at: self.t(at),
                        affected_components: None,
                        deliver_notifications: true,
                        custom_tweet: None,
                        tweet_id: None,
                    });
                };
                if mv.status == MaintenanceStatus::Completed {
                    say(
                        "completed",
                        "completed",
                        "The scheduled maintenance has been completed.",
                        m.scheduled_until,
                    );
                }
                if mv.status != MaintenanceStatus::Scheduled {
                    say(
                        "in-progress",
                        "in_progress",
                        "Scheduled maintenance is currently in progress.",
                        m.scheduled_for,
                    );
                }
                // Entered after it began: shown as announced when it began.
                say(
                    "scheduled",
                    "scheduled",
                    &m.body,
                    m.created_at.min(m.scheduled_for),
                );
                let updated_at = match mv.status {
                    MaintenanceStatus::Scheduled => m.updated_at,
                    MaintenanceStatus::InProgress => m.scheduled_for.max(m.updated_at),
                    MaintenanceStatus::Completed => m.scheduled_until.max(m.updated_at),
                };
                MaintenanceJson {
                    incident: IncidentJson {
                        id: &m.id,
                        name: &m.name,
                        status: mv.status.as_str(),
                        created_at: self.t(m.created_at),
                        updated_at: self.t(updated_at),
                        monitoring_at: None,
                        resolved_at: (mv.status == MaintenanceStatus::Completed)
                            .then(|| self.t(m.scheduled_until)),
                        impact: "maintenance",
                        shortlink: format!("{}/maintenances/{}", self.s.page.url, m.id),
                        started_at: self.t(m.scheduled_for),
                        page_id: &self.s.page.page_id,
                        incident_updates: updates,
                        components: mv.components.iter().map(|&n| self.component(n)).collect(),
                    },
                    scheduled_for: self.t(m.scheduled_for),
                    scheduled_until: self.t(m.scheduled_until),
                }
            })
            .collect()
    }
}

#[derive(Serialize)]
struct PageJson<'a> {
    id: &'a str,
    name: &'a str,
    url: &'a str,
    time_zone: &'a str,
    updated_at: String,
}

#[derive(Serialize)]
struct StatusJson {
    indicator: &'static str,
    description: &'static str,
}

#[derive(Serialize)]
struct ComponentJson<'a> {
    id: &'a str,
    name: &'a str,
    status: &'static str,
    created_at: String,
    updated_at: String,
    position: i64,
    description: Option<&'a str>,
    showcase: bool,
    start_date: Option<&'a str>,
    group_id: Option<&'a str>,
    page_id: &'a str,
    group: bool,
    only_show_if_degraded: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    components: Option<Vec<&'a str>>,
}

#[derive(Serialize)]
struct UpdateJson<'a> {
    id: String,
    status: &'static str,
    body: &'a str,
    incident_id: &'a str,
    created_at: String,
    updated_at: String,
    display_at: String,
    affected_components: Option<Vec<()>>,
    deliver_notifications: bool,
    custom_tweet: Option<String>,
    tweet_id: Option<String>,
}

#[derive(Serialize)]
struct IncidentJson<'a> {
    id: &'a str,
    name: &'a str,
    status: &'static str,
    created_at: String,
    updated_at: String,
    monitoring_at: Option<String>,
    resolved_at: Option<String>,
    impact: &'static str,
    shortlink: String,
    started_at: String,
    page_id: &'a str,
    incident_updates: Vec<UpdateJson<'a>>,
    components: Vec<ComponentJson<'a>>,
}

/// A scheduled maintenance: an incident's fields (its status and impact are the
/// maintenance's own) plus its window.
#[derive(Serialize)]
struct MaintenanceJson<'a> {
    #[serde(flatten)]
    incident: IncidentJson<'a>,
    scheduled_for: String,
    scheduled_until: String,
}

#[derive(Serialize)]
struct Summary<'a> {
    page: PageJson<'a>,
    components: Vec<ComponentJson<'a>>,
    incidents: Vec<IncidentJson<'a>>,
    scheduled_maintenances: Vec<MaintenanceJson<'a>>,
    status: StatusJson,
}

#[derive(Serialize)]
struct StatusDoc<'a> {
    page: PageJson<'a>,
    status: StatusJson,
}

#[derive(Serialize)]
struct ComponentsDoc<'a> {
    page: PageJson<'a>,
    components: Vec<ComponentJson<'a>>,
}

#[derive(Serialize)]
struct IncidentsDoc<'a> {
    page: PageJson<'a>,
    incidents: Vec<IncidentJson<'a>>,
}

#[derive(Serialize)]
struct MaintenancesDoc<'a> {
    page: PageJson<'a>,
    scheduled_maintenances: Vec<MaintenanceJson<'a>>,
}

pub(crate) fn with_type(body: Bytes, content_type: &'static str, cors: bool) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if cors {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    r
}

/// Serves one of the JSON documents.
pub async fn serve_doc(s: &AppState, doc: Doc) -> ApiResult<Response> {
    let r = s.status_cache.get(s).await?;
    Ok(with_type(
        r.json[doc as usize].clone(),
        "application/json",
        true,
    ))
}

macro_rules! doc_handler {
    ($name:ident, $doc:expr) => {
        pub async fn $name(State(s): State<AppState>) -> Response {
            serve_doc(&s, $doc).await.unwrap_or_else(cors_error)
        }
    };
}

doc_handler!(summary, Doc::Summary);
doc_handler!(status, Doc::Status);
doc_handler!(components, Doc::Components);
doc_handler!(incidents, Doc::Incidents);
doc_handler!(unresolved, Doc::Unresolved);
doc_handler!(maintenances, Doc::Maintenances);
doc_handler!(upcoming, Doc::Upcoming);
doc_handler!(active, Doc::Active);

/// Errors of the public API carry the CORS header too, so a browser widget can read them.
pub(crate) fn cors_error(e: ApiError) -> Response {
    let mut r = e.into_response();
    r.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    r
}

/// `OPTIONS` on the JSON API: a CORS preflight answer.
pub async fn preflight() -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
    r
}

/// `GET /status`: the HTML page.
pub async fn html(State(s): State<AppState>) -> ApiResult<Response> {
    let r = s.status_cache.get(&s).await?;
    Ok(with_type(r.html.clone(), "text/html; charset=utf-8", false))
}

/// `GET /status/history.atom`: public incidents and their updates as an Atom feed.
pub async fn atom(State(s): State<AppState>) -> ApiResult<Response> {
    let r = s.status_cache.get(&s).await?;
    Ok(with_type(
        r.atom.clone(),
        "application/atom+xml; charset=utf-8",
        true,
    ))
}

/// `GET /status/incidents/{id}`: one public incident's page.
pub async fn incident_html(
    State(s): State<AppState>,
    crate::extract::ApiPath(id): crate::extract::ApiPath<String>,
) -> ApiResult<Response> {
    let r = s.status_cache.get(&s).await?;
    let Some(page) = status_html::incident_page(&r.snapshot, &id) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such public incident",
        ));
    };
    Ok(with_type(
        Bytes::from(page),
        "text/html; charset=utf-8",
        false,
    ))
}

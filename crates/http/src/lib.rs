//! Triad's HTTP surface (axum): `/api/v1`, live streams, the OpenAPI document, and the
//! operational endpoints. Handlers are thin: extract, call one `app` use case, map.

pub mod api;
pub mod dto;
pub mod dto_engine;
pub mod dto_intake;
pub mod dto_schedule;
pub mod dto_status;
pub mod error;
pub mod extract;
pub mod intake;
pub mod openapi;
pub mod ops;
pub mod status_html;
pub mod status_page;
pub mod status_subscribe;
pub mod stream;

use api::{
    admin, contacts, incidents, intake_admin, policies, reports, schedules, status_admin, trackers,
};
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router, middleware};
use error::ApiError;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use triad_app::App;
use utoipa::OpenApi;

/// The largest request body accepted (1 MiB).
pub const BODY_LIMIT: usize = 1 << 20;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub metrics: Arc<ops::Metrics>,
    /// Cancelled on shutdown, so that open live streams end and the server can stop.
    pub shutdown: CancellationToken,
    /// The rendered public status page.
    pub status_cache: Arc<status_page::StatusCache>,
}

impl AppState {
    pub fn new(app: App, shutdown: CancellationToken) -> Self {
        AppState {
            app,
            metrics: Arc::new(ops::Metrics::default()),
            shutdown,
            status_cache: Arc::default(),
        }
    }
}

/// The whole router.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/incidents", post(incidents::declare).get(incidents::list))
        .route(
            "/incidents/{id}",
            get(incidents::get).patch(incidents::change),
        )
        .route("/incidents/{id}/acknowledge", post(incidents::acknowledge))
        .route("/incidents/{id}/resolve", post(incidents::resolve))
        .route("/incidents/{id}/reopen", post(incidents::reopen))
        .route(
            "/incidents/{id}/roles",
            post(incidents::assign_role).get(incidents::role_history),
        )
        .route(
            "/incidents/{id}/roles/{role}/{user}",
            axum::routing::delete(incidents::release_role),
        )
        .route("/incidents/{id}/notes", post(incidents::add_note))
        .route("/incidents/{id}/timeline", get(incidents::timeline))
        .route(
            "/incidents/{id}/updates",
            post(incidents::publish_update).get(incidents::updates),
        )
        .route(
            "/incidents/{id}/update-requests",
            post(incidents::request_update),
        )
        .route(
            "/incidents/{id}/notifications",
            get(incidents::notifications),
        )
        .route(
            "/escalation-policies",
            get(policies::list).post(policies::create),
        )
        .route(
            "/escalation-policies/{id}",
            get(policies::get)
                .put(policies::replace)
                .delete(policies::delete),
        )
        .route("/severity-policies", get(policies::list_severity))
        .route("/severity-policies/{severity}", put(policies::put_severity))
        .route(
            "/users/{id}/contact-methods",
            get(contacts::list_methods).post(contacts::add_method),
        )
        .route(
            "/users/{id}/contact-methods/{method_id}",
            axum::routing::delete(contacts::delete_method),
        )
        .route(
            "/users/{id}/notification-rules",
            get(contacts::list_rules).post(contacts::add_rule),
        )
        .route(
            "/users/{id}/notification-rules/{rule_id}",
            axum::routing::delete(contacts::delete_rule),
        )
        .route("/incidents/{id}/stream", get(stream::incident_stream))
        .route("/stream", get(stream::global_stream))
        .route("/auth/login", post(admin::login))
        .route("/auth/password", put(admin::change_password))
        .route("/users", get(admin::list_users).post(admin::create_user))
        .route(
            "/users/{id}",
            get(admin::get_user)
                .patch(admin::change_user)
                .delete(admin::deactivate_user),
        )
        .route("/teams", get(admin::list_teams).post(admin::create_team))
        .route(
            "/teams/{id}",
            get(admin::get_team)
                .patch(admin::change_team)
                .delete(admin::delete_team),
        )
        .route(
            "/services",
            get(admin::list_services).post(admin::create_service),
        )
        .route(
            "/services/{id}",
            get(admin::get_service)
                .patch(admin::change_service)
                .delete(admin::delete_service),
        )
        .route("/tokens", get(admin::list_tokens).post(admin::create_token))
        .route(
            "/tokens/{id}",
            get(admin::get_token).delete(admin::revoke_token),
        )
        .route("/schedules", get(schedules::list).post(schedules::create))
        .route(
            "/schedules/{id}",
            get(schedules::get)
                .patch(schedules::change)
                .delete(schedules::delete),
        )
        .route("/schedules/{id}/layers", put(schedules::put_layers))
        .route("/schedules/{id}/overrides", post(schedules::add_override))
        .route(
            "/schedules/{id}/overrides/{override_id}",
            axum::routing::delete(schedules::delete_override),
        )
        .route("/schedules/{id}/final", get(schedules::final_schedule))
        .route("/schedules/{id}/gaps", get(schedules::gaps))
        .route(
            "/schedules/{id}/calendar-feed",
            post(schedules::schedule_feed),
        )
        .route("/users/{id}/calendar-feed", post(schedules::user_feed))
        .route("/oncall", get(schedules::oncall))
        .route(
            "/teams/{id}/role-schedules",
            get(schedules::team_roles).put(schedules::put_team_roles),
        )
        .route(
            "/services/{id}/role-schedules",
            get(schedules::service_roles).put(schedules::put_service_roles),
        )
        .route(
            "/services/{id}/integration-keys",
            get(intake_admin::list_keys).post(intake_admin::create_key),
        )
        .route(
            "/services/{id}/integration-keys/{key_id}",
            axum::routing::delete(intake_admin::revoke_key),
        )
        .route(
            "/business-services",
            get(intake_admin::list_business).post(intake_admin::create_business),
        )
        .route(
            "/business-services/{id}",
            get(intake_admin::get_business)
                .patch(intake_admin::change_business)
                .delete(intake_admin::delete_business),
        )
        .route(
            "/business-services/{id}/follow",
            get(intake_admin::get_follow)
                .put(intake_admin::follow)
                .delete(intake_admin::unfollow),
        )
        .route("/reports", post(reports::file))
        .route("/incidents/{id}/reports", get(reports::for_incident))
        .route(
            "/incidents/{id}/updates/draft",
            get(incidents::draft_update),
        )
        .route("/incidents/{id}/tracker-sync", get(trackers::incident_sync))
        .route("/trackers", get(trackers::list).post(trackers::create))
        .route("/trackers/{id}", axum::routing::delete(trackers::delete))
        .route(
            "/incidents/{id}/impact",
            get(status_admin::get_impact).put(status_admin::put_impact),
        )
        .route(
            "/impact-matrix",
            get(status_admin::get_matrix).put(status_admin::put_matrix),
        )
        .route(
            "/status-page",
            get(status_admin::get_page).put(status_admin::put_page),
        )
        .route(
            "/status-page/components",
            get(status_admin::list_components).post(status_admin::create_component),
        )
        .route(
            "/status-page/components/{id}",
            put(status_admin::replace_component).delete(status_admin::delete_component),
        )
        .route(
            "/status-page/maintenances",
            get(status_admin::list_maintenances).post(status_admin::create_maintenance),
        )
        .route("/message-templates", get(status_admin::list_templates))
        .route(
            "/message-templates/{audience}/{stage}",
            put(status_admin::put_template).delete(status_admin::delete_template),
        )
        .route(
            "/status-page/subscribers",
            get(status_admin::subscriber_counts),
        )
        .route(
            "/status-page/maintenances/{id}",
            axum::routing::delete(status_admin::cancel_maintenance),
        )
        .route("/openapi.json", get(openapi_json));
    // The public status page: no login; the JSON API is Statuspage's, CORS-open.
    let status_routes = Router::new()
        .route("/status", get(status_page::html))
        .route("/status/", get(status_page::html))
        .route("/status/history.atom", get(status_page::atom))
        .route("/status/incidents/{id}", get(status_page::incident_html))
        .route(
            "/status/subscriptions",
            post(status_subscribe::subscribe).options(status_page::preflight),
        )
        .route(
            "/status/subscriptions/confirm",
            get(status_subscribe::confirm_page).post(status_subscribe::confirm),
        )
        .route(
            "/status/subscriptions/unsubscribe",
            get(status_subscribe::unsubscribe).post(status_subscribe::unsubscribe),
        )
        .route("/status/api/v2/summary.json", doc(status_page::summary))
        .route("/status/api/v2/status.json", doc(status_page::status))
        .route(
            "/status/api/v2/components.json",
            doc(status_page::components),
        )
        .route("/status/api/v2/incidents.json", doc(status_page::incidents))
        .route(
            "/status/api/v2/incidents/unresolved.json",
            doc(status_page::unresolved),
        )
        .route(
            "/status/api/v2/scheduled-maintenances.json",
            doc(status_page::maintenances),
        )
        .route(
            "/status/api/v2/scheduled-maintenances/upcoming.json",
            doc(status_page::upcoming),
        )
        .route(
            "/status/api/v2/scheduled-maintenances/active.json",
            doc(status_page::active),
        );
    // Drop-in intake: the vendors' own paths and shapes, authenticated by integration key.
    let intake_routes = Router::new()
        .route("/v2/enqueue", post(intake::pd_enqueue))
        .route("/v2/change/enqueue", post(intake::pd_change))
        .route("/v2/alerts", post(intake::og_create))
        .route("/v2/alerts/requests/{id}", get(intake::og_request))
        .route(
            "/v2/alerts/{identifier}/acknowledge",
            post(intake::og_acknowledge),
        )
        .route("/v2/alerts/{identifier}/close", post(intake::og_close))
        .route("/v2/alerts/{identifier}/notes", post(intake::og_note))
        .route("/hooks/report/{key}", post(reports::from_help_desk))
        .route("/hooks/jira/{tracker}", post(trackers::inbound))
        .route(
            "/hooks/{format}/{key}",
            post(intake::hook).put(intake::hook),
        );
    Router::new()
        .nest("/api/v1", api)
        .merge(intake_routes)
        .merge(status_routes)
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/ical/{file}", get(schedules::calendar))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), ops::observe))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        .with_state(state)
}

/// A Statuspage JSON document's route: `GET`, and `OPTIONS` for CORS preflights.
fn doc<H, T>(handler: H) -> axum::routing::MethodRouter<AppState>
where
    H: axum::handler::Handler<T, AppState>,
    T: 'static,
{
    get(handler).options(status_page::preflight)
}

async fn openapi_json() -> Response {
    Json(openapi::ApiDoc::openapi()).into_response()
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
}

fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error",
    )
    .into_response()
}

/// Serves `router` on `listener` until `shutdown` is cancelled, then lets requests in
/// flight finish (live streams end at once).
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    let shutdown = state.shutdown.clone();
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

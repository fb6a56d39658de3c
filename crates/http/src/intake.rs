//! Drop-in intake routes, each answering in its vendor's own shapes so existing tools
//! need only a new host: PagerDuty Events v2 (`/v2/enqueue`, `/v2/change/enqueue`),
//! Opsgenie Alert API v2 (`/v2/alerts…`), and webhooks for Alertmanager, Grafana and
//! generic JSON (`/hooks/{format}/{key}`). A 2xx means the event is durably stored;
//! 4xx is a permanent rejection (senders must not retry), 429 and 5xx are transient.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::ApiPath;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use triad_app::AppError;
use triad_app::intake::{Command, Outcome};
use triad_intake::{
    Action, Format, MAX_BODY, Rejection, alertmanager, generic, opsgenie, pagerduty,
};
use triad_store::integration_key::IntegrationKey;

/// How long a rate-limited sender should wait, when that is the error.
fn retry_after(e: &AppError) -> Option<u64> {
    match e {
        AppError::RateLimited {
            retry_after_seconds,
            ..
        } => Some(*retry_after_seconds),
        _ => None,
    }
}

fn with_retry_after(mut r: Response, seconds: Option<u64>) -> Response {
    if let Some(secs) = seconds
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

fn too_big(len: usize) -> Option<String> {
    (len > MAX_BODY).then(|| format!("the body is {len} bytes; at most {MAX_BODY} are accepted"))
}

// ---------------------------------------------------------------- PagerDuty

fn pd(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

fn pd_invalid(reasons: Vec<String>) -> Response {
    pd(
        StatusCode::BAD_REQUEST,
        json!({"status": "invalid event", "message": "Event object is invalid", "errors": reasons}),
    )
}

fn pd_error(e: AppError) -> Response {
    let (status, word) = match &e {
        AppError::Unauthenticated(_) | AppError::NotFound(_) => {
            return pd_invalid(vec![
                "routing_key: not a known integration key (or it was revoked)".into(),
            ]);
        }
        AppError::Invalid(f) => {
            return pd_invalid(
                f.iter()
                    .map(|f| format!("{}: {}", f.field, f.reason))
                    .collect(),
            );
        }
        AppError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "throttled"),
        AppError::Store(_) | AppError::Unavailable(_) => {
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "error"),
    };
    let message = match &e {
        AppError::RateLimited { .. } | AppError::Unavailable(_) => e.to_string(),
        _ => "the event could not be stored; nothing was changed, try again".to_string(),
    };
    if status.is_server_error() {
        tracing::error!(error = %e, "intake failed");
    }
    with_retry_after(
        pd(
            status,
            json!({"status": word, "message": message, "errors": [message]}),
        ),
        retry_after(&e),
    )
}

/// `POST /v2/enqueue`: PagerDuty Events API v2 alert events.
pub async fn pd_enqueue(State(s): State<AppState>, body: Bytes) -> Response {
    if let Some(r) = too_big(body.len()) {
        return pd_invalid(vec![r]);
    }
    let parsed = match pagerduty::parse_enqueue(&body) {
        Ok(p) => p,
        Err(r) => return pd_invalid(r.reasons),
    };
    let run = async {
        let key = s.app.integration_key(&parsed.routing_key).await?;
        s.app.check_rate(&key, 1)?;
        s.app
            .submit(&key, Command::Alerts(vec![parsed.event.clone()]))
            .await
    };
    match run.await {
        Ok(o) => {
            let dedup = o
                .applied
                .first()
                .map(|a| a.dedup_key.clone())
                .unwrap_or_default();
            pd(
                StatusCode::ACCEPTED,
                json!({"status": "success", "message": "Event processed", "dedup_key": dedup}),
            )
        }
        Err(e) => pd_error(e),
    }
}

/// `POST /v2/change/enqueue`: PagerDuty change events.
pub async fn pd_change(State(s): State<AppState>, body: Bytes) -> Response {
    if let Some(r) = too_big(body.len()) {
        return pd_invalid(vec![r]);
    }
    let (routing_key, change) = match pagerduty::parse_change(&body) {
        Ok(p) => p,
        Err(r) => return pd_invalid(r.reasons),
    };
    let run = async {
        let key = s.app.integration_key(&routing_key).await?;
        s.app.check_rate(&key, 1)?;
        s.app.submit(&key, Command::Change(change)).await
    };
    match run.await {
        Ok(_) => pd(
            StatusCode::ACCEPTED,
            json!({"status": "success", "message": "Change event processed"}),
        ),
        Err(e) => pd_error(e),
    }
}

// ---------------------------------------------------------------- Opsgenie

fn og(status: StatusCode, mut body: Value, request_id: &str) -> Response {
    body["took"] = json!(0.0);
    body["requestId"] = json!(request_id);
    let mut r = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(request_id) {
        r.headers_mut().insert("x-request-id", v);
    }
    r
}

fn og_error(e: AppError) -> Response {
    let id = triad_store::new_id();
    let r = match &e {
        AppError::Unauthenticated(_) => og(
            StatusCode::UNAUTHORIZED,
            json!({"message": "Could not authenticate"}),
            &id,
        ),
        AppError::NotFound(what) => og(
            StatusCode::NOT_FOUND,
            json!({"message": format!("{what} not found")}),
            &id,
        ),
        AppError::RateLimited { .. } => og(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"message": e.to_string()}),
            &id,
        ),
        AppError::Unavailable(m) => og(StatusCode::SERVICE_UNAVAILABLE, json!({"message": m}), &id),
        _ => {
            tracing::error!(error = %e, "opsgenie intake failed");
            og(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"message": "The request could not be stored; nothing was changed, try again."}),
                &id,
            )
        }
    };
    with_retry_after(r, retry_after(&e))
}

fn og_invalid(r: Rejection) -> Response {
    og(
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({"message": "Request body is not processable. Please check the errors.",
            "errors": {"message": r.to_string()}}),
        &triad_store::new_id(),
    )
}

/// The integration key of `Authorization: GenieKey <key>`.
async fn genie_key(s: &AppState, headers: &HeaderMap) -> Result<IntegrationKey, AppError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let key = value
        .strip_prefix("GenieKey ")
        .or_else(|| value.strip_prefix("genieKey "))
        .ok_or(AppError::Unauthenticated("missing GenieKey authorization"))?;
    s.app.integration_key(key).await
}

fn accepted(o: Outcome) -> Response {
    og(
        StatusCode::ACCEPTED,
        json!({"result": "Request will be processed"}),
        o.request_id.as_deref().unwrap_or_default(),
    )
}

/// `POST /v2/alerts`: create (or count again, when the alias is open).
pub async fn og_create(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let key = match genie_key(&s, &headers).await {
        Ok(k) => k,
        Err(e) => return og_error(e),
    };
    if let Some(r) = too_big(body.len()) {
        return og_invalid(Rejection::new(r));
    }
    let event = match opsgenie::parse_create(&body) {
        Ok(e) => e,
        Err(r) => return og_invalid(r),
    };
    let run = async {
        s.app.check_rate(&key, 1)?;
        s.app.submit(&key, Command::OpsgenieCreate(event)).await
    };
    match run.await {
        Ok(o) => accepted(o),
        Err(e) => og_error(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct IdentifierQuery {
    #[serde(rename = "identifierType")]
    pub identifier_type: Option<String>,
}

async fn og_act(
    s: AppState,
    headers: HeaderMap,
    segment: String,
    q: IdentifierQuery,
    body: Bytes,
    action: Option<Action>,
) -> Response {
    let key = match genie_key(&s, &headers).await {
        Ok(k) => k,
        Err(e) => return og_error(e),
    };
    let id = match opsgenie::identifier(&segment, q.identifier_type.as_deref()) {
        Ok(id) => id,
        Err(r) => return og_invalid(r),
    };
    let command = match action {
        Some(action) => match opsgenie::parse_action(&body, action) {
            Ok(event) => Command::Opsgenie { id, event },
            Err(r) => return og_invalid(r),
        },
        None => match opsgenie::parse_note(&body) {
            Ok(note) => Command::OpsgenieNote { id, note },
            Err(r) => return og_invalid(r),
        },
    };
    let run = async {
        s.app.check_rate(&key, 1)?;
        s.app.submit(&key, command).await
    };
    match run.await {
        Ok(o) => accepted(o),
        Err(e) => og_error(e),
    }
}

/// `POST /v2/alerts/{identifier}/acknowledge?identifierType=id|alias|tiny`.
pub async fn og_acknowledge(
    State(s): State<AppState>,
    headers: HeaderMap,
    ApiPath(segment): ApiPath<String>,
    Query(q): Query<IdentifierQuery>,
    body: Bytes,
) -> Response {
    og_act(s, headers, segment, q, body, Some(Action::Acknowledge)).await
}

/// `POST /v2/alerts/{identifier}/close?identifierType=…`.
pub async fn og_close(
    State(s): State<AppState>,
    headers: HeaderMap,
    ApiPath(segment): ApiPath<String>,
    Query(q): Query<IdentifierQuery>,
    body: Bytes,
) -> Response {
    og_act(s, headers, segment, q, body, Some(Action::Resolve)).await
}

/// `POST /v2/alerts/{identifier}/notes?identifierType=…`.
pub async fn og_note(
    State(s): State<AppState>,
    headers: HeaderMap,
    ApiPath(segment): ApiPath<String>,
    Query(q): Query<IdentifierQuery>,
    body: Bytes,
) -> Response {
    og_act(s, headers, segment, q, body, None).await
}

/// `GET /v2/alerts/requests/{id}`: what became of an earlier request.
pub async fn og_request(
    State(s): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> Response {
    let run = async {
        let key = genie_key(&s, &headers).await?;
        let r = s.app.intake_request(&key, &id).await?;
        Ok::<_, AppError>((key, r))
    };
    match run.await {
        Ok((key, r)) => og(
            StatusCode::OK,
            json!({"data": {
                "success": r.success, "isSuccess": r.success, "action": r.action,
                "processedAt": triad_app::rfc3339(r.created_at), "integrationId": key.id,
                "status": r.status, "alertId": r.alert_id, "alias": r.alias,
            }}),
            &r.id,
        ),
        Err(e) => og_error(e),
    }
}

// ---------------------------------------------------------------- webhooks

fn hook_error(e: AppError) -> Response {
    let retry = retry_after(&e);
    let r = match e {
        AppError::Unauthenticated(_) => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such integration key (or it was revoked)",
        ),
        other => ApiError::from(other),
    };
    with_retry_after(r.into_response(), retry)
}

fn hook_invalid(r: Rejection) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": {"code": "invalid_payload", "message": r.to_string(), "reasons": r.reasons}})),
    )
        .into_response()
}

/// `POST|PUT /hooks/{format}/{key}`: Alertmanager (v4), Grafana (v1) or generic JSON.
pub async fn hook(
    State(s): State<AppState>,
    ApiPath((format, key)): ApiPath<(String, String)>,
    body: Bytes,
) -> Response {
    let format = match format.as_str() {
        "alertmanager" => Format::Alertmanager,
        "grafana" => Format::Grafana,
        "generic" => Format::Generic,
        _ => return ApiError::not_found("webhook format").into_response(),
    };
    let key = match s.app.integration_key(&key).await {
        Ok(k) => k,
        Err(e) => return hook_error(e),
    };
    if let Some(r) = too_big(body.len()) {
        return hook_invalid(Rejection::new(r));
    }
    let events = match format {
        Format::Generic => {
            let mapping = key
                .mapping
                .as_deref()
                .and_then(|m| serde_json::from_str::<generic::Mapping>(m).ok())
                .unwrap_or_default();
            generic::parse(&body, &mapping).map(|e| vec![e])
        }
        _ => alertmanager::parse_webhook(&body, format),
    };
    let events = match events {
        Ok(e) => e,
        Err(r) => return hook_invalid(r),
    };
    let count = i64::try_from(events.len()).unwrap_or(i64::MAX).max(1);
    let run = async {
        s.app.check_rate(&key, count)?;
        s.app.submit(&key, Command::Alerts(events)).await
    };
    match run.await {
        Ok(o) => {
            let alerts: Vec<Value> = o
                .applied
                .iter()
                .map(|a| json!({"dedup_key": a.dedup_key, "status": a.status, "incident_id": a.incident_id}))
                .collect();
            (
                StatusCode::ACCEPTED,
                Json(json!({"status": "accepted", "alerts": alerts})),
            )
                .into_response()
        }
        Err(e) => hook_error(e),
    }
}

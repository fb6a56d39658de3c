//! Email subscriptions to the status page, over HTTP: subscribe (JSON for widgets,
//! the page's form for people), and the confirm and unsubscribe links from the emails.
//! The rules are in `app::subscription`.

use crate::AppState;
use crate::error::ApiError;
use crate::status_html;
use crate::status_page::{cors_error, with_type};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use triad_app::subscription::{LinkResult, Subscribed, Target};

/// `POST /status/subscriptions`: `{"email" | "webhook", "component"?}` as JSON
/// (answered in JSON, CORS-open) or an email as the page's form (answered with a page).
/// For an email always 202 with the same words, whether or not the address was
/// subscribed already; for a webhook 202 with its signing secret.
pub async fn subscribe(
    State(s): State<AppState>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Req {
        #[serde(default)]
        email: Option<String>,
        #[serde(default)]
        webhook: Option<String>,
        #[serde(default)]
        component: Option<String>,
    }
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let parsed: Result<Req, String> = if form {
        serde_urlencoded::from_bytes(&body).map_err(|e| e.to_string())
    } else {
        serde_json::from_slice(&body).map_err(|e| e.to_string())
    };
    let done = match parsed {
        Ok(r) => {
            let target = match (r.email.as_deref(), r.webhook.as_deref()) {
                (Some(e), None) => Ok(Target::Email(e)),
                (None, Some(w)) if !form => Ok(Target::Webhook(w)),
                _ => Err(ApiError::field(
                    "email",
                    "give an email address, or (JSON only) a webhook URL, not both",
                )),
            };
            match target {
                Ok(target) => s
                    .app
                    .subscribe_to_page(target, r.component.as_deref())
                    .await
                    .map_err(ApiError::from),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_body",
            format!("send {{\"email\": …, \"component\"?: …}}: {e}"),
        )),
    };
    const SENT: &str = "If this address can receive mail, a confirmation link is on its way. Nothing is sent until it is followed.";
    if form {
        let page = s
            .app
            .status_page()
            .await
            .map(|p| p.name)
            .unwrap_or_default();
        return match done {
            Ok(_) => html_answer(StatusCode::ACCEPTED, &page, "Check your inbox", SENT),
            Err(e) => html_answer(e.status, &page, "Not subscribed", &e.message),
        };
    }
    match done {
        Ok(done) => {
            let mut body = serde_json::json!({"status": "confirmation_sent", "message": SENT});
            if let Subscribed::WebhookPending { secret } = done {
                body["secret"] = serde_json::json!(secret);
                body["message"] = serde_json::json!(
                    "A signed subscription.confirm event is on its way; POST to its data.confirm_url to confirm. Events are signed with this secret (Triad-Signature), shown this once."
                );
            }
            let mut r = (StatusCode::ACCEPTED, axum::Json(body)).into_response();
            r.headers_mut().insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
            r
        }
        Err(e) => cors_error(e),
    }
}

#[derive(serde::Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// `GET /status/subscriptions/confirm?token=`: the double opt-in link shows a button;
/// nothing changes on a GET, so mail scanners that follow links cannot confirm for
/// someone.
pub async fn confirm_page(State(s): State<AppState>, Query(q): Query<TokenQuery>) -> Response {
    let page = s
        .app
        .status_page()
        .await
        .map(|p| p.name)
        .unwrap_or_default();
    let body = status_html::confirm_form(&page, &q.token);
    with_type(Bytes::from(body), "text/html; charset=utf-8", false)
}

/// `POST /status/subscriptions/confirm?token=`: the button confirms.
pub async fn confirm(State(s): State<AppState>, Query(q): Query<TokenQuery>) -> Response {
    let done = s.app.confirm_subscription(&q.token).await;
    link_page(&s, done, "Subscribed", |r| {
        format!(
            "{} will receive updates about {}. Every email has a link to stop them.",
            r.email,
            r.component.clone().unwrap_or_else(|| r.page_name.clone())
        )
    })
    .await
}

/// `GET` or `POST /status/subscriptions/unsubscribe?token=`: one click ends it (POST is
/// what mail clients send for RFC 8058 one-click unsubscribe).
pub async fn unsubscribe(State(s): State<AppState>, Query(q): Query<TokenQuery>) -> Response {
    let done = s.app.unsubscribe(&q.token).await;
    link_page(&s, done, "Unsubscribed", |r| {
        format!(
            "{} will no longer receive updates about {}.",
            r.email,
            r.component.clone().unwrap_or_else(|| r.page_name.clone())
        )
    })
    .await
}

/// The page a followed link answers with: `title` and `text(result)`, or why not.
async fn link_page(
    s: &AppState,
    done: Result<LinkResult, triad_app::AppError>,
    title: &str,
    text: impl Fn(&LinkResult) -> String,
) -> Response {
    let page = s
        .app
        .status_page()
        .await
        .map(|p| p.name)
        .unwrap_or_default();
    match done {
        Ok(r) => html_answer(StatusCode::OK, &page, title, &text(&r)),
        Err(e) => link_error(&page, e),
    }
}

fn link_error(page: &str, e: triad_app::AppError) -> Response {
    let e = ApiError::from(e);
    let text = if e.status == StatusCode::NOT_FOUND {
        "This link is not valid (it may be incomplete, or from an older confirmation email)."
            .to_string()
    } else {
        e.message.clone()
    };
    html_answer(e.status, page, "That did not work", &text)
}

fn html_answer(status: StatusCode, page: &str, title: &str, text: &str) -> Response {
    let body = status_html::message_page(page, title, text);
    let mut r = with_type(Bytes::from(body), "text/html; charset=utf-8", false);
    *r.status_mut() = status;
    r
}

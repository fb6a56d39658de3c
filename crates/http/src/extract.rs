//! Request extractors whose every rejection is the API's JSON error body.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;
use triad_app::Actor;

/// The authenticated caller, from `Authorization: Bearer <token>`.
pub struct Auth(pub Actor);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers)?;
        Ok(Auth(state.app.authenticate(token).await?))
    }
}

/// The token of an `Authorization: Bearer <token>` header, or why there is none.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let unauthorized =
        |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m.to_string());
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("missing Authorization: Bearer <token> header"))?
        .to_str()
        .map_err(|_| unauthorized("the Authorization header is not valid text"))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(token.trim()),
        _ => Err(unauthorized(
            "the Authorization header must be: Bearer <token>",
        )),
    }
}

/// A JSON body. Bad syntax is 400 `malformed_json`; a well-formed body with a missing,
/// unknown or mistyped field is 422 `validation_failed` naming the field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let mime = v
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            });
        if is_json == Some(false) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/json",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "payload_too_large",
                        "the body is too large",
                    )
                } else {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "bad_request",
                        format!("cannot read the body: {e}"),
                    )
                }
            })?;
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        // Parse in two steps: syntax first (400), then NUL characters, which no
        // field may hold and PostgreSQL cannot store, then the shape (422).
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("the body is not valid JSON: {e}"),
            )
        })?;
        if let Some(path) = find_nul(&value, String::new()) {
            let field = if path.is_empty() {
                "body".to_string()
            } else {
                path
            };
            return Err(ApiError::field(&field, "must not contain NUL characters"));
        }
        match serde_path_to_error::deserialize(value) {
            Ok(v) => Ok(ApiJson(v)),
            Err(e) => {
                let path = e.path().to_string();
                let message = strip_position(&e.into_inner().to_string());
                let field = match (path.as_str(), missing_field(&message)) {
                    ("." | "", Some(name)) => name.to_string(),
                    ("." | "", None) => "body".to_string(),
                    (p, Some(name)) => format!("{p}.{name}"),
                    (p, None) => p.to_string(),
                };
                Err(ApiError::field(&field, message))
            }
        }
    }
}

/// The path of the first string (or key) holding a NUL character, if any.
fn find_nul(value: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(s) => s.contains('\0').then_some(path),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| find_nul(v, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let here = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if k.contains('\0') {
                return Some(here);
            }
            find_nul(v, here)
        }),
        _ => None,
    }
}

/// The field a "missing field `x`" message names: serde reports it at the parent's path.
fn missing_field(msg: &str) -> Option<&str> {
    msg.strip_prefix("missing field `")?.split('`').next()
}

/// serde's messages end in " at line 1 column 20"; the field name says more.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// Query parameters; a bad one is 422 naming it.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if parts
            .uri
            .query()
            .is_some_and(|q| q.to_ascii_lowercase().contains("%00"))
        {
            return Err(ApiError::field("query", "must not contain NUL characters"));
        }
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e| ApiError::field("query", e.body_text()))
    }
}

/// Path parameters; undecodable ones, and ones holding NUL, are 404 (no resource can
/// have that name).
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if parts.uri.path().to_ascii_lowercase().contains("%00") {
            return Err(ApiError::not_found("resource"));
        }
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|e| ApiError::new(StatusCode::NOT_FOUND, "not_found", e.body_text()))
    }
}

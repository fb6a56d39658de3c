//! Request extractors whose every rejection is the API's JSON error body.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
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
        let unauthorized =
            |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m.to_string());
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| unauthorized("missing Authorization: Bearer <token> header"))?
            .to_str()
            .map_err(|_| unauthorized("the Authorization header is not valid text"))?;
        let (scheme, token) = value
            .split_once(' ')
            .ok_or_else(|| unauthorized("the Authorization header must be: Bearer <token>"))?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(unauthorized(
                "the Authorization header must be: Bearer <token>",
            ));
        }
        Ok(Auth(state.app.authenticate(token.trim()).await?))
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
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        match serde_path_to_error::deserialize(de) {
            Ok(v) => Ok(ApiJson(v)),
            Err(e) => {
                let path = e.path().to_string();
                let inner = e.into_inner();
                if inner.classify() == serde_json::error::Category::Data {
                    let message = strip_position(&inner.to_string());
                    let field = match (path.as_str(), missing_field(&message)) {
                        ("." | "", Some(name)) => name.to_string(),
                        ("." | "", None) => "body".to_string(),
                        (p, Some(name)) => format!("{p}.{name}"),
                        (p, None) => p.to_string(),
                    };
                    Err(ApiError::field(&field, message))
                } else {
                    Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "malformed_json",
                        format!("the body is not valid JSON: {inner}"),
                    ))
                }
            }
        }
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
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e| ApiError::field("query", e.body_text()))
    }
}

/// Path parameters; undecodable ones are 404 (no such resource can have that name).
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|e| ApiError::new(StatusCode::NOT_FOUND, "not_found", e.body_text()))
    }
}

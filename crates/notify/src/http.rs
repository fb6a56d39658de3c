//! HTTP delivery shared by the webhook, chat and provider adapters: the client (rustls
//! with ring, a per-request timeout, no redirects) and the one mapping from an HTTP
//! exchange to an [`Outcome`].

use crate::Outcome;
use crate::router::ConfigError;
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};
use std::time::Duration;
use triad_domain::Millis;

/// The per-request timeout when the configuration does not set one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// `User-Agent` of every request Triad sends.
pub const USER_AGENT: &str = concat!("triad/", env!("CARGO_PKG_VERSION"));

/// How much of an error response's body goes into the outcome's error text.
const BODY_EXCERPT_CHARS: usize = 200;

/// How much of a response body is read at most; the rest is ignored.
const BODY_READ_LIMIT: usize = 64 * 1024;

/// Builds the client every HTTP adapter shares. It installs ring as the process's rustls
/// crypto provider when none is installed yet (as the binary and the test kit do),
/// times each request out after `timeout` (connecting included) and never follows a
/// redirect: a webhook that moved is reported, not silently re-posted elsewhere.
pub fn client(timeout: Duration) -> Result<reqwest::Client, ConfigError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| ConfigError::new("notify", format!("cannot set up the HTTP client: {e}")))
}

/// Parses a destination URL; only `http` and `https` URLs are usable.
pub fn parse_url(address: &str) -> Result<reqwest::Url, Outcome> {
    let url = reqwest::Url::parse(address.trim()).map_err(|e| Outcome::Rejected {
        error: format!("invalid URL: {e}"),
    })?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(Outcome::Rejected {
            error: format!("unsupported URL scheme {other:?} (use http or https)"),
        }),
    }
}

/// A response that arrived: its status, headers and (the start of) its body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

/// Sends one request. A response of any status is `Ok`; a request that produced no
/// response (refused, reset, timed out, TLS failure) is an `Err` outcome, which is
/// [`Outcome::Retry`] except for requests that could not even be built.
pub async fn exchange(request: RequestBuilder) -> Result<Reply, Outcome> {
    let mut response = request.send().await.map_err(transport_outcome)?;
    let status = response.status();
    let headers = response.headers().clone();
    let mut bytes = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = BODY_READ_LIMIT - bytes.len();
                bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if bytes.len() >= BODY_READ_LIMIT {
                    break;
                }
            }
            Ok(None) => break,
            // The status already tells what happened; a body cut short changes nothing.
            Err(_) => break,
        }
    }
    Ok(Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

/// Sends one request and classifies the result ([`classify`]).
pub async fn deliver(request: RequestBuilder, now: Millis) -> Outcome {
    match exchange(request).await {
        Ok(reply) => classify(&reply, now),
        Err(outcome) => outcome,
    }
}

/// The outcome of a response: 2xx delivered; 408, 425, 429 and 5xx retried (not before
/// `Retry-After` when present); everything else (other 4xx, 3xx, 1xx) rejected.
pub fn classify(reply: &Reply, now: Millis) -> Outcome {
    let code = reply.status.as_u16();
    if reply.status.is_success() {
        return Outcome::Delivered { detail: None };
    }
    let error = status_error(reply.status, &reply.body);
    if is_retryable(code) {
        let retry_after = reply
            .headers
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, now));
        return Outcome::Retry { error, retry_after };
    }
    if reply.status.is_redirection() {
        let location = reply
            .headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("none");
        return Outcome::Rejected {
            error: format!("{error} (redirects are not followed; Location: {location})"),
        };
    }
    Outcome::Rejected { error }
}

/// Whether a status means "try again later".
pub fn is_retryable(code: u16) -> bool {
    matches!(code, 408 | 425 | 429) || (500..=599).contains(&code)
}

/// `HTTP 404 Not Found: <the first 200 characters of the body>`.
pub fn status_error(status: StatusCode, body: &str) -> String {
    let mut text = format!("HTTP {}", status.as_u16());
    if let Some(reason) = status.canonical_reason() {
        text.push(' ');
        text.push_str(reason);
    }
    let excerpt: String = body.trim().chars().take(BODY_EXCERPT_CHARS).collect();
    if !excerpt.is_empty() {
        text.push_str(": ");
        text.push_str(&excerpt);
    }
    text
}

/// Reads a `Retry-After` value: delta-seconds, or an HTTP-date taken relative to `now`
/// (epoch ms). A date already past, or a value that cannot be read, gives `None`.
pub fn parse_retry_after(value: &str, now: Millis) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse::<u64>().ok().map(Duration::from_secs);
    }
    let at = parse_http_date(value)?;
    let wait_ms = at.as_millisecond().checked_sub(now)?;
    (wait_ms > 0).then(|| Duration::from_millis(wait_ms.unsigned_abs()))
}

/// Parses the three HTTP-date forms of RFC 9110: IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`), the obsolete RFC 850 form
/// (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`).
fn parse_http_date(value: &str) -> Option<jiff::Timestamp> {
    use jiff::fmt::strtime;
    let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
    let civil = |fmt: &str, s: &str| -> Option<jiff::Timestamp> {
        let dt = strtime::parse(fmt, s).ok()?.to_datetime().ok()?;
        dt.to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp())
    };
    if let Some(rest) = value.strip_suffix(" GMT") {
        if let Some(t) = civil("%a, %d %b %Y %H:%M:%S", rest) {
            return Some(t);
        }
        // RFC 850, with a two-digit year (`%y` reads 69-99 as 19xx, 00-68 as 20xx).
        if let Some((_, date_time)) = rest.split_once(", ")
            && let Some(t) = civil("%d-%b-%y %H:%M:%S", date_time)
        {
            return Some(t);
        }
        return None;
    }
    civil("%a %b %d %H:%M:%S %Y", &value)
}

/// Maps a failed request (no response) to an outcome.
fn transport_outcome(e: reqwest::Error) -> Outcome {
    if e.is_builder() {
        return Outcome::Rejected {
            error: format!("cannot build the request: {}", error_chain(&e)),
        };
    }
    let error = if e.is_timeout() {
        format!("timed out: {}", error_chain(&e))
    } else if e.is_connect() {
        format!("cannot connect: {}", error_chain(&e))
    } else {
        format!("request failed: {}", error_chain(&e))
    };
    Outcome::Retry {
        error,
        retry_after: None,
    }
}

/// The error and its sources, joined with `: `, without repeating a message that its
/// source already says.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Millis = 784_111_777_000; // Sun, 06 Nov 1994 08:49:37 GMT

    #[test]
    fn retry_after_reads_seconds_and_all_three_date_forms() {
        assert_eq!(parse_retry_after("7", NOW), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", NOW), Some(Duration::ZERO));
        for date in [
            "Sun, 06 Nov 1994 08:50:37 GMT",
            "Sunday, 06-Nov-94 08:50:37 GMT",
            "Sun Nov  6 08:50:37 1994",
        ] {
            assert_eq!(
                parse_retry_after(date, NOW),
                Some(Duration::from_secs(60)),
                "{date}"
            );
        }
    }

    #[test]
    fn retry_after_ignores_past_dates_and_garbage() {
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", NOW),
            None
        );
        assert_eq!(parse_retry_after("soon", NOW), None);
        assert_eq!(parse_retry_after("-5", NOW), None);
        assert_eq!(parse_retry_after("", NOW), None);
    }

    #[test]
    fn statuses_are_classified() {
        for code in [408, 425, 429, 500, 502, 503, 599] {
            assert!(is_retryable(code), "{code}");
        }
        for code in [400, 401, 403, 404, 410, 422, 200, 301] {
            assert!(!is_retryable(code), "{code}");
        }
    }

    #[test]
    fn status_error_quotes_the_start_of_the_body() {
        let body = "x".repeat(300);
        let text = status_error(StatusCode::NOT_FOUND, &body);
        assert_eq!(text, format!("HTTP 404 Not Found: {}", "x".repeat(200)));
        assert_eq!(status_error(StatusCode::GONE, "  "), "HTTP 410 Gone");
    }
}

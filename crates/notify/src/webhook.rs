//! Signed webhooks: POST the message's `event` JSON with Triad's headers, and the
//! `Triad-Signature` scheme (HMAC-SHA256 over `"<timestamp>.<body>"`) with its verifier.

use crate::http::{self, USER_AGENT};
use crate::{Message, Notifier, Outcome};
use futures::future::BoxFuture;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use triad_domain::Millis;

pub const HEADER_TIMESTAMP: &str = "Triad-Timestamp";
pub const HEADER_SIGNATURE: &str = "Triad-Signature";
pub const HEADER_IDEMPOTENCY_KEY: &str = "Triad-Idempotency-Key";
pub const HEADER_NOTIFICATION_ID: &str = "Triad-Notification-Id";

/// The signature scheme's version prefix in `Triad-Signature`.
pub const SIGNATURE_VERSION: &str = "v1";

/// How far a receiver should let `Triad-Timestamp` be from its own clock (seconds);
/// a suggestion for [`verify`]'s callers, used in the docs' examples.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

type HmacSha256 = Hmac<Sha256>;

/// Delivers to generic webhook endpoints (`message.address` is the URL).
#[derive(Clone)]
pub struct WebhookNotifier {
    client: reqwest::Client,
}

impl WebhookNotifier {
    /// An adapter over a client from [`http::client`].
    pub fn new(client: reqwest::Client) -> WebhookNotifier {
        WebhookNotifier { client }
    }

    async fn deliver(&self, message: &Message, now: Millis) -> Outcome {
        let url = match http::parse_url(&message.address) {
            Ok(url) => url,
            Err(outcome) => return outcome,
        };
        let body = match serde_json::to_vec(&message.event) {
            Ok(body) => body,
            Err(e) => {
                return Outcome::Rejected {
                    error: format!("cannot serialize the event: {e}"),
                };
            }
        };
        let timestamp = now.div_euclid(1000);
        let mut request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::USER_AGENT, USER_AGENT)
            .header(HEADER_TIMESTAMP, timestamp.to_string())
            .header(HEADER_IDEMPOTENCY_KEY, &message.idempotency_key)
            .header(HEADER_NOTIFICATION_ID, &message.notification_id);
        if let Some(secret) = &message.secret {
            request = request.header(HEADER_SIGNATURE, sign(secret, timestamp, &body));
        }
        http::deliver(request.body(body), now).await
    }
}

impl Notifier for WebhookNotifier {
    fn send<'a>(&'a self, message: &'a Message, now: Millis) -> BoxFuture<'a, Outcome> {
        Box::pin(self.deliver(message, now))
    }
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `Triad-Signature` header value for a body sent at `timestamp` (unix seconds):
/// `v1=` and the lowercase hex HMAC-SHA256, keyed with `secret`, of
/// `"<timestamp>.<body bytes>"`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, body).finalize().into_bytes();
    format!("{SIGNATURE_VERSION}={}", hex::encode(digest))
}

/// Checks a received webhook, as a receiver would: `header_value` (the
/// `Triad-Signature` header; several comma-separated `v1=` entries are accepted, any
/// one may match) must be the signature of `body` at `timestamp` (the
/// `Triad-Timestamp` header), and `timestamp` must be within `tolerance_secs` of
/// `now_secs`. The comparison is constant-time.
pub fn verify(
    secret: &str,
    timestamp: i64,
    body: &[u8],
    header_value: &str,
    now_secs: i64,
    tolerance_secs: i64,
) -> bool {
    if now_secs.abs_diff(timestamp) > tolerance_secs.unsigned_abs() {
        return false;
    }
    let expected = mac(secret, timestamp, body);
    header_value
        .split(',')
        .filter_map(|entry| entry.trim().split_once('='))
        .filter(|(version, _)| *version == SIGNATURE_VERSION)
        .filter_map(|(_, hex_digest)| hex::decode(hex_digest.trim()).ok())
        .any(|digest| expected.clone().verify_slice(&digest).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_matches_a_known_vector() {
        // Computed independently: printf '1700000000.{"a":1}' |
        //   openssl dgst -sha256 -hmac 's3cret' -hex
        assert_eq!(
            sign("s3cret", 1_700_000_000, br#"{"a":1}"#),
            "v1=1698a50bc74d1ff1db85c4e0a5297c2ad9fdba245d5737cdb789e4cc6e098940"
        );
    }

    #[test]
    fn verify_checks_secret_body_timestamp_and_tolerance() {
        let body = br#"{"incident":"INC-1"}"#;
        let sig = sign("k", 1000, body);
        assert!(verify("k", 1000, body, &sig, 1000, 300));
        assert!(verify("k", 1000, body, &sig, 1300, 300));
        assert!(verify("k", 1000, body, &format!("v1=00, {sig}"), 1000, 300));
        assert!(!verify("k", 1000, body, &sig, 1301, 300));
        assert!(!verify("k", 1000, body, &sig, 699, 300));
        assert!(!verify("other", 1000, body, &sig, 1000, 300));
        assert!(!verify("k", 1001, body, &sig, 1000, 300));
        assert!(!verify("k", 1000, b"{}", &sig, 1000, 300));
        assert!(!verify(
            "k",
            1000,
            body,
            sig.trim_start_matches("v1="),
            1000,
            300
        ));
        assert!(!verify("k", 1000, body, "v1=zz", 1000, 300));
    }
}

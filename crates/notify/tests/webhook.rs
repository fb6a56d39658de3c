//! Signed webhooks against a local HTTP sink: headers, exact body bytes, and the
//! signature checked with `verify` and with an HMAC computed by hand from SHA-256.

mod support;

use sha2::{Digest, Sha256};
use support::{NOW, Sink, client, message};
use triad_notify::webhook::{self, WebhookNotifier};
use triad_notify::{Channel, Notifier, Outcome};

/// HMAC-SHA256 spelled out (RFC 2104), independent of the `hmac` crate.
fn manual_hmac_sha256(key: &[u8], msg: &[u8]) -> String {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&ipad)
        .chain_update(msg)
        .finalize();
    let outer = Sha256::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize();
    hex::encode(outer)
}

#[tokio::test]
async fn posts_the_event_with_triad_headers_and_a_valid_signature() {
    let sink = Sink::answering(204, &[], "").await;
    let mut msg = message(Channel::Webhook, &sink.at("/hooks/triad?team=core"));
    msg.secret = Some("whsec_correct horse".to_string());
    let now = NOW + 123_456;

    let outcome = WebhookNotifier::new(client()).send(&msg, now).await;
    assert_eq!(outcome, Outcome::Delivered { detail: None });

    let req = sink.only_request();
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/hooks/triad?team=core");
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(
        req.header("user-agent"),
        Some(concat!("triad/", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(req.header("triad-timestamp"), Some("1700000123"));
    assert_eq!(
        req.header("triad-idempotency-key"),
        Some("incident:INC-7:page:1")
    );
    assert_eq!(
        req.header("triad-notification-id"),
        Some("0190f3a4-5b6c-7d8e-9f01-23456789abcd")
    );
    // The body is the event serialized once; the signature covers exactly these bytes.
    assert_eq!(
        req.body.as_ref(),
        serde_json::to_vec(&msg.event).unwrap().as_slice()
    );
    let received: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(received, msg.event);

    let signature = req
        .header("triad-signature")
        .expect("Triad-Signature header");
    let timestamp: i64 = req.header("triad-timestamp").unwrap().parse().unwrap();
    assert!(webhook::verify(
        "whsec_correct horse",
        timestamp,
        &req.body,
        signature,
        timestamp + 10,
        300
    ));

    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(&req.body);
    let manual = manual_hmac_sha256(b"whsec_correct horse", &signed);
    assert_eq!(signature, format!("v1={manual}"));
    assert_eq!(
        signature,
        webhook::sign("whsec_correct horse", timestamp, &req.body)
    );
}

#[tokio::test]
async fn a_tampered_body_or_wrong_secret_fails_verification() {
    let sink = Sink::answering(200, &[], "").await;
    let mut msg = message(Channel::Webhook, &sink.url);
    msg.secret = Some("s3cret".to_string());
    WebhookNotifier::new(client()).send(&msg, NOW).await;

    let req = sink.only_request();
    let signature = req.header("triad-signature").unwrap();
    let ts = NOW / 1000;
    assert!(webhook::verify("s3cret", ts, &req.body, signature, ts, 300));

    let mut tampered = req.body.to_vec();
    let at = tampered.iter().position(|b| *b == b'1').unwrap();
    tampered[at] = b'2';
    assert!(!webhook::verify(
        "s3cret", ts, &tampered, signature, ts, 300
    ));
    assert!(!webhook::verify("s3cret", ts, b"", signature, ts, 300));
    assert!(!webhook::verify("other", ts, &req.body, signature, ts, 300));
    assert!(!webhook::verify(
        "s3cret",
        ts + 1,
        &req.body,
        signature,
        ts,
        300
    ));
    // A replay outside the tolerance window is refused even with the right signature.
    assert!(!webhook::verify(
        "s3cret",
        ts,
        &req.body,
        signature,
        ts + 301,
        300
    ));
}

#[tokio::test]
async fn without_a_secret_there_is_no_signature_header() {
    let sink = Sink::answering(200, &[], "ok").await;
    let msg = message(Channel::Webhook, &sink.url);
    let outcome = WebhookNotifier::new(client()).send(&msg, NOW).await;
    assert_eq!(outcome, Outcome::Delivered { detail: None });
    let req = sink.only_request();
    assert_eq!(req.header("triad-signature"), None);
    assert_eq!(req.header("triad-timestamp"), Some("1700000000"));
}

#[tokio::test]
async fn an_unusable_url_is_rejected_without_a_request() {
    for address in ["not a url", "ftp://example.com/hook", ""] {
        let msg = message(Channel::Webhook, address);
        let outcome = WebhookNotifier::new(client()).send(&msg, NOW).await;
        assert!(
            matches!(outcome, Outcome::Rejected { .. }),
            "{address:?}: {outcome:?}"
        );
    }
}

//! SMS and voice through a local fake of the Twilio-compatible API: paths, basic auth,
//! form fields, the returned sid, and numbers that are refused before any request.

mod support;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use base64::Engine;
use support::{Captured, NOW, Sink, client, message};
use triad_notify::provider::{ProviderConfig, ProviderNotifier};
use triad_notify::{Channel, Notifier, Outcome};

const SID: &str = "AC0123456789abcdef";
const TOKEN: &str = "tok-very-secret";
const FROM: &str = "+15005550006";

/// Answers like the provider: 401 without the right credentials, 201 with a sid for
/// the account's Messages.json and Calls.json, 404 for anything else.
async fn fake_provider() -> Sink {
    Sink::start(|req: &Captured| {
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{SID}:{TOKEN}"))
        );
        if req.header("authorization") != Some(expected.as_str()) {
            return (
                StatusCode::UNAUTHORIZED,
                r#"{"code":20003,"message":"Authenticate"}"#,
            )
                .into_response();
        }
        let sid = match req.path.as_str() {
            p if p == format!("/base/2010-04-01/Accounts/{SID}/Messages.json") => "SM42",
            p if p == format!("/base/2010-04-01/Accounts/{SID}/Calls.json") => "CA42",
            _ => return (StatusCode::NOT_FOUND, "no such resource").into_response(),
        };
        (
            StatusCode::CREATED,
            [("content-type", "application/json")],
            format!(r#"{{"sid":"{sid}","status":"queued"}}"#),
        )
            .into_response()
    })
    .await
}

fn notifier(sink: &Sink, token: &str) -> ProviderNotifier {
    let mut config = ProviderConfig::new(SID, token, FROM);
    config.base_url = sink.at("/base/");
    ProviderNotifier::new(&config, client()).unwrap()
}

#[tokio::test]
async fn sms_posts_to_messages_json_with_basic_auth_and_form_fields() {
    let sink = fake_provider().await;
    let msg = message(Channel::Sms, "+4915112345678");
    let outcome = notifier(&sink, TOKEN).send(&msg, NOW).await;
    assert_eq!(
        outcome,
        Outcome::Delivered {
            detail: Some("SM42".to_string())
        }
    );

    let req = sink.only_request();
    assert_eq!(req.method, "POST");
    assert_eq!(
        req.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        req.form(),
        vec![
            ("To".to_string(), "+4915112345678".to_string()),
            ("From".to_string(), FROM.to_string()),
            (
                "Body".to_string(),
                "INC-7 SEV1 checkout is down\nCheckout returns 502 for all users.\n\
                 Acknowledge within 5 minutes."
                    .to_string()
            ),
        ]
    );
}

#[tokio::test]
async fn sms_bodies_are_cut_to_1600_characters() {
    let sink = fake_provider().await;
    let mut msg = message(Channel::Sms, "+4915112345678");
    msg.text = "ü".repeat(3000);
    notifier(&sink, TOKEN).send(&msg, NOW).await;
    let body = sink.only_request().form_value("Body").unwrap();
    assert_eq!(body.chars().count(), 1600);
    assert!(body.starts_with("INC-7 SEV1 checkout is down\nüü"));
}

#[tokio::test]
async fn voice_posts_escaped_twiml_to_calls_json() {
    let sink = fake_provider().await;
    let mut msg = message(Channel::Voice, "+12025550123");
    msg.text = "Host db1 <primary> & replica are down".to_string();
    let outcome = notifier(&sink, TOKEN).send(&msg, NOW).await;
    assert_eq!(
        outcome,
        Outcome::Delivered {
            detail: Some("CA42".to_string())
        }
    );
    let req = sink.only_request();
    assert_eq!(req.form_value("To").as_deref(), Some("+12025550123"));
    assert_eq!(req.form_value("From").as_deref(), Some(FROM));
    assert_eq!(
        req.form_value("Twiml").as_deref(),
        Some(
            "<Response><Say>INC-7 SEV1 checkout is down. \
             Host db1 &lt;primary&gt; &amp; replica are down</Say></Response>"
        )
    );
}

#[tokio::test]
async fn numbers_that_are_not_e164_are_rejected_without_a_request() {
    let sink = fake_provider().await;
    for (channel, number) in [
        (Channel::Sms, "015112345678"),
        (Channel::Sms, "+49 151 12345678"),
        (Channel::Voice, "+1234"),
        (Channel::Voice, "ada@example.com"),
    ] {
        let outcome = notifier(&sink, TOKEN)
            .send(&message(channel, number), NOW)
            .await;
        let Outcome::Rejected { error } = outcome else {
            panic!("{number:?} must be rejected: {outcome:?}");
        };
        assert!(error.contains("E.164"), "{error}");
    }
    assert!(sink.requests().is_empty());
}

#[tokio::test]
async fn provider_refusals_are_rejected_and_outages_retried() {
    let sink = fake_provider().await;
    let outcome = notifier(&sink, "wrong-token")
        .send(&message(Channel::Sms, "+4915112345678"), NOW)
        .await;
    assert_eq!(
        outcome,
        Outcome::Rejected {
            error: r#"HTTP 401 Unauthorized: {"code":20003,"message":"Authenticate"}"#.to_string()
        }
    );

    let down = Sink::answering(503, &[("retry-after", "12")], "").await;
    let mut config = ProviderConfig::new(SID, TOKEN, FROM);
    config.base_url = down.url.clone();
    let outcome = ProviderNotifier::new(&config, client())
        .unwrap()
        .send(&message(Channel::Voice, "+12025550123"), NOW)
        .await;
    assert!(
        matches!(outcome, Outcome::Retry { retry_after: Some(d), .. } if d.as_secs() == 12),
        "{outcome:?}"
    );
    assert_eq!(
        down.only_request().path,
        format!("/2010-04-01/Accounts/{SID}/Calls.json")
    );
}

#[tokio::test]
async fn other_channels_are_not_the_providers() {
    let sink = fake_provider().await;
    let outcome = notifier(&sink, TOKEN)
        .send(&message(Channel::Email, "+4915112345678"), NOW)
        .await;
    assert!(matches!(outcome, Outcome::Rejected { .. }), "{outcome:?}");
    assert!(sink.requests().is_empty());
}

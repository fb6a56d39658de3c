//! Slack/Mattermost incoming webhooks against a local sink: the JSON body and how
//! Slack's answers are read.

mod support;

use std::time::Duration;
use support::{NOW, Sink, client, message};
use triad_notify::chat::ChatNotifier;
use triad_notify::{Channel, Notifier, Outcome};

#[tokio::test]
async fn posts_subject_and_text_as_one_text_field() {
    let sink = Sink::answering(200, &[("content-type", "text/plain")], "ok").await;
    let mut msg = message(Channel::Slack, &sink.at("/services/T000/B000/XXXX"));
    msg.text = "Checkout <!channel> returns 502 & worse".to_string();

    let outcome = ChatNotifier::new(client()).send(&msg, NOW).await;
    assert_eq!(outcome, Outcome::Delivered { detail: None });

    let req = sink.only_request();
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/services/T000/B000/XXXX");
    assert_eq!(req.header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "text": "INC-7 SEV1 checkout is down\nCheckout &lt;!channel&gt; returns 502 &amp; worse"
        })
    );
}

#[tokio::test]
async fn slack_rate_limits_are_retried_and_its_refusals_rejected() {
    let sink = Sink::answering(429, &[("retry-after", "30")], "rate_limited").await;
    let outcome = ChatNotifier::new(client())
        .send(&message(Channel::Slack, &sink.url), NOW)
        .await;
    assert_eq!(
        outcome,
        Outcome::Retry {
            error: "HTTP 429 Too Many Requests: rate_limited".to_string(),
            retry_after: Some(Duration::from_secs(30)),
        }
    );

    let sink = Sink::answering(404, &[], "no_service").await;
    let outcome = ChatNotifier::new(client())
        .send(&message(Channel::Slack, &sink.url), NOW)
        .await;
    assert_eq!(
        outcome,
        Outcome::Rejected {
            error: "HTTP 404 Not Found: no_service".to_string()
        }
    );
}

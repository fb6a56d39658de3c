//! How HTTP answers and failures become outcomes: what is retried (and when), what is
//! given up. Driven through the webhook adapter against a local sink.

mod support;

use std::time::Duration;
use support::{NOW, Sink, client, closed_port, message};
use triad_notify::webhook::WebhookNotifier;
use triad_notify::{Channel, Notifier, Outcome};

async fn outcome_for(status: u16, headers: &[(&str, &str)], body: &str) -> Outcome {
    let sink = Sink::answering(status, headers, body).await;
    let outcome = WebhookNotifier::new(client())
        .send(&message(Channel::Webhook, &sink.url), NOW)
        .await;
    assert_eq!(sink.requests().len(), 1, "one attempt, no hidden retries");
    outcome
}

#[tokio::test]
async fn server_errors_are_retried() {
    let outcome = outcome_for(500, &[], "boom").await;
    assert_eq!(
        outcome,
        Outcome::Retry {
            error: "HTTP 500 Internal Server Error: boom".to_string(),
            retry_after: None
        }
    );
}

#[tokio::test]
async fn retry_after_seconds_are_honoured() {
    let outcome = outcome_for(503, &[("retry-after", "7")], "").await;
    assert_eq!(
        outcome,
        Outcome::Retry {
            error: "HTTP 503 Service Unavailable".to_string(),
            retry_after: Some(Duration::from_secs(7))
        }
    );
}

#[tokio::test]
async fn retry_after_http_date_is_relative_to_now() {
    // NOW is Tue, 14 Nov 2023 22:13:20 GMT; the server asks for 90 s later.
    let outcome = outcome_for(
        429,
        &[("retry-after", "Tue, 14 Nov 2023 22:14:50 GMT")],
        "slow down",
    )
    .await;
    assert_eq!(
        outcome,
        Outcome::Retry {
            error: "HTTP 429 Too Many Requests: slow down".to_string(),
            retry_after: Some(Duration::from_secs(90))
        }
    );
}

#[tokio::test]
async fn request_timeout_and_too_early_are_retried() {
    for status in [408, 425, 502, 504] {
        let outcome = outcome_for(status, &[], "").await;
        assert!(
            matches!(outcome, Outcome::Retry { .. }),
            "{status}: {outcome:?}"
        );
    }
}

#[tokio::test]
async fn client_errors_are_rejected_with_the_start_of_the_body() {
    let long = format!("no such hook {}", "x".repeat(400));
    let Outcome::Rejected { error } = outcome_for(404, &[], &long).await else {
        panic!("404 must be rejected");
    };
    assert!(
        error.starts_with("HTTP 404 Not Found: no such hook xxx"),
        "{error}"
    );
    assert_eq!(error.chars().count(), "HTTP 404 Not Found: ".len() + 200);

    assert_eq!(
        outcome_for(410, &[], "gone for good").await,
        Outcome::Rejected {
            error: "HTTP 410 Gone: gone for good".to_string()
        }
    );
    for status in [400, 401, 403, 413, 422] {
        let outcome = outcome_for(status, &[], "").await;
        assert!(
            matches!(outcome, Outcome::Rejected { .. }),
            "{status}: {outcome:?}"
        );
    }
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let outcome = outcome_for(301, &[("location", "http://elsewhere.invalid/")], "").await;
    let Outcome::Rejected { error } = outcome else {
        panic!("a redirect must be rejected: {outcome:?}");
    };
    assert!(error.contains("http://elsewhere.invalid/"), "{error}");
}

#[tokio::test]
async fn connection_refused_is_retried() {
    let url = format!("http://127.0.0.1:{}/hook", closed_port());
    let outcome = WebhookNotifier::new(client())
        .send(&message(Channel::Webhook, &url), NOW)
        .await;
    let Outcome::Retry { error, retry_after } = outcome else {
        panic!("connection refused must be retried: {outcome:?}");
    };
    assert!(error.starts_with("cannot connect"), "{error}");
    assert_eq!(retry_after, None);
}

/// The server accepts the request and never answers. Time is paused, so the runtime
/// jumps to the client's deadline as soon as everything is idle: nothing sleeps.
#[tokio::test(start_paused = true)]
async fn a_server_that_never_answers_times_out_and_is_retried() {
    let (listener_url, _server) = hanging_server().await;
    let client = triad_notify::http::client(Duration::from_secs(10)).unwrap();
    let outcome = WebhookNotifier::new(client)
        .send(&message(Channel::Webhook, &listener_url), NOW)
        .await;
    let Outcome::Retry { error, .. } = outcome else {
        panic!("a timeout must be retried: {outcome:?}");
    };
    assert!(error.starts_with("timed out"), "{error}");
}

/// Accepts connections, reads, and never writes back.
async fn hanging_server() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    (url, task)
}

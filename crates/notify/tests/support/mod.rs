//! Test helpers: an HTTP sink on 127.0.0.1 that records every request and answers as
//! told, a closed port, and a ready-made message.

#![allow(dead_code)]

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Mutex};
use triad_notify::{Channel, Message};

/// One request the sink received.
#[derive(Debug, Clone)]
pub struct Captured {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Captured {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.to_vec()).expect("UTF-8 body")
    }

    /// The body as `application/x-www-form-urlencoded` pairs.
    pub fn form(&self) -> Vec<(String, String)> {
        let url = reqwest::Url::parse(&format!("http://form.invalid/?{}", self.text())).unwrap();
        url.query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    pub fn form_value(&self, key: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }
}

type Responder = Arc<dyn Fn(&Captured) -> Response + Send + Sync>;

#[derive(Clone)]
struct SinkState {
    requests: Arc<Mutex<Vec<Captured>>>,
    responder: Responder,
}

/// An HTTP server on 127.0.0.1:0 that records requests; stopped when dropped.
pub struct Sink {
    pub url: String,
    requests: Arc<Mutex<Vec<Captured>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Sink {
    /// A sink whose answer `responder` computes from each request.
    pub async fn start(responder: impl Fn(&Captured) -> Response + Send + Sync + 'static) -> Sink {
        let state = SinkState {
            requests: Arc::new(Mutex::new(Vec::new())),
            responder: Arc::new(responder),
        };
        let requests = state.requests.clone();
        let app = axum::Router::new().fallback(record).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Sink {
            url,
            requests,
            task,
        }
    }

    /// A sink that always gives the same answer.
    pub async fn answering(status: u16, headers: &[(&str, &str)], body: &str) -> Sink {
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let body = body.to_string();
        Sink::start(move |_| {
            let mut response =
                (StatusCode::from_u16(status).unwrap(), body.clone()).into_response();
            for (k, v) in &headers {
                response.headers_mut().insert(
                    axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    v.parse().unwrap(),
                );
            }
            response
        })
        .await
    }

    /// `self.url` followed by `path`.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub fn requests(&self) -> Vec<Captured> {
        self.requests.lock().unwrap().clone()
    }

    /// The one request received; fails if there were none or several.
    pub fn only_request(&self) -> Captured {
        let requests = self.requests();
        assert_eq!(
            requests.len(),
            1,
            "expected exactly one request: {requests:#?}"
        );
        requests.into_iter().next().unwrap()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn record(State(state): State<SinkState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let captured = Captured {
        method: parts.method,
        path: parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        headers: parts.headers,
        body,
    };
    let response = (state.responder)(&captured);
    state.requests.lock().unwrap().push(captured);
    response
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// 2023-11-14T22:13:20Z, the `now` of most tests.
pub const NOW: i64 = 1_700_000_000_000;

/// A complete message for `channel` to `address`.
pub fn message(channel: Channel, address: &str) -> Message {
    Message {
        notification_id: "0190f3a4-5b6c-7d8e-9f01-23456789abcd".to_string(),
        idempotency_key: "incident:INC-7:page:1".to_string(),
        channel,
        address: address.to_string(),
        recipient_name: Some("Ada Lovelace".to_string()),
        subject: "INC-7 SEV1 checkout is down".to_string(),
        text: "Checkout returns 502 for all users.\nAcknowledge within 5 minutes.".to_string(),
        event: serde_json::json!({
            "type": "incident.paged",
            "incident": {"id": "INC-7", "severity": "sev1", "title": "checkout is down"},
            "unicode": "Zürich ✓",
        }),
        secret: None,
        created_at: NOW - 5_000,
    }
}

/// A client with the default timeout.
pub fn client() -> reqwest::Client {
    triad_notify::http::client(triad_notify::http::DEFAULT_TIMEOUT).unwrap()
}

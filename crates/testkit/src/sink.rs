//! An HTTP sink for webhook tests: a raw-tokio server on 127.0.0.1 that records every
//! request (method, path, headers, raw body, and the test clock's time of arrival) and
//! answers each with a scripted reply.

use crate::{Clock, ManualClock};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// One request the sink received.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The test clock when the request arrived (epoch ms).
    pub at: i64,
    pub method: String,
    pub path: String,
    /// Header names lowercased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body exactly as it arrived.
    pub body: Vec<u8>,
}

impl Hit {
    /// The first value of header `name` (matched case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON; panics, showing the body, when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "webhook body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// The sink's answer to a request: status, extra headers, body.
pub type Answer = (u16, Vec<(&'static str, String)>, String);

/// An answer with `status` and `body` and no extra headers.
pub fn reply(status: u16, body: &str) -> Answer {
    (status, Vec::new(), body.to_string())
}

/// An HTTP server on 127.0.0.1:0, one request per connection; `answer(n)` decides the
/// reply to the n-th request (0-based). Stopped when dropped.
pub struct Sink {
    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Sink {
    /// Starts the sink; arrivals are timed with `clock`.
    pub async fn start(
        clock: ManualClock,
        answer: impl Fn(usize) -> Answer + Send + Sync + 'static,
    ) -> Sink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the sink");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let answer: Arc<dyn Fn(usize) -> Answer + Send + Sync> = Arc::new(answer);
        let task = {
            let hits = hits.clone();
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let (hits, answer, clock) = (hits.clone(), answer.clone(), clock.clone());
                    tokio::spawn(async move {
                        if let Err(e) = serve_one(stream, &clock, &hits, &*answer).await {
                            eprintln!("sink: {e}");
                        }
                    });
                }
            })
        };
        Sink { url, hits, task }
    }

    /// Every request received so far, oldest first.
    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// How many requests were received so far.
    pub fn count(&self) -> usize {
        self.hits.lock().unwrap().len()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one request (headers, then a `Content-Length` body), records it, answers, and
/// closes the connection. The hit is recorded before the answer is written, so it is
/// visible once the engine pass that sent it has returned.
async fn serve_one(
    stream: tokio::net::TcpStream,
    clock: &ManualClock,
    hits: &Mutex<Vec<Hit>>,
    answer: &(dyn Fn(usize) -> Answer + Send + Sync),
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Err(std::io::Error::other(
                "connection closed inside the headers",
            ));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        return Err(std::io::Error::other(
            "the sink reads Content-Length bodies only",
        ));
    }
    let length = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map(|(_, v)| v.parse::<usize>().expect("Content-Length"))
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    let hit = Hit {
        at: clock.now(),
        method,
        path,
        headers,
        body,
    };
    let (status, extra, text) = {
        let mut hits = hits.lock().unwrap();
        let reply = answer(hits.len());
        hits.push(hit);
        reply
    };
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        503 => "Service Unavailable",
        _ => "Whatever",
    };
    let mut response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n",
        text.len()
    );
    for (k, v) in extra {
        response.push_str(&format!("{k}: {v}\r\n"));
    }
    response.push_str("\r\n");
    response.push_str(&text);
    let stream = reader.get_mut();
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

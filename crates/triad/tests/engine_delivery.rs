//! The engine delivering over REAL channels (`Channels::from_config`), not the recorder:
//! signed webhooks to an HTTP sink on 127.0.0.1, retries with growing backoff and a dead
//! letter for a failing endpoint, `Retry-After`, an immediate dead letter for a 4xx, and
//! email to a real SMTP server (aiosmtpd writing a Maildir). Each test runs on SQLite
//! and on PostgreSQL. No test waits for a timer: the clock is a `ManualClock` that the
//! test moves, and `t.tick()` runs one engine pass.

use serde_json::{Value, json};
use std::net::TcpStream as StdTcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use triad_app::AppConfig;
use triad_app::delivery::DeliveryConfig;
use triad_notify::router::{Channels, NotifyConfig};
use triad_notify::webhook::{self, HEADER_IDEMPOTENCY_KEY, HEADER_SIGNATURE, HEADER_TIMESTAMP};
use triad_testkit::{Clock, ManualClock, T0, TestApp, TestDb, both_backends};

/// The signing secret the tests give their webhook contact methods.
const SECRET: &str = "whsec_delivery_test_0123456789";

// ---------------------------------------------------------------------------------------
// An HTTP sink: raw tokio, one request per connection, recorded with the Triad clock's
// time of arrival.

/// One request the sink received.
#[derive(Debug, Clone)]
struct Hit {
    /// The test clock when the request arrived (epoch ms).
    at: i64,
    method: String,
    path: String,
    /// Header names lowercased, in arrival order.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Hit {
    fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "webhook body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// The sink's answer to a request: status, extra headers, body.
type Answer = (u16, Vec<(&'static str, String)>, String);

/// An HTTP server on 127.0.0.1:0; `answer(n)` decides the reply to the n-th request
/// (0-based). Stopped when dropped.
struct Sink {
    url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Sink {
    async fn start(
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

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    fn count(&self) -> usize {
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

fn reply(status: u16, body: &str) -> Answer {
    (status, Vec::new(), body.to_string())
}

// ---------------------------------------------------------------------------------------
// Helpers over the API.

/// A Triad server whose engine delivers through real channels.
async fn spawn(db: TestDb, max_attempts: Option<u32>, notify: NotifyConfig) -> TestApp {
    let mut config = AppConfig::default();
    if let Some(n) = max_attempts {
        config.delivery = DeliveryConfig {
            max_attempts: n,
            ..DeliveryConfig::default()
        };
    }
    let channels = Channels::from_config(&notify).expect("channels from the notify config");
    TestApp::spawn_with(db, config, Some(Arc::new(channels))).await
}

/// Gives the user behind `token` a webhook contact method at `url`, signed with SECRET.
async fn add_webhook(t: &TestApp, token: &str, url: &str) -> Value {
    let (st, method) = t
        .post(
            "/api/v1/users/me/contact-methods",
            token,
            json!({"type": "webhook", "address": url, "secret": SECRET}),
        )
        .await;
    assert_eq!(st, 201, "{method}");
    assert_eq!(
        method["secret"], SECRET,
        "the secret is returned once: {method}"
    );
    method
}

/// A one-level escalation policy paging `user` (next level only after an hour, so no
/// exhaustion interferes), a service using it, and a SEV3 incident declared on that
/// service by the admin. Returns the incident and its API path.
async fn declare_paging(t: &TestApp, user: &str, title: &str) -> (Value, String) {
    let admin = &t.admin_token;
    let (st, policy) = t
        .post(
            "/api/v1/escalation-policies",
            admin,
            json!({"name": "on-call", "levels": [
                {"delay_seconds": 3600, "targets": [{"type": "user", "id": user}]}
            ], "repeat": 0}),
        )
        .await;
    assert_eq!(st, 201, "{policy}");
    let (st, svc) = t
        .post(
            "/api/v1/services",
            admin,
            json!({"name": "payments", "escalation_policy": "on-call"}),
        )
        .await;
    assert_eq!(st, 201, "{svc}");
    let (st, inc) = t
        .post(
            "/api/v1/incidents",
            admin,
            json!({"title": title, "severity": "SEV3", "service": "payments"}),
        )
        .await;
    assert_eq!(st, 201, "{inc}");
    let path = format!("/api/v1/incidents/{}", inc["number"]);
    (inc, path)
}

/// The incident's one `page` notification, as the notifications API shows it.
async fn the_page(t: &TestApp, path: &str) -> Value {
    let (st, list) = t
        .get(&format!("{path}/notifications"), &t.admin_token)
        .await;
    assert_eq!(st, 200, "{list}");
    let pages: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["purpose"] == "page")
        .collect();
    assert_eq!(pages.len(), 1, "expected exactly one page: {list:#}");
    pages[0].clone()
}

/// The incident's timeline events of `kind`, oldest first.
async fn events(t: &TestApp, path: &str, kind: &str) -> Vec<Value> {
    let (st, all) = t.get(&format!("{path}/timeline"), &t.admin_token).await;
    assert_eq!(st, 200, "{all}");
    all.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .cloned()
        .collect()
}

/// Epoch milliseconds of an RFC 3339 UTC time as the API writes it
/// (`2026-01-01T00:00:09.345Z`). Checked against `triad_app::rfc3339`, its inverse.
fn parse_rfc3339(s: &str) -> i64 {
    let (date, time) = s
        .strip_suffix('Z')
        .and_then(|r| r.split_once('T'))
        .unwrap_or_else(|| panic!("not an RFC 3339 UTC time: {s:?}"));
    let num = |p: &str| -> i64 { p.parse().unwrap_or_else(|_| panic!("bad number in {s:?}")) };
    let ymd: Vec<i64> = date.split('-').map(num).collect();
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let hms: Vec<i64> = hms.split(':').map(num).collect();
    assert!(
        ymd.len() == 3 && hms.len() == 3,
        "not an RFC 3339 time: {s:?}"
    );
    let millis = if frac.is_empty() {
        0
    } else {
        num(&format!("{frac:0<3}")[..3])
    };
    // Days since 1970-01-01 of a proleptic Gregorian date (March-based years).
    let (y, m, d) = (ymd[0], ymd[1], ymd[2]);
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let ms = ((days * 24 + hms[0]) * 60 + hms[1]) * 60_000 + hms[2] * 1000 + millis;
    assert_eq!(triad_app::rfc3339(ms), s, "parse_rfc3339 misread {s:?}");
    ms
}

/// The first Python among `$TRIAD_TEST_PYTHON`, `python3` and `/usr/bin/python3` that
/// can import `module` (`python3` may be a pyenv shim without Debian's packages).
fn python_with(module: &str) -> PathBuf {
    let candidates: Vec<PathBuf> = std::env::var_os("TRIAD_TEST_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain(["python3", "/usr/bin/python3"].map(PathBuf::from))
        .collect();
    candidates
        .iter()
        .find(|python| {
            Command::new(python)
                .args(["-c", &format!("import {module}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "no Python among {candidates:?} can import {module}: install it (for \
                 aiosmtpd: `apt-get install python3-aiosmtpd`) or point TRIAD_TEST_PYTHON \
                 at a Python that has it"
            )
        })
}

/// `Triad-Signature`'s scheme recomputed outside Rust, with Python's standard `hmac`:
/// lowercase hex HMAC-SHA256, keyed with `secret`, of `"<timestamp>.<body>"`.
fn python_hmac_sha256_hex(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let script = "import hmac, hashlib, sys\n\
                  key, ts = sys.argv[1].encode(), sys.argv[2].encode()\n\
                  body = sys.stdin.buffer.read()\n\
                  print(hmac.new(key, ts + b'.' + body, hashlib.sha256).hexdigest())";
    let mut child = Command::new(python_with("hmac"))
        .args(["-c", script, secret, timestamp])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(body).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

// ---------------------------------------------------------------------------------------
// 1. A signed webhook page.

both_backends!(a_page_reaches_a_webhook_signed, |db: TestDb| async move {
    let t = spawn(db, None, NotifyConfig::default()).await;
    let sink = Sink::start(t.clock.clone(), |_| reply(200, "ok")).await;
    let (rita, rita_tok) = t
        .user("rita@example.com", "Rita Responder", "responder")
        .await;
    let hook_url = format!("{}/hooks/rita", sink.url);
    add_webhook(&t, &rita_tok, &hook_url).await;
    let (inc, path) = declare_paging(&t, &rita, "Card payments declined").await;

    let report = t.tick().await;
    assert_eq!(report.delivered, 1, "{report:?}");
    let hits = sink.hits();
    assert_eq!(hits.len(), 1, "{hits:#?}");
    let hit = &hits[0];
    assert_eq!(hit.method, "POST");
    assert_eq!(hit.path, "/hooks/rita");
    assert_eq!(hit.at, T0);
    assert!(
        hit.header("content-type")
            .is_some_and(|v| v.starts_with("application/json")),
        "{hit:?}"
    );

    // The signature, as a receiver checks it...
    let ts_text = hit.header(HEADER_TIMESTAMP).expect("Triad-Timestamp");
    let ts: i64 = ts_text.parse().expect("numeric timestamp");
    assert_eq!(
        ts,
        T0 / 1000,
        "the timestamp is the engine clock's, in seconds"
    );
    let sig = hit.header(HEADER_SIGNATURE).expect("Triad-Signature");
    let now_secs = t.clock.now() / 1000;
    assert!(
        webhook::verify(SECRET, ts, &hit.body, sig, now_secs, 300),
        "{sig}"
    );
    // ...and it is really bound to the secret, the body and the timestamp.
    assert!(!webhook::verify(
        "whsec_some_other_secret_000",
        ts,
        &hit.body,
        sig,
        now_secs,
        300
    ));
    let mut tampered = hit.body.clone();
    tampered.push(b' ');
    assert!(!webhook::verify(SECRET, ts, &tampered, sig, now_secs, 300));
    assert!(!webhook::verify(
        SECRET,
        ts + 1,
        &hit.body,
        sig,
        now_secs,
        300
    ));
    // Recomputed by hand: v1=hex(HMAC-SHA256(secret, "<timestamp>.<body>")), both with
    // the crate's public `sign` and independently with Python's hmac module.
    assert_eq!(sig, webhook::sign(SECRET, ts, &hit.body));
    assert_eq!(
        sig,
        format!("v1={}", python_hmac_sha256_hex(SECRET, ts_text, &hit.body))
    );

    // The document.
    let n = the_page(&t, &path).await;
    let body = hit.json();
    assert_eq!(body["type"], "incident.page", "{body:#}");
    assert_eq!(body["incident"]["number"], inc["number"], "{body:#}");
    assert_eq!(body["incident"]["id"], inc["id"]);
    assert_eq!(body["incident"]["title"], "Card payments declined");
    assert_eq!(body["incident"]["severity"], "SEV3");
    assert_eq!(body["recipient"], "Rita Responder");
    let key = hit
        .header(HEADER_IDEMPOTENCY_KEY)
        .expect("Triad-Idempotency-Key");
    assert_eq!(body["idempotency_key"], key);
    assert_eq!(n["idempotency_key"], key);
    assert_eq!(body["notification_id"], n["id"]);
    assert_eq!(
        hit.header(webhook::HEADER_NOTIFICATION_ID),
        n["id"].as_str()
    );

    // Recorded as sent, once; nothing failed.
    assert_eq!(n["status"], "sent", "{n}");
    assert_eq!(n["channel"], "webhook");
    assert_eq!(n["address"], hook_url);
    assert_eq!(n["attempts"], 1);
    assert_eq!(n["sent_at"], "2026-01-01T00:00:00Z");
    assert!(n["next_attempt_at"].is_null(), "{n}");
    assert!(n["last_error"].is_null(), "{n}");
    t.advance(600).await;
    assert_eq!(sink.count(), 1, "a delivered page is not sent again");
    assert!(events(&t, &path, "notification_failed").await.is_empty());
    assert!(events(&t, &path, "notification_dead").await.is_empty());
    t.stop().await;
});

// ---------------------------------------------------------------------------------------
// 2. 5xx: retried with growing waits, then a dead letter; Retry-After is honoured.

both_backends!(
    server_errors_back_off_then_dead_letter,
    |db: TestDb| async move {
        let t = spawn(db, Some(4), NotifyConfig::default()).await;
        let sink = Sink::start(t.clock.clone(), |_| reply(503, "down for maintenance")).await;
        let (rita, rita_tok) = t
            .user("rita@example.com", "Rita Responder", "responder")
            .await;
        add_webhook(&t, &rita_tok, &format!("{}/hooks/rita", sink.url)).await;
        let (_, path) = declare_paging(&t, &rita, "Ledger replication stuck").await;

        let report = t.tick().await;
        assert_eq!(report.retried, 1, "{report:?}");
        assert_eq!(sink.count(), 1);
        let mut n = the_page(&t, &path).await;
        let mut scheduled = Vec::new();
        while n["status"] == "failed" {
            assert!(sink.count() < 4, "still failed after 4 attempts: {n}");
            let next = parse_rfc3339(n["next_attempt_at"].as_str().expect("next_attempt_at"));
            scheduled.push(next);
            let before = sink.count();
            // Not a millisecond early...
            t.clock.set(next - 1);
            t.tick().await;
            assert_eq!(
                sink.count(),
                before,
                "retried before next_attempt_at {next}"
            );
            // ...and on time.
            t.clock.set(next);
            t.tick().await;
            assert_eq!(
                sink.count(),
                before + 1,
                "not retried at next_attempt_at {next}"
            );
            n = the_page(&t, &path).await;
        }

        let hits = sink.hits();
        assert_eq!(hits.len(), 4, "max_attempts is 4: {hits:#?}");
        assert_eq!(n["status"], "dead", "{n}");
        assert_eq!(n["attempts"], 4);
        assert!(n["next_attempt_at"].is_null(), "{n}");
        let last_error = n["last_error"].as_str().unwrap_or_default();
        assert!(last_error.contains("503"), "{last_error}");
        // Every attempt carried the same idempotency key and notification id.
        for h in &hits {
            assert_eq!(
                h.header(HEADER_IDEMPOTENCY_KEY),
                n["idempotency_key"].as_str()
            );
            assert_eq!(h.header(webhook::HEADER_NOTIFICATION_ID), n["id"].as_str());
            let ts: i64 = h.header(HEADER_TIMESTAMP).unwrap().parse().unwrap();
            assert_eq!(ts, h.at / 1000, "each attempt is signed at its own time");
            assert!(webhook::verify(
                SECRET,
                ts,
                &h.body,
                h.header(HEADER_SIGNATURE).unwrap(),
                ts,
                0
            ));
        }
        // The waits between attempts grow: base 10 s doubling, jitter in [0.8, 1.2).
        let arrivals: Vec<i64> = hits.iter().map(|h| h.at).collect();
        assert_eq!(
            &arrivals[1..],
            &scheduled[..],
            "attempts arrive when scheduled"
        );
        let gaps: Vec<i64> = arrivals.windows(2).map(|w| w[1] - w[0]).collect();
        for w in gaps.windows(2) {
            assert!(w[1] > w[0], "waits must strictly grow: {gaps:?}");
        }
        for (i, gap) in gaps.iter().enumerate() {
            let nominal = 10_000 << i;
            assert!(
                *gap >= nominal * 8 / 10 && *gap < nominal * 12 / 10,
                "wait {} is {gap} ms, outside {nominal} ms ± 20 %: {gaps:?}",
                i + 1
            );
        }

        // The timeline: three failures announcing the next attempt, then the dead letter.
        let failed = events(&t, &path, "notification_failed").await;
        let dead = events(&t, &path, "notification_dead").await;
        assert_eq!(failed.len(), 3, "{failed:#?}");
        assert_eq!(dead.len(), 1, "{dead:#?}");
        for (i, e) in failed.iter().enumerate() {
            let d = &e["data"];
            assert_eq!(d["notification_id"], n["id"], "{e}");
            assert_eq!(d["attempts"], i + 1, "{e}");
            assert_eq!(d["status"], "failed", "{e}");
            assert!(
                d["error"].as_str().unwrap_or_default().contains("503"),
                "{e}"
            );
            assert_eq!(
                d["next_attempt_at"],
                triad_app::rfc3339(arrivals[i + 1]),
                "{e}"
            );
            assert!(e["seq"].as_i64() < dead[0]["seq"].as_i64());
        }
        let d = &dead[0]["data"];
        assert_eq!(d["notification_id"], n["id"]);
        assert_eq!(d["attempts"], 4);
        assert_eq!(d["status"], "dead");
        assert!(d["next_attempt_at"].is_null(), "{d}");

        // A dead letter stays dead.
        t.advance(900).await;
        assert_eq!(sink.count(), 4);
        t.stop().await;
    }
);

both_backends!(retry_after_is_honoured, |db: TestDb| async move {
    let t = spawn(db, Some(4), NotifyConfig::default()).await;
    let sink = Sink::start(t.clock.clone(), |i| match i {
        0 => (503, vec![("Retry-After", "120".to_string())], "busy".into()),
        _ => reply(200, "ok"),
    })
    .await;
    let (rita, rita_tok) = t
        .user("rita@example.com", "Rita Responder", "responder")
        .await;
    add_webhook(&t, &rita_tok, &format!("{}/hooks/rita", sink.url)).await;
    let (_, path) = declare_paging(&t, &rita, "Ledger replication stuck").await;

    t.tick().await;
    assert_eq!(sink.count(), 1);
    let n = the_page(&t, &path).await;
    assert_eq!(n["status"], "failed", "{n}");
    assert_eq!(n["attempts"], 1);
    let next = parse_rfc3339(n["next_attempt_at"].as_str().unwrap());
    assert!(
        next - T0 >= 120_000,
        "Retry-After: 120 ignored: retry at {next}, sent at {T0}"
    );
    let failed = events(&t, &path, "notification_failed").await;
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0]["data"]["next_attempt_at"], n["next_attempt_at"]);

    // The base backoff (about 10 s) would have retried long ago.
    t.advance(119).await;
    assert_eq!(sink.count(), 1, "retried before Retry-After ran out");
    t.clock.set(next);
    t.tick().await;
    let hits = sink.hits();
    assert_eq!(hits.len(), 2);
    assert!(
        hits[1].at - hits[0].at >= 120_000,
        "{} ms",
        hits[1].at - hits[0].at
    );
    assert_eq!(
        hits[0].header(HEADER_IDEMPOTENCY_KEY),
        hits[1].header(HEADER_IDEMPOTENCY_KEY)
    );
    let n = the_page(&t, &path).await;
    assert_eq!(n["status"], "sent", "{n}");
    assert_eq!(n["attempts"], 2);
    assert_eq!(n["sent_at"], triad_app::rfc3339(next));
    assert!(n["last_error"].is_null(), "{n}");
    assert!(events(&t, &path, "notification_dead").await.is_empty());
    t.stop().await;
});

// ---------------------------------------------------------------------------------------
// 3. A 4xx is final.

both_backends!(client_errors_are_dead_at_once, |db: TestDb| async move {
    let t = spawn(db, None, NotifyConfig::default()).await;
    let sink = Sink::start(t.clock.clone(), |_| reply(404, "no such hook")).await;
    let (rita, rita_tok) = t
        .user("rita@example.com", "Rita Responder", "responder")
        .await;
    add_webhook(&t, &rita_tok, &format!("{}/hooks/gone", sink.url)).await;
    let (_, path) = declare_paging(&t, &rita, "Search index corrupt").await;

    let report = t.tick().await;
    assert_eq!(report.rejected, 1, "{report:?}");
    assert_eq!(sink.count(), 1);
    let n = the_page(&t, &path).await;
    assert_eq!(n["status"], "dead", "{n}");
    assert_eq!(n["attempts"], 1);
    assert!(n["next_attempt_at"].is_null(), "{n}");
    let last_error = n["last_error"].as_str().unwrap_or_default();
    assert!(last_error.contains("404"), "{last_error}");

    let dead = events(&t, &path, "notification_dead").await;
    assert_eq!(dead.len(), 1, "{dead:#?}");
    assert_eq!(dead[0]["data"]["notification_id"], n["id"]);
    assert_eq!(dead[0]["data"]["status"], "dead");
    assert!(
        dead[0]["data"]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("404"),
        "{}",
        dead[0]
    );
    assert!(events(&t, &path, "notification_failed").await.is_empty());

    // Well past the longest backoff: never retried.
    t.advance(900).await;
    t.advance(900).await;
    assert_eq!(sink.count(), 1);
    t.stop().await;
});

// ---------------------------------------------------------------------------------------
// 4. Email over real SMTP.

/// aiosmtpd on 127.0.0.1, storing what it receives in a Maildir; its process (and only
/// it, by pid) is killed when dropped.
struct SmtpServer {
    child: Child,
    port: u16,
    python: PathBuf,
    dir: tempfile::TempDir,
}

impl SmtpServer {
    fn start() -> SmtpServer {
        let python = python_with("aiosmtpd");
        let dir = tempfile::tempdir().unwrap();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let child = Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            // The handler creates the Maildir itself; the folder must not exist yet.
            .arg(dir.path().join("maildir"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start aiosmtpd");
        let mut server = SmtpServer {
            child,
            port,
            python,
            dir,
        };
        // The server's own start-up, polled for at most 30 s.
        let started = Instant::now();
        while StdTcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("aiosmtpd exited with {status}: {}", server.log());
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "aiosmtpd did not listen on 127.0.0.1:{port} within 30 s: {}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The messages in the Maildir now.
    fn delivered(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.dir.path().join("maildir").join("new"))
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default()
    }

    /// Waits (at most 10 s) until the Maildir holds `count` messages; returns them.
    async fn wait_for_mail(&self, count: usize) -> Vec<PathBuf> {
        let new = self.dir.path().join("maildir").join("new");
        let started = Instant::now();
        loop {
            let files = self.delivered();
            if files.len() >= count {
                return files;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{} message(s) in {} after 10 s, expected {count}: {}",
                files.len(),
                new.display(),
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A stored message, read by Python's email package (a parser that is not lettre).
    fn parse(&self, file: &Path) -> Value {
        let script = "import email, email.policy, json, sys\n\
                      m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)\n\
                      h = lambda n: None if m[n] is None else str(m[n])\n\
                      print(json.dumps({'from': h('From'), 'to': h('To'), 'subject': h('Subject'),\n\
                      'date': h('Date'), 'message_id': h('Message-ID'),\n\
                      'key': h('X-Triad-Idempotency-Key'), 'rcpt': h('X-RcptTo'),\n\
                      'content_type': m.get_content_type(), 'body': m.get_content()}))";
        let out = Command::new(&self.python)
            .args(["-c", script])
            .arg(file)
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

both_backends!(
    a_page_reaches_the_account_email_over_smtp,
    |db: TestDb| async move {
        let smtp = SmtpServer::start();
        let mut smtp_config =
            triad_notify::SmtpConfig::new("127.0.0.1", "Triad Pager <triad@example.org>");
        smtp_config.port = smtp.port;
        let notify = NotifyConfig {
            smtp: Some(smtp_config),
            ..NotifyConfig::default()
        };
        let t = spawn(db, None, notify).await;
        // No contact methods: paged at the account email.
        let (erin, _) = t.user("erin@example.com", "Erin Oncall", "responder").await;
        let title = "Checkout failing in Zürich";
        let (inc, path) = declare_paging(&t, &erin, title).await;
        let number = inc["number"].as_i64().expect("numeric incident number");

        let report = t.tick().await;
        assert_eq!(report.delivered, 1, "{report:?}\n{}", smtp.log());
        let n = the_page(&t, &path).await;
        assert_eq!(n["status"], "sent", "{n}\n{}", smtp.log());
        assert_eq!(n["channel"], "email");
        assert_eq!(n["address"], "erin@example.com");

        let files = smtp.wait_for_mail(1).await;
        assert_eq!(files.len(), 1, "{files:?}");
        let mail = smtp.parse(&files[0]);
        assert_eq!(mail["from"], "Triad Pager <triad@example.org>", "{mail:#}");
        assert_eq!(mail["to"], "Erin Oncall <erin@example.com>", "{mail:#}");
        assert_eq!(mail["rcpt"], "erin@example.com", "the envelope recipient");
        let subject = mail["subject"].as_str().unwrap_or_default();
        assert!(subject.contains(title), "{subject}");
        assert!(subject.contains("SEV3"), "{subject}");
        assert_eq!(subject, format!("[SEV3] #{number} {title}"));
        assert_eq!(
            mail["message_id"],
            format!("<{}@triad.local>", n["id"].as_str().unwrap()),
            "{mail:#}"
        );
        assert_eq!(mail["key"], n["idempotency_key"]);
        assert_eq!(mail["date"], "Thu, 01 Jan 2026 00:00:00 +0000");
        assert_eq!(mail["content_type"], "text/plain");
        let body = mail["body"].as_str().unwrap_or_default();
        assert!(body.contains(&format!("incident #{number}")), "{body}");
        assert!(
            body.contains(&format!("triad incident ack {number}")),
            "{body}"
        );
        assert!(body.contains(title), "{body}");

        // Delivered once, not again.
        t.advance(600).await;
        assert_eq!(smtp.delivered().len(), 1, "{:?}", smtp.delivered());
        assert!(events(&t, &path, "notification_failed").await.is_empty());
        assert!(events(&t, &path, "notification_dead").await.is_empty());
        t.stop().await;
        drop(smtp);
    }
);

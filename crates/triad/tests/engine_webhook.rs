//! The engine delivering pages to signed webhooks over REAL channels
//! (`Channels::from_config`), not the recorder, against an HTTP sink on 127.0.0.1
//! (`triad_testkit::Sink`): the signature, retries with growing backoff and a dead letter
//! for a failing endpoint, `Retry-After`, and an immediate dead letter for a 4xx. Each
//! test runs on SQLite and on PostgreSQL. No test waits for a timer: the clock is a
//! `ManualClock` that the test moves, and `t.tick()` runs one engine pass.

use serde_json::{Value, json};
use std::process::{Command, Stdio};
use triad_notify::router::NotifyConfig;
use triad_notify::webhook::{self, HEADER_IDEMPOTENCY_KEY, HEADER_SIGNATURE, HEADER_TIMESTAMP};
mod common;

use common::*;
use triad_testkit::{Clock, Sink, T0, TestApp, TestDb, both_backends, python_with, reply};

/// The signing secret the tests give their webhook contact methods.
const SECRET: &str = "whsec_delivery_test_0123456789";

// ---------------------------------------------------------------------------------------
// Helpers over the API.

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

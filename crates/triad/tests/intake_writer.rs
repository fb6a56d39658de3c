//! The intake's group-commit writer under concurrency and failure, over real HTTP on
//! both databases: a storm of concurrent triggers is counted once each and in order
//! through the set-wise path, and a failed flush to disk stops the intake until restart.

mod intake_common;

use intake_common::*;
use reqwest::Method;
use serde_json::{Value, json};
use triad_testkit::{TestApp, TestDb, both_backends};

// Concurrent senders share the writer's batches, and a batch applies its repeats
// set-wise (one statement for the batch's open alerts, its timeline events together).
// Whatever the batching, every trigger is counted once and in order: repeats of one key
// in the same batch, new keys among repeats, keyless triggers.
both_backends!(
    a_storm_of_concurrent_triggers_counts_every_event_once_in_order,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let key = service_key(&t, "web", json!({"rate_limit_per_minute": 100000})).await;
        let post = |body: Value| {
            let t = &t;
            async move {
                let (st, b, _) = send(t, Method::POST, "/v2/enqueue", &[], &body).await;
                assert_eq!(st, 202, "{b}");
                b
            }
        };
        let keys: Vec<String> = (0..12).map(|i| format!("web-{i}/5xx")).collect();
        for k in &keys {
            post(pd_event(&key, "trigger", Some(k))).await;
        }
        // 12 keys × 15 repeats, 8 keyless triggers and 8 new keys, all at once.
        // Rounds over every key, each key twice in a row: runs of distinct keys that a
        // repeat of the same key breaks.
        let mut storm: Vec<Value> = Vec::new();
        for round in 0..8 {
            for k in &keys {
                let times = if round < 7 { 2 } else { 1 };
                for _ in 0..times {
                    storm.push(pd_event(&key, "trigger", Some(k)));
                }
            }
            storm.push(pd_event(&key, "trigger", None));
            storm.push(pd_event(&key, "trigger", Some(&format!("new-{round}"))));
        }
        let answers = futures::future::join_all(storm.into_iter().map(post)).await;
        // Batches formed, and none failed (a failed batch is retried one request at a
        // time, which would hide a wrong set-wise apply behind a right answer).
        let r = t
            .http
            .get(format!("{}/metrics", t.base))
            .send()
            .await
            .unwrap();
        let metrics = r.text().await.unwrap();
        let metric = |name: &str| -> u64 {
            metrics
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name} ")))
                .unwrap()
                .parse()
                .unwrap()
        };
        assert_eq!(metric("triad_intake_failed_batches_total"), 0, "{metrics}");
        // Every trigger went through the set-wise path (12 opening ones, then the storm).
        assert_eq!(
            metric("triad_intake_set_wise_events_total"),
            12 + answers.len() as u64,
            "{metrics}"
        );
        assert!(
            metric("triad_intake_commands_total") > metric("triad_intake_batches_total"),
            "{metrics}"
        );
        let updated = answers
            .iter()
            .filter(|b| b["message"] == "Event processed")
            .count();
        assert_eq!(updated, answers.len());
        let list = incidents(&t).await;
        assert_eq!(
            list.len(),
            12 + 8 + 8,
            "one incident per new alert, none per repeat"
        );
        for inc in &list {
            let (_, ev) = t
                .get(
                    &format!("/api/v1/incidents/{}/timeline", inc["number"]),
                    &t.admin_token,
                )
                .await;
            let counts: Vec<i64> = ev
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["kind"] == "alert")
                .map(|e| e["data"]["occurrences"].as_i64().unwrap())
                .collect();
            let seqs: Vec<i64> = ev
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["seq"].as_i64().unwrap())
                .collect();
            assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
            let title = inc["title"].as_str().unwrap();
            let dedup = ev
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["kind"] == "alert")
                .and_then(|e| e["data"]["dedup_key"].as_str())
                .unwrap_or_default()
                .to_string();
            let expected: Vec<i64> = if keys.contains(&dedup) {
                (1..=16).collect()
            } else {
                vec![1]
            };
            assert_eq!(
                counts, expected,
                "{title} {dedup}: each trigger once, in order"
            );
        }
        t.stop().await;
    }
);

// A failed flush to disk stops the intake for good: the batches it covered may never
// reach the disk and later commits depend on them, so nothing more is confirmed. Every
// event is answered 503 (senders retry) and /readyz fails until Triad restarts.
both_backends!(
    a_failed_flush_stops_the_intake_until_restart,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let key = service_key(&t, "db", json!({})).await;
        let event = pd_event(&key, "trigger", Some("db-1/disk"));
        let (st, b, _) = send(&t, Method::POST, "/v2/enqueue", &[], &event).await;
        assert_eq!(st, 202, "{b}");
        t.app.store().fail_next_wal_sync();
        for _ in 0..2 {
            let (st, b, _) = send(&t, Method::POST, "/v2/enqueue", &[], &event).await;
            assert_eq!(st, 503, "{b}");
            assert!(
                b.to_string().contains("restart Triad"),
                "the answer says what happened: {b}"
            );
        }
        let r = t
            .http
            .get(format!("{}/readyz", t.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 503);
        let (st, _) = t.get("/api/v1/incidents", &t.admin_token).await;
        assert_eq!(st, 200, "the rest of the API keeps working");
        t.stop().await;
    }
);

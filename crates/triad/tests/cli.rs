//! The real binary as a client: the whole incident flow, schedules and who is on call,
//! services, integration keys and business services, through `triad` against a running
//! server (on SQLite and on PostgreSQL).

use serde_json::{Value, json};
use std::process::Command;
use triad_testkit::{TestApp, TestDb, both_backends};

const BIN: &str = env!("CARGO_BIN_EXE_triad");

/// Runs the CLI; returns (success, stdout, stderr).
fn cli(t: &TestApp, token: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("TRIAD_SERVER", &t.base)
        .env("TRIAD_TOKEN", token)
        .output()
        .expect("run triad");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

both_backends!(cli_runs_the_whole_flow, |db: TestDb| async move {
    let t = TestApp::spawn(db).await;
    let (_, rita) = t
        .user("rita@example.com", "Rita Responder", "responder")
        .await;
    t.user("otto@example.com", "Otto Observer", "responder")
        .await;
    t.user("cora@example.com", "Cora Coordinator", "responder")
        .await;
    t.user("carl@example.com", "Carl Coordinator", "responder")
        .await;
    let run = |args: &[&str]| {
        let (ok, out, err) = cli(&t, &rita, args);
        assert!(ok, "triad {args:?} failed: {err}");
        out
    };
    let out = run(&[
        "incident",
        "declare",
        "--title",
        "Data ingest down",
        "--severity",
        "P1",
        "--json",
    ]);
    let n = serde_json::from_str::<Value>(&out).unwrap()["number"].to_string();
    assert!(run(&["incident", "ack", &n]).contains("acknowledged"));
    run(&["incident", "role", &n, "observer", "otto@example.com"]);
    run(&["incident", "role", &n, "coordinator", "cora@example.com"]);
    let roles = run(&[
        "incident",
        "role",
        &n,
        "coordinator",
        "carl@example.com",
        "--note",
        "shift change",
    ]);
    assert!(
        roles.contains("Carl Coordinator") && !roles.contains("Cora"),
        "{roles}"
    );
    run(&["incident", "note", &n, "consumer", "lag", "40", "min"]);
    for audience in ["stakeholders", "reporters", "public"] {
        let out = run(&[
            "incident",
            "update",
            &n,
            "--audience",
            audience,
            "--state",
            "identified",
            "--message",
            "cause found",
        ]);
        assert!(out.contains(audience));
    }
    run(&["incident", "resolve", &n]);
    let list = run(&["incident", "list"]);
    assert!(
        list.contains("NUMBER") && list.contains("resolved") && list.contains("Data ingest down"),
        "{list}"
    );
    let shown: Value = serde_json::from_str(&run(&["incident", "show", &n, "--json"])).unwrap();
    assert_eq!(shown["status"], "resolved");
    let kinds: Vec<&str> = shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "incident_declared",
            "paged",
            "acknowledged",
            "role_assigned",
            "understaffed",
            "role_assigned",
            "role_assigned",
            "staffed",
            "role_handed_over",
            "note",
            "update_published",
            "update_published",
            "update_published",
            "resolved",
            "reporter_notified",
        ]
    );
    let human = run(&["incident", "show", &n]);
    assert!(
        human.contains("role_handed_over") && human.contains("consumer lag 40 min"),
        "{human}"
    );

    // Clear messages for API errors, with the field, and a failing exit status.
    let (ok, _, err) = cli(
        &t,
        &rita,
        &["incident", "declare", "--title", "x", "--severity", "SEV7"],
    );
    assert!(!ok);
    assert!(
        err.contains("validation_failed") && err.contains("severity: must be one of"),
        "{err}"
    );
    let (ok, _, err) = cli(&t, &rita, &["incident", "resolve", &n]);
    assert!(
        !ok && err.contains("illegal_transition") && err.contains("HTTP 409"),
        "{err}"
    );
    let (ok, _, err) = cli(&t, "triad_wrong", &["incident", "list"]);
    assert!(
        !ok && err.contains("HTTP 401") && err.contains("TRIAD_TOKEN"),
        "{err}"
    );
    let out = Command::new(BIN)
        .args(["incident", "list", "--server", "http://127.0.0.1:9"])
        .env("TRIAD_TOKEN", "x")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach Triad"));
    t.stop().await;
});

both_backends!(
    cli_shows_schedules_and_who_is_on_call,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let admin = t.admin_token.clone();
        t.user("ana@example.com", "Ana Primary", "responder").await;
        t.user("ben@example.com", "Ben Backup", "responder").await;
        let (st, s) = t
        .post(
            "/api/v1/schedules",
            &admin,
            json!({"name": "primary", "time_zone": "Europe/London", "layers": [{
                "name": "daily", "participants": ["ana@example.com", "ben@example.com"],
                "shift_length": 1, "shift_unit": "days", "start": "2025-12-29",
                "handoff_time": "09:00",
                "restrictions": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00"}]}]}),
        )
        .await;
        assert_eq!(st, 201, "{s}");
        let run = |args: &[&str]| {
            let (ok, out, err) = cli(&t, &admin, args);
            assert!(ok, "triad {args:?} failed: {err}");
            out
        };
        let list = run(&["schedule", "list"]);
        assert!(
            list.contains("primary") && list.contains("Europe/London"),
            "{list}"
        );
        let shown = run(&[
            "schedule",
            "show",
            "primary",
            "--from",
            "2026-01-01T00:00:00Z",
            "--to",
            "2026-01-03T00:00:00Z",
        ]);
        assert!(
            shown.contains("2026-01-01T08:00:00Z  2026-01-01T09:00:00Z  Ana Primary")
                && shown.contains("2026-01-01T09:00:00Z  2026-01-01T18:00:00Z  Ben Backup")
                && shown.contains("GAPS (nobody on call)")
                && shown.contains("2026-01-01T18:00:00Z  2026-01-02T08:00:00Z"),
            "{shown}"
        );
        let json: Value =
            serde_json::from_str(&run(&["schedule", "show", "primary", "--json"])).unwrap();
        assert_eq!(json["name"], "primary");
        let now = run(&["oncall"]);
        assert!(now.contains("primary") && now.contains("nobody"), "{now}");
        let at = run(&["oncall", "--at", "2026-01-01T10:00:00Z"]);
        assert!(
            at.contains("Ben Backup") && at.contains("2026-01-01T18:00:00Z"),
            "{at}"
        );
        let (ok, _, err) = cli(&t, &admin, &["oncall", "--at", "noon"]);
        assert!(!ok && err.contains("at: must be an RFC 3339 time"), "{err}");
        let (ok, _, err) = cli(&t, &admin, &["schedule", "show", "nope"]);
        assert!(!ok && err.contains("HTTP 404"), "{err}");
        t.stop().await;
    }
);

both_backends!(
    cli_manages_services_keys_and_business_services,
    |db: TestDb| async move {
        let t = TestApp::spawn(db).await;
        let admin = t.admin_token.clone();
        let run = |args: &[&str]| {
            let (ok, out, err) = cli(&t, &admin, args);
            assert!(ok, "triad {args:?} failed: {err}");
            out
        };
        let made = run(&[
            "service",
            "create",
            "--name",
            "db",
            "--default-severity",
            "SEV2",
        ]);
        assert!(made.contains("Created service db"), "{made}");
        let listed = run(&["service", "list"]);
        assert!(listed.contains("db") && listed.contains("SEV2"), "{listed}");
        let key_out = run(&[
            "service",
            "key",
            "db",
            "--name",
            "prometheus",
            "--rate-limit",
            "600",
        ]);
        let key = key_out.lines().last().unwrap().trim().to_string();
        assert_eq!(key.len(), 32, "{key_out}");
        let keys = run(&["service", "keys", "db"]);
        assert!(
            keys.contains("prometheus") && keys.contains("600") && !keys.contains(&key),
            "{keys}"
        );
        // The printed key works as a PagerDuty routing key.
        let r = t
            .http
            .post(format!("{}/v2/enqueue", t.base))
            .json(&json!({"routing_key": key, "event_action": "trigger",
            "payload": {"summary": "Disk full", "source": "db-1", "severity": "warning"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        let biz = run(&[
            "business-service",
            "create",
            "--name",
            "Checkout",
            "--tier",
            "1",
            "--service",
            "db",
        ]);
        assert!(
            biz.contains("Created business service Checkout (tier 1"),
            "{biz}"
        );
        let bl = run(&["business-service", "list"]);
        assert!(bl.contains("Checkout") && bl.contains("TIER"), "{bl}");
        let id: Value = serde_json::from_str(&run(&["service", "keys", "db", "--json"])).unwrap();
        let key_id = id[0]["id"].as_str().unwrap();
        assert!(run(&["service", "revoke", "db", key_id]).contains("Revoked"));
        let (ok, _, err) = cli(
            &t,
            &admin,
            &["business-service", "create", "--name", "x", "--tier", "9"],
        );
        assert!(!ok && err.contains("tier: must be between 1"), "{err}");
        t.stop().await;
    }
);

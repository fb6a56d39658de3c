//! The real binary as a server: first start, SIGTERM and SIGKILL with pending work (on
//! SQLite and on PostgreSQL). The client commands are in `cli.rs`.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use triad_testkit::{TestDb, both_backends};

const BIN: &str = env!("CARGO_BIN_EXE_triad");

/// An HTTP client (reqwest is built without a default TLS provider: install ring's).
fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// A `triad serve` child process, the address it listens on, and what it printed
/// before it started listening.
struct Server {
    child: Child,
    base: String,
    banner: Vec<String>,
}

impl Drop for Server {
    /// A failing test must not leave its server running (it would also hold the test
    /// runner's output open).
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn start_server(db: &str) -> Server {
    start_server_logging(db, Stdio::inherit())
}

fn start_server_logging(db: &str, stderr: Stdio) -> Server {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            db,
            "--log-format",
            "json",
        ])
        .env("TRIAD_LOG_LEVEL", "info")
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("spawn triad serve");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut banner = Vec::new();
    let base = loop {
        let line = lines.next().expect("server printed its address").unwrap();
        if let Some(url) = line.strip_prefix("Triad listening on ") {
            break url.trim().to_string();
        }
        banner.push(line);
    };
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server {
        child,
        base,
        banner,
    }
}

fn sigterm(server: &mut Server) -> std::process::ExitStatus {
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    server.child.wait().unwrap()
}

/// GETs `url` with `token`; returns the status and the JSON body.
async fn get_json(http: &reqwest::Client, url: &str, token: &str) -> (u16, Value) {
    let r = http.get(url).bearer_auth(token).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// Declares an incident on a server process; returns the raw response.
async fn declare(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    title: &str,
    severity: &str,
) -> reqwest::Response {
    http.post(format!("{base}/api/v1/incidents"))
        .bearer_auth(token)
        .json(&json!({"title": title, "severity": severity}))
        .send()
        .await
        .unwrap()
}

fn offline(db: &str, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .args(["--database", db])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

both_backends!(sigkill_after_201_loses_nothing, |db: TestDb| async move {
    let url = db.url_string();
    offline(
        &url,
        &[
            "user",
            "add",
            "--email",
            "ops@example.com",
            "--name",
            "Ops",
            "--role",
            "responder",
        ],
    );
    let out = offline(
        &url,
        &[
            "token",
            "create",
            "--email",
            "ops@example.com",
            "--name",
            "ci",
        ],
    );
    let token = out.lines().last().unwrap().trim().to_string();
    assert!(token.starts_with("triad_"));
    let http = http_client();

    let mut server = start_server(&url);
    let resp = declare(&http, &server.base, &token, "Killed right after", "SEV2").await;
    assert_eq!(resp.status(), 201);
    server.child.kill().unwrap(); // SIGKILL: no shutdown code runs
    server.child.wait().unwrap();
    let created: Value = resp.json().await.unwrap();

    let mut again = start_server(&url);
    let incident_url = format!("{}/api/v1/incidents/{}", again.base, created["number"]);
    let (s, inc) = get_json(&http, &incident_url, &token).await;
    assert_eq!(s, 200);
    assert_eq!(inc["id"], created["id"]);
    assert_eq!(inc["title"], "Killed right after");
    let (s, timeline) = get_json(&http, &format!("{incident_url}/timeline"), &token).await;
    assert_eq!(s, 200);
    assert_eq!(timeline[0]["kind"], "incident_declared");
    // The engine's note that no escalation policy applies was in the same transaction.
    assert_eq!(timeline[1]["kind"], "paged");
    assert_eq!(timeline.as_array().unwrap().len(), 2);
    // A graceful stop on SIGTERM exits cleanly.
    let status = sigterm(&mut again);
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");
    drop(db);
});

both_backends!(
    first_start_credentials_work_and_secrets_stay_hashed,
    |db: TestDb| async move {
        let url = db.url_string();
        let log_dir = tempfile::tempdir().unwrap();
        let log_path = log_dir.path().join("server.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let mut server = start_server_logging(&url, Stdio::from(log));
        let field = |name: &str| {
            server
                .banner
                .iter()
                .find_map(|l| l.trim().strip_prefix(name).map(|v| v.trim().to_string()))
                .expect("credentials printed")
        };
        let (email, password) = (field("email:"), field("password:"));
        assert_eq!(email, "admin@triad.local");
        assert!(password.len() >= 16);
        let http = http_client();
        for (path, body) in [("/healthz", "ok\n"), ("/readyz", "ready\n")] {
            let r = http
                .get(format!("{}{path}", server.base))
                .send()
                .await
                .unwrap();
            assert_eq!(
                (r.status().as_u16(), r.text().await.unwrap().as_str()),
                (200, body)
            );
        }

        // The printed credentials sign in through the CLI.
        let mut login = Command::new(BIN)
            .args(["login", "--email", &email, "--server", &server.base])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        login
            .stdin
            .take()
            .unwrap()
            .write_all(password.as_bytes())
            .unwrap();
        let out = login.wait_with_output().unwrap();
        assert!(out.status.success());
        let printed = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(printed.contains("one-time password"), "{printed}");
        let token = printed.lines().last().unwrap().trim().to_string();
        let me: Value = http
            .get(format!("{}/api/v1/users/me", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            (me["role"].as_str(), me["must_change_password"].as_bool()),
            (Some("admin"), Some(true))
        );
        // The one-time password allows nothing but choosing a new one.
        let refused = declare(&http, &server.base, &token, "t", "SEV4").await;
        assert_eq!(refused.status(), 403);
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["error"]["code"], "password_change_required");
        let new_password = "a brand new passphrase".to_string();
        let mut change = Command::new(BIN)
            .args(["password", "--server", &server.base])
            .env("TRIAD_TOKEN", &token)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        change
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n{new_password}\n").as_bytes())
            .unwrap();
        let out = change.wait_with_output().unwrap();
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("Password changed"));
        let incident = declare(&http, &server.base, &token, "t", "SEV4").await;
        assert_eq!(incident.status(), 201);
        assert!(sigterm(&mut server).success());

        // A second start finds a user and prints no new credentials.
        let mut again = start_server(&url);
        assert!(again.banner.is_empty(), "{:?}", again.banner);
        assert!(sigterm(&mut again).success());

        // Neither the password nor the token is anywhere in plain text.
        let logs = std::fs::read_to_string(&log_path).unwrap();
        assert!(
            logs.contains("\"route\":\"/api/v1/incidents\""),
            "JSON request logs: {logs}"
        );
        for secret in [&password, &token, &new_password] {
            assert!(!logs.contains(secret.as_str()), "a secret is in the log");
        }
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        use sqlx::Row;
        let hashes: Vec<String> = sqlx::query("SELECT password_hash FROM users")
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(hashes.len(), 1);
        assert!(hashes[0].starts_with("$argon2id$"), "{}", hashes[0]);
        let rows = sqlx::query("SELECT token_hash, prefix FROM api_tokens")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        assert!(!rows.is_empty());
        for r in &rows {
            let (hash, prefix): (String, String) = (r.get(0), r.get(1));
            assert_eq!(hash.len(), 64);
            assert!(hash != token && prefix.len() < token.len());
        }
        if let triad_store::DatabaseUrl::Sqlite(p) = &db.url {
            for file in [p.clone(), p.with_extension("db-wal")] {
                if let Ok(bytes) = std::fs::read(&file) {
                    let text = String::from_utf8_lossy(&bytes);
                    assert!(
                        !text.contains(token.as_str()) && !text.contains(password.as_str()),
                        "a secret is in {}",
                        file.display()
                    );
                }
            }
        }
    }
);

/// How many events of `kind` each incident's timeline holds, read from the database.
async fn count_events(store: &triad_store::Store, kind: &str) -> Vec<i64> {
    use sqlx::Row;
    let mut conn = store.read().await.unwrap();
    sqlx::query(
        "SELECT i.number, (SELECT COUNT(*) FROM timeline_events e WHERE e.incident_id = i.id AND e.kind = $1)
         FROM incidents i ORDER BY i.number",
    )
    .bind(kind)
    .fetch_all(&mut *conn)
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get::<i64, _>(1).unwrap())
    .collect()
}

/// Polls the database (not a timer) until `done` holds, for at most 60 s.
async fn until(store: &triad_store::Store, what: &str, done: impl Fn(&[i64]) -> bool) {
    for _ in 0..600 {
        if done(&count_events(store, what).await) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "{what}: not reached in 60 s: {:?}",
        count_events(store, what).await
    );
}

// Timers are rows: a server killed with timers pending, restarted after they fell due
// (the downtime is simulated by moving every due time an hour back), fires each exactly
// once — even when it is killed again in the middle of firing them.
both_backends!(
    sigkill_with_pending_timers_fires_each_once,
    |db: TestDb| async move {
        const N: usize = 40;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let url = db.url_string();
        offline(
            &url,
            &[
                "user",
                "add",
                "--email",
                "boss@example.com",
                "--name",
                "Boss",
                "--role",
                "admin",
            ],
        );
        let out = offline(
            &url,
            &[
                "token",
                "create",
                "--email",
                "boss@example.com",
                "--name",
                "ci",
            ],
        );
        let token = out.lines().last().unwrap().trim().to_string();
        let http = http_client();
        let mut server = start_server(&url);
        let (_, me) = get_json(&http, &format!("{}/api/v1/users/me", server.base), &token).await;
        let post = |path: &str, body: Value| {
            http.post(format!("{}/api/v1{path}", server.base))
                .bearer_auth(&token)
                .json(&body)
                .send()
        };
        let level = json!({"delay_seconds": 600, "targets": [{"type": "user", "id": me["id"]}]});
        let r = post(
            "/escalation-policies",
            json!({"name": "p", "levels": [level, level]}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 201);
        let r = post("/services", json!({"name": "s", "escalation_policy": "p"}))
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        for i in 0..N {
            let r = post(
                "/incidents",
                json!({"title": format!("t{i}"), "severity": "SEV3", "service": "s"}),
            )
            .await
            .unwrap();
            assert_eq!(r.status(), 201);
        }
        server.child.kill().unwrap(); // SIGKILL with 2 timers per incident pending
        server.child.wait().unwrap();

        let store = triad_store::Store::connect(&db.url).await.unwrap();
        let shift = |store: &triad_store::Store| {
            let store = store.clone();
            async move {
                let mut tx = store.begin().await.unwrap();
                sqlx::query("UPDATE timers SET due_at = due_at - 3600000")
                    .execute(&mut *tx.conn())
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            }
        };
        assert_eq!(
            triad_store::timer::count(&mut store.read().await.unwrap())
                .await
                .unwrap(),
            2 * N as i64
        );
        shift(&store).await;

        // Killed again as soon as the restarted engine has fired some of them.
        let mut again = start_server(&url);
        until(&store, "ack_overdue", |c| c.iter().any(|n| *n > 0)).await;
        again.child.kill().unwrap();
        again.child.wait().unwrap();

        let mut last = start_server(&url);
        until(&store, "ack_overdue", |c| {
            c.len() == N && c.iter().all(|n| *n >= 1)
        })
        .await;
        // Level 2 pages once per incident; level 1 paged at declaration.
        until(&store, "paged", |c| c.iter().all(|n| *n >= 2)).await;
        assert_eq!(count_events(&store, "ack_overdue").await, vec![1; N]);
        assert_eq!(count_events(&store, "paged").await, vec![2; N]);
        // What is left is each escalation's next step, ten minutes out.
        let mut conn = store.read().await.unwrap();
        assert_eq!(
            triad_store::timer::count(&mut conn).await.unwrap(),
            N as i64
        );
        drop(conn);
        let status = sigterm(&mut last);
        assert!(status.success());
        store.close().await;
        drop(db);
    }
);

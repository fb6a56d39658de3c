//! Creation → first webhook page, through the real server binary.
//!
//! Creates an administrator and a token offline (`triad user add`, `triad token create`),
//! starts `triad serve` on the given database, sets up a user with a webhook contact
//! method pointing at a sink in this process, an escalation policy paging that user at
//! level 1 and a service naming it; then declares incidents one after another and
//! measures, for each, the time from sending `POST /api/v1/incidents` to the sink
//! receiving the `incident.page` webhook for that incident's number.

use anyhow::{Context, bail};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use clap::Parser;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use triad_bench::{Summary, redact, verdict};

/// The goal for p99 (ms).
const GOAL_P99_MS: f64 = 100.0;

#[derive(Debug, Parser)]
#[command(about = "Creation → first webhook page latency, through `triad serve`")]
struct Args {
    /// The `triad` binary (build it with `cargo build --release -p triad`).
    #[arg(long, default_value = "target/release/triad")]
    triad: PathBuf,
    /// `sqlite://PATH` (a fresh file) or `postgres://…` (a fresh, empty database).
    #[arg(long)]
    database: String,
    /// A folder for the server's configuration file and log.
    #[arg(long)]
    work_dir: PathBuf,
    /// Incidents measured.
    #[arg(long, default_value_t = 500)]
    incidents: usize,
    /// Incidents declared first and not measured (connection set-up, caches).
    #[arg(long, default_value_t = 20)]
    warmup: usize,
    /// How long to wait for one page before giving up.
    #[arg(long, default_value_t = 10_000)]
    page_timeout_ms: u64,
}

/// Runs an offline `triad` command against the database; returns its stdout.
async fn offline(args: &Args, cmd: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(&args.triad)
        .args(cmd)
        .args(["--database", &args.database])
        .output()
        .await
        .with_context(|| format!("cannot run {}", args.triad.display()))?;
    if !out.status.success() {
        bail!(
            "triad {cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A running `triad serve`.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(args: &Args, config: &std::path::Path) -> anyhow::Result<Server> {
        let log = std::fs::File::create(args.work_dir.join("server.log"))?;
        let mut child = Command::new(&args.triad)
            .args(["serve", "--listen", "127.0.0.1:0", "--database"])
            .arg(&args.database)
            .arg("--config")
            .arg(config)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .context("cannot start triad serve")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
                .await
                .context("the server did not start within 60 s")??
                .context("the server exited before listening (see server.log)")?;
            if let Some(url) = line.strip_prefix("Triad listening on ") {
                break url.trim().to_string();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Server { child, base })
    }

    /// SIGTERM, then wait for a clean exit.
    async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(pid) = self.child.id() {
            Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await?;
        }
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(status) => {
                let status = status?;
                if !status.success() {
                    eprintln!("warning: the server exited with {status}");
                }
            }
            Err(_) => {
                self.child.kill().await?;
                bail!("the server did not stop within 30 s of SIGTERM");
            }
        }
        Ok(())
    }
}

/// What the sink saw: the incident number of each `incident.page`, and when.
type Seen = mpsc::UnboundedSender<(i64, Instant)>;

async fn sink(State(seen): State<Seen>, Json(body): Json<Value>) -> StatusCode {
    let at = Instant::now();
    if body["type"] == "incident.page"
        && let Some(n) = body["incident"]["number"].as_i64()
    {
        let _ = seen.send((n, at));
    }
    StatusCode::OK
}

/// An API client with the token.
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let r = self
            .http
            .post(format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await?;
        let status = r.status();
        let text = r.text().await?;
        if !status.is_success() {
            bail!("POST {path}: HTTP {status}: {text}");
        }
        Ok(serde_json::from_str(&text)?)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = Args::parse();
    std::fs::create_dir_all(&args.work_dir)?;

    // An administrator and a token, straight into the database.
    offline(
        &args,
        &[
            "user",
            "add",
            "--email",
            "bench-admin@example.com",
            "--name",
            "Bench Admin",
            "--role",
            "admin",
        ],
    )
    .await?;
    let out = offline(
        &args,
        &[
            "token",
            "create",
            "--email",
            "bench-admin@example.com",
            "--name",
            "bench",
        ],
    )
    .await?;
    let token = out.lines().last().unwrap_or_default().trim().to_string();
    if !token.starts_with("triad_") {
        bail!("unexpected token output: {out}");
    }

    // The default rate limit (30 messages per destination per minute) would defer most
    // of the pages to the one sink; everything else is the default configuration.
    let config = args.work_dir.join("triad.toml");
    std::fs::write(&config, "[delivery]\nrate_limit_per_minute = 1000000\n")?;

    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let sink_addr = listener.local_addr()?;
    let app = axum::Router::new()
        .route("/page", axum::routing::post(sink))
        .with_state(seen_tx);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let server = Server::start(&args, &config).await?;
    let api = Api {
        http: reqwest::Client::new(),
        base: server.base.clone(),
        token,
    };

    let user = api
        .post(
            "/users",
            json!({"email": "oncall@example.com", "name": "On Call", "role": "responder"}),
        )
        .await?;
    let user_id = user["id"].as_str().context("user id")?.to_string();
    api.post(
        &format!("/users/{user_id}/contact-methods"),
        json!({"type": "webhook", "address": format!("http://{sink_addr}/page"),
               "secret": "0123456789abcdef0123"}),
    )
    .await?;
    api.post(
        "/escalation-policies",
        json!({"name": "bench-policy", "levels": [{"delay_seconds": 300,
               "targets": [{"type": "user", "id": user_id}]}], "repeat": 0}),
    )
    .await?;
    api.post(
        "/services",
        json!({"name": "bench-service", "escalation_policy": "bench-policy"}),
    )
    .await?;

    // Pages that arrived before their incident's response did.
    let mut early: HashMap<i64, Instant> = HashMap::new();
    let mut page_ms = Vec::with_capacity(args.incidents);
    let mut response_ms = Vec::with_capacity(args.incidents);
    let timeout = Duration::from_millis(args.page_timeout_ms);
    let started = Instant::now();
    for i in 0..args.warmup + args.incidents {
        let sent = Instant::now();
        let created = api
            .post(
                "/incidents",
                json!({"title": format!("Bench incident {i}"), "severity": "SEV1",
                       "service": "bench-service"}),
            )
            .await?;
        let answered = Instant::now();
        let number = created["number"].as_i64().context("incident number")?;
        let paged = match early.remove(&number) {
            Some(at) => at,
            None => loop {
                match tokio::time::timeout(timeout, seen_rx.recv()).await {
                    Ok(Some((n, at))) if n == number => break at,
                    Ok(Some((n, at))) => {
                        early.insert(n, at);
                    }
                    Ok(None) => bail!("the sink stopped"),
                    Err(_) => bail!("no page for incident #{number} within {timeout:?}"),
                }
            },
        };
        if i >= args.warmup {
            page_ms.push(paged.duration_since(sent));
            response_ms.push(answered.duration_since(sent));
        }
    }
    let elapsed = started.elapsed();
    server.stop().await?;

    let page = Summary::of_durations(&page_ms).context("no samples")?;
    let resp = Summary::of_durations(&response_ms).context("no samples")?;
    println!("database: {}", redact(&args.database));
    println!(
        "incidents: {} measured (+{} warm-up), sequential, in {:.1} s",
        args.incidents,
        args.warmup,
        elapsed.as_secs_f64()
    );
    println!("{}", page.line("creation -> first page"));
    println!("{}", resp.line("POST /incidents -> 201"));
    println!(
        "goal: p99 < {GOAL_P99_MS} ms: {} (p99 {:.1} ms)",
        verdict(page.p99, GOAL_P99_MS),
        page.p99
    );
    Ok(())
}

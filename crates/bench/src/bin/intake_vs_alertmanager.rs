//! Load for `bench/intake_vs_alertmanager.sh`: Triad's PagerDuty Events v2 intake
//! (`POST /v2/enqueue`) against Prometheus Alertmanager's `POST /api/v2/alerts`.
//!
//! - `setup` creates a service and integration keys on a running Triad (admin token).
//! - `rate` sends at a fixed rate over a fixed number of keep-alive connections, open
//!   loop: request `i` is due at `start + i / rate`; a connection takes the next due
//!   request when it is free, so when every connection is busy requests wait in the
//!   client, and latency is measured from the intended send time (no coordinated
//!   omission).
//! - `fill` opens `count` new alerts (a fresh dedup key or label set each), closed loop,
//!   for the memory measurement.
//! - `free-port` prints a port the kernel picks on 127.0.0.1.
//!
//! The bodies are the ones `bench/wrk/pd_event.lua` and `bench/wrk/am_alert.lua` send.
//! The HTTP/1.1 client is a minimal one written here (one request at a time per
//! connection, keep-alive), so that the number of connections is exactly `--connections`.

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, mpsc};
use triad_bench::{Summary, verdict};

/// The goal for p99 at the fixed rate (ms).
const GOAL_P99_MS: f64 = 10.0;

#[derive(Debug, Parser)]
#[command(about = "Triad's alert intake against Alertmanager: setup, fixed-rate load, fill")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Creates a service and one integration key per name; prints `name key` lines.
    Setup {
        /// Triad's base URL, e.g. `http://127.0.0.1:8080`.
        #[arg(long)]
        base: String,
        /// An administrator's API token.
        #[arg(long, env = "TRIAD_TOKEN", hide_env_values = true)]
        token: String,
        #[arg(long, default_value = "bench-intake")]
        service: String,
        /// The keys' names, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        keys: Vec<String>,
        #[arg(long, default_value_t = 1_000_000)]
        rate_limit_per_minute: i64,
    },
    /// Sends at a fixed rate (open loop) and prints latency percentiles.
    Rate(RateArgs),
    /// Opens `count` new alerts and checks that every one was accepted.
    Fill(FillArgs),
    /// Prints a free port on 127.0.0.1.
    FreePort,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Target {
    /// `POST /v2/enqueue`, a PagerDuty trigger per request.
    Triad,
    /// `POST /api/v2/alerts`, a one-alert array per request.
    Alertmanager,
}

#[derive(Debug, Clone, clap::Args)]
struct Common {
    #[arg(long, value_enum)]
    target: Target,
    /// Base URL: `http://127.0.0.1:PORT`.
    #[arg(long)]
    base: String,
    /// The integration key (Triad only).
    #[arg(long, env = "ROUTING_KEY", hide_env_values = true, default_value = "")]
    key: String,
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Makes fresh dedup keys and label sets unique to this run.
    #[arg(long, default_value = "run")]
    run: String,
}

#[derive(Debug, Clone, clap::Args)]
struct RateArgs {
    #[command(flatten)]
    common: Common,
    /// Requests per second.
    #[arg(long, default_value_t = 5000.0)]
    rate: f64,
    /// Measured seconds.
    #[arg(long, default_value_t = 20.0)]
    duration: f64,
    /// Seconds sent at the same rate first and not measured.
    #[arg(long, default_value_t = 3.0)]
    warmup: f64,
    /// Distinct dedup keys / label sets to rotate over (as the wrk scripts); 0 = a fresh
    /// one per request.
    #[arg(long, default_value_t = 1000)]
    keys: u64,
}

#[derive(Debug, Clone, clap::Args)]
struct FillArgs {
    #[command(flatten)]
    common: Common,
    /// New alerts to open.
    #[arg(long, default_value_t = 20_000)]
    count: u64,
}

/// The alert of index `i`, as the wrk scripts build it.
fn host(i: u64) -> String {
    format!("host-{}:9100", i % 1000)
}

fn alertname(i: u64) -> String {
    format!("BenchAlert{}", i % 20)
}

/// A PagerDuty Events v2 trigger (`bench/wrk/pd_event.lua`).
fn triad_body(routing_key: &str, i: u64, dedup: &str) -> Vec<u8> {
    let (host, name) = (host(i), alertname(i));
    json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup,
        "payload": {
            "summary": format!("{name} on {host}"),
            "source": host,
            "severity": "critical",
            "custom_details": {"job": "node", "instance": host},
        },
    })
    .to_string()
    .into_bytes()
}

/// A one-alert array for Alertmanager (`bench/wrk/am_alert.lua`); a fresh alert carries
/// its unique `event` label.
fn am_body(i: u64, fresh: Option<&str>) -> Vec<u8> {
    let (host, name) = (host(i), alertname(i));
    let mut labels = json!({"alertname": name, "instance": host, "job": "node",
        "severity": "critical"});
    if let Some(f) = fresh {
        labels["event"] = Value::from(f);
    }
    json!([{
        "labels": labels,
        "annotations": {"summary": format!("{name} on {host}")},
        "generatorURL": "http://prometheus.example/graph",
    }])
    .to_string()
    .into_bytes()
}

impl Common {
    fn path(&self) -> &'static str {
        match self.target {
            Target::Triad => "/v2/enqueue",
            Target::Alertmanager => "/api/v2/alerts",
        }
    }

    /// The body of request `i`: one of `keys` rotating alerts, or a fresh one if 0.
    fn body(&self, i: u64, keys: u64) -> Vec<u8> {
        match (self.target, keys) {
            (Target::Triad, 0) => triad_body(&self.key, i, &format!("{}-{i}", self.run)),
            (Target::Triad, k) => triad_body(&self.key, i % k, &format!("bench/{}", i % k)),
            (Target::Alertmanager, 0) => am_body(i, Some(&format!("{}-{i}", self.run))),
            (Target::Alertmanager, k) => am_body(i % k, None),
        }
    }

    fn check(&self) -> anyhow::Result<()> {
        if self.target == Target::Triad && self.key.is_empty() {
            bail!("--key (or ROUTING_KEY) is required for Triad");
        }
        if self.connections == 0 {
            bail!("--connections must be at least 1");
        }
        Ok(())
    }
}

/// One keep-alive HTTP/1.1 connection; one request at a time.
struct Http {
    addr: String,
    conn: Option<BufReader<TcpStream>>,
    scratch: Vec<u8>,
    line: String,
}

impl Http {
    fn new(base: &str) -> anyhow::Result<Http> {
        let rest = base
            .strip_prefix("http://")
            .with_context(|| format!("{base}: only http:// URLs"))?;
        let addr = rest.split('/').next().unwrap_or(rest).to_string();
        Ok(Http {
            addr,
            conn: None,
            scratch: Vec::new(),
            line: String::new(),
        })
    }

    async fn connect(&mut self) -> anyhow::Result<()> {
        let s = TcpStream::connect(&self.addr)
            .await
            .with_context(|| format!("cannot connect to {}", self.addr))?;
        s.set_nodelay(true)?;
        self.conn = Some(BufReader::new(s));
        Ok(())
    }

    /// POSTs `body`; returns the status. On any error the connection is dropped (the
    /// next request opens a new one).
    async fn post(&mut self, path: &str, body: &[u8]) -> anyhow::Result<u16> {
        if self.conn.is_none() {
            self.connect().await?;
        }
        let result = self.exchange(path, body).await;
        match result {
            Ok((status, close)) => {
                if close {
                    self.conn = None;
                }
                Ok(status)
            }
            Err(e) => {
                self.conn = None;
                Err(e)
            }
        }
    }

    async fn exchange(&mut self, path: &str, body: &[u8]) -> anyhow::Result<(u16, bool)> {
        let Some(conn) = self.conn.as_mut() else {
            bail!("not connected");
        };
        let mut req = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(body);
        conn.get_mut().write_all(&req).await?;

        let line = &mut self.line;
        line.clear();
        if conn.read_line(line).await? == 0 {
            bail!("the server closed the connection");
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .context("no status")?
            .parse()?;
        let (mut length, mut chunked, mut close) = (0usize, false, false);
        loop {
            line.clear();
            if conn.read_line(line).await? == 0 {
                bail!("the server closed the connection in the headers");
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                let v = v.trim();
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.parse()?;
                } else if k.eq_ignore_ascii_case("transfer-encoding") {
                    chunked = v.eq_ignore_ascii_case("chunked");
                } else if k.eq_ignore_ascii_case("connection") {
                    close = v.eq_ignore_ascii_case("close");
                }
            }
        }
        if chunked {
            loop {
                line.clear();
                conn.read_line(line).await?;
                let size = line.trim().split(';').next().unwrap_or("0");
                let size = usize::from_str_radix(size, 16)?;
                if size == 0 {
                    // Trailers, up to the empty line.
                    loop {
                        line.clear();
                        if conn.read_line(line).await? == 0 || line.trim().is_empty() {
                            break;
                        }
                    }
                    break;
                }
                self.scratch.resize(size + 2, 0);
                conn.read_exact(&mut self.scratch).await?;
            }
        } else {
            self.scratch.resize(length, 0);
            conn.read_exact(&mut self.scratch).await?;
        }
        Ok((status, close))
    }
}

/// One request of a fixed-rate run.
struct Sample {
    index: u64,
    /// From the intended send time to the end of the response.
    from_intended: Duration,
    /// From writing the request to the end of the response.
    from_sent: Duration,
    /// When the response ended.
    done: Instant,
    status: Option<u16>,
}

async fn rate(a: RateArgs) -> anyhow::Result<()> {
    let c = &a.common;
    c.check()?;
    if !(a.rate > 0.0 && a.duration > 0.0 && a.warmup >= 0.0) {
        bail!("--rate and --duration must be positive, --warmup not negative");
    }
    let warm = (a.warmup * a.rate).round() as u64;
    let total = warm + (a.duration * a.rate).round() as u64;
    let offset = move |i: u64| Duration::from_secs_f64(i as f64 / a.rate);
    // The rotating bodies, built once (as the wrk scripts do).
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new((0..a.keys).map(|i| c.body(i, a.keys)).collect());

    let mut clients = Vec::with_capacity(c.connections);
    for _ in 0..c.connections {
        let mut h = Http::new(&c.base)?;
        h.connect().await?;
        clients.push(h);
    }
    let (tx, rx) = mpsc::unbounded_channel::<u64>();
    let rx = Arc::new(Mutex::new(rx));
    let start = Instant::now() + Duration::from_millis(100);

    // The pacer: a thread (precise sleeps, unlike the runtime's 1 ms timer) releasing
    // each request at its intended time.
    let pacer = std::thread::spawn(move || {
        for i in 0..total {
            let due = start + offset(i);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            if tx.send(i).is_err() {
                break;
            }
        }
    });

    let mut tasks = Vec::with_capacity(c.connections);
    for mut http in clients {
        let rx = rx.clone();
        let bodies = bodies.clone();
        let common = c.clone();
        let keys = a.keys;
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let path = common.path();
            loop {
                let next = rx.lock().await.recv().await;
                let Some(i) = next else { break };
                let intended = start + offset(i);
                let fresh;
                let body = if keys == 0 {
                    fresh = common.body(i, 0);
                    &fresh
                } else {
                    &bodies[(i % keys) as usize]
                };
                let sent = Instant::now();
                let status = http.post(path, body).await.ok();
                let done = Instant::now();
                samples.push(Sample {
                    index: i,
                    from_intended: done.saturating_duration_since(intended),
                    from_sent: done - sent,
                    done,
                    status,
                });
            }
            samples
        }));
    }
    let mut samples = Vec::with_capacity(total as usize);
    for t in tasks {
        samples.extend(t.await?);
    }
    pacer
        .join()
        .map_err(|_| anyhow::anyhow!("the pacer panicked"))?;

    let measured: Vec<&Sample> = samples.iter().filter(|s| s.index >= warm).collect();
    let ok: Vec<&&Sample> = measured
        .iter()
        .filter(|s| s.status.is_some_and(|st| (200..300).contains(&st)))
        .collect();
    let non2xx = measured
        .iter()
        .filter(|s| s.status.is_some_and(|st| !(200..300).contains(&st)))
        .count();
    let errors = measured.iter().filter(|s| s.status.is_none()).count();
    let answered: Vec<&&Sample> = measured.iter().filter(|s| s.status.is_some()).collect();
    let window_start = start + offset(warm);
    let last = ok.iter().map(|s| s.done).max().unwrap_or(window_start);
    let achieved = ok.len() as f64 / last.duration_since(window_start).as_secs_f64().max(1e-9);
    let from_intended: Vec<Duration> = answered.iter().map(|s| s.from_intended).collect();
    let from_sent: Vec<Duration> = answered.iter().map(|s| s.from_sent).collect();
    let li = Summary::of_durations(&from_intended).context("no answers")?;
    let ls = Summary::of_durations(&from_sent).context("no answers")?;

    let what = match (c.target, a.keys) {
        (Target::Triad, 0) => "PagerDuty triggers, a fresh dedup key each".to_string(),
        (Target::Triad, k) => format!("PagerDuty triggers over {k} rotating dedup keys"),
        (Target::Alertmanager, 0) => "one-alert arrays, fresh labels each".to_string(),
        (Target::Alertmanager, k) => format!("one-alert arrays over {k} rotating label sets"),
    };
    println!(
        "{:?} {}: {} req/s offered for {} s (+{} s warm-up) over {} connections, open loop; {what}",
        c.target,
        c.path(),
        a.rate,
        a.duration,
        a.warmup,
        c.connections
    );
    println!(
        "measured {} requests: {} 2xx, {} other status, {} connection errors; achieved {:.0} 2xx/s",
        measured.len(),
        ok.len(),
        non2xx,
        errors,
        achieved
    );
    println!("{}", li.line("from intended send time"));
    println!("{}", ls.line("from actual send"));
    if c.target == Target::Triad {
        println!(
            "goal: p99 < {GOAL_P99_MS} ms at {} events/s: {} (p99 {:.1} ms, achieved {:.0}/s)",
            a.rate,
            if achieved >= a.rate * 0.99 {
                verdict(li.p99, GOAL_P99_MS)
            } else {
                "MISS"
            },
            li.p99,
            achieved
        );
    }
    println!(
        "RATE target={:?} offered={} achieved={:.0} measured={} ok={} non2xx={} errors={} \
         p50_ms={:.2} p90_ms={:.2} p99_ms={:.2} max_ms={:.2} mean_ms={:.2} svc_p99_ms={:.2}",
        c.target,
        a.rate,
        achieved,
        measured.len(),
        ok.len(),
        non2xx,
        errors,
        li.p50,
        li.p90,
        li.p99,
        li.max,
        li.mean,
        ls.p99
    );
    Ok(())
}

async fn fill(a: FillArgs) -> anyhow::Result<()> {
    let c = a.common.clone();
    c.check()?;
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..c.connections {
        let mut http = Http::new(&c.base)?;
        http.connect().await?;
        let next = next.clone();
        let common = c.clone();
        let count = a.count;
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut other, mut errors) = (0u64, 0u64, 0u64);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                match http.post(common.path(), &common.body(i, 0)).await {
                    Ok(s) if (200..300).contains(&s) => ok += 1,
                    Ok(_) => other += 1,
                    Err(_) => errors += 1,
                }
            }
            (ok, other, errors)
        }));
    }
    let (mut ok, mut other, mut errors) = (0, 0, 0);
    for t in tasks {
        let (o, n, e) = t.await?;
        ok += o;
        other += n;
        errors += e;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "FILL target={:?} count={} ok={ok} non2xx={other} errors={errors} secs={secs:.1} rate={:.0}",
        c.target,
        a.count,
        ok as f64 / secs
    );
    if ok != a.count {
        bail!(
            "{} of {} new alerts were not accepted",
            a.count - ok,
            a.count
        );
    }
    Ok(())
}

async fn setup(
    base: &str,
    token: &str,
    service: &str,
    keys: &[String],
    limit: i64,
) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let post = |path: String, body: Value| {
        let http = http.clone();
        async move {
            let r = http
                .post(format!("{base}/api/v1{path}"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await?;
            let status = r.status();
            let text = r.text().await?;
            if !status.is_success() {
                bail!("POST {path}: HTTP {status}: {text}");
            }
            Ok::<Value, anyhow::Error>(serde_json::from_str(&text)?)
        }
    };
    let svc = post("/services".into(), json!({"name": service})).await?;
    let id = svc["id"].as_str().context("service id")?.to_string();
    for name in keys {
        let k = post(
            format!("/services/{id}/integration-keys"),
            json!({"name": name, "rate_limit_per_minute": limit}),
        )
        .await?;
        println!("{name} {}", k["key"].as_str().context("key")?);
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    match Cli::parse().cmd {
        Cmd::Setup {
            base,
            token,
            service,
            keys,
            rate_limit_per_minute,
        } => setup(&base, &token, &service, &keys, rate_limit_per_minute).await,
        Cmd::Rate(a) => rate(a).await,
        Cmd::Fill(a) => fill(a).await,
        Cmd::FreePort => {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            println!("{}", l.local_addr()?.port());
            Ok(())
        }
    }
}

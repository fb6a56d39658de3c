//! Timer lateness under load: `timers` acknowledgement deadlines falling due at exactly
//! `rate` per second, among `incidents` open incidents, fired by the production engine
//! loop (`Engine::run` with the real clock).
//!
//! Seeding writes rows straight into `incidents` and `timers` (every incident is
//! `triggered` and has an `ack_due` timer; all but the measured ones are due a day
//! later). Each measured incident's `ack_due_at` equals its timer's due time, so a
//! timer's lateness is the `at` of the `ack_overdue` timeline event its firing wrote
//! minus the incident's `ack_due_at`. The deadline handler tells the administrators (one
//! here, without contact methods: an email per timer into the outbox), and the engine
//! delivers that outbox through a notifier that accepts every message.

use anyhow::{Context, bail};
use clap::Parser;
use futures::future::BoxFuture;
use futures::{StreamExt, TryStreamExt};
use sqlx::Row;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use triad_app::clock::{Clock, SystemClock};
use triad_app::user::NewUser;
use triad_app::{Actor, App, AppConfig};
use triad_bench::{Summary, redact, verdict};
use triad_engine::Engine;
use triad_notify::{Message, Notifier, Outcome};
use triad_store::{DatabaseUrl, Store};

/// The goal for p99 (ms).
const GOAL_P99_MS: f64 = 250.0;
/// Rows per INSERT statement while seeding. Larger statements (200–500 rows) took tens
/// of ms each on PostgreSQL over loopback while the CPU sat idle; 50 rows do not.
const ROWS_PER_INSERT: usize = 50;
/// Rows per seeding transaction.
const ROWS_PER_TX: usize = 20_000;
/// Seeded due times below this are offsets from the start, shifted just before the run.
const OFFSET_LIMIT: i64 = 1_000_000_000_000;

#[derive(Debug, Parser)]
#[command(about = "Timer lateness at a steady rate of due timers among many open incidents")]
struct Args {
    /// `sqlite://PATH` (a fresh file) or `postgres://…` (a fresh, empty database).
    #[arg(long)]
    database: String,
    /// Open incidents seeded.
    #[arg(long, default_value_t = 100_000)]
    incidents: usize,
    /// Timers measured (due at `rate` per second).
    #[arg(long, default_value_t = 30_000)]
    timers: usize,
    /// Due timers per second.
    #[arg(long, default_value_t = 1000)]
    rate: u32,
    /// How long after seeding the first measured timer falls due (ms).
    #[arg(long, default_value_t = 5000)]
    lead_ms: i64,
    /// The engine's poll interval (production default 1000 ms).
    #[arg(long, default_value_t = 1000)]
    poll_ms: u64,
    /// Give up this long after the last timer was due (ms).
    #[arg(long, default_value_t = 120_000)]
    drain_timeout_ms: i64,
    /// Messages one destination gets per minute (the production default is 30; every
    /// deadline here notifies the same administrator, so most are deferred).
    #[arg(long, default_value_t = 30)]
    rate_limit_per_minute: u32,
    /// Instead of running the engine, time the pieces of its pass, each on this many
    /// already-due timers: `Engine::tick`, `App::fire_timers` in chunks of 32 (one after
    /// the other, then several at once), `App::fire_timer` one per transaction, and a
    /// bare write transaction. Needs `--timers` of at least 4 × this.
    #[arg(long)]
    profile: Option<usize>,
    /// With `--profile`: chunks of timers fired at once in the concurrent stage (what
    /// a concurrent engine pass would do).
    #[arg(long, default_value_t = 8)]
    profile_concurrency: usize,
}

/// Accepts every message, and counts them.
#[derive(Default)]
struct AcceptAll {
    sent: AtomicUsize,
}

impl Notifier for AcceptAll {
    fn send<'a>(&'a self, _message: &'a Message, _now: i64) -> BoxFuture<'a, Outcome> {
        self.sent.fetch_add(1, Ordering::Relaxed);
        Box::pin(async { Outcome::Delivered { detail: None } })
    }
}

/// `($1, $2, …)` groups for `rows` rows of `cols` columns.
fn placeholders(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let p: Vec<String> = (1..=cols).map(|c| format!("${}", r * cols + c)).collect();
            format!("({})", p.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Seeds `args.incidents` triggered incidents, each with an `ack_due` timer. Measured
/// timer `j` (on every `stride`-th incident) is due at offset `j × 1000 / rate` ms
/// (shifted later); the others a day after `now`.
async fn seed(store: &Store, args: &Args, now: i64) -> anyhow::Result<()> {
    let stride = (args.incidents / args.timers).max(1);
    let far = now + 86_400_000;
    let due_of = |i: usize| -> i64 {
        if i.is_multiple_of(stride) && i / stride < args.timers {
            (i / stride) as i64 * 1000 / i64::from(args.rate)
        } else {
            far
        }
    };
    let mut i = 0;
    while i < args.incidents {
        let mut tx = store.begin().await?;
        let tx_end = (i + ROWS_PER_TX).min(args.incidents);
        while i < tx_end {
            let end = (i + ROWS_PER_INSERT).min(tx_end);
            let rows: Vec<(String, i64, i64)> = (i..end)
                .map(|k| (triad_store::new_id(), k as i64 + 1, due_of(k)))
                .collect();
            let sql = format!(
                "INSERT INTO incidents (id, number, title, severity, status, public_state, \
                 created_at, updated_at, ack_due_at) VALUES {}",
                placeholders(rows.len(), 9)
            );
            // Only placeholders are formatted in; every value is bound.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (id, number, due) in &rows {
                q = q
                    .bind(id.clone())
                    .bind(*number)
                    .bind(format!("Seeded incident {number}"))
                    .bind("SEV2")
                    .bind("triggered")
                    .bind("investigating")
                    .bind(now)
                    .bind(now)
                    .bind(*due);
            }
            q.execute(&mut *tx.conn()).await?;
            let sql = format!(
                "INSERT INTO timers (kind, subject, generation, due_at) VALUES {}",
                placeholders(rows.len(), 4)
            );
            // Only placeholders are formatted in; every value is bound.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (id, _, due) in &rows {
                q = q.bind("ack_due").bind(id.clone()).bind(1_i64).bind(*due);
            }
            q.execute(&mut *tx.conn()).await?;
            i = end;
        }
        tx.commit().await?;
    }
    let mut tx = store.begin().await?;
    sqlx::query("UPDATE counters SET value = $1 WHERE name = 'incident_number'")
        .bind(args.incidents as i64)
        .execute(&mut *tx.conn())
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Moves the measured timers (and their incidents' deadlines) from offsets to `start`.
async fn shift(store: &Store, start: i64) -> anyhow::Result<()> {
    let mut tx = store.begin().await?;
    for sql in [
        "UPDATE timers SET due_at = due_at + $1 WHERE due_at < $2",
        "UPDATE incidents SET ack_due_at = ack_due_at + $1 WHERE ack_due_at < $2",
    ] {
        sqlx::query(sql)
            .bind(start)
            .bind(OFFSET_LIMIT)
            .execute(&mut *tx.conn())
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn count(store: &Store, sql: &'static str, bind: i64) -> anyhow::Result<i64> {
    let mut conn = store.read().await?;
    Ok(sqlx::query(sql)
        .bind(bind)
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?)
}

/// Timers per transaction in the profile's batched stages (the engine's chunk size).
const PROFILE_CHUNK: usize = 32;

/// `n` timers per second over `elapsed`.
fn rate(n: usize, elapsed: Duration) -> String {
    format!(
        "{n} in {:.2} s = {:.0} timers/s",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64()
    )
}

/// The next `m` due timers, earliest first.
async fn next_due(app: &App, m: usize) -> anyhow::Result<Vec<triad_store::timer::Timer>> {
    let due = app.due_timers(app.now(), u32::try_from(m)?).await?;
    if due.len() < m {
        bail!("only {} timers left; raise --timers", due.len());
    }
    Ok(due)
}

/// Times the pieces of an engine pass, each on `m` fresh due timers (see `--profile`).
async fn profile(
    app: &App,
    store: &Store,
    m: usize,
    concurrency: usize,
    rate_per_s: u32,
) -> anyhow::Result<()> {
    // 1. A whole engine pass (`Engine::tick`): chunks of timers per transaction, then
    //    the outbox those firings wrote.
    let engine = Engine::new(
        app.clone(),
        Arc::new(AcceptAll::default()),
        Duration::from_millis(1000),
    );
    let first = next_due(app, 1).await?[0].due_at;
    let t = Instant::now();
    let report = engine
        .tick(first + m as i64 * 1000 / i64::from(rate_per_s) - 1)
        .await?;
    println!(
        "Engine::tick (chunked, + outbox)   {}",
        rate(report.timers_fired, t.elapsed())
    );

    // 2. `App::fire_timers` on chunks of PROFILE_CHUNK: one transaction per chunk.
    let due = next_due(app, m).await?;
    let mut chunks = Vec::new();
    let t = Instant::now();
    for chunk in due.chunks(PROFILE_CHUNK) {
        let c = Instant::now();
        let fired = app.fire_timers(chunk).await?;
        if fired.iter().any(|f| !f) {
            bail!("a timer did not fire");
        }
        chunks.push(c.elapsed());
    }
    println!(
        "fire_timers, {PROFILE_CHUNK} per transaction    {}",
        rate(due.len(), t.elapsed())
    );

    // 3. The same with `concurrency` chunks in flight (separate connections on PostgreSQL).
    let due = next_due(app, m).await?;
    let t = Instant::now();
    let fired: Vec<Vec<bool>> = futures::stream::iter(due.chunks(PROFILE_CHUNK).map(<[_]>::to_vec))
        .map(|chunk| {
            let app = app.clone();
            async move { app.fire_timers(&chunk).await }
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await?;
    println!(
        "fire_timers, {concurrency} chunks in flight     {}",
        rate(fired.iter().map(Vec::len).sum(), t.elapsed())
    );

    // 4. `App::fire_timer`: one transaction per timer (the engine's fallback path).
    let due = next_due(app, m).await?;
    let mut fires = Vec::with_capacity(due.len());
    let t = Instant::now();
    for timer in &due {
        let f = Instant::now();
        if !app.fire_timer(timer).await? {
            bail!("timer {} did not fire", timer.subject);
        }
        fires.push(f.elapsed());
    }
    println!(
        "fire_timer, 1 per transaction      {}",
        rate(due.len(), t.elapsed())
    );

    // 5. A write transaction with one small statement (the commit's flush included).
    let mut commits = Vec::with_capacity(m);
    for _ in 0..m {
        let t = Instant::now();
        let mut tx = store.begin().await?;
        sqlx::query("UPDATE counters SET value = value WHERE name = 'incident_number'")
            .execute(&mut *tx.conn())
            .await?;
        tx.commit().await?;
        commits.push(t.elapsed());
    }
    let chunk_ms: Vec<f64> = chunks
        .iter()
        .map(|d| d.as_secs_f64() * 1000.0 / PROFILE_CHUNK as f64)
        .collect();
    let lines = [
        (Summary::of_ms(&chunk_ms), "per timer, chunked"),
        (Summary::of_durations(&fires), "per timer, own transaction"),
        (Summary::of_durations(&commits), "bare write transaction"),
    ];
    for (summary, label) in lines {
        println!("{}", summary.context("no samples")?.line(label));
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    if args.timers == 0 || args.rate == 0 || args.timers > args.incidents {
        bail!("need 0 < timers <= incidents and rate > 0");
    }
    let clock = SystemClock;
    let url: DatabaseUrl = args.database.parse()?;
    let store = Store::connect(&url).await?;
    store.migrate().await?;
    let config = AppConfig {
        delivery: triad_app::delivery::DeliveryConfig {
            rate_limit_per_minute: args.rate_limit_per_minute,
            ..Default::default()
        },
        ..Default::default()
    };
    let app = App::new(store.clone(), Arc::new(clock), config).await?;
    app.create_user(
        &Actor::System,
        NewUser {
            email: "bench-admin@example.com".into(),
            name: "Bench Admin".into(),
            role: "admin".into(),
            time_zone: None,
            password: None,
        },
    )
    .await?;

    let t = Instant::now();
    seed(&store, &args, clock.now()).await?;
    let seeded_in = t.elapsed();
    if let Some(m) = args.profile {
        shift(
            &store,
            clock.now() - 1000 * (args.timers / args.rate as usize + 1) as i64,
        )
        .await?;
        println!("database: {}", redact(&args.database));
        println!(
            "seeded {} open incidents in {:.1} s",
            args.incidents,
            seeded_in.as_secs_f64()
        );
        // The same pause as before a measured run (autovacuum of the fresh rows settles).
        tokio::time::sleep(Duration::from_millis(args.lead_ms.max(0) as u64)).await;
        // On a worker thread, as the engine's task runs (not on the thread of `main`).
        let (concurrency, rate_per_s) = (args.profile_concurrency, args.rate);
        return tokio::spawn(
            async move { profile(&app, &store, m, concurrency, rate_per_s).await },
        )
        .await?;
    }
    let start = clock.now() + args.lead_ms;
    shift(&store, start).await?;
    if clock.now() >= start {
        bail!("seeding ran past the first due time; raise --lead-ms");
    }
    let span_ms = (args.timers as i64 - 1) * 1000 / i64::from(args.rate);
    let last_due = start + span_ms;
    println!("database: {}", redact(&args.database));
    println!(
        "seeded {} open incidents and {} timers in {:.1} s; {} timers due at {}/s over {:.1} s; engine poll {} ms; rate limit {}/min",
        args.incidents,
        args.incidents,
        seeded_in.as_secs_f64(),
        args.timers,
        args.rate,
        span_ms as f64 / 1000.0,
        args.poll_ms,
        args.rate_limit_per_minute
    );

    let notifier = Arc::new(AcceptAll::default());
    let engine = Engine::new(
        app.clone(),
        notifier.clone(),
        Duration::from_millis(args.poll_ms),
    );
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(engine.run(shutdown.clone()));

    // Wait for every measured timer to fire; sample the backlog once a second.
    let mut max_backlog = 0;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = clock.now();
        let backlog = count(
            &store,
            "SELECT COUNT(*) FROM timers WHERE due_at <= $1",
            now,
        )
        .await?;
        max_backlog = max_backlog.max(backlog);
        let left = count(
            &store,
            "SELECT COUNT(*) FROM timers WHERE due_at <= $1",
            last_due,
        )
        .await?;
        if left == 0 && now >= last_due {
            break;
        }
        if now > last_due + args.drain_timeout_ms {
            eprintln!("gave up: {left} timers still unfired");
            break;
        }
    }
    shutdown.cancel();
    running.await?;

    let mut conn = store.read().await?;
    let rows = sqlx::query(
        "SELECT e.incident_id, e.at - i.ack_due_at FROM timeline_events e
         JOIN incidents i ON i.id = e.incident_id WHERE e.kind = 'ack_overdue'",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut per_incident: HashMap<String, usize> = HashMap::new();
    let mut lateness = Vec::with_capacity(rows.len());
    for r in &rows {
        *per_incident.entry(r.try_get::<String, _>(0)?).or_default() += 1;
        lateness.push(r.try_get::<i64, _>(1)? as f64);
    }
    let span =
        sqlx::query("SELECT MIN(at), MAX(at) FROM timeline_events WHERE kind = 'ack_overdue'")
            .fetch_one(&mut *conn)
            .await?;
    let (first_event, last_event): (Option<i64>, Option<i64>) =
        (span.try_get(0)?, span.try_get(1)?);
    let outbox = sqlx::query("SELECT status, COUNT(*) FROM notifications GROUP BY status")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(format!(
                "{}={}",
                r.try_get::<String, _>(0)?,
                r.try_get::<i64, _>(1)?
            ))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    // On PostgreSQL, rows written by one transaction share `xmin`: the last event of a
    // timer's transaction bounds when its firing became visible (the engine commits a
    // chunk of timers at once, after stamping each event).
    let mut visible = Vec::new();
    if store.backend() == triad_store::Backend::Postgres {
        let rows = sqlx::query(
            "SELECT MAX(e.at) OVER (PARTITION BY e.xmin::text) - i.ack_due_at
             FROM timeline_events e JOIN incidents i ON i.id = e.incident_id
             WHERE e.kind = 'ack_overdue'",
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            visible.push(r.try_get::<i64, _>(0)? as f64);
        }
    }
    drop(conn);
    store.close().await;

    let fired = per_incident.len();
    let duplicates = per_incident.values().filter(|c| **c > 1).count();
    let missing = args.timers.saturating_sub(fired);
    let s = Summary::of_ms(&lateness).context("no timer fired")?;
    println!("{}", s.line("timer lateness"));
    if let Some(v) = Summary::of_ms(&visible) {
        println!("{}", v.line("  to its commit's last event"));
    }
    if let (Some(a), Some(b)) = (first_event, last_event) {
        println!(
            "fired {} timers in {:.1} s ({:.0}/s); max backlog sampled {max_backlog}",
            rows.len(),
            (b - a) as f64 / 1000.0,
            rows.len() as f64 * 1000.0 / ((b - a).max(1) as f64)
        );
    }
    println!(
        "exactly once: {} (fired {fired} of {}, missing {missing}, fired more than once {duplicates})",
        if missing == 0 && duplicates == 0 && rows.len() == args.timers {
            "yes"
        } else {
            "NO"
        },
        args.timers
    );
    println!(
        "outbox: {} ; notifier accepted {} messages",
        outbox.join(" "),
        notifier.sent.load(Ordering::Relaxed)
    );
    println!(
        "goal: p99 < {GOAL_P99_MS} ms: {} (p99 {:.0} ms)",
        verdict(s.p99, GOAL_P99_MS),
        s.p99
    );
    Ok(())
}

//! `triad serve`: logging, database, first-start bootstrap, HTTP, graceful shutdown.

use crate::config::Config;
use crate::offline;
use anyhow::Context;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

/// How long a graceful stop waits for requests in flight before exiting anyway.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

fn init_logging(config: &Config) {
    let filter = EnvFilter::try_new(&config.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if config.log_format == "json" {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}

pub async fn run(config: Config) -> anyhow::Result<()> {
    init_logging(&config);
    let addr = config.listen_addr()?;
    let app = offline::open(&config).await?;
    tracing::info!(database = %config.database()?.redacted(), "database ready");
    if let Some(admin) = app
        .bootstrap_admin(&config.bootstrap_admin_email)
        .await
        .map_err(|e| anyhow::anyhow!(e))?
    {
        // Printed once, to the terminal only (never to the log).
        println!("Created the first administrator. This password is shown only now:");
        println!("  email:    {}", admin.email);
        println!("  password: {}", admin.password);
        println!(
            "Sign in: printf '%s' '<password>' | triad login --email {}",
            admin.email
        );
        tracing::info!(email = %admin.email, "created the first administrator");
    }
    // Handlers go in before the server says it is listening, so a SIGTERM sent at any
    // moment after that line is a graceful stop, never the default kill.
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot install the SIGTERM handler")?;
    let interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .context("cannot install the SIGINT handler")?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    println!("Triad listening on http://{local}");
    tracing::info!(%local, "listening");
    let shutdown = CancellationToken::new();
    tokio::spawn(wait_for_signal(terminate, interrupt, shutdown.clone()));
    let channels = triad_notify::router::Channels::from_config(&config.notify)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let engine = triad_engine::Engine::new(
        app.clone(),
        std::sync::Arc::new(channels),
        std::time::Duration::from_millis(config.engine_poll_ms),
    );
    let engine_task = tokio::spawn(engine.run(shutdown.clone()));
    let state = triad_http::AppState::new(app.clone(), shutdown.clone());
    let server = triad_http::serve(listener, state);
    let deadline = async {
        shutdown.cancelled().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        done = server => done.context("the server failed")?,
        _ = deadline => tracing::warn!(
            seconds = SHUTDOWN_GRACE.as_secs(),
            "requests still in flight after the grace period; stopping anyway"
        ),
    }
    // The engine finishes its pass (deliveries in flight are completed and recorded).
    shutdown.cancel();
    if tokio::time::timeout(SHUTDOWN_GRACE, engine_task)
        .await
        .is_err()
    {
        tracing::warn!("the engine was still delivering after the grace period; stopping anyway");
    }
    app.store().close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_signal(
    mut terminate: tokio::signal::unix::Signal,
    mut interrupt: tokio::signal::unix::Signal,
    shutdown: CancellationToken,
) {
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
    shutdown.cancel();
}

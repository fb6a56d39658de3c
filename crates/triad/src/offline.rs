//! Administration straight against the database, for the operator at the server.

use crate::config::Config;
use anyhow::Context;
use std::io::Read;
use std::sync::Arc;
use triad_app::clock::SystemClock;
use triad_app::token::NewToken;
use triad_app::user::NewUser;
use triad_app::{Actor, App, AppConfig};
use triad_store::Store;

/// Opens the database and applies migrations.
pub async fn open(config: &Config) -> anyhow::Result<App> {
    let url = config.database()?;
    let store = Store::connect(&url)
        .await
        .with_context(|| format!("cannot open the database {}", url.redacted()))?;
    store.migrate().await.context("cannot apply migrations")?;
    let app = App::new(
        store,
        Arc::new(SystemClock),
        AppConfig {
            policies: config.policies(),
            delivery: config.delivery.clone(),
        },
    )
    .await
    .context("cannot start")?;
    Ok(app)
}

pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let app = open(config).await?;
    app.store().close().await;
    println!("migrations applied to {}", config.database()?.redacted());
    Ok(())
}

/// Reads a secret from standard input, without its trailing newline.
pub fn read_stdin_secret() -> anyhow::Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .context("cannot read standard input")?;
    Ok(s.trim_end_matches(['\n', '\r']).to_string())
}

/// Turns a use-case error into a readable message with field reasons.
fn explain(e: triad_app::AppError) -> anyhow::Error {
    match e {
        triad_app::AppError::Invalid(fields) => {
            let lines: Vec<String> = fields
                .iter()
                .map(|f| format!("  --{}: {}", f.field.replace('_', "-"), f.reason))
                .collect();
            anyhow::anyhow!("invalid input:\n{}", lines.join("\n"))
        }
        other => anyhow::anyhow!(other),
    }
}

pub async fn user_add(
    config: &Config,
    email: String,
    name: String,
    role: String,
    time_zone: Option<String>,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let password = if password_stdin {
        Some(read_stdin_secret()?)
    } else {
        None
    };
    let app = open(config).await?;
    let user = app
        .create_user(
            &Actor::System,
            NewUser {
                email,
                name,
                role,
                time_zone,
                password,
            },
        )
        .await
        .map_err(explain)?;
    app.store().close().await;
    println!(
        "created user {} <{}> ({}), id {}",
        user.name,
        user.email,
        user.role.as_str(),
        user.id
    );
    Ok(())
}

pub async fn token_create(config: &Config, email: String, name: String) -> anyhow::Result<()> {
    let app = open(config).await?;
    let (secret, token) = app
        .create_token(
            &Actor::System,
            NewToken {
                user: Some(email.clone()),
                name,
                lifetime_days: None,
            },
        )
        .await
        .map_err(explain)?;
    app.store().close().await;
    println!(
        "created token {} ({}) for {email}; it is shown only now:",
        token.id, token.prefix
    );
    println!("{secret}");
    Ok(())
}

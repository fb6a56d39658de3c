//! The `triad` binary: the composition root. It alone picks the database backend and
//! the real clock; `serve` runs the server, `migrate`, `user` and `token` administer the
//! database offline, and `incident` and `login` are clients of a running server.

mod config;
mod offline;
mod serve;

use clap::{Parser, Subcommand};
use config::{Config, FlagOverrides};
use std::path::PathBuf;
use std::process::ExitCode;
use triad_cli::{BusinessCmd, ClientOpts, IncidentCmd, ScheduleCmd, ServiceCmd};

#[derive(Debug, Parser)]
#[command(
    name = "triad",
    version,
    about = "Incident response: page, staff, and keep everyone told."
)]
struct Cli {
    /// A TOML configuration file.
    #[arg(long, env = "TRIAD_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// `sqlite://PATH` or `postgres://USER@HOST:PORT/DB` (default sqlite://./triad-data/triad.db).
    #[arg(long, global = true)]
    database: Option<String>,
    /// `text` or `json`.
    #[arg(long, global = true)]
    log_format: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Configuration commands.
    Config {
        #[command(subcommand)]
        command: ConfigCmd,
    },
    /// Manage users directly in the database.
    User {
        #[command(subcommand)]
        command: UserCmd,
    },
    /// Manage API tokens directly in the database.
    Token {
        #[command(subcommand)]
        command: TokenCmd,
    },
    /// Work with incidents on a running server.
    Incident {
        #[command(flatten)]
        client: ClientOpts,
        #[command(subcommand)]
        command: IncidentCmd,
    },
    /// On-call schedules on a running server.
    Schedule {
        #[command(flatten)]
        client: ClientOpts,
        #[command(subcommand)]
        command: ScheduleCmd,
    },
    /// Services and their integration keys on a running server.
    Service {
        #[command(flatten)]
        client: ClientOpts,
        #[command(subcommand)]
        command: ServiceCmd,
    },
    /// Business services on a running server.
    BusinessService {
        #[command(flatten)]
        client: ClientOpts,
        #[command(subcommand)]
        command: BusinessCmd,
    },
    /// Who is on call now (or --at a time), in every schedule and role schedule.
    Oncall {
        #[command(flatten)]
        client: ClientOpts,
        /// RFC 3339 time (default now).
        #[arg(long)]
        at: Option<String>,
    },
    /// Change your password: standard input holds the current password on the first
    /// line and the new one on the second.
    Password {
        #[command(flatten)]
        client: ClientOpts,
    },
    /// Sign in with email and password (read from standard input); prints a token.
    Login {
        #[command(flatten)]
        client: ClientOpts,
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCmd {
    /// Validate the configuration and print it, secrets redacted.
    Check,
}

#[derive(Debug, Subcommand)]
enum UserCmd {
    /// Create a user.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, responder, support, stakeholder or viewer.
        #[arg(long)]
        role: String,
        #[arg(long)]
        time_zone: Option<String>,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCmd {
    /// Create an API token for a user; the token is the last line printed.
    Create {
        #[arg(long)]
        email: String,
        /// A label for the token.
        #[arg(long)]
        name: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    // One TLS implementation for the whole process (outbound HTTPS and PostgreSQL TLS).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let listen = match &cli.command {
        Command::Serve { listen } => listen.clone(),
        _ => None,
    };
    let flags = FlagOverrides {
        listen,
        database_url: cli.database.clone(),
        log_format: cli.log_format.clone(),
    };
    match cli.command {
        Command::Incident { client, command } => {
            println!("{}", triad_cli::run_incident(&client, command).await?);
            Ok(())
        }
        Command::Schedule { client, command } => {
            println!("{}", triad_cli::run_schedule(&client, command).await?);
            Ok(())
        }
        Command::Service { client, command } => {
            println!("{}", triad_cli::run_service(&client, command).await?);
            Ok(())
        }
        Command::BusinessService { client, command } => {
            println!("{}", triad_cli::run_business(&client, command).await?);
            Ok(())
        }
        Command::Oncall { client, at } => {
            println!("{}", triad_cli::run_oncall(&client, at).await?);
            Ok(())
        }
        Command::Password { client } => {
            let input = offline::read_stdin_secret()?;
            let mut lines = input.lines();
            let (Some(current), Some(new)) = (lines.next(), lines.next()) else {
                anyhow::bail!(
                    "standard input must hold the current password, then the new one, one per line"
                );
            };
            println!(
                "{}",
                triad_cli::change_password(&client, current, new).await?
            );
            Ok(())
        }
        Command::Login { client, email } => {
            let password = offline::read_stdin_secret()?;
            println!("{}", triad_cli::login(&client, &email, &password).await?);
            Ok(())
        }
        Command::Config {
            command: ConfigCmd::Check,
        } => {
            let config = Config::load(cli.config.as_deref(), flags)?;
            print!("{}", config.redacted_toml()?);
            eprintln!("configuration is valid");
            Ok(())
        }
        command => {
            let config = Config::load(cli.config.as_deref(), flags)?;
            match command {
                Command::Serve { .. } => serve::run(config).await,
                Command::Migrate => offline::migrate(&config).await,
                Command::User {
                    command:
                        UserCmd::Add {
                            email,
                            name,
                            role,
                            time_zone,
                            password_stdin,
                        },
                } => offline::user_add(&config, email, name, role, time_zone, password_stdin).await,
                Command::Token {
                    command: TokenCmd::Create { email, name },
                } => offline::token_create(&config, email, name).await,
                _ => unreachable!("client commands are handled above"),
            }
        }
    }
}

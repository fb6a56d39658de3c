//! Configuration: defaults < TOML file (`--config`/`TRIAD_CONFIG`) < `TRIAD_*`
//! environment < flags. Documented in `docs/configuration.md`.

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use triad_app::delivery::DeliveryConfig;
use triad_domain::policy::{SeverityPolicies, SeverityPolicy};
use triad_domain::severity::Severity;
use triad_notify::router::NotifyConfig;
use triad_store::DatabaseUrl;

/// Keys that may come from the environment as `TRIAD_<KEY>`.
const ENV_KEYS: [&str; 5] = [
    "listen",
    "database_url",
    "log_format",
    "log_level",
    "bootstrap_admin_email",
];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address the server listens on.
    pub listen: String,
    /// `sqlite://PATH` or `postgres://...`.
    pub database_url: String,
    /// `text` or `json`.
    pub log_format: String,
    /// A tracing filter, e.g. `info` or `triad=debug,info`.
    pub log_level: String,
    /// The email of the administrator created on first start.
    pub bootstrap_admin_email: String,
    /// Per-severity overrides of the policy defaults.
    #[serde(default)]
    pub severity: BTreeMap<Severity, SeverityPolicy>,
    /// Outbox delivery: retries, backoff, rate limit, default chat mirror.
    #[serde(default)]
    pub delivery: DeliveryConfig,
    /// Channels: SMTP, SMS/voice provider, HTTP timeout.
    #[serde(default)]
    pub notify: NotifyConfig,
    /// How often the engine looks for work committed by other nodes, in milliseconds.
    #[serde(default = "default_engine_poll_ms")]
    pub engine_poll_ms: u64,
}

fn default_engine_poll_ms() -> u64 {
    1000
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            database_url: "sqlite://./triad-data/triad.db".into(),
            log_format: "text".into(),
            log_level: "info,sqlx::postgres::notice=warn".into(),
            bootstrap_admin_email: "admin@triad.local".into(),
            severity: BTreeMap::new(),
            delivery: DeliveryConfig::default(),
            notify: NotifyConfig::default(),
            engine_poll_ms: default_engine_poll_ms(),
        }
    }
}

/// Values given as flags; they win over everything else.
#[derive(Debug, Default, Serialize)]
pub struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<String>,
}

impl Config {
    pub fn load(file: Option<&Path>, flags: FlagOverrides) -> anyhow::Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                bail!("the configuration file {} does not exist", path.display());
            }
            figment = figment.merge(Toml::file(path));
        }
        let figment = figment
            .merge(Env::prefixed("TRIAD_").only(&ENV_KEYS))
            .merge(Serialized::defaults(flags));
        let config: Config = figment
            .extract()
            .map_err(|e| anyhow::anyhow!(describe(e)))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.listen_addr()?;
        self.database()?;
        if !matches!(self.log_format.as_str(), "text" | "json") {
            bail!(
                "log_format: must be text or json, not {:?}",
                self.log_format
            );
        }
        tracing_subscriber::EnvFilter::try_new(&self.log_level)
            .with_context(|| format!("log_level: {:?} is not a valid filter", self.log_level))?;
        triad_domain::validate::Email::parse(&self.bootstrap_admin_email)
            .map_err(|e| anyhow::anyhow!("bootstrap_admin_email: {e}"))?;
        triad_notify::router::Channels::from_config(&self.notify)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if self.delivery.max_attempts == 0 {
            bail!("delivery.max_attempts: must be at least 1");
        }
        if self.delivery.backoff_base_seconds == 0
            || self.delivery.backoff_max_seconds < self.delivery.backoff_base_seconds
        {
            bail!(
                "delivery.backoff_base_seconds: must be above 0 and at most delivery.backoff_max_seconds"
            );
        }
        if self.delivery.rate_limit_per_minute == 0 {
            bail!("delivery.rate_limit_per_minute: must be at least 1");
        }
        if let Some(url) = &self.delivery.chat_webhook {
            triad_app::contact::check_url(url)
                .map_err(|e| anyhow::anyhow!("delivery.chat_webhook: {e}"))?;
        }
        if !(50..=60_000).contains(&self.engine_poll_ms) {
            bail!("engine_poll_ms: must be between 50 and 60000");
        }
        for (sev, p) in &self.severity {
            if p.ack_deadline_seconds == 0 {
                bail!("severity.{sev}.ack_deadline_seconds: must be above 0");
            }
            for (aud, c) in &p.cadence {
                if c.every_seconds == 0 {
                    bail!(
                        "severity.{sev}.cadence.{}.every_seconds: must be above 0",
                        aud.as_str()
                    );
                }
            }
        }
        Ok(())
    }

    pub fn listen_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listen.parse().with_context(|| {
            format!(
                "listen: {:?} is not an address such as 127.0.0.1:8080",
                self.listen
            )
        })
    }

    pub fn database(&self) -> anyhow::Result<DatabaseUrl> {
        self.database_url
            .parse()
            .map_err(|e| anyhow::anyhow!("database_url: {e}"))
    }

    pub fn policies(&self) -> SeverityPolicies {
        SeverityPolicies::with_overrides(self.severity.clone())
    }

    /// The effective configuration as TOML, with secrets redacted.
    pub fn redacted_toml(&self) -> anyhow::Result<String> {
        let mut shown = self.clone();
        shown.database_url = self.database()?.redacted();
        if let Some(smtp) = shown.notify.smtp.as_mut()
            && smtp.password.is_some()
        {
            smtp.password = Some("<redacted>".into());
        }
        if let Some(p) = shown.notify.provider.as_mut() {
            p.auth_token = "<redacted>".into();
        }
        #[derive(Serialize)]
        struct Effective<'a> {
            #[serde(flatten)]
            config: &'a Config,
            effective_severity_policies: SeverityPolicies,
        }
        let policies = self.policies();
        Ok(toml::to_string_pretty(&Effective {
            config: &shown,
            effective_severity_policies: policies,
        })?)
    }
}

fn describe(e: figment::Error) -> String {
    e.into_iter()
        .map(|e| {
            let key = e.path.join(".");
            let source = e
                .metadata
                .as_ref()
                .map(|m| format!(" (from {})", m.name))
                .unwrap_or_default();
            if key.is_empty() {
                format!("configuration: {}{source}", e.kind)
            } else {
                format!("{key}: {}{source}", e.kind)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's own error type
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let c = Config::default();
        c.validate().unwrap();
        assert_eq!(c.listen_addr().unwrap().to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn file_then_env_then_flags() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "t.toml",
                "listen = \"127.0.0.1:9000\"\nlog_format = \"json\"\n",
            )?;
            let c = Config::load(Some(Path::new("t.toml")), FlagOverrides::default()).unwrap();
            assert_eq!(
                (c.listen.as_str(), c.log_format.as_str()),
                ("127.0.0.1:9000", "json")
            );
            jail.set_env("TRIAD_LISTEN", "127.0.0.1:9001");
            let c = Config::load(Some(Path::new("t.toml")), FlagOverrides::default()).unwrap();
            assert_eq!(c.listen, "127.0.0.1:9001");
            let flags = FlagOverrides {
                listen: Some("127.0.0.1:9002".into()),
                ..Default::default()
            };
            let c = Config::load(Some(Path::new("t.toml")), flags).unwrap();
            assert_eq!(c.listen, "127.0.0.1:9002");
            // Client variables are not configuration keys and must not break loading.
            jail.set_env("TRIAD_TOKEN", "x");
            Config::load(None, FlagOverrides::default()).unwrap();
            Ok(())
        });
    }

    #[test]
    fn errors_name_the_key() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("bad.toml", "lisen = \"x\"\n")?;
            let e =
                Config::load(Some(Path::new("bad.toml")), FlagOverrides::default()).unwrap_err();
            assert!(e.to_string().contains("lisen"), "{e}");
            jail.create_file("bad2.toml", "listen = \"nowhere\"\n")?;
            let e =
                Config::load(Some(Path::new("bad2.toml")), FlagOverrides::default()).unwrap_err();
            assert!(e.to_string().starts_with("listen:"), "{e}");
            jail.create_file("sev.toml", "[severity.SEV2]\nack_deadline_seconds = 60\nstaffing = { required = [\"responder\"], distinct = false }\n")?;
            let c = Config::load(Some(Path::new("sev.toml")), FlagOverrides::default()).unwrap();
            assert_eq!(c.policies().get(Severity::Sev2).ack_deadline_seconds, 60);
            assert!(
                Config::load(Some(Path::new("missing.toml")), FlagOverrides::default()).is_err()
            );
            Ok(())
        });
    }

    #[test]
    fn redacts_the_database_password() {
        let c = Config {
            database_url: "postgres://u:hunter2@db/triad".into(),
            ..Config::default()
        };
        let shown = c.redacted_toml().unwrap();
        assert!(!shown.contains("hunter2"));
        assert!(shown.contains("postgres://u:***@db/triad"));
    }

    #[test]
    fn engine_and_channel_settings_load_validate_and_redact() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "n.toml",
                r#"
engine_poll_ms = 250
[delivery]
max_attempts = 5
chat_webhook = "https://chat.example.com/hooks/x"
[notify.smtp]
host = "mail.example.com"
from = "Triad <triad@example.com>"
username = "triad"
password = "smtp-hunter2"
[notify.provider]
account_sid = "AC123"
auth_token = "twilio-hunter2"
from = "+15005550006"
"#,
            )?;
            let c = Config::load(Some(Path::new("n.toml")), FlagOverrides::default()).unwrap();
            assert_eq!((c.engine_poll_ms, c.delivery.max_attempts), (250, 5));
            assert_eq!(
                c.delivery.backoff_base_seconds, 10,
                "defaults fill the rest"
            );
            let shown = c.redacted_toml().unwrap();
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("mail.example.com"));
            for (name, bad, key) in [
                (
                    "a.toml",
                    "[delivery]\nmax_attempts = 0\n",
                    "delivery.max_attempts",
                ),
                (
                    "b.toml",
                    "[delivery]\nchat_webhook = \"nope\"\n",
                    "delivery.chat_webhook",
                ),
                ("c.toml", "engine_poll_ms = 1\n", "engine_poll_ms"),
                ("d.toml", "[notify.smtp]\nhost = \"m\"\n", "notify.smtp"),
                ("e.toml", "[delivery]\nretries = 3\n", "retries"),
            ] {
                jail.create_file(name, bad)?;
                let e = Config::load(Some(Path::new(name)), FlagOverrides::default()).unwrap_err();
                assert!(e.to_string().contains(key), "{name}: {e}");
            }
            Ok(())
        });
    }
}

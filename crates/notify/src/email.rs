//! Email over SMTP (lettre, rustls with ring): the `[notify.smtp]` settings and the
//! adapter that turns a [`Message`] into a plain-text UTF-8 mail with stable headers.

use crate::router::ConfigError;
use crate::{Message, Notifier, Outcome};
use futures::future::BoxFuture;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message as Mail};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use triad_domain::Millis;

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain text, for a relay on the same host or a trusted network.
    None,
    /// Connect in plain text, then require `STARTTLS` (usually port 587 or 25).
    Starttls,
    /// TLS from the first byte ("implicit TLS", usually port 465).
    Tls,
}

impl SmtpTls {
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpTls::None => "none",
            SmtpTls::Starttls => "starttls",
            SmtpTls::Tls => "tls",
        }
    }
}

/// `[notify.smtp]`: where and how email leaves.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// The SMTP server's host name (also the name its TLS certificate must carry).
    pub host: String,
    /// Default 25.
    #[serde(default = "default_port")]
    pub port: u16,
    /// Default: `none` when `host` is a loopback address or `localhost`, else
    /// `starttls`; read it through [`SmtpConfig::effective_tls`].
    #[serde(default)]
    pub tls: Option<SmtpTls>,
    #[serde(default)]
    pub username: Option<String>,
    /// Never printed by `Debug`.
    #[serde(default)]
    pub password: Option<String>,
    /// The sender: `triad@example.com` or `Triad <triad@example.com>`.
    pub from: String,
    /// The right-hand side of `Message-ID: <notification-id@domain>`; default
    /// `triad.local`.
    #[serde(default = "default_message_id_domain")]
    pub message_id_domain: String,
    /// How long one SMTP exchange may take, in seconds; default 30.
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
}

fn default_port() -> u16 {
    25
}

fn default_message_id_domain() -> String {
    "triad.local".to_string()
}

fn default_timeout_seconds() -> u64 {
    30
}

impl SmtpConfig {
    /// A configuration with the defaults for everything but the server and sender.
    pub fn new(host: impl Into<String>, from: impl Into<String>) -> SmtpConfig {
        SmtpConfig {
            host: host.into(),
            port: default_port(),
            tls: None,
            username: None,
            password: None,
            from: from.into(),
            message_id_domain: default_message_id_domain(),
            timeout_seconds: default_timeout_seconds(),
        }
    }

    /// `tls` as configured, or the default for `host`.
    pub fn effective_tls(&self) -> SmtpTls {
        self.tls.unwrap_or_else(|| {
            if is_loopback(&self.host) {
                SmtpTls::None
            } else {
                SmtpTls::Starttls
            }
        })
    }
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .field("message_id_domain", &self.message_id_domain)
            .field("timeout_seconds", &self.timeout_seconds)
            .finish()
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim().trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Sends email through one SMTP server, a new connection per message.
#[derive(Clone)]
pub struct EmailNotifier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    message_id_domain: String,
}

impl EmailNotifier {
    /// Checks the configuration (sender address, credentials only over TLS or to a
    /// loopback relay) and prepares the transport; nothing is connected yet.
    pub fn new(config: &SmtpConfig) -> Result<EmailNotifier, ConfigError> {
        let host = config.host.trim();
        if host.is_empty() {
            return Err(ConfigError::new("notify.smtp.host", "must not be empty"));
        }
        let from: Mailbox = config.from.trim().parse().map_err(|e| {
            ConfigError::new("notify.smtp.from", format!("not an email address: {e}"))
        })?;
        let domain = config.message_id_domain.trim();
        if domain.is_empty() || domain.contains(['<', '>', '@', ' ']) {
            return Err(ConfigError::new(
                "notify.smtp.message_id_domain",
                "must be a domain name such as triad.example.com",
            ));
        }
        let tls_mode = config.effective_tls();
        let tls = match tls_mode {
            SmtpTls::None => Tls::None,
            SmtpTls::Starttls => Tls::Required(tls_parameters(host)?),
            SmtpTls::Tls => Tls::Wrapper(tls_parameters(host)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(config.port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(config.timeout_seconds.max(1))));
        match (&config.username, &config.password) {
            (Some(user), Some(password)) => {
                if tls_mode == SmtpTls::None && !is_loopback(host) {
                    return Err(ConfigError::new(
                        "notify.smtp.tls",
                        "credentials would cross the network in plain text; set tls to \
                         \"starttls\" or \"tls\"",
                    ));
                }
                builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
            }
            (None, None) => {}
            _ => {
                return Err(ConfigError::new(
                    "notify.smtp.username",
                    "username and password go together",
                ));
            }
        }
        Ok(EmailNotifier {
            transport: builder.build(),
            from,
            message_id_domain: domain.to_string(),
        })
    }

    async fn deliver(&self, message: &Message) -> Outcome {
        let mail = match self.compose(message) {
            Ok(mail) => mail,
            Err(error) => return Outcome::Rejected { error },
        };
        match self.transport.send(mail).await {
            Ok(response) => Outcome::Delivered {
                detail: response.first_line().map(|line| {
                    format!("{} {}", response.code(), line.trim())
                        .trim()
                        .to_string()
                }),
            },
            Err(e) => smtp_outcome(&e),
        }
    }

    /// The mail for `message`: From, To (name and address), Subject, Date (the
    /// notification's `created_at`), a Message-ID that retries keep, the idempotency
    /// key, and the text as a plain UTF-8 body.
    pub fn compose(&self, message: &Message) -> Result<Mail, String> {
        let address: Address =
            message.address.trim().parse().map_err(|e| {
                format!("{:?} is not an email address: {e}", message.address.trim())
            })?;
        let to = Mailbox::new(
            message
                .recipient_name
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_string),
            address,
        );
        let key_header = HeaderName::new_from_ascii_str("X-Triad-Idempotency-Key");
        Mail::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.trim())
            .date(system_time(message.created_at))
            .message_id(Some(format!(
                "<{}@{}>",
                message.notification_id.trim(),
                self.message_id_domain
            )))
            .raw_header(HeaderValue::new(
                key_header,
                message.idempotency_key.clone(),
            ))
            .header(ContentType::TEXT_PLAIN)
            .body(message.text.clone())
            .map_err(|e| format!("cannot build the email: {e}"))
    }
}

impl Notifier for EmailNotifier {
    fn send<'a>(&'a self, message: &'a Message, _now: Millis) -> BoxFuture<'a, Outcome> {
        Box::pin(self.deliver(message))
    }
}

fn tls_parameters(host: &str) -> Result<TlsParameters, ConfigError> {
    TlsParameters::new(host.to_string()).map_err(|e| {
        ConfigError::new(
            "notify.smtp.tls",
            format!("cannot set up TLS for {host}: {e}"),
        )
    })
}

/// Epoch milliseconds as a `SystemTime` (a conversion, not a clock read).
fn system_time(at: Millis) -> SystemTime {
    let offset = Duration::from_millis(at.unsigned_abs());
    if at >= 0 {
        UNIX_EPOCH + offset
    } else {
        UNIX_EPOCH - offset
    }
}

/// SMTP 5xx and client-side refusals are permanent; 4xx, timeouts, connection and TLS
/// failures are worth another try.
fn smtp_outcome(e: &lettre::transport::smtp::Error) -> Outcome {
    let error = format!("SMTP: {}", crate::http::error_chain(e));
    if e.is_permanent() || e.is_client() {
        Outcome::Rejected { error }
    } else {
        Outcome::Retry {
            error,
            retry_after: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_defaults_to_none_only_for_loopback_hosts() {
        for host in ["localhost", "127.0.0.1", "::1", "[::1]"] {
            assert_eq!(
                SmtpConfig::new(host, "t@x.org").effective_tls(),
                SmtpTls::None
            );
        }
        for host in ["mail.example.com", "10.0.0.1"] {
            assert_eq!(
                SmtpConfig::new(host, "t@x.org").effective_tls(),
                SmtpTls::Starttls
            );
        }
    }

    #[test]
    fn dates_before_and_after_the_epoch_convert() {
        assert_eq!(system_time(1500), UNIX_EPOCH + Duration::from_millis(1500));
        assert_eq!(system_time(-1500), UNIX_EPOCH - Duration::from_millis(1500));
    }
}

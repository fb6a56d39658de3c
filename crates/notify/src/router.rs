//! `[notify]` settings and [`Channels`], the one [`Notifier`] the engine holds: it
//! dispatches each message to the adapter for its channel.

use crate::chat::ChatNotifier;
use crate::email::{EmailNotifier, SmtpConfig};
use crate::http;
use crate::provider::{ProviderConfig, ProviderNotifier};
use crate::webhook::WebhookNotifier;
use crate::{Channel, Message, Notifier, Outcome};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use triad_domain::Millis;

/// `[notify]`. Webhook and Slack/Mattermost delivery need no settings; email needs
/// `smtp`, SMS and voice need `provider`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    #[serde(default)]
    pub smtp: Option<SmtpConfig>,
    #[serde(default)]
    pub provider: Option<ProviderConfig>,
    /// Per-request timeout for webhook, chat and provider requests; default 10.
    #[serde(default = "default_http_timeout_seconds")]
    pub http_timeout_seconds: u64,
}

fn default_http_timeout_seconds() -> u64 {
    http::DEFAULT_TIMEOUT.as_secs()
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            smtp: None,
            provider: None,
            http_timeout_seconds: default_http_timeout_seconds(),
        }
    }
}

/// A setting that cannot work, named by its configuration key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ConfigError {
    /// The setting's key, e.g. `notify.smtp.from`.
    pub key: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// An adapter per channel; a channel without one rejects its messages, saying which
/// setting is missing.
#[derive(Clone, Default)]
pub struct Channels {
    adapters: HashMap<Channel, Arc<dyn Notifier>>,
}

impl Channels {
    /// No adapter at all: every message is rejected until [`Channels::with`] adds some.
    pub fn empty() -> Channels {
        Channels::default()
    }

    /// Webhook and Slack always; email when `smtp` is set; SMS and voice when `provider`
    /// is set.
    pub fn from_config(config: &NotifyConfig) -> Result<Channels, ConfigError> {
        if config.http_timeout_seconds == 0 {
            return Err(ConfigError::new(
                "notify.http_timeout_seconds",
                "must be at least 1",
            ));
        }
        let client = http::client(Duration::from_secs(config.http_timeout_seconds))?;
        let mut channels = Channels::empty()
            .with(
                Channel::Webhook,
                Arc::new(WebhookNotifier::new(client.clone())),
            )
            .with(Channel::Slack, Arc::new(ChatNotifier::new(client.clone())));
        if let Some(smtp) = &config.smtp {
            channels = channels.with(Channel::Email, Arc::new(EmailNotifier::new(smtp)?));
        }
        if let Some(provider) = &config.provider {
            let adapter: Arc<dyn Notifier> = Arc::new(ProviderNotifier::new(provider, client)?);
            channels = channels
                .with(Channel::Sms, adapter.clone())
                .with(Channel::Voice, adapter);
        }
        Ok(channels)
    }

    /// Uses `adapter` for `channel`, replacing what was there (tests install recording
    /// fakes this way).
    pub fn with(mut self, channel: Channel, adapter: Arc<dyn Notifier>) -> Channels {
        self.adapters.insert(channel, adapter);
        self
    }

    /// Whether `channel` has an adapter.
    pub fn is_configured(&self, channel: Channel) -> bool {
        self.adapters.contains_key(&channel)
    }

    /// The channels that have an adapter, in [`Channel::ALL`] order.
    pub fn configured(&self) -> Vec<Channel> {
        Channel::ALL
            .into_iter()
            .filter(|c| self.is_configured(*c))
            .collect()
    }
}

/// The setting a channel needs.
fn config_key(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "notify.smtp",
        Channel::Sms | Channel::Voice => "notify.provider",
        Channel::Webhook | Channel::Slack => "notify",
    }
}

impl Notifier for Channels {
    fn send<'a>(&'a self, message: &'a Message, now: Millis) -> BoxFuture<'a, Outcome> {
        match self.adapters.get(&message.channel) {
            Some(adapter) => adapter.send(message, now),
            None => {
                let error = format!(
                    "{} delivery is not configured (set {})",
                    message.channel.as_str(),
                    config_key(message.channel)
                );
                Box::pin(async move { Outcome::Rejected { error } })
            }
        }
    }
}

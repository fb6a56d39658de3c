//! Channel adapters: one [`Notifier`] trait, and an adapter per channel (SMTP email,
//! signed webhooks, Slack/Mattermost incoming webhooks, Twilio-compatible SMS and voice).
//! The engine hands an adapter one rendered [`Message`] at a time and records the
//! [`Outcome`]; retries, backoff, rate limits and dead letters are the engine's business.

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use triad_domain::Millis;

/// How a message travels. The string forms are the API's contact-method types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Webhook,
    /// A Slack- or Mattermost-compatible incoming webhook URL.
    Slack,
    Sms,
    Voice,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::Email,
        Channel::Webhook,
        Channel::Slack,
        Channel::Sms,
        Channel::Voice,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webhook => "webhook",
            Channel::Slack => "slack",
            Channel::Sms => "sms",
            Channel::Voice => "voice",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// One rendered notification, ready to send. The same notification is handed over again
/// on every retry with the same `notification_id` and `idempotency_key`.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The outbox row's id (UUIDv7 text); stable across retries.
    pub notification_id: String,
    /// Unique per side effect; receivers may use it to drop duplicates.
    pub idempotency_key: String,
    pub channel: Channel,
    /// An email address, a URL (webhook, slack) or an E.164 phone number (sms, voice).
    pub address: String,
    /// The person's display name, when the recipient is a person.
    pub recipient_name: Option<String>,
    /// One line: the email subject, the first line of chat and SMS text.
    pub subject: String,
    /// Plain text body (email body, chat text, SMS text, the words a voice call says).
    pub text: String,
    /// The machine-readable document a webhook receives as its JSON body.
    pub event: serde_json::Value,
    /// The webhook endpoint's signing secret.
    pub secret: Option<String>,
    /// When the notification was created (epoch ms); email's `Date` header.
    pub created_at: Millis,
}

/// What one delivery attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The destination accepted the message. `detail` is e.g. the provider's message id.
    Delivered { detail: Option<String> },
    /// A transient failure (connection error, timeout, 408, 429, 5xx, SMTP 4xx): try again,
    /// not before `retry_after` when the destination said so.
    Retry {
        error: String,
        retry_after: Option<Duration>,
    },
    /// A permanent failure (other 4xx, SMTP 5xx, an address the channel cannot use, a
    /// channel that is not configured): retrying cannot help.
    Rejected { error: String },
}

/// Sends messages over one or more channels.
pub trait Notifier: Send + Sync + 'static {
    /// Attempts delivery once. `now` (epoch ms, from the engine's clock) is used where the
    /// wire format carries a time, such as the webhook signature's timestamp.
    fn send<'a>(&'a self, message: &'a Message, now: Millis) -> BoxFuture<'a, Outcome>;
}

pub mod chat;
pub mod email;
pub mod http;
pub mod jira;
pub mod provider;
pub mod router;
pub mod webhook;

pub use chat::ChatNotifier;
pub use email::{EmailNotifier, SmtpConfig, SmtpTls};
pub use provider::{ProviderConfig, ProviderNotifier};
pub use router::{Channels, ConfigError, NotifyConfig};
pub use webhook::WebhookNotifier;

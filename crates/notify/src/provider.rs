//! SMS and voice calls through a Twilio-compatible REST API: the `[notify.provider]`
//! settings, the E.164 check, and the `Messages.json` / `Calls.json` requests.

use crate::http;
use crate::router::ConfigError;
use crate::{Channel, Message, Notifier, Outcome};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::fmt;
use triad_domain::Millis;

/// The longest SMS body sent (Twilio's limit for one message, in characters).
pub const SMS_MAX_CHARS: usize = 1600;

/// The longest text a voice call reads out, in characters.
pub const VOICE_MAX_CHARS: usize = 1600;

/// `[notify.provider]`: the account that sends SMS and places calls.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Default `https://api.twilio.com`; any server speaking the same API works.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    pub account_sid: String,
    /// Never printed by `Debug`.
    pub auth_token: String,
    /// The sending number (E.164), or whatever sender the provider accepts in `From`.
    pub from: String,
}

fn default_base_url() -> String {
    "https://api.twilio.com".to_string()
}

impl ProviderConfig {
    /// A configuration for the default base URL.
    pub fn new(
        account_sid: impl Into<String>,
        auth_token: impl Into<String>,
        from: impl Into<String>,
    ) -> ProviderConfig {
        ProviderConfig {
            base_url: default_base_url(),
            account_sid: account_sid.into(),
            auth_token: auth_token.into(),
            from: from.into(),
        }
    }
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("base_url", &self.base_url)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<redacted>")
            .field("from", &self.from)
            .finish()
    }
}

/// Sends SMS (`Channel::Sms`) and places voice calls (`Channel::Voice`); any other
/// channel is rejected.
#[derive(Clone)]
pub struct ProviderNotifier {
    client: reqwest::Client,
    base: reqwest::Url,
    account_sid: String,
    auth_token: String,
    from: String,
}

impl ProviderNotifier {
    /// Checks the configuration; nothing is sent yet.
    pub fn new(
        config: &ProviderConfig,
        client: reqwest::Client,
    ) -> Result<ProviderNotifier, ConfigError> {
        let base = http::parse_url(&config.base_url)
            .map_err(|_| ConfigError::new("notify.provider.base_url", "must be an http(s) URL"))?;
        for (key, value) in [
            ("notify.provider.account_sid", &config.account_sid),
            ("notify.provider.auth_token", &config.auth_token),
            ("notify.provider.from", &config.from),
        ] {
            if value.trim().is_empty() {
                return Err(ConfigError::new(key, "must not be empty"));
            }
        }
        Ok(ProviderNotifier {
            client,
            base,
            account_sid: config.account_sid.trim().to_string(),
            auth_token: config.auth_token.clone(),
            from: config.from.trim().to_string(),
        })
    }

    /// `{base}/2010-04-01/Accounts/{sid}/{resource}`, the sid escaped as a path segment.
    fn endpoint(&self, resource: &str) -> reqwest::Url {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments
                .pop_if_empty()
                .extend(["2010-04-01", "Accounts", &self.account_sid, resource]);
        }
        url
    }

    async fn deliver(&self, message: &Message, now: Millis) -> Outcome {
        let to = message.address.trim();
        if !is_e164(to) {
            return Outcome::Rejected {
                error: format!(
                    "{} address {to:?} is not an E.164 phone number (+ then 8 to 15 digits)",
                    message.channel.as_str()
                ),
            };
        }
        let (resource, content_field, content) = match message.channel {
            Channel::Sms => ("Messages.json", "Body", sms_body(message)),
            Channel::Voice => ("Calls.json", "Twiml", twiml(message)),
            other => {
                return Outcome::Rejected {
                    error: format!("the SMS/voice provider cannot send {}", other.as_str()),
                };
            }
        };
        let form = [
            ("To", to),
            ("From", self.from.as_str()),
            (content_field, content.as_str()),
        ];
        let request = self
            .client
            .post(self.endpoint(resource))
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .header(reqwest::header::USER_AGENT, http::USER_AGENT)
            .form(&form);
        match http::exchange(request).await {
            Ok(reply) => match http::classify(&reply, now) {
                Outcome::Delivered { .. } => Outcome::Delivered {
                    detail: resource_sid(&reply.body),
                },
                other => other,
            },
            Err(outcome) => outcome,
        }
    }
}

impl Notifier for ProviderNotifier {
    fn send<'a>(&'a self, message: &'a Message, now: Millis) -> BoxFuture<'a, Outcome> {
        Box::pin(self.deliver(message, now))
    }
}

/// `+` then 8 to 15 digits, the first not 0.
pub fn is_e164(number: &str) -> bool {
    let Some(digits) = number.strip_prefix('+') else {
        return false;
    };
    (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// Subject and text on two lines, cut to [`SMS_MAX_CHARS`].
pub fn sms_body(message: &Message) -> String {
    truncate(&join(message, "\n"), SMS_MAX_CHARS)
}

/// `<Response><Say>…</Say></Response>` reading the subject, then the text.
pub fn twiml(message: &Message) -> String {
    let subject = message.subject.trim();
    let separator = if subject.ends_with(['.', '!', '?']) {
        " "
    } else {
        ". "
    };
    let spoken = truncate(&join(message, separator), VOICE_MAX_CHARS);
    format!("<Response><Say>{}</Say></Response>", xml_escape(&spoken))
}

fn join(message: &Message, separator: &str) -> String {
    let subject = message.subject.trim();
    let text = message.text.trim();
    match (subject.is_empty(), text.is_empty()) {
        (_, true) => subject.to_string(),
        (true, false) => text.to_string(),
        (false, false) => format!("{subject}{separator}{text}"),
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => text[..cut].to_string(),
        None => text.to_string(),
    }
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The created resource's `sid` from the provider's JSON answer.
fn resource_sid(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    value.get("sid")?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_numbers() {
        for ok in ["+4915112345678", "+12025550123", "+12345678"] {
            assert!(is_e164(ok), "{ok}");
        }
        for bad in [
            "4915112345678",
            "+1234567",
            "+1234567890123456",
            "+49 151 1234",
            "+0123456789",
            "+",
            "",
            "+1202555012a",
        ] {
            assert!(!is_e164(bad), "{bad}");
        }
    }

    #[test]
    fn truncate_counts_characters_not_bytes() {
        assert_eq!(truncate("äöü", 2), "äö");
        assert_eq!(truncate("ab", 5), "ab");
    }

    #[test]
    fn xml_escape_covers_markup_and_control_characters() {
        assert_eq!(
            xml_escape("<a href=\"x\">'&'</a>\u{7}"),
            "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt; "
        );
    }
}

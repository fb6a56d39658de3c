//! `[notify]` settings (defaults, unknown keys, redacted secrets) and `Channels`
//! dispatching by channel, including unconfigured channels and installed fakes.

mod support;

use futures::future::BoxFuture;
use std::sync::{Arc, Mutex};
use support::{NOW, Sink, message};
use triad_notify::{
    Channel, Channels, Message, Notifier, NotifyConfig, Outcome, ProviderConfig, SmtpConfig,
    SmtpTls,
};

const FULL: &str = r#"
http_timeout_seconds = 5

[smtp]
host = "mail.example.org"
port = 587
tls = "starttls"
username = "triad"
password = "smtp-hunter2"
from = "Triad <triad@example.org>"

[provider]
account_sid = "AC123"
auth_token = "twilio-hunter2"
from = "+15005550006"
"#;

#[test]
fn config_reads_toml_and_fills_defaults() {
    let config: NotifyConfig = toml::from_str(FULL).unwrap();
    assert_eq!(config.http_timeout_seconds, 5);
    let smtp = config.smtp.unwrap();
    assert_eq!(smtp.tls, Some(SmtpTls::Starttls));
    assert_eq!(smtp.message_id_domain, "triad.local");
    assert_eq!(smtp.timeout_seconds, 30);
    let provider = config.provider.unwrap();
    assert_eq!(provider.base_url, "https://api.twilio.com");

    let empty: NotifyConfig = toml::from_str("").unwrap();
    assert_eq!(empty.http_timeout_seconds, 10);
    assert!(empty.smtp.is_none() && empty.provider.is_none());

    let smtp: SmtpConfig = toml::from_str("host = \"localhost\"\nfrom = \"t@x.org\"").unwrap();
    assert_eq!(smtp.port, 25);
    assert_eq!(smtp.tls, None);
    assert_eq!(smtp.effective_tls(), SmtpTls::None);
}

#[test]
fn unknown_keys_are_refused() {
    for text in [
        "timeout = 3",
        "[smtp]\nhost = \"h\"\nfrom = \"t@x.org\"\npasword = \"typo\"",
        "[provider]\naccount_sid = \"a\"\nauth_token = \"b\"\nfrom = \"c\"\nbase = \"d\"",
    ] {
        let err = toml::from_str::<NotifyConfig>(text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field"), "{text}: {err}");
    }
}

#[test]
fn debug_output_never_shows_secrets() {
    let config: NotifyConfig = toml::from_str(FULL).unwrap();
    let printed = format!("{config:?} {config:#?}");
    assert!(!printed.contains("smtp-hunter2"), "{printed}");
    assert!(!printed.contains("twilio-hunter2"), "{printed}");
    assert!(printed.contains("<redacted>"));
    // The rest stays visible for diagnosis.
    assert!(printed.contains("mail.example.org") && printed.contains("AC123"));

    let provider = ProviderConfig::new("AC1", "tok-secret", "+15005550006");
    assert!(!format!("{provider:?}").contains("tok-secret"));
}

#[tokio::test]
async fn unconfigured_channels_say_which_setting_is_missing() {
    let channels = Channels::from_config(&NotifyConfig::default()).unwrap();
    assert_eq!(
        channels.configured(),
        vec![Channel::Webhook, Channel::Slack]
    );
    for (channel, expected) in [
        (
            Channel::Sms,
            "sms delivery is not configured (set notify.provider)",
        ),
        (
            Channel::Voice,
            "voice delivery is not configured (set notify.provider)",
        ),
        (
            Channel::Email,
            "email delivery is not configured (set notify.smtp)",
        ),
    ] {
        let outcome = channels.send(&message(channel, "x"), NOW).await;
        assert_eq!(
            outcome,
            Outcome::Rejected {
                error: expected.to_string()
            }
        );
    }
}

#[tokio::test]
async fn a_full_config_enables_every_channel() {
    let config: NotifyConfig = toml::from_str(FULL).unwrap();
    let channels = Channels::from_config(&config).unwrap();
    assert_eq!(channels.configured(), Channel::ALL.to_vec());
}

#[tokio::test]
async fn messages_go_to_the_adapter_of_their_channel() {
    let sink = Sink::answering(200, &[], "ok").await;
    let recorder = Arc::new(Recorder::default());
    let channels = Channels::from_config(&NotifyConfig::default())
        .unwrap()
        .with(Channel::Sms, recorder.clone());

    let sms = message(Channel::Sms, "+4915112345678");
    let outcome = channels.send(&sms, NOW).await;
    assert_eq!(
        outcome,
        Outcome::Delivered {
            detail: Some("recorded".to_string())
        }
    );
    assert_eq!(*recorder.sent.lock().unwrap(), vec![(sms, NOW)]);

    // Webhook and Slack use the real adapters.
    for channel in [Channel::Webhook, Channel::Slack] {
        let outcome = channels.send(&message(channel, &sink.url), NOW).await;
        assert_eq!(outcome, Outcome::Delivered { detail: None });
    }
    let requests = sink.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[0].header("triad-idempotency-key").is_some());
    assert!(requests[1].text().starts_with("{\"text\""));
    assert_eq!(recorder.sent.lock().unwrap().len(), 1);
}

#[test]
fn invalid_settings_name_their_key() {
    let mut config = NotifyConfig {
        smtp: Some(SmtpConfig::new("mail.example.org", "not an address")),
        ..NotifyConfig::default()
    };
    let err = Channels::from_config(&config).err().unwrap();
    assert_eq!(err.key, "notify.smtp.from");

    let mut smtp = SmtpConfig::new("mail.example.org", "triad@example.org");
    smtp.tls = Some(SmtpTls::None);
    smtp.username = Some("u".to_string());
    smtp.password = Some("p".to_string());
    config.smtp = Some(smtp);
    let err = Channels::from_config(&config).err().unwrap();
    assert_eq!(err.key, "notify.smtp.tls");

    let mut provider = ProviderConfig::new("AC1", "", "+15005550006");
    config.smtp = None;
    config.provider = Some(provider.clone());
    assert_eq!(
        Channels::from_config(&config).err().unwrap().key,
        "notify.provider.auth_token"
    );
    provider.auth_token = "t".to_string();
    provider.base_url = "ftp://x".to_string();
    config.provider = Some(provider);
    assert_eq!(
        Channels::from_config(&config).err().unwrap().key,
        "notify.provider.base_url"
    );

    config.provider = None;
    config.http_timeout_seconds = 0;
    assert_eq!(
        Channels::from_config(&config).err().unwrap().to_string(),
        "notify.http_timeout_seconds: must be at least 1"
    );
}

/// A fake adapter that records what it was given.
#[derive(Default)]
struct Recorder {
    sent: Mutex<Vec<(Message, i64)>>,
}

impl Notifier for Recorder {
    fn send<'a>(&'a self, message: &'a Message, now: i64) -> BoxFuture<'a, Outcome> {
        self.sent.lock().unwrap().push((message.clone(), now));
        Box::pin(async {
            Outcome::Delivered {
                detail: Some("recorded".to_string()),
            }
        })
    }
}

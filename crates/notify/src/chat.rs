//! Slack- and Mattermost-compatible incoming webhooks: one JSON `{"text": ...}` POST per
//! message, classified like every other HTTP delivery.

use crate::http;
use crate::{Message, Notifier, Outcome};
use futures::future::BoxFuture;
use triad_domain::Millis;

/// Delivers to incoming-webhook URLs (`message.address`). Both Slack and Mattermost
/// accept the same minimal payload; Slack answers `200 ok`, and its 429 is retried.
#[derive(Clone)]
pub struct ChatNotifier {
    client: reqwest::Client,
}

impl ChatNotifier {
    /// An adapter over a client from [`http::client`].
    pub fn new(client: reqwest::Client) -> ChatNotifier {
        ChatNotifier { client }
    }

    async fn deliver(&self, message: &Message, now: Millis) -> Outcome {
        let url = match http::parse_url(&message.address) {
            Ok(url) => url,
            Err(outcome) => return outcome,
        };
        let request = self
            .client
            .post(url)
            .header(reqwest::header::USER_AGENT, http::USER_AGENT)
            .json(&payload(message));
        http::deliver(request, now).await
    }
}

impl Notifier for ChatNotifier {
    fn send<'a>(&'a self, message: &'a Message, now: Millis) -> BoxFuture<'a, Outcome> {
        Box::pin(self.deliver(message, now))
    }
}

/// The JSON body: `{"text": "<subject>\n<text>"}` with `&`, `<` and `>` escaped as
/// Slack's mrkdwn requires (Mattermost's Markdown decodes the same entities), so text
/// that happens to contain `<!channel>` or `<url|label>` cannot ping or link.
pub fn payload(message: &Message) -> serde_json::Value {
    let mut text = escape(message.subject.trim());
    let body = message.text.trim();
    if !body.is_empty() {
        text.push('\n');
        text.push_str(&escape(body));
    }
    serde_json::json!({ "text": text })
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_mentions_and_links() {
        assert_eq!(
            escape("a <!channel> & <b|c>"),
            "a &lt;!channel&gt; &amp; &lt;b|c&gt;"
        );
    }
}

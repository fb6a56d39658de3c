//! Writing notifications into the outbox from inside a decision: to a person (through
//! their notification rules and contact methods), to an incident's reporters, and to the
//! incident's chat mirror. Every row carries a unique idempotency key, so a decision that
//! runs twice writes nothing twice.

use crate::{AppResult, Decision, rfc3339};
use serde_json::{Value, json};
use triad_domain::Millis;
use triad_domain::incident::Incident;
use triad_domain::severity::Severity;
use triad_domain::timeline::{EventKind, TimelineEvent};
use triad_domain::user::User;
use triad_store::contact;
use triad_store::notification::{self as outbox, Notification};
use triad_store::reporter::Reporter;
use triad_store::{new_id, user as users};

/// How loudly to reach people: notification rules are chosen per urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Urgency {
    High,
    Low,
}

impl Urgency {
    pub(crate) fn of(severity: Severity) -> Urgency {
        match severity {
            Severity::Sev1 | Severity::Sev2 => Urgency::High,
            Severity::Sev3 | Severity::Sev4 => Urgency::Low,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Urgency::High => "high",
            Urgency::Low => "low",
        }
    }
}

/// A person's contact methods and notification rules.
pub(crate) type Reach = (Vec<contact::ContactMethod>, Vec<contact::Rule>);

/// What to say, once, to whoever receives it.
#[derive(Debug, Clone)]
pub(crate) struct Notice<'a> {
    /// What it is about; `None` for notices about a schedule (a shift handoff).
    pub incident: Option<&'a Incident>,
    /// Why: `page`, `comms_page`, `receipt`, `acknowledged`, `update`, `reminder`, ….
    pub purpose: &'a str,
    /// The idempotency key's stem; the recipient and channel are appended.
    pub key: String,
    pub subject: String,
    pub text: String,
    /// Extra machine-readable detail for webhooks.
    pub data: Value,
    /// Not before this time (a rule's delay).
    pub at: Millis,
}

/// A time of day for people: `14:05 UTC`, or in the reader's own zone.
pub(crate) fn clock_time(ms: Millis, time_zone: Option<&str>) -> String {
    local_time(ms, time_zone, "%H:%M")
}

/// `ms` formatted with `format` (strftime) in the reader's zone (UTC when it has none or
/// an unknown one), followed by the zone's name.
pub(crate) fn local_time(ms: Millis, time_zone: Option<&str>, format: &str) -> String {
    let Ok(ts) = jiff::Timestamp::from_millisecond(ms) else {
        return rfc3339(ms);
    };
    let (tz, name) = match time_zone.and_then(|z| jiff::tz::TimeZone::get(z).ok().map(|t| (t, z))) {
        Some(found) => found,
        None => (jiff::tz::TimeZone::UTC, "UTC"),
    };
    format!("{} {name}", ts.to_zoned(tz).strftime(format))
}

fn incident_json(i: &Incident) -> Value {
    json!({
        "id": i.id, "number": i.number, "title": i.title, "severity": i.severity.as_str(),
        "status": i.status.as_str(), "public_state": i.public_state.as_str(),
        "ack_due_at": i.ack_due_at.map(rfc3339),
    })
}

impl Decision<'_> {
    /// Writes one outbox row; `false` if its key was already used.
    #[allow(clippy::too_many_arguments)]
    async fn put(
        &mut self,
        n: &Notice<'_>,
        key: String,
        user_id: Option<&str>,
        recipient: &str,
        channel: &str,
        address: &str,
        secret: Option<&str>,
        at: Millis,
    ) -> AppResult<bool> {
        let id = new_id();
        let now = self.app.now();
        let event = json!({
            "type": match n.incident {
                Some(_) => format!("incident.{}", n.purpose),
                None => n.purpose.to_string(),
            },
            "notification_id": id,
            "idempotency_key": key,
            "created_at": rfc3339(now),
            "incident": n.incident.map(incident_json),
            "recipient": recipient,
            "subject": n.subject,
            "message": n.text,
            "data": n.data,
        });
        let row = Notification {
            id,
            idempotency_key: key,
            incident_id: n.incident.map(|i| i.id.clone()),
            purpose: n.purpose.to_string(),
            user_id: user_id.map(str::to_string),
            recipient: recipient.to_string(),
            channel: channel.to_string(),
            address: address.to_string(),
            secret: secret.map(str::to_string),
            subject: n.subject.clone(),
            body: n.text.clone(),
            event,
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: at,
            lease_until: None,
            last_error: None,
            created_at: now,
            sent_at: None,
        };
        let added = outbox::enqueue(self.conn(), &row).await?;
        if added {
            self.wake_engine();
        }
        Ok(added)
    }

    /// Sends one notice to an address that belongs to no user (a status page
    /// subscriber, a stakeholder group), signed with `secret` if it is a webhook: `key`
    /// gets the channel appended. `false` if it was sent before.
    pub(crate) async fn send_to_address(
        &mut self,
        n: &Notice<'_>,
        recipient: &str,
        channel: &str,
        address: &str,
        secret: Option<&str>,
    ) -> AppResult<bool> {
        let key = format!("{}:{channel}", n.key);
        self.put(n, key, None, recipient, channel, address, secret, n.at)
            .await
    }

    /// Notifies a person by their notification rules for `urgency` (each rule: a contact
    /// method after a delay). Without rules, every contact method at once; without
    /// contact methods, their account email. Returns the channels used.
    pub(crate) async fn notify_user(
        &mut self,
        user: &User,
        urgency: Urgency,
        n: &Notice<'_>,
    ) -> AppResult<Vec<String>> {
        if !self.reach.contains_key(&user.id) {
            let methods = contact::methods(self.conn(), &user.id).await?;
            let rules = contact::rules(self.conn(), &user.id).await?;
            self.reach.insert(user.id.clone(), (methods, rules));
        }
        let (methods, rules) = self.reach[&user.id].clone();
        let rules: Vec<_> = rules
            .into_iter()
            .filter(|r| r.urgency == "any" || r.urgency == urgency.as_str())
            .collect();
        let mut plan: Vec<(Option<&contact::ContactMethod>, i64)> = Vec::new();
        for r in &rules {
            if let Some(m) = methods.iter().find(|m| m.id == r.contact_method_id) {
                plan.push((Some(m), r.delay_seconds));
            }
        }
        if plan.is_empty() {
            plan = methods.iter().map(|m| (Some(m), 0)).collect();
        }
        if plan.is_empty() {
            plan.push((None, 0));
        }
        let mut used = Vec::new();
        for (method, delay) in plan {
            let (channel, address, secret, tag) = match method {
                Some(m) => (
                    m.kind.as_str(),
                    m.address.as_str(),
                    m.secret.as_deref(),
                    m.id.as_str(),
                ),
                None => ("email", user.email.as_str(), None, "account-email"),
            };
            let key = format!("{}:{}:{tag}:{delay}", n.key, user.id);
            let at = n.at + delay * 1000;
            if self
                .put(
                    n,
                    key,
                    Some(&user.id),
                    &user.name,
                    channel,
                    address,
                    secret,
                    at,
                )
                .await?
            {
                used.push(channel.to_string());
            }
        }
        Ok(used)
    }

    /// Notifies every reporter of the incident by email and/or webhook (a reporter who is
    /// a user also through their own contact methods). `text` gets the reporter's time
    /// zone, so deadlines read in local time.
    pub(crate) async fn notify_reporters(
        &mut self,
        reporters: &[Reporter],
        n: &Notice<'_>,
        text: impl Fn(Option<&str>) -> String,
    ) -> AppResult<usize> {
        let mut sent = 0;
        for r in reporters {
            if let Some(uid) = &r.user_id
                && let Some(user) = users::get(self.conn(), uid).await?
                && user.deactivated_at.is_none()
            {
                let mine = Notice {
                    text: text(Some(&user.time_zone)),
                    key: format!("{}:{}", n.key, r.id),
                    ..n.clone()
                };
                sent += self.notify_user(&user, Urgency::Low, &mine).await?.len();
                continue;
            }
            let mine = Notice {
                text: text(None),
                ..n.clone()
            };
            if let Some(email) = &r.email {
                let key = format!("{}:{}:email", n.key, r.id);
                sent += usize::from(
                    self.put(&mine, key, None, &r.name, "email", email, None, n.at)
                        .await?,
                );
            }
            if let Some(url) = &r.webhook {
                let key = format!("{}:{}:webhook", n.key, r.id);
                let secret = r.webhook_secret.as_deref();
                sent += usize::from(
                    self.put(&mine, key, None, &r.name, "webhook", url, secret, n.at)
                        .await?,
                );
            }
        }
        Ok(sent)
    }

    /// Remembers what an incident locked in this decision says about its chat mirror:
    /// without a service, only the configured default applies (no query needed).
    pub(crate) fn knows(&mut self, incident: &Incident) {
        if incident.service_id.is_none() {
            let default = self.app.config().delivery.chat_webhook.clone();
            self.chat.insert(incident.id.clone(), default);
        }
    }

    /// Remembers an incident's chat mirror read by another query: its service's chat
    /// webhook, else the configured default (the rule `mirror_to_chat` applies).
    pub(crate) fn knows_chat(&mut self, incident_id: &str, service_webhook: Option<String>) {
        let w = service_webhook.or_else(|| self.app.config().delivery.chat_webhook.clone());
        self.chat.insert(incident_id.to_string(), w);
    }

    /// Posts a timeline event to the incident's chat mirror (the service's chat webhook,
    /// else the configured default), formatted for chat. Events about the mirror's own
    /// deliveries are not mirrored, so a broken mirror cannot feed itself.
    pub(crate) async fn mirror_to_chat(&mut self, ev: &TimelineEvent) -> AppResult<()> {
        if matches!(
            ev.kind,
            EventKind::NotificationFailed | EventKind::NotificationDead
        ) && ev.data.get("purpose").and_then(Value::as_str) == Some("chat")
        {
            return Ok(());
        }
        let webhook = match self.chat.get(&ev.incident_id) {
            Some(w) => w.clone(),
            None => {
                let own =
                    triad_store::service::chat_webhook_of_incident(self.conn(), &ev.incident_id)
                        .await?;
                let w = own.or_else(|| self.app.config().delivery.chat_webhook.clone());
                self.chat.insert(ev.incident_id.clone(), w.clone());
                w
            }
        };
        let Some(url) = webhook else {
            return Ok(());
        };
        let Some(incident) = triad_store::incident::get(self.conn(), &ev.incident_id).await? else {
            return Ok(());
        };
        let who = ev.actor_name.as_deref().unwrap_or("Triad");
        let n = Notice {
            incident: Some(&incident),
            purpose: "chat",
            key: format!("chat:{}", ev.id),
            subject: format!(
                "#{} {} [{}]",
                incident.number, incident.title, incident.severity
            ),
            text: format!("*{}* · {} · {}", ev.kind.as_str(), who, ev.body),
            data: json!({"event": ev.kind.as_str(), "seq": ev.seq, "at": rfc3339(ev.at)}),
            at: ev.at,
        };
        let key = n.key.clone();
        self.put(&n, key, None, "chat channel", "slack", &url, None, ev.at)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_times_read_in_the_readers_zone() {
        // 2026-01-01T10:05:00Z
        let t = 1_767_261_900_000;
        assert_eq!(clock_time(t, None), "10:05 UTC");
        assert_eq!(clock_time(t, Some("Europe/Paris")), "11:05 Europe/Paris");
        assert_eq!(clock_time(t, Some("Not/AZone")), "10:05 UTC");
    }
}

//! Email subscriptions to the status page: subscribe (the whole page or a component),
//! confirm by the emailed link (double opt-in), one-click unsubscribe, and the fan-out of
//! every public update to the confirmed subscribers it concerns, once per address.
//!
//! No login: the emailed token is the credential. Only its SHA-256 is stored. Answers
//! never say whether an address was already subscribed.

use crate::outbox::Notice;
use crate::secret::{random_secret, token_hash};
use crate::{App, AppError, AppResult, Decision};
use serde_json::json;
use std::collections::BTreeSet;
use triad_domain::Millis;
use triad_domain::incident::Incident;
use triad_domain::update::{Audience, StatusUpdate};
use triad_domain::validate::Email;
use triad_store::status::{self as page_store, PublicIncident};
use triad_store::subscriber::{self as subscribers, PAGE, Subscriber};
use triad_store::{impact, new_id};

/// A confirmation email is sent again for the same address and scope at most this often.
pub const RESEND_AFTER_MS: Millis = 10 * 60 * 1000;

/// Who subscribes: an email address or a webhook URL.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    Email(&'a str),
    Webhook(&'a str),
}

/// What a subscription request did (for email the answer is the same either way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscribed {
    /// A confirmation email is on its way.
    ConfirmationSent,
    /// A signed confirmation event is on its way; events will be signed with `secret`
    /// (shown this once).
    WebhookPending { secret: String },
    /// Nothing was sent: confirmed already, or a confirmation went out recently.
    NothingToDo,
}

/// What a confirm or unsubscribe link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkResult {
    /// The email address or webhook URL.
    pub email: String,
    /// The component's name, or `None` for the whole page.
    pub component: Option<String>,
    pub page_name: String,
}

impl App {
    /// Subscribes an email address or a webhook URL (`target`) to the page, or to one
    /// component (id or name), and sends the confirmation link — by email, or as a
    /// signed `subscription.confirm` event the webhook's receiver confirms by POSTing
    /// to its `confirm_url`. Nothing is sent again to a confirmed address, nor within
    /// ten minutes of the last confirmation. Needs the page's public address to be
    /// absolute (the links). A webhook subscription answers with its signing secret.
    pub async fn subscribe_to_page(
        &self,
        target: Target<'_>,
        component: Option<&str>,
    ) -> AppResult<Subscribed> {
        let (channel, address) = match target {
            Target::Email(e) => (
                "email",
                Email::parse(e)
                    .map_err(|e| AppError::field("email", e.0))?
                    .as_str()
                    .to_string(),
            ),
            Target::Webhook(url) => (
                "webhook",
                crate::contact::check_url(url.trim())
                    .map(|_| url.trim().to_string())
                    .map_err(|e| AppError::field("webhook", e.0))?,
            ),
        };
        let page = self.status_page().await?;
        if !page.url.starts_with("http") {
            return Err(AppError::conflict(
                "page_url_required",
                "subscriptions need the status page's public address (an administrator sets it with PUT /api/v1/status-page)",
            ));
        }
        let now = self.now();
        let mut d = self.decide().await?;
        let (scope, component_name) = match component.map(str::trim).filter(|c| !c.is_empty()) {
            None => (PAGE.to_string(), None),
            Some(key) => {
                let found = page_store::components(d.conn())
                    .await?
                    .into_iter()
                    .find(|c| c.id == key || c.name == key);
                match found {
                    Some(c) => (c.id, Some(c.name)),
                    None => return Err(AppError::field("component", "no such component")),
                }
            }
        };
        let token = random_secret(40);
        let secret = (channel == "webhook").then(|| random_secret(32));
        let existing = subscribers::live(d.conn(), channel, &address, &scope).await?;
        let sub = match existing {
            Some(s) if s.confirmed_at.is_some() && channel == "webhook" => {
                return Err(AppError::conflict(
                    "already_subscribed",
                    "this webhook is subscribed already; unsubscribe it first to get a new secret",
                ));
            }
            Some(s) if s.confirmed_at.is_some() => return Ok(Subscribed::NothingToDo),
            Some(s) if now - s.confirm_sent_at < RESEND_AFTER_MS => {
                return Ok(Subscribed::NothingToDo);
            }
            Some(mut s) => {
                s.token_hash = token_hash(&token);
                s.confirm_sent_at = now;
                s.secret = secret.clone();
                subscribers::save(d.conn(), &s).await?;
                s
            }
            None => {
                let s = Subscriber {
                    id: new_id(),
                    channel: channel.into(),
                    address: address.clone(),
                    secret: secret.clone(),
                    scope,
                    token_hash: token_hash(&token),
                    unsubscribe_token: random_secret(40),
                    created_at: now,
                    confirm_sent_at: now,
                    confirmed_at: None,
                    unsubscribed_at: None,
                };
                subscribers::insert(d.conn(), &s).await?;
                s
            }
        };
        let what = match &component_name {
            Some(c) => format!("{c} on {}", page.name),
            None => page.name.clone(),
        };
        let link = format!("{}/subscriptions/confirm?token={token}", page.url);
        let unsubscribe = format!(
            "{}/subscriptions/unsubscribe?token={}",
            page.url, sub.unsubscribe_token
        );
        let text = if channel == "email" {
            format!(
                "Someone (hopefully you) asked to receive updates about {what} at this address.\n\n\
                 Confirm the subscription: {link}\n\n\
                 If it was not you, ignore this email: nothing will be sent without confirmation."
            )
        } else {
            format!("POST to {link} to confirm this webhook's subscription to {what}.")
        };
        let n = Notice {
            incident: None,
            purpose: "subscription_confirm",
            key: format!("subscribe:{}:{now}", sub.id),
            subject: format!("Confirm your subscription to {what}"),
            text,
            data: json!({"subscriber_id": sub.id, "scope": sub.scope, "page": page.name,
                "confirm_url": link, "unsubscribe_url": unsubscribe}),
            at: now,
        };
        d.send_to_address(
            &n,
            &sub.address,
            channel,
            &sub.address,
            sub.secret.as_deref(),
        )
        .await?;
        d.commit().await?;
        Ok(match secret {
            Some(secret) => Subscribed::WebhookPending { secret },
            None => Subscribed::ConfirmationSent,
        })
    }

    /// Confirms the subscription the link's token belongs to (again is harmless).
    pub async fn confirm_subscription(&self, token: &str) -> AppResult<LinkResult> {
        self.follow_link(token, true).await
    }

    /// Ends the subscription the link's token belongs to (again is harmless).
    pub async fn unsubscribe(&self, token: &str) -> AppResult<LinkResult> {
        self.follow_link(token, false).await
    }

    async fn follow_link(&self, token: &str, confirm: bool) -> AppResult<LinkResult> {
        let page = self.status_page().await?;
        let mut d = self.decide().await?;
        let token = token.trim();
        let found = if confirm {
            subscribers::by_token(d.conn(), Some(&token_hash(token)), None).await?
        } else {
            subscribers::by_token(d.conn(), None, Some(token)).await?
        };
        let mut sub = found.ok_or(AppError::NotFound("subscription"))?;
        let now = self.now();
        if confirm {
            if sub.unsubscribed_at.is_some() {
                return Err(AppError::conflict(
                    "unsubscribed",
                    "this subscription was ended; subscribe again to receive updates",
                ));
            }
            sub.confirmed_at.get_or_insert(now);
        } else {
            sub.unsubscribed_at.get_or_insert(now);
        }
        subscribers::save(d.conn(), &sub).await?;
        let component = if sub.scope == PAGE {
            None
        } else {
            page_store::get_component(d.conn(), &sub.scope)
                .await?
                .map(|c| c.name)
        };
        d.commit().await?;
        Ok(LinkResult {
            email: sub.address,
            component,
            page_name: page.name,
        })
    }

    /// Makes the signed-in user follow a business service (id or name): its stakeholder
    /// updates reach them through their own contact methods. Again is harmless.
    pub async fn follow_business_service(
        &self,
        actor: &crate::Actor,
        key: &str,
        follow: bool,
    ) -> AppResult<bool> {
        actor.require(triad_domain::user::Permission::Read)?;
        let Some(user) = actor.user_id().map(str::to_string) else {
            return Err(AppError::Forbidden(
                "only a person can follow a business service".into(),
            ));
        };
        let mut d = self.decide().await?;
        let b = triad_store::business_service::find(d.conn(), key.trim())
            .await?
            .ok_or(AppError::NotFound("business service"))?;
        if follow {
            subscribers::follow(d.conn(), &b.id, &user, self.now()).await?;
        } else {
            subscribers::unfollow(d.conn(), &b.id, &user).await?;
        }
        d.commit().await?;
        Ok(follow)
    }

    /// Whether the signed-in user follows a business service.
    pub async fn follows_business_service(
        &self,
        actor: &crate::Actor,
        key: &str,
    ) -> AppResult<bool> {
        actor.require(triad_domain::user::Permission::Read)?;
        let mut conn = self.store().read().await?;
        let b = triad_store::business_service::find(&mut conn, key.trim())
            .await?
            .ok_or(AppError::NotFound("business service"))?;
        let followers = subscribers::followers(&mut conn, &b.id).await?;
        Ok(actor
            .user_id()
            .is_some_and(|u| followers.iter().any(|f| f == u)))
    }

    /// `(confirmed, awaiting confirmation)` subscriptions, for administrators.
    pub async fn subscriber_counts(&self, actor: &crate::Actor) -> AppResult<(i64, i64)> {
        actor.require(triad_domain::user::Permission::Administer)?;
        let mut conn = self.store().read().await?;
        Ok(subscribers::counts(&mut conn).await?)
    }
}

/// The template stage of an update: `resolved` for one that says so, else `update`.
fn stage_of(update: &StatusUpdate) -> &'static str {
    if update.state == triad_domain::incident::PublicState::Resolved {
        "resolved"
    } else {
        "update"
    }
}

impl Decision<'_> {
    /// Emails a public update to every confirmed subscriber it concerns: subscribers of
    /// the whole page, and of each component the incident affects (and their groups).
    /// One email per address and update, whatever number of its subscriptions match,
    /// with a one-click unsubscribe link for each of them.
    pub(crate) async fn notify_subscribers(
        &mut self,
        incident: &Incident,
        update: &StatusUpdate,
        public_name: &str,
    ) -> AppResult<usize> {
        let Some(page) = page_store::page(self.conn()).await? else {
            return Ok(0);
        };
        let components = page_store::components(self.conn()).await?;
        let probe = PublicIncident {
            id: incident.id.clone(),
            name: public_name.to_string(),
            created_at: update.published_at,
            updated_at: update.published_at,
            started_at: incident.created_at,
            state: update.state,
            severity: incident.severity,
            service_id: incident.service_id.clone(),
            updates: Vec::new(),
            impacts: impact::list(self.conn(), &incident.id).await?,
        };
        let mut scopes: BTreeSet<String> = BTreeSet::from([PAGE.to_string()]);
        for c in &components {
            if !c.is_group && crate::status::affects(c, &probe).is_some() {
                scopes.insert(c.id.clone());
                if let Some(g) = &c.group_id {
                    scopes.insert(g.clone());
                }
            }
        }
        let scopes: Vec<String> = scopes.into_iter().collect();
        // Sorted by email: each address's subscriptions are adjacent.
        let subs = subscribers::confirmed(self.conn(), &scopes).await?;
        if subs.is_empty() {
            return Ok(0);
        }
        let stage = stage_of(update);
        let default_text = format!(
            "{public_name} — {}\n\n{}\n\nPosted {} on {}: {}/incidents/{}",
            update.state.as_str(),
            update.message,
            crate::rfc3339(update.published_at),
            page.name,
            page.url,
            incident.id,
        );
        let base = Notice {
            incident: Some(incident),
            purpose: "subscriber_update",
            key: format!("subscriber:{}", update.id),
            subject: format!("[{}] {public_name}: {}", page.name, update.state.as_str()),
            text: String::new(),
            data: json!({"update_id": update.id}),
            at: update.published_at,
        };
        // The template (if any) words the update; the unsubscribe links always follow.
        let (subject, words) = self
            .templated(
                Audience::Public,
                stage,
                &base,
                Some(update),
                None,
                &default_text,
            )
            .await?;
        let mut sent = 0;
        for mine in subs.chunk_by(|a, b| (&a.channel, &a.address) == (&b.channel, &b.address)) {
            let (channel, email) = (mine[0].channel.as_str(), &mine[0].address);
            let links: Vec<String> = mine
                .iter()
                .map(|s| {
                    let what = match components.iter().find(|c| c.id == s.scope) {
                        Some(c) => format!("updates about {}", c.name),
                        None => "all updates".to_string(),
                    };
                    format!(
                        "Stop {what} with one click: {}/subscriptions/unsubscribe?token={}",
                        page.url, s.unsubscribe_token
                    )
                })
                .collect();
            let n = if channel == "webhook" {
                // A webhook gets public facts only, as data: never the incident itself
                // (its title and internal fields are not for subscribers).
                Notice {
                    incident: None,
                    key: format!("subscriber:{}:{email}", update.id),
                    subject: subject.clone(),
                    text: words.clone(),
                    data: json!({"update_id": update.id, "incident_id": incident.id,
                        "name": public_name, "state": update.state.as_str(),
                        "message": update.message, "published_at": crate::rfc3339(update.published_at),
                        "page": page.name, "url": format!("{}/incidents/{}", page.url, incident.id),
                        "unsubscribe_urls": mine.iter().map(|s| format!(
                            "{}/subscriptions/unsubscribe?token={}", page.url, s.unsubscribe_token
                        )).collect::<Vec<_>>()}),
                    ..base.clone()
                }
            } else {
                Notice {
                    key: format!("subscriber:{}:{email}", update.id),
                    subject: subject.clone(),
                    text: format!("{words}\n\n{}", links.join("\n")),
                    ..base.clone()
                }
            };
            let secret = mine[0].secret.as_deref();
            if self
                .send_to_address(&n, email, channel, email, secret)
                .await?
            {
                sent += 1;
            }
        }
        Ok(sent)
    }
}

impl Decision<'_> {
    /// Sends a stakeholder update to the stakeholder groups of the business services the
    /// incident affects: those with recorded impact (other than `none`), or, with none
    /// recorded, those that depend on the incident's service. Each group's emails and
    /// chat webhook once per update, whatever number of groups name them.
    pub(crate) async fn notify_stakeholder_groups(
        &mut self,
        incident: &Incident,
        update: &StatusUpdate,
    ) -> AppResult<usize> {
        let impacts = impact::list(self.conn(), &incident.id).await?;
        let mut ids: Vec<String> = impacts
            .iter()
            .filter(|i| i.impact != triad_domain::status::Impact::None)
            .map(|i| i.business_service_id.clone())
            .collect();
        if impacts.is_empty()
            && let Some(service) = &incident.service_id
        {
            ids = triad_store::business_service::depending_on(self.conn(), service).await?;
        }
        let mut sent = 0;
        let mut seen = BTreeSet::new();
        for id in ids {
            let Some(b) = triad_store::business_service::find(self.conn(), &id).await? else {
                continue;
            };
            let impact = impacts
                .iter()
                .find(|i| i.business_service_id == b.id)
                .map(|i| i.impact.as_str())
                .unwrap_or("not assessed");
            for group in &b.stakeholder_groups {
                let default_text = format!(
                    "Stakeholder update on #{} {} ({}), {}:\n\n{}\n\nBusiness service: {} (tier {}), impact: {impact}.\n\
                     You receive this as a member of the stakeholder group \"{}\".",
                    incident.number,
                    incident.title,
                    incident.severity.as_str(),
                    update.state.as_str(),
                    update.message,
                    b.name,
                    b.tier,
                    group.name,
                );
                let mut n = Notice {
                    incident: Some(incident),
                    purpose: "stakeholder_update",
                    key: format!("stakeholders:{}", update.id),
                    subject: format!(
                        "[{}] #{} {}: {}",
                        incident.severity.as_str(),
                        incident.number,
                        incident.title,
                        update.state.as_str()
                    ),
                    text: String::new(),
                    data: json!({"update_id": update.id, "business_service": b.name,
                        "tier": b.tier, "impact": impact, "group": group.name}),
                    at: update.published_at,
                };
                let (subject, text) = self
                    .templated(
                        Audience::Stakeholders,
                        stage_of(update),
                        &n,
                        Some(update),
                        None,
                        &default_text,
                    )
                    .await?;
                n.subject = subject;
                n.text = text;
                for email in &group.emails {
                    if seen.insert(email.to_lowercase()) {
                        let key = Notice {
                            key: format!("{}:{}", n.key, email.to_lowercase()),
                            ..n.clone()
                        };
                        sent += usize::from(
                            self.send_to_address(&key, &group.name, "email", email, None)
                                .await?,
                        );
                    }
                }
                if let Some(url) = &group.chat_webhook
                    && seen.insert(url.clone())
                {
                    let key = Notice {
                        key: format!("{}:{}", n.key, url),
                        ..n.clone()
                    };
                    sent += usize::from(
                        self.send_to_address(&key, &group.name, "slack", url, None)
                            .await?,
                    );
                }
            }
            // People following the business service, through their own contact
            // methods (their account email at least), once each.
            for uid in subscribers::followers(self.conn(), &b.id).await? {
                let Some(user) = triad_store::user::get(self.conn(), &uid).await? else {
                    continue;
                };
                if user.deactivated_at.is_some() || !seen.insert(format!("user:{uid}")) {
                    continue;
                }
                if !seen.insert(user.email.to_lowercase()) {
                    continue; // a group already emails them
                }
                let text = format!(
                    "Stakeholder update on #{} {} ({}), {}:\n\n{}\n\nYou follow the business service {}.",
                    incident.number,
                    incident.title,
                    incident.severity.as_str(),
                    update.state.as_str(),
                    update.message,
                    b.name,
                );
                let n = Notice {
                    incident: Some(incident),
                    purpose: "stakeholder_update",
                    key: format!("stakeholders:{}:follower", update.id),
                    subject: format!(
                        "[{}] #{} {}: {}",
                        incident.severity.as_str(),
                        incident.number,
                        incident.title,
                        update.state.as_str()
                    ),
                    text,
                    data: json!({"update_id": update.id, "business_service": b.name,
                        "tier": b.tier, "impact": impact, "group": "followers"}),
                    at: update.published_at,
                };
                let (subject, text) = self
                    .templated(
                        Audience::Stakeholders,
                        stage_of(update),
                        &n,
                        Some(update),
                        None,
                        &n.text,
                    )
                    .await?;
                let n = Notice {
                    subject,
                    text,
                    ..n.clone()
                };
                sent += self
                    .notify_user(&user, crate::outbox::Urgency::Low, &n)
                    .await?
                    .len();
            }
        }
        Ok(sent)
    }
}

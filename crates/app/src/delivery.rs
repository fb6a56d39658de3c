//! Delivery bookkeeping for the outbox: claiming due notifications (grouped per
//! destination, rate limited), and recording each attempt's outcome with exponential
//! backoff, jitter, `Retry-After` and dead letters. Failures and dead letters are
//! written to the incident's timeline in the same transaction.

use crate::{Actor, App, AppResult};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use triad_domain::Millis;
use triad_domain::timeline::EventKind;
use triad_store::notification::{self as outbox, Notification};

/// How the outbox is delivered. Lives under `[delivery]` in the configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    /// Attempts before a notification is dead-lettered.
    pub max_attempts: u32,
    /// The wait after the first failed attempt; it doubles with every further failure.
    pub backoff_base_seconds: u32,
    /// The longest wait between attempts.
    pub backoff_max_seconds: u32,
    /// Most messages one destination (an address on a channel) gets per minute; the rest
    /// wait for the next minute.
    pub rate_limit_per_minute: u32,
    /// A Slack- or Mattermost-compatible incoming webhook that mirrors the timeline of
    /// every incident whose service names none.
    pub chat_webhook: Option<String>,
    /// How long a worker holds a claimed notification before another may retry it.
    pub lease_seconds: u32,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            max_attempts: 8,
            backoff_base_seconds: 10,
            backoff_max_seconds: 900,
            rate_limit_per_minute: 30,
            chat_webhook: None,
            lease_seconds: 120,
        }
    }
}

/// The wait before attempt `failures + 1`, after `failures` failed attempts (≥ 1):
/// `base × 2^(failures−1)`, capped, times a jitter factor in [0.8, 1.2) derived from the
/// notification id (so retries of many notifications spread out, yet a run is
/// reproducible), and never shorter than the destination's `Retry-After`.
pub fn backoff(cfg: &DeliveryConfig, failures: u32, retry_after_ms: Option<i64>, id: &str) -> i64 {
    let exp = failures.saturating_sub(1).min(30);
    let raw = (i64::from(cfg.backoff_base_seconds) * 1000).saturating_mul(1i64 << exp);
    let capped = raw.min(i64::from(cfg.backoff_max_seconds) * 1000).max(1000);
    let digest = Sha256::digest(format!("{id}:{failures}").as_bytes());
    let r = u16::from_be_bytes([digest[0], digest[1]]);
    let factor = 0.8 + 0.4 * f64::from(r) / 65536.0;
    let jittered = (capped as f64 * factor) as i64;
    jittered.max(retry_after_ms.unwrap_or(0))
}

/// Notifications to send together: one destination's due messages (a burst of pages to
/// one phone becomes one SMS). Webhook notifications always travel alone.
#[derive(Debug, Clone)]
pub struct Batch {
    pub items: Vec<Notification>,
}

/// What one attempt came to, as the engine reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    Delivered {
        detail: Option<String>,
    },
    Retry {
        error: String,
        retry_after_ms: Option<i64>,
    },
    Rejected {
        error: String,
    },
}

impl App {
    /// Claims up to `limit` due notifications, grouped into batches per destination.
    /// A destination over its rate limit is deferred to the next minute instead.
    pub async fn claim_deliveries(&self, now: Millis, limit: u32) -> AppResult<Vec<Batch>> {
        let cfg = &self.config().delivery;
        let mut d = self.decide().await?;
        let lease = now + i64::from(cfg.lease_seconds) * 1000;
        let claimed = outbox::claim(d.conn(), now, lease, limit).await?;
        let mut batches: Vec<Batch> = Vec::new();
        for n in claimed {
            let joins = n.channel != "webhook";
            match batches.iter_mut().find(|b| {
                joins && b.items[0].channel == n.channel && b.items[0].address == n.address
            }) {
                Some(b) => b.items.push(n),
                None => batches.push(Batch { items: vec![n] }),
            }
        }
        let mut out = Vec::with_capacity(batches.len());
        for b in batches {
            let first = &b.items[0];
            let recent =
                outbox::sent_since(d.conn(), &first.channel, &first.address, now - 60_000).await?;
            if recent >= i64::from(cfg.rate_limit_per_minute) {
                // Everything due for this destination waits for the next minute.
                let ids: Vec<&str> = b.items.iter().map(|n| n.id.as_str()).collect();
                outbox::defer_destination(
                    d.conn(),
                    &first.channel,
                    &first.address,
                    &ids,
                    now,
                    now + 60_000,
                )
                .await?;
                tracing::info!(channel = %first.channel, count = b.items.len(), "destination over its rate limit; deferred a minute");
            } else {
                out.push(b);
            }
        }
        d.commit().await?;
        Ok(out)
    }

    /// Records the outcome of one attempt for every notification of a batch.
    pub async fn record_delivery(&self, batch: &Batch, attempt: &Attempt) -> AppResult<()> {
        let cfg = &self.config().delivery;
        let now = self.now();
        let mut d = self.decide().await?;
        for n in &batch.items {
            let mut n = n.clone();
            n.attempts += 1;
            let mut event = None;
            match attempt {
                Attempt::Delivered { .. } => {
                    n.status = "sent".into();
                    n.sent_at = Some(now);
                    n.last_error = None;
                }
                Attempt::Retry {
                    error,
                    retry_after_ms,
                } => {
                    n.last_error = Some(error.clone());
                    if n.attempts >= i64::from(cfg.max_attempts) {
                        n.status = "dead".into();
                        event = Some((
                            EventKind::NotificationDead,
                            format!(
                                "Gave up on the {} to {} by {} after {} attempts: {error}",
                                n.purpose, n.recipient, n.channel, n.attempts
                            ),
                        ));
                    } else {
                        n.status = "failed".into();
                        let wait = backoff(cfg, n.attempts as u32, *retry_after_ms, &n.id);
                        n.next_attempt_at = now + wait;
                        event = Some((
                            EventKind::NotificationFailed,
                            format!(
                                "The {} to {} by {} failed (attempt {}): {error}; retrying at {}",
                                n.purpose,
                                n.recipient,
                                n.channel,
                                n.attempts,
                                crate::rfc3339(n.next_attempt_at)
                            ),
                        ));
                    }
                }
                Attempt::Rejected { error } => {
                    n.status = "dead".into();
                    n.last_error = Some(error.clone());
                    event = Some((
                        EventKind::NotificationDead,
                        format!(
                            "The {} to {} by {} was refused and will not be retried: {error}",
                            n.purpose, n.recipient, n.channel
                        ),
                    ));
                }
            }
            let changed = outbox::finish(d.conn(), &n).await?;
            if let (true, Some((kind, body)), Some(incident_id)) = (changed, event, &n.incident_id)
            {
                let data = json!({
                    "notification_id": n.id, "purpose": n.purpose, "channel": n.channel,
                    "recipient": n.recipient, "attempts": n.attempts, "status": n.status,
                    "error": n.last_error,
                    "next_attempt_at": (n.status == "failed").then(|| crate::rfc3339(n.next_attempt_at)),
                });
                d.system_event(incident_id, kind, body, data).await?;
            }
            if n.status == "failed" {
                d.wake_engine();
            }
        }
        d.commit().await?;
        Ok(())
    }

    /// An incident's notifications, oldest first, with their delivery status.
    pub async fn notifications(&self, actor: &Actor, key: &str) -> AppResult<Vec<Notification>> {
        actor.require(triad_domain::user::Permission::Read)?;
        let mut conn = self.store().read().await?;
        let incident = triad_store::incident::get(&mut conn, key)
            .await?
            .ok_or(crate::AppError::NotFound("incident"))?;
        Ok(outbox::list(&mut conn, &incident.id).await?)
    }

    /// The engine's backlog for `/metrics`: pending timers, how far behind the most
    /// overdue timer is (ms, 0 when none is due), and notifications per status.
    pub async fn engine_gauges(&self) -> AppResult<(i64, i64, Vec<(String, i64)>)> {
        let mut conn = self.store().read().await?;
        let timers = triad_store::timer::count(&mut conn).await?;
        let behind = triad_store::timer::next_due(&mut conn)
            .await?
            .map_or(0, |due| (self.now() - due).max(0));
        let by_status = outbox::count_by_status(&mut conn).await?;
        Ok((timers, behind, by_status))
    }

    /// When the next timer falls due.
    pub async fn next_timer_at(&self) -> AppResult<Option<Millis>> {
        let mut conn = self.store().read().await?;
        Ok(triad_store::timer::next_due(&mut conn).await?)
    }

    /// When the next notification can be claimed.
    pub async fn next_delivery_at(&self) -> AppResult<Option<Millis>> {
        let mut conn = self.store().read().await?;
        Ok(outbox::next_due(&mut conn).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        let cfg = DeliveryConfig::default();
        let waits: Vec<i64> = (1..=8).map(|f| backoff(&cfg, f, None, "n1")).collect();
        for w in waits.windows(2).take(5) {
            assert!(w[1] > w[0], "{waits:?}");
        }
        assert!(waits[0] >= 8_000 && waits[0] < 12_000, "{waits:?}");
        assert!(waits.iter().all(|w| *w < 900_000 * 12 / 10));
        assert_eq!(backoff(&cfg, 1, Some(600_000), "n1"), 600_000);
        assert_ne!(backoff(&cfg, 3, None, "a"), backoff(&cfg, 3, None, "b"));
    }
}

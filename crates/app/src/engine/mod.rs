//! The engine's decisions: what happens when an incident is declared, acknowledged,
//! updated, resolved or reopened (hooks called inside those use cases' transactions),
//! and what each durable timer does when it fires. The clock-driven loop that fires
//! timers and delivers the outbox lives in the `triad-engine` crate.

pub(crate) mod escalate;
pub(crate) mod handoff;
pub(crate) mod hooks;
mod obligations;
pub(crate) mod staffing;

use crate::{App, AppError, AppResult};
use triad_domain::Millis;
use triad_domain::update::Audience;
use triad_store::incident as incidents;
use triad_store::timer::{self, Timer};

/// Takes an escalation run's next step. Subject: the run id.
pub const TIMER_ESCALATE: &str = "escalate";
/// The acknowledgement deadline. Subject: the incident id.
pub const TIMER_ACK_DUE: &str = "ack_due";
/// Reminds the coordinator an update is due soon. Subject: `incident:audience`.
pub const TIMER_REMIND: &str = "remind";
/// An update falls due. Subject: `incident:audience`.
pub const TIMER_UPDATE_DUE: &str = "update_due";

pub(crate) fn audience_subject(incident_id: &str, audience: Audience) -> String {
    format!("{incident_id}:{}", audience.as_str())
}

fn split_subject(subject: &str) -> AppResult<(&str, Audience)> {
    let (incident, audience) = subject
        .rsplit_once(':')
        .ok_or_else(|| AppError::Internal(format!("malformed timer subject {subject:?}")))?;
    let audience = Audience::parse(audience)
        .map_err(|e| AppError::Internal(format!("timer subject {subject:?}: {e}")))?;
    Ok((incident, audience))
}

impl App {
    /// Up to `limit` timers due at `now`, earliest first.
    pub async fn due_timers(&self, now: Millis, limit: u32) -> AppResult<Vec<Timer>> {
        let mut conn = self.store().read().await?;
        Ok(timer::due(&mut conn, now, limit).await?)
    }

    /// Fires one timer in one transaction: claims it (by generation) and acts on it, or
    /// neither. `false` when it had already fired, moved or been cancelled.
    pub async fn fire_timer(&self, t: &Timer) -> AppResult<bool> {
        Ok(self.fire_timers(std::slice::from_ref(t)).await?[0])
    }

    /// Fires several timers in ONE transaction (one commit for the lot): each is claimed
    /// by its generation and acted on, and all of it commits or none of it does. Returns,
    /// per timer, whether it fired (`false`: it had already fired, moved or been
    /// cancelled). On an error nothing is changed; the caller retries one by one.
    pub async fn fire_timers(&self, timers: &[Timer]) -> AppResult<Vec<bool>> {
        let now = self.now();
        let mut d = self.decide().await?;
        let fired = timer::take_many(d.conn(), timers).await?;
        for (t, took) in timers.iter().zip(&fired) {
            if *took {
                act(&mut d, t, now).await?;
            }
        }
        d.commit().await?;
        Ok(fired)
    }
}

/// What a claimed timer does.
async fn act(d: &mut crate::Decision<'_>, t: &Timer, now: Millis) -> AppResult<()> {
    match t.kind.as_str() {
        TIMER_ESCALATE => {
            let Some(run) = triad_store::escalation::get_run(d.conn(), &t.subject).await? else {
                return Ok(());
            };
            let mut incident = incidents::lock(d.conn(), &run.incident_id)
                .await?
                .ok_or(AppError::NotFound("incident"))?;
            d.knows(&incident);
            hooks::escalation_due(d, &mut incident, run, now).await?;
        }
        TIMER_ACK_DUE => {
            if let Some(incident) = incidents::lock(d.conn(), &t.subject).await? {
                d.knows(&incident);
                hooks::ack_overdue(d, &incident, now).await?;
            }
        }
        TIMER_REMIND | TIMER_UPDATE_DUE => {
            let (incident_id, audience) = split_subject(&t.subject)?;
            if let Some(mut incident) = incidents::lock(d.conn(), incident_id).await? {
                d.knows(&incident);
                if t.kind == TIMER_REMIND {
                    obligations::remind(d, &incident, audience, now).await?;
                } else {
                    obligations::overdue(d, &mut incident, audience, now).await?;
                }
            }
        }
        handoff::TIMER_HANDOFF => handoff::fire(d, &t.subject, t.due_at, now).await?,
        other => {
            tracing::warn!(kind = other, subject = %t.subject, "unknown timer kind; dropped");
        }
    }
    Ok(())
}

impl App {
    /// Pending timers of an incident (for the API and tests): (kind, subject, due).
    pub async fn incident_timers(&self, incident_id: &str) -> AppResult<Vec<Timer>> {
        let mut conn = self.store().read().await?;
        let mut out = timer::for_subject(&mut conn, incident_id).await?;
        for run in triad_store::escalation::runs(&mut conn, incident_id, true).await? {
            out.extend(timer::for_subject(&mut conn, &run.id).await?);
        }
        out.sort_by_key(|t| t.due_at);
        Ok(out)
    }
}

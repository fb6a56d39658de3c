//! Communication obligations: per audience, when the next update is due, when the
//! coordinator is reminded, and how late each update was. Pure arithmetic over an
//! explicit `now`; the app turns the results into rows and timers.

use crate::Millis;
use crate::policy::{Cadence, SeverityPolicy};
use crate::update::Audience;
use serde::{Deserialize, Serialize};

/// One audience's obligation on one incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Obligation {
    pub audience: Audience,
    /// The next update is due at this time.
    pub due_at: Millis,
    /// The coordinator is reminded at this time (before `due_at`).
    pub remind_at: Millis,
    /// Set when the deadline passed without an update; cleared by the next update.
    pub overdue_since: Option<Millis>,
}

/// When to remind before a deadline `interval_ms` away: `lead_seconds` ahead, but never
/// earlier than half the interval (so a short cadence is not reminded at once).
pub fn remind_at(due_at: Millis, interval_ms: i64, lead_seconds: u32) -> Millis {
    let lead = (i64::from(lead_seconds) * 1000).min(interval_ms / 2);
    due_at - lead.max(0)
}

/// The obligations that start when the incident is acknowledged at `now`: one per
/// audience with a cadence, the first update due `first_after_ack_seconds` later.
pub fn on_acknowledge(policy: &SeverityPolicy, now: Millis) -> Vec<Obligation> {
    policy
        .cadence
        .iter()
        .map(|(audience, c)| start(*audience, c, policy.reminder_lead_seconds, now))
        .collect()
}

fn start(audience: Audience, c: &Cadence, lead: u32, now: Millis) -> Obligation {
    let interval = i64::from(c.first_after_ack_seconds) * 1000;
    let due_at = now + interval;
    Obligation {
        audience,
        due_at,
        remind_at: remind_at(due_at, interval, lead),
        overdue_since: None,
    }
}

/// What a published update does to its audience's obligation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fulfilment {
    /// The deadline this update answered.
    pub was_due_at: Millis,
    /// How late it was (0 when on time).
    pub late_by_ms: i64,
    /// The next deadline.
    pub next: Obligation,
}

/// An update for `ob.audience` published at `now`: record lateness and restart the clock.
pub fn on_update(ob: &Obligation, cadence: &Cadence, lead_seconds: u32, now: Millis) -> Fulfilment {
    let interval = i64::from(cadence.every_seconds) * 1000;
    let due_at = now + interval;
    Fulfilment {
        was_due_at: ob.due_at,
        late_by_ms: (now - ob.due_at).max(0),
        next: Obligation {
            audience: ob.audience,
            due_at,
            remind_at: remind_at(due_at, interval, lead_seconds),
            overdue_since: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::SeverityPolicies;
    use crate::severity::Severity;
    use proptest::prelude::*;

    #[test]
    fn sev1_first_updates_are_due_five_and_ten_minutes_after_ack() {
        let p = SeverityPolicies::default();
        let obs = on_acknowledge(p.get(Severity::Sev1), 1_000_000);
        let due = |a| obs.iter().find(|o| o.audience == a).unwrap().due_at;
        assert_eq!(due(Audience::Public), 1_300_000);
        assert_eq!(due(Audience::Reporters), 1_300_000);
        assert_eq!(due(Audience::Stakeholders), 1_600_000);
        // Default lead is two minutes; the five-minute deadline is reminded at three.
        let o = obs.iter().find(|o| o.audience == Audience::Public).unwrap();
        assert_eq!(o.remind_at, 1_180_000);
        assert!(on_acknowledge(p.get(Severity::Sev4), 0).is_empty());
    }

    #[test]
    fn a_late_update_records_lateness_and_restarts_the_cadence() {
        let c = Cadence {
            first_after_ack_seconds: 300,
            every_seconds: 1200,
        };
        let ob = start(Audience::Public, &c, 120, 0);
        let f = on_update(&ob, &c, 120, 420_000);
        assert_eq!(f.late_by_ms, 120_000);
        assert_eq!(f.next.due_at, 420_000 + 1_200_000);
        assert_eq!(on_update(&ob, &c, 120, 100_000).late_by_ms, 0);
    }

    proptest! {
        /// The reminder always falls strictly before the deadline and never before the
        /// moment the obligation started.
        #[test]
        fn reminders_fall_inside_the_interval(
            start_at in 0i64..10_000_000_000,
            interval_s in 1u32..100_000,
            lead in 0u32..100_000,
        ) {
            let interval = i64::from(interval_s) * 1000;
            let due = start_at + interval;
            let r = remind_at(due, interval, lead);
            prop_assert!(r <= due);
            prop_assert!(r >= start_at);
            if lead > 0 { prop_assert!(r < due); }
        }
    }
}

//! Severity policies: per severity, the ack deadline, the staffing rule and the update
//! cadence per audience. Defaults follow PRODUCT.md §3 and are documented in
//! `docs/configuration.md`.

use crate::Millis;
use crate::role::{IncidentRole, Staffing};
use crate::severity::Severity;
use crate::update::Audience;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How often one audience must hear from the incident team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cadence {
    /// The first update is due this long after acknowledgement.
    pub first_after_ack_seconds: u32,
    /// Then at least this often.
    pub every_seconds: u32,
}

/// The rules one severity runs by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityPolicy {
    /// The incident must be acknowledged this long after it is declared.
    pub ack_deadline_seconds: u32,
    pub staffing: Staffing,
    /// Audiences with a cadence must be updated; an audience absent here has none.
    #[serde(default)]
    pub cadence: BTreeMap<Audience, Cadence>,
    /// The coordinator is reminded this long before an update is due.
    #[serde(default = "default_reminder_lead")]
    pub reminder_lead_seconds: u32,
    /// The escalation policy paged for incidents of this severity whose service names
    /// none (an escalation policy id).
    #[serde(default)]
    pub escalation_policy: Option<String>,
    /// The communications escalation policy: who is paged, level by level, when an
    /// update is overdue or someone asks for one (coordinator → manager on duty → head
    /// of support). Without one, the coordinator is paged, then the administrators.
    #[serde(default)]
    pub comms_escalation_policy: Option<String>,
}

/// Two minutes.
pub const DEFAULT_REMINDER_LEAD_SECONDS: u32 = 120;

fn default_reminder_lead() -> u32 {
    DEFAULT_REMINDER_LEAD_SECONDS
}

impl SeverityPolicy {
    /// When an incident declared at `declared_at` must be acknowledged by.
    pub fn ack_due(&self, declared_at: Millis) -> Millis {
        declared_at + i64::from(self.ack_deadline_seconds) * 1000
    }
}

/// One policy per severity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityPolicies(pub BTreeMap<Severity, SeverityPolicy>);

fn cadence(first_min: u32, every_min: u32) -> Cadence {
    Cadence {
        first_after_ack_seconds: first_min * 60,
        every_seconds: every_min * 60,
    }
}

impl Default for SeverityPolicies {
    /// SEV1: acknowledge within 5 minutes; responder, observer and coordinator, three
    /// different people; public and reporters first within 5 minutes of acknowledgement
    /// then every 20, stakeholders first within 10 then every 30.
    /// SEV2: 15 minutes; responder and coordinator, distinct; every 30 / 30 / 60.
    /// SEV3: 30 minutes; a responder; reporters and stakeholders every 60 / 120.
    /// SEV4: 4 hours; a responder; no cadence.
    fn default() -> Self {
        use Audience::*;
        use IncidentRole::*;
        let p = |ack_min: u32,
                 required: Vec<IncidentRole>,
                 distinct: bool,
                 c: Vec<(Audience, Cadence)>| {
            SeverityPolicy {
                ack_deadline_seconds: ack_min * 60,
                staffing: Staffing { required, distinct },
                cadence: c.into_iter().collect(),
                reminder_lead_seconds: DEFAULT_REMINDER_LEAD_SECONDS,
                escalation_policy: None,
                comms_escalation_policy: None,
            }
        };
        SeverityPolicies(BTreeMap::from([
            (
                Severity::Sev1,
                p(
                    5,
                    vec![Responder, Observer, Coordinator],
                    true,
                    vec![
                        (Public, cadence(5, 20)),
                        (Reporters, cadence(5, 20)),
                        (Stakeholders, cadence(10, 30)),
                    ],
                ),
            ),
            (
                Severity::Sev2,
                p(
                    15,
                    vec![Responder, Coordinator],
                    true,
                    vec![
                        (Public, cadence(15, 30)),
                        (Reporters, cadence(15, 30)),
                        (Stakeholders, cadence(30, 60)),
                    ],
                ),
            ),
            (
                Severity::Sev3,
                p(
                    30,
                    vec![Responder],
                    false,
                    vec![
                        (Reporters, cadence(30, 60)),
                        (Stakeholders, cadence(60, 120)),
                    ],
                ),
            ),
            (Severity::Sev4, p(240, vec![Responder], false, vec![])),
        ]))
    }
}

impl SeverityPolicies {
    /// The policy for `severity`; every severity has one (missing entries in a
    /// configuration file are filled from the defaults when it is loaded).
    pub fn get(&self, severity: Severity) -> &SeverityPolicy {
        self.0
            .get(&severity)
            .expect("SeverityPolicies always holds all four severities")
    }

    /// Overlays `overrides` on the defaults.
    pub fn with_overrides(overrides: BTreeMap<Severity, SeverityPolicy>) -> Self {
        let mut all = Self::default();
        all.0.extend(overrides);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_cover_every_severity_and_match_the_product_spec() {
        let p = SeverityPolicies::default();
        for s in Severity::ALL {
            let _ = p.get(s);
        }
        let sev1 = p.get(Severity::Sev1);
        assert_eq!(sev1.ack_due(1_000), 301_000);
        assert_eq!(sev1.cadence[&Audience::Public].first_after_ack_seconds, 300);
        assert_eq!(sev1.cadence[&Audience::Public].every_seconds, 1200);
        assert_eq!(sev1.cadence[&Audience::Stakeholders].every_seconds, 1800);
        assert!(sev1.staffing.distinct);
        assert!(p.get(Severity::Sev4).cadence.is_empty());
    }

    #[test]
    fn overrides_replace_only_what_they_name() {
        let mut custom = SeverityPolicies::default().get(Severity::Sev2).clone();
        custom.ack_deadline_seconds = 60;
        let p = SeverityPolicies::with_overrides(BTreeMap::from([(Severity::Sev2, custom)]));
        assert_eq!(p.get(Severity::Sev2).ack_deadline_seconds, 60);
        assert_eq!(
            p.get(Severity::Sev1),
            SeverityPolicies::default().get(Severity::Sev1)
        );
    }
}

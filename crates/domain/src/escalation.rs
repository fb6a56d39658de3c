//! Escalation policies and the `advance` kernel: which level to page next, when, and when
//! the policy is exhausted. A running escalation works on a frozen [`Snapshot`], so an
//! edit to the policy never changes an escalation already under way.

use crate::Millis;
use crate::role::IncidentRole;
use crate::validate::Validation;
use serde::{Deserialize, Serialize};

/// Most levels a policy may have, and most targets per level.
pub const MAX_LEVELS: usize = 20;
pub const MAX_TARGETS: usize = 20;
/// Most times the whole policy may be repeated after the first pass.
pub const MAX_REPEAT: u32 = 9;
/// Longest wait at one level (one day).
pub const MAX_DELAY_SECONDS: u32 = 86_400;

/// Who a level pages. `schedule` names an on-call schedule (resolved to whoever is on call
/// when the level is paged); `incident_role` pages whoever holds that role on the incident
/// (the coordinator, say) at that moment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Target {
    User { id: String },
    Schedule { id: String },
    IncidentRole { role: IncidentRole },
}

impl Target {
    /// A short description for timeline text ("user 0190…", "the coordinator").
    pub fn describe(&self) -> String {
        match self {
            Target::User { id } => format!("user {id}"),
            Target::Schedule { id } => format!("schedule {id}"),
            Target::IncidentRole { role } => format!("the incident's {}", role.as_str()),
        }
    }
}

/// One step of a policy: page `targets`, then wait `delay_seconds` for an acknowledgement
/// before moving on to the next level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    pub delay_seconds: u32,
    pub targets: Vec<Target>,
}

/// A stored escalation policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationPolicy {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub levels: Vec<Level>,
    /// How many more times the levels run after the first pass.
    pub repeat: u32,
    /// Told when the policy is exhausted; `None` means every active administrator.
    pub fallback: Option<Target>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// The policy as it was when an escalation started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub policy_id: String,
    pub name: String,
    pub levels: Vec<Level>,
    pub repeat: u32,
    pub fallback: Option<Target>,
}

impl EscalationPolicy {
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            policy_id: self.id.clone(),
            name: self.name.clone(),
            levels: self.levels.clone(),
            repeat: self.repeat,
            fallback: self.fallback.clone(),
        }
    }
}

/// Checks levels, repeat and fallback, naming each bad field (`levels[1].targets`).
/// Schedule targets are refused until schedules exist (`schedules_supported`).
pub fn validate_shape(
    v: &mut Validation,
    levels: &[Level],
    repeat: u32,
    fallback: Option<&Target>,
    schedules_supported: bool,
) {
    if levels.is_empty() {
        v.push("levels", "must have at least one level");
    }
    if levels.len() > MAX_LEVELS {
        v.push("levels", format!("must have at most {MAX_LEVELS} levels"));
    }
    for (i, level) in levels.iter().enumerate() {
        if level.delay_seconds == 0 || level.delay_seconds > MAX_DELAY_SECONDS {
            v.push(
                &format!("levels[{i}].delay_seconds"),
                format!("must be between 1 and {MAX_DELAY_SECONDS}"),
            );
        }
        if level.targets.is_empty() || level.targets.len() > MAX_TARGETS {
            v.push(
                &format!("levels[{i}].targets"),
                format!("must name between 1 and {MAX_TARGETS} targets"),
            );
        }
        for (j, t) in level.targets.iter().enumerate() {
            if matches!(t, Target::Schedule { .. }) && !schedules_supported {
                v.push(
                    &format!("levels[{i}].targets[{j}]"),
                    "schedule targets are not available yet; name users or an incident role",
                );
            }
        }
    }
    if repeat > MAX_REPEAT {
        v.push("repeat", format!("must be between 0 and {MAX_REPEAT}"));
    }
    if let Some(Target::Schedule { .. }) = fallback
        && !schedules_supported
    {
        v.push(
            "fallback",
            "schedule targets are not available yet; name a user or an incident role",
        );
    }
}

/// Where a running escalation stands: the level last paged, in which pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub level: usize,
    pub round: u32,
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Page the level's targets now; escalate further at `next_at` unless stopped.
    Page {
        at: Position,
        targets: Vec<Target>,
        next_at: Millis,
    },
    /// Every level of every pass has been paged: tell the fallback.
    Exhausted { fallback: Option<Target> },
}

impl Snapshot {
    /// The first step of a new escalation.
    pub fn start(&self, now: Millis) -> Step {
        self.page(Position { level: 0, round: 0 }, now)
    }

    /// The step after `from`, taken at `now` (when `from`'s delay ran out, or at once
    /// when `from` had nobody to page).
    pub fn advance(&self, from: Position, now: Millis) -> Step {
        if from.level + 1 < self.levels.len() {
            self.page(
                Position {
                    level: from.level + 1,
                    round: from.round,
                },
                now,
            )
        } else if from.round < self.repeat {
            self.page(
                Position {
                    level: 0,
                    round: from.round + 1,
                },
                now,
            )
        } else {
            Step::Exhausted {
                fallback: self.fallback.clone(),
            }
        }
    }

    fn page(&self, at: Position, now: Millis) -> Step {
        match self.levels.get(at.level) {
            Some(level) => Step::Page {
                at,
                targets: level.targets.clone(),
                next_at: now + i64::from(level.delay_seconds) * 1000,
            },
            None => Step::Exhausted {
                fallback: self.fallback.clone(),
            },
        }
    }

    /// How many pages a full run takes (levels × passes); bounds any loop over steps.
    pub fn total_steps(&self) -> usize {
        self.levels.len() * (self.repeat as usize + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn snap(delays: &[u32], repeat: u32) -> Snapshot {
        Snapshot {
            policy_id: "p".into(),
            name: "p".into(),
            levels: delays
                .iter()
                .enumerate()
                .map(|(i, d)| Level {
                    delay_seconds: *d,
                    targets: vec![Target::User {
                        id: format!("u{i}"),
                    }],
                })
                .collect(),
            repeat,
            fallback: None,
        }
    }

    #[test]
    fn walks_levels_then_repeats_then_exhausts() {
        let s = snap(&[300, 600], 1);
        let mut step = s.start(0);
        let mut seen = Vec::new();
        let mut now = 0;
        while let Step::Page { at, next_at, .. } = step {
            seen.push((at.level, at.round, now));
            now = next_at;
            step = s.advance(at, now);
        }
        assert_eq!(
            seen,
            vec![
                (0, 0, 0),
                (1, 0, 300_000),
                (0, 1, 900_000),
                (1, 1, 1_200_000)
            ]
        );
        assert_eq!(step, Step::Exhausted { fallback: None });
    }

    #[test]
    fn targets_serialize_with_a_type_tag() {
        let t: Target = serde_json::from_str(r#"{"type":"user","id":"u1"}"#).unwrap();
        assert_eq!(t, Target::User { id: "u1".into() });
        let r: Target =
            serde_json::from_str(r#"{"type":"incident_role","role":"coordinator"}"#).unwrap();
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({"type":"incident_role","role":"coordinator"})
        );
        assert!(serde_json::from_str::<Target>(r#"{"type":"team","id":"x"}"#).is_err());
    }

    #[test]
    fn shape_errors_name_their_field() {
        let mut v = Validation::new();
        let levels = vec![Level {
            delay_seconds: 0,
            targets: vec![Target::Schedule { id: "s".into() }],
        }];
        validate_shape(&mut v, &levels, 10, None, false);
        let fields: Vec<String> = v
            .finish()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            vec!["levels[0].delay_seconds", "levels[0].targets[0]", "repeat"]
        );
    }

    proptest! {
        /// A run pages exactly levels × passes times, each position once, with times
        /// strictly increasing, and always ends exhausted.
        #[test]
        fn every_position_is_paged_once_in_order(
            delays in proptest::collection::vec(1u32..5000, 1..6),
            repeat in 0u32..4,
        ) {
            let s = snap(&delays, repeat);
            let mut step = s.start(0);
            let mut seen = std::collections::HashSet::new();
            let mut last = -1;
            let mut now = 0;
            let mut count = 0;
            while let Step::Page { at, next_at, .. } = step {
                prop_assert!(seen.insert((at.level, at.round)));
                prop_assert!(now > last);
                last = now;
                now = next_at;
                count += 1;
                prop_assert!(count <= s.total_steps());
                step = s.advance(at, now);
            }
            prop_assert_eq!(count, s.total_steps());
        }
    }
}

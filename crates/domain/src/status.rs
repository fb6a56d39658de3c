//! Business impact and the public status page's rules: how an incident's impact on
//! business services becomes component statuses, the page's overall indicator, the
//! state of scheduled maintenances, the severity the impact suggests, and uptime.
//!
//! The wire names are those of Atlassian Statuspage's public API (see
//! `reference/protocols.md` §2.6), so that existing widgets and clients read Triad's page.

use crate::severity::Severity;
use crate::validate::FieldReason;
use crate::{Millis, parse_keyword};
use serde::{Deserialize, Serialize};

/// An incident's impact on one business service, least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    None,
    Degraded,
    PartialOutage,
    MajorOutage,
}

impl Impact {
    pub const ALL: [Impact; 4] = [
        Impact::None,
        Impact::Degraded,
        Impact::PartialOutage,
        Impact::MajorOutage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Impact::None => "none",
            Impact::Degraded => "degraded",
            Impact::PartialOutage => "partial_outage",
            Impact::MajorOutage => "major_outage",
        }
    }

    pub fn parse(input: &str) -> Result<Self, FieldReason> {
        parse_keyword(input, &Self::ALL.map(|i| (i.as_str(), i)))
    }

    /// What a component showing this impact displays.
    pub fn component_status(self) -> ComponentStatus {
        match self {
            Impact::None => ComponentStatus::Operational,
            Impact::Degraded => ComponentStatus::DegradedPerformance,
            Impact::PartialOutage => ComponentStatus::PartialOutage,
            Impact::MajorOutage => ComponentStatus::MajorOutage,
        }
    }

    /// The public incident impact this business impact amounts to.
    pub fn page_impact(self) -> PageImpact {
        match self {
            Impact::None => PageImpact::None,
            Impact::Degraded => PageImpact::Minor,
            Impact::PartialOutage => PageImpact::Major,
            Impact::MajorOutage => PageImpact::Critical,
        }
    }
}

/// A status page component's status. The order is the order of precedence: when
/// several things affect one component, the greatest wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentStatus {
    Operational,
    UnderMaintenance,
    DegradedPerformance,
    PartialOutage,
    MajorOutage,
}

impl ComponentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentStatus::Operational => "operational",
            ComponentStatus::UnderMaintenance => "under_maintenance",
            ComponentStatus::DegradedPerformance => "degraded_performance",
            ComponentStatus::PartialOutage => "partial_outage",
            ComponentStatus::MajorOutage => "major_outage",
        }
    }

    /// Words for people, as the HTML page shows them.
    pub fn label(self) -> &'static str {
        match self {
            ComponentStatus::Operational => "Operational",
            ComponentStatus::UnderMaintenance => "Under maintenance",
            ComponentStatus::DegradedPerformance => "Degraded performance",
            ComponentStatus::PartialOutage => "Partial outage",
            ComponentStatus::MajorOutage => "Major outage",
        }
    }

    /// Whether the component counts as down for uptime (partial or major outage).
    pub fn is_outage(self) -> bool {
        matches!(
            self,
            ComponentStatus::PartialOutage | ComponentStatus::MajorOutage
        )
    }
}

/// A public incident's `impact` (and the page's `indicator`, which adds `maintenance`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageImpact {
    None,
    Minor,
    Major,
    Critical,
}

impl PageImpact {
    pub fn as_str(self) -> &'static str {
        match self {
            PageImpact::None => "none",
            PageImpact::Minor => "minor",
            PageImpact::Major => "major",
            PageImpact::Critical => "critical",
        }
    }

    /// The impact of a public incident nobody has assessed: from its severity.
    pub fn from_severity(severity: Severity) -> PageImpact {
        match severity {
            Severity::Sev1 => PageImpact::Critical,
            Severity::Sev2 => PageImpact::Major,
            Severity::Sev3 | Severity::Sev4 => PageImpact::Minor,
        }
    }
}

/// A scheduled maintenance's state, derived from its window and the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaintenanceStatus {
    Scheduled,
    InProgress,
    Completed,
}

impl MaintenanceStatus {
    /// The state at `now` of a maintenance planned for `[from, until)`.
    pub fn at(from: Millis, until: Millis, now: Millis) -> MaintenanceStatus {
        if now < from {
            MaintenanceStatus::Scheduled
        } else if now < until {
            MaintenanceStatus::InProgress
        } else {
            MaintenanceStatus::Completed
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MaintenanceStatus::Scheduled => "scheduled",
            MaintenanceStatus::InProgress => "in_progress",
            MaintenanceStatus::Completed => "completed",
        }
    }
}

/// The page's overall status: Statuspage's `indicator` and `description`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageStatus {
    pub indicator: &'static str,
    pub description: &'static str,
}

/// Rolls the page up: the worst component status, the worst impact among unresolved
/// public incidents (if any), and whether a maintenance is in progress.
///
/// The indicator is the greater of the incidents' impact and the components' (degraded
/// performance counts as minor, a partial outage as major, a major outage as critical);
/// with nothing wrong but a maintenance in progress it is `maintenance`. The description
/// follows the indicator: critical "Major Service Outage", major "Partial System
/// Outage", minor "Partially Degraded Service" when a component is degraded and "Minor
/// Service Outage" otherwise.
pub fn page_status(
    worst_component: ComponentStatus,
    worst_incident: Option<PageImpact>,
    maintenance_in_progress: bool,
) -> PageStatus {
    let from_components = match worst_component {
        ComponentStatus::Operational | ComponentStatus::UnderMaintenance => PageImpact::None,
        ComponentStatus::DegradedPerformance => PageImpact::Minor,
        ComponentStatus::PartialOutage => PageImpact::Major,
        ComponentStatus::MajorOutage => PageImpact::Critical,
    };
    let indicator = from_components.max(worst_incident.unwrap_or(PageImpact::None));
    let description = match indicator {
        PageImpact::Critical => "Major Service Outage",
        PageImpact::Major => "Partial System Outage",
        PageImpact::Minor if worst_component == ComponentStatus::DegradedPerformance => {
            "Partially Degraded Service"
        }
        PageImpact::Minor => "Minor Service Outage",
        PageImpact::None if maintenance_in_progress => "Service Under Maintenance",
        PageImpact::None => "All Systems Operational",
    };
    let indicator = if indicator == PageImpact::None && maintenance_in_progress {
        "maintenance"
    } else {
        indicator.as_str()
    };
    PageStatus {
        indicator,
        description,
    }
}

/// The criticality tiers of business services: 1 (most critical) to 4.
pub const TIERS: std::ops::RangeInclusive<i64> = 1..=4;

/// The built-in severity suggested for an impact on a business service of a tier.
pub fn default_severity(impact: Impact, tier: i64) -> Severity {
    use Severity::*;
    let tier = tier.clamp(*TIERS.start(), *TIERS.end()) as usize - 1;
    let row = match impact {
        Impact::MajorOutage => [Sev1, Sev2, Sev2, Sev3],
        Impact::PartialOutage => [Sev2, Sev2, Sev3, Sev3],
        Impact::Degraded => [Sev3, Sev3, Sev4, Sev4],
        Impact::None => [Sev4; 4],
    };
    row[tier]
}

/// The impact × tier matrix: the built-in defaults with the administrator's overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImpactMatrix {
    overrides: Vec<(Impact, i64, Severity)>,
}

impl ImpactMatrix {
    pub fn new(overrides: Vec<(Impact, i64, Severity)>) -> Self {
        ImpactMatrix { overrides }
    }

    /// The severity suggested for `impact` on a business service of `tier`.
    pub fn severity(&self, impact: Impact, tier: i64) -> Severity {
        self.overrides
            .iter()
            .rev()
            .find(|(i, t, _)| *i == impact && *t == tier)
            .map(|(_, _, s)| *s)
            .unwrap_or_else(|| default_severity(impact, tier))
    }

    /// Every cell, impact by impact (least first), tier by tier.
    pub fn cells(&self) -> Vec<(Impact, i64, Severity)> {
        Impact::ALL
            .iter()
            .flat_map(|&i| TIERS.map(move |t| (i, t)))
            .map(|(i, t)| (i, t, self.severity(i, t)))
            .collect()
    }

    /// The most severe suggestion over a set of (impact, tier) pairs; `None` when the
    /// set is empty.
    pub fn suggest(&self, impacts: &[(Impact, i64)]) -> Option<Severity> {
        // Sev1 sorts first, so the most severe is the minimum.
        impacts.iter().map(|&(i, t)| self.severity(i, t)).min()
    }
}

/// One day of a component's uptime bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UptimeDay {
    /// The day's first instant.
    pub start: Millis,
    /// The worst status shown that day.
    pub worst: ComponentStatus,
    /// Milliseconds of the day spent in a partial or major outage.
    pub outage_ms: i64,
}

/// A component's bar: for each day `[days[k], days[k+1])`, the worst status of the
/// `spans` `(from, until, status)` overlapping it, and the outage time. `days` holds the
/// day boundaries in order (one more than the number of days).
pub fn uptime(days: &[Millis], spans: &[(Millis, Millis, ComponentStatus)]) -> Vec<UptimeDay> {
    days.windows(2)
        .map(|w| {
            let (start, end) = (w[0], w[1]);
            let mut worst = ComponentStatus::Operational;
            let mut outage: Vec<(Millis, Millis)> = Vec::new();
            for &(from, until, status) in spans {
                let (a, b) = (from.max(start), until.min(end));
                if a >= b {
                    continue;
                }
                worst = worst.max(status);
                if status.is_outage() {
                    outage.push((a, b));
                }
            }
            UptimeDay {
                start,
                worst,
                outage_ms: union_length(&mut outage),
            }
        })
        .collect()
}

/// The total length of a set of intervals, overlaps counted once.
fn union_length(spans: &mut [(Millis, Millis)]) -> i64 {
    spans.sort_unstable();
    let mut total = 0;
    let mut reach = Millis::MIN;
    for &(a, b) in spans.iter() {
        let a = a.max(reach);
        if b > a {
            total += b - a;
            reach = b;
        }
    }
    total
}

/// The share of `[days.first, days.last)` not in an outage, as a percentage.
pub fn uptime_percent(bar: &[UptimeDay], total_ms: i64) -> f64 {
    if total_ms <= 0 {
        return 100.0;
    }
    let down: i64 = bar.iter().map(|d| d.outage_ms).sum();
    100.0 * (total_ms - down) as f64 / total_ms as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impacts_parse_and_order() {
        assert_eq!(Impact::parse("partial_outage"), Ok(Impact::PartialOutage));
        assert!(
            Impact::parse("down")
                .unwrap_err()
                .0
                .contains("major_outage")
        );
        assert!(Impact::MajorOutage > Impact::PartialOutage);
        assert!(ComponentStatus::UnderMaintenance > ComponentStatus::Operational);
        assert!(ComponentStatus::DegradedPerformance > ComponentStatus::UnderMaintenance);
        assert_eq!(Impact::Degraded.page_impact(), PageImpact::Minor);
    }

    #[test]
    fn page_rollup_covers_every_description() {
        use ComponentStatus::*;
        let s = |c, i, m| {
            let p = page_status(c, i, m);
            (p.indicator, p.description)
        };
        assert_eq!(
            s(Operational, None, false),
            ("none", "All Systems Operational")
        );
        assert_eq!(
            s(UnderMaintenance, None, true),
            ("maintenance", "Service Under Maintenance")
        );
        assert_eq!(
            s(DegradedPerformance, None, false),
            ("minor", "Partially Degraded Service")
        );
        assert_eq!(
            s(PartialOutage, Some(PageImpact::Minor), false),
            ("major", "Partial System Outage")
        );
        assert_eq!(
            s(MajorOutage, None, true),
            ("critical", "Major Service Outage")
        );
        assert_eq!(
            s(Operational, Some(PageImpact::Minor), false),
            ("minor", "Minor Service Outage")
        );
        assert_eq!(
            s(Operational, Some(PageImpact::None), true),
            ("maintenance", "Service Under Maintenance")
        );
        // The words never contradict the indicator.
        assert_eq!(
            s(DegradedPerformance, Some(PageImpact::Critical), false),
            ("critical", "Major Service Outage")
        );
        assert_eq!(
            s(UnderMaintenance, Some(PageImpact::Major), true),
            ("major", "Partial System Outage")
        );
    }

    #[test]
    fn maintenance_state_follows_its_window() {
        assert_eq!(
            MaintenanceStatus::at(10, 20, 9),
            MaintenanceStatus::Scheduled
        );
        assert_eq!(
            MaintenanceStatus::at(10, 20, 10),
            MaintenanceStatus::InProgress
        );
        assert_eq!(
            MaintenanceStatus::at(10, 20, 20),
            MaintenanceStatus::Completed
        );
    }

    #[test]
    fn the_matrix_suggests_the_most_severe_cell() {
        let m = ImpactMatrix::default();
        assert_eq!(m.severity(Impact::MajorOutage, 1), Severity::Sev1);
        assert_eq!(m.severity(Impact::MajorOutage, 4), Severity::Sev3);
        assert_eq!(m.severity(Impact::Degraded, 3), Severity::Sev4);
        assert_eq!(m.suggest(&[]), None);
        assert_eq!(
            m.suggest(&[(Impact::Degraded, 3), (Impact::PartialOutage, 1)]),
            Some(Severity::Sev2)
        );
        let m = ImpactMatrix::new(vec![(Impact::Degraded, 3, Severity::Sev1)]);
        assert_eq!(m.suggest(&[(Impact::Degraded, 3)]), Some(Severity::Sev1));
        assert_eq!(m.cells().len(), 16);
        // Severity never decreases as the impact grows, tier by tier.
        let d = ImpactMatrix::default();
        for t in TIERS {
            for w in Impact::ALL.windows(2) {
                assert!(d.severity(w[1], t) <= d.severity(w[0], t), "{w:?} tier {t}");
            }
            for i in Impact::ALL.iter().filter(|_| t > 1) {
                assert!(d.severity(*i, t - 1) <= d.severity(*i, t), "{i:?} tier {t}");
            }
        }
    }

    #[test]
    fn uptime_counts_overlapping_outages_once() {
        use ComponentStatus::*;
        let day = 86_400_000;
        let days = [0, day, 2 * day];
        let spans = [
            (day - 3_600_000, day + 3_600_000, MajorOutage),
            (day, day + 1_800_000, PartialOutage),
            (day + 7_200_000, day + 9_000_000, DegradedPerformance),
        ];
        let bar = uptime(&days, &spans);
        assert_eq!(bar[0].worst, MajorOutage);
        assert_eq!(bar[0].outage_ms, 3_600_000);
        assert_eq!(bar[1].outage_ms, 3_600_000);
        let pct = uptime_percent(&bar, 2 * day);
        assert!(
            (pct - (100.0 * (2.0 * day as f64 - 7_200_000.0) / (2.0 * day as f64))).abs() < 1e-9
        );
        assert_eq!(uptime(&days, &[])[1].worst, Operational);
    }
}

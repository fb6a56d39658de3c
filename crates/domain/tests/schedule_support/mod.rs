//! Builders shared by the schedule integration tests.
#![allow(dead_code)]

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use triad_domain::Millis;
use triad_domain::schedule::{
    Compiled, Day, Layer, Override, Restriction, Schedule, Segment, ShiftUnit, Version,
};

pub const HOUR: Millis = 3_600_000;
pub const DAY: Millis = 24 * HOUR;

/// An RFC 3339 instant ("2026-03-08T03:00:00-04:00") as epoch milliseconds.
pub fn at(s: &str) -> Millis {
    s.parse::<Timestamp>()
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .as_millisecond()
}

/// An instant printed in UTC, for failure messages.
pub fn show(ms: Millis) -> String {
    Timestamp::from_millisecond(ms).unwrap().to_string()
}

pub fn hm(h: i8, m: i8) -> Time {
    jiff::civil::time(h, m, 0, 0)
}

pub fn day(s: &str) -> Date {
    s.parse().unwrap()
}

pub fn layer(
    zone: Option<&str>,
    people: &[&str],
    unit: ShiftUnit,
    length: u32,
    start: Date,
    handoff: Time,
) -> Layer {
    Layer {
        name: "layer".into(),
        time_zone: zone.map(str::to_string),
        participants: people.iter().map(|p| p.to_string()).collect(),
        shift_length: length,
        shift_unit: unit,
        start,
        handoff_time: handoff,
        restrictions: vec![],
    }
}

pub fn restriction(days: &[Day], start: Time, end: Time) -> Restriction {
    Restriction {
        days: days.to_vec(),
        start,
        end,
    }
}

pub fn schedule(zone: &str, versions: Vec<Version>, overrides: Vec<Override>) -> Schedule {
    Schedule {
        id: "sched".into(),
        name: "Schedule".into(),
        description: None,
        time_zone: zone.into(),
        versions,
        overrides,
        created_at: 0,
        updated_at: 0,
    }
}

/// A schedule of one version (in force from the epoch's distant past) with `layers`.
pub fn compiled(zone: &str, layers: Vec<Layer>, overrides: Vec<Override>) -> Compiled {
    Compiled::new(&schedule(
        zone,
        vec![Version {
            effective_from: Millis::MIN,
            layers,
        }],
        overrides,
    ))
    .unwrap()
}

/// Merges adjacent `[start, end)` stretches and returns the union, sorted.
pub fn union(mut spans: Vec<(Millis, Millis)>) -> Vec<(Millis, Millis)> {
    spans.retain(|s| s.0 < s.1);
    spans.sort_unstable();
    let mut out: Vec<(Millis, Millis)> = Vec::new();
    for (s, e) in spans {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// The segments' `[start, end)` stretches.
pub fn spans(segments: &[Segment]) -> Vec<(Millis, Millis)> {
    segments.iter().map(|s| (s.start, s.end)).collect()
}

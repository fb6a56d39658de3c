//! Wall-clock time as plain milliseconds ("local ms": days since 1970-01-01 × 86,400,000
//! plus the time of day) and its conversion to instants in a time zone, with the
//! schedule's rules: a time in a gap is the instant the gap ends, a time in a fold is the
//! earlier of its two instants.

use crate::Millis;
use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;

pub(crate) const DAY_MS: i64 = 86_400_000;
pub(crate) const HOUR_MS: i64 = 3_600_000;

/// Margin kept between a computed window and the ends of jiff's timestamp range.
const EDGE_MS: i64 = 30 * DAY_MS;

/// The earliest instant the schedule computes over (a little after jiff's minimum).
pub(crate) fn min_instant() -> Millis {
    Timestamp::MIN.as_millisecond() + EDGE_MS
}

/// The latest instant the schedule computes over (a little before jiff's maximum).
pub(crate) fn max_instant() -> Millis {
    Timestamp::MAX.as_millisecond() - EDGE_MS
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The weekday of a day counted from 1970-01-01 (a Thursday): 0 is Monday, 6 Sunday.
pub(crate) fn weekday(days: i64) -> usize {
    (days + 3).rem_euclid(7) as usize
}

/// Milliseconds since midnight of a time of day (sub-millisecond parts are dropped).
pub(crate) fn time_ms(t: Time) -> i64 {
    i64::from(t.hour()) * HOUR_MS
        + i64::from(t.minute()) * 60_000
        + i64::from(t.second()) * 1000
        + i64::from(t.subsec_nanosecond()) / 1_000_000
}

/// The local ms of `date` at `time`.
pub(crate) fn local_ms(date: Date, time: Time) -> i64 {
    days_from_civil(
        i64::from(date.year()),
        i64::from(date.month()),
        i64::from(date.day()),
    ) * DAY_MS
        + time_ms(time)
}

/// A zone's UTC offsets over a stretch of time: the offset before the first listed
/// transition, then each transition's instant and the offset from it on. Built once per
/// zone per computation so that converting a wall-clock time is a short scan.
#[derive(Debug, Clone)]
pub(crate) struct OffsetTable {
    first: i64,
    transitions: Vec<(Millis, i64)>,
}

impl OffsetTable {
    /// The offsets of `tz` for instants in `[lo, hi]`; outside that stretch the nearest
    /// known offset is assumed.
    pub(crate) fn new(tz: &TimeZone, lo: Millis, hi: Millis) -> OffsetTable {
        let lo = lo.clamp(
            Timestamp::MIN.as_millisecond(),
            Timestamp::MAX.as_millisecond(),
        );
        let hi = hi.clamp(lo, Timestamp::MAX.as_millisecond());
        let Ok(start) = Timestamp::from_millisecond(lo) else {
            return OffsetTable {
                first: 0,
                transitions: Vec::new(),
            };
        };
        let first = i64::from(tz.to_offset(start).seconds()) * 1000;
        let mut transitions = Vec::new();
        for t in tz.following(start) {
            let at = t.timestamp().as_millisecond();
            if at > hi {
                break;
            }
            transitions.push((at, i64::from(t.offset().seconds()) * 1000));
        }
        OffsetTable { first, transitions }
    }

    /// A table good for converting wall-clock times near `local`.
    pub(crate) fn around(tz: &TimeZone, local: i64) -> OffsetTable {
        OffsetTable::new(
            tz,
            local.saturating_sub(3 * DAY_MS),
            local.saturating_add(3 * DAY_MS),
        )
    }

    /// The UTC offset (ms) in force at `instant`.
    pub(crate) fn offset_at(&self, instant: Millis) -> i64 {
        let n = self.transitions.partition_point(|&(at, _)| at <= instant);
        if n == 0 {
            self.first
        } else {
            self.transitions[n - 1].1
        }
    }

    /// The instant of wall-clock time `local`: the only one when it is unambiguous, the
    /// earlier when it happens twice (a fold), the instant the gap ends when it does not
    /// happen at all (a gap).
    pub(crate) fn to_instant(&self, local: i64) -> Millis {
        // Period i runs from transition i-1 (or forever) to transition i (or forever).
        // The first period whose offset puts `local` inside it gives the earliest
        // instant; if `local` falls before a period it skipped past the previous one's
        // end, which is a gap ending at this period's start.
        let mut start = i64::MIN;
        let mut offset = self.first;
        for &(at, next) in &self.transitions {
            let u = local.saturating_sub(offset);
            if u < start {
                return start;
            }
            if u < at {
                return u;
            }
            start = at;
            offset = next;
        }
        let u = local.saturating_sub(offset);
        if u < start { start } else { u }
    }
}

/// Converts `local` through a table built around it: exact for any wall-clock time.
pub(crate) fn to_instant(tz: &TimeZone, local: i64) -> Millis {
    OffsetTable::around(tz, local).to_instant(local)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::DateTime;
    use jiff::tz::AmbiguousOffset;
    use proptest::prelude::*;

    fn zone(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    fn utc(s: &str) -> Millis {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    fn local(s: &str) -> i64 {
        let dt: DateTime = s.parse().unwrap();
        local_ms(dt.date(), dt.time())
    }

    /// An independent statement of the rules through jiff's own ambiguity API.
    fn oracle(tz: &TimeZone, dt: DateTime) -> Millis {
        let l = local_ms(dt.date(), dt.time());
        match tz.to_ambiguous_timestamp(dt).offset() {
            AmbiguousOffset::Unambiguous { offset } => l - i64::from(offset.seconds()) * 1000,
            AmbiguousOffset::Fold { before, after } => {
                (l - i64::from(before.seconds()) * 1000).min(l - i64::from(after.seconds()) * 1000)
            }
            AmbiguousOffset::Gap { after, .. } => {
                let probe =
                    Timestamp::from_millisecond(l - i64::from(after.seconds()) * 1000).unwrap();
                tz.following(probe)
                    .next()
                    .unwrap()
                    .timestamp()
                    .as_millisecond()
            }
        }
    }

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(weekday(0), 3, "1970-01-01 was a Thursday");
        assert_eq!(
            weekday(days_from_civil(2026, 3, 8)),
            6,
            "2026-03-08 is a Sunday"
        );
        assert_eq!(
            weekday(days_from_civil(1900, 1, 1)),
            0,
            "1900-01-01 was a Monday"
        );
    }

    #[test]
    fn gap_and_fold() {
        let ny = zone("America/New_York");
        let t = OffsetTable::new(&ny, utc("2026-01-01T00:00Z"), utc("2027-01-01T00:00Z"));
        // Gap: 02:00-03:00 on 2026-03-08 does not exist; it ends at 03:00 EDT = 07:00Z.
        assert_eq!(
            t.to_instant(local("2026-03-08T02:30")),
            utc("2026-03-08T07:00Z")
        );
        assert_eq!(
            t.to_instant(local("2026-03-08T02:00")),
            utc("2026-03-08T07:00Z")
        );
        assert_eq!(
            t.to_instant(local("2026-03-08T01:59:59.999")),
            utc("2026-03-08T06:59:59.999Z")
        );
        assert_eq!(
            t.to_instant(local("2026-03-08T03:00")),
            utc("2026-03-08T07:00Z")
        );
        // Fold: 01:00-02:00 on 2026-11-01 happens twice; the first is EDT.
        assert_eq!(
            t.to_instant(local("2026-11-01T01:30")),
            utc("2026-11-01T05:30Z")
        );
        assert_eq!(
            t.to_instant(local("2026-11-01T02:00")),
            utc("2026-11-01T07:00Z")
        );
        assert_eq!(t.offset_at(utc("2026-11-01T05:59:59Z")), -4 * HOUR_MS);
        assert_eq!(t.offset_at(utc("2026-11-01T06:00Z")), -5 * HOUR_MS);
    }

    #[test]
    fn utc_has_no_transitions() {
        let t = OffsetTable::new(&TimeZone::UTC, 0, 10 * DAY_MS);
        assert_eq!(t.to_instant(12_345), 12_345);
        assert_eq!(t.offset_at(5), 0);
    }

    proptest! {
        #[test]
        fn table_agrees_with_jiff(
            zi in 0usize..6,
            minutes in 0i64..(5 * 366 * 24 * 60),
        ) {
            let names = ["America/New_York", "Europe/London", "Australia/Sydney",
                "Asia/Kolkata", "Pacific/Chatham", "UTC"];
            let tz = zone(names[zi]);
            let l = local("2024-01-01T00:00") + minutes * 60_000;
            let days = l.div_euclid(DAY_MS);
            let dt = jiff::civil::date(1970, 1, 1)
                .checked_add(jiff::Span::new().days(days))
                .unwrap()
                .to_datetime(Time::midnight())
                .checked_add(jiff::Span::new().milliseconds(l.rem_euclid(DAY_MS)))
                .unwrap();
            prop_assert_eq!(local_ms(dt.date(), dt.time()), l);
            // A wide table (several transitions) and a narrow one agree with jiff.
            let wide = OffsetTable::new(&tz, utc("2023-12-01T00:00Z"), utc("2029-02-01T00:00Z"));
            prop_assert_eq!(wide.to_instant(l), oracle(&tz, dt));
            prop_assert_eq!(to_instant(&tz, l), oracle(&tz, dt));
        }
    }
}

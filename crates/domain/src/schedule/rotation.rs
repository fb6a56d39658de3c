//! One compiled layer: its rotation (which turn covers which instants, found by
//! arithmetic rather than by walking from the first handoff) and its restriction
//! windows, and the pieces of turns that fall inside those windows.

use super::zone::{DAY_MS, HOUR_MS, OffsetTable, local_ms, time_ms, to_instant, weekday};
use super::{Day, Layer, ShiftUnit};
use crate::Millis;
use jiff::tz::TimeZone;

/// A stretch `[start, end)` with `user` (an index into the schedule's user table) on call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Piece {
    pub start: Millis,
    pub end: Millis,
    pub user: u32,
}

/// How turn `k` is placed in time.
#[derive(Debug, Clone, Copy)]
enum Turns {
    /// Hours: turn `k` is `[t0 + k·len, t0 + (k+1)·len)` in elapsed time.
    Elapsed { t0: Millis, len: i64 },
    /// Days or weeks: turn `k` starts at wall-clock time `first + k·len` in the zone.
    Civil { first: i64, len: i64 },
}

/// A layer ready to compute: participants as user indexes, its zone as an index into the
/// schedule's zones, and restrictions as windows per weekday.
#[derive(Debug, Clone)]
pub(crate) struct CompiledLayer {
    pub zone: usize,
    participants: Vec<u32>,
    turns: Turns,
    /// For each weekday (0 = Monday), the windows starting that day as
    /// `[start, end)` ms from its midnight (`end` may pass into the next day), sorted by
    /// start. `None` when the layer has no restrictions.
    windows: Option<[Vec<(i64, i64)>; 7]>,
}

fn day_index(d: Day) -> usize {
    match d {
        Day::Mon => 0,
        Day::Tue => 1,
        Day::Wed => 2,
        Day::Thu => 3,
        Day::Fri => 4,
        Day::Sat => 5,
        Day::Sun => 6,
    }
}

impl CompiledLayer {
    /// Compiles `layer` whose zone is `tz` (index `zone`); `user` interns a user id.
    pub(crate) fn new(
        layer: &Layer,
        zone: usize,
        tz: &TimeZone,
        mut user: impl FnMut(&str) -> u32,
    ) -> CompiledLayer {
        let participants = layer.participants.iter().map(|p| user(p)).collect();
        let first = local_ms(layer.start, layer.handoff_time);
        let n = i64::from(layer.shift_length.max(1));
        let turns = match layer.shift_unit {
            ShiftUnit::Hours => Turns::Elapsed {
                t0: to_instant(tz, first),
                len: n * HOUR_MS,
            },
            ShiftUnit::Days => Turns::Civil {
                first,
                len: n * DAY_MS,
            },
            ShiftUnit::Weeks => Turns::Civil {
                first,
                len: n * 7 * DAY_MS,
            },
        };
        let windows = (!layer.restrictions.is_empty()).then(|| {
            let mut w: [Vec<(i64, i64)>; 7] = Default::default();
            for r in &layer.restrictions {
                let s = time_ms(r.start);
                let mut e = time_ms(r.end);
                if e <= s {
                    e += DAY_MS;
                }
                let mut days = [r.days.is_empty(); 7];
                for d in &r.days {
                    days[day_index(*d)] = true;
                }
                for (wd, on) in days.iter().enumerate() {
                    if *on {
                        w[wd].push((s, e));
                    }
                }
            }
            for day in &mut w {
                day.sort_unstable();
                day.dedup();
            }
            w
        });
        CompiledLayer {
            zone,
            participants,
            turns,
            windows,
        }
    }

    fn user_of(&self, k: i64) -> u32 {
        let n = self.participants.len() as i64;
        if n == 0 {
            return 0;
        }
        self.participants[k.rem_euclid(n) as usize]
    }

    /// Appends to `out` this layer's on-call pieces within `[lo, hi)`, in time order and
    /// not overlapping. `table` must hold the zone's offsets over `[lo - 3 days, hi + 3
    /// days]`; `scratch` is working space.
    pub(crate) fn pieces(
        &self,
        table: &OffsetTable,
        lo: Millis,
        hi: Millis,
        out: &mut Vec<Piece>,
        scratch: &mut Scratch,
    ) {
        if lo >= hi || self.participants.is_empty() {
            return;
        }
        match &self.windows {
            None => self.turns(table, lo, hi, out),
            Some(templates) => {
                scratch.turns.clear();
                self.turns(table, lo, hi, &mut scratch.turns);
                if scratch.turns.is_empty() {
                    return;
                }
                scratch.windows.clear();
                windows(templates, table, lo, hi, &mut scratch.windows);
                intersect(&scratch.turns, &scratch.windows, out);
            }
        }
    }

    /// Appends the turns overlapping `[lo, hi)`, clipped to it.
    fn turns(&self, table: &OffsetTable, lo: Millis, hi: Millis, out: &mut Vec<Piece>) {
        match self.turns {
            Turns::Elapsed { t0, len } => {
                let mut k = if lo > t0 { (lo - t0) / len } else { 0 };
                loop {
                    let s = t0 + k * len;
                    if s >= hi {
                        break;
                    }
                    out.push(Piece {
                        start: s.max(lo),
                        end: (s + len).min(hi),
                        user: self.user_of(k),
                    });
                    k += 1;
                }
            }
            Turns::Civil { first, len } => {
                let start = |k: i64| table.to_instant(first + k * len);
                // Estimate the turn holding `lo` from its wall-clock time, then correct
                // the estimate (it is off by at most one turn).
                let lo_local = lo + table.offset_at(lo);
                let mut k = if lo_local > first {
                    (lo_local - first) / len
                } else {
                    0
                };
                while k > 0 && start(k) > lo {
                    k -= 1;
                }
                while start(k + 1) <= lo {
                    k += 1;
                }
                let mut s = start(k);
                while s < hi {
                    let e = start(k + 1);
                    if e > lo {
                        out.push(Piece {
                            start: s.max(lo),
                            end: e.min(hi),
                            user: self.user_of(k),
                        });
                    }
                    s = e;
                    k += 1;
                }
            }
        }
    }
}

/// Working buffers reused across layers within one computation.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    turns: Vec<Piece>,
    windows: Vec<(Millis, Millis)>,
}

/// Appends the union of the restriction windows within `[lo, hi)`, clipped to it, merged
/// and in time order.
fn windows(
    templates: &[Vec<(i64, i64)>; 7],
    table: &OffsetTable,
    lo: Millis,
    hi: Millis,
    out: &mut Vec<(Millis, Millis)>,
) {
    // Local days whose windows may reach into [lo, hi): a window starts on its day and
    // ends within two days of its start; offsets are within a day of UTC.
    let d0 = (lo + table.offset_at(lo)).div_euclid(DAY_MS) - 2;
    let d1 = (hi + table.offset_at(hi)).div_euclid(DAY_MS) + 1;
    for d in d0..=d1 {
        let midnight = d * DAY_MS;
        for &(s, e) in &templates[weekday(d)] {
            let a = table.to_instant(midnight + s).max(lo);
            let b = table.to_instant(midnight + e).min(hi);
            if a >= b {
                continue;
            }
            // Wall-clock order is instant order (the conversion never goes backwards),
            // so only the last window can overlap or touch this one.
            match out.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
    }
}

/// Appends the parts of `turns` inside `windows` (both sorted and non-overlapping).
fn intersect(turns: &[Piece], windows: &[(Millis, Millis)], out: &mut Vec<Piece>) {
    let (mut i, mut j) = (0, 0);
    while i < turns.len() && j < windows.len() {
        let t = turns[i];
        let (ws, we) = windows[j];
        let a = t.start.max(ws);
        let b = t.end.min(we);
        if a < b {
            out.push(Piece {
                start: a,
                end: b,
                user: t.user,
            });
        }
        if t.end <= we {
            i += 1;
        } else {
            j += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::Restriction;
    use jiff::Timestamp;
    use jiff::civil::{date, time};

    fn utc(s: &str) -> Millis {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    fn layer(unit: ShiftUnit, len: u32, restrictions: Vec<Restriction>) -> Layer {
        Layer {
            name: "l".into(),
            time_zone: None,
            participants: vec!["a".into(), "b".into(), "c".into()],
            shift_length: len,
            shift_unit: unit,
            start: date(2020, 1, 6),
            handoff_time: time(9, 0, 0, 0),
            restrictions,
        }
    }

    fn compute(l: &Layer, lo: &str, hi: &str) -> Vec<Piece> {
        let users = ["a", "b", "c"];
        let c = CompiledLayer::new(l, 0, &TimeZone::UTC, |u| {
            users.iter().position(|x| *x == u).unwrap() as u32
        });
        let (lo, hi) = (utc(lo), utc(hi));
        let table = OffsetTable::new(&TimeZone::UTC, lo - 3 * DAY_MS, hi + 3 * DAY_MS);
        let mut out = Vec::new();
        c.pieces(&table, lo, hi, &mut out, &mut Scratch::default());
        out
    }

    #[test]
    fn turn_index_is_found_without_walking() {
        // Daily from Monday 2020-01-06 09:00 UTC: 2026-01-01 is day 2187, 2187 % 3 == 0
        // (a), so the turn from 2025-12-31 09:00 is day 2186 (c).
        let p = compute(
            &layer(ShiftUnit::Days, 1, vec![]),
            "2026-01-01T00:00Z",
            "2026-01-02T00:00Z",
        );
        assert_eq!(
            p,
            vec![
                Piece {
                    start: utc("2026-01-01T00:00Z"),
                    end: utc("2026-01-01T09:00Z"),
                    user: 2
                },
                Piece {
                    start: utc("2026-01-01T09:00Z"),
                    end: utc("2026-01-02T00:00Z"),
                    user: 0
                },
            ]
        );
    }

    #[test]
    fn nothing_before_the_first_handoff() {
        let p = compute(
            &layer(ShiftUnit::Hours, 12, vec![]),
            "2020-01-05T00:00Z",
            "2020-01-06T22:00Z",
        );
        assert_eq!(
            p,
            vec![
                Piece {
                    start: utc("2020-01-06T09:00Z"),
                    end: utc("2020-01-06T21:00Z"),
                    user: 0
                },
                Piece {
                    start: utc("2020-01-06T21:00Z"),
                    end: utc("2020-01-06T22:00Z"),
                    user: 1
                },
            ]
        );
    }

    #[test]
    fn overlapping_and_overnight_windows_are_unioned() {
        let r = |days: Vec<Day>, s: (i8, i8), e: (i8, i8)| Restriction {
            days,
            start: time(s.0, s.1, 0, 0),
            end: time(e.0, e.1, 0, 0),
        };
        // Weekly turns; windows Mon 22:00-02:00 (overnight) and Tue 01:00-03:00 overlap.
        let l = layer(
            ShiftUnit::Weeks,
            1,
            vec![
                r(vec![Day::Mon], (22, 0), (2, 0)),
                r(vec![Day::Tue, Day::Tue], (1, 0), (3, 0)),
            ],
        );
        let p = compute(&l, "2026-01-05T00:00Z", "2026-01-08T00:00Z");
        // 2026-01-05 is a Monday; the turn changes each Monday 09:00.
        assert_eq!(
            p,
            vec![Piece {
                start: utc("2026-01-05T22:00Z"),
                end: utc("2026-01-06T03:00Z"),
                user: 1
            }]
        );
        // start == end is the whole day; a window split by a handoff gives two pieces.
        let whole = layer(ShiftUnit::Days, 1, vec![r(vec![Day::Sat], (0, 0), (0, 0))]);
        let p = compute(&whole, "2026-01-01T00:00Z", "2026-01-15T00:00Z");
        let spans: Vec<(Millis, Millis)> = p.iter().map(|p| (p.start, p.end)).collect();
        assert_eq!(
            spans,
            vec![
                (utc("2026-01-03T00:00Z"), utc("2026-01-03T09:00Z")),
                (utc("2026-01-03T09:00Z"), utc("2026-01-04T00:00Z")),
                (utc("2026-01-10T00:00Z"), utc("2026-01-10T09:00Z")),
                (utc("2026-01-10T09:00Z"), utc("2026-01-11T00:00Z")),
            ]
        );
    }
}

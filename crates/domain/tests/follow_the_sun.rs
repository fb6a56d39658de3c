//! A follow-the-sun schedule walked over all of 2026.
//!
//! One schedule (zone UTC), three layers, each a weekly rotation of two people handing
//! over on Monday at the start of its window, restricted to 8 working hours local time:
//! APAC 09:00–17:00 Australia/Sydney, EMEA 06:00–14:00 Europe/London, AMER 09:00–17:00
//! America/New_York (precedence AMER > EMEA > APAC, the list order).
//!
//! In UTC these tile the day exactly while Sydney is on +11 and London and New York are
//! on standard time (January to 8 March and 1 November to December): APAC 22–06,
//! EMEA 06–14, AMER 14–22. Because the three change clocks on different dates, the rest
//! of the year has overlaps (AMER over EMEA at 13–14, EMEA over APAC at 05–06 or 05–07)
//! and a gap after AMER (21–22, or 21–23 from 5 April to 3 October). The tests check
//! the hand-overs everywhere against windows computed here with jiff, and a few days of
//! each period against instants written out by hand.

mod schedule_support;

use jiff::Timestamp;
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use schedule_support::*;
use std::sync::OnceLock;
use triad_domain::Millis;
use triad_domain::schedule::{Compiled, Day, Layer, Segment, ShiftUnit};

struct Region {
    name: &'static str,
    zone: &'static str,
    tz: TimeZone,
    start: Time,
    end: Time,
}

/// In precedence order, lowest first (the layer order).
fn regions() -> &'static [Region; 3] {
    static REGIONS: OnceLock<[Region; 3]> = OnceLock::new();
    REGIONS.get_or_init(|| {
        let region = |name, zone, start, end| Region {
            name,
            zone,
            tz: TimeZone::get(zone).unwrap(),
            start,
            end,
        };
        [
            region("apac", "Australia/Sydney", hm(9, 0), hm(17, 0)),
            region("emea", "Europe/London", hm(6, 0), hm(14, 0)),
            region("amer", "America/New_York", hm(9, 0), hm(17, 0)),
        ]
    })
}

const WEEKDAYS: [Day; 5] = [Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri];
/// The Monday the rotations start (week 0: the first person of each region).
const ROTATION_START: &str = "2025-12-29";

fn build(weekdays_only: bool) -> Compiled {
    let layers: Vec<Layer> = regions()
        .iter()
        .map(|r| {
            let mut l = layer(
                Some(r.zone),
                &[&format!("{}-0", r.name), &format!("{}-1", r.name)],
                ShiftUnit::Weeks,
                1,
                day(ROTATION_START),
                r.start,
            );
            let days: &[Day] = if weekdays_only { &WEEKDAYS } else { &[] };
            l.restrictions = vec![restriction(days, r.start, r.end)];
            l
        })
        .collect();
    compiled("UTC", layers, vec![])
}

/// The region (index) of a segment's only user.
fn region_of(seg: &Segment) -> usize {
    assert_eq!(seg.users.len(), 1, "one person at a time: {seg:?}");
    regions()
        .iter()
        .position(|r| seg.users[0].starts_with(r.name))
        .unwrap()
}

fn instant(tz: &TimeZone, d: Date, t: Time) -> Millis {
    d.to_datetime(t)
        .to_zoned(tz.clone())
        .unwrap()
        .timestamp()
        .as_millisecond()
}

/// Region `r`'s window on local date `d` (none on weekends when `weekdays_only`).
fn window(r: &Region, d: Date, weekdays_only: bool) -> Option<(Millis, Millis)> {
    if weekdays_only && matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) {
        return None;
    }
    Some((instant(&r.tz, d, r.start), instant(&r.tz, d, r.end)))
}

fn local_date(r: &Region, t: Millis) -> Date {
    Timestamp::from_millisecond(t)
        .unwrap()
        .to_zoned(r.tz.clone())
        .date()
}

/// Whether region `r`'s window covers instant `t`.
fn covers(r: &Region, t: Millis, weekdays_only: bool) -> bool {
    let d = local_date(r, t);
    window(r, d, weekdays_only).is_some_and(|(s, e)| s <= t && t < e)
}

/// The region that should be on call at `t`: the highest whose window covers it.
fn expected_region(t: Millis, weekdays_only: bool) -> Option<usize> {
    regions().iter().rposition(|r| covers(r, t, weekdays_only))
}

/// The person of region `r` on call in the week of local date `d`.
fn expected_user(r: &Region, d: Date) -> String {
    let days = day(ROTATION_START).until(d).unwrap().get_days();
    format!("{}-{}", r.name, (days / 7) % 2)
}

fn segment_at(segments: &[Segment], t: Millis) -> Option<&Segment> {
    let i = segments.partition_point(|s| s.end <= t);
    segments.get(i).filter(|s| s.start <= t)
}

fn year() -> (Millis, Millis) {
    (at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z"))
}

fn dates_2026() -> impl Iterator<Item = Date> {
    let first = day("2026-01-01");
    (0..365).map(move |i| first.checked_add(jiff::Span::new().days(i)).unwrap())
}

/// Every segment starts at its region's local window start or where a higher region's
/// window ends, and ends at its local window end or where a higher region's starts.
fn check_segment_edges(segments: &[Segment], weekdays_only: bool) {
    let (from, to) = year();
    let rs = regions();
    let at_edge = |r: &Region, t: Millis, start: bool| {
        let d = local_date(r, t);
        window(r, d, weekdays_only).is_some_and(|(s, e)| t == if start { s } else { e })
    };
    for seg in segments {
        let ri = region_of(seg);
        let r = &rs[ri];
        assert_eq!(
            seg.users[0],
            expected_user(r, local_date(r, seg.start)),
            "{seg:?}"
        );
        if seg.start != from {
            let ok = at_edge(r, seg.start, true)
                || rs[ri + 1..].iter().any(|h| at_edge(h, seg.start, false));
            assert!(ok, "{} segment starts at {}", r.name, show(seg.start));
        }
        if seg.end != to {
            let ok = at_edge(r, seg.end, false)
                || rs[ri + 1..].iter().any(|h| at_edge(h, seg.end, true));
            assert!(ok, "{} segment ends at {}", r.name, show(seg.end));
        }
    }
}

/// On every day of the year, each region takes over at its local start and hands back
/// at its local end, unless a higher region holds that instant.
fn check_handovers(segments: &[Segment], weekdays_only: bool) {
    let rs = regions();
    let region_at = |t: Millis| segment_at(segments, t).map(region_of);
    let mut checked = 0;
    for (ri, r) in rs.iter().enumerate() {
        for d in dates_2026() {
            let Some((s, e)) = window(r, d, weekdays_only) else {
                let noon = instant(&r.tz, d, hm(12, 0));
                assert_ne!(region_at(noon), Some(ri), "{} on at {}", r.name, show(noon));
                continue;
            };
            if s < year().0 || e > year().1 {
                continue;
            }
            let higher = |t: Millis| rs[ri + 1..].iter().any(|h| covers(h, t, weekdays_only));
            if !higher(s) {
                assert_eq!(
                    region_at(s),
                    Some(ri),
                    "{} {d}: not on at its start",
                    r.name
                );
                let seg = segment_at(segments, s).unwrap();
                assert_eq!(seg.users[0], expected_user(r, d));
                checked += 1;
            }
            assert_ne!(
                region_at(s - 1),
                Some(ri),
                "{} {d}: on before its start",
                r.name
            );
            if !higher(e - 1) {
                assert_eq!(
                    region_at(e - 1),
                    Some(ri),
                    "{} {d}: off before its end",
                    r.name
                );
                checked += 1;
            }
            assert_ne!(
                region_at(e),
                Some(ri),
                "{} {d}: still on at its end",
                r.name
            );
        }
    }
    // Most hand-overs are not hidden by a higher region: AMER's all are.
    assert!(
        checked > if weekdays_only { 1000 } else { 1500 },
        "{checked}"
    );
}

/// Every gap runs from AMER's local 17:00 to APAC's local 09:00.
fn check_gaps(c: &Compiled, weekdays_only: bool) -> Vec<(Millis, Millis)> {
    let (from, to) = year();
    let rs = regions();
    let gaps = c.gaps(from, to);
    for &(s, e) in &gaps {
        if s != from {
            let d = local_date(&rs[2], s);
            assert_eq!(
                window(&rs[2], d, weekdays_only).map(|w| w.1),
                Some(s),
                "gap at {}",
                show(s)
            );
        }
        if e != to {
            let d = local_date(&rs[0], e);
            assert_eq!(
                window(&rs[0], d, weekdays_only).map(|w| w.0),
                Some(e),
                "gap to {}",
                show(e)
            );
        }
        for t in [s, e - 1, s + (e - s) / 2] {
            assert_eq!(
                expected_region(t, weekdays_only),
                None,
                "gap at {}",
                show(t)
            );
        }
    }
    gaps
}

fn check_pointwise(c: &Compiled, segments: &[Segment], weekdays_only: bool) {
    let (from, to) = year();
    // Every 7 minutes through the year, and around every segment edge.
    let mut probes: Vec<Millis> = (from..to).step_by(7 * 60_000).collect();
    probes.extend(
        segments
            .iter()
            .flat_map(|s| [s.start - 1, s.start, s.end - 1, s.end]),
    );
    for t in probes.into_iter().filter(|t| (from..to).contains(t)) {
        let got = segment_at(segments, t).map(region_of);
        assert_eq!(got, expected_region(t, weekdays_only), "at {}", show(t));
    }
    // on_call_at agrees with the final schedule (sampled: it recomputes each time).
    for t in (from..to).step_by(3_607_000) {
        let want = segment_at(segments, t)
            .map(|s| s.users.clone())
            .unwrap_or_default();
        assert_eq!(c.on_call_at(t), want, "at {}", show(t));
    }
}

/// The final schedule over one UTC day as `(start, end, user)`.
fn day_plan(c: &Compiled, d: &str) -> Vec<(String, String, String)> {
    let from = at(&format!("{d}T00:00:00Z"));
    c.final_schedule(from, from + DAY)
        .into_iter()
        .map(|s| (show(s.start), show(s.end), s.users.join(",")))
        .collect()
}

fn plan(list: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    list.iter()
        .map(|(s, e, u)| (show(at(s)), show(at(e)), u.to_string()))
        .collect()
}

#[test]
fn weekdays_follow_the_sun_all_year() {
    let c = build(true);
    let (from, to) = year();
    let segments = c.final_schedule(from, to);
    check_segment_edges(&segments, true);
    check_handovers(&segments, true);
    check_pointwise(&c, &segments, true);
    let gaps = check_gaps(&c, true);
    // 52 weekends (Friday evening in New York to Monday morning in Sydney), plus the
    // evening gap of each Monday to Thursday from 9 March to 29 October (33 weeks and
    // 4 days).
    assert_eq!(gaps.len(), 52 + 33 * 4 + 4);
}

#[test]
fn weekdays_by_hand() {
    let c = build(true);
    // January: an exact tile. Week 2 of the rotation (from 2026-01-12): person 0.
    assert_eq!(
        day_plan(&c, "2026-01-15"),
        plan(&[
            ("2026-01-15T00:00:00Z", "2026-01-15T06:00:00Z", "apac-0"),
            ("2026-01-15T06:00:00Z", "2026-01-15T14:00:00Z", "emea-0"),
            ("2026-01-15T14:00:00Z", "2026-01-15T22:00:00Z", "amer-0"),
            ("2026-01-15T22:00:00Z", "2026-01-16T00:00:00Z", "apac-0"),
        ])
    );
    // The weekend: from New York's Friday 17:00 to Sydney's Monday 09:00.
    assert_eq!(
        c.gaps(at("2026-01-16T12:00:00Z"), at("2026-01-19T12:00:00Z")),
        vec![(
            at("2026-01-16T17:00:00-05:00"),
            at("2026-01-19T09:00:00+11:00")
        )]
    );
    // New York on EDT, London not yet (week 11: person 1). AMER takes over at 13:00Z.
    assert_eq!(
        day_plan(&c, "2026-03-17"),
        plan(&[
            (
                "2026-03-17T00:00:00Z",
                "2026-03-17T17:00:00+11:00",
                "apac-1"
            ),
            (
                "2026-03-17T06:00:00+00:00",
                "2026-03-17T09:00:00-04:00",
                "emea-1"
            ),
            (
                "2026-03-17T09:00:00-04:00",
                "2026-03-17T17:00:00-04:00",
                "amer-1"
            ),
            (
                "2026-03-18T09:00:00+11:00",
                "2026-03-18T00:00:00Z",
                "apac-1"
            ),
        ])
    );
    // Southern winter: EMEA cuts APAC short at 05:00Z; a two-hour gap (week 24).
    assert_eq!(
        day_plan(&c, "2026-06-17"),
        plan(&[
            (
                "2026-06-17T00:00:00Z",
                "2026-06-17T06:00:00+01:00",
                "apac-0"
            ),
            (
                "2026-06-17T06:00:00+01:00",
                "2026-06-17T09:00:00-04:00",
                "emea-0"
            ),
            (
                "2026-06-17T09:00:00-04:00",
                "2026-06-17T17:00:00-04:00",
                "amer-0"
            ),
            (
                "2026-06-18T09:00:00+10:00",
                "2026-06-18T00:00:00Z",
                "apac-0"
            ),
        ])
    );
    assert_eq!(
        c.gaps(at("2026-06-17T00:00:00Z"), at("2026-06-18T00:00:00Z")),
        vec![(at("2026-06-17T21:00:00Z"), at("2026-06-17T23:00:00Z"))]
    );
    // London back on GMT, New York not yet (week 43): AMER over EMEA from 13:00Z.
    assert_eq!(
        day_plan(&c, "2026-10-28"),
        plan(&[
            ("2026-10-28T00:00:00Z", "2026-10-28T06:00:00Z", "apac-1"),
            ("2026-10-28T06:00:00Z", "2026-10-28T13:00:00Z", "emea-1"),
            ("2026-10-28T13:00:00Z", "2026-10-28T21:00:00Z", "amer-1"),
            ("2026-10-28T22:00:00Z", "2026-10-29T00:00:00Z", "apac-1"),
        ])
    );
}

#[test]
fn every_day_follow_the_sun_all_year() {
    let c = build(false);
    let (from, to) = year();
    let segments = c.final_schedule(from, to);
    check_segment_edges(&segments, false);
    check_handovers(&segments, false);
    check_pointwise(&c, &segments, false);
    let gaps = check_gaps(&c, false);
    // One gap per evening (New York date) from 8 March to 31 October: one hour while
    // only one side has moved, two from 4 April (Sydney back on +10 from the 5th) to
    // 2 October (Sydney on +11 again from the 4th).
    let ny = TimeZone::get("America/New_York").unwrap();
    let mut one = Vec::new();
    let mut two = Vec::new();
    for &(s, e) in &gaps {
        let d = Timestamp::from_millisecond(s)
            .unwrap()
            .to_zoned(ny.clone())
            .date();
        match e - s {
            x if x == HOUR => one.push(d),
            x if x == 2 * HOUR => two.push(d),
            x => panic!("gap of {x} ms at {}", show(s)),
        }
    }
    assert_eq!(one.len(), 27 + 29);
    assert_eq!(two.len(), 182);
    assert_eq!(
        (one[0], one[26], one[27], one[55]),
        (
            day("2026-03-08"),
            day("2026-04-03"),
            day("2026-10-03"),
            day("2026-10-31")
        )
    );
    assert_eq!((two[0], two[181]), (day("2026-04-04"), day("2026-10-02")));
    // November to March without a gap: the day is tiled.
    assert!(c.gaps(at("2026-11-01T22:00:00Z"), to).is_empty());
    assert!(c.gaps(from, at("2026-03-08T21:00:00Z")).is_empty());
}

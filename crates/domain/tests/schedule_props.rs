//! Properties of the schedule computation over random layers (zones with and without
//! daylight saving, every shift unit, restrictions), random versions and overrides, and
//! random windows placed around clock changes. Where a property needs the "right"
//! answer it is worked out independently here, through jiff's own ambiguity API and a
//! point-by-point model of precedence and overrides.

mod schedule_support;

use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{Span, Timestamp};
use proptest::prelude::*;
use schedule_support::*;
use std::sync::OnceLock;
use triad_domain::Millis;
use triad_domain::schedule::{
    Compiled, Day, Layer, Override, OverrideAction, Restriction, Schedule, Segment, ShiftUnit,
    Version,
};

const ZONES: [&str; 6] = [
    "America/New_York",
    "Europe/London",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "UTC",
];
const PEOPLE: [&str; 6] = ["ana", "bo", "cy", "di", "ed", "flo"];
const DAYS: [Day; 7] = [
    Day::Mon,
    Day::Tue,
    Day::Wed,
    Day::Thu,
    Day::Fri,
    Day::Sat,
    Day::Sun,
];

// ---------------------------------------------------------------- oracle

/// The instant of `date` at `time` in `tz` by the module's rules, through jiff's
/// ambiguity API: unambiguous as is, a fold's earlier instant, a gap's end.
fn oracle_instant(tz: &TimeZone, dt: DateTime) -> Millis {
    let ms = |o: jiff::tz::Offset| o.to_timestamp(dt).unwrap().as_millisecond();
    match tz.to_ambiguous_timestamp(dt).offset() {
        AmbiguousOffset::Unambiguous { offset } => ms(offset),
        AmbiguousOffset::Fold { before, after } => ms(before).min(ms(after)),
        AmbiguousOffset::Gap { before, after } => {
            let (early, late) = (ms(before).min(ms(after)), ms(before).max(ms(after)));
            let t = tz
                .following(Timestamp::from_millisecond(early).unwrap())
                .next()
                .unwrap()
                .timestamp()
                .as_millisecond();
            assert!(early < t && t <= late);
            t
        }
    }
}

fn zoned(tz: &TimeZone, t: Millis) -> jiff::Zoned {
    Timestamp::from_millisecond(t).unwrap().to_zoned(tz.clone())
}

fn offset_ms(tz: &TimeZone, t: Millis) -> i64 {
    i64::from(
        tz.to_offset(Timestamp::from_millisecond(t).unwrap())
            .seconds(),
    ) * 1000
}

fn plus_days(d: Date, n: i64) -> Date {
    d.checked_add(Span::new().days(n)).unwrap()
}

fn zone_of(s: &Schedule, l: &Layer) -> TimeZone {
    TimeZone::get(l.time_zone.as_deref().unwrap_or(&s.time_zone)).unwrap()
}

fn day_index(d: Day) -> usize {
    DAYS.iter().position(|x| *x == d).unwrap()
}

/// Whether instant `t` is inside one of `l`'s restriction windows (true when it has
/// none), by converting the windows of the surrounding days with the oracle.
fn in_restriction(tz: &TimeZone, l: &Layer, t: Millis) -> bool {
    if l.restrictions.is_empty() {
        return true;
    }
    let today = zoned(tz, t).date();
    (-2..=1).any(|back| {
        let d = plus_days(today, back);
        let wd = d.weekday().to_monday_zero_offset() as usize;
        l.restrictions.iter().any(|r| {
            let on = r.days.is_empty() || r.days.iter().any(|x| day_index(*x) == wd);
            let end_day = if r.end > r.start { d } else { plus_days(d, 1) };
            on && oracle_instant(tz, d.to_datetime(r.start)) <= t
                && t < oracle_instant(tz, end_day.to_datetime(r.end))
        })
    })
}

/// Who is on call at `t` by a direct reading of the rules: the version in force, the
/// highest layer with a turn at `t` (from `layer_shifts`), then each override covering
/// `t` in the order they were made.
fn model_at(c: &Compiled, s: &Schedule, t: Millis) -> Vec<String> {
    let mut set: Vec<String> = Vec::new();
    let version = s.versions.iter().rposition(|v| v.effective_from <= t);
    if let Some(vi) = version {
        for li in (0..s.versions[vi].layers.len()).rev() {
            if let Some(shift) = c.layer_shifts(vi, li, t, t + 1).first() {
                set.push(shift.user.clone());
                break;
            }
        }
    }
    let mut order: Vec<&Override> = s.overrides.iter().collect();
    order.sort_by_key(|o| o.created_at); // stable: ties keep list order
    for o in order.into_iter().filter(|o| o.start <= t && t < o.end) {
        match (o.action, &o.replaces) {
            (OverrideAction::Add, _) => {
                if !set.contains(&o.user) {
                    set.push(o.user.clone());
                }
            }
            (OverrideAction::Remove, _) => set.retain(|u| *u != o.user),
            (OverrideAction::Replace, None) => set = vec![o.user.clone()],
            (OverrideAction::Replace, Some(old)) => {
                if let Some(i) = set.iter().position(|u| u == old) {
                    set.remove(i);
                    if !set.contains(&o.user) {
                        set.insert(i, o.user.clone());
                    }
                }
            }
        }
    }
    set
}

/// Clock changes in 2024–2027 per zone (index into `ZONES`), to place windows around;
/// zones without changes get every zone's.
fn transitions(zone: usize) -> Vec<Millis> {
    static LIST: OnceLock<Vec<Vec<Millis>>> = OnceLock::new();
    let lists = LIST.get_or_init(|| {
        let (lo, hi) = (at("2024-01-01T00:00:00Z"), at("2028-01-01T00:00:00Z"));
        let mut per_zone: Vec<Vec<Millis>> = ZONES
            .iter()
            .map(|z| {
                let tz = TimeZone::get(z).unwrap();
                tz.following(Timestamp::from_millisecond(lo).unwrap())
                    .map(|t| t.timestamp().as_millisecond())
                    .take_while(|&t| t <= hi)
                    .collect()
            })
            .collect();
        let all: Vec<Millis> = per_zone.iter().flatten().copied().collect();
        for list in &mut per_zone {
            if list.is_empty() {
                list.clone_from(&all);
            }
        }
        per_zone
    });
    lists[zone].clone()
}

// ---------------------------------------------------------------- strategies

fn arb_time() -> impl Strategy<Value = jiff::civil::Time> {
    prop_oneof![
        // Times that fall in a gap or a fold in one of the zones.
        prop::sample::select(vec![
            (1, 0),
            (1, 30),
            (2, 0),
            (2, 30),
            (2, 45),
            (3, 0),
            (3, 15)
        ]),
        (0i8..24, prop::sample::select(vec![0i8, 15, 30, 45, 59])),
    ]
    .prop_map(|(h, m)| hm(h, m))
}

fn arb_restriction() -> impl Strategy<Value = Restriction> {
    (
        prop_oneof![Just(Vec::new()), prop::collection::vec(0usize..7, 1..5)],
        arb_time(),
        arb_time(),
    )
        .prop_map(|(days, start, end)| Restriction {
            days: days.into_iter().map(|d| DAYS[d]).collect(),
            start,
            end,
        })
}

fn arb_unit() -> impl Strategy<Value = (ShiftUnit, u32)> {
    prop_oneof![
        2 => (Just(ShiftUnit::Hours), prop::sample::select(vec![1u32, 5, 8, 12, 24, 36, 168])),
        3 => (Just(ShiftUnit::Days), Just(1u32)),
        1 => (Just(ShiftUnit::Days), 1u32..=14),
        2 => (Just(ShiftUnit::Weeks), 1u32..=4),
    ]
}

/// A layer in `ZONES[zone]` (named on the layer, or left to a schedule in that zone), or
/// in any zone (or the schedule's) when `zone` is `None`.
fn arb_layer(restricted: bool, zone: Option<usize>) -> impl Strategy<Value = Layer> {
    let restrictions = if restricted {
        prop_oneof![
            Just(Vec::new()),
            prop::collection::vec(arb_restriction(), 1..=3),
        ]
        .boxed()
    } else {
        Just(Vec::new()).boxed()
    };
    let zone = match zone {
        Some(z) => prop::option::of(Just(z)).boxed(),
        None => prop::option::of(0usize..6).boxed(),
    };
    (
        zone,
        arb_unit(),
        arb_time(),
        0i64..(4 * 365),
        prop::sample::subsequence(PEOPLE.to_vec(), 1..=5).prop_shuffle(),
        restrictions,
    )
        .prop_map(
            |(zone, (unit, length), handoff, start, people, restrictions)| Layer {
                name: "layer".into(),
                time_zone: zone.map(|z| ZONES[z].to_string()),
                participants: people.into_iter().map(str::to_string).collect(),
                shift_length: length,
                shift_unit: unit,
                start: plus_days(day("2024-01-01"), start),
                handoff_time: handoff,
                restrictions,
            },
        )
}

/// A window `[from, to)` of up to 45 days around a clock change of `ZONES[zone]`.
fn arb_window(zone: usize) -> impl Strategy<Value = (Millis, Millis)> {
    (
        prop::sample::select(transitions(zone)),
        -20 * DAY..20 * DAY,
        1..45 * DAY,
    )
        .prop_map(|(anchor, shift, len)| (anchor + shift, anchor + shift + len))
}

fn arb_override(from: Millis, to: Millis) -> impl Strategy<Value = Override> {
    let span = to - from;
    (
        0..span,
        60_000..3 * DAY,
        0usize..4,
        prop::sample::select(vec!["ana", "bo", "cy", "zed"]),
        prop::option::of(prop::sample::select(PEOPLE.to_vec())),
        0i64..4,
    )
        .prop_map(move |(off, len, action, user, replaces, created_at)| {
            let action = [
                OverrideAction::Add,
                OverrideAction::Remove,
                OverrideAction::Replace,
                OverrideAction::Replace,
            ][action];
            Override {
                id: format!("o{off}"),
                start: from + off,
                end: from + off + len,
                action,
                user: user.to_string(),
                replaces: (action == OverrideAction::Replace)
                    .then(|| replaces.map(str::to_string))
                    .flatten(),
                created_at,
            }
        })
}

/// A schedule (1–2 versions of 1–3 layers, 0–5 overrides) and a window. The first
/// version usually starts before the window, sometimes inside it.
fn arb_case(overrides: bool) -> impl Strategy<Value = (Schedule, Millis, Millis)> {
    (0usize..6)
        .prop_flat_map(|zone| (Just(zone), arb_window(zone)))
        .prop_flat_map(move |(zone, (from, to))| {
            let n_overrides = if overrides { 0..6usize } else { 0..1usize };
            let layer = prop_oneof![arb_layer(true, Some(zone)), arb_layer(true, None)];
            (
                Just(zone),
                prop::collection::vec(prop::collection::vec(layer, 1..=3), 1..=2),
                -90 * DAY..(to - from),
                HOUR..(to - from + 30 * DAY),
                prop::collection::vec(arb_override(from, to), n_overrides),
            )
                .prop_map(move |(zone, layer_sets, first, gap, overrides)| {
                    let versions = layer_sets
                        .into_iter()
                        .enumerate()
                        .map(|(i, layers)| Version {
                            effective_from: from + first + i as i64 * gap,
                            layers,
                        })
                        .collect();
                    (schedule(ZONES[zone], versions, overrides), from, to)
                })
        })
}

fn compile(s: &Schedule) -> Compiled {
    Compiled::new(s).unwrap()
}

/// Instants to probe in `[from, to)`: the ends, every boundary of `segments` and of the
/// overrides (and 1 ms either side), and an even spread.
fn probes(s: &Schedule, segments: &[Segment], from: Millis, to: Millis) -> Vec<Millis> {
    let mut out = vec![from, to - 1];
    for b in segments
        .iter()
        .flat_map(|g| [g.start, g.end])
        .chain(s.overrides.iter().flat_map(|o| [o.start, o.end]))
    {
        out.extend([b - 1, b, b + 1]);
    }
    out.extend((0..40).map(|i| from + (to - from) * i / 40));
    out.retain(|t| (from..to).contains(t));
    out.sort_unstable();
    out.dedup();
    out
}

fn check_partition(segments: &[Segment], gaps: &[(Millis, Millis)], from: Millis, to: Millis) {
    for w in segments.windows(2) {
        assert!(
            w[0].end <= w[1].start,
            "segments overlap or are out of order"
        );
        if w[0].end == w[1].start {
            assert_ne!(
                w[0].users, w[1].users,
                "adjacent segments with the same users"
            );
        }
    }
    for s in segments {
        assert!(s.start < s.end, "empty segment");
        assert!(!s.users.is_empty(), "segment without users");
        let mut u = s.users.clone();
        u.sort();
        u.dedup();
        assert_eq!(u.len(), s.users.len(), "a user twice in one segment");
    }
    for w in gaps.windows(2) {
        assert!(w[0].1 < w[1].0, "gaps not merged or out of order");
    }
    let mut all: Vec<(Millis, Millis)> = spans(segments);
    all.extend_from_slice(gaps);
    all.sort_unstable();
    let mut at = from;
    for (s, e) in all {
        assert_eq!(s, at, "hole or overlap at {}", show(at));
        assert!(s < e);
        at = e;
    }
    assert_eq!(at, to);
}

// ---------------------------------------------------------------- properties

proptest! {

    /// (a) An unrestricted layer's turns tile the window in rotation order, each at the
    /// handoff the rules give, with the lengths the clocks allow.
    #[test]
    fn turns_tile_in_rotation_order(
        (zone, l, (from, to)) in (0usize..6)
            .prop_flat_map(|z| (Just(z), arb_layer(false, Some(z)), arb_window(z))),
    ) {
        let s = schedule(ZONES[zone], vec![Version { effective_from: Millis::MIN, layers: vec![l.clone()] }], vec![]);
        let c = compile(&s);
        let tz = zone_of(&s, &l);
        let shifts = c.layer_shifts(0, 0, from, to);
        let n = l.participants.len() as i64;
        let t0 = oracle_instant(&tz, l.start.to_datetime(l.handoff_time));
        // Coverage: from the later of `from` and the first handoff, to `to`.
        if t0 < to {
            prop_assert!(!shifts.is_empty());
            prop_assert_eq!(shifts[0].start, from.max(t0));
            prop_assert_eq!(shifts.last().unwrap().end, to);
        } else {
            prop_assert!(shifts.is_empty());
        }
        for w in shifts.windows(2) {
            prop_assert_eq!(w[0].end, w[1].start, "turns must tile");
            let i = l.participants.iter().position(|p| *p == w[0].user).unwrap() as i64;
            prop_assert_eq!(&w[1].user, &l.participants[((i + 1) % n) as usize]);
        }
        let (unit_days, nominal) = match l.shift_unit {
            ShiftUnit::Hours => (0, i64::from(l.shift_length) * HOUR),
            ShiftUnit::Days => (i64::from(l.shift_length), i64::from(l.shift_length) * DAY),
            ShiftUnit::Weeks => (7 * i64::from(l.shift_length), 7 * i64::from(l.shift_length) * DAY),
        };
        for sh in &shifts {
            prop_assert!(sh.start < sh.end);
            prop_assert!(sh.layer == 0);
            let full_start = sh.start > from || sh.start == t0;
            if full_start {
                // The turn number from the oracle decides the user.
                let k = if unit_days == 0 {
                    prop_assert_eq!((sh.start - t0) % nominal, 0);
                    (sh.start - t0) / nominal
                } else {
                    let d = zoned(&tz, sh.start).date();
                    prop_assert_eq!(sh.start, oracle_instant(&tz, d.to_datetime(l.handoff_time)),
                        "handoff at {}", show(sh.start));
                    let elapsed = i64::from(l.start.until(d).unwrap().get_days());
                    prop_assert_eq!(elapsed % unit_days, 0);
                    elapsed / unit_days
                };
                prop_assert_eq!(&sh.user, &l.participants[(k % n) as usize]);
            }
            if full_start && sh.end < to {
                let dur = sh.end - sh.start;
                if unit_days == 0 {
                    prop_assert_eq!(dur, nominal);
                } else {
                    prop_assert!((dur - nominal).abs() <= HOUR, "{} long", dur);
                    let on_time = |t: Millis| zoned(&tz, t).time() == l.handoff_time;
                    if on_time(sh.start) && on_time(sh.end) {
                        let shift = offset_ms(&tz, sh.end) - offset_ms(&tz, sh.start);
                        prop_assert_eq!(dur, nominal - shift);
                    }
                }
            }
        }
    }

    /// Restricted layers: on call at an instant exactly when a restriction window (as
    /// the oracle converts it) and a turn of the unrestricted rotation both cover it,
    /// with that turn's user.
    #[test]
    fn restrictions_match_the_oracle(
        (zone, l, (from, to)) in (0usize..6)
            .prop_flat_map(|z| (Just(z), arb_layer(true, Some(z)), arb_window(z))),
    ) {
        let mut free = l.clone();
        free.restrictions.clear();
        let c = compiled(ZONES[zone], vec![l.clone(), free], vec![]);
        let s = schedule(ZONES[zone], vec![], vec![]);
        let tz = zone_of(&s, &l);
        let pieces = c.layer_shifts(0, 0, from, to);
        let turns = c.layer_shifts(0, 1, from, to);
        for w in pieces.windows(2) {
            prop_assert!(w[0].end <= w[1].start);
        }
        let mut probes: Vec<Millis> = pieces.iter().flat_map(|p| [p.start - 1, p.start, p.end - 1, p.end]).collect();
        probes.extend((0..60).map(|i| from + (to - from) * i / 60));
        probes.retain(|t| (from..to).contains(t));
        for t in probes {
            let piece = pieces.iter().find(|p| p.start <= t && t < p.end);
            let turn = turns.iter().find(|p| p.start <= t && t < p.end);
            let expect = turn.filter(|_| in_restriction(&tz, &l, t));
            prop_assert_eq!(piece.map(|p| &p.user), expect.map(|p| &p.user), "at {}", show(t));
        }
    }

    /// (b) Overrides win, and (g) the final schedule agrees point by point with a direct
    /// reading of the rules.
    #[test]
    fn final_schedule_matches_the_model((s, from, to) in arb_case(true)) {
        let c = compile(&s);
        let segments = c.final_schedule(from, to);
        let mut order: Vec<&Override> = s.overrides.iter().collect();
        order.sort_by_key(|o| o.created_at);
        for t in probes(&s, &segments, from, to) {
            let got = c.on_call_at(t);
            let seg = segments.iter().find(|g| g.start <= t && t < g.end);
            prop_assert_eq!(seg.map(|g| g.users.clone()).unwrap_or_default(), got.clone());
            prop_assert_eq!(&got, &model_at(&c, &s, t), "at {}", show(t));
            if let Some(last) = order.iter().rev().find(|o| o.start <= t && t < o.end) {
                match (last.action, &last.replaces) {
                    (OverrideAction::Replace, None) => prop_assert_eq!(&got, &vec![last.user.clone()]),
                    (OverrideAction::Add, _) => prop_assert!(got.contains(&last.user)),
                    (OverrideAction::Remove, _) => prop_assert!(!got.contains(&last.user)),
                    (OverrideAction::Replace, Some(old)) => {
                        if *old != last.user {
                            prop_assert!(!got.contains(old));
                        }
                    }
                }
            }
        }
    }

    /// (c) Without overrides somebody is on call exactly where some layer of the version
    /// in force has a turn.
    #[test]
    fn layers_and_final_cover_the_same_time((s, from, to) in arb_case(false)) {
        let c = compile(&s);
        let mut turns = Vec::new();
        for (vi, v) in s.versions.iter().enumerate() {
            for li in 0..v.layers.len() {
                turns.extend(c.layer_shifts(vi, li, from, to).iter().map(|x| (x.start, x.end)));
            }
        }
        prop_assert_eq!(union(turns), union(spans(&c.final_schedule(from, to))));
    }

    /// (d) Segments and gaps partition the window; segments are sorted, disjoint, never
    /// empty and never repeat their neighbour.
    #[test]
    fn segments_and_gaps_partition_the_window((s, from, to) in arb_case(true)) {
        let c = compile(&s);
        let segments = c.final_schedule(from, to);
        check_partition(&segments, &c.gaps(from, to), from, to);
    }

    /// (e) Splitting the window anywhere and joining the halves gives the same schedule.
    #[test]
    fn window_independence((s, from, to) in arb_case(true), cut in 0.0f64..1.0) {
        let c = compile(&s);
        let b = from + 1 + ((to - from - 1) as f64 * cut) as Millis;
        let whole = c.final_schedule(from, to);
        let mut joined = c.final_schedule(from, b);
        for seg in c.final_schedule(b, to) {
            match joined.last_mut() {
                Some(last) if last.end == seg.start && last.users == seg.users => last.end = seg.end,
                _ => joined.push(seg),
            }
        }
        prop_assert_eq!(whole, joined);
    }

    /// (f) Following `next_change` from the start of the window visits exactly the
    /// segment boundaries inside it.
    #[test]
    fn next_change_walks_the_boundaries((s, from, to) in arb_case(true)) {
        let c = compile(&s);
        let segments = c.final_schedule(from, to);
        let mut want: Vec<Millis> = segments
            .iter()
            .flat_map(|g| [g.start, g.end])
            .filter(|&b| from < b && b < to)
            .collect();
        want.dedup();
        let mut got = Vec::new();
        let mut t = from;
        while let Some(x) = c.next_change(t, to - 1 - t) {
            prop_assert!(x > t && x < to);
            got.push(x);
            t = x;
        }
        prop_assert_eq!(got, want);
    }
}

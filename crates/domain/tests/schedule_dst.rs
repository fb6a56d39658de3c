//! Handoffs and restriction windows on the days clocks change, in five zones, against
//! instants worked out by hand from each zone's offsets (written as RFC 3339 with the
//! local offset, so each line reads as "this wall-clock time, at this offset").
//!
//! 2026 transitions used (local wall-clock):
//! - America/New_York: 03-08 02:00 EST(-5) → 03:00 EDT(-4); 11-01 02:00 EDT → 01:00 EST.
//! - Europe/London: 03-29 01:00 GMT(+0) → 02:00 BST(+1); 10-25 02:00 BST → 01:00 GMT.
//! - Australia/Sydney: 04-05 03:00 AEDT(+11) → 02:00 AEST(+10); 10-04 02:00 AEST →
//!   03:00 AEDT.
//! - Pacific/Chatham: 04-05 03:45 (+13:45) → 02:45 (+12:45); 09-27 02:45 (+12:45) →
//!   03:45 (+13:45).
//! - Asia/Kolkata: +05:30 all year.

mod schedule_support;

use schedule_support::*;
use triad_domain::Millis;
use triad_domain::schedule::{Compiled, Day, Layer, ShiftUnit};

/// One rotation and the handoff instants it must produce, in order.
struct Case {
    zone: &'static str,
    unit: ShiftUnit,
    length: u32,
    start: &'static str,
    handoff: (i8, i8),
    handoffs: &'static [&'static str],
    /// Each shift's length between consecutive handoffs, in minutes.
    minutes: &'static [i64],
}

const fn days(
    zone: &'static str,
    start: &'static str,
    handoff: (i8, i8),
    handoffs: &'static [&'static str],
    minutes: &'static [i64],
) -> Case {
    Case {
        zone,
        unit: ShiftUnit::Days,
        length: 1,
        start,
        handoff,
        handoffs,
        minutes,
    }
}

const H24: i64 = 24 * 60;

const CASES: &[Case] = &[
    // --- America/New_York
    // 02:30 on spring-forward day does not exist: the gap ends at 03:00 EDT.
    days(
        "America/New_York",
        "2026-03-06",
        (2, 30),
        &[
            "2026-03-06T02:30:00-05:00",
            "2026-03-07T02:30:00-05:00",
            "2026-03-08T03:00:00-04:00",
            "2026-03-09T02:30:00-04:00",
            "2026-03-10T02:30:00-04:00",
        ],
        &[H24, H24 - 30, H24 - 30, H24],
    ),
    // 01:30 on fall-back day happens twice: the first (EDT) counts.
    days(
        "America/New_York",
        "2026-10-30",
        (1, 30),
        &[
            "2026-10-30T01:30:00-04:00",
            "2026-10-31T01:30:00-04:00",
            "2026-11-01T01:30:00-04:00",
            "2026-11-02T01:30:00-05:00",
            "2026-11-03T01:30:00-05:00",
        ],
        &[H24, H24, H24 + 60, H24],
    ),
    days(
        "America/New_York",
        "2026-03-06",
        (9, 0),
        &[
            "2026-03-07T09:00:00-05:00",
            "2026-03-08T09:00:00-04:00",
            "2026-03-09T09:00:00-04:00",
        ],
        &[H24 - 60, H24],
    ),
    days(
        "America/New_York",
        "2026-10-30",
        (9, 0),
        &[
            "2026-10-31T09:00:00-04:00",
            "2026-11-01T09:00:00-05:00",
            "2026-11-02T09:00:00-05:00",
        ],
        &[H24 + 60, H24],
    ),
    Case {
        zone: "America/New_York",
        unit: ShiftUnit::Weeks,
        length: 1,
        start: "2026-03-02",
        handoff: (9, 0),
        handoffs: &[
            "2026-03-02T09:00:00-05:00",
            "2026-03-09T09:00:00-04:00",
            "2026-03-16T09:00:00-04:00",
        ],
        minutes: &[7 * H24 - 60, 7 * H24],
    },
    // Hours are elapsed time: 12 h after 20:00 EST is 09:00 EDT.
    Case {
        zone: "America/New_York",
        unit: ShiftUnit::Hours,
        length: 12,
        start: "2026-03-07",
        handoff: (20, 0),
        handoffs: &[
            "2026-03-07T20:00:00-05:00",
            "2026-03-08T09:00:00-04:00",
            "2026-03-08T21:00:00-04:00",
        ],
        minutes: &[720, 720],
    },
    // An hours rotation whose first handoff is in the gap starts when the gap ends...
    Case {
        zone: "America/New_York",
        unit: ShiftUnit::Hours,
        length: 8,
        start: "2026-03-08",
        handoff: (2, 30),
        handoffs: &[
            "2026-03-08T03:00:00-04:00",
            "2026-03-08T11:00:00-04:00",
            "2026-03-08T19:00:00-04:00",
        ],
        minutes: &[480, 480],
    },
    // ...and one whose first handoff is in the fold, at the first 01:30.
    Case {
        zone: "America/New_York",
        unit: ShiftUnit::Hours,
        length: 1,
        start: "2026-11-01",
        handoff: (1, 30),
        handoffs: &[
            "2026-11-01T01:30:00-04:00",
            "2026-11-01T01:30:00-05:00",
            "2026-11-01T02:30:00-05:00",
        ],
        minutes: &[60, 60],
    },
    // --- Europe/London
    days(
        "Europe/London",
        "2026-03-27",
        (1, 30),
        &[
            "2026-03-27T01:30:00+00:00",
            "2026-03-28T01:30:00+00:00",
            "2026-03-29T02:00:00+01:00",
            "2026-03-30T01:30:00+01:00",
        ],
        &[H24, H24 - 30, H24 - 30],
    ),
    days(
        "Europe/London",
        "2026-10-24",
        (1, 30),
        &[
            "2026-10-24T01:30:00+01:00",
            "2026-10-25T01:30:00+01:00",
            "2026-10-26T01:30:00+00:00",
        ],
        &[H24, H24 + 60],
    ),
    days(
        "Europe/London",
        "2026-03-27",
        (9, 0),
        &[
            "2026-03-28T09:00:00+00:00",
            "2026-03-29T09:00:00+01:00",
            "2026-03-30T09:00:00+01:00",
        ],
        &[H24 - 60, H24],
    ),
    days(
        "Europe/London",
        "2026-10-23",
        (9, 0),
        &[
            "2026-10-24T09:00:00+01:00",
            "2026-10-25T09:00:00+00:00",
            "2026-10-26T09:00:00+00:00",
        ],
        &[H24 + 60, H24],
    ),
    // --- Australia/Sydney (southern hemisphere: spring forward in October)
    days(
        "Australia/Sydney",
        "2026-10-02",
        (2, 30),
        &[
            "2026-10-02T02:30:00+10:00",
            "2026-10-03T02:30:00+10:00",
            "2026-10-04T03:00:00+11:00",
            "2026-10-05T02:30:00+11:00",
        ],
        &[H24, H24 - 30, H24 - 30],
    ),
    days(
        "Australia/Sydney",
        "2026-04-03",
        (2, 30),
        &[
            "2026-04-03T02:30:00+11:00",
            "2026-04-04T02:30:00+11:00",
            "2026-04-05T02:30:00+11:00",
            "2026-04-06T02:30:00+10:00",
        ],
        &[H24, H24, H24 + 60],
    ),
    days(
        "Australia/Sydney",
        "2026-04-03",
        (9, 0),
        &[
            "2026-04-04T09:00:00+11:00",
            "2026-04-05T09:00:00+10:00",
            "2026-04-06T09:00:00+10:00",
        ],
        &[H24 + 60, H24],
    ),
    days(
        "Australia/Sydney",
        "2026-10-02",
        (9, 0),
        &[
            "2026-10-03T09:00:00+10:00",
            "2026-10-04T09:00:00+11:00",
            "2026-10-05T09:00:00+11:00",
        ],
        &[H24 - 60, H24],
    ),
    // --- Pacific/Chatham (+12:45 / +13:45; the gap is 02:45–03:45)
    days(
        "Pacific/Chatham",
        "2026-09-25",
        (3, 0),
        &[
            "2026-09-25T03:00:00+12:45",
            "2026-09-26T03:00:00+12:45",
            "2026-09-27T03:45:00+13:45",
            "2026-09-28T03:00:00+13:45",
        ],
        &[H24, H24 - 15, H24 - 45],
    ),
    days(
        "Pacific/Chatham",
        "2026-04-03",
        (3, 0),
        &[
            "2026-04-03T03:00:00+13:45",
            "2026-04-04T03:00:00+13:45",
            "2026-04-05T03:00:00+13:45",
            "2026-04-06T03:00:00+12:45",
        ],
        &[H24, H24, H24 + 60],
    ),
    days(
        "Pacific/Chatham",
        "2026-04-03",
        (9, 0),
        &[
            "2026-04-04T09:00:00+13:45",
            "2026-04-05T09:00:00+12:45",
            "2026-04-06T09:00:00+12:45",
        ],
        &[H24 + 60, H24],
    ),
    days(
        "Pacific/Chatham",
        "2026-09-25",
        (9, 0),
        &[
            "2026-09-26T09:00:00+12:45",
            "2026-09-27T09:00:00+13:45",
            "2026-09-28T09:00:00+13:45",
        ],
        &[H24 - 60, H24],
    ),
    Case {
        zone: "Pacific/Chatham",
        unit: ShiftUnit::Weeks,
        length: 2,
        start: "2026-09-14",
        handoff: (2, 50),
        handoffs: &[
            "2026-09-14T02:50:00+12:45",
            // 2026-09-28 02:50 exists (the gap was the day before).
            "2026-09-28T02:50:00+13:45",
            "2026-10-12T02:50:00+13:45",
        ],
        minutes: &[14 * H24 - 60, 14 * H24],
    },
    // --- Asia/Kolkata (+05:30, no changes): half-hour offsets throughout.
    days(
        "Asia/Kolkata",
        "2026-03-06",
        (2, 30),
        &[
            "2026-03-05T21:00:00Z",
            "2026-03-06T21:00:00Z",
            "2026-03-07T21:00:00Z",
            "2026-03-08T21:00:00Z",
        ],
        &[H24, H24, H24],
    ),
    days(
        "Asia/Kolkata",
        "2026-10-24",
        (9, 0),
        &[
            "2026-10-24T03:30:00Z",
            "2026-10-25T03:30:00Z",
            "2026-10-26T03:30:00Z",
        ],
        &[H24, H24],
    ),
    Case {
        zone: "Asia/Kolkata",
        unit: ShiftUnit::Hours,
        length: 8,
        start: "2026-01-01",
        handoff: (0, 0),
        handoffs: &[
            "2025-12-31T18:30:00Z",
            "2026-01-01T02:30:00Z",
            "2026-01-01T10:30:00Z",
        ],
        minutes: &[480, 480],
    },
];

/// Handoff instants of a two-person rotation from `layer_shifts` over the first to the
/// last expected handoff, checking the turns alternate.
fn handoffs(c: &Compiled, from: Millis, to: Millis) -> Vec<Millis> {
    let shifts = c.layer_shifts(0, 0, from, to);
    for w in shifts.windows(2) {
        assert_eq!(w[0].end, w[1].start, "turns must tile");
        assert_ne!(w[0].user, w[1].user, "turns must alternate");
    }
    let mut out: Vec<Millis> = shifts.iter().map(|s| s.start).collect();
    out.extend(shifts.last().map(|s| s.end));
    out
}

fn layer_for(case: &Case, zone: Option<&str>, start: jiff::civil::Date) -> Layer {
    layer(
        zone,
        &["p0", "p1"],
        case.unit,
        case.length,
        start,
        hm(case.handoff.0, case.handoff.1),
    )
}

#[test]
fn handoffs_on_transition_days() {
    for case in CASES {
        let expected: Vec<Millis> = case.handoffs.iter().map(|s| at(s)).collect();
        let (from, to) = (expected[0], *expected.last().unwrap());
        // The table's own arithmetic: the stated lengths match the stated instants.
        let minutes: Vec<i64> = expected
            .windows(2)
            .map(|w| (w[1] - w[0]) / 60_000)
            .collect();
        assert_eq!(
            minutes, case.minutes,
            "{} {}: stated lengths",
            case.zone, case.start
        );
        let want: Vec<String> = expected.iter().map(|&m| show(m)).collect();
        let start = day(case.start);
        // The zone given by the schedule, or by the layer in a UTC schedule.
        let variants = [
            compiled(case.zone, vec![layer_for(case, None, start)], vec![]),
            compiled("UTC", vec![layer_for(case, Some(case.zone), start)], vec![]),
        ];
        for c in &variants {
            let got: Vec<String> = handoffs(c, from, to).iter().map(|&m| show(m)).collect();
            assert_eq!(got, want, "{} from {}", case.zone, case.start);
        }
    }
}

#[test]
fn rotations_started_long_ago_hand_off_at_the_same_instants() {
    // 1,001 weeks (7,007 days) earlier: same weekday, same wall-clock handoffs.
    for case in CASES.iter().filter(|c| c.unit != ShiftUnit::Hours) {
        let expected: Vec<Millis> = case.handoffs.iter().map(|s| at(s)).collect();
        let (from, to) = (expected[0], *expected.last().unwrap());
        let start = day(case.start) - jiff::Span::new().days(7007 * i64::from(case.length));
        let c = compiled(case.zone, vec![layer_for(case, None, start)], vec![]);
        let got = handoffs(&c, from, to);
        for e in &expected {
            assert!(
                got.contains(e),
                "{} {}: missing {}",
                case.zone,
                case.start,
                show(*e)
            );
        }
        let first = c.layer_shifts(0, 0, from, to);
        assert_eq!(first[0].start, from);
    }
}

#[test]
fn handoff_users_follow_the_turn_count() {
    // Daily from 2026-03-06 in New York, three people: 03-08 is turn 2.
    let l = layer(
        None,
        &["a", "b", "c"],
        ShiftUnit::Days,
        1,
        day("2026-03-06"),
        hm(2, 30),
    );
    let c = compiled("America/New_York", vec![l], vec![]);
    let shifts = c.layer_shifts(0, 0, at("2026-03-01T00:00:00Z"), at("2026-03-10T00:00:00Z"));
    let got: Vec<(String, String)> = shifts
        .iter()
        .map(|s| (show(s.start), s.user.clone()))
        .collect();
    let want = [
        ("2026-03-06T07:30:00Z", "a"),
        ("2026-03-07T07:30:00Z", "b"),
        ("2026-03-08T07:00:00Z", "c"),
        ("2026-03-09T06:30:00Z", "a"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(s, u)| (s.to_string(), u.to_string()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(shifts.last().unwrap().end, at("2026-03-10T00:00:00Z"));
    assert_eq!(
        c.on_call_at(at("2026-03-08T06:59:59.999Z")),
        vec!["b".to_string()]
    );
    assert_eq!(
        c.on_call_at(at("2026-03-08T07:00:00Z")),
        vec!["c".to_string()]
    );
}

/// One person on call only inside `restrictions`, zone `zone`.
fn restricted(zone: &str, r: Vec<triad_domain::schedule::Restriction>) -> Compiled {
    let mut l = layer(
        None,
        &["solo"],
        ShiftUnit::Weeks,
        1,
        day("2020-01-06"),
        hm(0, 0),
    );
    l.restrictions = r;
    compiled(zone, vec![l], vec![])
}

fn windows(c: &Compiled, from: &str, to: &str) -> Vec<(String, String)> {
    c.layer_shifts(0, 0, at(from), at(to))
        .iter()
        .map(|s| (show(s.start), show(s.end)))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (show(at(a)), show(at(b))))
        .collect()
}

#[test]
fn restriction_windows_across_transitions() {
    let ny = "America/New_York";
    // Sunday 01:00–04:00 on spring-forward day is two hours long.
    let c = restricted(ny, vec![restriction(&[Day::Sun], hm(1, 0), hm(4, 0))]);
    assert_eq!(
        windows(&c, "2026-03-07T00:00:00Z", "2026-03-16T00:00:00Z"),
        pairs(&[
            ("2026-03-08T01:00:00-05:00", "2026-03-08T04:00:00-04:00"),
            ("2026-03-15T01:00:00-04:00", "2026-03-15T04:00:00-04:00"),
        ])
    );
    // A window wholly inside the gap is empty that day only.
    let c = restricted(ny, vec![restriction(&[Day::Sun], hm(2, 0), hm(2, 45))]);
    assert_eq!(
        windows(&c, "2026-03-01T00:00:00Z", "2026-03-16T00:00:00Z"),
        pairs(&[
            ("2026-03-01T02:00:00-05:00", "2026-03-01T02:45:00-05:00"),
            ("2026-03-15T02:00:00-04:00", "2026-03-15T02:45:00-04:00"),
        ])
    );
    // In the fold a window takes the first occurrence.
    let c = restricted(ny, vec![restriction(&[Day::Sun], hm(0, 30), hm(1, 30))]);
    assert_eq!(
        windows(&c, "2026-10-31T00:00:00Z", "2026-11-02T00:00:00Z"),
        pairs(&[("2026-11-01T00:30:00-04:00", "2026-11-01T01:30:00-04:00")])
    );
    // Overnight in London across both changes: 7 h and 9 h.
    let c = restricted(
        "Europe/London",
        vec![restriction(&[Day::Sat], hm(22, 0), hm(6, 0))],
    );
    assert_eq!(
        windows(&c, "2026-03-28T00:00:00Z", "2026-03-30T00:00:00Z"),
        pairs(&[("2026-03-28T22:00:00+00:00", "2026-03-29T06:00:00+01:00")])
    );
    assert_eq!(
        windows(&c, "2026-10-24T00:00:00Z", "2026-10-26T00:00:00Z"),
        pairs(&[("2026-10-24T22:00:00+01:00", "2026-10-25T06:00:00+00:00")])
    );
    // A whole Sunday in Sydney when clocks go back is 25 h.
    let c = restricted(
        "Australia/Sydney",
        vec![restriction(&[Day::Sun], hm(0, 0), hm(0, 0))],
    );
    assert_eq!(
        windows(&c, "2026-04-03T00:00:00Z", "2026-04-07T00:00:00Z"),
        pairs(&[("2026-04-05T00:00:00+11:00", "2026-04-06T00:00:00+10:00")])
    );
    // Chatham working hours on its spring-forward day, and Kolkata's half hour.
    let c = restricted(
        "Pacific/Chatham",
        vec![restriction(&[Day::Sun], hm(8, 0), hm(16, 0))],
    );
    assert_eq!(
        windows(&c, "2026-09-25T00:00:00Z", "2026-09-28T00:00:00Z"),
        pairs(&[("2026-09-26T18:15:00Z", "2026-09-27T02:15:00Z")])
    );
    let c = restricted(
        "Asia/Kolkata",
        vec![restriction(&[Day::Mon], hm(8, 0), hm(16, 0))],
    );
    assert_eq!(
        windows(&c, "2026-03-01T00:00:00Z", "2026-03-10T00:00:00Z"),
        pairs(&[
            ("2026-03-02T02:30:00Z", "2026-03-02T10:30:00Z"),
            ("2026-03-09T02:30:00Z", "2026-03-09T10:30:00Z")
        ])
    );
}

#[test]
fn a_turn_cut_by_windows_gives_pieces_for_the_same_user() {
    // Daily at 12:00 in London, on call 09:00–17:00: each day has the morning of one
    // turn and the afternoon of the next, BST from 03-29.
    let mut l = layer(
        None,
        &["a", "b"],
        ShiftUnit::Days,
        1,
        day("2026-03-27"),
        hm(12, 0),
    );
    l.restrictions = vec![restriction(&[], hm(9, 0), hm(17, 0))];
    let c = compiled("Europe/London", vec![l], vec![]);
    let got: Vec<(String, String, String)> = c
        .layer_shifts(0, 0, at("2026-03-28T00:00:00Z"), at("2026-03-30T00:00:00Z"))
        .into_iter()
        .map(|s| (show(s.start), show(s.end), s.user))
        .collect();
    let want = [
        (
            "2026-03-28T09:00:00+00:00",
            "2026-03-28T12:00:00+00:00",
            "a",
        ),
        (
            "2026-03-28T12:00:00+00:00",
            "2026-03-28T17:00:00+00:00",
            "b",
        ),
        (
            "2026-03-29T09:00:00+01:00",
            "2026-03-29T12:00:00+01:00",
            "b",
        ),
        (
            "2026-03-29T12:00:00+01:00",
            "2026-03-29T17:00:00+01:00",
            "a",
        ),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(s, e, u)| (show(at(s)), show(at(e)), u.to_string()))
        .collect();
    assert_eq!(got, want);
    // The final schedule shows the same stretches.
    let segs = c.final_schedule(at("2026-03-28T00:00:00Z"), at("2026-03-30T00:00:00Z"));
    assert_eq!(segs.len(), 4);
    assert_eq!(segs[2].start, at("2026-03-29T08:00:00Z"));
}

//! Unit tests of the public computation: versions, precedence, overrides, merging, gaps
//! and the next change, on schedules in UTC (time zones are tested in `tests/`).

use super::*;
use jiff::Timestamp;
use jiff::civil::{date, time};

fn ts(s: &str) -> Millis {
    s.parse::<Timestamp>().unwrap().as_millisecond()
}

fn layer(people: &[&str], unit: ShiftUnit, start: Date) -> Layer {
    Layer {
        name: "layer".into(),
        time_zone: None,
        participants: people.iter().map(|p| p.to_string()).collect(),
        shift_length: 1,
        shift_unit: unit,
        start,
        handoff_time: time(0, 0, 0, 0),
        restrictions: vec![],
    }
}

fn window(days: Vec<Day>, from: i8, to: i8) -> Restriction {
    Restriction {
        days,
        start: time(from, 0, 0, 0),
        end: time(to, 0, 0, 0),
    }
}

fn schedule(versions: Vec<Version>, overrides: Vec<Override>) -> Compiled {
    Compiled::new(&Schedule {
        id: "s".into(),
        name: "S".into(),
        description: None,
        time_zone: "UTC".into(),
        versions,
        overrides,
        created_at: 0,
        updated_at: 0,
    })
    .unwrap()
}

fn ov(
    action: OverrideAction,
    user: &str,
    replaces: Option<&str>,
    span: (&str, &str),
    created_at: Millis,
) -> Override {
    Override {
        id: format!("o-{user}-{created_at}"),
        start: ts(&format!("2026-01-01T{}:00Z", span.0)),
        end: ts(&format!("2026-01-01T{}:00Z", span.1)),
        action,
        user: user.into(),
        replaces: replaces.map(str::to_string),
        created_at,
    }
}

/// Segments as `(start, end, users)` with times written `HH:MM` on 2026-01-01.
fn segs(list: &[(&str, &str, &[&str])]) -> Vec<Segment> {
    list.iter()
        .map(|(s, e, u)| Segment {
            start: ts(&format!("2026-01-01T{s}:00Z")),
            end: ts(&format!("2026-01-01T{e}:00Z")),
            users: u.iter().map(|x| x.to_string()).collect(),
        })
        .collect()
}

fn seg(start: &str, end: &str, users: &[&str]) -> Segment {
    Segment {
        start: ts(start),
        end: ts(end),
        users: users.iter().map(|x| x.to_string()).collect(),
    }
}

#[test]
fn versions_take_over_at_their_effective_instant() {
    let c = schedule(
        vec![
            Version {
                effective_from: ts("2026-01-01T00:00Z"),
                layers: vec![layer(&["a", "b"], ShiftUnit::Days, date(2026, 1, 1))],
            },
            Version {
                effective_from: ts("2026-01-03T12:00Z"),
                layers: vec![layer(&["c"], ShiftUnit::Weeks, date(2025, 12, 29))],
            },
        ],
        vec![],
    );
    let (from, to) = (ts("2025-12-31T00:00Z"), ts("2026-01-05T00:00Z"));
    assert_eq!(
        c.final_schedule(from, to),
        vec![
            seg("2026-01-01T00:00Z", "2026-01-02T00:00Z", &["a"]),
            seg("2026-01-02T00:00Z", "2026-01-03T00:00Z", &["b"]),
            seg("2026-01-03T00:00Z", "2026-01-03T12:00Z", &["a"]),
            seg("2026-01-03T12:00Z", "2026-01-05T00:00Z", &["c"]),
        ]
    );
    assert_eq!(c.gaps(from, to), vec![(from, ts("2026-01-01T00:00Z"))]);
    let shifts = |v, l| -> Vec<(Millis, Millis, String, usize)> {
        c.layer_shifts(v, l, from, ts("2026-01-10T00:00Z"))
            .into_iter()
            .map(|s| (s.start, s.end, s.user, s.layer))
            .collect()
    };
    assert_eq!(
        shifts(0, 0),
        vec![
            (
                ts("2026-01-01T00:00Z"),
                ts("2026-01-02T00:00Z"),
                "a".into(),
                0
            ),
            (
                ts("2026-01-02T00:00Z"),
                ts("2026-01-03T00:00Z"),
                "b".into(),
                0
            ),
            (
                ts("2026-01-03T00:00Z"),
                ts("2026-01-03T12:00Z"),
                "a".into(),
                0
            ),
        ]
    );
    assert_eq!(
        shifts(1, 0),
        vec![
            (
                ts("2026-01-03T12:00Z"),
                ts("2026-01-05T00:00Z"),
                "c".into(),
                0
            ),
            (
                ts("2026-01-05T00:00Z"),
                ts("2026-01-10T00:00Z"),
                "c".into(),
                0
            ),
        ]
    );
    assert!(shifts(2, 0).is_empty());
    assert!(shifts(0, 1).is_empty());
    assert!(c.layer_shifts(0, 0, to, from).is_empty());
    assert!(c.final_schedule(to, to).is_empty());
    assert!(c.gaps(to, from).is_empty());
    assert_eq!(
        c.on_call_at(ts("2025-12-31T23:59:59.999Z")),
        Vec::<String>::new()
    );
    assert_eq!(c.on_call_at(ts("2026-01-03T11:59:59.999Z")), vec!["a"]);
    assert_eq!(c.on_call_at(ts("2026-01-03T12:00Z")), vec!["c"]);
}

#[test]
fn later_layers_win_where_they_have_somebody() {
    let mut business = layer(&["b"], ShiftUnit::Weeks, date(2026, 1, 5));
    let weekdays = vec![Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri];
    business.restrictions = vec![window(weekdays, 9, 17)];
    let mut lunch = layer(&["c"], ShiftUnit::Days, date(2026, 1, 1));
    lunch.restrictions = vec![window(vec![Day::Wed], 12, 13)];
    let c = schedule(
        vec![Version {
            effective_from: 0,
            layers: vec![
                layer(&["a"], ShiftUnit::Days, date(2026, 1, 1)),
                business,
                lunch,
            ],
        }],
        vec![],
    );
    // 2026-01-06 is a Tuesday.
    assert_eq!(
        c.final_schedule(ts("2026-01-06T00:00Z"), ts("2026-01-08T00:00Z")),
        vec![
            seg("2026-01-06T00:00Z", "2026-01-06T09:00Z", &["a"]),
            seg("2026-01-06T09:00Z", "2026-01-06T17:00Z", &["b"]),
            seg("2026-01-06T17:00Z", "2026-01-07T09:00Z", &["a"]),
            seg("2026-01-07T09:00Z", "2026-01-07T12:00Z", &["b"]),
            seg("2026-01-07T12:00Z", "2026-01-07T13:00Z", &["c"]),
            seg("2026-01-07T13:00Z", "2026-01-07T17:00Z", &["b"]),
            seg("2026-01-07T17:00Z", "2026-01-08T00:00Z", &["a"]),
        ]
    );
}

#[test]
fn same_people_across_turns_and_versions_merge() {
    let c = schedule(
        vec![
            Version {
                effective_from: ts("2026-01-01T00:00Z"),
                layers: vec![layer(&["a"], ShiftUnit::Hours, date(2026, 1, 1))],
            },
            Version {
                effective_from: ts("2026-01-02T05:00Z"),
                layers: vec![layer(&["a", "b"], ShiftUnit::Days, date(2026, 1, 2))],
            },
        ],
        vec![],
    );
    assert_eq!(
        c.final_schedule(ts("2026-01-01T00:00Z"), ts("2026-01-04T00:00Z")),
        vec![
            seg("2026-01-01T00:00Z", "2026-01-03T00:00Z", &["a"]),
            seg("2026-01-03T00:00Z", "2026-01-04T00:00Z", &["b"]),
        ]
    );
}

fn override_fixture() -> Compiled {
    let mut day = layer(&["a", "b"], ShiftUnit::Days, date(2026, 1, 1));
    day.restrictions = vec![window(vec![], 9, 17)];
    use OverrideAction::{Add, Remove, Replace};
    schedule(
        vec![Version {
            effective_from: 0,
            layers: vec![day],
        }],
        vec![
            ov(Add, "x", None, ("08:00", "10:00"), 1),
            ov(Remove, "a", None, ("09:30", "11:00"), 2),
            ov(Replace, "r", None, ("12:00", "12:30"), 3),
            ov(Replace, "s", Some("a"), ("13:00", "18:00"), 4),
            ov(Replace, "late", None, ("20:00", "21:00"), 5),
            // Made before the replacement of a, so applied before it.
            ov(Add, "x", None, ("14:00", "15:00"), 0),
            // created_at decides, not list order: added (9) then removed (10).
            ov(Remove, "y", None, ("15:30", "16:00"), 10),
            ov(Add, "y", None, ("15:30", "16:00"), 9),
            // Equal created_at: list order decides: removed, then added.
            ov(Remove, "w", None, ("16:30", "16:45"), 30),
            ov(Add, "w", None, ("16:30", "16:45"), 30),
            // Empty and inverted intervals do nothing.
            ov(Replace, "never", None, ("19:00", "19:00"), 40),
            ov(Replace, "never", None, ("19:30", "19:00"), 41),
        ],
    )
}

#[test]
fn overrides_apply_in_the_order_they_were_made() {
    let c = override_fixture();
    let (from, to) = (ts("2026-01-01T00:00Z"), ts("2026-01-02T00:00Z"));
    assert_eq!(
        c.final_schedule(from, to),
        segs(&[
            ("08:00", "09:00", &["x"]),
            ("09:00", "09:30", &["a", "x"]),
            ("09:30", "10:00", &["x"]),
            ("11:00", "12:00", &["a"]),
            ("12:00", "12:30", &["r"]),
            ("12:30", "13:00", &["a"]),
            ("13:00", "14:00", &["s"]),
            ("14:00", "15:00", &["s", "x"]),
            ("15:00", "16:30", &["s"]),
            ("16:30", "16:45", &["s", "w"]),
            ("16:45", "17:00", &["s"]),
            ("20:00", "21:00", &["late"]),
        ])
    );
    let at = |h: &str| ts(&format!("2026-01-01T{h}:00Z"));
    assert_eq!(
        c.gaps(from, to),
        vec![
            (from, at("08:00")),
            (at("10:00"), at("11:00")),
            (at("17:00"), at("20:00")),
            (at("21:00"), to),
        ]
    );
    assert_eq!(c.on_call_at(at("14:30")), vec!["s", "x"]);
    assert!(c.on_call_at(at("10:30")).is_empty());
    assert_eq!(c.on_call_at(at("20:59")), vec!["late"]);
}

#[test]
fn replacing_somebody_already_on_call() {
    use OverrideAction::{Add, Replace};
    let c = schedule(
        vec![Version {
            effective_from: 0,
            layers: vec![layer(&["a"], ShiftUnit::Days, date(2026, 1, 1))],
        }],
        vec![
            ov(Add, "s", None, ("01:00", "03:00"), 1),
            ov(Add, "t", None, ("01:00", "03:00"), 2),
            ov(Replace, "s", Some("a"), ("02:00", "04:00"), 3),
            ov(Replace, "a", Some("a"), ("05:00", "06:00"), 4),
        ],
    );
    assert_eq!(
        c.final_schedule(ts("2026-01-01T00:00Z"), ts("2026-01-01T07:00Z")),
        segs(&[
            ("00:00", "01:00", &["a"]),
            ("01:00", "02:00", &["a", "s", "t"]),
            ("02:00", "03:00", &["s", "t"]),
            ("03:00", "04:00", &["s"]),
            ("04:00", "07:00", &["a"]),
        ])
    );
}

#[test]
fn next_change_finds_boundaries_and_gaps() {
    let c = override_fixture();
    let at = |h: &str| ts(&format!("2026-01-01T{h}:00Z"));
    let hour = 3_600_000;
    // The horizon is inclusive.
    assert_eq!(c.next_change(at("07:00"), hour), Some(at("08:00")));
    assert_eq!(c.next_change(at("07:00"), hour - 1), None);
    assert_eq!(c.next_change(at("08:00"), hour), Some(at("09:00")));
    assert_eq!(c.next_change(at("16:50"), 10 * hour), Some(at("17:00")));
    assert_eq!(c.next_change(at("17:00"), 10 * hour), Some(at("20:00")));
    assert_eq!(
        c.next_change(at("21:00"), 24 * hour),
        Some(ts("2026-01-02T09:00Z"))
    );
    assert_eq!(c.next_change(at("21:00"), 0), None);
    assert_eq!(c.next_change(at("21:00"), -5), None);
}

#[test]
fn next_change_looks_far_ahead() {
    let c = schedule(
        vec![
            Version {
                effective_from: ts("2026-01-01T00:00Z"),
                layers: vec![layer(&["a"], ShiftUnit::Weeks, date(2026, 1, 1))],
            },
            Version {
                effective_from: ts("2026-03-01T00:00Z"),
                layers: vec![layer(&["b"], ShiftUnit::Weeks, date(2026, 1, 1))],
            },
        ],
        vec![],
    );
    let day = 86_400_000;
    let after = ts("2026-01-02T00:00Z");
    assert_eq!(
        c.next_change(after, 58 * day),
        Some(ts("2026-03-01T00:00Z"))
    );
    assert_eq!(c.next_change(after, 58 * day - 1), None);
    assert_eq!(
        c.next_change(after, 400 * day),
        Some(ts("2026-03-01T00:00Z"))
    );
    assert_eq!(c.next_change(ts("2026-03-01T00:00Z"), 400 * day), None);
    assert_eq!(
        c.next_change(ts("2025-06-01T00:00Z"), 400 * day),
        Some(ts("2026-01-01T00:00Z"))
    );
}

#[test]
fn unknown_zones_fail_to_compile() {
    let mut s = Schedule {
        id: "s".into(),
        name: "S".into(),
        description: None,
        time_zone: "Mars/Base".into(),
        versions: vec![],
        overrides: vec![],
        created_at: 0,
        updated_at: 0,
    };
    assert!(Compiled::new(&s).is_err());
    s.time_zone = "UTC".into();
    let mut l = layer(&["a"], ShiftUnit::Days, date(2026, 1, 1));
    l.time_zone = Some("Europe/Atlantis".into());
    s.versions = vec![Version {
        effective_from: 0,
        layers: vec![l],
    }];
    assert!(Compiled::new(&s).unwrap_err().0.contains("Europe/Atlantis"));
}

#[test]
fn extreme_windows_do_not_panic() {
    let c = override_fixture();
    let segments = c.final_schedule(ts("2025-12-31T00:00Z"), ts("2026-01-03T00:00Z"));
    assert_eq!(segments.len(), 12 + 1);
    assert!(c.final_schedule(Millis::MIN, Millis::MIN + 1000).is_empty());
    assert!(c.final_schedule(Millis::MAX - 1000, Millis::MAX).len() <= 1);
    assert!(c.on_call_at(Millis::MAX).is_empty());
    assert!(c.next_change(Millis::MAX - 10, Millis::MAX).is_none());
}

#[test]
fn next_change_with_an_endless_horizon() {
    // One person always on call: the only change is where the computed range ends.
    let c = schedule(
        vec![Version {
            effective_from: 0,
            layers: vec![layer(&["a"], ShiftUnit::Weeks, date(2026, 1, 1))],
        }],
        vec![],
    );
    let far = c.next_change(ts("9990-01-01T00:00Z"), Millis::MAX).unwrap();
    assert!(far > ts("9999-01-01T00:00Z"), "{far}");
    assert_eq!(c.next_change(far, Millis::MAX), None);
}

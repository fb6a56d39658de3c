//! Final-schedule computation: `--schedules` (1,000) realistic, varied on-call schedules,
//! each computed over `--days` (30) days from a fixed instant (1 March 2026 UTC, so the
//! window holds the March clock changes of New York and London), `--runs` times over.
//!
//! The schedules are generated from a fixed seed: 1–3 layers in mixed zones (the five
//! the tests use, and a few more), daily, weekly and 12-hour rotations of 2–8 people,
//! business-hours, night and weekend restrictions, follow-the-sun schedules (three
//! regions, each in its own zone and working hours), 0–4 overrides each, and a second
//! version taking effect inside the window for about a third of them. Compiling
//! (`Compiled::new`, zone lookups) happens once, before timing; each run times
//! `final_schedule` for every schedule, one after the other, on one thread.

use clap::Parser;
use jiff::Timestamp;
use jiff::civil::{Time, date, time};
use std::hint::black_box;
use std::time::Instant;
use triad_bench::{Summary, percentile, verdict};
use triad_domain::Millis;
use triad_domain::schedule::{
    Compiled, Day, Layer, Override, OverrideAction, Restriction, Schedule, ShiftUnit, Version,
};

/// The goal for one run over every schedule (ms).
const GOAL_TOTAL_MS: f64 = 50.0;
const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;
const ZONES: [&str; 9] = [
    "America/New_York",
    "Europe/London",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "UTC",
    "America/Los_Angeles",
    "Europe/Berlin",
    "Asia/Tokyo",
];
const WEEKDAYS: [Day; 5] = [Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri];

#[derive(Debug, Parser)]
#[command(about = "Time Compiled::final_schedule over many realistic on-call schedules")]
struct Args {
    /// Schedules generated.
    #[arg(long, default_value_t = 1000)]
    schedules: usize,
    /// Timed runs, each computing every schedule once.
    #[arg(long, default_value_t = 50)]
    runs: usize,
    /// Unmeasured runs first.
    #[arg(long, default_value_t = 5)]
    warmup: usize,
    /// Days in each computed window.
    #[arg(long, default_value_t = 30)]
    days: i64,
    /// Start of the window (RFC 3339).
    #[arg(long, default_value = "2026-03-01T00:00:00Z")]
    from: String,
    /// Seed of the schedule generator.
    #[arg(long, default_value_t = 20_260_301)]
    seed: u64,
}

/// SplitMix64: small, fast and reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo) as u64) as i64
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// A user id shaped like the real ones (UUID v7 text, 36 characters).
    fn user_id(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-7{:03x}-8{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff
        )
    }

    fn people(&mut self, lo: u64, hi: u64) -> Vec<String> {
        (0..lo + self.below(hi - lo + 1))
            .map(|_| self.user_id())
            .collect()
    }
}

fn window(days: &[Day], start: Time, end: Time) -> Restriction {
    Restriction {
        days: days.to_vec(),
        start,
        end,
    }
}

fn rotation(rng: &mut Rng, name: &str, zone: Option<&str>, people: Vec<String>) -> Layer {
    let (unit, length) = match rng.below(10) {
        0..=3 => (ShiftUnit::Days, 1),
        4..=7 => (ShiftUnit::Weeks, 1 + rng.below(2) as u32),
        _ => (ShiftUnit::Hours, 12),
    };
    let handoffs = [
        time(9, 0, 0, 0),
        time(10, 0, 0, 0),
        time(0, 0, 0, 0),
        time(8, 30, 0, 0),
        time(17, 0, 0, 0),
        time(2, 30, 0, 0),
    ];
    Layer {
        name: name.into(),
        time_zone: zone.map(str::to_string),
        participants: people,
        shift_length: length,
        shift_unit: unit,
        start: date(2023, 1, 2)
            .checked_add(jiff::Span::new().days(rng.range(0, 3 * 365)))
            .unwrap(),
        handoff_time: *rng.pick(&handoffs),
        restrictions: Vec::new(),
    }
}

/// Three regions, each on call in its own working hours.
fn follow_the_sun(rng: &mut Rng) -> Vec<Layer> {
    let every_day = rng.chance(30);
    let days: &[Day] = if every_day { &[] } else { &WEEKDAYS };
    let start = date(2024, 1, 1)
        .checked_add(jiff::Span::new().weeks(rng.range(0, 100)))
        .unwrap();
    [
        ("APAC", "Australia/Sydney", (9, 17)),
        ("EMEA", "Europe/London", (6, 14)),
        ("AMER", "America/New_York", (9, 17)),
    ]
    .into_iter()
    .map(|(name, zone, (s, e))| {
        let people = rng.people(2, 4);
        Layer {
            name: name.into(),
            time_zone: Some(zone.into()),
            participants: people,
            shift_length: 1,
            shift_unit: ShiftUnit::Weeks,
            start,
            handoff_time: time(s, 0, 0, 0),
            restrictions: vec![window(days, time(s, 0, 0, 0), time(e, 0, 0, 0))],
        }
    })
    .collect()
}

/// A primary rotation, sometimes with business-hours and night or weekend layers.
fn layered(rng: &mut Rng) -> Vec<Layer> {
    let zone = rng.chance(30).then(|| *rng.pick(&ZONES));
    let people = rng.people(2, 8);
    let mut layers = vec![rotation(rng, "Primary", zone, people)];
    if rng.chance(50) {
        let zone = rng.chance(50).then(|| *rng.pick(&ZONES));
        let people = rng.people(2, 5);
        let mut l = rotation(rng, "Business hours", zone, people);
        l.restrictions = vec![window(&WEEKDAYS, time(9, 0, 0, 0), time(17, 0, 0, 0))];
        layers.push(l);
    }
    if rng.chance(35) {
        let people = rng.people(2, 4);
        let mut l = rotation(rng, "Out of hours", None, people);
        l.restrictions = if rng.chance(50) {
            vec![window(
                &[Day::Sat, Day::Sun],
                time(0, 0, 0, 0),
                time(0, 0, 0, 0),
            )]
        } else {
            vec![window(&[], time(18, 0, 0, 0), time(8, 0, 0, 0))]
        };
        layers.push(l);
    }
    layers
}

fn make(rng: &mut Rng, i: usize, from: Millis, to: Millis) -> Schedule {
    let ftp = rng.chance(20);
    let zone = if ftp { "UTC" } else { *rng.pick(&ZONES) };
    let layers = if ftp {
        follow_the_sun(rng)
    } else {
        layered(rng)
    };
    let mut versions = vec![Version {
        effective_from: from - rng.range(1, 400) * DAY_MS,
        layers,
    }];
    if rng.chance(33) {
        // An edit taking effect inside the window: the rotation re-ordered and handed
        // over an hour later.
        let mut layers = versions[0].layers.clone();
        for l in &mut layers {
            l.participants.rotate_left(1);
            l.handoff_time = l
                .handoff_time
                .wrapping_add(jiff::SignedDuration::from_hours(1));
        }
        versions.push(Version {
            effective_from: rng.range(from, to),
            layers,
        });
    }
    let everyone: Vec<String> = versions[0]
        .layers
        .iter()
        .flat_map(|l| l.participants.clone())
        .collect();
    let overrides = (0..rng.below(5))
        .map(|k| {
            let start = rng.range(from - 2 * DAY_MS, to);
            let action = match rng.below(20) {
                0..=7 => OverrideAction::Replace,
                8..=11 => OverrideAction::Add,
                12..=14 => OverrideAction::Remove,
                _ => OverrideAction::Replace,
            };
            let replaces = (action == OverrideAction::Replace && rng.chance(40))
                .then(|| rng.pick(&everyone).clone());
            let user = if action == OverrideAction::Remove || rng.chance(50) {
                rng.pick(&everyone).clone()
            } else {
                rng.user_id()
            };
            Override {
                id: format!("ovr-{i}-{k}"),
                start,
                end: start + rng.range(HOUR_MS, 3 * DAY_MS),
                action,
                user,
                replaces,
                created_at: from - rng.range(0, 30) * DAY_MS,
            }
        })
        .collect();
    Schedule {
        id: format!("sched-{i}"),
        name: format!("Schedule {i}"),
        description: None,
        time_zone: zone.into(),
        versions,
        overrides,
        created_at: 0,
        updated_at: 0,
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let from = args.from.parse::<Timestamp>()?.as_millisecond();
    let to = from + args.days * DAY_MS;
    let mut rng = Rng(args.seed);
    let schedules: Vec<Schedule> = (0..args.schedules)
        .map(|i| make(&mut rng, i, from, to))
        .collect();

    let t = Instant::now();
    let compiled = schedules
        .iter()
        .map(Compiled::new)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("compiling: {e}"))?;
    let compile_ms = t.elapsed().as_secs_f64() * 1000.0;

    let layers: usize = schedules
        .iter()
        .map(|s| s.versions.iter().map(|v| v.layers.len()).sum::<usize>())
        .sum();
    let two_versions = schedules.iter().filter(|s| s.versions.len() > 1).count();
    let overrides: usize = schedules.iter().map(|s| s.overrides.len()).sum();
    let segments: usize = compiled
        .iter()
        .map(|c| c.final_schedule(from, to).len())
        .sum();
    println!(
        "{} schedules ({layers} layers over all versions, {two_versions} with 2 versions, \
         {overrides} overrides), window {} + {} days",
        args.schedules, args.from, args.days
    );
    println!(
        "final schedules hold {segments} segments ({:.1} per schedule); compiling all took {compile_ms:.1} ms",
        segments as f64 / args.schedules.max(1) as f64
    );

    let run = || {
        let t = Instant::now();
        let mut n = 0;
        for c in &compiled {
            n += black_box(c.final_schedule(black_box(from), black_box(to))).len();
        }
        assert_eq!(n, segments, "the same answer every run");
        t.elapsed().as_secs_f64() * 1000.0
    };
    for _ in 0..args.warmup {
        run();
    }
    let mut totals: Vec<f64> = (0..args.runs).map(|_| run()).collect();
    totals.sort_by(f64::total_cmp);

    // One more pass, timing each schedule on its own.
    let mut each: Vec<f64> = compiled
        .iter()
        .map(|c| {
            let t = Instant::now();
            black_box(c.final_schedule(black_box(from), black_box(to)));
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    each.sort_by(f64::total_cmp);

    let Some(s) = Summary::of_ms(&totals) else {
        anyhow::bail!("no runs");
    };
    let median = percentile(&totals, 50.0).unwrap_or(f64::NAN);
    println!(
        "total per run over {} runs: min={:.2} ms  median={:.2} ms  p99={:.2} ms  max={:.2} ms  \
         (goal < {GOAL_TOTAL_MS} ms: {})",
        args.runs,
        totals[0],
        median,
        s.p99,
        s.max,
        verdict(s.p99, GOAL_TOTAL_MS)
    );
    println!(
        "per schedule (one pass): p50={:.1} µs  p90={:.1} µs  p99={:.1} µs  max={:.1} µs  mean={:.1} µs",
        percentile(&each, 50.0).unwrap_or(f64::NAN),
        percentile(&each, 90.0).unwrap_or(f64::NAN),
        percentile(&each, 99.0).unwrap_or(f64::NAN),
        each.last().copied().unwrap_or(f64::NAN),
        each.iter().sum::<f64>() / each.len().max(1) as f64,
    );
    Ok(())
}

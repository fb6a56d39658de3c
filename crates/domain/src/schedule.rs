//! On-call schedules: layers of rotations in their own time zones, weekday and
//! time-of-day restrictions, versions with effective dates, overrides, and the pure
//! computation of who is on call at an instant and the final schedule between two.
//!
//! The rules for time (see ADR 0005):
//! - A rotation whose shifts are whole **days or weeks** hands over at the same wall-clock
//!   time in the layer's zone every time; across a daylight-saving change that shift is
//!   23 or 25 hours long (or 23.5 / 24.5 where the change is half an hour).
//! - A rotation whose shifts are **hours** is counted in elapsed time from its first
//!   handoff: every shift is exactly that many hours, so none can double or vanish.
//! - A wall-clock time that does not exist (in a spring-forward gap) means the instant
//!   the gap ends; one that happens twice (in a fall-back fold) means the first. So a
//!   02:30 handoff in New York on spring-forward day is at 03:00 EDT (not jiff's
//!   "compatible" 03:30), making the shifts either side of it 23.5 hours each, and a
//!   restriction window wholly inside a gap is empty that day.
//! - Layers later in the list take precedence over earlier ones wherever they have
//!   somebody on call; overrides are applied over the layers in the order they were made.
//!
//! The computation lives in submodules: `zone` converts wall-clock times, `rotation`
//! places one layer's turns and restriction windows, `timeline` combines layers, versions
//! and overrides into the final schedule, and `validation` checks layers.

mod rotation;
#[cfg(test)]
mod tests;
mod timeline;
mod validation;
mod zone;

use crate::Millis;
use crate::validate::{FieldReason, Validation};
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// Most layers in one version, participants in one layer, restrictions in one layer.
pub const MAX_LAYERS: usize = 10;
pub const MAX_PARTICIPANTS: usize = 100;
pub const MAX_RESTRICTIONS: usize = 14;
/// Most versions a schedule keeps.
pub const MAX_VERSIONS: usize = 50;
/// Longest shift: 12 weeks, or the same span in hours or days.
pub const MAX_SHIFT_HOURS: u32 = 12 * 7 * 24;
/// Widest window one request may compute (`from` to `to`).
pub const MAX_RANGE_DAYS: i64 = 400;

/// The unit of a rotation's shift length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShiftUnit {
    Hours,
    Days,
    Weeks,
}

/// A day of the week, as written in restrictions: `mon` … `sun`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

/// A window in which a layer is active, in the layer's zone: on `days` (every day when
/// empty), from `start` to `end`. An `end` at or before `start` runs past midnight into
/// the next day; `start == end` is the whole day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Restriction {
    #[serde(default)]
    pub days: Vec<Day>,
    pub start: Time,
    pub end: Time,
}

/// One rotation: `participants` take turns of `shift_length` `shift_unit`s, the first
/// turn starting on `start` at `handoff_time` in `time_zone` (the schedule's when absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub name: String,
    #[serde(default)]
    pub time_zone: Option<String>,
    pub participants: Vec<String>,
    pub shift_length: u32,
    pub shift_unit: ShiftUnit,
    pub start: Date,
    pub handoff_time: Time,
    #[serde(default)]
    pub restrictions: Vec<Restriction>,
}

/// The layers in force from `effective_from` until the next version's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    pub effective_from: Millis,
    pub layers: Vec<Layer>,
}

/// What an override does over `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverrideAction {
    /// `user` is on call as well as whoever the layers say.
    Add,
    /// `user` is not on call.
    Remove,
    /// `user` takes over: from everyone on call, or only from `replaces` when it is set.
    Replace,
}

/// A change to the computed schedule for an interval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    pub id: String,
    pub start: Millis,
    pub end: Millis,
    pub action: OverrideAction,
    pub user: String,
    pub replaces: Option<String>,
    pub created_at: Millis,
}

/// A stored schedule. `versions` are sorted by `effective_from`; before the first one's
/// `effective_from` nobody is on call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub time_zone: String,
    pub versions: Vec<Version>,
    pub overrides: Vec<Override>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// One turn of one layer, after its restrictions: `user` is on call over `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shift {
    pub start: Millis,
    pub end: Millis,
    pub user: String,
    /// The layer's index within its version.
    pub layer: usize,
}

/// A stretch of the final schedule over which the same people are on call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub start: Millis,
    pub end: Millis,
    pub users: Vec<String>,
}

/// Looks up an IANA time zone name ("Europe/London"); the reason names the problem.
pub fn parse_zone(name: &str) -> Result<TimeZone, FieldReason> {
    if name.trim().is_empty() {
        return Err(FieldReason("must name a time zone".into()));
    }
    TimeZone::get(name).map_err(|_| {
        FieldReason(format!(
            "unknown time zone {name:?}; use an IANA name such as Europe/London"
        ))
    })
}

/// Checks a version's layers, naming each bad field under `prefix`
/// (`layers[0].participants`). Whether participants are real users is the caller's check.
///
/// Checked: 1 to [`MAX_LAYERS`] layers (reported on `prefix` itself); each layer's
/// `name` (non-blank, at most 100 characters), `time_zone` (a known IANA name when
/// present), `participants` (1 to [`MAX_PARTICIPANTS`], none blank), `shift_length`
/// (at least 1 and at most [`MAX_SHIFT_HOURS`] hours in all) and `restrictions` (at
/// most [`MAX_RESTRICTIONS`]; repeated days in one restriction are allowed).
pub fn validate_layers(v: &mut Validation, prefix: &str, layers: &[Layer]) {
    validation::layers(v, prefix, layers);
}

/// A schedule with its time zones looked up, ready to compute.
///
/// How the computation reads the schedule:
/// - Turn `k` (0, 1, 2, …; nothing before the first handoff) of a layer goes to
///   `participants[k % len]`. A days or weeks turn starts at the wall-clock time
///   `start.at(handoff_time) + k × length` in the layer's zone and ends where the next
///   one starts; an hours turn is `[T0 + k × length, T0 + (k + 1) × length)` in elapsed
///   time from the first handoff `T0`. Wall-clock times follow the module's gap and fold
///   rules.
/// - A layer with restrictions is on call only inside the union of its windows; a turn
///   cut by windows gives several [`Shift`]s for the same user.
/// - Version `i` is in force over `[versions[i].effective_from,
///   versions[i + 1].effective_from)`, the last one for ever; nobody is on call before
///   the first. (A version whose successor starts no later than it is never in force.)
/// - At an instant the layers give the user of the highest-index layer covering it.
/// - Overrides apply in ascending `created_at` (ties: list order) over `[start, end)`
///   (empty intervals are ignored): `Add` appends the user if absent, `Remove` takes
///   the user out, `Replace` without `replaces` makes the set exactly the user (even
///   where nobody was on call), `Replace` with `replaces` puts the user in the place of
///   `replaces` wherever that person is on call (if the user is already on call, it
///   just drops `replaces`). The set keeps a stable order: the layer's user first, then
///   added users in the order added.
/// - Computation is limited to jiff's timestamp range (about years −9999 to 9999, less
///   a month at each end); callers are expected to keep requests within
///   [`MAX_RANGE_DAYS`].
#[derive(Debug, Clone)]
pub struct Compiled {
    zones: Vec<TimeZone>,
    users: Vec<String>,
    versions: Vec<timeline::CompiledVersion>,
    overrides: Vec<timeline::CompiledOverride>,
}

impl Compiled {
    /// Fails when a zone name is unknown (stored schedules are validated on the way in,
    /// so this only happens if the time-zone database lost a name).
    pub fn new(schedule: &Schedule) -> Result<Compiled, FieldReason> {
        timeline::compile(schedule)
    }

    /// The turns of one layer of one version that fall within `[from, to)`, clipped to it
    /// and to the version's effective interval, with restrictions applied, in time order.
    /// Indices out of range give an empty list.
    pub fn layer_shifts(
        &self,
        version: usize,
        layer: usize,
        from: Millis,
        to: Millis,
    ) -> Vec<Shift> {
        self.shifts_of(version, layer, from, to)
    }

    /// The final schedule over `[from, to)`: layers by precedence, then overrides; only
    /// stretches with somebody on call, in time order, adjacent stretches with the same
    /// people merged.
    pub fn final_schedule(&self, from: Millis, to: Millis) -> Vec<Segment> {
        self.segments(from, to)
    }

    /// Who is on call at `at` (empty: nobody).
    pub fn on_call_at(&self, at: Millis) -> Vec<String> {
        self.users_at(at)
    }

    /// The stretches of `[from, to)` with nobody on call, in time order.
    pub fn gaps(&self, from: Millis, to: Millis) -> Vec<(Millis, Millis)> {
        self.gaps_in(from, to)
    }

    /// The first instant in `(after, after + horizon]` at which the set of people on call
    /// changes, if any: a boundary of the final schedule, including the start of a
    /// stretch after a gap and the end of one into a gap. Computed a window at a time, so
    /// its cost grows with the distance to the change (and a horizon past the last
    /// override and the computed range stops there).
    pub fn next_change(&self, after: Millis, horizon: Millis) -> Option<Millis> {
        self.change_after(after, horizon)
    }
}

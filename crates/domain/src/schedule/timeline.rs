//! The final schedule: compiling a [`Schedule`], choosing the version in force, layer
//! precedence, overrides, merging into segments, gaps and the next change, all as sweeps
//! over interval boundaries.

use super::rotation::{CompiledLayer, Piece, Scratch};
use super::zone::{DAY_MS, OffsetTable, max_instant, min_instant};
use super::{Compiled, OverrideAction, Schedule, Segment, Shift, parse_zone};
use crate::Millis;
use crate::validate::FieldReason;
use std::collections::HashMap;

/// A version with its interval in force, `[from, until)`.
#[derive(Debug, Clone)]
pub(crate) struct CompiledVersion {
    from: Millis,
    until: Millis,
    layers: Vec<CompiledLayer>,
}

/// An override with user indexes; kept in the order overrides apply.
#[derive(Debug, Clone)]
pub(crate) struct CompiledOverride {
    start: Millis,
    end: Millis,
    action: OverrideAction,
    user: u32,
    replaces: Option<u32>,
}

/// Builds the compiled form of `schedule`.
pub(crate) fn compile(schedule: &Schedule) -> Result<Compiled, FieldReason> {
    let mut zone_ids: HashMap<&str, usize> = HashMap::new();
    let mut zones = vec![parse_zone(&schedule.time_zone)?];
    zone_ids.insert(schedule.time_zone.as_str(), 0);
    let mut user_ids: HashMap<String, u32> = HashMap::new();
    let mut users: Vec<String> = Vec::new();
    let mut intern = |name: &str| -> u32 {
        if let Some(&i) = user_ids.get(name) {
            return i;
        }
        let i = users.len() as u32;
        users.push(name.to_string());
        user_ids.insert(name.to_string(), i);
        i
    };

    let mut versions = Vec::with_capacity(schedule.versions.len());
    for (i, v) in schedule.versions.iter().enumerate() {
        let until = schedule.versions.get(i + 1).map_or(Millis::MAX, |next| {
            next.effective_from.max(v.effective_from)
        });
        let mut layers = Vec::with_capacity(v.layers.len());
        for layer in &v.layers {
            let name = layer.time_zone.as_deref().unwrap_or(&schedule.time_zone);
            let zone = match zone_ids.get(name) {
                Some(&z) => z,
                None => {
                    zones.push(parse_zone(name)?);
                    zone_ids.insert(name, zones.len() - 1);
                    zones.len() - 1
                }
            };
            layers.push(CompiledLayer::new(layer, zone, &zones[zone], &mut intern));
        }
        versions.push(CompiledVersion {
            from: v.effective_from,
            until,
            layers,
        });
    }

    let mut order: Vec<usize> = (0..schedule.overrides.len()).collect();
    order.sort_by_key(|&i| (schedule.overrides[i].created_at, i));
    let overrides = order
        .into_iter()
        .map(|i| &schedule.overrides[i])
        .filter(|o| o.start < o.end)
        .map(|o| CompiledOverride {
            start: o.start,
            end: o.end,
            action: o.action,
            user: intern(&o.user),
            replaces: o.replaces.as_deref().map(&mut intern),
        })
        .collect();

    Ok(Compiled {
        zones,
        users,
        versions,
        overrides,
    })
}

/// The final schedule with user indexes: each segment's users are
/// `users[range.0..range.1]`.
#[derive(Debug, Default)]
struct Flat {
    spans: Vec<(Millis, Millis, usize, usize)>,
    users: Vec<u32>,
}

/// The zones' offset tables for one computation, built when first needed.
struct Tables<'a> {
    compiled: &'a Compiled,
    lo: Millis,
    hi: Millis,
    built: Vec<Option<OffsetTable>>,
}

impl<'a> Tables<'a> {
    fn new(compiled: &'a Compiled, lo: Millis, hi: Millis) -> Tables<'a> {
        Tables {
            compiled,
            lo,
            hi,
            built: vec![None; compiled.zones.len()],
        }
    }

    fn get(&mut self, zone: usize) -> &OffsetTable {
        let compiled = self.compiled;
        let (tz, lo, hi) = (&compiled.zones[zone], self.lo, self.hi);
        self.built[zone]
            .get_or_insert_with(|| OffsetTable::new(tz, lo - 3 * DAY_MS, hi + 3 * DAY_MS))
    }
}

/// `[from, to)` limited to the range the layers are computed over.
fn layer_range(from: Millis, to: Millis) -> (Millis, Millis) {
    (from.max(min_instant()), to.min(max_instant()))
}

impl Compiled {
    pub(super) fn shifts_of(
        &self,
        version: usize,
        layer: usize,
        from: Millis,
        to: Millis,
    ) -> Vec<Shift> {
        let Some(v) = self.versions.get(version) else {
            return Vec::new();
        };
        let Some(l) = v.layers.get(layer) else {
            return Vec::new();
        };
        let (lo, hi) = layer_range(from.max(v.from), to.min(v.until));
        if lo >= hi {
            return Vec::new();
        }
        let mut tables = Tables::new(self, lo, hi);
        let mut pieces = Vec::new();
        l.pieces(
            tables.get(l.zone),
            lo,
            hi,
            &mut pieces,
            &mut Scratch::default(),
        );
        pieces
            .into_iter()
            .map(|p| Shift {
                start: p.start,
                end: p.end,
                user: self.users[p.user as usize].clone(),
                layer,
            })
            .collect()
    }

    /// Who the layers put on call over `[from, to)` (before overrides): non-overlapping,
    /// in time order.
    fn base(&self, from: Millis, to: Millis) -> Vec<Piece> {
        let mut base = Vec::new();
        let (lo, hi) = layer_range(from, to);
        if lo >= hi {
            return base;
        }
        let mut tables = Tables::new(self, lo, hi);
        let mut scratch = Scratch::default();
        let mut pieces: Vec<Piece> = Vec::new();
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        let mut bounds: Vec<Millis> = Vec::new();
        let mut cursor: Vec<usize> = Vec::new();
        for v in &self.versions {
            let (vlo, vhi) = (lo.max(v.from), hi.min(v.until));
            if vlo >= vhi {
                continue;
            }
            pieces.clear();
            ranges.clear();
            for l in &v.layers {
                let a = pieces.len();
                l.pieces(tables.get(l.zone), vlo, vhi, &mut pieces, &mut scratch);
                ranges.push((a, pieces.len()));
            }
            let nonempty = ranges.iter().filter(|(a, b)| a < b).count();
            if nonempty <= 1 {
                // One layer with anybody on call: its pieces are the answer.
                for p in &pieces {
                    push_piece(&mut base, p.start, p.end, p.user);
                }
                continue;
            }
            // Sweep the elementary intervals between all piece boundaries; in each, the
            // highest layer with a piece covering it wins. Cursors only move forward.
            bounds.clear();
            bounds.extend(pieces.iter().flat_map(|p| [p.start, p.end]));
            bounds.sort_unstable();
            bounds.dedup();
            cursor.clear();
            cursor.extend(ranges.iter().map(|r| r.0));
            for w in bounds.windows(2) {
                let (b, b2) = (w[0], w[1]);
                let mut who = None;
                for (li, &(_, end)) in ranges.iter().enumerate().rev() {
                    let c = &mut cursor[li];
                    while *c < end && pieces[*c].end <= b {
                        *c += 1;
                    }
                    if *c < end && pieces[*c].start <= b {
                        who = Some(pieces[*c].user);
                        break;
                    }
                }
                if let Some(user) = who {
                    push_piece(&mut base, b, b2, user);
                }
            }
        }
        base
    }

    /// The final schedule over `[from, to)` with user indexes.
    fn flat(&self, from: Millis, to: Millis) -> Flat {
        let mut out = Flat::default();
        if from >= to {
            return out;
        }
        let base = self.base(from, to);
        let relevant: Vec<&CompiledOverride> = self
            .overrides
            .iter()
            .filter(|o| o.start < to && o.end > from)
            .collect();
        if relevant.is_empty() {
            // Base pieces are already merged by user.
            for p in &base {
                out.users.push(p.user);
                out.spans
                    .push((p.start, p.end, out.users.len() - 1, out.users.len()));
            }
            return out;
        }
        let mut bounds: Vec<Millis> = Vec::with_capacity(2 * (base.len() + relevant.len()) + 2);
        bounds.push(from);
        bounds.push(to);
        bounds.extend(base.iter().flat_map(|p| [p.start, p.end]));
        for o in &relevant {
            bounds.push(o.start.max(from));
            bounds.push(o.end.min(to));
        }
        bounds.sort_unstable();
        bounds.dedup();
        // Overrides covering the current interval, in application order.
        let mut by_start: Vec<usize> = (0..relevant.len()).collect();
        by_start.sort_by_key(|&i| relevant[i].start);
        let mut next = 0;
        let mut active: Vec<usize> = Vec::new();
        let mut bi = 0;
        let mut set: Vec<u32> = Vec::new();
        for w in bounds.windows(2) {
            let (b, b2) = (w[0], w[1]);
            active.retain(|&i| relevant[i].end > b);
            while next < by_start.len() && relevant[by_start[next]].start <= b {
                let i = by_start[next];
                let at = active.partition_point(|&x| x < i);
                active.insert(at, i);
                next += 1;
            }
            while bi < base.len() && base[bi].end <= b {
                bi += 1;
            }
            set.clear();
            if bi < base.len() && base[bi].start <= b {
                set.push(base[bi].user);
            }
            for &i in &active {
                apply(&mut set, relevant[i]);
            }
            if set.is_empty() {
                continue;
            }
            if let Some(last) = out.spans.last_mut()
                && last.1 == b
                && out.users[last.2..last.3] == set[..]
            {
                last.1 = b2;
                continue;
            }
            let a = out.users.len();
            out.users.extend_from_slice(&set);
            out.spans.push((b, b2, a, out.users.len()));
        }
        out
    }

    pub(super) fn segments(&self, from: Millis, to: Millis) -> Vec<Segment> {
        let flat = self.flat(from, to);
        flat.spans
            .iter()
            .map(|&(start, end, a, b)| Segment {
                start,
                end,
                users: flat.users[a..b]
                    .iter()
                    .map(|&u| self.users[u as usize].clone())
                    .collect(),
            })
            .collect()
    }

    pub(super) fn users_at(&self, at: Millis) -> Vec<String> {
        let flat = self.flat(at, at.saturating_add(1));
        match flat.spans.first() {
            Some(&(_, _, a, b)) => flat.users[a..b]
                .iter()
                .map(|&u| self.users[u as usize].clone())
                .collect(),
            None => Vec::new(),
        }
    }

    pub(super) fn gaps_in(&self, from: Millis, to: Millis) -> Vec<(Millis, Millis)> {
        let mut gaps = Vec::new();
        if from >= to {
            return gaps;
        }
        let mut at = from;
        for &(s, e, _, _) in &self.flat(from, to).spans {
            if s > at {
                gaps.push((at, s));
            }
            at = e;
        }
        if at < to {
            gaps.push((at, to));
        }
        gaps
    }

    pub(super) fn change_after(&self, after: Millis, horizon: Millis) -> Option<Millis> {
        if horizon <= 0 {
            return None;
        }
        // Instants up to and including after + horizon: the window [after, end). Past
        // the computed range and the last override nothing changes, so a huge horizon
        // ends there rather than walking to the end of time.
        let last = self
            .overrides
            .iter()
            .map(|o| o.end)
            .fold(max_instant(), Millis::max);
        let end = after.saturating_add(horizon).min(last).saturating_add(1);
        let mut lo = after;
        let mut chunk = DAY_MS;
        loop {
            let hi = lo.saturating_add(chunk).min(end);
            // Segments are merged and gaps are empty, so the first boundary strictly
            // inside (lo, hi) is a change; one at `hi` shows up in the next window,
            // which starts just before it.
            let flat = self.flat(lo, hi);
            if let Some(&(s, e, _, _)) = flat.spans.first() {
                if s > lo {
                    return Some(s);
                }
                if e < hi {
                    return Some(e);
                }
            }
            if hi >= end {
                return None;
            }
            lo = hi - 1;
            chunk = (chunk * 2).min(64 * DAY_MS);
        }
    }
}

/// Appends `[start, end)` for `user`, extending the last piece when it is the same user
/// and they touch.
fn push_piece(out: &mut Vec<Piece>, start: Millis, end: Millis, user: u32) {
    if let Some(last) = out.last_mut()
        && last.end == start
        && last.user == user
    {
        last.end = end;
        return;
    }
    out.push(Piece { start, end, user });
}

/// Applies one override to the set of people on call.
fn apply(set: &mut Vec<u32>, o: &CompiledOverride) {
    match (o.action, o.replaces) {
        (OverrideAction::Add, _) => {
            if !set.contains(&o.user) {
                set.push(o.user);
            }
        }
        (OverrideAction::Remove, _) => set.retain(|&u| u != o.user),
        (OverrideAction::Replace, None) => {
            set.clear();
            set.push(o.user);
        }
        (OverrideAction::Replace, Some(old)) => {
            if old == o.user {
                return;
            }
            if let Some(at) = set.iter().position(|&u| u == old) {
                if set.contains(&o.user) {
                    set.remove(at);
                } else {
                    set[at] = o.user;
                }
            }
        }
    }
}

//! Shared helpers of the benchmark binaries: percentiles and how figures are printed.

use std::time::Duration;

/// The nearest-rank percentile `p` (0..=100) of `sorted` (ascending); `None` if empty.
pub fn percentile<T: Copy>(sorted: &[T], p: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// A distribution of durations in milliseconds, summarised.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

impl Summary {
    /// Summarises `ms` (any order). `None` if empty.
    pub fn of_ms(ms: &[f64]) -> Option<Summary> {
        let mut v = ms.to_vec();
        v.sort_by(f64::total_cmp);
        Some(Summary {
            count: v.len(),
            p50: percentile(&v, 50.0)?,
            p90: percentile(&v, 90.0)?,
            p99: percentile(&v, 99.0)?,
            max: *v.last()?,
            mean: v.iter().sum::<f64>() / v.len() as f64,
        })
    }

    /// Summarises durations.
    pub fn of_durations(d: &[Duration]) -> Option<Summary> {
        let ms: Vec<f64> = d.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        Summary::of_ms(&ms)
    }

    /// One line: `label  n=… p50=… p90=… p99=… max=… mean=…` (ms).
    pub fn line(&self, label: &str) -> String {
        format!(
            "{label:<28} n={:<6} p50={:>8.1} ms  p90={:>8.1} ms  p99={:>8.1} ms  max={:>8.1} ms  mean={:>8.1} ms",
            self.count, self.p50, self.p90, self.p99, self.max, self.mean
        )
    }
}

/// `PASS`/`MISS` against a goal.
pub fn verdict(value: f64, goal_ms: f64) -> &'static str {
    if value < goal_ms { "PASS" } else { "MISS" }
}

/// The database URL with any password replaced by `***`.
pub fn redact(url: &str) -> String {
    match url.parse::<triad_store::DatabaseUrl>() {
        Ok(u) => u.redacted(),
        Err(_) => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 99.0), Some(99));
        assert_eq!(percentile(&v, 100.0), Some(100));
        assert_eq!(percentile(&v, 0.0), Some(1));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile::<i64>(&[], 50.0), None);
        let s = Summary::of_ms(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.count, s.p50, s.max, s.mean), (3, 2.0, 3.0, 2.0));
    }
}

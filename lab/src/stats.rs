//! Summaries of repeated measurements: the median with its min–max range (how the lab reports a
//! figure measured in several rounds), the per-round ratio of two variants, and a least-squares
//! slope.

use std::fmt;

/// The median of some values, with their smallest and largest.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MedianRange {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// How many values.
    pub n: usize,
}

impl MedianRange {
    /// None for no values. The median of an even count is the mean of the middle two.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<MedianRange> {
        let mut v: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let m = v.len() / 2;
        let median = if v.len() % 2 == 1 {
            v[m]
        } else {
            (v[m - 1] + v[m]) / 2.0
        };
        Some(MedianRange {
            median,
            min: v[0],
            max: v[v.len() - 1],
            n: v.len(),
        })
    }

    /// `median [min–max]` with `decimals` digits after the point; only the median for one value.
    pub fn show(&self, decimals: usize) -> String {
        let f = |v: f64| fixed(v, decimals);
        if self.n < 2 {
            f(self.median)
        } else {
            format!("{} [{}–{}]", f(self.median), f(self.min), f(self.max))
        }
    }

    /// Every figure divided by `d` (a change of unit).
    pub fn scaled(self, d: f64) -> MedianRange {
        MedianRange {
            median: self.median / d,
            min: self.min / d,
            max: self.max / d,
            n: self.n,
        }
    }
}

impl fmt::Display for MedianRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.show(2))
    }
}

/// `v` with `decimals` digits after the point, without the sign of a value that rounds to zero
/// (`0.0`, not `-0.0`).
pub fn fixed(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => s,
    }
}

/// `a / b`; None with a non-positive divisor or a non-finite figure.
pub fn ratio(a: f64, b: f64) -> Option<f64> {
    (b > 0.0 && a.is_finite() && b.is_finite()).then(|| a / b)
}

/// The ratio of two variants measured in the same rounds: each round's `a / b` (rounds where
/// either is missing are left out), summarised.
pub fn round_ratios(
    a: impl Fn(u32) -> Option<f64>,
    b: impl Fn(u32) -> Option<f64>,
    rounds: u32,
) -> Option<MedianRange> {
    MedianRange::of((0..rounds).filter_map(|r| ratio(a(r)?, b(r)?)))
}

/// Least-squares slope of y over x; 0 with fewer than two distinct x.
pub fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if points.len() < 2 {
        return 0.0;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if sxx == 0.0 {
        0.0
    } else {
        sxy / sxx
    }
}

/// A target "ratio at most `max`" and its verdict on a figure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Target {
    pub max: f64,
}

/// The outcome of a [`Target`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Met,
    Missed,
    /// No figure to judge (a side did not run).
    NoFigure,
}

impl Target {
    pub fn judge(self, r: Option<f64>) -> Verdict {
        match r {
            Some(r) if r <= self.max => Verdict::Met,
            Some(_) => Verdict::Missed,
            None => Verdict::NoFigure,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Met => "met",
            Verdict::Missed => "MISSED",
            Verdict::NoFigure => "-",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_range() {
        assert_eq!(MedianRange::of([]), None);
        let one = MedianRange::of([3.0]).unwrap();
        assert_eq!((one.median, one.min, one.max, one.n), (3.0, 3.0, 3.0, 1));
        assert_eq!(one.show(1), "3.0");
        let odd = MedianRange::of([9.0, 1.0, 5.0]).unwrap();
        assert_eq!((odd.median, odd.min, odd.max), (5.0, 1.0, 9.0));
        assert_eq!(odd.show(1), "5.0 [1.0–9.0]");
        assert_eq!(MedianRange::of([4.0, 1.0, 2.0, 100.0]).unwrap().median, 3.0);
        assert_eq!(MedianRange::of([f64::NAN, 2.0]).unwrap().n, 1);
        assert_eq!(odd.scaled(1000.0).max, 0.009);
        assert_eq!(
            MedianRange::of([-0.001, 0.0, -2.0]).unwrap().show(1),
            "0.0 [-2.0–0.0]"
        );
        assert_eq!(fixed(-0.04, 1), "0.0");
        assert_eq!(fixed(-0.06, 1), "-0.1");
    }

    #[test]
    fn ratios_pair_rounds() {
        // Round 1 of b is missing: only rounds 0 and 2 are paired.
        let a = [2.0, 3.0, 6.0];
        let b = [Some(4.0), None, Some(4.0)];
        let r = round_ratios(|i| Some(a[i as usize]), |i| b[i as usize], 3).unwrap();
        assert_eq!((r.n, r.min, r.max, r.median), (2, 0.5, 1.5, 1.0));
        assert_eq!(ratio(1.0, 0.0), None, "a zero divisor is no figure");
        assert_eq!(ratio(3.0, 2.0), Some(1.5));
    }

    #[test]
    fn targets() {
        let t = Target { max: 0.5 };
        assert_eq!(t.judge(Some(0.5)), Verdict::Met);
        assert_eq!(t.judge(Some(0.51)), Verdict::Missed);
        assert_eq!(t.judge(None), Verdict::NoFigure);
        assert_eq!(Verdict::Missed.to_string(), "MISSED");
    }

    #[test]
    fn slopes() {
        assert_eq!(slope(&[(1.0, 5.0)]), 0.0);
        assert_eq!(slope(&[(1.0, 5.0), (1.0, 6.0)]), 0.0);
        assert!((slope(&[(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]) - 2.0).abs() < 1e-12);
    }
}

//! The leak watch: call sites whose live count keeps rising from one snapshot to the next.
//!
//! The article found its leak by taking two heap profiles some time apart and comparing them by hand.
//! A [`LeakWatch`] does that continuously: sample it every second or so, and it reports the sites
//! whose live count rose in each of the last `k` samples, with how fast.

use super::{snapshot, Kind, Site};
use std::collections::{HashMap, VecDeque};
use std::time::Instant;

type SiteKey = (&'static str, u32, u32, Kind);

/// A call site whose live count rose in each of the last `k` samples of a [`LeakWatch`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Growth {
    /// The call site as the latest sample saw it (its live count and bytes included).
    pub site: Site,
    /// How many live timers the site gained over the last `k` samples.
    pub grown: u64,
    /// That gain per second.
    pub per_second: f64,
    /// How many samples in a row the live count has risen (at least `k`).
    pub rising_for: usize,
}

#[derive(Default)]
struct History {
    /// The last `k + 1` samples: when, and the live count.
    recent: VecDeque<(Instant, u64)>,
    /// Consecutive rises up to the latest sample.
    rising_for: usize,
}

/// Watches the timer profile for call sites whose live count keeps rising. Go's way is to take two
/// heap profiles and diff them; this keeps the last few counts of every site and reports those that
/// went up every time.
///
/// Call [`sample`](LeakWatch::sample) periodically (a second apart is a good pace: a site that
/// stops short of `k` rises in a row in a steady program is churn, not a leak).
///
/// ```
/// use gotimer::profile::LeakWatch;
/// use std::time::Duration;
///
/// let mut watch = LeakWatch::with_window(2);
/// let mut leaked = Vec::new();
/// let mut found = Vec::new();
/// for _ in 0..3 {
///     // The bug: a callback per iteration that nobody stops (kept here only to stop it at the end).
///     leaked.push(gotimer::after_func(Duration::from_secs(180), || {}));
///     found = watch.sample();
/// }
/// let g = found.iter().find(|g| g.site.line == line!() - 3).expect("the leaking line is reported");
/// assert_eq!(g.site.kind, gotimer::profile::Kind::AfterFunc);
/// assert_eq!(g.grown, 2);
/// assert!(g.per_second > 0.0);
/// for t in leaked {
///     t.stop();
/// }
/// ```
pub struct LeakWatch {
    k: usize,
    sites: HashMap<SiteKey, History>,
}

impl Default for LeakWatch {
    fn default() -> Self {
        LeakWatch::new()
    }
}

impl LeakWatch {
    /// The number of rises in a row [`new`](LeakWatch::new) asks for.
    pub const DEFAULT_WINDOW: usize = 3;

    /// A watch that reports a site after [`DEFAULT_WINDOW`](LeakWatch::DEFAULT_WINDOW) rises in a
    /// row, so from the fourth sample on.
    ///
    /// ```
    /// let mut watch = gotimer::profile::LeakWatch::new();
    /// assert!(watch.sample().is_empty(), "one sample cannot show a rise");
    /// ```
    pub fn new() -> Self {
        LeakWatch::with_window(Self::DEFAULT_WINDOW)
    }

    /// A watch that reports a site after `k` rises in a row (`k` is at least 1).
    ///
    /// ```
    /// let watch = gotimer::profile::LeakWatch::with_window(5);
    /// assert_eq!(watch.window(), 5);
    /// ```
    pub fn with_window(k: usize) -> Self {
        LeakWatch {
            k: k.max(1),
            sites: HashMap::new(),
        }
    }

    /// The number of rises in a row that gets a site reported.
    ///
    /// ```
    /// assert_eq!(gotimer::profile::LeakWatch::new().window(), 3);
    /// ```
    pub fn window(&self) -> usize {
        self.k
    }

    /// Takes a [`snapshot`](super::snapshot) and returns the sites whose live count rose in each of the
    /// last `k` samples, fastest-growing first.
    ///
    /// ```
    /// let mut watch = gotimer::profile::LeakWatch::new();
    /// for _ in 0..4 {
    ///     for g in watch.sample() {
    ///         println!("{}:{} {:?} +{:.0}/s", g.site.file, g.site.line, g.site.kind, g.per_second);
    ///     }
    /// }
    /// ```
    pub fn sample(&mut self) -> Vec<Growth> {
        let sites = snapshot();
        self.observe(&sites, Instant::now())
    }

    /// Like [`sample`](LeakWatch::sample), with a snapshot the caller took at `at`.
    ///
    /// ```
    /// use std::time::Instant;
    /// let mut watch = gotimer::profile::LeakWatch::with_window(1);
    /// let sites = gotimer::profile::snapshot();
    /// assert!(watch.observe(&sites, Instant::now()).is_empty());
    /// ```
    pub fn observe(&mut self, sites: &[Site], at: Instant) -> Vec<Growth> {
        let mut found = Vec::new();
        for site in sites {
            let key = (site.file, site.line, site.column, site.kind);
            let h = self.sites.entry(key).or_default();
            match h.recent.back() {
                Some(&(_, prev)) if site.live > prev => h.rising_for += 1,
                Some(_) => h.rising_for = 0,
                None => {}
            }
            h.recent.push_back((at, site.live));
            while h.recent.len() > self.k + 1 {
                h.recent.pop_front();
            }
            if h.rising_for < self.k {
                continue;
            }
            let (t0, live0) = h.recent[0];
            let grown = site.live - live0;
            let secs = at.saturating_duration_since(t0).as_secs_f64();
            found.push(Growth {
                site: site.clone(),
                grown,
                per_second: if secs > 0.0 {
                    grown as f64 / secs
                } else {
                    f64::INFINITY
                },
                rising_for: h.rising_for,
            });
        }
        found.sort_by(|a, b| {
            b.per_second
                .total_cmp(&a.per_second)
                .then(b.grown.cmp(&a.grown))
                .then((a.site.file, a.site.line, a.site.column).cmp(&(
                    b.site.file,
                    b.site.line,
                    b.site.column,
                )))
        });
        found
    }
}

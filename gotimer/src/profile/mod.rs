//! The timer profile: which lines of code created the timers that are alive, how many, how much
//! memory they hold, and when they are due. gotimer's answer to the article's
//! `go tool pprof …/debug/pprof/heap`, aimed straight at the call site.
//!
//! Accounting is always on (feature `profile`, on by default): every timer records its creation call
//! site through `#[track_caller]`, and each site keeps a created and a freed counter. A snapshot adds
//! the earliest and latest pending deadline per site by walking the wheels, one shard at a time. A
//! `Timer` or `Ticker` enters its wheel when its channel is first asked for (`c()`), so one that
//! nobody has waited on yet is counted live, with no deadline in the span.
//!
//! ```
//! use std::time::Duration;
//!
//! let timers: Vec<_> = (0..3).map(|_| gotimer::after_func(Duration::from_secs(60), || {})).collect();
//! let here = line!() - 1;
//! let site = gotimer::profile::snapshot()
//!     .into_iter()
//!     .find(|s| s.line == here && s.file.ends_with(".rs"))
//!     .unwrap();
//! assert_eq!(site.kind, gotimer::profile::Kind::AfterFunc);
//! assert_eq!(site.live, 3);
//! assert!(site.earliest.is_some());
//! timers.iter().for_each(|t| assert!(t.stop()));
//! ```

pub mod pprof;
mod watch;

pub use crate::sites::Kind;
pub use pprof::write_pprof;
pub use watch::{Growth, LeakWatch};

use std::time::Instant;

/// One call site's timers at the moment of a [`snapshot`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Site {
    /// The source file of the call that created the timers.
    ///
    /// The profile records up to 65,532 call sites. Sites past that are counted together, one row
    /// per kind, with the file `(call sites past gotimer's limit, merged)` and line and column 0
    /// (an `AfterFunc` row's bytes assume the first such callback's size).
    pub file: &'static str,
    /// Its line (0 for the merged row of sites past the limit).
    pub line: u32,
    /// Its column (0 for the merged row of sites past the limit).
    pub column: u32,
    /// What the call creates.
    pub kind: Kind,
    /// Timers from this site that are alive: pending, or held by a handle.
    pub live: u64,
    /// Bytes those timers hold: entry, wheel node, channel and closure (not heap the closure owns).
    pub live_bytes: u64,
    /// Timers this site has created since the process started.
    pub created: u64,
    /// The earliest deadline among this site's pending timers.
    pub earliest: Option<Instant>,
    /// The latest deadline among this site's pending timers.
    pub latest: Option<Instant>,
}

/// Every call site that has created a timer, with its counters, sorted by live bytes (largest first),
/// then by file and line.
///
/// ```
/// let t = gotimer::Ticker::new(std::time::Duration::from_secs(1));
/// let top = &gotimer::profile::snapshot()[0];
/// assert!(top.live_bytes >= top.live);
/// drop(t);
/// ```
pub fn snapshot() -> Vec<Site> {
    let spans = crate::runtime::pending_spans();
    let mut sites: Vec<Site> = crate::sites::all()
        .into_iter()
        .map(|s| {
            let live = s.live();
            let span = spans.get(s.id().index() as usize).copied().flatten();
            let (file, line, column) = s.place();
            Site {
                file,
                line,
                column,
                kind: s.kind(),
                live,
                live_bytes: live * s.bytes_each(),
                created: s.created(),
                earliest: span.map(|s| s.0),
                latest: span.map(|s| s.1),
            }
        })
        .collect();
    sites.sort_by(|a, b| {
        (b.live_bytes, a.file, a.line, a.column, a.kind).cmp(&(
            a.live_bytes,
            b.file,
            b.line,
            b.column,
            b.kind,
        ))
    });
    sites
}

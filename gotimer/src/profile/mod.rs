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
//! The pprof export ([`write_pprof`]) also shows who called the call site: the call chains of a
//! sample of the timers are recorded, at a rate set by [`set_chain_rate`], as Go's heap profile
//! records allocation stacks, so a timer made in a helper is charged to the helper's callers too.
//! Function names come from the executable's symbol table, so they show in a release build; files
//! and lines need line tables (`[profile.release] debug = "line-tables-only"`). With line tables
//! only, a function inlined into its caller is named without its module path (`handle`, not
//! `my_crate::server::handle`); full debug info (`debug = true`) keeps the path.
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

pub use crate::sites::chain::DEFAULT_RATE as DEFAULT_CHAIN_RATE;

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
    /// The profile records up to 65,531 call sites. Sites past that are counted together, one row
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
    /// Bytes those timers hold, as a counting allocator sees them (not heap a closure owns): a
    /// parked `Timer` or `Ticker` (made, `c()` never called) holds its entry alone (its `Arc`); an
    /// armed one also its channel and its node in the wheel, an `after_func` its entry, closure
    /// and wheel node. A wheel node is a slot of a slab that the wheel keeps once allocated, so the
    /// allocator still counts it after the timer stops.
    pub live_bytes: u64,
    /// Timers this site has created since the process started.
    pub created: u64,
    /// The earliest deadline among this site's pending timers.
    pub earliest: Option<Instant>,
    /// The latest deadline among this site's pending timers.
    pub latest: Option<Instant>,
    /// The site's id in the site table: what its sampled call chains name.
    pub(crate) id: u32,
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
            let armed = s.armed(live);
            let span = spans.get(s.id().index() as usize).copied().flatten();
            let (file, line, column) = s.place();
            Site {
                file,
                line,
                column,
                kind: s.kind(),
                live,
                live_bytes: armed * s.bytes_each() + (live - armed) * s.bytes_parked(),
                created: s.created(),
                earliest: span.map(|s| s.0),
                latest: span.map(|s| s.1),
                id: s.id().index(),
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

/// Sets how often a timer's call chain is recorded, as Go's `runtime.MemProfileRate` sets how often
/// an allocation's stack is: once a call site is warm, the chain of one timer in `rate` is
/// recorded (0: none; the rate is rounded down to a power of two; the default is
/// [`DEFAULT_CHAIN_RATE`], 4096). The chains are what `go tool pprof` shows above each call site:
/// the callers, so that a timer made in a helper is charged to whoever called the helper.
///
/// Each site's first timers are recorded more densely, so that a site that made a few hundred
/// timers still shows its callers: its first 16 timers all have their chains recorded, then one in
/// 2 up to the 32nd, one in 4 up to the 64th, and so on (8 per doubling) until one in `rate`; each
/// thread's timers are sampled in blocks of the width the site's count over all threads calls for,
/// so a new thread at a warm site does not start dense again. Which timer of each such block is
/// recorded is picked by a hash of the block, not always the first, so that a caller that
/// alternates with another is not always the one missed. A chain is recorded as bare return addresses (an unwind, a few microseconds); they
/// are turned into function names, files and lines only when a profile is written.
///
/// **How the counts are estimated.** A call site's counts (its live timers and bytes) are exact, as
/// they are without chains. Each recorded timer stands for as many timers as the width of its block
/// (its weight); a profile splits the site's exact live count among the site's chains in proportion
/// to the summed weight of each chain's recorded timers that are still alive. So the site's own
/// frame keeps its exact figures in every view of pprof, and only the share of each caller is an
/// estimate, unbiased in the way Go's heap profile is, with an error of about one block at each
/// end of a caller's run of timers. Go instead scales each sample on its own, which makes even a
/// site's total an estimate; gotimer counts every site anyway, so it keeps that total and splits it.
///
/// Set the rate early, as with `MemProfileRate`: timers made before keep the chains (or lack of
/// them) they were made with.
///
/// ```
/// use gotimer::profile;
///
/// assert_eq!(profile::chain_rate(), profile::DEFAULT_CHAIN_RATE);
/// profile::set_chain_rate(1000); // one in 512: rounded down to a power of two
/// assert_eq!(profile::chain_rate(), 512);
/// profile::set_chain_rate(0); // no chains: only the call sites
/// assert_eq!(profile::chain_rate(), 0);
/// profile::set_chain_rate(profile::DEFAULT_CHAIN_RATE);
/// ```
pub fn set_chain_rate(rate: u32) {
    crate::sites::chain::set_rate(rate)
}

/// The rate set by [`set_chain_rate`]: one timer in this many, once a site is warm, has its call
/// chain recorded (a power of two; 0 when chains are off).
///
/// ```
/// let rate = gotimer::profile::chain_rate();
/// assert!(rate == 0 || rate.is_power_of_two());
/// ```
pub fn chain_rate() -> u32 {
    crate::sites::chain::rate()
}

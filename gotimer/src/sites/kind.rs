//! What a call site creates: the public [`Kind`] (`gotimer::profile::Kind`), part of a site's key,
//! since one line can create timers of two kinds (`Timer::new` and `after_func` in one
//! expression) and the profile shows them apart. Its own file because it is the one public item
//! of the site table, and the one the profile and the runtime both name.

/// The kind of timer a call site creates.
///
/// New kinds may be added, so a `match` on it needs a wildcard arm.
///
/// ```
/// # #[cfg(feature = "profile")] {
/// use gotimer::profile::Kind;
/// assert_eq!(Kind::AfterFunc.name(), "AfterFunc");
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Kind {
    /// `Timer::new`.
    Timer,
    /// `Ticker::new`.
    Ticker,
    /// `after_func`.
    AfterFunc,
    /// `tick`.
    Tick,
    /// `after` on a fake clock (the system clock's `after` registers nothing, so it has no site).
    After,
    /// `future::sleep`, `future::sleep_until`: a task's sleep.
    Sleep,
    /// `future::timeout`, `future::timeout_at`: a task's deadline on a future.
    Timeout,
    /// `future::interval`: a task's ticker.
    Interval,
}

impl Kind {
    /// How many kinds there are: one overflow record each.
    pub(super) const COUNT: u32 = 8;

    /// The Go-style name: `Timer`, `Ticker`, `AfterFunc`, `Tick` or `After`; for a task's timers,
    /// `Sleep`, `Timeout` or `Interval`.
    ///
    /// ```
    /// # #[cfg(feature = "profile")]
    /// assert_eq!(gotimer::profile::Kind::Tick.name(), "Tick");
    /// ```
    #[cfg_attr(not(feature = "profile"), allow(dead_code))]
    pub fn name(self) -> &'static str {
        match self {
            Kind::Timer => "Timer",
            Kind::Ticker => "Ticker",
            Kind::AfterFunc => "AfterFunc",
            Kind::Tick => "Tick",
            Kind::After => "After",
            Kind::Sleep => "Sleep",
            Kind::Timeout => "Timeout",
            Kind::Interval => "Interval",
        }
    }
}

// `COUNT` ids are set apart for the overflow records, indexed by `kind as u32`: it must be one more
// than the last kind's discriminant.
const _: () = assert!(Kind::Interval as u32 + 1 == Kind::COUNT);

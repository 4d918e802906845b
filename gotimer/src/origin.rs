//! Where a timer was created, and the per-site accounting that the profile reads.
//!
//! An `Origin` names its call site in `crate::sites`. With the `profile` feature (the default) the
//! site's counters count the timer's creation here and its freeing when its entry drops; without it
//! the site only gives the `#[track_caller]` location for the panic report of `after_func`.

use std::panic::Location;

/// The kind of timer a call site creates.
///
/// ```
/// # #[cfg(feature = "profile")] {
/// use gotimer::profile::Kind;
/// assert_eq!(Kind::AfterFunc.name(), "AfterFunc");
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
}

impl Kind {
    /// The Go-style name: `Timer`, `Ticker`, `AfterFunc`, `Tick` or `After`.
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
        }
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Origin {
    /// The site's id in `crate::sites`: 4 bytes, not an 8-byte pointer, so an entry stays small.
    site: u32,
}

impl Origin {
    /// Records the creation of a timer of `kind` at `location` that holds `bytes_each` bytes.
    #[inline(always)]
    pub(crate) fn new(location: &'static Location<'static>, kind: Kind, bytes_each: u64) -> Self {
        Origin {
            site: crate::sites::create(location, kind, bytes_each),
        }
    }

    pub(crate) fn location(self) -> &'static Location<'static> {
        self.stats().location
    }

    /// Records that the timer's entry was freed.
    #[inline]
    pub(crate) fn on_free(self) {
        #[cfg(feature = "profile")]
        self.stats().on_free();
    }

    /// The site's id in `crate::sites`.
    #[cfg(feature = "profile")]
    pub(crate) fn id(self) -> u32 {
        self.site
    }

    pub(crate) fn stats(self) -> &'static crate::sites::SiteStats {
        crate::sites::stats(self.site)
    }
}

//! Where a timer was created, and the per-site accounting that the profile reads.
//!
//! With the `profile` feature (the default) an `Origin` points at its site's counters, which count
//! the timer's creation here and its freeing when its entry drops. Without the feature it is just the
//! `#[track_caller]` location, kept for the panic report of `after_func` callbacks.

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
}

impl Kind {
    /// The Go-style name: `Timer`, `Ticker`, `AfterFunc` or `Tick`.
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
        }
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Origin {
    /// The site's id in the profile registry: 4 bytes, so an entry stays small.
    #[cfg(feature = "profile")]
    site: u32,
    #[cfg(not(feature = "profile"))]
    location: &'static Location<'static>,
}

impl Origin {
    /// Records the creation of a timer of `kind` at `location` that holds `bytes_each` bytes.
    #[cfg_attr(not(feature = "profile"), allow(unused_variables))]
    pub(crate) fn new(location: &'static Location<'static>, kind: Kind, bytes_each: u64) -> Self {
        #[cfg(feature = "profile")]
        {
            let site = crate::profile::create(location, kind, bytes_each);
            Origin { site }
        }
        #[cfg(not(feature = "profile"))]
        Origin { location }
    }

    pub(crate) fn location(self) -> &'static Location<'static> {
        #[cfg(feature = "profile")]
        return self.stats().location;
        #[cfg(not(feature = "profile"))]
        self.location
    }

    /// Records that the timer's entry was freed.
    #[inline]
    pub(crate) fn on_free(self) {
        #[cfg(feature = "profile")]
        self.stats().on_free();
    }

    #[cfg(feature = "profile")]
    pub(crate) fn stats(self) -> &'static crate::profile::SiteStats {
        crate::profile::stats(self.site)
    }
}

//! The runtime's time line: nanoseconds since the runtime started, as the wheel counts them.
//!
//! `Instant` is opaque and 16 bytes; the wheel wants a `u64` it can shift. Converting at the edges
//! keeps exact nanoseconds, so the value a timer delivers is its deadline to the nanosecond.

use crate::wheel::MAX_DEADLINE;
use std::time::{Duration, Instant};

pub(crate) struct Clock {
    base: Instant,
}

impl Clock {
    pub(crate) fn new() -> Self {
        Clock {
            base: Instant::now(),
        }
    }

    pub(crate) fn now(&self) -> u64 {
        self.ns_at(Instant::now())
    }

    /// Nanoseconds from the base to `t` (0 for an instant before the base).
    pub(crate) fn ns_at(&self, t: Instant) -> u64 {
        let d = t.saturating_duration_since(self.base);
        u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
    }

    pub(crate) fn instant(&self, ns: u64) -> Instant {
        self.base + Duration::from_nanos(ns)
    }

    /// The deadline `d` after `now`, or `None` if it is beyond the wheel's range (146 years from the
    /// base), which we treat as never.
    pub(crate) fn deadline(now: u64, d: Duration) -> Option<u64> {
        u64::try_from(d.as_nanos())
            .ok()
            .and_then(|d| now.checked_add(d))
            .filter(|&t| t <= MAX_DEADLINE)
    }
}

//! A runtime's time line: nanoseconds since the runtime started, as its wheels count them, read
//! from the monotonic clock (the system clock) or from a number that only `FakeClock::advance`
//! moves (a manual clock).
//!
//! `Instant` is opaque and 16 bytes; the wheel wants a `u64` it can shift. Converting at the edges
//! keeps exact nanoseconds, so the value a timer delivers is its deadline to the nanosecond, on
//! either kind of clock.
//!
//! This is half of what sets the system runtime apart from a manual one (the other half is who fires
//! what is due: the driver thread, or `FakeClock::advance`). Everything above it (entries, shards,
//! handles) is the same code on both.

use crate::sync::{AtomicU64, Ordering::SeqCst};
use crate::wheel::{MAX_DEADLINE, RESOLUTION_NS};
use std::time::{Duration, Instant};

/// Sleeps shorter than this yield in a loop instead of sleeping in the kernel; see
/// [`sleep`](crate::sleep). The kernel's default timer slack (50 µs) and a virtual machine's
/// wake-up latency make a shorter timed sleep several times too long, so the driver never sleeps
/// shorter either: it files a faster ticker's ticks at least this far apart.
///
/// ```
/// use std::time::Instant;
/// let start = Instant::now();
/// gotimer::sleep(gotimer::SPIN_BELOW / 2);
/// assert!(start.elapsed() >= gotimer::SPIN_BELOW / 2);
/// ```
pub const SPIN_BELOW: Duration = Duration::from_micros(50);

pub(crate) struct Timeline {
    base: Instant,
    source: Source,
}

enum Source {
    /// `Instant::now()`.
    Monotonic,
    /// Nanoseconds since `base`. Written only by the manual drive, and only while it holds the lock
    /// of the runtime's one shard: a time read under that lock cannot be overtaken.
    Manual(AtomicU64),
    /// The loom models' time: set by the model between its phases, and read without the lock like
    /// the monotonic clock, so that the models cover the lock-free reset.
    #[cfg(all(test, gotimer_loom))]
    Simulated(AtomicU64),
}

impl Timeline {
    /// The monotonic clock, counted from now.
    pub(crate) fn monotonic() -> Self {
        Timeline {
            base: Instant::now(),
            source: Source::Monotonic,
        }
    }

    /// A clock that reads `Instant::now()` at creation and stands still until `set` moves it.
    pub(crate) fn manual() -> Self {
        Timeline {
            base: Instant::now(),
            source: Source::Manual(AtomicU64::new(0)),
        }
    }

    #[inline]
    pub(crate) fn now(&self) -> u64 {
        match &self.source {
            Source::Monotonic => self.ns_at(Instant::now()),
            Source::Manual(ns) => ns.load(SeqCst),
            #[cfg(all(test, gotimer_loom))]
            Source::Simulated(ns) => ns.load(SeqCst),
        }
    }

    /// A time line for the loom models; see `Source::Simulated`.
    #[cfg(all(test, gotimer_loom))]
    pub(crate) fn simulated() -> Self {
        Timeline {
            base: Instant::now(),
            source: Source::Simulated(AtomicU64::new(0)),
        }
    }

    /// The time, if it may be used before taking a shard lock: always for the monotonic clock (it
    /// moves on regardless, and the driver fires whatever turns out to be overdue); never for a
    /// manual one, which `advance` moves under the shard lock, so that a time read before the lock
    /// could be stale by the whole advance and schedule a timer in the past that nobody will fire.
    #[inline]
    pub(crate) fn unlocked_now(&self) -> Option<u64> {
        match &self.source {
            Source::Monotonic => Some(self.ns_at(Instant::now())),
            Source::Manual(_) => None,
            #[cfg(all(test, gotimer_loom))]
            Source::Simulated(ns) => Some(ns.load(SeqCst)),
        }
    }

    /// The shortest wait a driver thread is asked to sleep between ticks of a fast ticker: the
    /// kernel's timer slack and wake-up latency ([`SPIN_BELOW`]) on the
    /// monotonic clock; 0 where time only jumps (a fake clock's, the loom models').
    #[inline]
    pub(crate) fn driver_floor(&self) -> u64 {
        match &self.source {
            Source::Monotonic => SPIN_BELOW.as_nanos() as u64,
            _ => 0,
        }
    }

    /// Moves a manual clock to `ns`. Caller holds the lock of the runtime's shard, and `ns` is not
    /// before the current time.
    pub(crate) fn set(&self, ns: u64) {
        match &self.source {
            Source::Manual(now) => {
                debug_assert!(ns >= now.load(SeqCst), "gotimer: a manual clock went back");
                now.store(ns, SeqCst)
            }
            #[cfg(all(test, gotimer_loom))]
            Source::Simulated(now) => now.store(ns, SeqCst),
            Source::Monotonic => unreachable!("gotimer: the monotonic clock cannot be set"),
        }
    }

    /// Nanoseconds from the base to `t` (0 for an instant before the base).
    #[inline]
    pub(crate) fn ns_at(&self, t: Instant) -> u64 {
        let d = t.saturating_duration_since(self.base);
        u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
    }

    #[inline]
    pub(crate) fn instant(&self, ns: u64) -> Instant {
        self.base + Duration::from_nanos(ns)
    }

    /// The deadline of `due` at time `now`, or `None` if it is beyond the wheel's range (146 years
    /// from the base), which we treat as never. An instant before the base counts as the base: it is
    /// past either way.
    #[inline]
    pub(crate) fn deadline(&self, now: u64, due: Due) -> Option<u64> {
        match due {
            Due::In(d) => u64::try_from(d.as_nanos())
                .ok()
                .and_then(|d| now.checked_add(d)),
            Due::At(at) => Some(self.ns_at(at)),
        }
        .filter(|&t| t <= MAX_DEADLINE)
    }
}

/// When a schedule is due: a duration from the time it is made (Go's `Reset(d)`), or an instant.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Due {
    In(Duration),
    At(Instant),
}

impl Due {
    /// A wait of more than zero but less than one tick of the wheel (1.024 µs) from the time it is
    /// made: it is likely over before whatever made it looks again, so filing it in the wheel at
    /// once would only make the driver wake its waiter, where a second clock read finds it due.
    /// (A zero wait is due when it is made, and fires then without the lock.)
    #[inline]
    pub(crate) fn is_under_a_tick(self) -> bool {
        // Compared as parts: `as_nanos` multiplies in 128 bits, on every sleep made.
        matches!(self, Due::In(d) if d.as_secs() == 0 && (1..RESOLUTION_NS as u32).contains(&d.subsec_nanos()))
    }
}

//! A timer entry: what the wheel holds, and the state machine every kind of timer shares.
//!
//! An entry is an `Arc` shared by the user's handle (if any) and, while it is pending, by its node in
//! a shard's wheel. Its state is one word, `slot`, and it changes only under the lock of the shard the
//! entry belongs to. Delivery (sending on the channel, or committing a callback) happens under that
//! same lock, which is what makes `stop`/`reset` exact: they either find the entry still pending, or
//! find its value already in the channel, where they can drain it.
//!
//! ```text
//!              schedule(d)                      comes due (driver, or at once if d <= now)
//!   IDLE ─────────────────────▶ key in wheel ─────────────────────────────▶ IDLE  + value sent /
//!    ▲  ◀──── stop / drop ──────  │    ▲                                          callback committed
//!    │                            │    └── reset (later: lazy, same key)
//!    │  schedule(never)           ▼
//!    └──────── stop ────────── NEVER (pending, no deadline in range: Duration::MAX)
//! ```
//! A ticker's entry goes straight back into the wheel when it fires, at its next phase-aligned tick.
//!
//! One transition happens without the lock: a `Timer` (`Deliver`) that is in the wheel can move its
//! deadline later with one compare-and-swap of `Deliver::when`, which the driver claims with a
//! compare-and-swap of its own before it sends (see `Deliver`). Its `slot` does not change: the
//! entry stays pending, in the same node, and the driver re-inserts it when the node comes up early.

use crate::clock::Clock;
use crate::origin::Origin;
use crate::sync::{
    AtomicU32, AtomicU64,
    Ordering::{AcqRel, Acquire, Relaxed, Release},
};
use crossbeam_channel::{Sender, TrySendError};
use std::time::Instant;

/// `slot` value: not pending.
pub(crate) const IDLE: u32 = u32::MAX;
/// `slot` value: pending with a deadline too far away to ever come (kept out of the wheel).
pub(crate) const NEVER: u32 = u32::MAX - 1;

/// The wheel's payload: a type-erased entry.
pub(crate) type EntryRef = std::sync::Arc<Entry<dyn Action>>;

pub(crate) struct Entry<A: ?Sized> {
    /// `IDLE`, `NEVER`, or the entry's wheel key. Read and written only under the shard lock, so
    /// `Relaxed` suffices: the lock orders every access.
    slot: AtomicU32,
    /// Where the timer was created (`#[track_caller]`), for the profile and reports.
    pub(crate) origin: Origin,
    pub(crate) action: A,
}

impl<A> Entry<A> {
    pub(crate) fn new(origin: Origin, action: A) -> Self {
        Entry {
            slot: AtomicU32::new(IDLE),
            origin,
            action,
        }
    }
}

impl<A: ?Sized> Drop for Entry<A> {
    fn drop(&mut self) {
        self.origin.on_free();
    }
}

impl<A: ?Sized> Entry<A> {
    /// Caller holds the shard lock.
    pub(crate) fn slot(&self) -> u32 {
        self.slot.load(Relaxed)
    }

    /// Caller holds the shard lock.
    pub(crate) fn set_slot(&self, slot: u32) {
        self.slot.store(slot, Relaxed)
    }
}

/// What a timer does when it comes due.
pub(crate) enum Fired {
    /// Nothing more: the entry is idle.
    Done,
    /// Put the entry back in the wheel at this deadline (a ticker's next tick).
    Again(u64),
    /// Run the entry's callback on a pool thread.
    Dispatch,
}

/// The kind-specific part of an entry.
pub(crate) trait Action: Send + Sync + 'static {
    /// Called under the shard lock when the entry's deadline `due` has passed; `now >= due`.
    fn fire(&self, due: u64, now: u64, clock: &Clock) -> Fired;

    /// Runs the callback, on a pool thread, after `fire` returned `Fired::Dispatch`.
    fn run(&self) {}

    /// Sets a ticker's period in nanoseconds (not 0); called under the shard lock.
    fn set_period(&self, _period: u64) {}

    /// Heap bytes the action owns outside the entry itself (its channel).
    fn heap_bytes(&self) -> u64 {
        0
    }

    /// Records the entry's deadline while it is in the wheel (`None`: not in the wheel); called under
    /// the shard lock on every schedule and cancel. Only `Deliver` keeps it, for `reset_later`.
    fn set_deadline(&self, _deadline: Option<u64>) {}

    /// Moves a pending entry to a later `deadline` without the shard lock; false if it cannot (not
    /// pending, or the deadline is earlier), and then the caller takes the locked path.
    fn reset_later(&self, _deadline: u64) -> bool {
        false
    }

    /// The deadline the entry will really fire at, if it differs from its wheel node's.
    fn deadline(&self) -> Option<u64> {
        None
    }
}

/// What `crossbeam_channel::bounded::<Instant>(1)` allocates (checked by `tests/memory.rs`).
pub(crate) const CHANNEL_BYTES: u64 = 664;

/// `Timer::new`: one value on a channel of capacity 1.
///
/// Its `when` makes the idle-timeout loop (`reset` to a later deadline on every message) lock-free,
/// as Go's `timerModifiedLater` does: `when` is the deadline the timer will really fire at, at or
/// after its wheel node's, and `reset_later` moves it with one compare-and-swap. The driver claims
/// the entry with a compare-and-swap of its own before it sends, so exactly one of the two wins:
/// either the reset lands first and the driver puts the entry back in the wheel at the new `when`,
/// or the driver sends first and the reset, finding `NOT_IN_WHEEL`, takes the locked path (which
/// drains the value and reports it kept one from being received).
pub(crate) struct Deliver {
    pub(crate) tx: Sender<Instant>,
    pub(crate) when: AtomicU64,
}

/// `Deliver::when` of an entry that is not in the wheel.
const NOT_IN_WHEEL: u64 = u64::MAX;

impl Deliver {
    pub(crate) fn new(tx: Sender<Instant>) -> Self {
        Deliver {
            tx,
            when: AtomicU64::new(NOT_IN_WHEEL),
        }
    }
}

impl Action for Deliver {
    fn fire(&self, due: u64, now: u64, clock: &Clock) -> Fired {
        // `when` is set by every schedule under this same lock, so it is in the wheel; the check
        // only guards the loop.
        let mut when = self.when.load(Acquire);
        let mut at = due;
        while when != NOT_IN_WHEEL {
            if when > now {
                // Reset to later since it was put in the wheel: back in at the new deadline.
                return Fired::Again(when);
            }
            match self
                .when
                .compare_exchange(when, NOT_IN_WHEEL, AcqRel, Acquire)
            {
                Ok(_) => {
                    at = when;
                    break;
                }
                Err(moved) => when = moved,
            }
        }
        // Full cannot happen: every schedule drains the channel first. Disconnected means the
        // handle is gone, and then nobody is left to tell.
        let _ = self.tx.try_send(clock.instant(at));
        Fired::Done
    }

    fn set_deadline(&self, deadline: Option<u64>) {
        self.when.store(deadline.unwrap_or(NOT_IN_WHEEL), Release);
    }

    fn reset_later(&self, deadline: u64) -> bool {
        let mut when = self.when.load(Acquire);
        while when != NOT_IN_WHEEL && deadline >= when {
            match self.when.compare_exchange(when, deadline, AcqRel, Acquire) {
                Ok(_) => return true,
                Err(moved) => when = moved,
            }
        }
        false
    }

    fn deadline(&self) -> Option<u64> {
        Some(self.when.load(Relaxed)).filter(|&w| w != NOT_IN_WHEEL)
    }

    fn heap_bytes(&self) -> u64 {
        CHANNEL_BYTES
    }
}

/// `Ticker::new` and `tick`: phase-aligned ticks, dropped while the receiver is behind.
pub(crate) struct Tick {
    pub(crate) tx: Sender<Instant>,
    /// Period in nanoseconds, never 0. Changed only under the shard lock, by `Ticker::reset`.
    pub(crate) period: AtomicU64,
}

impl Action for Tick {
    fn fire(&self, due: u64, now: u64, clock: &Clock) -> Fired {
        if let Err(TrySendError::Disconnected(_)) = self.tx.try_send(clock.instant(due)) {
            return Fired::Done; // every receiver is gone: the ticker frees itself
        }
        let period = self.period.load(Relaxed);
        // The first tick of the schedule t0 + k*period that is after `now`: missed ticks are dropped.
        let missed = (now - due) / period;
        match (missed + 1)
            .checked_mul(period)
            .and_then(|skip| due.checked_add(skip))
            .filter(|&next| next <= crate::wheel::MAX_DEADLINE)
        {
            Some(next) => Fired::Again(next),
            None => Fired::Done,
        }
    }

    fn set_period(&self, period: u64) {
        self.period.store(period, Relaxed)
    }

    fn heap_bytes(&self) -> u64 {
        CHANNEL_BYTES
    }
}

/// `after_func`: a callback that may run many times (once per schedule), so `Fn`, not `FnOnce`.
pub(crate) struct Func<F>(pub(crate) F);

impl<F: Fn() + Send + Sync + 'static> Action for Func<F> {
    fn fire(&self, _due: u64, _now: u64, _clock: &Clock) -> Fired {
        Fired::Dispatch
    }

    fn run(&self) {
        (self.0)()
    }
}

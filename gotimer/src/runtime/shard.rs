//! A shard: one wheel behind one lock, plus the earliest deadline it holds, published for the driver.
//!
//! Timers are spread over several shards (each thread creates in its own) so that threads creating
//! and stopping timers do not queue on one lock (tokio #6504). The driver finds due shards by
//! reading each shard's `next` without locking, and locks only those, so a wakeup does not touch
//! every shard (the cost that made tokio revert its sharded timer). A manual runtime has one shard,
//! so that its timers fire in one reproducible order.
//!
//! The shard owns the lock and the wheel; what happens to an entry under the lock is the entry's
//! state machine (`entry/locked.rs`), which this composes into a handle's `stop` and `reset`, the
//! driver's `poll` and the manual runtime's `step`.

use super::entry::{AfterUnlock, Batch, Delivery, Entry, Filed, Held, Locked, Share};
use super::faults;
use super::time::{Due, Timeline};
use crate::sync::{lock, AtomicU64, Mutex, Ordering::SeqCst};
use crate::wheel::{Wheel, RESOLUTION_NS};
use std::sync::Arc;

pub(crate) struct Shard {
    wheel: Mutex<Wheel<Filed>>,
    /// A time at or before the earliest deadline in the wheel (`u64::MAX`: empty). Lowered by
    /// whoever inserts, recomputed by the driver after each poll.
    next: AtomicU64,
}

impl Shard {
    pub(crate) fn new() -> Self {
        Shard {
            wheel: Mutex::new(Wheel::new()),
            next: AtomicU64::new(u64::MAX),
        }
    }

    #[inline]
    pub(crate) fn lock(&self) -> Locked<'_> {
        Locked::new(lock(&self.wheel), &self.next)
    }

    /// A handle's `stop`: cancels the entry, then runs `under_lock(was_pending)` (the channel drain)
    /// while the entry cannot fire. True if it was pending or `under_lock` returned true.
    #[inline]
    pub(crate) fn stop<A: Delivery + ?Sized>(
        &self,
        entry: &Entry<A>,
        under_lock: impl FnOnce(&Held, bool) -> bool,
    ) -> bool {
        let mut locked = self.lock();
        let pending = locked.unfile(entry);
        under_lock(locked.held(), pending) | pending
    }

    /// A handle's `reset`: gives the entry the deadline of `due` on `time`, replacing its old
    /// schedule, and returns whether it was pending (or `under_lock` returned true) and what the
    /// caller must do once the lock is released (`None`: nothing).
    ///
    /// On the locked path `under_lock(was_pending)` runs first, while the entry cannot fire (the
    /// channel drain). A pending one-shot channel timer moved later takes the lock-free path
    /// instead (`Delivery::reset_later`), and then `under_lock` does not run: there is nothing to
    /// drain, since a pending one-shot timer has sent nothing.
    #[inline]
    pub(crate) fn reset<A: Share + ?Sized>(
        &self,
        entry: &Arc<Entry<A>>,
        due: Due,
        time: &Timeline,
        under_lock: impl FnOnce(&Held, bool) -> bool,
    ) -> (bool, Option<AfterUnlock>) {
        let early = time.unlocked_now();
        let mut early_deadline = None;
        if let Some(now) = early {
            let deadline = time.deadline(now, due);
            // It was pending, so the call kept a value from being received.
            if deadline.is_some_and(|t| t > now && entry.action.reset_later(t)) {
                return (true, None);
            }
            early_deadline = Some(deadline);
        }
        let mut locked = self.lock();
        let now = early.unwrap_or_else(|| time.now());
        let deadline = early_deadline.unwrap_or_else(|| time.deadline(now, due));
        let pending = locked.is_pending(entry);
        let drained = under_lock(locked.held(), pending);
        if deadline.is_some_and(|when| locked.repark(entry, when)) {
            // Nothing filed, nothing fired: nothing to do after. (Before `schedule`, which would
            // do the same, because this is `Ticker::reset`'s hot path.)
            return (true, None);
        }
        let done = locked.schedule(entry, deadline, now, time);
        (pending | drained, Some(done))
    }

    /// The published lower bound of this shard's next deadline.
    #[inline]
    pub(crate) fn next(&self) -> u64 {
        self.next.load(SeqCst)
    }

    /// The driver's step: fires everything due at `now`; what that leaves for after the lock goes
    /// to `batch`. Returns how many entries the wheel gave out.
    pub(crate) fn poll(
        &self,
        now: u64,
        time: &Timeline,
        buf: &mut Vec<(u64, Filed)>,
        batch: &mut Batch,
    ) -> usize {
        let mut locked = self.lock();
        faults::under_poll_lock();
        locked.wheel().poll(now, buf);
        let given = buf.len();
        for (due, entry) in buf.drain(..) {
            // The driver recomputes `next` below and rescans before it sleeps: no notify needed.
            batch.push(locked.fire_polled(entry, due, now, time));
        }
        locked.publish_next();
        given
    }

    /// A manual runtime's step: finds the earliest true deadline in the wheel; if it is at or
    /// before `limit`, moves `time` to exactly that deadline, fires every entry due then (callbacks
    /// to `batch`) and returns it. Returns `None` if no deadline is at or before `limit`, after
    /// moving `time` to `limit` if `settle`: under the lock, so that no timer can be scheduled
    /// between the check and the move.
    ///
    /// The wheel polls by ticks of 1.024 µs, which is fine for a driver that wakes up late anyway,
    /// but a fake clock promises to stop at each deadline to the nanosecond, in order. So a step
    /// polls the earliest tick, fires the entries whose true deadline is the earliest of the batch,
    /// and files the others back (a later nanosecond of the same tick, or a one-shot timer whose
    /// true deadline moved later); they come out again at the next step.
    pub(crate) fn step(
        &self,
        limit: u64,
        settle: bool,
        time: &Timeline,
        buf: &mut Vec<(u64, Filed)>,
        batch: &mut Batch,
    ) -> Option<u64> {
        let mut locked = self.lock();
        let stepped = loop {
            let Some(start) = locked.wheel().next_expiration() else {
                break None;
            };
            // Deadlines round up to a tick: everything in the earliest slot is due after
            // `start - RESOLUTION_NS`, and nothing elsewhere is due before `start`.
            if start.saturating_sub(RESOLUTION_NS - 1) > limit {
                break None;
            }
            locked.wheel().poll(start, buf);
            let Some(first) = buf.iter().map(|(due, e)| e.true_when(*due)).min() else {
                continue; // only cascaded or lazily moved entries: relinked further on
            };
            // `first <= start` means no entry left in the wheel is due before it: this step fires
            // at `first`. Everything else in the batch is filed back at its true deadline.
            let at = (first <= start && first <= limit).then_some(first);
            if let Some(at) = at {
                time.set(at);
            }
            for (due, entry) in buf.drain(..) {
                match entry.true_when(due) {
                    when if Some(when) == at => {
                        batch.push(locked.fire_polled(entry, due, when, time));
                    }
                    when => {
                        let _ = locked.refile_polled(entry, when);
                    }
                }
            }
            if at.is_some() {
                break at;
            }
            if first > start {
                continue; // all moved later: look again from the new earliest slot
            }
            break None;
        };
        if stepped.is_none() && settle && limit > time.now() {
            time.set(limit);
        }
        locked.publish_next();
        stepped
    }

    /// The number of entries in the wheel.
    pub(crate) fn len(&self) -> usize {
        self.lock().wheel().len()
    }

    /// Calls `f(true deadline, entry)` for every pending entry with a deadline, under the lock.
    #[cfg(any(feature = "profile", all(test, gotimer_loom)))]
    pub(crate) fn for_each(&self, mut f: impl FnMut(u64, &Entry<dyn Delivery>)) {
        self.lock()
            .wheel()
            .for_each(|registered, entry| f(entry.true_when(registered), entry));
    }
}

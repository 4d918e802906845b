//! A shard: one wheel behind one lock, plus the earliest deadline it holds, published for the driver.
//!
//! Timers are spread over several shards (each thread creates in its own) so that threads creating and
//! stopping timers do not queue on one lock (tokio #6504). The driver finds due shards by reading each
//! shard's `next` without locking, and locks only those, so a wakeup does not touch every shard (the
//! cost that made tokio revert its sharded timer).
//!
//! Every transition of an entry's state machine (see `entry.rs`) happens here, under the lock.

use super::entry::{EntryRef, Fired, IDLE, NEVER};
use crate::clock::Clock;
use crate::sync::{lock, AtomicU64, Mutex, MutexGuard, Ordering::SeqCst};
use crate::wheel::{Key, Wheel};

pub(crate) struct Shard {
    wheel: Mutex<Wheel<EntryRef>>,
    /// A time at or before the earliest deadline in the wheel (`u64::MAX`: empty). Lowered by
    /// whoever inserts, recomputed by the driver after each poll.
    next: AtomicU64,
}

/// What the caller of `schedule` must do once it has released the lock.
#[must_use]
#[derive(Default)]
pub(crate) struct Scheduled {
    /// A callback that came due at once: hand it to the pool.
    pub(crate) dispatch: Option<EntryRef>,
    /// A deadline that may be earlier than the driver's planned wakeup.
    pub(crate) deadline: Option<u64>,
}

impl Shard {
    pub(crate) fn new() -> Self {
        Shard {
            wheel: Mutex::new(Wheel::new()),
            next: AtomicU64::new(u64::MAX),
        }
    }

    pub(crate) fn lock(&self) -> Locked<'_> {
        Locked {
            wheel: lock(&self.wheel),
            next: &self.next,
        }
    }

    /// A handle's `stop`: cancels the entry, then runs `under_lock(was_pending)` (the channel drain)
    /// while the entry cannot fire. True if it was pending or `under_lock` returned true.
    pub(crate) fn stop(&self, entry: &EntryRef, under_lock: impl FnOnce(bool) -> bool) -> bool {
        let mut locked = self.lock();
        let pending = locked.cancel(entry);
        under_lock(pending) | pending
    }

    /// A handle's `reset`: runs `under_lock(was_pending)` first, then gives the entry `deadline`
    /// (`None`: never), all under the lock; except that a pending entry whose action can move
    /// itself later without the lock (a `Timer`'s) does so. Returns whether it was pending or `under_lock` returned
    /// true, and what the caller must do once the lock is released.
    pub(crate) fn reset(
        &self,
        entry: &EntryRef,
        deadline: Option<u64>,
        now: u64,
        clock: &Clock,
        under_lock: impl FnOnce(bool) -> bool,
    ) -> (bool, Scheduled) {
        // A pending one-shot timer moved later takes no lock (see `entry::Deliver`). It was
        // pending, so the call kept a value from being received.
        if deadline.is_some_and(|due| due > now && entry.action.reset_later(due)) {
            return (true, Scheduled::default());
        }
        let mut locked = self.lock();
        let pending = locked.is_pending(entry);
        let drained = under_lock(pending);
        let done = locked.schedule(entry, deadline, now, clock);
        (pending | drained, done)
    }

    /// The published lower bound of this shard's next deadline.
    pub(crate) fn next(&self) -> u64 {
        self.next.load(SeqCst)
    }

    /// Driver side: fires everything due at `now`. Callbacks to run are pushed to `jobs`.
    pub(crate) fn poll(
        &self,
        now: u64,
        clock: &Clock,
        buf: &mut Vec<(u64, EntryRef)>,
        jobs: &mut Vec<EntryRef>,
    ) {
        let mut locked = self.lock();
        locked.wheel.poll(now, buf);
        for (due, entry) in buf.drain(..) {
            entry.set_slot(IDLE);
            let fired = entry.action.fire(due, now, clock);
            // The driver recomputes `next` below and rescans before it sleeps: no notify needed.
            let done = locked.after_fire(entry, fired);
            jobs.extend(done.dispatch);
        }
        let next = locked.wheel.next_expiration().unwrap_or(u64::MAX);
        self.next.store(next, SeqCst);
    }

    /// The number of entries in the wheel.
    pub(crate) fn len(&self) -> usize {
        self.lock().wheel.len()
    }

    /// Calls `f(deadline, entry)` for every pending entry with a deadline, under the lock.
    #[cfg(feature = "profile")]
    pub(crate) fn for_each(&self, f: impl FnMut(u64, &EntryRef)) {
        self.lock().wheel.for_each(f);
    }
}

/// A locked shard: the operations on one entry that handles need.
pub(crate) struct Locked<'a> {
    wheel: MutexGuard<'a, Wheel<EntryRef>>,
    next: &'a AtomicU64,
}

impl Locked<'_> {
    /// True if the entry is waiting to fire (including a deadline too far away to ever come).
    pub(crate) fn is_pending(&self, entry: &EntryRef) -> bool {
        entry.slot() != IDLE
    }

    /// Takes the entry out of the wheel, freeing its node at once. True if it was pending.
    pub(crate) fn cancel(&mut self, entry: &EntryRef) -> bool {
        entry.action.set_deadline(None);
        match entry.slot() {
            IDLE => false,
            NEVER => {
                entry.set_slot(IDLE);
                true
            }
            key => {
                entry.set_slot(IDLE);
                drop(self.wheel.remove(Key::from_bits(key)));
                true
            }
        }
    }

    /// Gives the entry a new deadline (`None`: never), replacing any it had. A deadline at or before
    /// `now` fires here and now.
    pub(crate) fn schedule(
        &mut self,
        entry: &EntryRef,
        deadline: Option<u64>,
        now: u64,
        clock: &Clock,
    ) -> Scheduled {
        let mut done = Scheduled::default();
        match deadline {
            None => {
                self.cancel(entry);
                entry.set_slot(NEVER);
            }
            Some(due) if due <= now => {
                self.cancel(entry);
                entry.action.set_deadline(Some(due));
                let fired = entry.action.fire(due, now, clock);
                done = self.after_fire(entry.clone(), fired);
            }
            Some(due) => {
                match entry.slot() {
                    IDLE | NEVER => {
                        let key = self.wheel.insert(due, entry.clone());
                        entry.set_slot(key.to_bits());
                    }
                    // Later deadlines are a store in the node; earlier ones relink.
                    key => self.wheel.reschedule(Key::from_bits(key), due),
                }
                entry.action.set_deadline(Some(due));
                done.deadline = self.lower_next(due);
            }
        }
        done
    }

    /// Applies what `fire` decided: the callback to dispatch, or the entry back in the wheel (and
    /// its deadline, for the caller to notify the driver with).
    fn after_fire(&mut self, entry: EntryRef, fired: Fired) -> Scheduled {
        match fired {
            Fired::Done => Scheduled::default(),
            Fired::Dispatch => Scheduled {
                dispatch: Some(entry),
                deadline: None,
            },
            Fired::Again(due) => {
                // Not `set_deadline`: for a `Deliver`, `when` is already `due` and a lock-free
                // `reset_later` may be moving it on right now.
                let key = self.wheel.insert(due, entry.clone());
                entry.set_slot(key.to_bits());
                Scheduled {
                    dispatch: None,
                    deadline: self.lower_next(due),
                }
            }
        }
    }

    /// Publishes `due` if it is earlier than this shard's `next`; returns it if so.
    fn lower_next(&self, due: u64) -> Option<u64> {
        (due < self.next.load(SeqCst)).then(|| {
            self.next.fetch_min(due, SeqCst);
            due
        })
    }
}

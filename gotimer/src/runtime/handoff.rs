//! Run-next: a callback that a running callback makes due at once runs next on the same thread.
//!
//! This is Go's `runnext` (`runtime/proc.go`: a goroutine started by a running goroutine goes into
//! its P's `runnext` slot and runs as soon as the current one yields, with no other thread woken).
//! A chain of `after_func(0)` callbacks, each scheduling the next, then costs no thread wake-up
//! and no trip through the pool's shared queue: each callback thread has one slot, and a due
//! callback made due by a callback goes into the slot of the thread that runs it (if that slot
//! is empty; otherwise into the shared queue as usual). The thread runs its slot when the current
//! callback returns.
//!
//! A callback that schedules another and then blocks must not hold it up for long: that is the
//! pool's promise that a blocked callback delays no other. Where Go's idle Ps steal a `runnext`
//! after a few microseconds, here the driver does: every slot's job carries the time it was put
//! there, the earliest of `put + HANDOFF_AFTER` over the slots is published in `watch`, which the
//! driver treats like a timer deadline, and when it comes the driver hands every job that has
//! waited `HANDOFF_AFTER` to the shared queue. While a chain runs, the driver wakes about once per
//! `HANDOFF_AFTER`, finds the slot holding a fresh job, and sleeps again; the threads of the chain
//! never make a system call for it.
//!
//! `watch` is kept at or before every slot's hand-off time by the order of writes: an `offer` puts
//! its job in the slot, then lowers `watch`; the driver's `hand_off_stale` first clears `watch`,
//! then scans the slots and lowers it again for each job it leaves. A job put after the scan saw
//! its slot is followed by its own lowering, which comes after the clear.

use super::entry::EntryRef;
use crate::sync::lock;
use crate::sync::{AtomicU64, Ordering::SeqCst};
use std::cell::RefCell;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a job may wait in a busy callback thread's slot before the driver hands it to another
/// thread.
pub(crate) const HANDOFF_AFTER: Duration = Duration::from_millis(1);

const HANDOFF_NS: u64 = HANDOFF_AFTER.as_nanos() as u64;

/// A callback thread's run-next slot: the job, and when it was put there (runtime nanoseconds).
#[derive(Default)]
pub(crate) struct Slot {
    job: Mutex<Option<(EntryRef, u64)>>,
}

impl Slot {
    /// The thread's next job, if it still has one (the driver may have handed it off).
    pub(crate) fn take(&self) -> Option<EntryRef> {
        lock(&self.job).take().map(|(job, _)| job)
    }
}

thread_local! {
    /// The slot of the callback thread this is, if it is one.
    static MINE: RefCell<Option<Arc<Slot>>> = const { RefCell::new(None) };
}

/// Every callback thread's slot, and when the driver must next look at them.
pub(crate) struct RunNext {
    slots: Mutex<Vec<Arc<Slot>>>,
    /// At or before the earliest time a job in a slot is due to be handed off (`u64::MAX`: none).
    watch: AtomicU64,
}

impl RunNext {
    pub(crate) fn new() -> Self {
        RunNext {
            slots: Mutex::new(Vec::new()),
            watch: AtomicU64::new(u64::MAX),
        }
    }

    /// Gives the calling thread, a callback thread starting, its slot.
    pub(crate) fn register(&self) -> Arc<Slot> {
        let slot = Arc::new(Slot::default());
        lock(&self.slots).push(slot.clone());
        MINE.with(|m| *m.borrow_mut() = Some(slot.clone()));
        slot
    }

    /// Takes the calling thread's slot away, as it exits; a job still in it is returned, to be
    /// queued (none is: a thread runs its slot before it waits for work).
    pub(crate) fn unregister(&self, slot: &Arc<Slot>) -> Option<EntryRef> {
        MINE.with(|m| *m.borrow_mut() = None);
        lock(&self.slots).retain(|s| !Arc::ptr_eq(s, slot));
        slot.take()
    }

    /// Puts `job`, a callback due now, in the calling thread's slot, at time `now`. `Err(job)` if
    /// this is not a callback thread or its slot is taken: queue it instead. `Ok(Some(t))` if the
    /// driver must be told to look at the slots at `t`.
    pub(crate) fn offer(
        &self,
        job: EntryRef,
        now: impl FnOnce() -> u64,
    ) -> Result<Option<u64>, EntryRef> {
        MINE.with(|m| {
            let mine = m.borrow();
            let Some(slot) = mine.as_ref() else {
                return Err(job);
            };
            let now = {
                let mut held = lock(&slot.job);
                if held.is_some() {
                    return Err(job);
                }
                let now = now();
                *held = Some((job, now));
                now
            };
            let at = now.saturating_add(HANDOFF_NS);
            Ok((self.watch.fetch_min(at, SeqCst) > at).then_some(at))
        })
    }

    /// When the driver must next look at the slots (`u64::MAX`: no job waits in any).
    pub(crate) fn watch(&self) -> u64 {
        self.watch.load(SeqCst)
    }

    /// The driver's look at the slots at `now`: every job that has waited `HANDOFF_AFTER` goes to
    /// `queue`, and `watch` is set for the others.
    pub(crate) fn hand_off_stale(&self, now: u64, mut queue: impl FnMut(EntryRef)) {
        self.watch.store(u64::MAX, SeqCst);
        let mut next = u64::MAX;
        let mut stale = Vec::new();
        for slot in lock(&self.slots).iter() {
            let mut held = lock(&slot.job);
            match &*held {
                Some((_, put)) if put.saturating_add(HANDOFF_NS) <= now => {
                    stale.extend(held.take().map(|(job, _)| job));
                }
                Some((_, put)) => next = next.min(put.saturating_add(HANDOFF_NS)),
                None => {}
            }
        }
        if next != u64::MAX {
            self.watch.fetch_min(next, SeqCst);
        }
        stale.into_iter().for_each(&mut queue);
    }
}

#[cfg(all(test, not(gotimer_loom)))]
mod tests {
    use super::*;
    use crate::origin::{Kind, Origin};
    use crate::runtime::entry::Entry;
    use crate::runtime::kinds::callback::Callback;
    use std::panic::Location;

    fn job() -> EntryRef {
        Arc::new(Entry::new(
            Origin::new(Location::caller(), Kind::AfterFunc, 0),
            Callback(|| {}),
        ))
    }

    #[test]
    fn only_a_registered_thread_with_an_empty_slot_takes_a_job() {
        let rn = RunNext::new();
        assert!(rn.offer(job(), || 0).is_err(), "not a callback thread");
        let slot = rn.register();
        assert_eq!(rn.offer(job(), || 10).ok(), Some(Some(10 + HANDOFF_NS)));
        assert!(rn.offer(job(), || 20).is_err(), "the slot is taken");
        assert_eq!(rn.watch(), 10 + HANDOFF_NS);
        assert!(slot.take().is_some());
        assert!(slot.take().is_none());
        // A later job does not move the watch later, nor ask to notify the driver.
        assert_eq!(rn.offer(job(), || 30).ok(), Some(None));
        assert!(rn.unregister(&slot).is_some(), "a job left is returned");
        assert!(rn.offer(job(), || 40).is_err(), "unregistered");
    }

    #[test]
    fn the_driver_hands_off_only_stale_jobs_and_watches_the_rest() {
        let rn = RunNext::new();
        let slot = rn.register();
        assert!(rn.offer(job(), || 100).is_ok());
        let mut queued = Vec::new();
        rn.hand_off_stale(100 + HANDOFF_NS - 1, |j| queued.push(j));
        assert!(queued.is_empty(), "not stale yet");
        assert_eq!(rn.watch(), 100 + HANDOFF_NS, "still watched");
        rn.hand_off_stale(100 + HANDOFF_NS, |j| queued.push(j));
        assert_eq!(queued.len(), 1, "handed off once stale");
        assert_eq!(rn.watch(), u64::MAX, "nothing left to watch");
        assert!(slot.take().is_none(), "the thread no longer has it");
        rn.unregister(&slot);
    }
}

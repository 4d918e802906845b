//! A task's timer (`future::Sleep`, and so `Timeout`): when it comes due, the waker of the latest
//! poll is woken, on the firing thread, right after the shard lock is released (`Fired::Notify`),
//! in a batch with the other wakers of the same poll, as tokio's `WakeList` does.
//!
//! Its state is one word, so that a poll reads it without any lock, and a `Sleep` stays small
//! (the entry is 40 bytes): whether it is pending (parked or in the wheel), whether it fired and the
//! poll has not yet seen it, whether it was armed (polled once, or made on a clock that parks
//! nothing), and its true deadline, which it keeps after firing (the value a poll returns). As a
//! one-shot channel timer's does, the true deadline makes a reset to a later deadline lock-free
//! (`reset_later`): one compare-and-swap, which the firing thread races with a compare-and-swap of
//! its own, so exactly one of the two wins.
//!
//! The waker sits behind a mutex of its own, a leaf lock that no foreign code runs under: the poll
//! stores its waker there (unless the one stored already wakes the same task) and then reads the
//! word; the firing thread sets `FIRED` under the shard lock, and afterwards takes a clone of the
//! waker and wakes it. Whichever takes the waker's lock second sees the other's write, so a poll
//! that finds the sleep not fired has left a waker that the firing thread will wake. The waker is
//! kept after it is woken: a reset that makes the sleep pending again wakes the same task with no
//! new poll.

use crate::runtime::entry::{Delivery, Fired, Held};
#[cfg(not(gotimer_loom))]
use crate::runtime::spare::{Spares, Store};
use crate::runtime::time::Timeline;
use crate::sync::{
    lock, AtomicU64, Mutex,
    Ordering::{AcqRel, Acquire},
};
use std::task::Waker;

/// `Wake::word` bit: pending, parked or in the wheel, for the deadline in the low bits.
const PENDING: u64 = 1 << 63;
/// `Wake::word` bit: fired; the poll that sees it returns `Ready` and clears it.
const FIRED: u64 = 1 << 62;
/// `Wake::word` bit: armed (see `Delivery::armed`): polled once, or made on a clock that parks
/// nothing. Until then the entry is parked, in no wheel and held by its `Sleep` alone.
const ARMED: u64 = 1 << 61;
/// `Wake::word`'s low bits: the true deadline, in nanoseconds of the runtime's time line.
const DEADLINE: u64 = ARMED - 1;
/// The deadline of a sleep that never comes due: out of the wheel's range, or 73 years and more
/// from the start of its clock, which the word cannot tell apart.
const NEVER: u64 = DEADLINE;

pub(crate) struct Wake {
    /// `PENDING`, `FIRED` and `ARMED`, and the true deadline. `PENDING` and the deadline are written
    /// under the shard lock, and moved later without it (`reset_later`) while pending; `FIRED` is set
    /// under the lock and cleared by the poll that sees it (the sleep's owner, which alone resets it);
    /// `ARMED` is set once, by the first poll, before the entry is armed under the lock.
    word: AtomicU64,
    /// The waker of the latest poll, kept once woken. A leaf lock, never held while a waker runs.
    waker: Mutex<Option<Waker>>,
}

/// What a poll found (`Wake::poll`).
pub(crate) enum Polled {
    /// Due at this deadline, and fired (now seen), or seen already.
    Ready(u64),
    /// Pending (or stopped, or never due).
    Pending,
}

impl Wake {
    /// A sleep parked until its first poll, which arms it.
    pub(crate) fn unarmed() -> Self {
        Wake {
            word: AtomicU64::new(NEVER),
            waker: Mutex::new(None),
        }
    }

    /// A sleep armed from the start, for a clock that parks nothing (a fake one).
    pub(crate) fn armed() -> Self {
        Wake {
            word: AtomicU64::new(NEVER | ARMED),
            waker: Mutex::new(None),
        }
    }

    /// The true deadline (`NEVER` if it never comes due), pending or not.
    #[inline]
    pub(crate) fn deadline(&self) -> u64 {
        self.word.load(Acquire) & DEADLINE
    }

    /// True if the entry is pending and armed: in a wheel, or fired at any moment. A pending entry
    /// that is not armed is parked, and only its `Sleep` can reach it.
    #[inline]
    pub(crate) fn is_filed(&self) -> bool {
        self.word.load(Acquire) & (PENDING | ARMED) == PENDING | ARMED
    }

    /// True if the sleep fired since it was last scheduled (whether a poll saw it yet or not):
    /// neither pending nor never due.
    #[inline]
    pub(crate) fn is_elapsed(&self) -> bool {
        let word = self.word.load(Acquire);
        word & PENDING == 0 && word & DEADLINE != NEVER
    }

    /// True if the sleep has returned `Ready` since it was last scheduled: elapsed, and no longer
    /// `FIRED`. What `Sleep::reset` returns the negation of.
    #[inline]
    pub(crate) fn has_completed(&self) -> bool {
        self.is_elapsed() && self.word.load(Acquire) & FIRED == 0
    }

    /// True until its first poll arms it, for a sleep made parked (a timeout's, or one shorter
    /// than a tick).
    #[inline]
    pub(crate) fn is_parked(&self) -> bool {
        self.word.load(Acquire) & ARMED == 0
    }

    /// Marks the entry armed, before the caller arms it (`Handle::arm_unshared`). False if it
    /// already was: then it only loads, since every poll asks, and a filed sleep's first poll finds
    /// it armed already (an atomic read-modify-write costs 7.6 ns on the benchmark machine).
    #[inline]
    pub(crate) fn set_armed(&self) -> bool {
        self.word.load(Acquire) & ARMED == 0 && self.word.fetch_or(ARMED, AcqRel) & ARMED == 0
    }

    /// The poll's reading: ready (clearing `FIRED`, so that a later `reset` knows it was seen), or
    /// pending. Only the sleep's owner calls it.
    #[inline]
    pub(crate) fn poll(&self) -> Polled {
        let word = self.word.load(Acquire);
        if word & FIRED != 0 {
            // Only a schedule under the lock, which the owner alone makes, changes a fired word.
            self.word.fetch_and(!FIRED, AcqRel);
            return Polled::Ready(word & DEADLINE);
        }
        if word & PENDING == 0 && word & DEADLINE != NEVER {
            return Polled::Ready(word & DEADLINE);
        }
        Polled::Pending
    }

    /// Stores `waker` as the one to wake, unless the stored one wakes the same task.
    #[inline]
    pub(crate) fn register(&self, waker: &Waker) {
        keep_waker(&mut lock(&self.waker), waker);
    }
}

/// Makes `slot` hold `waker`, cloning it only if the waker held does not wake the same task (a
/// task polled again by the same executor): what every place that keeps a poll's waker does.
#[inline]
pub(crate) fn keep_waker(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(stored) if stored.will_wake(waker) => {}
        slot => *slot = Some(waker.clone()),
    }
}

impl Delivery for Wake {
    /// Claims the entry (`PENDING` to `FIRED`) unless its true deadline moved past `now`, and asks
    /// for its waker to be woken once the lock is released.
    #[inline]
    fn fire(&self, _: &Held, _registered: u64, now: u64, _: &Timeline) -> Fired {
        let mut word = self.word.load(Acquire);
        while word & PENDING != 0 {
            let due = word & DEADLINE;
            if due > now {
                return Fired::Again(due);
            }
            let fired = (word & !PENDING) | FIRED;
            match self.word.compare_exchange(word, fired, AcqRel, Acquire) {
                Ok(_) => return Fired::Notify,
                Err(moved) => word = moved,
            }
        }
        // Every schedule sets `PENDING` under this same lock before it files the entry.
        Fired::Done
    }

    #[inline]
    fn true_when(&self) -> Option<u64> {
        let word = self.word.load(Acquire);
        (word & PENDING != 0).then_some(word & DEADLINE)
    }

    /// Pending at `when` (clearing `FIRED`: the old schedule is not seen), or not pending (`None`:
    /// stopped, or never due; a poll then finds it neither ready nor pending, and waits).
    #[inline]
    fn set_true_when(&self, _: &Held, when: Option<u64>) {
        let armed = self.word.load(Acquire) & ARMED;
        let word = match when {
            Some(when) => PENDING | when.min(NEVER),
            None => NEVER,
        };
        self.word
            .store(word | armed, crate::sync::Ordering::Release);
    }

    #[inline]
    fn armed(&self) -> bool {
        self.word.load(Acquire) & ARMED != 0
    }

    /// A pending sleep moved later: one compare-and-swap, which the firing thread's own decides
    /// against. A parked one stays parked (only its `Sleep` can reach it).
    #[inline]
    fn reset_later(&self, deadline: u64) -> bool {
        if deadline >= NEVER {
            return false;
        }
        let mut word = self.word.load(Acquire);
        while word & PENDING != 0 && deadline >= word & DEADLINE {
            let moved = (word & !DEADLINE) | deadline;
            match self.word.compare_exchange(word, moved, AcqRel, Acquire) {
                Ok(_) => return true,
                Err(now) => word = now,
            }
        }
        false
    }

    /// The `Sleep` takes its entry out of the wheel under the lock before it lets go of it, unless
    /// it finds it fired (`is_filed`), which a firing does only once it took its count.
    #[inline]
    fn wheel_borrows(&self) -> bool {
        true
    }

    /// A thread keeps its freed sleeps for its next: a `timeout` per call makes and drops one each.
    /// Not in the loom models, whose threads share one OS thread's thread-locals, and which check
    /// that a dropped sleep's entry is freed.
    #[cfg(not(gotimer_loom))]
    #[inline]
    fn spares() -> Option<Store<Wake>> {
        thread_local! {
            static SPARES: Spares<Wake> = const { Spares::new() };
        }
        Some(&SPARES)
    }

    /// A spare keeps no task alive.
    #[inline]
    fn retire(&mut self) {
        self.waker = Mutex::new(None);
    }

    /// A new sleep has no waker yet, as a retired one has none left: only the word moves.
    #[inline]
    fn revive(&self, fresh: &Wake) {
        self.word
            .store(fresh.word.load(Acquire), crate::sync::Ordering::Release);
    }

    /// Wakes the waker of the latest poll, outside the waker's lock: a waker that polls its task
    /// inline would otherwise find that lock held.
    fn notify(&self) {
        let waker = lock(&self.waker).clone();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

//! The manual drive: what fires a fake clock's timers. There is no thread. Time moves only when a
//! test calls `FakeClock::advance` (or `advance_to_next`), and the advancing thread fires each
//! deadline in turn and runs the callbacks itself, so a test sees the same sequence every time.
//!
//! An advance steps through the pending deadlines in order (`Shard::step`): at each one the clock
//! reads exactly that deadline, everything due then fires as it would on the system clock (channel
//! values sent under the shard lock; tickers re-filed at their next tick), and the callbacks that
//! came due run, one after another, before time moves on. A callback that schedules a timer or
//! another callback up to the advance's target sees it fire in the same advance. Callbacks that come
//! due outside an advance (`after_func(ZERO)`) wait in `jobs` for the next one.
//!
//! Advances of one clock are serialised. A callback that advances or sleeps on its own clock would
//! wait for itself; that is a panic with a message instead of a hang.
//!
//! `waiters` counts the pending timers with a deadline, which is what a thread blocked on the clock
//! is waiting for (a `sleep` is a timer too). `changed` lets `wait_for_waiters` block without
//! polling: every schedule bumps it.

use super::callback;
use super::entry::EntryRef;
use super::shard::Shard;
use super::time::Timeline;
use crate::sync::lock;
use crate::sync::{AtomicUsize, Ordering::SeqCst};
use crossbeam_channel::Sender;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub(crate) struct Manual {
    /// Held for the whole of an advance.
    advancing: Mutex<()>,
    /// Callbacks that came due outside an advance, in the order they did.
    jobs: Mutex<VecDeque<EntryRef>>,
    /// Callbacks that panicked on this clock.
    panics: AtomicUsize,
    /// A sender of each `after` channel that delivered to a receiver (`Shard::step`), kept while
    /// the clock lives so that the receiver finds the channel empty, not disconnected, once it has
    /// taken the value.
    kept: Mutex<Vec<Sender<Instant>>>,
    /// Bumped by every schedule, with `waiters_cv` notified: how `wait_for_waiters` sleeps.
    changed: Mutex<u64>,
    waiters_cv: Condvar,
}

thread_local! {
    /// The manual drives this thread is advancing right now (a callback may advance another clock).
    static ADVANCING: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// Removes its drive from `ADVANCING` when the advance ends, by return or by panic.
struct Advancing<'a> {
    id: usize,
    _serial: MutexGuard<'a, ()>,
}

impl Drop for Advancing<'_> {
    fn drop(&mut self) {
        ADVANCING.with(|a| a.borrow_mut().retain(|&id| id != self.id));
    }
}

impl Manual {
    pub(crate) fn new() -> Self {
        Manual {
            advancing: Mutex::new(()),
            jobs: Mutex::new(VecDeque::new()),
            panics: AtomicUsize::new(0),
            kept: Mutex::new(Vec::new()),
            changed: Mutex::new(0),
            waiters_cv: Condvar::new(),
        }
    }

    fn id(&self) -> usize {
        self as *const Manual as usize
    }

    /// True if the calling thread is inside an advance of this clock (running one of its callbacks).
    pub(crate) fn in_advance(&self) -> bool {
        ADVANCING.with(|a| a.borrow().contains(&self.id()))
    }

    fn begin(&self, what: &str) -> Advancing<'_> {
        assert!(
            !self.in_advance(),
            "gotimer: FakeClock::{what} called from a callback of the same fake clock: the advance \
             that runs the callback would wait for itself"
        );
        let serial = lock(&self.advancing);
        ADVANCING.with(|a| a.borrow_mut().push(self.id()));
        Advancing {
            id: self.id(),
            _serial: serial,
        }
    }

    /// A callback came due outside a step (`after_func(ZERO)`, or a reset to the past): it runs in
    /// the next advance, or in this one if one is under way and this is one of its callbacks.
    pub(crate) fn queue(&self, job: EntryRef) {
        lock(&self.jobs).push_back(job);
    }

    /// Keeps `tx`, a sender of an `after` channel, until the clock is dropped.
    pub(crate) fn keep(&self, tx: impl IntoIterator<Item = Sender<Instant>>) {
        lock(&self.kept).extend(tx);
    }

    /// A timer was scheduled: wake `wait_for_waiters`.
    pub(crate) fn scheduled(&self) {
        *lock(&self.changed) += 1;
        self.waiters_cv.notify_all();
    }

    pub(crate) fn panics(&self) -> usize {
        self.panics.load(SeqCst)
    }

    /// Runs the queued callbacks, including those they queue, until none is left.
    pub(crate) fn run_queued(&self) {
        loop {
            let job = lock(&self.jobs).pop_front();
            match job {
                Some(job) => callback::run(job, &self.panics),
                None => return,
            }
        }
    }

    /// Moves `time` to `target`, firing every deadline up to it in order; see the module docs.
    pub(crate) fn advance_to(&self, time: &Timeline, shard: &Shard, target: u64) {
        let _advancing = self.begin("advance");
        let (mut buf, mut fired, mut kept) = (Vec::new(), Vec::new(), Vec::new());
        loop {
            self.run_queued();
            // With no callback waiting, a step that finds nothing left up to the target moves the
            // clock there, under the same lock. A callback queued by another thread after this
            // check counts as made after the advance, and waits for the next one.
            let settle = lock(&self.jobs).is_empty();
            let stepped = shard.step(target, settle, time, &mut buf, &mut fired, &mut kept);
            if !kept.is_empty() {
                self.keep(kept.drain(..));
            }
            if stepped.is_none() {
                if settle {
                    return;
                }
                continue;
            }
            for job in fired.drain(..) {
                callback::run(job, &self.panics);
            }
        }
    }

    /// Jumps to the earliest deadline, fires it and runs its callbacks; returns the time it moved
    /// from, or `None` (moving nothing) if no timer is pending.
    pub(crate) fn advance_to_next(&self, time: &Timeline, shard: &Shard) -> Option<u64> {
        let _advancing = self.begin("advance_to_next");
        self.run_queued();
        let from = time.now();
        let (mut fired, mut kept) = (Vec::new(), Vec::new());
        let stepped = shard.step(
            u64::MAX,
            false,
            time,
            &mut Vec::new(),
            &mut fired,
            &mut kept,
        );
        self.keep(kept);
        stepped?;
        for job in fired.drain(..) {
            callback::run(job, &self.panics);
        }
        self.run_queued();
        Some(from)
    }

    /// Blocks until `count()` is at least `n` or `timeout` of real time has passed.
    pub(crate) fn wait_for(&self, n: usize, timeout: Duration, count: impl Fn() -> usize) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let mut changed = lock(&self.changed);
        loop {
            // Checked with `changed` held: a schedule after this check bumps it only after our
            // wait below has released it, and then wakes us.
            if count() >= n {
                return true;
            }
            let left = match deadline {
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => left,
                    _ => return false,
                },
                None => Duration::from_secs(3600),
            };
            changed = self
                .waiters_cv
                .wait_timeout(changed, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }
}

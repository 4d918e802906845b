//! The manual runtime: a fake clock's. One shard on a time line that only `FakeClock::advance`
//! moves, and no thread: the advancing thread fires each deadline in turn and runs the callbacks
//! itself, so a test sees the same sequence every time. It lives while any handle of it does
//! (`FakeClock`, `Clock`, `Timer`, `Ticker`), and then everything pending on it is freed.
//!
//! An advance steps through the pending deadlines in order (`Shard::step`): at each one the clock
//! reads exactly that deadline, everything due then fires as it would on the system clock (channel
//! values sent under the shard lock; tickers re-filed at their next tick), and the callbacks that
//! came due run, one after another, before time moves on. A callback that schedules a timer or
//! another callback up to the advance's target sees it fire in the same advance. Callbacks that come
//! due outside an advance (`after_func(ZERO)`) wait in `jobs` for the next one (`after_unlock`).
//!
//! Advances of one clock are serialised. A callback that advances or sleeps on its own clock would
//! wait for itself; that is a panic with a message instead of a hang.
//!
//! `waiters` counts the pending timers with a deadline, which is what a thread blocked on the clock
//! is waiting for (a `sleep` is a timer too). `changed` lets `wait_for_waiters` block without
//! polling: every schedule bumps it.

use super::callback;
use super::core::Core;
use super::entry::{AfterUnlock, Batch, EntryRef, Filed};
use super::kinds::after::Kept;
use super::settle::{AsSettle, Settle};
use super::stats::Stats;
use super::time::{Due, Timeline};
use crate::sync::lock;
use crate::sync::{AtomicUsize, Ordering::SeqCst};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, TryLockError};
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

pub(crate) struct ManualRuntime {
    core: Core,
    /// Held for the whole of a blocking advance, and for each step of an async one.
    advancing: Mutex<()>,
    /// The async advances waiting for `advancing` (`step_once`), woken when it is let go.
    advance_waiters: Mutex<Vec<Waker>>,
    /// Callbacks that came due outside an advance, in the order they did.
    jobs: Mutex<VecDeque<EntryRef>>,
    /// Callbacks that panicked on this clock.
    panics: AtomicUsize,
    /// A sender of each `after` channel that delivered to a receiver (`kinds/after.rs`), kept while
    /// the clock lives so that the receiver finds the channel empty, not disconnected, once it has
    /// taken the value.
    kept: Kept,
    /// Bumped by every schedule, with `waiters_cv` notified: how `wait_for_waiters` sleeps.
    changed: Mutex<u64>,
    waiters_cv: Condvar,
    /// The tasks scoped to this clock, which each step of an advance waits for (`settle.rs`).
    settle: Settle,
}

/// What one step of an advance found (`ManualRuntime::step_toward`).
pub(crate) enum Step {
    /// It stepped (or ran callbacks): look again.
    More,
    /// Scoped tasks are runnable: wait for them, then look again.
    Busy,
    /// The clock is at the target, with nothing left to run.
    Done,
}

thread_local! {
    /// The manual drives this thread is advancing right now (a callback may advance another clock).
    static ADVANCING: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// Removes its drive from `ADVANCING` when the advance ends, by return or by panic.
struct Advancing<'a> {
    id: usize,
    serial: Option<MutexGuard<'a, ()>>,
    waiters: &'a Mutex<Vec<Waker>>,
}

impl Drop for Advancing<'_> {
    fn drop(&mut self) {
        ADVANCING.with(|a| a.borrow_mut().retain(|&id| id != self.id));
        drop(self.serial.take());
        // After the lock is let go, and outside the list's lock: an async advance woken now can
        // take the clock, and a waker that polls it inline may come back to the list.
        let waiters = std::mem::take(&mut *lock(self.waiters));
        for w in waiters {
            w.wake();
        }
    }
}

impl ManualRuntime {
    /// A fake clock's runtime: manual time, one shard, no thread.
    pub(crate) fn new() -> Self {
        ManualRuntime::on(Timeline::manual())
    }

    /// A manual runtime on another time line: the tests' driverless monotonic runtime, and the loom
    /// models' simulated one.
    pub(crate) fn on(time: Timeline) -> Self {
        ManualRuntime {
            core: Core::new(time, 1),
            advancing: Mutex::new(()),
            advance_waiters: Mutex::new(Vec::new()),
            jobs: Mutex::new(VecDeque::new()),
            panics: AtomicUsize::new(0),
            kept: Kept::default(),
            changed: Mutex::new(0),
            waiters_cv: Condvar::new(),
            settle: Settle::new(),
        }
    }

    /// The tasks scoped to this clock.
    pub(crate) fn settle(&self) -> &Settle {
        &self.settle
    }

    #[inline]
    pub(crate) fn core(&self) -> &Core {
        &self.core
    }

    /// Where a fake clock's `after` keeps its sender once it has delivered.
    pub(crate) fn kept(&self) -> Kept {
        self.kept.clone()
    }

    fn id(&self) -> usize {
        self as *const ManualRuntime as usize
    }

    /// True if the calling thread is inside an advance of this clock (running one of its callbacks).
    pub(crate) fn in_own_callback(&self) -> bool {
        ADVANCING.with(|a| a.borrow().contains(&self.id()))
    }

    /// Takes the clock for an advance from tasks `own` (`Settle::own_tasks`), waiting for another
    /// advance to be done.
    fn begin(&self, what: &str, own: &[u64]) -> Advancing<'_> {
        self.check_not_own_callback(what);
        let serial = match self.advancing.try_lock() {
            Ok(serial) => serial,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => {
                // Another advance has the clock and waits for the scoped tasks to go idle: the
                // caller's own, blocked here until it is done, are idle to it.
                self.settle.block(own);
                let serial = lock(&self.advancing);
                self.settle.unblock(own);
                serial
            }
        };
        self.advancing_with(serial)
    }

    /// `begin` without blocking, for a step of an async advance, which must not block the thread
    /// of the executor its scoped tasks may run on: `None` while another advance holds the clock.
    fn try_begin(&self, what: &str) -> Option<Advancing<'_>> {
        self.check_not_own_callback(what);
        let serial = match self.advancing.try_lock() {
            Ok(serial) => serial,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        Some(self.advancing_with(serial))
    }

    fn check_not_own_callback(&self, what: &str) {
        assert!(
            !self.in_own_callback(),
            "gotimer: FakeClock::{what} called from a callback of the same fake clock: the advance \
             that runs the callback would wait for itself"
        );
    }

    fn advancing_with<'a>(&'a self, serial: MutexGuard<'a, ()>) -> Advancing<'a> {
        ADVANCING.with(|a| a.borrow_mut().push(self.id()));
        Advancing {
            id: self.id(),
            serial: Some(serial),
            waiters: &self.advance_waiters,
        }
    }

    /// What a schedule left to do once the shard lock was released. A callback that came due
    /// outside a step (`after_func(ZERO)`, or a reset to the past) runs in the next advance, or in
    /// this one if one is under way and this is one of its callbacks. And a timer was scheduled:
    /// `wait_for_waiters` looks again.
    pub(crate) fn after_unlock(&self, done: AfterUnlock) {
        if let Some(entry) = done.notify {
            callback::notify(entry, &self.panics);
        }
        if let Some(job) = done.run {
            lock(&self.jobs).push_back(job);
        }
        *lock(&self.changed) += 1;
        self.waiters_cv.notify_all();
    }

    pub(crate) fn stats(&self) -> Stats {
        Stats {
            pending: self.core.len(),
            callback_threads: 0,
            callback_panics: self.panics.load(SeqCst),
            callback_spawn_failures: 0,
            shards: 1,
            batched_wakeups: 0,
        }
    }

    /// A fake clock's `advance(d)`.
    pub(crate) fn advance(&self, d: Duration) {
        let own = self.settle.own_tasks();
        let _advancing = self.begin("advance", &own);
        // From the time the lock was taken: an advance that waited for another moves the clock
        // `d` past where that one left it.
        let target = self.target(d);
        let (mut buf, mut fired) = (Vec::new(), Batch::default());
        let settled = || {
            self.settle.wait_idle(&own);
            true
        };
        while !matches!(
            self.step_toward(target, settled, &mut buf, &mut fired),
            Step::Done
        ) {}
    }

    /// One step of an async advance (`FakeClock::advance_async`) that has `remaining` of its `d`
    /// left to move, and waits for the scoped tasks between steps itself: what the step found
    /// (`Busy` if a scoped task is runnable) and how far it moved the clock. `None`, with the waker
    /// kept for when the clock is let go, while another advance holds it: a step waits for the
    /// advance lock without blocking, since a blocking advance on another thread may be waiting for
    /// tasks of the executor this step runs on. The target is taken from the time of each step, so
    /// the advances of other threads that come in between add to this one rather than shorten it.
    pub(crate) fn step_once(
        &self,
        remaining: Duration,
        cx: &mut Context<'_>,
    ) -> Option<(Step, Duration)> {
        let own = self.settle.own_tasks();
        let advancing = match self.try_begin("advance_async") {
            Some(advancing) => advancing,
            None => {
                lock(&self.advance_waiters).push(cx.waker().clone());
                // The holder may have let go before the waker was kept.
                self.try_begin("advance_async")?
            }
        };
        let time = &self.core.time;
        let from = time.now();
        let target = self.target(remaining);
        let (mut buf, mut fired) = (Vec::new(), Batch::default());
        let settled = || self.settle.is_idle(&own);
        let step = self.step_toward(target, settled, &mut buf, &mut fired);
        let moved = Duration::from_nanos(time.now() - from);
        drop(advancing);
        Some((step, moved))
    }

    /// The time `d` from now, as an advance's target.
    pub(crate) fn target(&self, d: Duration) -> u64 {
        let time = &self.core.time;
        time.deadline(time.now(), Due::In(d))
            .unwrap_or(crate::wheel::MAX_DEADLINE)
    }

    /// One step of an advance to `target`, by a thread in the advance (`begin`): runs the queued
    /// callbacks, then, if `settled()` (no scoped task runnable: `wait_idle` blocks for it, an
    /// async advance only looks), fires the earliest deadline up to `target` and delivers what it
    /// left. With no callback waiting, a step that finds nothing left up to the target moves the
    /// clock there, under the same lock: a callback queued by another thread after that check
    /// counts as made after the advance, and waits for the next one.
    pub(crate) fn step_toward(
        &self,
        target: u64,
        settled: impl FnOnce() -> bool,
        buf: &mut Vec<(u64, Filed)>,
        fired: &mut Batch,
    ) -> Step {
        self.run_queued();
        if !settled() {
            return Step::Busy;
        }
        let settle = lock(&self.jobs).is_empty();
        let stepped = self
            .core
            .shard(0)
            .step(target, settle, &self.core.time, buf, fired);
        match stepped {
            None if settle => Step::Done,
            None => Step::More,
            Some(_) => {
                self.deliver(fired);
                Step::More
            }
        }
    }

    /// A fake clock's `advance_to_next`: how far it moved, or `None` if nothing is pending.
    pub(crate) fn advance_to_next(&self) -> Option<Duration> {
        let from = self.step_to_next()?;
        Some(Duration::from_nanos(self.core.time.now() - from))
    }

    /// A fake clock's earliest pending deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let at = self.core.shard(0).lock().earliest_true_when()?;
        Some(self.core.time.instant(at))
    }

    /// A fake clock's `waiters`: its timers with a deadline.
    pub(crate) fn waiters(&self) -> usize {
        self.core.len()
    }

    pub(crate) fn wait_for_waiters(&self, n: usize, timeout: Duration) -> bool {
        self.wait_for(n, timeout, || self.waiters())
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

    /// What a step left for after the lock: its notifications, then its callbacks, in the order
    /// their entries fired.
    fn deliver(&self, fired: &mut Batch) {
        for entry in fired.notify.drain(..) {
            callback::notify(entry, &self.panics);
        }
        for job in fired.run.drain(..) {
            callback::run(job, &self.panics);
        }
    }

    /// Jumps to the earliest deadline, fires it and runs its callbacks; returns the time it moved
    /// from, or `None` (moving nothing) if no timer is pending.
    fn step_to_next(&self) -> Option<u64> {
        let own = self.settle.own_tasks();
        let _advancing = self.begin("advance_to_next", &own);
        self.run_queued();
        self.settle.wait_idle(&own);
        let time = &self.core.time;
        let from = time.now();
        let mut fired = Batch::default();
        let stepped = self
            .core
            .shard(0)
            .step(u64::MAX, false, time, &mut Vec::new(), &mut fired);
        stepped?;
        self.deliver(&mut fired);
        self.run_queued();
        self.settle.wait_idle(&own);
        Some(from)
    }

    /// Blocks until `count()` is at least `n` or `timeout` of real time has passed.
    fn wait_for(&self, n: usize, timeout: Duration, count: impl Fn() -> usize) -> bool {
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

impl AsSettle for ManualRuntime {
    fn settle(&self) -> &Settle {
        &self.settle
    }
}

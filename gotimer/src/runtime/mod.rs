//! The timer runtime, as a value: a time line, shards of wheels, and what fires what is due.
//!
//! Data flows one way: a handle (`Timer`, `Ticker`) schedules its entry into a shard of its
//! runtime; what comes due is sent on its channel under the shard lock, or run as a callback. A
//! channel timer is parked until its channel is first asked for (`Handle::channel`), and each `c()`
//! fires what is due on the calling thread, under the same lock, so the driver is needed only for a
//! receiver that is already blocked, or that receives on a channel it kept from an earlier `c()`.
//! A callback that comes due is handed to a thread to run and stays pending until that thread
//! claims it (`Entry::claim`), so a `stop` before then keeps it from running. A callback made due
//! by a callback runs next on that callback's thread (`handoff.rs`). Two kinds of runtime share
//! all of that code and differ in one seam, `Timeline` (where the time comes from) and `Drive`
//! (who fires what is due):
//! - the system clock: one static runtime on the monotonic clock, started on first use, with a
//!   driver thread that sleeps until the next deadline and a pool of callback threads. Nothing needs
//!   shutting down: the threads never keep the process alive, and pending timers are simply dropped
//!   at exit;
//! - a fake clock (`FakeClock`): a runtime per clock, on a manual time line, with one shard and no
//!   thread; `advance` fires and runs callbacks on the calling thread. It lives while any handle of
//!   it does (`FakeClock`, `Clock`, `Timer`, `Ticker`), and then everything pending on it is freed.

mod callback;
mod driver;
pub(crate) mod entry;
mod fatal;
#[cfg(all(test, not(loom)))]
mod fault_tests;
mod handoff;
#[cfg(all(test, loom))]
mod loom_tests;
mod manual;
mod pool;
mod shard;
pub(crate) mod time;

pub use pool::{IDLE_EXIT, MAX_WORKERS};

use crate::origin::{Kind, Origin};
use crossbeam_channel::{bounded, Receiver, Sender};
use crossbeam_utils::CachePadded;
use driver::Driver;
use entry::{Action, Entry, EntryRef, View};
use manual::Manual;
use pool::Pool;
use shard::{Locked, Scheduled, Shard};
use std::cell::Cell;
use std::panic::Location;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use time::{Due, Timeline};

pub(crate) struct Runtime {
    time: Timeline,
    shards: Box<[CachePadded<Shard>]>,
    drive: Drive,
}

/// Who fires what is due: the other half of the seam between the system clock and a fake one.
enum Drive {
    /// A driver thread that sleeps until the next deadline, and a pool of callback threads.
    System { driver: Driver, pool: Pool },
    /// `FakeClock::advance`, on the thread that calls it.
    Manual(Manual),
}

static SYSTEM: OnceLock<Runtime> = OnceLock::new();

/// The system clock's runtime, started by the first call.
fn system() -> &'static Runtime {
    SYSTEM.get_or_init(|| Runtime {
        time: Timeline::monotonic(),
        shards: (0..shard_count())
            .map(|_| CachePadded::new(Shard::new()))
            .collect(),
        drive: Drive::System {
            driver: Driver::start(|| SYSTEM.wait()),
            pool: Pool::new(),
        },
    })
}

/// The system clock's callback pool. Its workers borrow it for as long as they run, which is why
/// it is reached through the static rather than through `&self`.
fn system_pool() -> &'static Pool {
    match &system().drive {
        Drive::System { pool, .. } => pool,
        Drive::Manual(_) => unreachable!("gotimer: the system runtime is on the system clock"),
    }
}

/// Four shards per core, rounded up to a power of two: enough that threads rarely share one.
fn shard_count() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores * 4).next_power_of_two().min(256)
}

/// A runtime, as handles and clocks hold it: the system one (a static, started by `Rt::system`) or
/// a fake clock's (shared). The system variant keeps the static's address so that `stop`/`reset`
/// need not check that it is initialised.
#[derive(Clone)]
pub(crate) enum Rt {
    System(&'static Runtime),
    Fake(Arc<Runtime>),
}

impl Rt {
    /// A new fake clock's runtime: manual time, one shard, no thread.
    pub(crate) fn fake() -> Rt {
        Rt::Fake(Arc::new(Runtime {
            time: Timeline::manual(),
            shards: vec![CachePadded::new(Shard::new())].into_boxed_slice(),
            drive: Drive::Manual(Manual::new()),
        }))
    }

    /// The system clock's runtime, started by the first call.
    #[inline]
    pub(crate) fn system() -> Rt {
        Rt::System(system())
    }

    #[inline]
    pub(crate) fn get(&self) -> &Runtime {
        match self {
            Rt::System(rt) => rt,
            Rt::Fake(rt) => rt,
        }
    }

    pub(crate) fn is_fake(&self) -> bool {
        matches!(self, Rt::Fake(_))
    }

    pub(crate) fn same(&self, other: &Rt) -> bool {
        std::ptr::eq(self.get(), other.get())
    }
}

thread_local! {
    static LOCAL_SHARD: Cell<u32> = const { Cell::new(u32::MAX) };
}

impl Runtime {
    pub(crate) fn now(&self) -> Instant {
        self.time.instant(self.time.now())
    }

    /// The shard of the calling thread: assigned round-robin on the thread's first timer. A runtime
    /// with one shard (a fake clock's) has no choice to make.
    fn local_shard(&self) -> u32 {
        if self.shards.len() == 1 {
            return 0;
        }
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        LOCAL_SHARD.with(|s| {
            if s.get() == u32::MAX {
                let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                s.set(n % self.shards.len() as u32);
            }
            s.get()
        })
    }

    /// What a schedule leaves to do once the shard lock is released: run a callback that came due
    /// at once, and make sure whoever fires timers knows of an earlier deadline.
    fn finish(&self, done: Scheduled) {
        match &self.drive {
            Drive::System { driver, .. } => {
                if let Some(job) = done.dispatch {
                    // Made due by a callback: run next on its thread (`handoff.rs`).
                    match system_pool().offer(job, || self.time.now()) {
                        Ok(Some(look_at)) => driver.notify(look_at),
                        Ok(None) => {}
                        Err(job) => {
                            if !system_pool().dispatch(job) {
                                // No callback thread could be started: have the driver retry.
                                driver.notify(0);
                            }
                        }
                    }
                }
                if let Some(deadline) = done.deadline {
                    driver.notify(deadline);
                }
            }
            Drive::Manual(manual) => {
                if let Some(job) = done.dispatch {
                    manual.queue(job);
                }
                manual.scheduled();
            }
        }
    }

    /// The system driver's step (this is the system runtime): fires what is due at `now` in every
    /// due shard and hands the callbacks to the pool. Returns the earliest deadline left, for the driver to sleep until.
    fn poll_due(&self, now: u64, buf: &mut Vec<(u64, EntryRef)>, jobs: &mut Vec<EntryRef>) -> u64 {
        for shard in self.shards.iter() {
            if shard.next() <= now {
                shard.poll(now, &self.time, buf, jobs);
            }
        }
        for job in jobs.drain(..) {
            // A failed start is retried by the driver's loop (`retry_callback_threads`).
            let _ = system_pool().dispatch(job);
        }
        if system_pool().watch() <= now {
            system_pool().hand_off_stale(now);
        }
        self.earliest()
    }

    /// The system driver's retry of a callback thread that could not be started; true while
    /// callbacks still wait for one.
    fn retry_callback_threads(&self) -> bool {
        system_pool().retry()
    }

    /// The earliest published deadline over all shards, and the callback pool's next look at its
    /// run-next slots (`handoff.rs`), which the driver keeps like a deadline.
    fn earliest(&self) -> u64 {
        let slots = match &self.drive {
            Drive::System { pool, .. } => pool.watch(),
            Drive::Manual(_) => u64::MAX,
        };
        self.shards
            .iter()
            .map(|s| s.next())
            .min()
            .unwrap_or(u64::MAX)
            .min(slots)
    }

    fn driver(&self) -> &Driver {
        match &self.drive {
            Drive::System { driver, .. } => driver,
            Drive::Manual(_) => unreachable!("gotimer: a fake clock has no driver thread"),
        }
    }

    fn manual(&self) -> &Manual {
        match &self.drive {
            Drive::Manual(m) => m,
            Drive::System { .. } => unreachable!("gotimer: the system clock is not a fake clock"),
        }
    }

    /// A fake clock's `after`: keeps `tx`, a sender of its channel, until the clock is dropped (see
    /// `Shard::step`).
    pub(crate) fn keep_after(&self, tx: Option<Sender<Instant>>) {
        self.manual().keep(tx);
    }

    /// A fake clock's `advance(d)`.
    pub(crate) fn advance(&self, d: Duration) {
        let target = self
            .time
            .deadline(self.time.now(), Due::In(d))
            .unwrap_or(crate::wheel::MAX_DEADLINE);
        self.manual()
            .advance_to(&self.time, &self.shards[0], target);
    }

    /// A fake clock's `advance_to_next`: how far it moved, or `None` if nothing is pending.
    pub(crate) fn advance_to_next(&self) -> Option<Duration> {
        let from = self.manual().advance_to_next(&self.time, &self.shards[0])?;
        Some(Duration::from_nanos(self.time.now() - from))
    }

    /// A fake clock's earliest pending deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let at = self.shards[0].lock().earliest_true_when()?;
        Some(self.time.instant(at))
    }

    /// A fake clock's `waiters`: its timers with a deadline.
    pub(crate) fn waiters(&self) -> usize {
        self.shards[0].len()
    }

    pub(crate) fn wait_for_waiters(&self, n: usize, timeout: Duration) -> bool {
        self.manual().wait_for(n, timeout, || self.waiters())
    }

    /// True if the calling thread is running a callback of this (fake) clock's advance.
    pub(crate) fn in_own_callback(&self) -> bool {
        matches!(&self.drive, Drive::Manual(m) if m.in_advance())
    }

    /// True if a timer set `d` from now would ever fire (its deadline is within the wheel's range).
    pub(crate) fn fires_within_range(&self, due: Due) -> bool {
        self.time.deadline(self.time.now(), due).is_some()
    }

    pub(crate) fn stats(&self) -> Stats {
        let (callback_threads, callback_panics, callback_spawn_failures) = match &self.drive {
            Drive::System { pool, .. } => (pool.workers(), pool.panics(), pool.spawn_failures()),
            Drive::Manual(m) => (0, m.panics(), 0),
        };
        Stats {
            pending: self.shards.iter().map(|s| s.len()).sum(),
            callback_threads,
            callback_panics,
            callback_spawn_failures,
            shards: self.shards.len(),
        }
    }
}

/// Bytes a timer holds besides its `Entry`: the `Arc` counts and its wheel node.
const ENTRY_OVERHEAD: u64 = 16 + 32;

/// The earliest and latest deadline of the timers pending in the system clock's wheels, per site
/// id (`None`: the site has none pending). Each shard is locked in turn, only for a pass of array
/// updates, so the driver is held up for a few milliseconds per million timers, not for the
/// profile's own work. Fake clocks' timers are counted by their sites like any other, but their
/// deadlines are on a time line of their own, so they are left out of these spans.
#[cfg(feature = "profile")]
pub(crate) fn pending_spans() -> Vec<Option<(std::time::Instant, std::time::Instant)>> {
    let rt = system();
    let mut spans: Vec<Option<(u64, u64)>> = Vec::new();
    for shard in rt.shards.iter() {
        shard.for_each(|due, entry| {
            let id = entry.origin.id() as usize;
            if id >= spans.len() {
                spans.resize(id + 1, None);
            }
            let span = spans[id].get_or_insert((due, due));
            span.0 = span.0.min(due);
            span.1 = span.1.max(due);
        });
    }
    spans
        .into_iter()
        .map(|s| s.map(|(a, b)| (rt.time.instant(a), rt.time.instant(b))))
        .collect()
}

/// A scheduled entry, the shard it lives in and its runtime: the part of `Timer` and `Ticker` that
/// talks to the runtime. It does not cancel on drop; the handles decide that.
pub(crate) struct Handle {
    entry: EntryRef,
    shard: u32,
    rt: Rt,
}

impl Handle {
    /// Creates an entry in the calling thread's shard of `rt` and schedules it for `due`.
    pub(crate) fn start<A: Action>(
        rt: Rt,
        site: &'static Location<'static>,
        kind: Kind,
        action: A,
        due: Due,
    ) -> Self {
        let bytes =
            ENTRY_OVERHEAD + std::mem::size_of::<Entry<A>>() as u64 + action.view().heap_bytes();
        let entry: EntryRef = Arc::new(Entry::new(Origin::new(site, kind, bytes), action));
        let handle = Handle {
            entry,
            shard: rt.get().local_shard(),
            rt,
        };
        // A callback on a clock read without the lock is filed directly, reading the clock once;
        // one already due is dispatched at once, as a schedule would dispatch it, without the
        // lock: nothing else can reach the new entry yet. It is pending (`DISPATCHED`) until the
        // thread that runs it claims it, so a `stop` that comes first returns true and it never
        // runs, as in Go. `after_func(0)` is due whatever the time: no clock read at all.
        let rt = handle.rt.get();
        if matches!(handle.entry.action.view(), View::Func(_)) {
            let run_now = || {
                handle.entry.set_dispatched();
                Scheduled {
                    dispatch: Some(handle.entry.clone()),
                    deadline: None,
                }
            };
            let done = if matches!(due, Due::In(d) if d.is_zero()) {
                Some(run_now())
            } else {
                rt.time
                    .unlocked_now()
                    .map(|now| match rt.time.deadline(now, due) {
                        Some(t) if t <= now => run_now(),
                        deadline => handle.shard(rt).lock().file_new(&handle.entry, deadline),
                    })
            };
            if let Some(done) = done {
                rt.finish(done);
                return handle;
            }
        }
        handle.reset(due, |_, _| false);
        handle
    }

    /// Creates a channel timer (`Deliver` or `Tick`, unarmed) in the calling thread's shard of `rt`,
    /// pending for `due`: parked, on a clock that can be read without the lock, until its first
    /// `c()` (`channel`) gives it its channel; on a fake clock, which jumps under the lock and
    /// promises to stop at every pending deadline, armed at once, its receiver put in `rx`. No lock
    /// is taken to park: nothing else can reach the new entry yet.
    pub(crate) fn start_channel<A: Action>(
        rt: Rt,
        site: &'static Location<'static>,
        kind: Kind,
        action: A,
        due: Due,
        rx: &OnceLock<Receiver<Instant>>,
    ) -> Self {
        let Some(now) = rt.get().time.unlocked_now() else {
            let (tx, r) = bounded(1);
            action.view().arm(tx);
            let _ = rx.set(r);
            return Handle::start(rt, site, kind, action, due);
        };
        let bytes =
            ENTRY_OVERHEAD + std::mem::size_of::<Entry<A>>() as u64 + action.view().heap_bytes();
        let deadline = rt.get().time.deadline(now, due);
        let entry: EntryRef = Arc::new(Entry::parked(
            Origin::parked(
                site,
                kind,
                bytes,
                16 + std::mem::size_of::<Entry<A>>() as u64,
            ),
            action,
            deadline,
        ));
        Handle {
            entry,
            shard: rt.get().local_shard(),
            rt,
        }
    }

    /// A channel timer's `c()`: its channel, made and armed on the first call (`arm`); on later
    /// calls, when the channel is empty, the timer fired now if it is due (`fire_if_due`). Either
    /// way, what is due when `c()` reads the clock is in the channel when it returns, sent on the
    /// calling thread rather than left to the driver (Go's `maybeRunChan`), so the receive that
    /// follows sees what Go's would. A value already waiting is the one to receive.
    pub(crate) fn channel<'a>(&self, rx: &'a OnceLock<Receiver<Instant>>) -> &'a Receiver<Instant> {
        let mut armed_now = false;
        let rx = rx.get_or_init(|| {
            let (tx, rx) = bounded(1);
            self.arm(tx);
            armed_now = true;
            rx
        });
        // A thread that found the channel made (or waited for another thread to make it) looks
        // again: the deadline may have passed since the arming thread read the clock.
        if !armed_now && rx.is_empty() {
            self.fire_if_due();
        }
        rx
    }

    /// Gives a parked channel timer its channel and, under the shard lock, fires it if its
    /// deadline has passed (on the calling thread), or else files it in its wheel: the timer's
    /// `c()` was called for the first time. A timer that is stopped, or never due, only gets its
    /// channel. Only the system clock parks, so the time is always read here (a fake clock arms
    /// its timers when they are made).
    fn arm(&self, tx: Sender<Instant>) {
        let rt = self.rt.get();
        self.entry.action.view().arm(tx);
        self.entry.origin.on_arm();
        let now = rt.time.unlocked_now();
        let shard = self.shard(rt);
        let done = shard.lock().arm(&self.entry, now, &rt.time);
        rt.finish(done);
    }

    /// Fires the channel timer now if its deadline has passed and the driver has not fired it yet:
    /// its channel is about to be received from (Go's `maybeRunChan`). The time is read only if the
    /// timer is in the wheel, and on a fake clock never: its `advance` leaves nothing due unfired.
    #[inline]
    pub(crate) fn fire_if_due(&self) {
        let rt = self.rt.get();
        let Some(when) = self.entry.action.view().when() else {
            return;
        };
        let Some(now) = rt.time.unlocked_now() else {
            return;
        };
        if when > now {
            return;
        }
        let done = self
            .shard(rt)
            .lock()
            .fire_if_due(&self.entry, now, &rt.time);
        rt.finish(done);
    }

    pub(crate) fn entry(&self) -> &EntryRef {
        &self.entry
    }

    fn shard<'r>(&self, rt: &'r Runtime) -> &'r Shard {
        &rt.shards[self.shard as usize]
    }

    /// Cancels the entry. `under_lock(locked, was_pending)` runs while the entry cannot fire, to
    /// drain its channel. Returns true if the entry was pending or `under_lock` returned true.
    pub(crate) fn stop(&self, under_lock: impl FnOnce(&Locked<'_>, bool) -> bool) -> bool {
        self.shard(self.rt.get()).stop(&self.entry, under_lock)
    }

    /// Reschedules the entry for `due`, replacing its old schedule. On the locked path,
    /// `under_lock(locked, was_pending)` runs first, while the entry cannot fire; a pending `Timer`
    /// moved later takes the lock-free path and skips it (see `Shard::reset`). Returns true if the
    /// entry was pending or `under_lock` returned true.
    pub(crate) fn reset(
        &self,
        due: Due,
        under_lock: impl FnOnce(&Locked<'_>, bool) -> bool,
    ) -> bool {
        let rt = self.rt.get();
        let (active, done) = self.shard(rt).reset(&self.entry, due, &rt.time, under_lock);
        if let Some(done) = done {
            rt.finish(done);
        }
        active
    }
}

/// Counters of a timer runtime at one moment, from [`stats`] (the system clock) or
/// [`Clock::stats`](crate::Clock::stats) (any clock).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Timers waiting in the wheels: pending `Timer`s, `Ticker`s, `tick`s and `after_func`s (and,
    /// on a fake clock, `after`s and sleeps). On the system clock a `Timer` or `Ticker` enters its
    /// wheel when its channel is first asked for (`c()`), as a Go 1.23 channel timer enters the
    /// heap only once a goroutine waits on it: one made, reset and stopped without anyone waiting
    /// is pending for `stop`'s result, but in no wheel and not counted here. A timer whose deadline
    /// is out of range (`Duration::MAX`) is held only by its handle and is not counted; the system
    /// clock's `after` channels are crossbeam's and never in a wheel.
    pub pending: usize,
    /// Callback threads alive (running a callback or idle), at most [`MAX_WORKERS`]; always 0 for a
    /// fake clock, whose callbacks run on the thread that advances it.
    pub callback_threads: usize,
    /// Callbacks that panicked since the runtime started (the process, for the system clock).
    pub callback_panics: usize,
    /// Times a callback thread could not be started (the operating system refused a thread).
    /// Callbacks wait meanwhile, and the driver retries every 10 ms; the first thread that starts
    /// reports the failure on stderr. Always 0 on a fake clock.
    pub callback_spawn_failures: usize,
    /// The number of shards the timers are spread over (1 for a fake clock).
    pub shards: usize,
}

/// Reads the system clock's counters, starting its runtime if it is not running yet. It locks each
/// shard briefly, one at a time. Timers on fake clocks are not counted: see
/// [`Clock::stats`](crate::Clock::stats).
///
/// ```
/// let t = gotimer::Timer::new(std::time::Duration::from_secs(60));
/// let _ = t.c(); // waited on: in its wheel
/// assert!(gotimer::stats().pending >= 1);
/// drop(t);
/// ```
pub fn stats() -> Stats {
    system().stats()
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::Timer;

    /// A runtime on the monotonic clock whose driver never runs: what a held receiver sees while
    /// the system clock's driver has not woken yet, held still.
    fn driverless() -> Rt {
        Rt::Fake(Arc::new(Runtime {
            time: Timeline::monotonic(),
            shards: vec![CachePadded::new(Shard::new())].into_boxed_slice(),
            drive: Drive::Manual(Manual::new()),
        }))
    }

    /// A receiver kept from an earlier `c()` gets a value only once something sends it: the driver
    /// (absent here), or a `c()` call, which fires what is due on its own thread. So after the
    /// deadline a non-blocking receive on the held receiver finds nothing until then, and a
    /// receive through `c()` always finds the value.
    #[test]
    fn a_held_receiver_sees_a_due_value_only_once_the_driver_or_c_sends_it() {
        let ms = Duration::from_millis(1);
        let t = Timer::start(driverless(), Location::caller(), Due::In(ms));
        let held = t.c().clone();
        std::thread::sleep(2 * ms);
        assert!(held.try_recv().is_err(), "nothing sent it yet");
        assert!(t.c().try_recv().is_ok(), "c() fires what is due");

        // The first `c()` fires it too, from parked.
        let t = Timer::start(driverless(), Location::caller(), Due::In(ms));
        std::thread::sleep(2 * ms);
        assert!(t.c().try_recv().is_ok(), "the first c() fires what is due");
        assert!(
            !t.reset(ms),
            "received: the reset kept nothing from being received"
        );
        let held = t.c().clone();
        std::thread::sleep(2 * ms);
        assert!(held.try_recv().is_err(), "nothing sent it yet");
        let _ = t.c();
        assert!(
            held.try_recv().is_ok(),
            "a c() on any thread sends it to every receiver"
        );
    }
}

//! The timer runtime: shards of wheels, the driver thread, and the callback pool, started on first use.
//!
//! Data flows one way: a handle (`Timer`, `Ticker`) schedules its entry into the shard of the thread
//! that created it; the driver polls due shards; what fires is sent on its channel under the shard
//! lock, or handed to the pool if it is a callback. Nothing here needs shutting down: the threads
//! never keep the process alive, and pending timers are simply dropped at exit.

mod driver;
pub(crate) mod entry;
#[cfg(all(test, loom))]
mod loom_tests;
mod pool;
mod shard;

pub use pool::{IDLE_EXIT, MAX_WORKERS};

use crate::clock::Clock;
use crate::origin::{Kind, Origin};
use crossbeam_utils::CachePadded;
use driver::Driver;
use entry::{Action, Entry, EntryRef};
use pool::Pool;
use shard::{Scheduled, Shard};
use std::cell::Cell;
use std::panic::Location;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub(crate) struct Runtime {
    clock: Clock,
    shards: Box<[CachePadded<Shard>]>,
    driver: Driver,
    pool: Pool,
}

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The process's runtime, started by the first call.
pub(crate) fn runtime() -> &'static Runtime {
    RUNTIME.get_or_init(|| Runtime {
        clock: Clock::new(),
        shards: (0..shard_count())
            .map(|_| CachePadded::new(Shard::new()))
            .collect(),
        driver: Driver::start(|| RUNTIME.wait()),
        pool: Pool::new(),
    })
}

/// Four shards per core, rounded up to a power of two: enough that threads rarely share one.
fn shard_count() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores * 4).next_power_of_two().min(256)
}

thread_local! {
    static LOCAL_SHARD: Cell<u32> = const { Cell::new(u32::MAX) };
}

impl Runtime {
    /// The shard of the calling thread: assigned round-robin on the thread's first timer.
    fn local_shard(&self) -> u32 {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        LOCAL_SHARD.with(|s| {
            if s.get() == u32::MAX {
                let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                s.set(n % self.shards.len() as u32);
            }
            s.get()
        })
    }

    /// The earliest published deadline over all shards.
    fn earliest(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| s.next())
            .min()
            .unwrap_or(u64::MAX)
    }

    fn finish(&'static self, done: Scheduled) {
        if let Some(job) = done.dispatch {
            self.pool.dispatch(job);
        }
        if let Some(deadline) = done.deadline {
            self.driver.notify(deadline);
        }
    }
}

/// True if a timer set `d` from now would ever fire (its deadline is within the wheel's range).
pub(crate) fn fires_within_range(d: Duration) -> bool {
    Clock::deadline(runtime().clock.now(), d).is_some()
}

/// Bytes a timer holds besides its `Entry`: the `Arc` counts and its wheel node.
const ENTRY_OVERHEAD: u64 = 16 + 32;

/// The earliest and latest deadline of the timers pending in the wheels, per site id (`None`: the
/// site has none pending). Each shard is locked in turn, only for a pass of array updates, so the
/// driver is held up for a few milliseconds per million timers, not for the profile's own work.
#[cfg(feature = "profile")]
pub(crate) fn pending_spans() -> Vec<Option<(std::time::Instant, std::time::Instant)>> {
    let rt = runtime();
    let mut spans: Vec<Option<(u64, u64)>> = Vec::new();
    for shard in rt.shards.iter() {
        shard.for_each(|node, entry| {
            let due = entry.action.deadline().unwrap_or(node);
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
        .map(|s| s.map(|(a, b)| (rt.clock.instant(a), rt.clock.instant(b))))
        .collect()
}

/// A scheduled entry and the shard it lives in: the part of `Timer` and `Ticker` that talks to the
/// runtime. It does not cancel on drop; the handles decide that.
pub(crate) struct Handle {
    entry: EntryRef,
    shard: u32,
}

impl Handle {
    /// Creates an entry in the calling thread's shard and schedules it `d` from now.
    pub(crate) fn start<A: Action>(
        site: &'static Location<'static>,
        kind: Kind,
        action: A,
        d: Duration,
    ) -> Self {
        let rt = runtime();
        let bytes = ENTRY_OVERHEAD + std::mem::size_of::<Entry<A>>() as u64 + action.heap_bytes();
        let entry: EntryRef = Arc::new(Entry::new(Origin::new(site, kind, bytes), action));
        let handle = Handle {
            entry,
            shard: rt.local_shard(),
        };
        handle.reset(d, |_| false);
        handle
    }

    pub(crate) fn entry(&self) -> &EntryRef {
        &self.entry
    }

    fn shard(&self, rt: &'static Runtime) -> &'static Shard {
        &rt.shards[self.shard as usize]
    }

    /// Cancels the entry. `under_lock(was_pending)` runs while the entry cannot fire, to drain its
    /// channel. Returns true if the entry was pending or `under_lock` returned true.
    pub(crate) fn stop(&self, under_lock: impl FnOnce(bool) -> bool) -> bool {
        self.shard(runtime()).stop(&self.entry, under_lock)
    }

    /// Reschedules the entry `d` from now, replacing its old schedule. `under_lock(was_pending)` runs
    /// first, while the entry cannot fire. Returns true if the entry was pending or `under_lock`
    /// returned true.
    pub(crate) fn reset(&self, d: Duration, under_lock: impl FnOnce(bool) -> bool) -> bool {
        let rt = runtime();
        let now = rt.clock.now();
        let deadline = Clock::deadline(now, d);
        let (active, done) =
            self.shard(rt)
                .reset(&self.entry, deadline, now, &rt.clock, under_lock);
        rt.finish(done);
        active
    }
}

/// Counters of the timer runtime at one moment, from [`stats`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Timers waiting in the wheels: pending `Timer`s, `Ticker`s, `tick`s and `after_func`s. A
    /// timer whose deadline is out of range (`Duration::MAX`) is held only by its handle and is not
    /// counted; `after` channels are never in a wheel.
    pub pending: usize,
    /// Callback threads alive (running a callback or idle), at most [`MAX_WORKERS`].
    pub callback_threads: usize,
    /// Callbacks that panicked since the process started.
    pub callback_panics: usize,
    /// The number of shards the timers are spread over.
    pub shards: usize,
}

/// Reads the runtime's counters, starting the runtime if it is not running yet. It locks each shard
/// briefly, one at a time.
///
/// ```
/// let t = gotimer::Timer::new(std::time::Duration::from_secs(60));
/// assert!(gotimer::stats().pending >= 1);
/// drop(t);
/// ```
pub fn stats() -> Stats {
    let rt = runtime();
    Stats {
        pending: rt.shards.iter().map(|s| s.len()).sum(),
        callback_threads: rt.pool.workers(),
        callback_panics: rt.pool.panics(),
        shards: rt.shards.len(),
    }
}

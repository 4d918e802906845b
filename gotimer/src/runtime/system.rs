//! The system runtime: the system clock's, one static for the process, started on first use. Its
//! core is on the monotonic clock, with four shards per core; a driver thread sleeps until the next
//! deadline and fires what is due (`driver.rs`), and a pool of callback threads runs `after_func`
//! callbacks (`pool.rs`, with a callback made due by a callback run next on its own thread:
//! `handoff.rs`). Nothing needs shutting down: the threads never keep the process alive, and
//! pending timers are simply dropped at exit.

use super::callback;
use super::core::Core;
use super::driver::{Driven, Driver, Swept};
use super::entry::{AfterUnlock, Batch, Filed};
use super::pool::Pool;
use super::stats::Stats;
use super::time::Timeline;
use std::sync::OnceLock;

/// Aligned so that a handle keeps it and a shard's index in one word (`rt::ShardRt`).
#[repr(align(512))]
pub(crate) struct SystemRuntime {
    core: Core,
    driver: Driver,
    pool: Pool,
}

static SYSTEM: OnceLock<SystemRuntime> = OnceLock::new();

impl SystemRuntime {
    /// The system runtime, started by the first call.
    #[inline]
    pub(crate) fn get() -> &'static SystemRuntime {
        match SYSTEM.get() {
            Some(rt) => rt,
            None => SystemRuntime::start(),
        }
    }

    /// Makes the runtime, then hands it, in its final place, to its driver thread.
    #[cold]
    fn start() -> &'static SystemRuntime {
        let mut made = false;
        let rt = SYSTEM.get_or_init(|| {
            made = true;
            SystemRuntime::on(Timeline::monotonic(), shard_count())
        });
        if made {
            Driver::spawn(rt);
        }
        rt
    }

    /// A system runtime whose driver thread is not started yet.
    ///
    /// # Panics
    /// With more than [`MAX_SHARDS`] shards: a handle keeps a shard's index in the low bits of the
    /// runtime's address (`rt::ShardRt`), which has room for that many.
    fn on(time: Timeline, shards: usize) -> SystemRuntime {
        assert!(
            shards <= MAX_SHARDS,
            "gotimer: {shards} shards, more than {MAX_SHARDS}"
        );
        SystemRuntime {
            core: Core::new(time, shards),
            driver: Driver::new(),
            pool: Pool::new(),
        }
    }

    /// A runtime apart from the process's, never started, for the tests of what keeps one.
    #[cfg(test)]
    pub(crate) fn unstarted(shards: usize) -> SystemRuntime {
        SystemRuntime::on(Timeline::monotonic(), shards)
    }

    /// For the loom models of the driver's handshake, which leak one per run: one shard, and this
    /// runtime's driver is the calling thread.
    #[cfg(all(test, gotimer_loom))]
    pub(crate) fn with_driver_here(time: Timeline) -> SystemRuntime {
        SystemRuntime {
            driver: Driver::for_current_thread(),
            ..SystemRuntime::on(time, 1)
        }
    }

    #[inline]
    pub(crate) fn core(&self) -> &Core {
        &self.core
    }

    /// What a schedule left to do once the shard lock was released: a callback that came due at
    /// once goes to a callback thread, and the driver learns of an earlier deadline.
    #[inline]
    pub(crate) fn after_unlock(&'static self, done: AfterUnlock) {
        if let Some(entry) = done.notify {
            callback::notify(entry, self.pool.panic_count());
        }
        if let Some(job) = done.run {
            // Made due by a callback: run next on its thread (`handoff.rs`).
            match self.pool.offer(job, || self.core.time.now()) {
                Ok(Some(look_at)) => self.driver.notify(look_at),
                Ok(None) => {}
                Err(job) => {
                    if !self.pool.submit(job) {
                        // No callback thread could be started: have the driver retry.
                        self.driver.notify(0);
                    }
                }
            }
        }
        if let Some(deadline) = done.deadline {
            self.driver.notify(deadline);
        }
    }

    pub(crate) fn stats(&self) -> Stats {
        Stats {
            pending: self.core.len(),
            callback_threads: self.pool.workers(),
            callback_panics: self.pool.panics(),
            callback_spawn_failures: self.pool.spawn_failures(),
            shards: self.core.shard_count(),
            batched_wakeups: self.driver.batched_wakeups(),
        }
    }

    /// The earliest and latest deadline of the timers pending in the wheels, per site id (`None`:
    /// the site has none pending). Each shard is locked in turn, only for a pass of array updates,
    /// so the driver is held up for a few milliseconds per million timers, not for the profile's
    /// own work.
    #[cfg(feature = "profile")]
    pub(crate) fn pending_spans(&self) -> Vec<Option<(std::time::Instant, std::time::Instant)>> {
        let mut spans: Vec<Option<(u64, u64)>> = Vec::new();
        for shard in self.core.shards() {
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
        let time = &self.core.time;
        spans
            .into_iter()
            .map(|s| s.map(|(a, b)| (time.instant(a), time.instant(b))))
            .collect()
    }
}

impl Driven for SystemRuntime {
    fn driver(&self) -> &Driver {
        &self.driver
    }

    #[inline]
    fn now(&self) -> u64 {
        self.core.time.now()
    }

    /// Fires what is due at `now` in every due shard, makes the notifications a shard's poll left
    /// as soon as its lock is released, and hands the callbacks to the pool.
    fn poll_due(&'static self, now: u64, buf: &mut Vec<(u64, Filed)>, batch: &mut Batch) -> Swept {
        let pool = &self.pool;
        let mut given = 0;
        for shard in self.core.shards() {
            if shard.next() <= now {
                given += shard.poll(now, &self.core.time, buf, batch);
                // The shard's lock is released: its notifications first, then the next shard.
                for entry in batch.notify.drain(..) {
                    callback::notify(entry, pool.panic_count());
                }
            }
        }
        for job in batch.run.drain(..) {
            // A failed start is retried by the driver's loop (`retry_callback_threads`).
            let _ = pool.submit(job);
        }
        if pool.watch() <= now {
            pool.hand_off_stale(now);
        }
        Swept {
            next: self.earliest(),
            given,
        }
    }

    fn retry_callback_threads(&'static self) -> bool {
        self.pool.retry()
    }

    /// The earliest published deadline over all shards, and the callback pool's next look at its
    /// run-next slots (`handoff.rs`), which the driver keeps like a deadline.
    fn earliest(&self) -> u64 {
        self.core.earliest().min(self.pool.watch())
    }
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
    SystemRuntime::get().stats()
}

/// The most shards the system runtime has.
pub(crate) const MAX_SHARDS: usize = 256;

/// Four shards per core, rounded up to a power of two: enough that threads rarely share one.
fn shard_count() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores * 4).next_power_of_two().min(MAX_SHARDS)
}

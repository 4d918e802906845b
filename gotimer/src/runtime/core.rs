//! What both runtimes are made of: a time line and the shards of wheels the timers are filed in.
//! The system runtime (`system.rs`) adds a driver thread and a callback pool around it; the manual
//! one (`manual.rs`) adds the fake clock's stepping.

use super::shard::Shard;
use super::time::{Due, Timeline};
use crossbeam_utils::CachePadded;
use std::cell::Cell;
use std::time::Instant;

pub(crate) struct Core {
    pub(crate) time: Timeline,
    shards: Box<[CachePadded<Shard>]>,
}

thread_local! {
    static LOCAL_SHARD: Cell<u32> = const { Cell::new(u32::MAX) };
}

impl Core {
    pub(crate) fn new(time: Timeline, shards: usize) -> Self {
        Core {
            time,
            shards: (0..shards)
                .map(|_| CachePadded::new(Shard::new()))
                .collect(),
        }
    }

    #[inline]
    pub(crate) fn now(&self) -> Instant {
        self.time.instant(self.time.now())
    }

    #[inline]
    pub(crate) fn shard(&self, i: u32) -> &Shard {
        &self.shards[i as usize]
    }

    pub(crate) fn shards(&self) -> impl Iterator<Item = &Shard> {
        self.shards.iter().map(|s| &**s)
    }

    pub(crate) fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// The shard of the calling thread: assigned round-robin on the thread's first timer. A core
    /// with one shard (a manual runtime's) has no choice to make.
    #[inline]
    pub(crate) fn local_shard(&self) -> u32 {
        if self.shards.len() == 1 {
            return 0;
        }
        // A plain `std` atomic in a static (loom's cannot be one): a round-robin cursor, on which
        // no ordering argument rests.
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        LOCAL_SHARD.with(|s| {
            if s.get() == u32::MAX {
                let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                s.set(n % self.shards.len() as u32);
            }
            s.get()
        })
    }

    /// The earliest published deadline over all shards (a lower bound: see `Shard::next`).
    pub(crate) fn earliest(&self) -> u64 {
        self.shards().map(Shard::next).min().unwrap_or(u64::MAX)
    }

    /// Entries in all the wheels.
    pub(crate) fn len(&self) -> usize {
        self.shards().map(Shard::len).sum()
    }

    /// True if a timer set for `due` now would ever fire (its deadline is within the wheel's range).
    pub(crate) fn fires_within_range(&self, due: Due) -> bool {
        self.time.deadline(self.time.now(), due).is_some()
    }
}

//! How a call site gets its [`SiteId`] when the thread's cache misses: a lock-free probe of the
//! index, and only for a site never seen, the lock that records it; or, past the table's limit, its
//! kind's overflow record.
//!
//! # Past the limit
//!
//! The sites past [`MAX_SITES`] are counted together, one record per kind, under
//! `OVERFLOW_FILE`. Finding that a site is past the limit costs a hash probe and no lock, and the
//! thread cache then holds it like any other site. The lock is taken only to record a new site, so
//! at most [`MAX_SITES`] times in the life of the process (plus a thread that raced another to
//! record the same site).

use super::index::{self, Key};
use super::kind::Kind;
#[cfg(feature = "profile")]
use super::table::stats;
use super::table::{publish, SiteId, MAX_SITES, TAKEN};
use crate::sync::lock;
use std::panic::Location;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::Mutex;

/// Taken to record a site; never on the hot path, and never for a site past the limit.
static RECORD: Mutex<()> = Mutex::new(());

/// Resolves a cache miss: the probe, and only for a site never seen, the lock.
#[cold]
#[inline(never)]
pub(super) fn resolve(
    location: &'static Location<'static>,
    kind: Kind,
    bytes_each: u64,
    parked: Option<u64>,
) -> SiteId {
    #[cfg(test)]
    test_counts::MISSES.with(|c| c.set(c.get() + 1));
    let key = Key::new(location, kind);
    // Read before the index: once the table is full it no longer changes, so a miss in a table read
    // after seeing it full is a site that will never be recorded.
    let full = TAKEN.load(Acquire) == MAX_SITES;
    let id = match index::lookup(&key) {
        Some(id) => id,
        None if full => overflow(kind, bytes_each, parked),
        None => record_new(location, &key, bytes_each, parked),
    };
    // A site can make timers parked (system clock) and armed at once (fake clock): the parked size
    // is the one its parked timers last gave.
    #[cfg(feature = "profile")]
    if let Some(p) = parked {
        stats(id).set_bytes_parked(p);
    }
    id
}

/// Records the site of `key`, or finds it recorded by a thread that raced us, or (the table being
/// full) returns its kind's overflow record.
#[cold]
fn record_new(
    location: &'static Location<'static>,
    key: &Key,
    bytes_each: u64,
    parked: Option<u64>,
) -> SiteId {
    let _lock = lock(&RECORD);
    #[cfg(test)]
    test_counts::LOCKS.with(|c| c.set(c.get() + 1));
    if let Some(id) = index::lookup_locked(key) {
        return id;
    }
    let taken = TAKEN.load(Relaxed);
    if taken == MAX_SITES {
        return overflow(key.kind, bytes_each, parked);
    }
    let id = publish(taken, location, key.kind, bytes_each, parked).id();
    index::add(key, id);
    TAKEN.store(taken + 1, Release);
    id
}

/// The shared record of the sites of `kind` past the limit.
fn overflow(kind: Kind, bytes_each: u64, parked: Option<u64>) -> SiteId {
    // The location is what `Origin::location` gives for such a timer (the panic report of a
    // callback): this line, since the real one is not kept.
    publish(
        MAX_SITES + kind as u32,
        Location::caller(),
        kind,
        bytes_each,
        parked,
    )
    .id()
}

/// Per-thread counts of the slow paths, so that tests can tell what a `create` did.
#[cfg(test)]
pub(super) mod test_counts {
    use std::cell::Cell;

    thread_local! {
        /// Cache misses (`resolve` calls).
        pub(in crate::sites) static MISSES: Cell<u64> = const { Cell::new(0) };
        /// Times `RECORD` was locked.
        pub(in crate::sites) static LOCKS: Cell<u64> = const { Cell::new(0) };
    }
}

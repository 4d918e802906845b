//! Per-call-site counters: one `SiteStats` per (call site, kind), created on the site's first timer
//! and kept for the life of the process (call sites are finitely many).
//!
//! The hot path is `lookup` on every timer creation, so it goes through a small direct-mapped cache
//! per thread, keyed by the address of the `Location` that `#[track_caller]` hands us, and takes the
//! global lock only on a miss. The counters are two monotonic atomics (created, freed) rather than a
//! live count, so that creating and freeing never contend on the same read-modify-write ordering.

use super::Kind;
use std::cell::Cell;
use std::collections::HashMap;
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

pub(crate) struct SiteStats {
    pub(crate) location: &'static Location<'static>,
    pub(crate) kind: Kind,
    /// Bytes one timer of this site holds (its entry, wheel node, channel, closure).
    pub(crate) bytes_each: u64,
    created: AtomicU64,
    freed: AtomicU64,
}

impl SiteStats {
    pub(crate) fn created(&self) -> u64 {
        self.created.load(Relaxed)
    }

    /// Timers of this site alive now. `freed` is read first, so a racing creation can only make the
    /// figure higher, never wrap below zero.
    pub(crate) fn live(&self) -> u64 {
        let freed = self.freed.load(Relaxed);
        self.created.load(Relaxed).saturating_sub(freed)
    }

    pub(crate) fn on_create(&self) {
        self.created.fetch_add(1, Relaxed);
    }

    pub(crate) fn on_free(&self) {
        self.freed.fetch_add(1, Relaxed);
    }
}

type SiteKey = (&'static str, u32, u32, Kind);

static SITES: Mutex<Option<HashMap<SiteKey, &'static SiteStats>>> = Mutex::new(None);

const CACHE_SLOTS: usize = 64;

type CacheLine = Cell<Option<(usize, Kind, &'static SiteStats)>>;

thread_local! {
    static CACHE: [CacheLine; CACHE_SLOTS] = const { [const { Cell::new(None) }; CACHE_SLOTS] };
}

/// The counters of the site `location` for timers of `kind`, each holding `bytes_each` bytes.
pub(crate) fn lookup(
    location: &'static Location<'static>,
    kind: Kind,
    bytes_each: u64,
) -> &'static SiteStats {
    let addr = location as *const Location<'static> as usize;
    let slot = (addr >> 3 ^ addr >> 11 ^ kind as usize) % CACHE_SLOTS;
    CACHE.with(|cache| {
        if let Some((a, k, stats)) = cache[slot].get() {
            if a == addr && k == kind {
                return stats;
            }
        }
        let stats = lookup_slow(location, kind, bytes_each);
        cache[slot].set(Some((addr, kind, stats)));
        stats
    })
}

fn lookup_slow(
    location: &'static Location<'static>,
    kind: Kind,
    bytes_each: u64,
) -> &'static SiteStats {
    let key = (location.file(), location.line(), location.column(), kind);
    let mut sites = SITES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    sites.get_or_insert_with(HashMap::new).entry(key).or_insert_with(|| {
        Box::leak(Box::new(SiteStats {
            location,
            kind,
            bytes_each,
            created: AtomicU64::new(0),
            freed: AtomicU64::new(0),
        }))
    })
}

/// Every site seen so far.
pub(crate) fn all() -> Vec<&'static SiteStats> {
    let sites = SITES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    sites.iter().flat_map(|m| m.values().copied()).collect()
}

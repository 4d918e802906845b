//! Per-call-site counters: one `SiteStats` per (call site, kind), created on the site's first timer
//! and kept for the life of the process (call sites are finitely many).
//!
//! The hot path is `lookup` on every timer creation, so it goes through a small direct-mapped cache
//! per thread, keyed by the address of the `Location` that `#[track_caller]` hands us, and takes the
//! global lock only on a miss. The counters are monotonic (created, freed) rather than a live count,
//! and striped: each thread counts in its own cache line, so threads creating timers at the same
//! call site in parallel (the common case) do not bounce one line between cores. A snapshot sums the
//! stripes.
//!
//! A timer names its site by a `u32` id, not a pointer: with the entry's own `u32` state that keeps an
//! `after_func` entry at 8 bytes plus its closure (24 with the `Arc` counts), inside the 64-byte
//! budget with its wheel node. Ids index a two-level table that is only ever appended to, so reading
//! it takes no lock.

use super::Kind;
use crossbeam_utils::CachePadded;
use std::cell::Cell;
use std::collections::HashMap;
use std::panic::Location;
use std::sync::atomic::{
    AtomicPtr, AtomicU64, AtomicUsize, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
};
use std::sync::Mutex;

pub(crate) struct SiteStats {
    pub(crate) location: &'static Location<'static>,
    pub(crate) kind: Kind,
    /// Bytes one timer of this site holds (its entry, wheel node, channel, closure).
    pub(crate) bytes_each: u64,
    stripes: [CachePadded<Counts>; STRIPES],
}

#[derive(Default)]
struct Counts {
    created: AtomicU64,
    freed: AtomicU64,
}

const STRIPES: usize = 8;

thread_local! {
    /// This thread's stripe, assigned round-robin on first use.
    static STRIPE: usize = {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        NEXT.fetch_add(1, Relaxed) % STRIPES
    };
}

impl SiteStats {
    fn new(location: &'static Location<'static>, kind: Kind, bytes_each: u64) -> Self {
        SiteStats {
            location,
            kind,
            bytes_each,
            stripes: Default::default(),
        }
    }

    fn stripe(&self) -> &Counts {
        &self.stripes[STRIPE.with(|s| *s)]
    }

    pub(crate) fn created(&self) -> u64 {
        self.stripes.iter().map(|c| c.created.load(Relaxed)).sum()
    }

    /// Timers of this site alive now. `freed` is read first, so a racing creation can only make the
    /// figure higher, never wrap below zero.
    pub(crate) fn live(&self) -> u64 {
        let freed: u64 = self.stripes.iter().map(|c| c.freed.load(Relaxed)).sum();
        self.created().saturating_sub(freed)
    }

    pub(crate) fn on_create(&self) {
        self.stripe().created.fetch_add(1, Relaxed);
    }

    pub(crate) fn on_free(&self) {
        self.stripe().freed.fetch_add(1, Relaxed);
    }
}

type SiteKey = (&'static str, u32, u32, Kind);

/// The sites by key, and how many ids are taken. Written under this lock only.
static SITES: Mutex<Option<(HashMap<SiteKey, u32>, u32)>> = Mutex::new(None);

/// Small under test, so that the test crosses chunk boundaries and fills the table.
const CHUNK: usize = if cfg!(test) { 4 } else { 256 };
/// Sites beyond `CHUNK * CHUNK` share the last id: their counts merge, nothing breaks.
const MAX_SITES: u32 = (CHUNK * CHUNK) as u32;

type Chunk = [AtomicPtr<SiteStats>; CHUNK];

/// `TABLE[id / CHUNK][id % CHUNK]`: chunks are allocated on demand and never freed.
static TABLE: [AtomicPtr<Chunk>; CHUNK] = [const { AtomicPtr::new(std::ptr::null_mut()) }; CHUNK];

const CACHE_SLOTS: usize = 64;

type CacheLine = Cell<Option<(usize, Kind, u32)>>;

thread_local! {
    static CACHE: [CacheLine; CACHE_SLOTS] = const { [const { Cell::new(None) }; CACHE_SLOTS] };
}

/// The id of the site `location` for timers of `kind`, each holding `bytes_each` bytes.
pub(crate) fn lookup(location: &'static Location<'static>, kind: Kind, bytes_each: u64) -> u32 {
    let addr = location as *const Location<'static> as usize;
    let slot = (addr >> 3 ^ addr >> 11 ^ kind as usize) % CACHE_SLOTS;
    CACHE.with(|cache| {
        if let Some((a, k, id)) = cache[slot].get() {
            if a == addr && k == kind {
                return id;
            }
        }
        let id = lookup_slow(location, kind, bytes_each);
        cache[slot].set(Some((addr, kind, id)));
        id
    })
}

fn lookup_slow(location: &'static Location<'static>, kind: Kind, bytes_each: u64) -> u32 {
    let key = (location.file(), location.line(), location.column(), kind);
    let mut sites = SITES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (by_key, taken) = sites.get_or_insert_with(|| (HashMap::new(), 0));
    if let Some(&id) = by_key.get(&key) {
        return id;
    }
    if *taken == MAX_SITES {
        return MAX_SITES - 1;
    }
    let id = *taken;
    let stats = Box::leak(Box::new(SiteStats::new(location, kind, bytes_each)));
    let chunk = &TABLE[id as usize / CHUNK];
    if chunk.load(Acquire).is_null() {
        let fresh: &'static Chunk = Box::leak(Box::new(
            [const { AtomicPtr::new(std::ptr::null_mut()) }; CHUNK],
        ));
        chunk.store(fresh as *const Chunk as *mut Chunk, Release);
    }
    table_slot(id).store(stats, Release);
    by_key.insert(key, id);
    *taken += 1;
    id
}

/// The table cell of `id`, whose chunk exists.
fn table_slot(id: u32) -> &'static AtomicPtr<SiteStats> {
    let chunk = TABLE[id as usize / CHUNK].load(Acquire);
    // SAFETY: chunks are leaked `Box<Chunk>`s, published with Release before any id in them is handed
    // out (ids leave `lookup_slow` only after `table_slot(id)` is stored), and never freed; so a chunk
    // pointer loaded with Acquire for an issued id is non-null and valid for 'static.
    let chunk: &'static Chunk = unsafe { &*chunk };
    &chunk[id as usize % CHUNK]
}

/// The counters of site `id`, an id returned by `lookup`.
pub(crate) fn stats(id: u32) -> &'static SiteStats {
    let ptr = table_slot(id).load(Acquire);
    // SAFETY: as in `table_slot`: the cell of an issued id holds a leaked `Box<SiteStats>` stored with
    // Release before the id was returned, never changed or freed afterwards.
    unsafe { &*ptr }
}

/// Every site seen so far.
pub(crate) fn all() -> Vec<&'static SiteStats> {
    let sites = SITES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let taken = sites.as_ref().map_or(0, |s| s.1);
    (0..taken).map(stats).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exercises the `unsafe` table reads across chunk boundaries (chunks are 4 wide under test),
    /// from other threads, and the overflow into the shared last id.
    #[test]
    fn ids_index_the_table_across_chunks_and_threads() {
        let lines = [
            Location::caller(),
            Location::caller(),
            Location::caller(),
            Location::caller(),
            Location::caller(),
        ];
        let kinds = [Kind::Timer, Kind::Ticker, Kind::AfterFunc, Kind::Tick];
        let mut ids = Vec::new();
        for (i, &loc) in lines.iter().enumerate() {
            for (j, &kind) in kinds.iter().enumerate() {
                ids.push((lookup(loc, kind, (i * 4 + j) as u64), i * 4 + j));
            }
        }
        // 20 keys, 16 ids: the last five share id 15.
        let distinct: std::collections::HashSet<u32> = ids.iter().map(|p| p.0).collect();
        assert_eq!(distinct.len(), MAX_SITES as usize);
        assert!(ids[16..].iter().all(|p| p.0 == MAX_SITES - 1));
        let handles: Vec<_> = ids[..16]
            .chunks(3)
            .map(|chunk| {
                let chunk = chunk.to_vec();
                std::thread::spawn(move || {
                    for (id, bytes) in chunk {
                        assert_eq!(stats(id).bytes_each, bytes as u64);
                        stats(id).on_create();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(all().len(), MAX_SITES as usize);
        assert!(all().iter().all(|s| s.created() == 1 && s.live() == 1));
        // A repeated lookup hits the cache and returns the same id.
        assert_eq!(lookup(lines[0], Kind::Timer, 0), ids[0].0);
    }
}

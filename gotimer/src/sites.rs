//! Call sites: one `SiteStats` per (call site, kind), created on the site's first timer and kept for
//! the life of the process (call sites are finitely many), and, with the `profile` feature, its
//! counters. Without the feature a site is only interned, for the panic report of `after_func`.
//!
//! The hot path is `lookup` on every timer creation, so it goes through a small direct-mapped cache
//! per thread, keyed by the address of the `Location` that `#[track_caller]` hands us, and takes the
//! global lock only on a miss. The counters are monotonic (created, freed) rather than a live count,
//! and striped: each thread counts in a cache line of its own, so threads creating timers at the same
//! call site in parallel (the common case) do not bounce one line between cores. A thread *owns* its
//! stripe (at most [`OWNED`] threads at a time; later ones share one more stripe), so it counts with
//! a plain load and store, not a locked read-modify-write: that is what keeps accounting within a few
//! percent of a timer's create+stop. A snapshot sums the stripes. When a thread exits, its stripe is
//! handed to the next thread that needs one, counts and all: the sums stay right.
//!
//! A timer names its site by a `u32` id, not a pointer: with the entry's own `u32` state that keeps an
//! `after_func` entry at 8 bytes plus its closure (24 with the `Arc` counts), inside the 64-byte
//! budget with its wheel node. Ids index a two-level table that is only ever appended to, so reading
//! it takes no lock.

use crate::origin::Kind;
#[cfg(feature = "profile")]
use crossbeam_utils::CachePadded;
use std::cell::Cell;
use std::collections::HashMap;
use std::panic::Location;
use std::sync::atomic::{AtomicPtr, Ordering::Acquire, Ordering::Release};
#[cfg(feature = "profile")]
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

pub(crate) struct SiteStats {
    pub(crate) location: &'static Location<'static>,
    pub(crate) kind: Kind,
    /// Its index in `TABLE`.
    id: u32,
    /// Bytes one timer of this site holds (its entry, wheel node, channel, closure).
    #[cfg_attr(not(feature = "profile"), allow(dead_code))]
    pub(crate) bytes_each: u64,
    #[cfg(feature = "profile")]
    stripes: [CachePadded<Counts>; OWNED + 1],
}

#[cfg(feature = "profile")]
#[derive(Default)]
struct Counts {
    created: AtomicU64,
    freed: AtomicU64,
}

#[cfg(feature = "profile")]
/// Stripes that a thread can own alone.
const OWNED: usize = 16;
#[cfg(feature = "profile")]
/// The stripe of threads that own none: counted with atomic read-modify-writes.
const SHARED: u8 = OWNED as u8;
#[cfg(feature = "profile")]
const UNSET: u8 = u8::MAX;

#[cfg(feature = "profile")]
/// Bit `i` is set while a live thread owns stripe `i`.
static OWNERS: AtomicU32 = AtomicU32::new(0);

const CACHE_SLOTS: usize = 64;

/// A thread's view of the registry: one thread-local, so the hot path touches one.
struct Local {
    /// This thread's stripe: `UNSET` until its first timer.
    #[cfg(feature = "profile")]
    stripe: Cell<u8>,
    /// Direct-mapped by `Location` address: the sites this thread created timers at lately.
    cache: [Cell<(usize, Option<&'static SiteStats>)>; CACHE_SLOTS],
}

thread_local! {
    /// No destructor, so it stays readable while other thread-locals (holding timers, say) are
    /// dropped at thread exit.
    static LOCAL: Local = const {
        Local {
            #[cfg(feature = "profile")]
            stripe: Cell::new(UNSET),
            cache: [const { Cell::new((0, None)) }; CACHE_SLOTS],
        }
    };
    /// Gives an owned stripe back when the thread exits.
    #[cfg(feature = "profile")]
    static OWNERSHIP: Ownership = const { Ownership(Cell::new(UNSET)) };
}

#[cfg(feature = "profile")]
struct Ownership(Cell<u8>);

#[cfg(feature = "profile")]
impl Drop for Ownership {
    fn drop(&mut self) {
        // Count in the shared stripe from now on (timers dropped by later destructors), then let
        // another thread have ours. Release: our last plain stores happen before its first loads.
        LOCAL.with(|l| l.stripe.set(SHARED));
        OWNERS.fetch_and(!(1 << self.0.get()), Release);
    }
}

#[cfg(feature = "profile")]
/// This thread's stripe, taking a free one on first use.
#[inline]
fn stripe(local: &Local) -> u8 {
    let s = local.stripe.get();
    if s != UNSET {
        return s;
    }
    take_stripe(local)
}

#[cfg(feature = "profile")]
#[cold]
fn take_stripe(local: &Local) -> u8 {
    let mut owners = OWNERS.load(Relaxed);
    let taken = loop {
        let free = !owners & ((1 << OWNED) - 1);
        if free == 0 {
            break SHARED;
        }
        let i = free.trailing_zeros();
        match OWNERS.compare_exchange_weak(owners, owners | 1 << i, Acquire, Relaxed) {
            Ok(_) => break i as u8,
            Err(now) => owners = now,
        }
    };
    if taken != SHARED {
        // Registers the destructor that gives the stripe back. If thread-locals are already being
        // torn down, keep counting in the shared stripe instead.
        if OWNERSHIP.try_with(|o| o.0.set(taken)).is_err() {
            OWNERS.fetch_and(!(1 << taken), Release);
            local.stripe.set(SHARED);
            return SHARED;
        }
    }
    local.stripe.set(taken);
    taken
}

#[cfg(feature = "profile")]
/// Adds one to a counter: a plain load and store in an owned stripe (one writer), an atomic
/// read-modify-write in the shared one.
#[inline]
fn bump(counter: &AtomicU64, stripe: u8) {
    if stripe == SHARED {
        counter.fetch_add(1, Relaxed);
    } else {
        counter.store(counter.load(Relaxed) + 1, Relaxed);
    }
}

impl SiteStats {
    fn new(location: &'static Location<'static>, kind: Kind, id: u32, bytes_each: u64) -> Self {
        SiteStats {
            location,
            kind,
            id,
            bytes_each,
            #[cfg(feature = "profile")]
            stripes: Default::default(),
        }
    }

    #[cfg(feature = "profile")]
    pub(crate) fn created(&self) -> u64 {
        self.stripes.iter().map(|c| c.created.load(Relaxed)).sum()
    }

    /// Timers of this site alive now. `freed` is read first, so a racing creation can only make the
    /// figure higher, never wrap below zero.
    #[cfg(feature = "profile")]
    pub(crate) fn live(&self) -> u64 {
        let freed: u64 = self.stripes.iter().map(|c| c.freed.load(Relaxed)).sum();
        self.created().saturating_sub(freed)
    }

    /// Counts a creation at this site on the calling thread (tests; `create` does it inline).
    #[cfg(all(test, feature = "profile"))]
    fn on_create(&self) {
        LOCAL.with(|l| {
            let s = stripe(l);
            bump(&self.stripes[s as usize].created, s);
        })
    }

    /// Counts a timer of this site freed on the calling thread.
    #[cfg(feature = "profile")]
    #[inline]
    pub(crate) fn on_free(&self) {
        LOCAL.with(|l| {
            let s = stripe(l);
            bump(&self.stripes[s as usize].freed, s);
        })
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

/// Returns the id of the site of a timer of `kind` created at `location`, each holding
/// `bytes_each` bytes, and (feature `profile`) counts the creation.
#[inline(always)]
pub(crate) fn create(location: &'static Location<'static>, kind: Kind, bytes_each: u64) -> u32 {
    let addr = location as *const Location<'static> as usize;
    LOCAL.with(|l| {
        let cell = &l.cache[(addr >> 4) % CACHE_SLOTS];
        let site = match cell.get() {
            (a, Some(site)) if a == addr && site.kind == kind => site,
            _ => {
                let site = stats(lookup_slow(location, kind, bytes_each));
                cell.set((addr, Some(site)));
                site
            }
        };
        #[cfg(feature = "profile")]
        {
            let s = stripe(l);
            bump(&site.stripes[s as usize].created, s);
        }
        site.id
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
    let stats = Box::leak(Box::new(SiteStats::new(location, kind, id, bytes_each)));
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

/// The counters of site `id`, an id returned by `create`.
#[inline]
pub(crate) fn stats(id: u32) -> &'static SiteStats {
    let ptr = table_slot(id).load(Acquire);
    // SAFETY: as in `table_slot`: the cell of an issued id holds a leaked `Box<SiteStats>` stored with
    // Release before the id was returned, never changed or freed afterwards.
    unsafe { &*ptr }
}

/// Every site seen so far.
#[cfg(feature = "profile")]
pub(crate) fn all() -> Vec<&'static SiteStats> {
    let sites = SITES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let taken = sites.as_ref().map_or(0, |s| s.1);
    (0..taken).map(stats).collect()
}

#[cfg(all(test, feature = "profile"))]
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
                ids.push((create(loc, kind, (i * 4 + j) as u64), i * 4 + j));
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
        // Each of the 15 own sites: one `create` here, one `on_create` on a thread. The shared last
        // id: five `create`s and one `on_create`.
        let all = all();
        assert!(all[..15].iter().all(|s| s.created() == 2 && s.live() == 2));
        assert_eq!((all[15].created(), all[15].live()), (6, 6));
        // A repeated lookup hits the cache and returns the same id.
        assert_eq!(create(lines[0], Kind::Timer, 0), ids[0].0);
    }
}

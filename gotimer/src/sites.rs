//! Call sites: one record per (call site, kind), created on the site's first timer and kept for the
//! life of the process, and, with the `profile` feature, its counters. Without the feature a site is
//! only interned, for the panic report of `after_func`.
//!
//! # The hot path
//!
//! `create` runs on every timer creation, so it goes through a small direct-mapped cache per thread,
//! keyed by the address of the `Location` that `#[track_caller]` hands us. A hit touches the
//! thread-local and the one counter it bumps, nothing shared. The counters are monotonic (created,
//! freed) rather than a live count, and striped: a thread *owns* a stripe (at most [`OWNED`] threads
//! at a time; later ones share one more stripe), so it counts with a plain load and store, not a
//! locked read-modify-write, and threads creating timers at one call site in parallel do not bounce
//! one line between cores. A snapshot sums the stripes. When a thread exits, its stripe is handed to
//! the next thread that needs one, counts and all: the sums stay right.
//!
//! # Memory, and its bound
//!
//! Sites are stored in chunks of [`CHUNK`] (64): their records, and for each stripe a row of
//! 24-byte counters (created, freed, armed, and the next timer whose call chain is sampled). The
//! cache-line padding is per row, not per site (a row is written by one thread), so a site costs
//! its 48-byte record, 17 × 24 = 408 bytes of counters and about 16 bytes of index: about 470
//! bytes, where a site with 17 padded stripes of its own took 2.3 KB. A chunk is allocated whole
//! when its first site is recorded, so memory does not grow later, when new threads count. At most
//! [`MAX_SITES`] sites are recorded: at most 65,532 × 470 bytes ≈ 31 MB, however many sites the
//! program has. The sampled call chains (`chain.rs`) are bounded apart: at most 16,384 of them.
//!
//! # Past the limit
//!
//! The 65,533rd site and later are counted together, one record per kind, under
//! [`OVERFLOW_FILE`]. Finding that a site is past the limit costs a hash probe and no lock, and the
//! thread cache then holds it like any other site. The global lock is taken only to record a new
//! site, so at most [`MAX_SITES`] times in the life of the process (plus a thread that raced another
//! to record the same site): a cache miss is resolved by a lock-free probe of a hash index of the
//! sites.
//!
//! A timer names its site by a [`SiteId`], 4 bytes, not a pointer: with the entry's own `u32` state
//! that keeps an `after_func` entry at 8 bytes plus its closure. Only this module makes a `SiteId`, and
//! only for a recorded site, so every id names a record.

#[cfg(feature = "profile")]
use crossbeam_utils::CachePadded;
use std::cell::Cell;
use std::panic::Location;
#[cfg(feature = "profile")]
use std::sync::atomic::AtomicU64;
use std::sync::atomic::{
    AtomicU32, AtomicUsize,
    Ordering::{Acquire, Relaxed, Release},
};
use std::sync::{Mutex, OnceLock};

/// The kind of timer a call site creates.
///
/// ```
/// # #[cfg(feature = "profile")] {
/// use gotimer::profile::Kind;
/// assert_eq!(Kind::AfterFunc.name(), "AfterFunc");
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `Timer::new`.
    Timer,
    /// `Ticker::new`.
    Ticker,
    /// `after_func`.
    AfterFunc,
    /// `tick`.
    Tick,
    /// `after` on a fake clock (the system clock's `after` registers nothing, so it has no site).
    After,
}

impl Kind {
    /// How many kinds there are: one overflow record each.
    const COUNT: u32 = 5;
}

impl Kind {
    /// The Go-style name: `Timer`, `Ticker`, `AfterFunc`, `Tick` or `After`.
    ///
    /// ```
    /// # #[cfg(feature = "profile")]
    /// assert_eq!(gotimer::profile::Kind::Tick.name(), "Tick");
    /// ```
    #[cfg_attr(not(feature = "profile"), allow(dead_code))]
    pub fn name(self) -> &'static str {
        match self {
            Kind::Timer => "Timer",
            Kind::Ticker => "Ticker",
            Kind::AfterFunc => "AfterFunc",
            Kind::Tick => "Tick",
            Kind::After => "After",
        }
    }
}

/// A recorded site: an index into the table that only [`create`] makes, after the record is
/// published, so looking one up cannot fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct SiteId(u32);

impl SiteId {
    /// The id as an index: dense from 0, in the order sites were first seen, then the overflow
    /// records (`MAX_SITES + kind`).
    #[cfg(feature = "profile")]
    pub(crate) fn index(self) -> u32 {
        self.0
    }
}

pub(crate) struct SiteStats {
    location: &'static Location<'static>,
    kind: Kind,
    id: SiteId,
    /// Bytes one armed timer of this site holds (its entry, wheel node, channel, closure). For an
    /// overflow record, those of the first timer past the limit of its kind.
    #[cfg_attr(not(feature = "profile"), allow(dead_code))]
    bytes_each: u64,
    /// Bytes one timer of this site holds as it is created: its entry alone if it is created parked
    /// (by the system clock's `Timer::new` and `Ticker::new`, and `tick`), else `bytes_each`. A site
    /// whose timers are created both ways (a line that makes them on a fake clock and on the system
    /// clock) keeps the parked figure once it has seen one.
    #[cfg(feature = "profile")]
    bytes_parked: AtomicU64,
}

/// Sites per chunk of the table. Small under test, so that the tests cross chunk boundaries and
/// fill the table.
const CHUNK: usize = if cfg!(test) { 8 } else { 64 };
const CHUNKS: usize = if cfg!(test) { 8 } else { 1024 };
/// Ids in all: `TABLE[id / CHUNK]`, item `id % CHUNK`.
const IDS: usize = CHUNK * CHUNKS;
/// The sites recorded each on their own; the last `Kind::COUNT` ids are the overflow records, one per
/// kind.
pub(crate) const MAX_SITES: u32 = IDS as u32 - Kind::COUNT;
/// The file name the profile gives the overflow records (line and column 0).
#[cfg(feature = "profile")]
pub(crate) const OVERFLOW_FILE: &str = "(call sites past gotimer's limit, merged)";

/// `CHUNK` consecutive sites: their records, and their counters in every stripe.
struct Chunk {
    records: [OnceLock<SiteStats>; CHUNK],
    /// `counts[stripe][id % CHUNK]`. Each stripe's row is padded, so that two stripes' rows never
    /// share a cache line: a row is written by one thread only (or atomically, the shared one).
    #[cfg(feature = "profile")]
    counts: [CachePadded<[Counts; CHUNK]>; OWNED + 1],
}

/// The sites. A chunk is allocated whole when its first site is recorded; neither it nor a record
/// is ever freed or changed once set, so reading one takes no lock.
static TABLE: [OnceLock<Box<Chunk>>; CHUNKS] = [const { OnceLock::new() }; CHUNKS];

/// The chunk of an id that has been published.
fn chunk(id: SiteId) -> &'static Chunk {
    TABLE[id.0 as usize / CHUNK]
        .get()
        .expect("gotimer: a SiteId names a published record")
}

/// How many of the ids below `MAX_SITES` are taken. Stored (Release) after the record and its index
/// entry are published.
static TAKEN: AtomicU32 = AtomicU32::new(0);

/// Taken to record a site; never on the hot path, and never for a site past the limit.
static RECORD: Mutex<()> = Mutex::new(());

/// The record of site `id`.
pub(crate) fn stats(id: SiteId) -> &'static SiteStats {
    chunk(id).records[id.0 as usize % CHUNK]
        .get()
        .expect("gotimer: a SiteId names a published record")
}

/// Publishes the record of a new id (under `RECORD`, or for an overflow record, once).
fn publish(id: u32, make: impl FnOnce() -> SiteStats) -> &'static SiteStats {
    let chunk = TABLE[id as usize / CHUNK].get_or_init(|| {
        Box::new(Chunk {
            records: [const { OnceLock::new() }; CHUNK],
            #[cfg(feature = "profile")]
            counts: [const { CachePadded::new([const { Counts::zero() }; CHUNK]) }; OWNED + 1],
        })
    });
    chunk.records[id as usize % CHUNK].get_or_init(make)
}

// The index: from a site's key to its id, read without a lock. ---------------------------------

/// Slots of the smallest index table; each next one is twice as big.
const MIN_SLOTS: usize = 16;
/// Enough tables for every id at a load of at most one half.
const LEVELS: usize = (2 * IDS / MIN_SLOTS).ilog2() as usize + 1;

/// Open addressing with linear probing: a slot holds `id + 1`, or 0 when empty. Kept at most half
/// full. When it would pass that, the next table, twice as big, is filled and made current; the old
/// ones stay, since readers may still be probing them, so the index holds at most twice the current
/// table: 2 × 4 bytes × 2 slots per site = 16 bytes per site.
static INDEX: [OnceLock<Box<[AtomicU32]>>; LEVELS] = [const { OnceLock::new() }; LEVELS];
/// Which table of `INDEX` is current. Stored (Release) after the table is filled.
static LEVEL: AtomicUsize = AtomicUsize::new(0);

struct Key {
    file: &'static str,
    line: u32,
    column: u32,
    kind: Kind,
    hash: usize,
}

impl Key {
    fn new(location: &'static Location<'static>, kind: Kind) -> Key {
        Key::of(location.file(), location.line(), location.column(), kind)
    }

    fn of(file: &'static str, line: u32, column: u32, kind: Kind) -> Key {
        // Keyed by content, not by the `Location`'s address: one source location can have several
        // `Location` statics (one per codegen unit that inlined the call). The keys are the
        // program's own source locations, not input, so a fast multiplicative hash will do (SipHash
        // was most of the cost of a cache miss), with a final mix for the low bits the probe uses.
        const K: u64 = 0x9e37_79b9_7f4a_7c15;
        let mix = |h: u64, word: u64| (h ^ word).wrapping_mul(K).rotate_left(31);
        let mut h = mix(u64::from(line) << 32 | u64::from(column), kind as u64);
        let mut words = file.as_bytes().chunks_exact(8);
        for w in &mut words {
            h = mix(h, u64::from_le_bytes(w.try_into().expect("8 bytes")));
        }
        let mut tail = [0u8; 8];
        tail[..words.remainder().len()].copy_from_slice(words.remainder());
        h = mix(h, u64::from_le_bytes(tail) ^ (file.len() as u64) << 56);
        h ^= h >> 32;
        h = h.wrapping_mul(K);
        Key {
            file,
            line,
            column,
            kind,
            hash: (h ^ h >> 29) as usize,
        }
    }

    fn names(&self, s: &SiteStats) -> bool {
        s.kind == self.kind
            && s.location.line() == self.line
            && s.location.column() == self.column
            && s.location.file() == self.file
    }
}

/// Index table `level`. Those past the first are set before `LEVEL` names them; the first is made by
/// whoever needs it first.
fn index_table(level: usize) -> &'static [AtomicU32] {
    INDEX[level].get_or_init(|| empty_table(MIN_SLOTS << level))
}

fn empty_table(slots: usize) -> Box<[AtomicU32]> {
    (0..slots).map(|_| AtomicU32::new(0)).collect()
}

fn find(table: &[AtomicU32], key: &Key) -> Option<SiteId> {
    let mask = table.len() - 1;
    let mut i = key.hash & mask;
    loop {
        // Acquire: pairs with the Release store in `insert`, so the record it names is visible.
        match table[i].load(Acquire) {
            0 => return None,
            v => {
                let id = SiteId(v - 1);
                if key.names(stats(id)) {
                    return Some(id);
                }
            }
        }
        i = (i + 1) & mask;
    }
}

/// Puts `id` into `table` (which has an empty slot: it is at most half full). Under `RECORD`.
fn insert(table: &[AtomicU32], hash: usize, id: SiteId) {
    let mask = table.len() - 1;
    let mut i = hash & mask;
    while table[i].load(Relaxed) != 0 {
        i = (i + 1) & mask;
    }
    table[i].store(id.0 + 1, Release);
}

/// The site of `key`, if it is recorded: lock-free.
fn lookup(key: &Key) -> Option<SiteId> {
    find(index_table(LEVEL.load(Acquire)), key)
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
    let _lock = RECORD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    #[cfg(test)]
    test_counts::LOCKS.with(|c| c.set(c.get() + 1));
    let level = LEVEL.load(Relaxed);
    let table = index_table(level);
    if let Some(id) = find(table, key) {
        return id;
    }
    let taken = TAKEN.load(Relaxed);
    if taken == MAX_SITES {
        return overflow(key.kind, bytes_each, parked);
    }
    let id = SiteId(taken);
    publish(taken, || SiteStats {
        location,
        kind: key.kind,
        id,
        bytes_each,
        #[cfg(feature = "profile")]
        bytes_parked: AtomicU64::new(parked.unwrap_or(bytes_each)),
    });
    if (taken as usize + 1) * 2 > table.len() {
        // Fill the next table with every site, this one included, then make it current.
        let bigger = empty_table(table.len() * 2);
        for old in 0..=taken {
            let s = stats(SiteId(old));
            let k = Key::new(s.location, s.kind);
            insert(&bigger, k.hash, SiteId(old));
        }
        if INDEX[level + 1].set(bigger).is_err() {
            unreachable!("gotimer: index tables are set under the lock, once each");
        }
        LEVEL.store(level + 1, Release);
    } else {
        insert(table, key.hash, id);
    }
    TAKEN.store(taken + 1, Release);
    id
}

/// The shared record of the sites of `kind` past the limit.
#[cfg_attr(not(feature = "profile"), allow(unused_variables))]
fn overflow(kind: Kind, bytes_each: u64, parked: Option<u64>) -> SiteId {
    let id = MAX_SITES + kind as u32;
    publish(id, || SiteStats {
        // What `Origin::location` gives for such a timer (the panic report of a callback): this
        // line, since the real one is not kept.
        location: Location::caller(),
        kind,
        id: SiteId(id),
        bytes_each,
        #[cfg(feature = "profile")]
        bytes_parked: AtomicU64::new(parked.unwrap_or(bytes_each)),
    })
    .id
}

/// Resolves a cache miss: the probe, and only for a site never seen, the lock.
#[cold]
#[inline(never)]
fn resolve(
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
    let id = match lookup(&key) {
        Some(id) => id,
        None if full => overflow(kind, bytes_each, parked),
        None => record_new(location, &key, bytes_each, parked),
    };
    // A site can make timers parked (system clock) and armed at once (fake clock): the parked size
    // is the one its parked timers last gave.
    #[cfg(feature = "profile")]
    if let Some(p) = parked {
        stats(id).bytes_parked.store(p, Relaxed);
    }
    id
}

// The counters. -------------------------------------------------------------------------------

#[cfg(feature = "profile")]
pub(crate) struct Counts {
    created: AtomicU64,
    freed: AtomicU64,
    /// Timers armed after being created parked, and not freed: +1 when one is armed, -1 when it is
    /// freed. A timer can be armed in one stripe and freed in another, so a stripe's figure is only
    /// a term of the sum, taken with wrapping arithmetic.
    armed: AtomicU32,
    /// Which timer has its call chain recorded next (`chain::sample`): the value of `created`
    /// (its low `chain::ORDINAL_BITS`) in the low bits, and above them the `log2` of the width of
    /// the block it was picked from. Each ordinal is seen by one creation only, so equality of the
    /// low bits is the test.
    next_chain: AtomicU32,
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
impl Counts {
    const fn zero() -> Counts {
        Counts {
            created: AtomicU64::new(0),
            freed: AtomicU64::new(0),
            armed: AtomicU32::new(0),
            next_chain: AtomicU32::new(1),
        }
    }
}

#[cfg(feature = "profile")]
/// The counters of site `id` in stripe `s`.
#[inline]
fn counts(s: u8, id: SiteId) -> &'static Counts {
    &chunk(id).counts[s as usize][id.0 as usize % CHUNK]
}

#[cfg(feature = "profile")]
/// The timers created at site `id` so far, in every stripe: a sum of relaxed loads, for the cold
/// path of `chain::sample`.
fn created_total(id: SiteId) -> u64 {
    let c = chunk(id);
    c.counts
        .iter()
        .map(|row| row[id.0 as usize % CHUNK].created.load(Relaxed))
        .fold(0, u64::wrapping_add)
}

#[cfg(feature = "profile")]
/// Bit `i` is set while a live thread owns stripe `i`.
static OWNERS: AtomicU32 = AtomicU32::new(0);

const CACHE_SLOTS: usize = 64;

/// A cached site: what `create` needs, so that a hit reads nothing shared but the counter.
#[derive(Clone, Copy)]
struct Cached {
    /// The `Location`'s address.
    addr: usize,
    kind: Kind,
    id: SiteId,
    /// The site's counters in this thread's stripe.
    #[cfg(feature = "profile")]
    counts: &'static Counts,
}

/// A thread's view of the registry: one thread-local, so the hot path touches one.
struct Local {
    /// This thread's stripe: `UNSET` until its first timer.
    #[cfg(feature = "profile")]
    stripe: Cell<u8>,
    /// Direct-mapped by `Location` address: the sites this thread created timers at lately. Every
    /// entry's `counts` are in the stripe `stripe` names: the cache is cleared when that changes.
    cache: [Cell<Option<Cached>>; CACHE_SLOTS],
}

thread_local! {
    /// No destructor, so it stays readable while other thread-locals (holding timers, say) are
    /// dropped at thread exit.
    static LOCAL: Local = const {
        Local {
            #[cfg(feature = "profile")]
            stripe: Cell::new(UNSET),
            cache: [const { Cell::new(None) }; CACHE_SLOTS],
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
        // Count in the shared stripe from now on (timers dropped by later destructors): forget the
        // cached counters of ours, then let another thread have it. Release: our last plain stores
        // happen before its first loads.
        LOCAL.with(|l| {
            l.stripe.set(SHARED);
            l.cache.iter().for_each(|c| c.set(None));
        });
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
fn bump(counter: &AtomicU64, stripe: u8) -> u64 {
    add(counter, stripe, 1)
}

#[cfg(feature = "profile")]
/// Adds `v` (wrapping) to a counter, as `bump` does, and returns the new value.
#[inline]
fn add(counter: &AtomicU64, stripe: u8, v: u64) -> u64 {
    if stripe == SHARED {
        counter.fetch_add(v, Relaxed).wrapping_add(v)
    } else {
        let n = counter.load(Relaxed).wrapping_add(v);
        counter.store(n, Relaxed);
        n
    }
}

#[cfg(feature = "profile")]
/// `add` for a 32-bit counter.
#[inline]
fn add32(counter: &AtomicU32, stripe: u8, v: u32) {
    if stripe == SHARED {
        counter.fetch_add(v, Relaxed);
    } else {
        counter.store(counter.load(Relaxed).wrapping_add(v), Relaxed);
    }
}

/// Returns the site of a timer of `kind` created at `location`, each holding `bytes_each` bytes,
/// and (feature `profile`) counts the creation.
#[cfg(all(test, feature = "profile"))]
pub(crate) fn create(location: &'static Location<'static>, kind: Kind, bytes_each: u64) -> SiteId {
    site_of(create_tag(location, kind, bytes_each, None))
}

/// A timer's tag, as its `Origin` keeps it: its site's id, or with [`tag::CHAIN`], the id of its
/// sampled call chain (which names the site) and the chain's weight; and [`tag::ARMED`] once it
/// was given its channel after being created parked.
pub(crate) mod tag {
    /// The timer was created parked (no channel) and has been armed since.
    pub(crate) const ARMED: u32 = 1 << 31;
    /// The low bits are a chain id (`chain::CHAIN_BITS` of them), and bits `SHIFT..SHIFT + 5` the
    /// `log2` of the chain's weight.
    pub(crate) const CHAIN: u32 = 1 << 30;
    #[cfg_attr(not(feature = "profile"), allow(dead_code))]
    pub(crate) const SHIFT: u32 = 16;
    #[cfg_attr(not(feature = "profile"), allow(dead_code))]
    pub(crate) const ID: u32 = (1 << SHIFT) - 1;
    #[cfg(feature = "profile")]
    const _: () = assert!(super::chain::CHAIN_BITS <= SHIFT);
    const _: () = assert!((super::IDS as u32) < CHAIN);
}

/// The site a tag names.
#[inline]
pub(crate) fn site_of(tag: u32) -> SiteId {
    #[cfg(feature = "profile")]
    if tag & tag::CHAIN != 0 {
        return chain::get(tag & tag::ID).site;
    }
    SiteId(tag & !(tag::ARMED | tag::CHAIN))
}

/// Records the creation of a timer of `kind` at `location` and returns its tag. Each timer of the
/// site holds `bytes_each` bytes once armed; `parked` gives the bytes of one created parked (no
/// channel), and says that this one is.
#[inline(always)]
pub(crate) fn create_tag(
    location: &'static Location<'static>,
    kind: Kind,
    bytes_each: u64,
    parked: Option<u64>,
) -> u32 {
    let addr = location as *const Location<'static> as usize;
    LOCAL.with(|l| {
        #[cfg(feature = "profile")]
        let s = stripe(l);
        let cell = &l.cache[(addr >> 4) % CACHE_SLOTS];
        let site = match cell.get() {
            Some(c) if c.addr == addr && c.kind == kind => c,
            _ => {
                let id = resolve(location, kind, bytes_each, parked);
                let c = Cached {
                    addr,
                    kind,
                    id,
                    #[cfg(feature = "profile")]
                    counts: counts(s, id),
                };
                cell.set(Some(c));
                c
            }
        };
        #[cfg(feature = "profile")]
        {
            let n = bump(&site.counts.created, s);
            let next = site.counts.next_chain.load(Relaxed);
            if (n as u32 ^ next) & chain::ORDINAL_MASK == 0 {
                return chain::sample(&site.counts.next_chain, site.id, n);
            }
        }
        site.id.0
    })
}

/// Counts a timer of site `id` freed on the calling thread.
#[cfg(all(test, feature = "profile"))]
pub(crate) fn on_free(id: SiteId) {
    on_free_tag(id.0)
}

/// Counts the timer of `tag` freed on the calling thread (and, if it was parked, no longer parked;
/// if its chain was recorded, its weight no longer live).
#[cfg(feature = "profile")]
#[inline]
pub(crate) fn on_free_tag(tag: u32) {
    if tag & (tag::ARMED | tag::CHAIN) != 0 {
        return on_free_cold(tag);
    }
    let id = SiteId(tag);
    LOCAL.with(|l| {
        let s = stripe(l);
        bump(&counts(s, id).freed, s);
    });
}

/// `on_free_tag` for a timer armed after being parked, or whose chain was recorded.
#[cfg(feature = "profile")]
#[cold]
#[inline(never)]
fn on_free_cold(tag: u32) {
    let id = site_of(tag);
    LOCAL.with(|l| {
        let s = stripe(l);
        let c = counts(s, id);
        bump(&c.freed, s);
        if tag & tag::ARMED != 0 {
            add32(&c.armed, s, u32::MAX);
        }
    });
    if tag & tag::CHAIN != 0 {
        chain::on_free(tag & tag::ID, tag >> tag::SHIFT & 31);
    }
}

/// Counts the parked timer of `tag` armed (given its channel) on the calling thread.
#[cfg(feature = "profile")]
pub(crate) fn on_arm(tag: u32) {
    let id = site_of(tag);
    LOCAL.with(|l| {
        let s = stripe(l);
        add32(&counts(s, id).armed, s, 1);
    });
}

impl SiteStats {
    pub(crate) fn location(&self) -> &'static Location<'static> {
        self.location
    }

    #[cfg(feature = "profile")]
    pub(crate) fn id(&self) -> SiteId {
        self.id
    }

    #[cfg(feature = "profile")]
    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }

    #[cfg(feature = "profile")]
    pub(crate) fn bytes_each(&self) -> u64 {
        self.bytes_each
    }

    /// Bytes a parked timer of this site holds.
    #[cfg(feature = "profile")]
    pub(crate) fn bytes_parked(&self) -> u64 {
        self.bytes_parked.load(Relaxed)
    }

    /// Whether this is the shared record of the sites of its kind past [`MAX_SITES`].
    #[cfg(feature = "profile")]
    pub(crate) fn is_overflow(&self) -> bool {
        self.id.0 >= MAX_SITES
    }

    /// The file, line and column the profile shows: the call site's, or for an overflow record,
    /// `OVERFLOW_FILE`, 0, 0.
    #[cfg(feature = "profile")]
    pub(crate) fn place(&self) -> (&'static str, u32, u32) {
        if self.is_overflow() {
            (OVERFLOW_FILE, 0, 0)
        } else {
            let l = self.location;
            (l.file(), l.line(), l.column())
        }
    }

    #[cfg(feature = "profile")]
    fn sum(&self, field: impl Fn(&Counts) -> &AtomicU64) -> u64 {
        let i = self.id.0 as usize % CHUNK;
        chunk(self.id)
            .counts
            .iter()
            .map(|stripe| field(&stripe[i]).load(Relaxed))
            .sum()
    }

    #[cfg(feature = "profile")]
    pub(crate) fn created(&self) -> u64 {
        self.sum(|c| &c.created)
    }

    /// Timers of this site alive now. `freed` is read first, so a racing creation can only make the
    /// figure higher, never wrap below zero.
    #[cfg(feature = "profile")]
    pub(crate) fn live(&self) -> u64 {
        let freed = self.sum(|c| &c.freed);
        self.created().saturating_sub(freed)
    }

    /// Of `live` timers, how many were armed after being created parked. A racing arm or free can
    /// leave the wrapping sum a little off for one snapshot: it is clamped to `0..=live`.
    #[cfg(feature = "profile")]
    pub(crate) fn armed(&self, live: u64) -> u64 {
        let i = self.id.0 as usize % CHUNK;
        let sum = chunk(self.id).counts.iter().fold(0u32, |a, stripe| {
            a.wrapping_add(stripe[i].armed.load(Relaxed))
        });
        if (sum as i32) < 0 {
            0
        } else {
            u64::from(sum).min(live)
        }
    }
}

/// Every site seen so far, in id order: the recorded ones, then the overflow records in use.
#[cfg(feature = "profile")]
pub(crate) fn all() -> Vec<&'static SiteStats> {
    let taken = TAKEN.load(Acquire);
    let overflow = (MAX_SITES..IDS as u32).filter_map(|id| {
        TABLE[id as usize / CHUNK]
            .get()
            .and_then(|c| c.records[id as usize % CHUNK].get())
    });
    (0..taken)
        .map(|id| stats(SiteId(id)))
        .chain(overflow)
        .collect()
}

/// Per-thread counts of the slow paths, so that tests can tell what a `create` did.
#[cfg(test)]
mod test_counts {
    use std::cell::Cell;

    thread_local! {
        /// Cache misses (`resolve` calls).
        pub(super) static MISSES: Cell<u64> = const { Cell::new(0) };
        /// Times `RECORD` was locked.
        pub(super) static LOCKS: Cell<u64> = const { Cell::new(0) };
    }
}

#[cfg(feature = "profile")]
pub(crate) mod chain;

#[cfg(all(test, feature = "profile"))]
mod tests;

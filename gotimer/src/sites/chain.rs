//! Call chains above a timer's creation site, sampled (feature `profile`).
//!
//! # When a chain is recorded
//!
//! A site's counter in the creating thread's stripe gives the timer's ordinal `n` there for free (it
//! was just bumped), and the stripe keeps the ordinal of the next timer to sample, so the hot path
//! pays one load, one mask and one compare. The ordinals of each stripe are cut into blocks, and
//! one timer of each block, at a position picked by a hash of the block's start and the site, has
//! its chain recorded (a caller that alternates with another at a fixed period is not always the
//! one picked, as it would be at a fixed position). A block's width follows the site's count over
//! all stripes: 8 blocks ([`PER_DOUBLING_LOG2`]) per doubling of it, so a site's first 16 timers
//! are all recorded, then one in 2, one in 4, and so on, until one in the rate ([`rate`], a power
//! of two). Each timer in a block is recorded with probability one over the block's width, which
//! is the recorded chain's *weight*: the number of timers it stands for.
//!
//! Recording (an unwind with `backtrace::trace`, unsymbolised: return addresses only) is taken
//! about `16 + 8 × log2(n / 16)` times for a site's first `n` timers until the rate caps it, then
//! once per `rate` timers; a thread that starts creating timers at a site already warm takes
//! about `log2(rate)` more while its blocks widen to the site's. Symbolising waits for a profile
//! ([`resolve`]), and each address is resolved once per process.
//!
//! # What a chain's count is
//!
//! Each chain keeps the summed weight of its recorded timers that are alive (added at creation,
//! taken back when the timer is freed). A profile splits each site's exact live count among the
//! site's chains in proportion to those weights (`profile::pprof`), so the site's own figures stay
//! exact and only the split among its callers is an estimate.

use super::table::{created_total, SiteId};
use super::tag;
use crate::sync::lock;
#[cfg(test)]
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{
    AtomicU32, AtomicU64,
    Ordering::{Acquire, Relaxed, Release},
};
use std::sync::{Mutex, OnceLock};

/// `log2` of the blocks per doubling of a site's count (8): the first 16 timers of a site all have
/// their chains recorded.
pub(crate) const PER_DOUBLING_LOG2: u32 = 3;

/// The chain rate at start (`profile::set_chain_rate`): one timer's call chain in 4096 is
/// recorded, once a call site is warm.
///
/// ```
/// assert_eq!(gotimer::profile::DEFAULT_CHAIN_RATE, 4096);
/// ```
pub const DEFAULT_RATE: u32 = 4096;

/// `log2` of the rate, or [`OFF`].
// `std`'s atomic, as a static: a setting, read `Relaxed`; a sample taken at the old rate is as good.
static RATE_LOG2: AtomicU32 = AtomicU32::new(DEFAULT_RATE.ilog2());
/// `RATE_LOG2` when no chain is recorded.
const OFF: u32 = u32::MAX;

/// Sets the rate (see `profile::set_chain_rate`): rounded down to a power of two; 0 turns sampling
/// off.
pub(crate) fn set_rate(rate: u32) {
    RATE_LOG2.store(if rate == 0 { OFF } else { rate.ilog2() }, Relaxed);
}

/// The rate in force (a power of two, or 0 when off).
pub(crate) fn rate() -> u32 {
    match RATE_LOG2.load(Relaxed) {
        OFF => 0,
        l => 1 << l,
    }
}

/// Bits of a stripe's `next_chain` that hold the ordinal of the next timer to sample; the bits
/// above hold the `log2` of the width of the block it was picked from (at most 31).
pub(crate) const ORDINAL_BITS: u32 = 27;
/// The ordinal's bits of `next_chain`. Ordinals are compared modulo `2^27`, which is exact while
/// blocks are narrower than that (the rate is at most `2^31`, but a gap between two samples of one
/// stripe past `2^27` only delays the next sample by a wrap).
pub(crate) const ORDINAL_MASK: u32 = (1 << ORDINAL_BITS) - 1;

/// `log2` of the width of the block that holds a site's `n`th timer (from 1), at rate `2^cap`.
fn block_shift(n: u64, cap: u32) -> u32 {
    (63 - (n | 1).leading_zeros())
        .saturating_sub(PER_DOUBLING_LOG2)
        .min(cap)
}

/// The `n`th timer of `site` in a stripe was due to be sampled (its ordinal is `next`'s, the
/// stripe's `next_chain`): schedules the next one, at the picked position of the next block,
/// records this timer's chain, and returns the timer's tag.
///
/// Blocks tile a stripe's ordinals, each aligned to its width, so every timer of the stripe lies
/// in exactly one block and is recorded with probability one over that width. The width follows
/// the site's count over *all* stripes (the sum of their counters, read here, off the hot path),
/// not the stripe's own: a thread that starts creating at a site that other threads have warmed
/// up does not record its first 16 chains again, which would make a pool of callback threads
/// unwind on every new thread. The width grows only at a boundary aligned to the new width, so
/// it reaches the site's within a few blocks.
#[cold]
#[inline(never)]
pub(crate) fn sample(next: &AtomicU32, site: SiteId, n: u64) -> u32 {
    let cap = RATE_LOG2.load(Relaxed);
    if cap == OFF {
        // Look again in a while, in case sampling is turned back on.
        let again = n + u64::from(DEFAULT_RATE);
        next.store(again as u32 & ORDINAL_MASK, Relaxed);
        return site.0;
    }
    // This timer's block, as scheduled by the previous sample (or the first, of width 1), and
    // where it ends. A rate lowered since then caps the width, in which case the block ends at
    // this timer's own aligned block of the capped width, which still lies inside the old one.
    let shift = (next.load(Relaxed) >> ORDINAL_BITS).min(cap);
    let start = (n | ((1 << shift) - 1)) + 1;
    // The next block: the site's width, as far as the boundary's alignment allows.
    let target = block_shift(created_total(site).max(n), cap);
    let width_log2 = target.min(start.trailing_zeros());
    let width = 1u64 << width_log2;
    // The position picked in the next block: a multiplicative hash of the block and the site.
    let h = (start ^ u64::from(site.0) << 40).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let pick = start + ((h >> 32) & (width - 1));
    next.store(
        width_log2 << ORDINAL_BITS | pick as u32 & ORDINAL_MASK,
        Relaxed,
    );
    match record(site, shift) {
        Some(c) => tag::CHAIN | shift << tag::SHIFT | c,
        None => site.0,
    }
}

#[cfg(test)]
thread_local! {
    /// Chains recorded (unwinds) by this thread, for `chain_tests.rs`.
    pub(super) static RECORDED: Cell<u64> = const { Cell::new(0) };
}

/// Return addresses kept per chain, from the creation site's function up.
const MAX_FRAMES: usize = 32;
/// Frames captured, counting gotimer's own and the unwinder's below the creation site.
const CAPTURED: usize = MAX_FRAMES + 16;

/// Chains per chunk of the table, and chunks: at most `CHAIN_CHUNK × CHAIN_CHUNKS` distinct chains
/// are kept (about 400 bytes each, allocated 256 at a time, so that recording a new chain does not
/// allocate but once in 256); a timer sampled past that counts with its site alone.
const CHAIN_CHUNK: usize = 256;
const CHAIN_CHUNKS: usize = 64;
/// Chain ids fit in this many bits of an origin's tag.
pub(crate) const CHAIN_BITS: u32 = 14;
const _: () = assert!(CHAIN_CHUNK * CHAIN_CHUNKS == 1 << CHAIN_BITS);
// A chain id fits below a tag's weight bits.
const _: () = assert!(CHAIN_BITS <= tag::SHIFT);

/// One recorded chain of one site.
pub(crate) struct Chain {
    pub(crate) site: SiteId,
    len: usize,
    /// Return addresses, innermost first, as captured: gotimer's own frames are still there and are
    /// dropped when they are resolved, by name (`resolve`). Inline, so that a chain is one slot of
    /// its chunk.
    ips: [usize; CAPTURED],
    /// The summed weight of this chain's recorded timers that are alive.
    // `std`'s atomic, in the static `CHAINS`: a figure read only for reports, `Relaxed`.
    live_weight: AtomicU64,
}

impl Chain {
    pub(crate) fn live_weight(&self) -> u64 {
        self.live_weight.load(Relaxed)
    }

    pub(crate) fn ips(&self) -> &[usize] {
        &self.ips[..self.len]
    }
}

static CHAINS: [OnceLock<Box<[OnceLock<Chain>]>>; CHAIN_CHUNKS] =
    [const { OnceLock::new() }; CHAIN_CHUNKS];
/// How many chains are recorded. Stored (Release) after the chain is published.
// `std`'s atomic, as a static: written only under `LOCK`, a plain Release/Acquire publication of
// chains that never change but for their weight.
static TAKEN: AtomicU32 = AtomicU32::new(0);
/// Taken to record a chain.
static LOCK: Mutex<()> = Mutex::new(());
/// The index from (site, addresses) to chain: open addressing with linear probing, `id + 1` or 0
/// for empty, at most half full. Read and written under `LOCK`.
// `std`'s atomics, as a static: only touched under `LOCK`, so no ordering of theirs matters.
static SLOTS: [AtomicU32; 2 << CHAIN_BITS] = [const { AtomicU32::new(0) }; 2 << CHAIN_BITS];

/// The chain `id`, which `record` returned.
pub(crate) fn get(id: u32) -> &'static Chain {
    CHAINS[id as usize / CHAIN_CHUNK]
        .get()
        .and_then(|c| c[id as usize % CHAIN_CHUNK].get())
        .expect("gotimer: a chain id names a published chain")
}

fn hash(site: SiteId, ips: &[usize]) -> usize {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let h = ips.iter().fold(u64::from(site.0), |h, &ip| {
        (h ^ ip as u64).wrapping_mul(K).rotate_left(29)
    });
    (h ^ h >> 32) as usize
}

/// Records the calling thread's chain for a timer of `site`, with weight `2^shift`, and returns its
/// chain id; `None` when the table of chains is full. Allocates only for the first chain of each
/// chunk.
fn record(site: SiteId, shift: u32) -> Option<u32> {
    #[cfg(test)]
    RECORDED.with(|r| r.set(r.get() + 1));
    let mut ips = [0usize; CAPTURED];
    let mut len = 0;
    backtrace::trace(|frame| {
        // A zero address ends some threads' stacks: no frame.
        let ip = frame.ip() as usize;
        if ip == 0 {
            return false;
        }
        ips[len] = ip;
        len += 1;
        len < CAPTURED
    });
    let _lock = lock(&LOCK);
    let mask = SLOTS.len() - 1;
    let mut i = hash(site, &ips[..len]) & mask;
    let id = loop {
        match SLOTS[i].load(Relaxed) {
            0 => {
                let id = TAKEN.load(Relaxed);
                if id >= 1 << CHAIN_BITS {
                    return None;
                }
                let chunk = CHAINS[id as usize / CHAIN_CHUNK]
                    .get_or_init(|| (0..CHAIN_CHUNK).map(|_| OnceLock::new()).collect());
                let _ = chunk[id as usize % CHAIN_CHUNK].set(Chain {
                    site,
                    len,
                    ips,
                    live_weight: AtomicU64::new(0),
                });
                SLOTS[i].store(id + 1, Relaxed);
                TAKEN.store(id + 1, Release);
                break id;
            }
            v => {
                let c = get(v - 1);
                if c.site == site && c.ips() == &ips[..len] {
                    break v - 1;
                }
            }
        }
        i = (i + 1) & mask;
    };
    get(id).live_weight.fetch_add(1 << shift, Relaxed);
    Some(id)
}

/// A recorded timer of chain `id`, of weight `2^shift`, was freed.
pub(crate) fn on_free(id: u32, shift: u32) {
    get(id).live_weight.fetch_sub(1 << shift, Relaxed);
}

/// Every chain recorded so far.
pub(crate) fn all() -> Vec<&'static Chain> {
    (0..TAKEN.load(Acquire)).map(get).collect()
}

/// One frame of a resolved chain: a function, and where the build's line tables put the address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Frame {
    /// The demangled name without its hash, or `0x…` when the build has no symbol for it.
    pub(crate) function: String,
    /// The source file, empty without line tables.
    pub(crate) file: String,
    /// The line, 0 without line tables.
    pub(crate) line: u32,
}

/// The frames at one return address, innermost (inlined) first.
type Frames = std::sync::Arc<[Frame]>;

/// Resolved addresses, kept for the life of the process: a profile resolves only the new ones.
static RESOLVED: Mutex<Option<HashMap<usize, Frames>>> = Mutex::new(None);

fn resolve_ip(ip: usize) -> Frames {
    let mut frames = Vec::new();
    backtrace::resolve(ip as *mut std::ffi::c_void, |sym| {
        let function = sym
            .name()
            .map(|n| format!("{n:#}"))
            .unwrap_or_else(|| format!("{ip:#x}"));
        frames.push(Frame {
            function,
            file: sym
                .filename()
                .map(|f| f.display().to_string())
                .unwrap_or_default(),
            line: sym.lineno().unwrap_or(0),
        });
    });
    if frames.is_empty() {
        frames.push(Frame {
            function: format!("{ip:#x}"),
            file: String::new(),
            line: 0,
        });
    }
    frames.into()
}

/// Whether a frame is gotimer's: by its name, or where a build's line tables name functions
/// without their module path (`line-tables-only`), by its file.
fn is_gotimer(f: &Frame) -> bool {
    f.function.trim_start_matches('<').starts_with("gotimer::")
        || f.file
            .starts_with(concat!(env!("CARGO_MANIFEST_DIR"), "/src/"))
        || f.file.starts_with("gotimer/src/")
}

/// Whether a frame is gotimer's, the unwinder's or the standard library's: what lies between the
/// unwinder and the function that created the timer.
fn internal(f: &Frame) -> bool {
    let name = f.function.trim_start_matches('<');
    is_gotimer(f)
        || [
            "backtrace::",
            "std::",
            "core::",
            "alloc::",
            "_Unwind",
            "__rust",
            "0x",
        ]
        .iter()
        .any(|p| name.starts_with(p))
        || [
            "/library/std/",
            "/library/core/",
            "/library/alloc/",
            "/backtrace-0.",
        ]
        .iter()
        .any(|p| f.file.contains(p))
}

/// The chain's frames from the function that made the timer up to the thread's first, each
/// address as a list of frames (innermost first, the inlined ones before the one they are inlined
/// into). gotimer's own frames and the unwinder's, below the creation site, are dropped: everything
/// up to the last frame of gotimer's that is reached from the innermost through internal frames
/// only.
pub(crate) fn resolve(chain: &Chain) -> Vec<Vec<Frame>> {
    let per_ip: Vec<Frames> = {
        let mut cache = lock(&RESOLVED);
        let cache = cache.get_or_insert_with(HashMap::new);
        chain
            .ips()
            .iter()
            .map(|&ip| cache.entry(ip).or_insert_with(|| resolve_ip(ip)).clone())
            .collect()
    };
    // Flatten to (address index, frame), innermost first, to cut below the creation site.
    let flat: Vec<(usize, &Frame)> = per_ip
        .iter()
        .enumerate()
        .flat_map(|(i, fs)| fs.iter().map(move |f| (i, f)))
        .collect();
    let mut cut = 0;
    for (k, (_, f)) in flat.iter().enumerate() {
        if !internal(f) {
            break;
        }
        if is_gotimer(f) {
            cut = k + 1;
        }
    }
    let mut out: Vec<Vec<Frame>> = Vec::new();
    let mut last = usize::MAX;
    for &(i, f) in &flat[cut..] {
        if i != last {
            if out.len() == MAX_FRAMES {
                break;
            }
            out.push(Vec::new());
            last = i;
        }
        out.last_mut().expect("pushed").push(f.clone());
    }
    out
}

//! The counter stripes (feature `profile`): a site's counters, one row per stripe, and which thread
//! owns which stripe.
//!
//! The counters are monotonic (created, freed) rather than a live count, and striped: a thread
//! *owns* a stripe (at most [`OWNED`] threads at a time; later ones share one more stripe,
//! [`SHARED`]), so it counts with a plain load and store, not a locked read-modify-write, and
//! threads creating timers at one call site in parallel do not bounce one line between cores. A
//! snapshot sums the stripes (`table.rs`). When a thread exits, its stripe is handed to the next
//! thread that needs one, counts and all: the sums stay right. Which stripe the calling thread
//! has is kept in its thread-local (`cache.rs`); this file has the ownership bits and the
//! arithmetic.

use std::sync::atomic::{
    AtomicU32, AtomicU64,
    Ordering::{Acquire, Relaxed, Release},
};

/// One site's counters in one stripe: 24 bytes.
// `std`'s atomics, in the static site table: counters read only for reports, with one writer in an
// owned stripe (plain load and store, `Relaxed`) or atomic adds in the shared one.
pub(super) struct Counts {
    pub(super) created: AtomicU64,
    pub(super) freed: AtomicU64,
    /// Timers armed after being created parked, and not freed: +1 when one is armed, -1 when it is
    /// freed. A timer can be armed in one stripe and freed in another, so a stripe's figure is only
    /// a term of the sum, taken with wrapping arithmetic.
    pub(super) armed: AtomicU32,
    /// Which timer has its call chain recorded next (`chain::sample`): the value of `created`
    /// (its low `chain::ORDINAL_BITS`) in the low bits, and above them the `log2` of the width of
    /// the block it was picked from. Each ordinal is seen by one creation only, so equality of the
    /// low bits is the test.
    pub(super) next_chain: AtomicU32,
}

impl Counts {
    pub(super) const fn zero() -> Counts {
        Counts {
            created: AtomicU64::new(0),
            freed: AtomicU64::new(0),
            armed: AtomicU32::new(0),
            next_chain: AtomicU32::new(1),
        }
    }
}

/// Stripes that a thread can own alone.
pub(super) const OWNED: usize = 16;
/// The stripe of threads that own none: counted with atomic read-modify-writes.
pub(super) const SHARED: u8 = OWNED as u8;
/// A thread's stripe before its first timer.
pub(super) const UNSET: u8 = u8::MAX;

/// Bit `i` is set while a live thread owns stripe `i`.
// `std`'s atomic, as a static: its Acquire (`claim`) and Release (`release`) hand a stripe's plain
// counts from a thread that exited to the next owner; the tests count across exiting threads.
static OWNERS: AtomicU32 = AtomicU32::new(0);

/// Takes a free stripe for the calling thread, or [`SHARED`] when all [`OWNED`] are owned.
/// Acquire: the previous owner's last plain stores happen before this thread's first loads.
pub(super) fn claim() -> u8 {
    let mut owners = OWNERS.load(Relaxed);
    loop {
        let free = !owners & ((1 << OWNED) - 1);
        if free == 0 {
            return SHARED;
        }
        let i = free.trailing_zeros();
        match OWNERS.compare_exchange_weak(owners, owners | 1 << i, Acquire, Relaxed) {
            Ok(_) => return i as u8,
            Err(now) => owners = now,
        }
    }
}

/// Gives stripe `i`, which the calling thread owns, back. Release: this thread's last plain stores
/// happen before the next owner's first loads.
pub(super) fn release(i: u8) {
    OWNERS.fetch_and(!(1 << i), Release);
}

/// Adds one to a counter: a plain load and store in an owned stripe (one writer), an atomic
/// read-modify-write in the shared one.
#[inline]
pub(super) fn bump(counter: &AtomicU64, stripe: u8) -> u64 {
    add(counter, stripe, 1)
}

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

/// `add` for a 32-bit counter.
#[inline]
pub(super) fn add32(counter: &AtomicU32, stripe: u8, v: u32) {
    if stripe == SHARED {
        counter.fetch_add(v, Relaxed);
    } else {
        counter.store(counter.load(Relaxed).wrapping_add(v), Relaxed);
    }
}

//! The lab's global allocator: `System`, counting the bytes currently allocated, so that `seed` and
//! `mem` can read the live heap the way Go's `runtime.MemStats.HeapAlloc` reads Go's.
//!
//! The count is striped: each thread adds to one of `STRIPES` cache-padded counters (chosen once per
//! thread), so threads allocating in parallel do not fight over one cache line. A stripe can go
//! negative (a block freed on another thread than the one that allocated it); the sum is exact.
//! It counts requested sizes, not the allocator's own overhead: the RSS columns (from
//! [`crate::proc_self`]) show that.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering::Relaxed};

const STRIPES: usize = 32;

#[repr(align(128))]
struct Stripe(AtomicIsize);

static LIVE: [Stripe; STRIPES] = [const { Stripe(AtomicIsize::new(0)) }; STRIPES];
static NEXT_STRIPE: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    // Const-initialised and without a destructor: usable from inside the allocator.
    static STRIPE: Cell<usize> = const { Cell::new(usize::MAX) };
}

fn stripe() -> &'static AtomicIsize {
    // During thread teardown the thread local may be gone: fall back to stripe 0.
    let i = STRIPE
        .try_with(|s| {
            let mut i = s.get();
            if i == usize::MAX {
                i = NEXT_STRIPE.fetch_add(1, Relaxed) % STRIPES;
                s.set(i);
            }
            i
        })
        .unwrap_or(0);
    &LIVE[i].0
}

/// `System`, counting live bytes.
pub struct Counting;

// SAFETY: every call is forwarded unchanged to `System`; the counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            stripe().fetch_add(layout.size() as isize, Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            stripe().fetch_add(layout.size() as isize, Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) };
        stripe().fetch_sub(layout.size() as isize, Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            stripe().fetch_add(new_size as isize - layout.size() as isize, Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes allocated and not yet freed, over the whole process.
pub fn live_bytes() -> i64 {
    LIVE.iter().map(|s| s.0.load(Relaxed) as i64).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_live_bytes() {
        // Other tests allocate concurrently, so allow slack: a 64 MiB block must show.
        let before = live_bytes();
        let v = vec![1u8; 64 << 20];
        let during = live_bytes();
        assert!(during - before > 60 << 20, "{before} -> {during}");
        drop(v);
        let after = live_bytes();
        assert!(during - after > 60 << 20, "{during} -> {after}");
    }
}

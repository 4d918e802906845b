//! A shard whose last timer goes allocates nothing: its wheel's slab keeps its one spare page and its
//! vectors' storage. Measured with a global allocator that counts the allocations of the calling
//! thread, which is the thread that holds the shard lock for `Timer::new` and `stop`.
//!
//! One test in this binary on purpose: a thread's timers live in its shard, and no other test thread
//! may create timers in the same shard meanwhile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);

struct PerThread;

thread_local! {
    /// Allocations (alloc, alloc_zeroed, realloc) by this thread while counting; `None` otherwise.
    static ALLOCS: Cell<Option<u64>> = const { Cell::new(None) };
}

fn count() {
    // `try_with`: the allocator also runs while thread-locals are torn down.
    let _ = ALLOCS.try_with(|c| {
        if let Some(n) = c.get() {
            c.set(Some(n + 1));
        }
    });
}

// SAFETY: every call is forwarded to `System` with the same arguments; the thread-local counter
// (const-initialized, no destructor) neither allocates nor touches the memory.
unsafe impl GlobalAlloc for PerThread {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract for `alloc` is `System.alloc`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, that is from `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: as for `dealloc`; `new_size` is the caller's, checked by its contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: PerThread = PerThread;

/// The allocations `f` makes on this thread.
fn allocations(f: impl FnOnce()) -> u64 {
    ALLOCS.with(|c| c.set(Some(0)));
    f();
    ALLOCS.with(|c| c.replace(None)).expect("counting")
}

fn create_stop(n: usize) {
    for _ in 0..n {
        let t = gotimer::Timer::new(HOUR);
        assert!(t.stop());
    }
}

#[test]
fn a_shard_that_empties_allocates_nothing() {
    // The allocator counts, and counts only this thread.
    assert_eq!(allocations(|| drop(Box::new(1u8))), 1);
    assert_eq!(
        allocations(|| std::thread::spawn(|| drop(vec![1u8; 8])).join().unwrap()),
        allocations(|| std::thread::spawn(|| ()).join().unwrap()),
        "another thread's allocations are not counted"
    );
    // Start the runtime, take this thread's shard, intern the site.
    create_stop(10);

    const N: usize = 1000;
    // Each timer is the shard's only one: its stop empties the shard.
    let alone = allocations(|| create_stop(N));
    // The same, with one more timer keeping the shard from emptying.
    let keep = gotimer::Timer::new(HOUR);
    let beside = allocations(|| create_stop(N));
    drop(keep);
    // Emptying the shard used to replace its page vector: one malloc (and a free) per timer.
    assert_eq!(
        alone, beside,
        "{N} create+stop: {alone} allocations when each empties the shard, {beside} when not"
    );
    // Whatever the timer itself allocates (entry, channel), it is the same every time.
    assert_eq!(alone % N as u64, 0, "{alone} allocations for {N} timers");
}

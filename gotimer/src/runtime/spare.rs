//! Spare entries: a thread's freed entries of a kind that is made and dropped at a high rate (a
//! task's `Sleep`, which every `timeout` holds), kept for the thread's next timer of that kind
//! instead of going back to the allocator. A kind opts in with `Delivery::spares`; its handles
//! take and give entries here (`Handle::idle`, `Handle::free`).
//!
//! An entry is given only when its handle held the last reference (`unique`), so that nothing can
//! reach it while it waits here: not the wheel, not a firing thread about to wake its task.
//! It is retired first (`Entry::retire`): counted freed in the profile and stripped of what its
//! kind must not keep (a task's waker), so that a spare holds no task and is invisible to the
//! profile. A thread keeps at most `KEEP`: enough for the timeouts of a busy task poll, nothing
//! beside the timers themselves, and freed when the thread exits.

use super::entry::Entry;
use std::cell::RefCell;
use std::sync::atomic::{fence, Ordering::Acquire};
use std::sync::Arc;
use std::thread::LocalKey;

/// The most spare entries a thread keeps of one kind.
const KEEP: usize = 32;

/// A thread's spare entries of kind `A`, in the kind's `thread_local!`.
pub(crate) struct Spares<A>(RefCell<Vec<Arc<Entry<A>>>>);

/// Where a kind keeps its spares: the calling thread's.
pub(crate) type Store<A> = &'static LocalKey<Spares<A>>;

impl<A> Spares<A> {
    // The loom models keep no spares: see `Wake::spares`.
    #[cfg_attr(gotimer_loom, allow(dead_code))]
    pub(crate) const fn new() -> Self {
        Spares(RefCell::new(Vec::new()))
    }
}

/// The entry, if `entry` is its only reference: `Arc::get_mut` without the compare-and-swap that
/// guards it against a `Weak` being upgraded meanwhile. No `Weak` of an entry is ever made outside
/// the loom models, which keep no spares; `Arc::get_mut`'s read-modify-write was one of the dozen
/// that a task's `sleep` made and dropped costs (7.6 ns each on the benchmark machine).
#[inline]
pub(crate) fn unique<A>(entry: &mut Arc<Entry<A>>) -> Option<&mut Entry<A>> {
    if Arc::strong_count(entry) != 1 {
        return None;
    }
    // Pairs with the `Release` decrement of whoever dropped the last other reference: what it did
    // to the entry before happens before what the caller does with it now.
    fence(Acquire);
    if Arc::weak_count(entry) != 0 {
        return None;
    }
    // SAFETY: `entry` is the only `Arc` (a strong count of 1: another could only be cloned from
    // it, and the caller holds it by `&mut`) and no `Weak` exists (none is made from an `Arc` that
    // only the caller holds, and a weak count read after the fence sees any made before the last
    // other `Arc` was dropped), so nothing else can reach the entry for as long as the returned
    // borrow, which borrows `entry` mutably, lives. `Arc::as_ptr` points to the live value.
    Some(unsafe { &mut *Arc::as_ptr(entry).cast_mut() })
}

/// One of the calling thread's spares, if it has one: retired, and reachable by the caller alone.
#[inline]
pub(crate) fn take<A>(store: Store<A>) -> Option<Arc<Entry<A>>> {
    store.try_with(|s| s.0.borrow_mut().pop()).ok().flatten()
}

/// Keeps `entry`, retired and unique, if the calling thread has room; frees it if not (or if the
/// thread is exiting). A retired entry counts nothing as it is freed.
#[inline]
pub(crate) fn give<A>(store: Store<A>, entry: Arc<Entry<A>>) {
    let mut entry = Some(entry);
    let _ = store.try_with(|s| {
        let mut spares = s.0.borrow_mut();
        if spares.len() < KEEP {
            spares.extend(entry.take());
        }
    });
    // Not kept: freed here, outside the borrow.
    drop(entry);
}

#[cfg(test)]
mod tests {
    use super::unique;
    use crate::origin::{Kind, Origin};
    use crate::runtime::entry::Entry;
    use std::panic::Location;
    use std::sync::Arc;

    fn entry(n: u64) -> Arc<Entry<std::sync::atomic::AtomicU64>> {
        let origin = Origin::new(Location::caller(), Kind::Timer, 0);
        Arc::new(Entry::new(origin, std::sync::atomic::AtomicU64::new(n)))
    }

    #[test]
    fn unique_is_the_only_reference() {
        let mut e = entry(1);
        *unique(&mut e).expect("alone").action.get_mut() = 2;
        assert_eq!(*unique(&mut e).unwrap().action.get_mut(), 2);
        let other = e.clone();
        assert!(unique(&mut e).is_none(), "another Arc");
        drop(other);
        let weak = Arc::downgrade(&e);
        assert!(unique(&mut e).is_none(), "a Weak");
        drop(weak);
        assert!(unique(&mut e).is_some());
    }

    /// The last other reference dropped on another thread, after writing through it: the write is
    /// seen through `unique`.
    #[test]
    fn unique_sees_what_the_last_other_holder_did() {
        for round in 0..200 {
            let mut e = entry(0);
            let other = e.clone();
            let t = std::thread::spawn(move || {
                other
                    .action
                    .store(round, std::sync::atomic::Ordering::Relaxed);
                drop(other);
            });
            while unique(&mut e).is_none() {
                std::hint::spin_loop();
            }
            assert_eq!(*unique(&mut e).unwrap().action.get_mut(), round);
            t.join().unwrap();
        }
    }
}

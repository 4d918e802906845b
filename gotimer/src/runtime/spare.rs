//! Spare entries: a thread's freed entries of a kind that is made and dropped at a high rate (a
//! task's `Sleep`, which every `timeout` holds), kept for the thread's next timer of that kind
//! instead of going back to the allocator. A kind opts in with `Delivery::spares`; its handles
//! take and give entries here (`Handle::idle`, `Handle::free`).
//!
//! An entry is given only when its handle held the last reference (`Arc::get_mut`), so that nothing
//! can reach it while it waits here: not the wheel, not a firing thread about to wake its task.
//! It is retired first (`Entry::retire`): counted freed in the profile and stripped of what its
//! kind must not keep (a task's waker), so that a spare holds no task and is invisible to the
//! profile. A thread keeps at most `KEEP`: enough for the timeouts of a busy task poll, nothing
//! beside the timers themselves, and freed when the thread exits.

use super::entry::Entry;
use std::cell::RefCell;
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

//! `Filed`: what a wheel node holds, a type-erased entry, with an `Arc` count of its own or, for a
//! kind whose handle takes the entry out of the wheel before letting go of it, borrowed
//! (`Delivery::wheel_borrows`, a task's `Sleep`), as tokio's wheel holds a pointer to the node
//! inside its `Sleep`.
//!
//! A borrowed entry costs the wheel no count to take and none to give back: two atomic
//! read-modify-writes less for each `sleep` made and dropped, which is the whole life of most
//! timeouts. The argument that it stays alive while filed is in two places, each under the shard
//! lock: the handle unfiles it before it lets go (`Sleep`'s drop), and whoever takes it out of
//! the wheel to fire it takes a count first ([`Filed::into_ref`]), before the firing lets the
//! handle see it no longer filed and let go without the lock.

use super::delivery::{Delivery, EntryRef, Share};
use super::state::Entry;
use std::ptr::NonNull;
use std::sync::Arc;

/// The low bit of a borrowed entry's address: entries are at least 4-byte aligned (their state
/// word), so the bit is free.
const BORROWED: usize = 1;

/// A wheel node's entry: counted (an `Arc` made raw) or borrowed (tagged `BORROWED`).
pub(crate) struct Filed(NonNull<Entry<dyn Delivery>>);

// SAFETY: a `Filed` is an `Arc` of an entry or a shared reference to one, and entries are `Send`
// and `Sync` (`Delivery: Send + Sync`, and the rest of `Entry` is atomics).
unsafe impl Send for Filed {}

impl Filed {
    /// `entry` as a node holds it: with a count of its own, unless its kind lets the wheel borrow
    /// it.
    #[inline]
    pub(super) fn new<A: Share + ?Sized>(entry: &Arc<Entry<A>>) -> Filed {
        if entry.action.wheel_borrows() {
            Filed::lent(A::erased(entry))
        } else {
            Filed::counted(A::share(entry))
        }
    }

    /// An entry held without a count: `ptr` is `Arc::as_ptr` of an `Arc` its handle keeps.
    #[inline]
    fn lent(ptr: *const Entry<dyn Delivery>) -> Filed {
        let ptr = ptr.map_addr(|a| a | BORROWED);
        // SAFETY: `Arc::as_ptr` of a live `Arc` is not null, nor is it with its low bit set.
        Filed(unsafe { NonNull::new_unchecked(ptr.cast_mut()) })
    }

    /// An entry that holds the count it comes with.
    #[inline]
    fn counted(entry: EntryRef) -> Filed {
        // SAFETY: `Arc::into_raw` is never null.
        Filed(unsafe { NonNull::new_unchecked(Arc::into_raw(entry).cast_mut()) })
    }

    #[inline]
    fn is_borrowed(&self) -> bool {
        self.0.as_ptr().addr() & BORROWED != 0
    }

    #[inline]
    fn ptr(&self) -> *const Entry<dyn Delivery> {
        self.0.as_ptr().map_addr(|a| a & !BORROWED)
    }

    /// The entry, counted: what a firing hands on for after the lock. A borrowed one gets its
    /// count here, which the caller must take before it fires the entry: once fired, its handle
    /// may find it no longer filed and let go of it without the lock.
    #[inline]
    pub(crate) fn into_ref(self) -> (EntryRef, Borrowed) {
        let borrowed = Borrowed(self.is_borrowed());
        let ptr = self.ptr();
        std::mem::forget(self);
        if borrowed.0 {
            // SAFETY: a borrowed entry in the wheel is alive (its handle holds a count, and takes
            // the entry out under the lock before letting go), and the caller holds the lock.
            unsafe { Arc::increment_strong_count(ptr) };
        }
        // SAFETY: `ptr` came from `Arc::into_raw` (counted) or `Arc::as_ptr` of a live `Arc`
        // (borrowed), and carries one count: the node's, or the one taken just above.
        let entry = unsafe { Arc::from_raw(ptr) };
        #[cfg(gotimer_loom)]
        assert!(
            !borrowed.0 || !entry.let_go.load(crate::sync::Ordering::SeqCst),
            "gotimer: a borrowed entry was let go of by its handle while filed"
        );
        (entry, borrowed)
    }

    /// `entry`, as it came out of the wheel (`into_ref`), filed again: the count `into_ref` took
    /// for a borrowed one is given back.
    #[inline]
    pub(crate) fn refile(entry: EntryRef, borrowed: Borrowed) -> Filed {
        if !borrowed.0 {
            return Filed::counted(entry);
        }
        let filed = Filed::lent(Arc::as_ptr(&entry));
        // Not the last count: the handle holds its own for as long as the entry is filed.
        drop(entry);
        filed
    }
}

/// Whether an entry that came out of the wheel was borrowed there, for [`Filed::refile`].
#[derive(Clone, Copy)]
pub(crate) struct Borrowed(bool);

impl std::ops::Deref for Filed {
    type Target = Entry<dyn Delivery>;

    #[inline]
    fn deref(&self) -> &Entry<dyn Delivery> {
        // SAFETY: counted, the node's count keeps the entry alive; borrowed, its handle's does,
        // for as long as it is in the wheel, and a `Filed` out of the wheel is used only under the
        // lock it was taken out under (see the module's comment).
        unsafe { &*self.ptr() }
    }
}

impl Drop for Filed {
    /// A node let go of its entry (it was unfiled): its count given back, if it holds one.
    #[inline]
    fn drop(&mut self) {
        if !self.is_borrowed() {
            // SAFETY: a counted `Filed` is an `Arc::into_raw` whose count it holds.
            drop(unsafe { Arc::from_raw(self.ptr()) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Filed;
    use crate::origin::{Kind, Origin};
    use crate::runtime::entry::{Delivery, Entry, EntryRef, Fired, Held};
    use crate::runtime::time::Timeline;
    use std::panic::Location;
    use std::sync::Arc;

    /// A kind that the wheel borrows, or not.
    struct Lends(bool);

    impl Delivery for Lends {
        fn fire(&self, _: &Held, _: u64, _: u64, _: &Timeline) -> Fired {
            Fired::Done
        }

        fn wheel_borrows(&self) -> bool {
            self.0
        }
    }

    fn entry(borrows: bool) -> Arc<Entry<Lends>> {
        let origin = Origin::new(Location::caller(), Kind::Timer, 0);
        Arc::new(Entry::new(origin, Lends(borrows)))
    }

    /// Counted, a node holds a count of its own, hands it on (`into_ref`) and takes it back
    /// (`refile`), and gives it back when dropped; borrowed, it never holds one, and what it hands
    /// on is a count of its own.
    #[test]
    fn a_node_counts_its_entry_unless_its_kind_lends_it() {
        for borrows in [false, true] {
            let handle = entry(borrows);
            let own = usize::from(!borrows);
            let filed = Filed::new(&handle);
            assert_eq!(Arc::strong_count(&handle), 1 + own);
            assert!(std::ptr::addr_eq(&*filed, Arc::as_ptr(&handle)));
            assert!(filed.action.wheel_borrows() == borrows, "the entry itself");
            let (fired, borrowed): (EntryRef, _) = filed.into_ref();
            assert_eq!(Arc::strong_count(&handle), 2, "handed on with a count");
            let filed = Filed::refile(fired, borrowed);
            assert_eq!(Arc::strong_count(&handle), 1 + own, "filed again as before");
            drop(filed);
            assert_eq!(Arc::strong_count(&handle), 1, "unfiled");
        }
    }
}

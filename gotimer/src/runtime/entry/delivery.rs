//! What a kind of timer does when it comes due: the one interface every kind implements (each in
//! its own file under `runtime/kinds/`), so that the entry's state machine, the wheel and the
//! runtimes never name a kind.
//!
//! This is Go's one delivery hook (`runtime/time.go`'s `t.f(arg, seq, delay)`), which serves
//! channels, goroutine wake-ups and `AfterFunc` alike. A kind answers under the shard lock with a
//! [`Fired`]: nothing more, back in the wheel at its next deadline, a callback for a thread to run
//! once the lock is released, or a notification for the firing thread to make as soon as it is
//! (`Locked::fire` turns it into an `AfterUnlock` for the runtime).

use super::state::{Entry, Held, State};
use crate::origin::Origin;
use crate::runtime::spare::Store;
use crate::runtime::time::Timeline;
use std::sync::Arc;

/// A type-erased entry, counted: what a firing hands on for after the lock (a callback to run, a
/// task to wake). The wheel's own payload is a [`Filed`](super::Filed).
pub(crate) type EntryRef = Arc<Entry<dyn Delivery>>;

/// What a kind decided, under the shard lock, when its entry came due.
pub(crate) enum Fired {
    /// Nothing more: the entry is idle.
    Done,
    /// Put the entry back in the wheel at this deadline (a ticker's next tick, or a one-shot timer
    /// whose true deadline was moved later).
    Again(u64),
    /// Run [`Delivery::call`] on a callback thread once the lock is released; the entry is pending
    /// (queued) until that thread claims it.
    Run,
    /// The entry is done (idle); call [`Delivery::notify`] on the firing thread as soon as the lock
    /// is released, in a batch with the others of the same lock: for work that is short and never
    /// blocks (waking a task), which a callback thread would only delay. The firing thread may be
    /// the driver, so a notify that blocks holds up every timer of the runtime meanwhile; one that
    /// panics is caught and counted as a callback's panic is. A task's timer (`kinds/wake.rs`)
    /// wakes its waker so, and a channel kind the tasks waiting on it.
    Notify,
    /// Both `Again` and `Notify`: a ticker's next tick, and the tasks waiting for this one to wake.
    NotifyAgain(u64),
}

/// A kind of timer. Every method but `fire` has the answer of a kind with no channel (a callback):
/// a kind overrides what it has.
pub(crate) trait Delivery: Send + Sync + 'static {
    /// Called under the shard lock when the entry's registered deadline `registered` has passed;
    /// `now >= registered`.
    fn fire(&self, held: &Held, registered: u64, now: u64, time: &Timeline) -> Fired;

    /// The true deadline, when the kind keeps it apart from its node's (a channel timer, parked or
    /// in the wheel); `None` otherwise, and then the node's deadline is the true one. Read without
    /// the lock: `c()` reads it to decide whether to fire the timer itself, and then checks again
    /// under the lock.
    #[inline]
    fn true_when(&self) -> Option<u64> {
        None
    }

    /// Records the true deadline as the entry is parked or filed (`None`: taken out).
    #[inline]
    fn set_true_when(&self, _: &Held, _: Option<u64>) {}

    /// True if the entry can deliver: false for a channel timer whose channel was not made yet,
    /// which is parked instead of filed.
    #[inline]
    fn armed(&self) -> bool {
        true
    }

    /// Moves a pending entry (parked or in the wheel) to a later true deadline without the shard
    /// lock; false if it cannot (a kind that does not keep its true deadline apart, an entry not
    /// pending, or an earlier deadline), and then the caller takes the locked path.
    #[inline]
    fn reset_later(&self, _deadline: u64) -> bool {
        false
    }

    /// True if firing uses the time (a channel kind sends its due instant); false for a kind that
    /// does not (a callback), which a zero duration then fires at creation without a clock read.
    #[inline]
    fn uses_time(&self) -> bool {
        true
    }

    /// Heap bytes the kind owns outside the entry itself (its channel), for the profile.
    #[inline]
    fn heap_bytes(&self) -> u64 {
        0
    }

    /// The work `fire` left for after the lock (`Fired::Run`), on the thread that claimed it.
    fn call(&self) {}

    /// The work `fire` left for right after the lock (`Fired::Notify`), on the firing thread.
    fn notify(&self) {}

    /// True if the wheel may hold the entry without a count of its own (`entry/filed.rs`): the
    /// kind's handle takes it out of the wheel, under the lock, before it lets go of it, whatever
    /// happens (`Sleep`'s drop), and only finds it no longer filed without the lock once it was
    /// fired, which takes a count first. False, the default, for a kind that stays filed without
    /// its handle (a callback, an `after` channel), or whose handle lets go without the lock.
    #[inline]
    fn wheel_borrows(&self) -> bool {
        false
    }

    /// Where the calling thread keeps freed entries of this kind for reuse (`runtime/spare.rs`):
    /// for a kind made and dropped at a high rate. `None`, the default, frees them.
    #[inline]
    fn spares() -> Option<Store<Self>>
    where
        Self: Sized,
    {
        None
    }

    /// Drops what a spare entry must not keep (a task's waker): the entry's timer is done, and the
    /// entry waits for reuse (`runtime/spare.rs`).
    #[inline]
    fn retire(&mut self) {}

    /// Takes `fresh`'s state, in a retired entry that only the caller can reach: a spare made new
    /// (`runtime/spare.rs`). Only a kind that keeps spares is revived.
    fn revive(&self, _fresh: &Self)
    where
        Self: Sized,
    {
        unreachable!("gotimer: only a kind that keeps spares (Delivery::spares) is revived")
    }
}

/// An `Arc` of an entry, of a known kind or type-erased, shared as the wheel's payload: lets the
/// transitions be written once for both (static dispatch on a handle's path, dynamic on the
/// driver's).
pub(crate) trait Share: Delivery {
    /// Another count of the entry, type-erased.
    fn share(entry: &Arc<Entry<Self>>) -> EntryRef;
    /// The entry's address, type-erased, with no count (`Arc::as_ptr`).
    fn erased(entry: &Arc<Entry<Self>>) -> *const Entry<dyn Delivery>;
}

impl<A: Delivery> Share for A {
    #[inline]
    fn share(entry: &Arc<Entry<A>>) -> EntryRef {
        entry.clone()
    }

    #[inline]
    fn erased(entry: &Arc<Entry<A>>) -> *const Entry<dyn Delivery> {
        Arc::as_ptr(entry) as *const Entry<dyn Delivery>
    }
}

impl Share for dyn Delivery {
    #[inline]
    fn share(entry: &EntryRef) -> EntryRef {
        entry.clone()
    }

    #[inline]
    fn erased(entry: &EntryRef) -> *const Entry<dyn Delivery> {
        Arc::as_ptr(entry)
    }
}

impl<A: Delivery + ?Sized> Entry<A> {
    /// When the entry really fires, given the deadline its wheel node is registered under.
    #[inline]
    pub(crate) fn true_when(&self, registered: u64) -> u64 {
        self.action.true_when().unwrap_or(registered)
    }
}

impl<A: Delivery> Entry<A> {
    /// Makes a done entry that nothing else can reach a spare (`runtime/spare.rs`): counted freed
    /// now, and its kind's state stripped. Its drop, or its reuse, counts nothing more.
    pub(crate) fn retire(&mut self) {
        self.origin.retire();
        self.action.retire();
    }

    /// Makes a spare (retired, and reachable only by the caller: still unique, so as good as
    /// `&mut`, without the compare-and-swap of `Arc::get_mut`) the new entry `fresh`, in place.
    /// `fresh` is left retired, so dropping it counts nothing.
    #[inline]
    pub(crate) fn revived(self: Arc<Self>, mut fresh: Entry<A>) -> Arc<Self> {
        self.take_from(&mut fresh);
        self.action.revive(&fresh.action);
        self
    }

    /// A channel timer's entry, pending for `deadline` but parked until its channel is made
    /// (`None`: never due).
    pub(crate) fn parked(origin: Origin, action: A, deadline: Option<u64>) -> Self {
        // Nothing else can reach the entry yet: it is as good as locked.
        let state = match deadline {
            Some(_) => State::Parked,
            None => State::Never,
        };
        action.set_true_when(&Held::new(), deadline);
        Entry::with_state(origin, action, state)
    }
}

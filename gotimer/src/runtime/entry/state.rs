//! The entry and its state word, and the token that proves its shard's lock is held.
//!
//! The state is one `AtomicU32` so that a callback's `claim`, the one transition made without the
//! lock, is a single compare-and-swap against the lock holder's `revoke`. Every other access is
//! ordered by the shard lock, so it is `Relaxed`.

use crate::origin::Origin;
use crate::sync::{
    AtomicU32,
    Ordering::{AcqRel, Relaxed},
};
use crate::wheel::Key;

/// `Entry::state` value: not pending.
const IDLE: u32 = u32::MAX;
/// `Entry::state` value: pending with a deadline too far away to ever come (kept out of the wheel).
const NEVER: u32 = u32::MAX - 1;
/// `Entry::state` value: pending, parked until its channel is first asked for; its deadline is the
/// kind's (`Delivery::true_when`).
const PARKED: u32 = u32::MAX - 2;
/// `Entry::state` value: a callback that came due and was queued for a thread to run (a callback
/// thread's queue or run-next slot, a fake clock's advance), which has not started it yet. Still
/// pending: whichever comes first of the starting thread's `claim` and a `stop` or `reset` under the
/// lock (`revoke`) takes it to `IDLE`, and only the winner's effect happens.
const QUEUED: u32 = u32::MAX - 3;

/// Proof that the caller holds the lock of the shard an entry belongs to: only a locked shard
/// (`Locked`) has one, and lends it for as long as it holds the lock. Functions that must run
/// under the lock take a `&Held`.
pub(crate) struct Held(());

impl Held {
    /// For `Locked`, which holds the lock for as long as it lends this.
    pub(super) const fn new() -> Held {
        Held(())
    }
}

pub(crate) struct Entry<A: ?Sized> {
    /// `IDLE`, `NEVER`, `PARKED`, `QUEUED`, or the entry's wheel key (below 2^31). Written under
    /// the shard lock, but for one transition: `QUEUED` to `IDLE` by the thread that starts the
    /// callback (`claim`), which races the lock holder's `revoke`; both are compare-and-swaps, so
    /// exactly one wins. Every other access is ordered by the lock.
    state: AtomicU32,
    /// Where the timer was created (`#[track_caller]`), for the profile and reports. Immutable.
    pub(crate) origin: Origin,
    /// Set by the handle as it lets go of its count (`Handle::free`), for the loom models: a
    /// loom atomic, so that they try the firing thread's count (`Filed::into_ref`, on `std`'s
    /// `Arc`, which loom cannot see) against that, and find it if it could come after.
    #[cfg(gotimer_loom)]
    pub(crate) let_go: crate::sync::AtomicBool,
    /// The kind of timer: what firing does (`Delivery`). Its fields state their own locking rules.
    pub(crate) action: A,
}

/// Where an entry stands, from `Entry::state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    Idle,
    /// Pending, but its deadline is out of range: held only by its handle, never fires.
    Never,
    /// Pending, but nobody can receive yet (no channel): its deadline is the kind's true one.
    Parked,
    /// A callback queued for a thread to run, not started yet (see `QUEUED`).
    Queued,
    InWheel(Key),
}

impl<A> Entry<A> {
    /// An idle entry.
    pub(crate) fn new(origin: Origin, action: A) -> Self {
        Entry::with_state(origin, action, State::Idle)
    }

    /// An entry in `state`; nothing else can reach it yet, so no lock is needed.
    pub(super) fn with_state(origin: Origin, action: A, state: State) -> Self {
        Entry {
            state: AtomicU32::new(bits(state)),
            origin,
            #[cfg(gotimer_loom)]
            let_go: crate::sync::AtomicBool::new(false),
            action,
        }
    }
}

impl<A: ?Sized> Drop for Entry<A> {
    fn drop(&mut self) {
        self.origin.on_free();
    }
}

fn bits(state: State) -> u32 {
    match state {
        State::Idle => IDLE,
        State::Never => NEVER,
        State::Parked => PARKED,
        State::Queued => QUEUED,
        State::InWheel(key) => key.to_bits(),
    }
}

impl<A: ?Sized> Entry<A> {
    #[inline]
    pub(crate) fn state(&self, _: &Held) -> State {
        match self.state.load(Relaxed) {
            IDLE => State::Idle,
            NEVER => State::Never,
            PARKED => State::Parked,
            QUEUED => State::Queued,
            key => State::InWheel(Key::from_bits(key)),
        }
    }

    /// Takes `fresh`'s state and origin, for a spare entry made new in place (`Entry::revive`),
    /// which only the caller can reach; `fresh`'s origin is left retired.
    pub(super) fn take_from(&self, fresh: &mut Entry<A>) {
        self.state.store(fresh.state.load(Relaxed), Relaxed);
        self.origin.take_from(&mut fresh.origin);
    }

    /// Sets any state but `Queued` (`set_queued`), from any but `Queued` (which only `revoke` and
    /// `claim` leave).
    #[inline]
    pub(super) fn set_state(&self, _: &Held, state: State) {
        debug_assert!(
            self.state.load(Relaxed) != QUEUED,
            "gotimer: a queued callback is taken back only by revoke"
        );
        self.state.store(bits(state), Relaxed)
    }

    /// Takes back a callback that was queued but not started (`QUEUED` to `IDLE`): `stop` or
    /// `reset` came first, and the callback will not run for that schedule. False if the starting
    /// thread claimed it first (it runs), or it was not queued.
    #[inline]
    pub(super) fn revoke(&self, _: &Held) -> bool {
        self.state
            .compare_exchange(QUEUED, IDLE, AcqRel, Relaxed)
            .is_ok()
    }

    /// A callback queued for a thread to run, by a thread that holds the lock, or that made the
    /// entry and has not shared it yet (`after_func(0)`). The hand-over to the thread that will
    /// `claim` it orders this store before the claim.
    #[inline]
    pub(crate) fn set_queued(&self) {
        self.state.store(QUEUED, Relaxed)
    }

    /// The thread that is about to run a queued callback claims it, without the lock: true if it may
    /// run it (`QUEUED` to `IDLE`); false if a `stop` or `reset` revoked it first (or it was queued
    /// again and another thread's claim took that one), and then it must not. From here on the
    /// callback has started: a `stop` returns false.
    #[inline]
    pub(crate) fn claim(&self) -> bool {
        self.state
            .compare_exchange(QUEUED, IDLE, AcqRel, Relaxed)
            .is_ok()
    }
}

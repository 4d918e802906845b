//! A timer entry: what the wheel holds, and the state machine every kind of timer shares.
//!
//! An entry is an `Arc` shared by the user's handle (if any) and, while it is pending, by its node
//! in a shard's wheel. Its state is one word (`Entry::state`: idle, never, parked, dispatched, or
//! its wheel key), which changes only under the lock of the shard the entry belongs to, but for
//! one transition; the accessors take the `Locked` shard to say so. Delivery (sending on the
//! channel, or dispatching a callback) happens under that same lock, which is what makes
//! `stop`/`reset` exact: they either find the entry still pending, or find its value already in
//! the channel, where they can drain it, or find its callback dispatched but not started, which
//! they take back (`revoke`) unless the thread that runs it claimed it first (`claim`: the one
//! transition made without the lock, a compare-and-swap that `revoke` races with its own).
//!
//! ```text
//!              schedule(d)                      comes due (driver, or at once if d <= now)
//!   IDLE ─────────────────────▶ key in wheel ─────────────────────────────▶ IDLE  + value sent,
//!    ▲  ◀──── stop / drop ──────  │    ▲                                  or DISPATCHED (callback)
//!    │                            │    └── reset (later: lazy, same key)
//!    │  schedule(never)           ▼
//!    └──────── stop ────────── NEVER (pending, no deadline in range: Duration::MAX)
//!
//!   DISPATCHED (a callback handed to a thread, not started) ── claim (the thread starts it) ──▶ IDLE
//!              └── stop / reset first (revoke: it never runs for this dispatch) ──▶ IDLE
//!
//!   new Timer/Ticker ──▶ PARKED (deadline in the action) ── first c(): arm ──▶ key in wheel
//!                          │  ▲ reset: new deadline               (not due), or fired on the
//!                          └──┘ stop / drop ──▶ IDLE              spot (due: value sent)
//! ```
//! A ticker's entry goes straight back into the wheel when it fires, at its next phase-aligned tick.
//!
//! A channel timer (`Timer`, `Ticker`) on a clock read without the lock starts *parked*: pending,
//! with its deadline in its action, but in no wheel and with no channel yet, because nobody can
//! receive from it. Asking for its channel (`c()`) makes the channel and *arms* it: reads the clock
//! and, under the lock, fires it there and then if its deadline has passed (a ticker is then filed
//! at its next tick), or else files it in the wheel. This is Go 1.23's rule that a channel timer
//! enters the heap only once a goroutine blocks on it (`blockTimerChan`), with Go's rule that a
//! receive runs a channel timer that is due (`maybeRunChan`): a timer made and stopped without ever
//! being waited on (the usual fate of a timeout) costs no channel, no lock and no wheel node, and a
//! receive through `c()` sees exactly what it would have had the timer been in the wheel all along
//! and fired the instant it was due. `stop`/`reset` of a parked timer return what they would have
//! returned had it fired (true: the value would have been drained unreceived). Later `c()` calls
//! fire a due timer the same way (`Handle::fire_if_due`); only a receiver that does not go through
//! `c()` (one kept from an earlier call, or a clone) waits for the driver.
//!
//! Two deadlines are named apart, as tokio names them: an entry's *registered* deadline is the one
//! its wheel node was filed under, and its *true* deadline is when it really fires. For a `Timer`
//! (`Deliver`) they differ after it was moved later by the one transition that takes no lock: one
//! compare-and-swap of its `Chan::true_when`, which the driver claims with a compare-and-swap of
//! its own before it sends. Its state does not change: the entry stays pending in the same node,
//! and the driver re-files it when the node comes up early. A `Tick` keeps its true deadline
//! (`Chan::true_when`, its next tick) apart too: `c()` that fires a tick moves the node later in
//! place, and a period shorter than the driver can sleep is filed at least `SPIN_BELOW` out
//! (`Tick::registered`).

use super::shard::Locked;
use super::time::Timeline;
use crate::origin::Origin;
use crate::sync::{
    AtomicU32, AtomicU64,
    Ordering::{AcqRel, Acquire, Relaxed, Release},
};
use crate::wheel::Key;
use crossbeam_channel::{Sender, TrySendError};
use std::sync::OnceLock;
use std::time::Instant;

/// `Entry::state` value: not pending.
const IDLE: u32 = u32::MAX;
/// `Entry::state` value: pending with a deadline too far away to ever come (kept out of the wheel).
const NEVER: u32 = u32::MAX - 1;
/// `Entry::state` value: pending, parked until its channel is first asked for; its deadline is the
/// action's (`View::when`).
const PARKED: u32 = u32::MAX - 2;
/// `Entry::state` value: a callback that came due and was handed to a thread to run (a callback
/// thread's queue or run-next slot, a fake clock's advance), which has not started it yet. Still
/// pending: whichever comes first of the starting thread's `claim` and a `stop` or `reset` under the
/// lock (`revoke`) takes it to `IDLE`, and only the winner's effect happens.
const DISPATCHED: u32 = u32::MAX - 3;

/// The wheel's payload: a type-erased entry.
pub(crate) type EntryRef = std::sync::Arc<Entry<dyn Action>>;

pub(crate) struct Entry<A: ?Sized> {
    /// `IDLE`, `NEVER`, `PARKED`, `DISPATCHED`, or the entry's wheel key (below 2^31). Written
    /// under the shard lock, but for one transition: `DISPATCHED` to `IDLE` by the thread that
    /// starts the callback (`claim`), which races the lock holder's `revoke`; both are
    /// compare-and-swaps, so exactly one wins. Every other access is ordered by the lock.
    state: AtomicU32,
    /// Where the timer was created (`#[track_caller]`), for the profile and reports.
    pub(crate) origin: Origin,
    pub(crate) action: A,
}

/// Where an entry stands, from `Entry::state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    Idle,
    /// Pending, but its deadline is out of range: held only by its handle, never fires.
    Never,
    /// Pending, but nobody can receive yet (no channel): its deadline is the action's `when`.
    Parked,
    /// A callback handed to a thread to run, not started yet (see `DISPATCHED`).
    Dispatched,
    InWheel(Key),
}

impl<A> Entry<A> {
    pub(crate) fn new(origin: Origin, action: A) -> Self {
        Entry {
            state: AtomicU32::new(IDLE),
            origin,
            action,
        }
    }
}

impl<A: Action> Entry<A> {
    /// A channel timer's entry, pending for `deadline` but parked until its channel is made
    /// (`None`: never due). Nothing else can reach the entry yet, so no lock is needed.
    pub(crate) fn parked(origin: Origin, action: A, deadline: Option<u64>) -> Self {
        let state = match deadline {
            Some(when) => {
                action.view().store_when(when);
                PARKED
            }
            None => NEVER,
        };
        Entry {
            state: AtomicU32::new(state),
            origin,
            action,
        }
    }
}

impl<A: ?Sized> Drop for Entry<A> {
    fn drop(&mut self) {
        self.origin.on_free();
    }
}

impl<A: ?Sized> Entry<A> {
    #[inline]
    pub(crate) fn state(&self, _: &Locked<'_>) -> State {
        match self.state.load(Relaxed) {
            IDLE => State::Idle,
            NEVER => State::Never,
            PARKED => State::Parked,
            DISPATCHED => State::Dispatched,
            key => State::InWheel(Key::from_bits(key)),
        }
    }

    #[inline]
    pub(crate) fn set_state(&self, _: &Locked<'_>, state: State) {
        let bits = match state {
            State::Idle => IDLE,
            State::Never => NEVER,
            State::Parked => PARKED,
            State::Dispatched => DISPATCHED,
            State::InWheel(key) => key.to_bits(),
        };
        debug_assert!(
            self.state.load(Relaxed) != DISPATCHED,
            "gotimer: a dispatched callback is taken back only by revoke"
        );
        self.state.store(bits, Relaxed)
    }

    /// Takes back a callback that was dispatched but not started (`DISPATCHED` to `IDLE`): `stop`
    /// or `reset` came first, and the callback will not run for that dispatch. False if the
    /// starting thread claimed it first (it runs), or it was not dispatched.
    #[inline]
    pub(crate) fn revoke(&self, _: &Locked<'_>) -> bool {
        self.state
            .compare_exchange(DISPATCHED, IDLE, AcqRel, Relaxed)
            .is_ok()
    }

    /// A callback handed to a thread to run, by a thread that holds the lock, or that made the
    /// entry and has not shared it yet (`after_func(0)`). The hand-over to the thread that will
    /// `claim` it orders this store before the claim.
    #[inline]
    pub(crate) fn set_dispatched(&self) {
        self.state.store(DISPATCHED, Relaxed)
    }

    /// The thread that is about to run a dispatched callback claims it, without the lock: true if
    /// it may run it (`DISPATCHED` to `IDLE`); false if a `stop` or `reset` revoked it first (or it
    /// was dispatched again and another thread's claim took that dispatch), and then it must not.
    /// From here on the callback has started: a `stop` returns false.
    #[inline]
    pub(crate) fn claim(&self) -> bool {
        self.state
            .compare_exchange(DISPATCHED, IDLE, AcqRel, Relaxed)
            .is_ok()
    }
}

impl Entry<dyn Action> {
    /// When the entry really fires, given the deadline its wheel node is registered under.
    pub(crate) fn true_when(&self, registered_when: u64) -> u64 {
        self.action.view().when().unwrap_or(registered_when)
    }
}

/// What a timer does when it comes due.
pub(crate) enum Fired {
    /// Nothing more: the entry is idle.
    Done,
    /// Nothing more: the entry is idle, and its value is in the channel, which a receiver held
    /// when it was sent (a `Timer`'s, or an `after`'s).
    Sent,
    /// Put the entry back in the wheel at this deadline (a ticker's next tick, or a `Timer` whose
    /// true deadline was moved later).
    Again(u64),
    /// Run the entry's callback, outside the shard lock.
    Dispatch,
}

/// The kind-specific part of an entry, type-erased: the one thing the trait does is let an
/// `Entry<dyn Action>` say which kind it is, so each kind's behaviour is plain code on its own type
/// (`Deliver::fire`, `Tick::fire`) rather than hooks that the other kinds leave empty.
pub(crate) trait Action: Send + Sync + 'static {
    fn view(&self) -> View<'_>;
}

/// An entry's action, by kind.
#[derive(Clone, Copy)]
pub(crate) enum View<'a> {
    Deliver(&'a Deliver),
    Tick(&'a Tick),
    Func(&'a (dyn Fn() + Send + Sync)),
}

impl<'a> View<'a> {
    /// Called under the shard lock when the entry's registered deadline `due` has passed;
    /// `now >= due`.
    #[inline]
    pub(crate) fn fire(self, due: u64, now: u64, time: &Timeline) -> Fired {
        match self {
            View::Deliver(d) => d.fire(due, now, time),
            View::Tick(t) => t.fire(due, now, time),
            View::Func(_) => Fired::Dispatch,
        }
    }

    /// The true deadline of a channel timer that is parked or in the wheel (`None`: neither, or a
    /// callback, whose deadline is its wheel node's). Read without the lock: `c()` reads it to
    /// decide whether to fire the timer itself, and then checks again under the lock.
    #[inline]
    pub(crate) fn when(self) -> Option<u64> {
        let when = self.chan()?.true_when.load(Acquire);
        (when != NOT_IN_WHEEL).then_some(when)
    }

    /// Records the true deadline of a channel timer as it is parked or filed in the wheel (`None`:
    /// taken out). Caller holds the shard lock.
    #[inline]
    pub(crate) fn set_when(self, _: &Locked<'_>, deadline: Option<u64>) {
        self.store_when(deadline.unwrap_or(NOT_IN_WHEEL))
    }

    /// `set_when`, for an entry nobody else can reach yet, or under the shard lock.
    #[inline]
    fn store_when(self, when: u64) {
        if let Some(chan) = self.chan() {
            chan.true_when.store(when, Release)
        }
    }

    /// Gives a channel timer its channel (once); the entry must then leave `PARKED` under the lock.
    pub(crate) fn arm(self, tx: Sender<Instant>) {
        self.chan()
            .expect("gotimer: a callback timer has no channel")
            .arm(tx)
    }

    /// A sender of a channel timer's channel, if it was made.
    pub(crate) fn sender(self) -> Option<Sender<Instant>> {
        self.chan()?.tx.get().cloned()
    }

    /// True if the entry can deliver: a callback, or a channel timer whose channel was made.
    #[inline]
    pub(crate) fn armed(self) -> bool {
        self.chan().is_none_or(|chan| chan.tx.get().is_some())
    }

    /// The channel part of a channel timer (`None`: a callback).
    #[inline]
    fn chan(self) -> Option<&'a Chan> {
        match self {
            View::Deliver(d) => Some(&d.chan),
            View::Tick(t) => Some(&t.chan),
            View::Func(_) => None,
        }
    }

    /// Heap bytes the action owns outside the entry itself: its channel.
    pub(crate) fn heap_bytes(self) -> u64 {
        match self {
            View::Deliver(_) | View::Tick(_) => CHANNEL_BYTES,
            View::Func(_) => 0,
        }
    }
}

/// What `crossbeam_channel::bounded::<Instant>(1)` allocates (checked by `tests/memory.rs`).
pub(crate) const CHANNEL_BYTES: u64 = 664;

/// `Timer::new` (and `after` on a fake clock): one value on a channel of capacity 1.
///
/// Its `true_when` makes the idle-timeout loop (`reset` to a later deadline on every message)
/// lock-free, as Go's `timerModifiedLater` does: `true_when` is the deadline the timer will really
/// fire at, at or after its wheel node's registered one, and `reset_later` moves it with one
/// compare-and-swap. The driver claims the entry with a compare-and-swap of its own before it sends,
/// so exactly one of the two wins: either the reset lands first and the driver puts the entry back
/// in the wheel at the new `true_when`, or the driver sends first and the reset, finding
/// `NOT_IN_WHEEL`, takes the locked path (which drains the value and reports it kept one from being
/// received).
pub(crate) struct Deliver {
    chan: Chan,
}

/// What both kinds of channel timer (`Deliver`, `Tick`) hold: the channel, made when the timer is
/// armed, and the true deadline.
pub(crate) struct Chan {
    /// Set once, when the channel is first asked for (arming), before the entry leaves `PARKED`.
    tx: OnceLock<Sender<Instant>>,
    /// The true deadline (a `Tick`'s next tick) while the entry is parked or in the wheel, else
    /// `NOT_IN_WHEEL`. A `Tick`'s is written only under the shard lock; a `Deliver`'s is also moved
    /// later without it (`Deliver::reset_later`). Read without the lock by `c()`, to see whether the
    /// timer is due.
    true_when: AtomicU64,
}

/// `Chan::true_when` of an entry that is not in the wheel.
const NOT_IN_WHEEL: u64 = u64::MAX;

impl Chan {
    fn unarmed() -> Self {
        Chan {
            tx: OnceLock::new(),
            true_when: AtomicU64::new(NOT_IN_WHEEL),
        }
    }

    /// Gives the timer its channel; the entry must then leave `PARKED` under the lock.
    fn arm(&self, tx: Sender<Instant>) {
        assert!(self.tx.set(tx).is_ok(), "gotimer: a timer armed twice");
    }

    /// Sends `value` if the channel has room; false if every receiver is gone (or there is no
    /// channel: an unarmed entry is never filed, so that does not happen).
    fn send(&self, value: Instant) -> bool {
        match self.tx.get() {
            Some(tx) => !matches!(tx.try_send(value), Err(TrySendError::Disconnected(_))),
            None => false,
        }
    }
}

impl Deliver {
    /// An action whose channel is made later, when it is armed (`View::arm`).
    pub(crate) fn unarmed() -> Self {
        Deliver {
            chan: Chan::unarmed(),
        }
    }

    pub(crate) fn new(tx: Sender<Instant>) -> Self {
        let d = Deliver::unarmed();
        d.chan.arm(tx);
        d
    }

    fn fire(&self, due: u64, now: u64, time: &Timeline) -> Fired {
        // `true_when` is set by every schedule under this same lock, so it is in the wheel; the
        // check only guards the loop.
        let mut when = self.chan.true_when.load(Acquire);
        let mut at = due;
        while when != NOT_IN_WHEEL {
            if when > now {
                // Reset to later since it was put in the wheel: back in at the new deadline.
                return Fired::Again(when);
            }
            match self
                .chan
                .true_when
                .compare_exchange(when, NOT_IN_WHEEL, AcqRel, Acquire)
            {
                Ok(_) => {
                    at = when;
                    break;
                }
                Err(moved) => when = moved,
            }
        }
        // Full cannot happen: every schedule drains the channel first. Disconnected means the
        // handle is gone, and then nobody is left to tell. An entry is only filed once armed.
        if self.chan.send(time.instant(at)) {
            Fired::Sent
        } else {
            Fired::Done
        }
    }

    /// Moves a pending entry (parked or in the wheel) to a later `deadline` without the shard lock;
    /// false if it cannot (not pending, or the deadline is earlier), and then the caller takes the
    /// locked path. A parked entry that a concurrent `c()` arms keeps the moved deadline: arming
    /// files it under its old one, at or before the new, and the node is re-filed when it comes up.
    pub(crate) fn reset_later(&self, deadline: u64) -> bool {
        let mut when = self.chan.true_when.load(Acquire);
        while when != NOT_IN_WHEEL && deadline >= when {
            match self
                .chan
                .true_when
                .compare_exchange(when, deadline, AcqRel, Acquire)
            {
                Ok(_) => return true,
                Err(moved) => when = moved,
            }
        }
        false
    }
}

impl Action for Deliver {
    #[inline]
    fn view(&self) -> View<'_> {
        View::Deliver(self)
    }
}

/// `Ticker::new` and `tick`: phase-aligned ticks, dropped while the receiver is behind.
pub(crate) struct Tick {
    /// The channel, and the next tick as the true deadline.
    chan: Chan,
    /// Period in nanoseconds, never 0. Changed only under the shard lock, by `Ticker::reset`.
    period: AtomicU64,
}

impl Tick {
    /// An action whose channel is made later, when it is armed (`View::arm`).
    pub(crate) fn unarmed(period: u64) -> Self {
        Tick {
            chan: Chan::unarmed(),
            period: AtomicU64::new(period),
        }
    }

    pub(crate) fn new(tx: Sender<Instant>, period: u64) -> Self {
        let t = Tick::unarmed(period);
        t.chan.arm(tx);
        t
    }

    /// Sets the period (not 0) for the ticks after the next schedule. Caller holds the shard lock.
    pub(crate) fn set_period(&self, _: &Locked<'_>, period: u64) {
        self.period.store(period, Relaxed)
    }

    /// Sends the tick that came due (its true deadline) and says when the next one is, recording
    /// it as the new true deadline. Caller holds the shard lock.
    fn fire(&self, registered: u64, now: u64, time: &Timeline) -> Fired {
        let due = match self.chan.true_when.load(Relaxed) {
            NOT_IN_WHEEL => registered,
            when => when,
        };
        let next = self.next_after(due, now, self.chan.send(time.instant(due)));
        self.chan
            .true_when
            .store(next.unwrap_or(NOT_IN_WHEEL), Release);
        match next {
            Some(next) => Fired::Again(self.registered(next, now, time)),
            None => Fired::Done,
        }
    }

    /// The deadline to file the next tick under, given its true one. A period shorter than the
    /// kernel can sleep ([`SPIN_BELOW`](crate::SPIN_BELOW)) would have the driver wake for every
    /// tick, each time too late, and spin a core doing it: such ticks are filed at least
    /// `SPIN_BELOW` from now, so the driver delivers at most one per `SPIN_BELOW`, while a receiver
    /// that asks for the channel (`c()`) gets each tick as soon as it is due (`fire_if_due`). Only on
    /// the monotonic clock: a fake clock's time jumps exactly to each tick, and has no driver.
    fn registered(&self, next: u64, now: u64, time: &Timeline) -> u64 {
        let floor = time.driver_floor();
        if self.period.load(Relaxed) < floor {
            next.max(now.saturating_add(floor))
                .min(crate::wheel::MAX_DEADLINE)
        } else {
            next
        }
    }

    /// The tick after `due` that is after `now` (ticks missed meanwhile are dropped, as in Go), or
    /// `None` if the ticker is done: its receivers are gone (`connected` false), or the next tick is
    /// out of range.
    fn next_after(&self, due: u64, now: u64, connected: bool) -> Option<u64> {
        if !connected {
            return None; // every receiver is gone: the ticker frees itself
        }
        let period = self.period.load(Relaxed);
        let missed = now.saturating_sub(due) / period;
        (missed + 1)
            .checked_mul(period)
            .and_then(|skip| due.checked_add(skip))
            .filter(|&next| next <= crate::wheel::MAX_DEADLINE)
    }
}

impl Action for Tick {
    #[inline]
    fn view(&self) -> View<'_> {
        View::Tick(self)
    }
}

/// `after_func`: a callback that may run many times (once per schedule), so `Fn`, not `FnOnce`.
pub(crate) struct Func<F>(pub(crate) F);

impl<F: Fn() + Send + Sync + 'static> Action for Func<F> {
    #[inline]
    fn view(&self) -> View<'_> {
        View::Func(&self.0)
    }
}

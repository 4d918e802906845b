//! A timer entry and its state machine: what the wheel holds, every kind of timer shares, and only
//! this module changes.
//!
//! An entry is an `Arc` shared by the user's handle (if any) and, while it is pending, by its node
//! in a shard's wheel (which borrows it instead, for a kind whose handle unfiles it before letting
//! go: `filed.rs`). Its state is one word (`state.rs`: idle, never, parked, queued, or its wheel
//! key), which changes only under the lock of the shard the entry belongs to, but for one
//! transition; the accessors take the lock's token ([`Held`]) to say so. Delivery (sending on the
//! channel, or queueing a callback to run) happens under that same lock, which is what makes
//! `stop`/`reset` exact: they either find the entry still pending, or find its value already in
//! the channel, where they can drain it, or find its callback queued but not started, which they
//! take back (`revoke`) unless the thread that runs it claimed it first (`claim`: the one
//! transition made without the lock, a compare-and-swap that `revoke` races with its own).
//!
//! ```text
//!              file(d)                          comes due (driver, c(), or at once if d <= now)
//!   IDLE ─────────────────────▶ key in wheel ─────────────────────────────▶ IDLE  + value sent,
//!    ▲  ◀──── unfile (stop/drop) │    ▲                                   or QUEUED (callback)
//!    │                           │    └── reset (later: lazy, same key)
//!    │  file(never)              ▼
//!    └──────── unfile ──────── NEVER (pending, no deadline in range: Duration::MAX)
//!
//!   QUEUED (a callback handed to a thread, not started) ── claim (the thread starts it) ──▶ IDLE
//!          └── stop / reset first (revoke: it never runs for this schedule) ──▶ IDLE
//!
//!   new Timer/Ticker ──▶ PARKED (deadline in the kind) ── first c(): arm ──▶ key in wheel
//!                          │  ▲ repark: new deadline            (not due), or fired on the
//!                          └──┘ unfile ──▶ IDLE                  spot (due: value sent)
//! ```
//! A ticker's entry goes straight back into the wheel when it fires, at its next phase-aligned tick.
//!
//! A channel timer (`Timer`, `Ticker`) on a clock read without the lock starts *parked*: pending,
//! with its deadline in its kind, but in no wheel and with no channel yet, because nobody can
//! receive from it. Asking for its channel (`c()`) makes the channel and *arms* it: reads the clock
//! and, under the lock, fires it there and then if its deadline has passed (a ticker is then filed
//! at its next tick), or else files it in the wheel. This is Go 1.23's rule that a channel timer
//! enters the heap only once a goroutine blocks on it (`blockTimerChan`), with Go's rule that a
//! receive runs a channel timer that is due (`maybeRunChan`): a timer made and stopped without ever
//! being waited on (the usual fate of a timeout) costs no channel, no lock and no wheel node, and a
//! receive through `c()` sees exactly what it would have had the timer been in the wheel all along
//! and fired the instant it was due. `stop`/`reset` of a parked timer return what they would have
//! returned had it fired (true: the value would have been drained unreceived).
//!
//! Two deadlines are named apart, as tokio names them: an entry's *registered* deadline is the one
//! its wheel node was filed under, and its *true* deadline is when it really fires
//! ([`Delivery::true_when`]). For a one-shot channel timer they differ after it was moved later by
//! the one transition that takes no lock ([`Delivery::reset_later`]): one compare-and-swap, which
//! the firing thread claims with a compare-and-swap of its own before it sends. Its state does not
//! change: the entry stays pending in the same node, and the driver re-files it when the node comes
//! up early. A ticker keeps its true deadline (its next tick) apart too: a `c()` that fires a tick
//! moves the node later in place, and a period shorter than the driver can sleep is filed at least
//! `SPIN_BELOW` out.
//!
//! The files, in the order they depend on each other: `state.rs` (the entry, its state word and the
//! lock token), `delivery.rs` (the interface each kind of timer implements, in `../kinds/`),
//! `filed.rs` (what a wheel node holds: the entry, counted or borrowed) and `locked.rs` (a locked
//! shard and the transitions, each written once).

mod delivery;
mod filed;
mod locked;
mod state;

pub(crate) use delivery::{Delivery, EntryRef, Fired, Share};
pub(crate) use filed::Filed;
pub(crate) use locked::{AfterUnlock, Batch, Locked};
pub(crate) use state::{Entry, Held};

//! The timer runtime: entries filed in shards of wheels, and what fires them when they are due. The
//! crate docs' "How it works" draws the data flow through these files, top to bottom:
//!
//! - `handle.rs`: `Handle<Kind>`, what an API type holds: its entry, shard and runtime.
//! - `kinds/`: the kinds of timer, each implementing `entry::Delivery`; `kinds/mod.rs` lists them.
//! - `entry/`: the entry's state machine: its states and lock token (`state.rs`), the interface a
//!   kind implements (`delivery.rs`), and the transitions under a shard lock (`locked.rs`).
//! - `shard.rs`: one wheel behind one lock, and its published next deadline.
//! - `core.rs`: what both runtimes share: a time line (`time.rs`) and the shards.
//! - `system.rs`: the system clock's runtime: the core, a driver thread (`driver.rs`) and a pool of
//!   callback threads (`pool.rs`, with `handoff.rs` for a callback a callback makes due).
//! - `manual.rs`: a fake clock's runtime: the core, stepped by `FakeClock::advance`.
//! - `rt.rs`: `Rt`, either runtime as a handle holds it, and where what a transition leaves for
//!   after the lock (`AfterUnlock`) goes to the runtime that owns the shard.
//! - `spare.rs`: a thread's freed entries of a kind made and dropped at a high rate, for reuse.
//! - `callback.rs`: running a callback (panics caught and reported); `stats.rs`: the counters;
//!   `fatal.rs`: a broken invariant aborts; `faults.rs`: the tests' injected faults.
//!
//! A channel timer is parked until its channel is first asked for (`Handle::channel`), and each
//! `c()` fires what is due on the calling thread, under the same lock, so the driver is needed only
//! for a receiver that is already blocked, or that receives on a channel it kept from an earlier
//! `c()`. A callback that comes due is handed to a thread to run and stays pending until that
//! thread claims it (`Entry::claim`), so a `stop` before then keeps it from running.
//!
//! This file only declares and re-exports: no file imports it for anything it defines but
//! `pending_spans`, and `tests/imports.rs` checks that no file of the crate imports in a circle.

mod callback;
mod core;
mod driver;
mod entry;
mod fatal;
#[cfg(all(test, not(gotimer_loom)))]
mod fault_tests;
mod faults;
mod handle;
mod handoff;
pub(crate) mod kinds;
#[cfg(all(test, gotimer_loom))]
mod loom_async;
#[cfg(all(test, gotimer_loom))]
mod loom_tests;
mod manual;
mod pool;
mod rt;
pub(crate) mod settle;
mod shard;
mod spare;
mod stats;
mod system;
mod time;

pub(crate) use entry::{Delivery, Held};
pub(crate) use handle::Handle;
pub(crate) use manual::{ManualRuntime, Step};
pub use pool::{IDLE_EXIT, MAX_WORKERS};
pub(crate) use rt::Rt;
pub use stats::Stats;
pub use system::stats;
pub(crate) use time::Due;
pub use time::SPIN_BELOW;

/// The system clock's pending deadlines per site, for the profile (see
/// `SystemRuntime::pending_spans`). Fake clocks' timers are counted by their sites like any other,
/// but their deadlines are on a time line of their own, so they are left out.
#[cfg(feature = "profile")]
pub(crate) fn pending_spans() -> Vec<Option<(std::time::Instant, std::time::Instant)>> {
    system::SystemRuntime::get().pending_spans()
}

#[cfg(all(test, not(gotimer_loom)))]
mod tests;

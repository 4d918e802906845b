//! The timer runtime: entries filed in shards of wheels, and what fires them when they are due.
//!
//! ```text
//!   API (Timer, Ticker, after_func, a fake clock's after)         timer.rs, ticker.rs, clock.rs
//!    │  makes a kind (kinds/) and starts it
//!    ▼
//!   Handle<Kind>      its entry, its shard, its runtime              handle.rs
//!    │  stop / reset / c(): takes the shard lock
//!    ▼
//!   Entry             the state machine: file, unfile, repark, fire   entry/
//!    │  transitions run under the lock (Locked, Held)
//!    ▼
//!   Shard / Wheel     one lock, one wheel, the published next         shard.rs, ../wheel/
//!    │  what comes due: the driver's poll, a c(), or a manual step
//!    ▼
//!   Runtime           Rt: SystemRuntime (driver thread + pool)        rt.rs, system.rs, driver.rs,
//!                         or ManualRuntime (FakeClock::advance)       pool.rs, manual.rs
//!    │  consumes what a transition leaves for after the lock (AfterUnlock)
//!    ▼
//!   Delivery          the kind's fire: a value on its channel (under the lock), or a callback
//!                     run on a callback thread / the advancing thread   kinds/, callback.rs
//! ```
//!
//! Each kind of timer (`kinds/`) implements one interface, `entry::Delivery`: what firing does,
//! answered under the shard lock as a `Fired` (done, again at a later deadline, or run a callback
//! after the lock). The entry's transitions are written once over that interface, and each returns
//! one `AfterUnlock` (a callback to run, an earlier deadline to tell the driver) that the runtime
//! owning the shard consumes (`Rt::after_unlock`). A channel timer is parked until its channel is
//! first asked for (`Handle::channel`), and each `c()` fires what is due on the calling thread,
//! under the same lock, so the driver is needed only for a receiver that is already blocked, or that
//! receives on a channel it kept from an earlier `c()`. A callback that comes due is handed to a
//! thread to run and stays pending until that thread claims it (`Entry::claim`), so a `stop` before
//! then keeps it from running.
//!
//! The two runtimes share their core (`core.rs`: a time line and the shards) and differ in what
//! they add: the system runtime (`system.rs`) one static on the monotonic clock with a driver
//! thread and a callback pool; a manual runtime (`manual.rs`) per fake clock, on a manual time
//! line with one shard and no thread.
//!
//! Files import only files below them in that picture, and never this one: it only declares and
//! re-exports.

mod callback;
mod core;
mod driver;
mod entry;
mod fatal;
#[cfg(all(test, not(loom)))]
mod fault_tests;
mod faults;
mod handle;
mod handoff;
pub(crate) mod kinds;
#[cfg(all(test, loom))]
mod loom_tests;
mod manual;
mod pool;
mod rt;
mod shard;
mod stats;
mod system;
mod time;

pub(crate) use handle::Handle;
pub(crate) use manual::ManualRuntime;
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

#[cfg(all(test, not(loom)))]
mod tests;

//! Go's timers for Rust threads and crossbeam channels, with Go 1.23's semantics and without Go's
//! `time.After` leak.
//!
//! A timer delivers on a [`crossbeam_channel::Receiver`], so it composes with `select!`,
//! `recv_timeout` and `try_recv` the way Go's timers compose with `select`. There is no setup: the
//! runtime (a driver thread and, for [`after_func`], a pool of callback threads) starts on first use,
//! never keeps the process alive, and needs no shutdown.
//!
//! # From Go to gotimer
//!
//! | Go | gotimer |
//! |---|---|
//! | `t := time.NewTimer(d)` | `let t = Timer::new(d);` |
//! | `<-t.C` | `t.c().recv()` |
//! | `t.Stop()` | [`t.stop()`](Timer::stop) |
//! | `t.Reset(d)` | [`t.reset(d)`](Timer::reset) |
//! | `time.After(d)` | [`after(d)`](after) |
//! | `time.AfterFunc(d, f)` | [`after_func(d, f)`](after_func) |
//! | `tk := time.NewTicker(d)`, `tk.C`, `tk.Stop()`, `tk.Reset(d)` | [`Ticker::new(d)`](Ticker::new), [`tk.c()`](Ticker::c), [`tk.stop()`](Ticker::stop), [`tk.reset(d)`](Ticker::reset) |
//! | `time.Tick(d)` | [`tick(d)`](tick) |
//! | `time.Sleep(d)` | [`sleep(d)`](sleep) |
//! | `select { case v := <-t.C: … }` | `crossbeam_channel::select! { recv(t.c()) -> v => … }` |
//! | dropping the last reference to a `*Timer` | dropping the [`Timer`]: cancels it and frees it at once |
//! | `go tool pprof …/debug/pprof/heap` | `profile::snapshot`, `profile::write_pprof`, `debug::serve` (feature `http`) |
//!
//! # Go 1.23 semantics
//!
//! - [`Timer::stop`] and [`Timer::reset`] return true if the call kept a value from being received;
//!   after they return, no value from the old schedule is received. The pre-1.23 idiom
//!   `if !t.Stop() { <-t.C }` is unnecessary (it would block: the channel is already empty).
//! - The value delivered is the instant the timer was due, not when it was received.
//! - Tickers are phase-aligned and drop ticks for slow receivers; at most one tick waits.
//!
//! # The leak, made impossible
//!
//! In Go before 1.23, `select { case <-ch: case <-time.After(3 * time.Minute): }` in a loop keeps
//! every iteration's timer in the runtime heap for three minutes. [`after`] registers nothing until a
//! receiver blocks on it (the blocked thread's own timeout is the timer), so a receiver that is
//! dropped frees everything at once. Dropping a `Timer` or `Ticker` cancels it and frees it; a
//! [`tick`] whose receivers are all gone frees itself at its next tick. The one way to pile up
//! pending work is to create [`after_func`] callbacks that nobody stops, and the profile shows
//! exactly which line does that.
//!
//! ```
//! use crossbeam_channel::{bounded, select};
//! use std::time::Duration;
//!
//! let (tx, ch1) = bounded(120);
//! std::thread::spawn(move || {
//!     for i in 0.. {
//!         if tx.send(format!("hello {i}")).is_err() {
//!             return;
//!         }
//!     }
//! });
//! for _ in 0..10_000 {
//!     select! {
//!         recv(ch1) -> _msg => {}
//!         recv(gotimer::after(Duration::from_secs(180))) -> _ => println!("timeout"),
//!     }
//! }
//! assert_eq!(gotimer::stats().pending, 0, "nothing was retained");
//! ```
//!
//! # How it works
//!
//! Data flows one way: API → wheel → driver → delivery. Each thread creates its timers in its own
//! shard: a hierarchical timing wheel (nine levels of 64 slots with occupancy bitmaps, 1.024 µs
//! resolution) behind a mutex, so threads do not contend on one lock. Insert, cancel and reset are
//! O(1); a reset to a later deadline is a single store, as in Go. One driver thread sleeps until the
//! earliest deadline of any shard, locking only the shards that are due; it sends channel values
//! under the shard lock (which is what makes `stop`/`reset` exact) and hands callbacks to the pool.
//!
//! Memory per pending timer (measured by `tests/memory.rs`): `after_func` 56 bytes plus its
//! closure; `Timer` 744 bytes, of which 664 are crossbeam's `bounded(1)` channel; `Ticker` 744;
//! a held `after` receiver 40, and nothing once dropped.
#![warn(missing_docs)]

mod clock;
#[cfg(feature = "http")]
pub mod debug;
mod fake;
mod origin;
#[cfg(feature = "profile")]
pub mod profile;
mod runtime;
mod sites;
mod sync;
mod ticker;
mod timer;
mod wheel;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

pub use clock::{Clock, ClockGuard};
pub use crossbeam_channel::Receiver;
pub use fake::FakeClock;
pub use runtime::{stats, Stats, IDLE_EXIT, MAX_WORKERS};
pub use ticker::{tick, Ticker};
pub use timer::{after, after_func, Timer};

use std::time::Duration;

/// Blocks the calling thread for at least `d`. Go's `time.Sleep`. `Duration::ZERO` returns at once.
/// It sleeps on [`Clock::current`]: on a thread that entered a fake clock, until that clock reaches
/// `now + d` (see [`Clock::sleep`]).
///
/// On the system clock a sleeping thread needs no timer entry: this is the operating system's sleep
/// (`std::thread::sleep`), except below [`SPIN_BELOW`], where the kernel's default timer slack of
/// 50 µs would stretch the sleep to several times `d`; such short waits yield the CPU in a loop
/// (`std::thread::yield_now`) until `d` has passed, as Go's scheduler does not sleep in the kernel
/// for them either.
///
/// ```
/// use std::time::{Duration, Instant};
/// let start = Instant::now();
/// gotimer::sleep(Duration::from_millis(2));
/// assert!(start.elapsed() >= Duration::from_millis(2));
/// ```
pub fn sleep(d: Duration) {
    match clock::current_rt() {
        runtime::Rt::System(_) => sleep_os(d),
        fake => Clock::from_rt(fake).sleep(d),
    }
}

/// The system clock's sleep.
fn sleep_os(d: Duration) {
    if d >= SPIN_BELOW {
        return std::thread::sleep(d);
    }
    let start = std::time::Instant::now();
    while start.elapsed() < d {
        std::thread::yield_now();
    }
}

/// Sleeps shorter than this yield in a loop instead of sleeping in the kernel; see [`sleep`].
///
/// ```
/// use std::time::Instant;
/// let start = Instant::now();
/// gotimer::sleep(gotimer::SPIN_BELOW / 2);
/// assert!(start.elapsed() >= gotimer::SPIN_BELOW / 2);
/// ```
pub const SPIN_BELOW: Duration = Duration::from_micros(50);

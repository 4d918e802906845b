//! Go's timers for Rust threads and crossbeam channels.
//!
//! TODO crate docs
#![warn(missing_docs)]

mod clock;
#[cfg(feature = "http")]
pub mod debug;
mod origin;
#[cfg(feature = "profile")]
pub mod profile;
mod runtime;
mod sync;
mod ticker;
mod timer;
mod wheel;

pub use crossbeam_channel::Receiver;
pub use runtime::{stats, Stats, IDLE_EXIT, MAX_WORKERS};
pub use ticker::{tick, Ticker};
pub use timer::{after, after_func, Timer};

use std::time::Duration;

/// Blocks the calling thread for at least `d`. Go's `time.Sleep`. `Duration::ZERO` returns at once.
///
/// It is the operating system's sleep (`std::thread::sleep`): a sleeping thread needs no timer entry.
///
/// ```
/// use std::time::{Duration, Instant};
/// let start = Instant::now();
/// gotimer::sleep(Duration::from_millis(2));
/// assert!(start.elapsed() >= Duration::from_millis(2));
/// ```
pub fn sleep(d: Duration) {
    std::thread::sleep(d)
}

//! Go's timers for async tasks, on any executor or none: [`sleep`], [`sleep_until`], [`timeout`],
//! [`timeout_at`], [`interval`], and [`Timer::recv_async`](crate::Timer::recv_async) and
//! [`Ticker::recv_async`](crate::Ticker::recv_async), on the same wheels, driver thread and fake
//! clocks as the thread API.
//!
//! | Go | gotimer, thread | gotimer, task |
//! |---|---|---|
//! | `time.Sleep(d)` | [`sleep(d)`](crate::sleep) | [`sleep(d).await`](sleep) |
//! | `t := time.NewTimer(d)`; `<-t.C`; `t.Reset(d)` | [`Timer::new`](crate::Timer::new), `t.c().recv()`, `t.reset(d)` | `let mut s = sleep(d);`, `(&mut s).await`, [`s.reset(d)`](Sleep::reset) |
//! | `select { case v := <-work: … case <-time.After(d): … }` | `select! { recv(work) -> v => …, recv(after(d)) -> _ => … }` | [`timeout(d, work).await`](timeout): `Ok(v)` or `Err(Elapsed)` |
//! | `tk := time.NewTicker(d)`; `<-tk.C`; `tk.Reset(d)`; `tk.Stop()` | [`Ticker::new`](crate::Ticker::new), `tk.c().recv()`, `tk.reset(d)`, `tk.stop()` | [`let mut tk = interval(d);`](interval), `tk.tick().await` (or as a `Stream`), [`tk.reset(d)`](Interval::reset), [`tk.stop()`](Interval::stop) |
//! | a `Timer` or `Ticker` shared by goroutines | `t.c().recv()` on each thread | [`t.recv_async().await`](crate::Timer::recv_async) on each task |
//!
//! The free functions bind to [`Clock::current`](crate::Clock::current) when they are called, as
//! the thread API's do; the same functions on a [`Clock`](crate::Clock)
//! ([`sleep_async`](crate::Clock::sleep_async), [`timeout`](crate::Clock::timeout), …) bind to that
//! clock, which is how code under test runs on a [`FakeClock`](crate::FakeClock).
//!
//! The futures need no runtime context: they are woken by the crate's driver thread (or by a fake
//! clock's `advance`), with the waker of their latest poll, outside every lock, in batches. So
//! they run on tokio (with or without its time driver), smol, `futures::executor`, `pollster` or a
//! hand-written poll loop alike, and they keep the wheel's microsecond resolution: a 100 µs sleep
//! takes about 100 µs, not a millisecond.
//!
//! A waker is the one piece of foreign code the driver thread runs: its `wake`, after every lock,
//! and its `clone`, under the timer's own lock of its wakers (the firing thread keeps a sleep's
//! waker, so that a reset without a new poll wakes the same task). Executors' wakers push the task
//! on a queue and return, and their clones count a reference. A `wake` that blocks holds up every
//! timer of the process until it returns; a `clone` that blocks holds up that timer, and for a
//! `Timer` or `Ticker` that tasks wait on through `recv_async`, the timers of its shard. A waker
//! that panics is caught, counted in [`stats`](crate::stats) as a callback's panic, and reported;
//! the others of the batch are woken all the same.
//!
//! Every sleep counts in [`stats`](crate::stats) while it is pending, and in the per-call-site
//! profile under the line that called `sleep`, `sleep_until`, `timeout` or `timeout_at` (kinds
//! `Sleep` and `Timeout`), so the pprof endpoint shows which line keeps timeouts pending, as it
//! does for threads.
//!
//! ```
//! use gotimer::future::{sleep, timeout};
//! use std::time::Duration;
//!
//! let rt = tokio::runtime::Builder::new_current_thread().build().unwrap(); // no time driver
//! rt.block_on(async {
//!     sleep(Duration::from_millis(1)).await;
//!     let r = timeout(Duration::from_millis(1), std::future::pending::<()>()).await;
//!     assert!(r.is_err());
//! });
//! ```

mod interval;
pub(crate) mod recv;
mod sleep;
mod timeout;

pub use interval::Interval;
pub use sleep::Sleep;
pub use timeout::{Elapsed, Timeout};

use crate::context::current_rt;
use crate::origin::Kind;
use crate::runtime::Due;
use crate::ticker::Ticker;
use std::future::IntoFuture;
use std::panic::Location;
use std::time::{Duration, Instant};

/// A future that completes `d` from now, with the instant it was due: Go's `time.Sleep` for a
/// task. `Duration::ZERO` is ready at the first poll; a duration too long to represent never
/// completes. See [`Sleep`].
///
/// ```
/// use std::time::{Duration, Instant};
/// let start = Instant::now();
/// pollster::block_on(gotimer::future::sleep(Duration::from_millis(2)));
/// assert!(start.elapsed() >= Duration::from_millis(2));
/// ```
#[track_caller]
pub fn sleep(d: Duration) -> Sleep {
    Sleep::start(current_rt(), Location::caller(), Kind::Sleep, Due::In(d))
}

/// A future that completes at `deadline`, with `deadline`: ready at the first poll if it is past
/// when the sleep is made. (One made earlier and first polled after its deadline is ready once the
/// runtime has fired it: at once on an idle machine, up to 250 µs later while every core is busy.)
/// On a fake clock, build the deadline from that clock's [`now`](crate::Clock::now).
///
/// One case is inexact, as for [`Timer::reset_at`](crate::Timer::reset_at): a deadline from
/// before the clock started (the first use of gotimer in the process, for the system clock)
/// completes at once with the clock's start instead of `deadline`.
///
/// ```
/// use std::time::{Duration, Instant};
/// let deadline = Instant::now() + Duration::from_millis(2);
/// assert_eq!(pollster::block_on(gotimer::future::sleep_until(deadline)), deadline);
/// ```
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::start(
        current_rt(),
        Location::caller(),
        Kind::Sleep,
        Due::At(deadline),
    )
}

/// Runs `f` with a deadline `d` from now: `Ok` with its output if it completes first, else
/// `Err(Elapsed)`. `f` is polled first at every poll, so a future that is ready wins even when
/// the deadline has passed. See [`Timeout`].
///
/// ```
/// use gotimer::future::timeout;
/// use std::time::Duration;
/// let (tx, rx) = futures::channel::oneshot::channel::<u32>();
/// futures::executor::block_on(async {
///     assert!(timeout(Duration::from_millis(2), async { rx.await }).await.is_err());
/// });
/// drop(tx);
/// ```
#[track_caller]
pub fn timeout<F: IntoFuture>(d: Duration, f: F) -> Timeout<F::IntoFuture> {
    let sleep = Sleep::start(current_rt(), Location::caller(), Kind::Timeout, Due::In(d));
    Timeout::new(f.into_future(), sleep)
}

/// [`timeout`] with the deadline as an instant.
///
/// ```
/// use gotimer::future::timeout_at;
/// use std::time::{Duration, Instant};
/// let deadline = Instant::now() + Duration::from_secs(60);
/// assert_eq!(pollster::block_on(timeout_at(deadline, async { 1 })), Ok(1));
/// ```
#[track_caller]
pub fn timeout_at<F: IntoFuture>(deadline: Instant, f: F) -> Timeout<F::IntoFuture> {
    let sleep = Sleep::start(
        current_rt(),
        Location::caller(),
        Kind::Timeout,
        Due::At(deadline),
    );
    Timeout::new(f.into_future(), sleep)
}

/// Ticks every `period`, first `period` from now: Go's `time.NewTicker` for a task, as a
/// [`Stream`](futures_core::Stream) and a cancel-safe [`tick`](Interval::tick). See [`Interval`]
/// for its Go semantics (phase-aligned, missed ticks dropped, not burst).
///
/// # Panics
/// If `period` is zero, with "non-positive interval for future::interval", as Go's `NewTicker`
/// panics.
///
/// ```
/// use std::time::{Duration, Instant};
/// let start = Instant::now();
/// let mut every = gotimer::future::interval(Duration::from_millis(2));
/// let first = pollster::block_on(every.tick());
/// assert!(first >= start + Duration::from_millis(2), "one period after creation, not at once");
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    Interval::new(Ticker::start_interval(
        current_rt(),
        Location::caller(),
        period,
    ))
}

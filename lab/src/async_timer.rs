//! The async timers the lab sets side by side, behind one trait, so that each task benchmark is
//! written once for all of them: gotimer's futures (`gotimer::future`), `tokio::time`, async-io's
//! `Timer` and futures-timer's `Delay`; the executor their tasks run on, and what those tasks share
//! (a WaitGroup for tasks, sleeps made idle, sleeping tasks spawned by the thousand).
//!
//! How each one files a sleep and wakes its task is what the benchmarks compare:
//! - gotimer: a node in a shard of its timing wheel (microsecond slots), filed at the first poll;
//!   its driver thread calls the waker. Needs no runtime.
//! - tokio: the `Sleep` is the node (inline, so `!Unpin`) in the runtime's wheel (millisecond
//!   slots), which the workers turn as they park. Needs a tokio runtime with time enabled.
//! - async-io: a `BTreeMap` behind a mutex, fed through a queue, read by its reactor thread, which a
//!   new earliest timer wakes with a syscall. Any executor.
//! - futures-timer: a binary heap on a helper thread, fed through a lock-free list, each new or
//!   dropped `Delay` unparking that thread. Any executor; no interval.
//!
//! Every task benchmark runs on a multi-thread tokio runtime ([`tokio_mt`]), whichever timer it
//! measures: the executor is the same, only the timer changes.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

/// One library's one-shot sleep.
pub trait AsyncTimer: 'static {
    type Sleep: Future + Send + 'static;
    /// A sleep due `d` from now (from its creation: tokio, async-io and futures-timer read the
    /// clock there, and gotimer too).
    fn sleep(d: Duration) -> Self::Sleep;
    /// A sleep due at `deadline`.
    fn sleep_until(deadline: Instant) -> Self::Sleep;
}

/// The libraries with a periodic timer (Go's `Ticker`).
pub trait AsyncInterval: AsyncTimer {
    type Interval: Send + 'static;
    /// Ticks every `period`, the first one `period` from now, as Go's `NewTicker` does.
    fn interval(period: Duration) -> Self::Interval;
    /// Waits for the next tick.
    fn tick(interval: &mut Self::Interval) -> impl Future<Output = ()> + Send + '_;
}

/// `gotimer::future`.
pub struct Gotimer;
/// `tokio::time`.
pub struct Tokio;
/// `async_io::Timer`.
pub struct AsyncIo;
/// `futures_timer::Delay`.
pub struct FuturesTimer;

impl AsyncTimer for Gotimer {
    type Sleep = gotimer::future::Sleep;
    fn sleep(d: Duration) -> Self::Sleep {
        gotimer::future::sleep(d)
    }
    fn sleep_until(deadline: Instant) -> Self::Sleep {
        gotimer::future::sleep_until(deadline)
    }
}

impl AsyncInterval for Gotimer {
    /// Go's ticker: phase-aligned, missed ticks dropped.
    type Interval = gotimer::future::Interval;
    fn interval(period: Duration) -> Self::Interval {
        gotimer::future::interval(period)
    }
    async fn tick(interval: &mut Self::Interval) {
        interval.tick().await;
    }
}

impl AsyncTimer for Tokio {
    type Sleep = tokio::time::Sleep;
    fn sleep(d: Duration) -> Self::Sleep {
        tokio::time::sleep(d)
    }
    fn sleep_until(deadline: Instant) -> Self::Sleep {
        tokio::time::sleep_until(deadline.into())
    }
}

impl AsyncInterval for Tokio {
    type Interval = tokio::time::Interval;
    /// With `MissedTickBehavior::Skip`, the closest to Go's dropped ticks (the default bursts).
    fn interval(period: Duration) -> Self::Interval {
        let mut t = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        t
    }
    async fn tick(interval: &mut Self::Interval) {
        interval.tick().await;
    }
}

impl AsyncTimer for AsyncIo {
    type Sleep = async_io::Timer;
    fn sleep(d: Duration) -> Self::Sleep {
        async_io::Timer::after(d)
    }
    fn sleep_until(deadline: Instant) -> Self::Sleep {
        async_io::Timer::at(deadline)
    }
}

impl AsyncInterval for AsyncIo {
    /// Phase-aligned, but it bursts missed ticks (each one due a period after the last, however
    /// late): async-io has no other behaviour.
    type Interval = async_io::Timer;
    fn interval(period: Duration) -> Self::Interval {
        async_io::Timer::interval(period)
    }
    async fn tick(interval: &mut Self::Interval) {
        use futures_core::Stream;
        std::future::poll_fn(|cx| Pin::new(&mut *interval).poll_next(cx)).await;
    }
}

impl AsyncTimer for FuturesTimer {
    type Sleep = futures_timer::Delay;
    fn sleep(d: Duration) -> Self::Sleep {
        futures_timer::Delay::new(d)
    }
    /// futures-timer takes durations only.
    fn sleep_until(deadline: Instant) -> Self::Sleep {
        futures_timer::Delay::new(deadline.saturating_duration_since(Instant::now()))
    }
}

/// The four libraries, as values, for tables and command lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Lib {
    Gotimer,
    Tokio,
    AsyncIo,
    FuturesTimer,
}

impl Lib {
    /// In the tables' order: gotimer first, then the peers.
    pub const ALL: [Lib; 4] = [Lib::Gotimer, Lib::Tokio, Lib::AsyncIo, Lib::FuturesTimer];

    pub fn label(self) -> &'static str {
        match self {
            Lib::Gotimer => "gotimer",
            Lib::Tokio => "tokio",
            Lib::AsyncIo => "async-io",
            Lib::FuturesTimer => "futures-timer",
        }
    }
}

/// Evaluates `$body` with the type `$T` bound to `$lib`'s [`AsyncTimer`]: the one place where a
/// [`Lib`] value becomes a type.
macro_rules! with_timer {
    ($lib:expr, $T:ident => $body:expr) => {
        match $lib {
            $crate::async_timer::Lib::Gotimer => {
                type $T = $crate::async_timer::Gotimer;
                $body
            }
            $crate::async_timer::Lib::Tokio => {
                type $T = $crate::async_timer::Tokio;
                $body
            }
            $crate::async_timer::Lib::AsyncIo => {
                type $T = $crate::async_timer::AsyncIo;
                $body
            }
            $crate::async_timer::Lib::FuturesTimer => {
                type $T = $crate::async_timer::FuturesTimer;
                $body
            }
        }
    };
}
pub(crate) use with_timer;

/// A multi-thread tokio runtime with `workers` workers and tokio's time driver (which only tokio's
/// own timer uses; the others are woken from their own threads).
pub fn tokio_mt(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_time()
        .build()
        .expect("build a tokio runtime")
}

/// Polls `fut` once with the calling task's context, so that a timer registers (each of the four
/// files its sleep at the first poll), and ignores what it says.
pub async fn poll_once<F: Future>(mut fut: Pin<&mut F>) {
    std::future::poll_fn(|cx| {
        let _ = fut.as_mut().poll(cx);
        Poll::Ready(())
    })
    .await
}

/// `n` sleeps, sleep `i` due `deadline(i)` from now, each polled once: registered and idle.
/// Boxed, since tokio's cannot move once polled.
pub async fn idle_sleeps<T: AsyncTimer>(
    n: usize,
    deadline: impl Fn(usize) -> Duration,
) -> Vec<Pin<Box<T::Sleep>>> {
    let mut v = Vec::with_capacity(n);
    for i in 0..n {
        let mut s = Box::pin(T::sleep(deadline(i)));
        poll_once(s.as_mut()).await;
        v.push(s);
    }
    v
}

/// Go's `sync.WaitGroup` for one waiting task: `done` from anywhere, the last one wakes the task
/// waiting in `wait`.
pub struct Countdown {
    left: AtomicIsize,
    zero: tokio::sync::Notify,
}

impl Countdown {
    pub fn new(n: usize) -> Arc<Self> {
        Arc::new(Countdown {
            left: AtomicIsize::new(n as isize),
            zero: tokio::sync::Notify::new(),
        })
    }

    /// Counts one down; the last one wakes the waiter (`notify_one` keeps a permit if it is not
    /// waiting yet).
    pub fn done(&self) {
        if self.left.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.zero.notify_one();
        }
    }

    pub async fn wait(&self) {
        self.zero.notified().await
    }
}

/// Spawns `n` tasks on the current tokio runtime that each sleep `d` on `T` and count down, and
/// waits for all of them: Go's `go func() { Sleep(d); wg.Done() }()` `n` times, then `wg.Wait()`.
pub async fn spawn_sleepers<T: AsyncTimer>(n: usize, d: Duration) {
    let wg = Countdown::new(n);
    for _ in 0..n {
        let wg = wg.clone();
        tokio::spawn(async move {
            T::sleep(d).await;
            wg.done();
        });
    }
    wg.wait().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every library's sleep completes on the lab's executor, no earlier than asked.
    #[test]
    fn each_sleep_completes_on_tokio_mt() {
        let rt = tokio_mt(2);
        for lib in Lib::ALL {
            let start = Instant::now();
            with_timer!(lib, T => rt.block_on(async {
                T::sleep(Duration::from_millis(2)).await;
                T::sleep_until(Instant::now() + Duration::from_millis(1)).await;
            }));
            assert!(start.elapsed() >= Duration::from_millis(3), "{lib:?}");
        }
    }

    #[test]
    fn intervals_tick_a_period_apart() {
        fn ticks<T: AsyncInterval>(rt: &tokio::runtime::Runtime) -> Duration {
            rt.block_on(async {
                let start = Instant::now();
                let mut t = T::interval(Duration::from_millis(2));
                T::tick(&mut t).await;
                T::tick(&mut t).await;
                start.elapsed()
            })
        }
        let rt = tokio_mt(2);
        assert!(ticks::<Gotimer>(&rt) >= Duration::from_millis(4));
        assert!(ticks::<Tokio>(&rt) >= Duration::from_millis(4));
        assert!(ticks::<AsyncIo>(&rt) >= Duration::from_millis(4));
    }
}

//! Go's goroutine benchmarks with tasks: Sleep1000, ParallelTimerLatency and
//! StaggeredTickerLatency, each written once over [`AsyncTimer`] and run for every async timer
//! (gotimer's futures, tokio, async-io, futures-timer) on one multi-thread tokio runtime with a
//! worker per core (Go's GOMAXPROCS). The executor is the same for all four: only the timer
//! changes, and a goroutine becomes a task, as the "fair fight" asks.
//!
//! - Sleep1000: Go's `benchmark` helper with tasks: one benchmark task per worker, each with its
//!   2^15 idle one-hour sleeps of the same library (polled once, so registered; Go's garbage
//!   `AfterFunc(Hour, nil)` per P), pulling ops from a shared counter; an op spawns 1000 tasks that
//!   each `sleep(1ns).await` and count down, and waits for them.
//! - ParallelTimerLatency: each of Go's `AfterFunc` callbacks is a task that `sleep_until`s its
//!   deadline. Tasks cannot be preempted, so where Go's callbacks spin until all timers fired, the
//!   tasks yield in the loop instead, or two could hold both workers forever.
//! - StaggeredTickerLatency: the benchmark's body is a task too, as Go's is a goroutine on one of
//!   the GOMAXPROCS Ps: it spins in `doWork` between tickers on a worker, not on a third thread
//!   that the OS would share the two cores with. Go preempts a goroutine that has run 10 ms
//!   (`forcePreemptNS`), which the body's 30 ms of `doWork` would; a task cannot be preempted, so
//!   the body yields once it has run that long. Each ticker goroutine is a task with its own
//!   interval; a ticker task spinning in `doWork` (300 µs) holds its worker, as a goroutine holds
//!   its P for as long. futures-timer has no interval.

use super::harness::{do_work, launch, summarize, BenchTime, LateSlot, Round, Timed};
use super::latency::{parallel_rounds, Fired, STAGGERED_DELAY};
use super::Engine;
use crate::async_timer::{
    self, idle_sleeps, spawn_sleepers, with_timer, AsyncInterval, AsyncTimer, Lib,
};
use crate::proc_self;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const HOUR: Duration = Duration::from_secs(3600);
/// How long to wait at most for the process to go quiet.
const SETTLE: Duration = Duration::from_secs(10);

/// The library whose timer an engine's tasks use; None for the thread engines.
pub fn timer(engine: Engine) -> Option<Lib> {
    match engine {
        Engine::GotimerAsync => Some(Lib::Gotimer),
        Engine::TokioMt => Some(Lib::Tokio),
        Engine::AsyncIo => Some(Lib::AsyncIo),
        Engine::FuturesTimer => Some(Lib::FuturesTimer),
        Engine::Gotimer | Engine::Crossbeam | Engine::TokioCt => None,
    }
}

/// `b.RunParallel` with tasks: `tasks` benchmark tasks each make `garbage` idle one-hour sleeps of
/// `T`, then all pull iterations from a shared counter and run `body` until `iters` are done.
/// Returns the wall time from the moment all are ready to the moment the last finishes; the
/// garbage is dropped after the clock stops.
///
/// Go files its garbage timers before the clock starts. async-io's reactor and futures-timer's
/// helper file theirs on their own thread, after the tasks made them, and take the previous
/// round's out the same way: the clock starts once the process is quiet, so that this work is not
/// counted in the round's ops (it is on the others' side too: they do it in the tasks).
pub fn run_tasks<T, B, F>(
    rt: &tokio::runtime::Runtime,
    tasks: usize,
    iters: u64,
    garbage: usize,
    body: B,
) -> Duration
where
    T: AsyncTimer,
    B: Fn() -> F + Send + Sync + 'static,
    F: Future<Output = ()> + Send,
{
    use tokio::sync::Barrier;
    let body = Arc::new(body);
    let next = Arc::new(AtomicU64::new(0));
    let ready = Arc::new(Barrier::new(tasks + 1));
    let start = Arc::new(Barrier::new(tasks + 1));
    let end = Arc::new(Barrier::new(tasks + 1));
    let teardown = Arc::new(Barrier::new(tasks + 1));
    rt.block_on(async {
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let (body, next, ready) = (body.clone(), next.clone(), ready.clone());
                let (start, end, teardown) = (start.clone(), end.clone(), teardown.clone());
                tokio::spawn(async move {
                    let state = idle_sleeps::<T>(garbage, |_| HOUR).await;
                    ready.wait().await;
                    start.wait().await;
                    while next.fetch_add(1, Ordering::Relaxed) < iters {
                        body().await;
                    }
                    end.wait().await;
                    teardown.wait().await;
                    drop(state);
                })
            })
            .collect();
        ready.wait().await;
        proc_self::settle(SETTLE);
        start.wait().await;
        let t0 = Instant::now();
        end.wait().await;
        let elapsed = t0.elapsed();
        teardown.wait().await;
        for h in handles {
            let _ = h.await;
        }
        elapsed
    })
}

/// Sleep1000 with `engine`'s tasks; None for a thread engine.
pub fn sleep(
    engine: Engine,
    bt: BenchTime,
    workers: usize,
    garbage: usize,
    n: usize,
) -> Option<Timed> {
    let lib = timer(engine)?;
    let rt = async_timer::tokio_mt(workers);
    let timed = with_timer!(lib, T => launch(bt, |iters| {
        Round::from(run_tasks::<T, _, _>(&rt, workers, iters, garbage, move || {
            spawn_sleepers::<T>(n, Duration::from_nanos(1))
        }))
    }));
    Some(timed)
}

/// `warmupScheduler` for tasks: as many spinning tasks as workers, all at once, so that every
/// worker is awake before the clock starts.
fn warmup(rt: &tokio::runtime::Runtime, workers: usize) {
    let count = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let count = count.clone();
            rt.spawn(async move {
                count.fetch_add(1, Ordering::AcqRel);
                while count.load(Ordering::Acquire) < workers {
                    tokio::task::yield_now().await;
                }
                do_work(Duration::from_millis(1));
            })
        })
        .collect();
    rt.block_on(async {
        for t in tasks {
            let _ = t.await;
        }
    });
}

/// ParallelTimerLatency with `engine`'s tasks (`gmp` workers, at least 2); None for a thread
/// engine.
pub fn parallel(engine: Engine, bt: BenchTime, gmp: usize) -> Option<Timed> {
    let lib = timer(engine)?;
    let rt = async_timer::tokio_mt(gmp);
    let timed = with_timer!(lib, T => {
        launch(bt, |n| parallel_tasks::<T>(&rt, n, gmp, gmp - 1))
    });
    Some(timed)
}

fn parallel_tasks<T: AsyncTimer>(
    rt: &tokio::runtime::Runtime,
    n: u64,
    gmp: usize,
    timer_count: usize,
) -> Round {
    let fired = Fired::new(timer_count);
    warmup(rt, gmp);
    parallel_rounds(n, &fired, |j, expected, wg| {
        let fired = fired.clone();
        rt.spawn(async move {
            T::sleep_until(expected).await;
            fired.fire(j, expected);
            while !fired.all() {
                tokio::task::yield_now().await;
            }
            wg.done();
        });
    })
}

/// StaggeredTickerLatency with `engine`'s tasks (`gmp` workers, `gmp * per_p` tickers); None for
/// a thread engine or a library without an interval.
pub fn staggered(
    engine: Engine,
    bt: BenchTime,
    gmp: usize,
    work: Duration,
    per_p: usize,
) -> Option<Timed> {
    let round: fn(&tokio::runtime::Runtime, u64, usize, usize, Duration) -> Round = match engine {
        Engine::GotimerAsync => staggered_tasks::<async_timer::Gotimer>,
        Engine::TokioMt => staggered_tasks::<async_timer::Tokio>,
        Engine::AsyncIo => staggered_tasks::<async_timer::AsyncIo>,
        _ => return None,
    };
    let rt = async_timer::tokio_mt(gmp);
    Some(launch(bt, |n| round(&rt, n, gmp, gmp * per_p, work)))
}

fn staggered_tasks<T: AsyncInterval>(
    rt: &tokio::runtime::Runtime,
    n: u64,
    gmp: usize,
    count: usize,
    work: Duration,
) -> Round {
    let stats: Arc<Vec<LateSlot>> = Arc::new((0..count).map(|_| LateSlot::default()).collect());
    warmup(rt, gmp);
    let start = Instant::now();
    let body = {
        let stats = stats.clone();
        async move {
            let mut ran_since = Instant::now();
            let mut tickers = Vec::with_capacity(count);
            for j in 0..count {
                do_work(STAGGERED_DELAY / gmp as u32);
                let mut expected = Instant::now() + STAGGERED_DELAY;
                let stats = stats.clone();
                let mut ticker = T::interval(STAGGERED_DELAY);
                tickers.push(tokio::spawn(async move {
                    for _ in 0..n {
                        T::tick(&mut ticker).await;
                        stats[j].record(expected);
                        expected += STAGGERED_DELAY;
                        do_work(work);
                    }
                }));
                if ran_since.elapsed() >= GO_PREEMPT {
                    tokio::task::yield_now().await;
                    ran_since = Instant::now();
                }
            }
            for t in tickers {
                t.await
                    .expect("a StaggeredTickerLatency ticker task panicked");
            }
        }
    };
    rt.block_on(rt.spawn(body))
        .expect("StaggeredTickerLatency's body panicked");
    Round {
        elapsed: start.elapsed(),
        late: Some(summarize(&stats)),
    }
}

/// How long Go lets a goroutine run before it preempts it (`forcePreemptNS` in `runtime/proc.go`).
const GO_PREEMPT: Duration = Duration::from_millis(10);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_task_engine_runs_sleep_and_parallel_latency() {
        for engine in [
            Engine::GotimerAsync,
            Engine::TokioMt,
            Engine::AsyncIo,
            Engine::FuturesTimer,
        ] {
            let t = sleep(engine, BenchTime::Iters(2), 2, 10, 10).expect("a task engine");
            assert_eq!(t.iters, 2, "{engine:?}");
            let p = parallel(engine, BenchTime::Iters(2), 2).expect("a task engine");
            assert!(p.late.is_some(), "{engine:?}");
        }
        assert!(sleep(Engine::Gotimer, BenchTime::Iters(1), 2, 1, 1).is_none());
        for engine in [Engine::GotimerAsync, Engine::AsyncIo] {
            let s = staggered(
                engine,
                BenchTime::Iters(2),
                2,
                Duration::from_micros(300),
                1,
            );
            assert!(s.and_then(|s| s.late).is_some(), "{engine:?}");
        }
        assert!(staggered(
            Engine::FuturesTimer,
            BenchTime::Iters(1),
            2,
            Duration::ZERO,
            1
        )
        .is_none());
    }
}

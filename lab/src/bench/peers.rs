//! The ns/op benchmarks for the peers, where they have an equivalent, in the same harness as the
//! gotimer port: one thread (or task) per core, 2^15 idle one-hour timers each made first, n = 1000
//! operations per op.
//!
//! | Go benchmark          | crossbeam-channel                 | tokio (current-thread and multi-thread)            |
//! |-----------------------|-----------------------------------|----------------------------------------------------|
//! | AfterFunc (chain)     | none (no callback timer)          | a chain of spawned tasks, each `sleep(0).await` then spawns the next |
//! | After                 | `after(1ns).recv()`               | `sleep(1ns).await`                                 |
//! | Stop                  | `after(1s)` dropped               | `timeout(1s, pending())` polled once (registers), then dropped |
//! | SimultaneousAfterFunc | none                              | 1000 spawned tasks `sleep(0).await` then count down |
//! | StartStop             | 1000 `at(now + 1h)`, then dropped | 1000 `sleep(1h)` polled once, then dropped         |
//! | Reset                 | none (channels cannot be reset)   | `Sleep::reset(now + 1h)` on a polled `sleep(1h)`   |
//! | Sleep                 | none                              | 1000 spawned tasks `sleep(1ns).await`              |
//! | Ticker                | `tick(1ns).recv()` ×1000          | `interval(1ns).tick().await` ×1000                 |
//! | TickerReset           | none (a tick channel cannot be reset) | `Interval::reset_after(2ns)` ×1000             |
//! | TickerResetNaive      | drop, then `tick(2ns)`            | drop, then `interval(2ns)` polled once             |
//! | AdjustTimers          | none                              | 10000 `sleep(1h)` polled, the last reset to 1 ns, `sleep(1µs)`, dropped |
//!
//! The other task engines (gotimer-async, async-io, futures-timer) run Sleep only, in
//! [`super::tasks`], on a runtime like tokio-mt's, with the same body as tokio-mt's Sleep.
//!
//! crossbeam's `after`/`at` register nothing anywhere: the deadline lives in the channel and the
//! receiving thread's timed wait is the timer, so its Stop and StartStop only allocate and free
//! (gotimer's own `after` is this same channel). Its garbage timers are likewise only channels.
//! tokio's `Sleep` registers with the timer wheel on its first poll, hence "polled once"; its
//! garbage timers are `sleep(1h)`s polled once, made by each worker thread (current-thread: one
//! runtime per thread, each with its own timer; multi-thread: one runtime with one worker per core,
//! one benchmark task per core).

use super::harness::{launch, run_parallel, BenchTime, Round, Timed};
use super::tasks::{self, run_tasks};
use super::{Engine, Op};
use crate::async_timer::{self, idle_sleeps, poll_once, spawn_sleepers, Countdown, Tokio};
use std::pin::Pin;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::time::Sleep;

const HOUR: Duration = Duration::from_secs(3600);

/// Whether `engine` has an equivalent of `op` (gotimer has them all).
pub fn supports(engine: Engine, op: Op) -> bool {
    match engine {
        Engine::Gotimer | Engine::TokioCt | Engine::TokioMt => true,
        Engine::Crossbeam => matches!(
            op,
            Op::After | Op::Stop | Op::StartStop | Op::Ticker | Op::TickerResetNaive
        ),
        Engine::GotimerAsync | Engine::AsyncIo | Engine::FuturesTimer => op == Op::Sleep,
    }
}

/// Runs `op` with a peer engine; None if it has no equivalent.
pub fn run(
    engine: Engine,
    op: Op,
    bt: BenchTime,
    threads: usize,
    garbage: usize,
    n: usize,
) -> Option<Timed> {
    if !supports(engine, op) {
        return None;
    }
    let m = match engine {
        Engine::Gotimer => return None,
        Engine::GotimerAsync | Engine::AsyncIo | Engine::FuturesTimer => {
            return tasks::sleep(engine, bt, threads, garbage, n)
        }
        Engine::Crossbeam => launch(bt, |iters| {
            Round::from(run_parallel(
                threads,
                iters,
                || {
                    (0..garbage)
                        .map(|_| crossbeam_channel::at(Instant::now() + HOUR))
                        .collect::<Vec<_>>()
                },
                |_| crossbeam_body(op, n),
            ))
        }),
        Engine::TokioCt => launch(bt, |iters| {
            Round::from(run_parallel(
                threads,
                iters,
                || CtState::new(garbage),
                |s| s.rt.block_on(tokio_body(op, n)),
            ))
        }),
        Engine::TokioMt => {
            let rt = async_timer::tokio_mt(threads);
            launch(bt, |iters| {
                Round::from(run_tasks::<Tokio, _, _>(
                    &rt,
                    threads,
                    iters,
                    garbage,
                    move || tokio_body(op, n),
                ))
            })
        }
    };
    Some(m)
}

fn crossbeam_body(op: Op, n: usize) {
    match op {
        Op::After => {
            for _ in 0..n {
                let _ = crossbeam_channel::after(Duration::from_nanos(1)).recv();
            }
        }
        Op::Stop => {
            for _ in 0..n {
                drop(crossbeam_channel::after(Duration::from_secs(1)));
            }
        }
        Op::StartStop => {
            let timers: Vec<_> = (0..n)
                .map(|_| crossbeam_channel::at(Instant::now() + HOUR))
                .collect();
            drop(timers);
        }
        Op::Ticker => {
            let t = crossbeam_channel::tick(Duration::from_nanos(1));
            for _ in 0..n {
                let _ = t.recv();
            }
        }
        Op::TickerResetNaive => {
            let mut t = crossbeam_channel::tick(Duration::from_nanos(1));
            for _ in 0..n {
                drop(t);
                t = crossbeam_channel::tick(Duration::from_nanos(2));
            }
            drop(t);
        }
        _ => unreachable!("crossbeam has no {op:?}"),
    }
}

/// An interval whose first tick has been taken, and whose next one is polled once: registered
/// with the timer wheel, as Go's NewTicker is.
async fn registered_interval(period: Duration) -> tokio::time::Interval {
    let mut t = tokio::time::interval(period);
    t.tick().await;
    poll_once(std::pin::pin!(t.tick())).await;
    t
}

/// BenchmarkAfterFunc's chain: a task that sleeps 0 and then runs the link, which spawns the next.
fn chain_link(left: Arc<AtomicIsize>, done: Arc<Countdown>) {
    tokio::spawn(async move {
        tokio::time::sleep(Duration::ZERO).await;
        if left.fetch_sub(1, Ordering::Relaxed) > 0 {
            chain_link(left, done);
        } else {
            done.done();
        }
    });
}

async fn tokio_body(op: Op, n: usize) {
    match op {
        Op::AfterFunc => {
            let done = Countdown::new(1);
            chain_link(Arc::new(AtomicIsize::new(n as isize)), done.clone());
            done.wait().await;
        }
        Op::After => {
            for _ in 0..n {
                tokio::time::sleep(Duration::from_nanos(1)).await;
            }
        }
        Op::Stop => {
            for _ in 0..n {
                let t = std::pin::pin!(tokio::time::timeout(
                    Duration::from_secs(1),
                    std::future::pending::<()>()
                ));
                poll_once(t).await;
            }
        }
        Op::SimultaneousAfterFunc => spawn_sleepers::<Tokio>(n, Duration::ZERO).await,
        Op::Sleep => spawn_sleepers::<Tokio>(n, Duration::from_nanos(1)).await,
        Op::StartStop => {
            let timers = idle_sleeps::<Tokio>(n, |_| HOUR).await;
            drop(timers);
        }
        Op::Reset => {
            let mut t = Box::pin(tokio::time::sleep(HOUR));
            poll_once(t.as_mut()).await;
            for _ in 0..n {
                t.as_mut().reset(tokio::time::Instant::now() + HOUR);
            }
            drop(t);
        }
        Op::Ticker => {
            let mut t = tokio::time::interval(Duration::from_nanos(1));
            for _ in 0..n {
                t.tick().await;
            }
        }
        Op::TickerReset => {
            let mut t = tokio::time::interval(Duration::from_nanos(1));
            t.tick().await;
            for _ in 0..n {
                t.reset_after(Duration::from_nanos(2));
            }
        }
        Op::TickerResetNaive => {
            let mut t = registered_interval(Duration::from_nanos(1)).await;
            for _ in 0..n {
                drop(t);
                t = registered_interval(Duration::from_nanos(2)).await;
            }
            drop(t);
        }
        Op::AdjustTimers => {
            let mut timers = idle_sleeps::<Tokio>(Op::AdjustTimers.timer_ops(n), |_| HOUR).await;
            if let Some(last) = timers.last_mut() {
                last.as_mut()
                    .reset(tokio::time::Instant::now() + Duration::from_nanos(1));
            }
            tokio::time::sleep(Duration::from_micros(1)).await;
            drop(timers);
        }
    }
}

/// One benchmark thread of the current-thread column: its own runtime and garbage.
struct CtState {
    rt: tokio::runtime::Runtime,
    garbage: Vec<Pin<Box<Sleep>>>,
}

impl CtState {
    fn new(garbage: usize) -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("build a tokio runtime");
        let garbage = rt.block_on(idle_sleeps::<Tokio>(garbage, |_| HOUR));
        CtState { rt, garbage }
    }
}

impl Drop for CtState {
    fn drop(&mut self) {
        let g = std::mem::take(&mut self.garbage);
        self.rt.block_on(async move { drop(g) });
    }
}

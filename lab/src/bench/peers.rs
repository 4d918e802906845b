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
//! crossbeam's `after`/`at` register nothing anywhere: the deadline lives in the channel and the
//! receiving thread's timed wait is the timer, so its Stop and StartStop only allocate and free
//! (gotimer's own `after` is this same channel). Its garbage timers are likewise only channels.
//! tokio's `Sleep` registers with the timer wheel on its first poll, hence "polled once"; its
//! garbage timers are `sleep(1h)`s polled once, made by each worker thread (current-thread: one
//! runtime per thread, each with its own timer; multi-thread: one runtime with one worker per core,
//! one benchmark task per core).

use super::harness::{launch, run_parallel, BenchTime, Round, Timed};
use super::{Engine, Op};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicIsize, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
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
            let rt = super::latency::tokio_mt(threads);
            launch(bt, |iters| {
                Round::from(run_mt(&rt, op, threads, iters, garbage, n))
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

/// Polls `fut` once, so that a tokio timer registers with the wheel, and returns whatever it says.
async fn poll_once<F: Future>(mut fut: Pin<&mut F>) {
    std::future::poll_fn(|cx| {
        let _ = fut.as_mut().poll(cx);
        Poll::Ready(())
    })
    .await
}

/// `n` one-hour sleeps, each polled once: registered and idle.
async fn idle_sleeps(n: usize) -> Vec<Pin<Box<Sleep>>> {
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let mut s = Box::pin(tokio::time::sleep(HOUR));
        poll_once(s.as_mut()).await;
        v.push(s);
    }
    v
}

/// An interval whose first tick has been taken, and whose next one is polled once: registered
/// with the timer wheel, as Go's NewTicker is.
async fn registered_interval(period: Duration) -> tokio::time::Interval {
    let mut t = tokio::time::interval(period);
    t.tick().await;
    poll_once(std::pin::pin!(t.tick())).await;
    t
}

/// A countdown that wakes one waiting task at zero: the WaitGroup of the tokio versions.
struct Countdown {
    left: AtomicIsize,
    zero: Notify,
}

impl Countdown {
    fn new(n: usize) -> Arc<Self> {
        Arc::new(Countdown {
            left: AtomicIsize::new(n as isize),
            zero: Notify::new(),
        })
    }

    /// Counts one down; the last one wakes the waiter (`notify_one` keeps a permit if it is not
    /// waiting yet).
    fn done(&self) {
        if self.left.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.zero.notify_one();
        }
    }

    async fn wait(&self) {
        self.zero.notified().await
    }
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
        Op::SimultaneousAfterFunc | Op::Sleep => {
            let d = if op == Op::Sleep {
                Duration::from_nanos(1)
            } else {
                Duration::ZERO
            };
            let wg = Countdown::new(n);
            for _ in 0..n {
                let wg = wg.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(d).await;
                    wg.done();
                });
            }
            wg.wait().await;
        }
        Op::StartStop => {
            let timers = idle_sleeps(n).await;
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
            let mut timers = idle_sleeps(Op::AdjustTimers.timer_ops(n)).await;
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
        let garbage = rt.block_on(idle_sleeps(garbage));
        CtState { rt, garbage }
    }
}

impl Drop for CtState {
    fn drop(&mut self) {
        let g = std::mem::take(&mut self.garbage);
        self.rt.block_on(async move { drop(g) });
    }
}

/// `run_parallel` for the multi-thread runtime: one task per core instead of one thread.
fn run_mt(
    rt: &tokio::runtime::Runtime,
    op: Op,
    tasks: usize,
    iters: u64,
    garbage: usize,
    n: usize,
) -> Duration {
    use tokio::sync::Barrier;
    let next = Arc::new(AtomicU64::new(0));
    let start = Arc::new(Barrier::new(tasks + 1));
    let end = Arc::new(Barrier::new(tasks + 1));
    let teardown = Arc::new(Barrier::new(tasks + 1));
    rt.block_on(async {
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let (next, start, end, teardown) =
                    (next.clone(), start.clone(), end.clone(), teardown.clone());
                tokio::spawn(async move {
                    let state = idle_sleeps(garbage).await;
                    start.wait().await;
                    while next.fetch_add(1, Ordering::Relaxed) < iters {
                        tokio_body(op, n).await;
                    }
                    end.wait().await;
                    teardown.wait().await;
                    drop(state);
                })
            })
            .collect();
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

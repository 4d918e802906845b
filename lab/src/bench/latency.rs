//! Go's two lateness benchmarks, BenchmarkParallelTimerLatency and BenchmarkStaggeredTickerLatency
//! (golang.org/issue/38860), with threads, for gotimer and crossbeam, and the parts that the task
//! versions ([`super::tasks`]: tokio and the other async timers) share with them. They report Go's
//! `avg-late-ns` and `max-late-ns`: how long after its due time each timer was observed.
//!
//! Differences from Go, by engine:
//! - gotimer, ParallelTimerLatency: `after_func` callbacks run on gotimer's callback threads, where
//!   Go runs each in a new goroutine. Go's `warmupScheduler` becomes as many simultaneous spinning
//!   callbacks, so that the pool has its threads before the clock starts.
//! - StaggeredTickerLatency: each of Go's ticker goroutines is an OS thread here (for gotimer and
//!   crossbeam); the kernel shares the cores between them as Go's scheduler shares its Ps.
//! - crossbeam has no callback timer: in ParallelTimerLatency the main thread makes each
//!   `after(1ms)` channel and hands it to a waiter thread started beforehand, which blocks on it.
//!   Its `tick` is not phase-aligned (after a late tick the next is due a full period later), where
//!   Go's and gotimer's tickers keep to `start + k·period`.
//! - The task engines (tokio-mt, gotimer-async, async-io, futures-timer): see [`super::tasks`].
//! - tokio current-thread is left out: with one thread, the timers cannot be served by another
//!   thread while the creator spins, which is what these benchmarks measure.

use super::harness::{do_work, launch, summarize, BenchTime, LateSlot, Round, Timed, WaitGroup};
use super::{tasks, Engine};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// ParallelTimerLatency's timer delay.
const PARALLEL_DELAY: Duration = Duration::from_millis(1);
/// StaggeredTickerLatency's ticker period.
pub const STAGGERED_DELAY: Duration = Duration::from_millis(3);

/// BenchmarkParallelTimerLatency. `gmp` is Go's GOMAXPROCS (the cores); None when below 2, where Go
/// skips it too.
pub fn parallel(engine: Engine, bt: BenchTime, gmp: usize) -> Option<Timed> {
    if gmp < 2 {
        return None;
    }
    let timer_count = gmp - 1;
    let m = match engine {
        Engine::Gotimer => launch(bt, |n| parallel_gotimer(n, gmp, timer_count)),
        Engine::Crossbeam => launch(bt, |n| parallel_crossbeam(n, timer_count)),
        Engine::TokioCt => return None,
        Engine::TokioMt | Engine::GotimerAsync | Engine::AsyncIo | Engine::FuturesTimer => {
            return tasks::parallel(engine, bt, gmp)
        }
    };
    Some(m)
}

/// Spins until `count` reaches `target`.
fn spin_until(count: &AtomicUsize, target: usize) {
    while count.load(Ordering::Acquire) < target {
        std::hint::spin_loop();
    }
}

/// Go's `warmupScheduler` for gotimer: `threads` callbacks that all spin at once, so the callback
/// pool has that many threads before the clock starts.
fn warmup_gotimer(threads: usize) {
    let wg = Arc::new(WaitGroup::new(threads));
    let count = Arc::new(AtomicUsize::new(0));
    for _ in 0..threads {
        let (wg, count) = (wg.clone(), count.clone());
        gotimer::after_func(Duration::ZERO, move || {
            count.fetch_add(1, Ordering::AcqRel);
            spin_until(&count, threads);
            do_work(Duration::from_millis(1));
            wg.done();
        });
    }
    wg.wait();
}

/// What ParallelTimerLatency's timers share: each one's lateness, and how many have fired in this
/// round (every callback spins until the last has fired, as Go's do).
pub(super) struct Fired {
    stats: Vec<LateSlot>,
    count: AtomicUsize,
}

impl Fired {
    pub(super) fn new(timers: usize) -> Arc<Fired> {
        let stats = (0..timers).map(|_| LateSlot::default()).collect();
        Arc::new(Fired {
            stats,
            count: AtomicUsize::new(0),
        })
    }

    /// Timer `j`, due at `expected`, has fired.
    pub(super) fn fire(&self, j: usize, expected: Instant) {
        self.stats[j].record(expected);
        self.count.fetch_add(1, Ordering::AcqRel);
    }

    pub(super) fn all(&self) -> bool {
        self.count.load(Ordering::Acquire) >= self.stats.len()
    }
}

/// Go's loop, the same for every engine: `n` times, `arm(j, expected, wg)` starts timer `j` of
/// [`PARALLEL_DELAY`], whose callback calls [`Fired::fire`], waits for [`Fired::all`] and then
/// `wg.done()`; the benchmark thread spins until all have fired, waits for the callbacks and works
/// for 1 ms.
pub(super) fn parallel_rounds(
    n: u64,
    fired: &Fired,
    mut arm: impl FnMut(usize, Instant, Arc<WaitGroup>),
) -> Round {
    let timers = fired.stats.len();
    do_work(Duration::from_millis(30));
    let start = Instant::now();
    for _ in 0..n {
        let wg = Arc::new(WaitGroup::new(timers));
        fired.count.store(0, Ordering::Release);
        for j in 0..timers {
            arm(j, Instant::now() + PARALLEL_DELAY, wg.clone());
        }
        spin_until(&fired.count, timers);
        wg.wait();
        do_work(Duration::from_millis(1));
    }
    Round {
        elapsed: start.elapsed(),
        late: Some(summarize(&fired.stats)),
    }
}

fn parallel_gotimer(n: u64, gmp: usize, timer_count: usize) -> Round {
    let fired = Fired::new(timer_count);
    warmup_gotimer(gmp);
    parallel_rounds(n, &fired, |j, expected, wg| {
        let fired = fired.clone();
        gotimer::after_func(PARALLEL_DELAY, move || {
            fired.fire(j, expected);
            spin_until(&fired.count, timer_count);
            wg.done();
        });
    })
}

fn parallel_crossbeam(n: u64, timer_count: usize) -> Round {
    type Job = (
        crossbeam_channel::Receiver<Instant>,
        Instant,
        Arc<WaitGroup>,
    );
    let fired = Fired::new(timer_count);
    let (jobs, waiters): (Vec<_>, Vec<_>) = (0..timer_count)
        .map(|j| {
            let (tx, rx) = crossbeam_channel::bounded::<Job>(1);
            let fired = fired.clone();
            let waiter = std::thread::spawn(move || {
                for (timer, expected, wg) in rx {
                    let _ = timer.recv();
                    fired.fire(j, expected);
                    spin_until(&fired.count, timer_count);
                    wg.done();
                }
            });
            (tx, waiter)
        })
        .unzip();
    let round = parallel_rounds(n, &fired, |j, expected, wg| {
        let timer = crossbeam_channel::after(PARALLEL_DELAY);
        jobs[j].send((timer, expected, wg)).expect("waiter alive");
    });
    drop(jobs);
    for w in waiters {
        let _ = w.join();
    }
    round
}

/// BenchmarkStaggeredTickerLatency/work-dur=`work`/tickers-per-P=`per_p`: `gmp * per_p` tickers of
/// period 3 ms, started `3ms / gmp` of spinning apart, each observed by its own thread (or task)
/// that spins for `work` after each tick, for `b.N` ticks.
pub fn staggered(
    engine: Engine,
    bt: BenchTime,
    gmp: usize,
    work: Duration,
    per_p: usize,
) -> Option<Timed> {
    if gmp < 2 {
        return None;
    }
    let count = gmp * per_p;
    let m = match engine {
        Engine::Gotimer => launch(bt, |n| {
            warmup_gotimer(gmp);
            staggered_threads(n, gmp, count, work, |d| {
                let t = gotimer::Ticker::new(d);
                move || {
                    let _ = t.c().recv();
                }
            })
        }),
        Engine::Crossbeam => launch(bt, |n| {
            staggered_threads(n, gmp, count, work, |d| {
                let t = crossbeam_channel::tick(d);
                move || {
                    let _ = t.recv();
                }
            })
        }),
        Engine::TokioCt => return None,
        Engine::TokioMt | Engine::GotimerAsync | Engine::AsyncIo | Engine::FuturesTimer => {
            return tasks::staggered(engine, bt, gmp, work, per_p)
        }
    };
    Some(m)
}

/// The thread version: `make_ticker(period)` starts a ticker and returns a closure that waits for
/// its next tick.
fn staggered_threads<W: FnMut() + Send>(
    n: u64,
    gmp: usize,
    count: usize,
    work: Duration,
    make_ticker: impl Fn(Duration) -> W,
) -> Round {
    let stats: Vec<LateSlot> = (0..count).map(|_| LateSlot::default()).collect();
    let start = Instant::now();
    std::thread::scope(|s| {
        for slot in &stats {
            do_work(STAGGERED_DELAY / gmp as u32);
            let mut expected = Instant::now() + STAGGERED_DELAY;
            let mut wait_tick = make_ticker(STAGGERED_DELAY);
            s.spawn(move || {
                for _ in 0..n {
                    wait_tick();
                    slot.record(expected);
                    expected += STAGGERED_DELAY;
                    do_work(work);
                }
            });
        }
    });
    Round {
        elapsed: start.elapsed(),
        late: Some(summarize(&stats)),
    }
}

//! The ns/op benchmarks of Go's `src/time/sleep_test.go` and `tick_test.go`, ported to gotimer.
//!
//! The hot-path operations (Stop, Reset, Ticker, TickerReset, the AfterFunc chain) are the ones
//! of `gotimer/benches/ops/mod.rs`, which the crate's criterion bench and its callgrind example run
//! too. Each runs inside Go's `benchmark` helper shape (see [`super::harness::run_parallel`]): one thread
//! per core, each first creating 2^15 idle `after_func(1h)` timers in its own shard (Go: per P, with
//! `AfterFunc(Hour, nil)`), then calling the body with n = 1000 as many times as `b.N` says, shared
//! out between the threads. ns/op is the time of one body call, as in Go.
//!
//! Where Go uses goroutines the port uses threads:
//! - SimultaneousAfterFunc: Go's `AfterFunc` callback runs in a fresh goroutine; gotimer's runs on
//!   its callback thread pool. The WaitGroup is a counter whose last `done` unparks the waiter.
//! - Sleep: Go starts 1000 goroutines that each `Sleep(1ns)`. Starting an OS thread costs ~10-20 µs
//!   against ~0.3 µs for a goroutine, so counting it would measure the kernel's `clone`, not the
//!   timer: each benchmark thread instead starts 1000 parked sleeper threads before the clock starts
//!   (the garbage phase), and one op unparks all 1000, each calls `gotimer::sleep(1ns)` (the OS's
//!   sleep: a sleeping thread needs no timer entry) and counts down the WaitGroup.
//!
//! Go 1.23+ runs After, Stop, Reset and the ticker benchmarks once per `pb.Next()`; the ports keep
//! the older shape (n per body call) for all, and the lab divides by the timer operations of each
//! (see [`super::catalog`]). Ticker, TickerReset and TickerResetNaive make one `Ticker::new(1ns)`
//! per body call, as Go before 1.23 did per op; AdjustTimers does 10 n operations, as Go's
//! AdjustTimers10000 does 10000.

use super::harness::{launch, run_parallel, BenchTime, Round, Timed, WaitGroup};
use super::{ops, Op};
use gotimer::{after, after_func, Ticker, Timer};
use ops::{HOUR, TICK};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Idle timers created by each benchmark thread before the clock starts (Go: `1<<15` per P).
pub const GARBAGE: usize = 1 << 15;
/// The n passed to each body call: one op is 1000 timer operations, as in Go.
pub const N: usize = 1000;

/// Runs one ported benchmark with gotimer; `garbage` and `n` are [`GARBAGE`] and [`N`] except in
/// smoke tests.
pub fn run(op: Op, bt: BenchTime, threads: usize, garbage: usize, n: usize) -> Timed {
    launch(bt, |iters| {
        Round::from(run_parallel(
            threads,
            iters,
            || State::new(op, garbage, n),
            |s| body(op, s, n),
        ))
    })
}

/// What one benchmark thread holds: its garbage timers, and for Sleep its sleeper threads.
struct State {
    garbage: Vec<Timer>,
    sleepers: Option<Sleepers>,
}

impl State {
    fn new(op: Op, garbage: usize, n: usize) -> Self {
        State {
            garbage: (0..garbage).map(|_| after_func(HOUR, || {})).collect(),
            sleepers: (op == Op::Sleep).then(|| Sleepers::start(n)),
        }
    }
}

impl Drop for State {
    fn drop(&mut self) {
        for t in &self.garbage {
            t.stop();
        }
    }
}

fn body(op: Op, state: &mut State, n: usize) {
    match op {
        Op::AfterFunc => ops::chain!(n as u64 + 1),
        Op::After => {
            for _ in 0..n {
                let _ = after(Duration::from_nanos(1)).recv();
            }
        }
        Op::Stop => {
            for _ in 0..n {
                ops::timer!(Duration::from_secs(1));
            }
        }
        Op::SimultaneousAfterFunc => {
            let wg = Arc::new(WaitGroup::new(n));
            for _ in 0..n {
                let wg = wg.clone();
                after_func(Duration::ZERO, move || wg.done());
            }
            wg.wait();
        }
        Op::StartStop => {
            let timers: Vec<Timer> = (0..n).map(|_| after_func(HOUR, || {})).collect();
            for t in &timers {
                t.stop();
            }
        }
        Op::Reset => {
            let t = Timer::new(HOUR);
            for _ in 0..n {
                ops::reset!(t, HOUR);
            }
            t.stop();
        }
        Op::Sleep => state
            .sleepers
            .as_ref()
            .expect("Sleep state has sleepers")
            .round(),
        Op::Ticker => {
            let t = Ticker::new(TICK);
            for _ in 0..n {
                ops::ticker_recv!(t);
            }
            t.stop();
        }
        Op::TickerReset => {
            let t = Ticker::new(TICK);
            for _ in 0..n {
                ops::ticker_reset!(t);
            }
            t.stop();
        }
        Op::TickerResetNaive => {
            let mut t = Ticker::new(TICK);
            for _ in 0..n {
                t.stop();
                t = Ticker::new(Duration::from_nanos(2));
            }
            t.stop();
        }
        Op::AdjustTimers => {
            let timers: Vec<Timer> = (0..Op::AdjustTimers.timer_ops(n))
                .map(|_| after_func(HOUR, || {}))
                .collect();
            if let Some(last) = timers.last() {
                last.reset(Duration::from_nanos(1));
            }
            gotimer::sleep(Duration::from_micros(1));
            for t in &timers {
                t.stop();
            }
        }
    }
}

/// The stand-in for BenchmarkSleep's 1000 goroutines: parked threads, each woken once per op to
/// `gotimer::sleep(1ns)` and count down the WaitGroup.
struct Sleepers {
    shared: Arc<SleepShared>,
    threads: Vec<JoinHandle<()>>,
}

struct SleepShared {
    /// Bumped once per op; `u64::MAX` tells the sleepers to exit.
    generation: AtomicU64,
    wg: WaitGroup,
}

impl Sleepers {
    fn start(n: usize) -> Self {
        let shared = Arc::new(SleepShared {
            generation: AtomicU64::new(0),
            wg: WaitGroup::new(0),
        });
        let threads = (0..n)
            .map(|_| {
                let shared = shared.clone();
                std::thread::Builder::new()
                    .stack_size(64 * 1024)
                    .spawn(move || {
                        let mut seen = 0;
                        loop {
                            let g = shared.generation.load(Ordering::Acquire);
                            if g == u64::MAX {
                                return;
                            }
                            if g == seen {
                                std::thread::park();
                                continue;
                            }
                            seen = g;
                            gotimer::sleep(Duration::from_nanos(1));
                            shared.wg.done();
                        }
                    })
                    .expect("spawn a sleeper thread")
            })
            .collect();
        Sleepers { shared, threads }
    }

    fn round(&self) {
        self.shared.wg.add(self.threads.len());
        self.shared.generation.fetch_add(1, Ordering::AcqRel);
        for t in &self.threads {
            t.thread().unpark();
        }
        self.shared.wg.wait();
    }
}

impl Drop for Sleepers {
    fn drop(&mut self) {
        self.shared.generation.store(u64::MAX, Ordering::Release);
        for t in &self.threads {
            t.thread().unpark();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

//! The hot paths that Go's own timer benchmarks exercise, one criterion benchmark each, so that a
//! regression shows up in `cargo bench -p gotimer --bench hotpaths` (criterion reports the change
//! against the last run on the same machine). The operations are `ops/mod.rs`: the lab's `bench`
//! runs them in Go's harness against Go, and `examples/hotpath.rs` counts their instructions under
//! callgrind.
//!
//! - `timer/new_stop`: `Timer::new(1 h)`, `stop`, drop, never waited on (Go: BenchmarkStop). The
//!   timer stays parked: no channel, no wheel node.
//! - `timer/new_c_stop`: the same with `c()` asked for first, so the timer is armed: its channel is
//!   made and it is filed in the wheel (the cost of a timeout somebody waits on).
//! - `timer/reset`: `Timer::reset(1 h)` of one pending timer (BenchmarkReset): the lock-free path.
//! - `ticker/reset`: `Ticker::reset(2 ns)` of one ticker (BenchmarkTickerReset).
//! - `ticker/recv_1ns`: `c().recv()` from a 1 ns `Ticker` (BenchmarkTicker): `c()` fires the due
//!   tick on the calling thread.
//! - `after_func/new_stop`: `after_func(1 h)` + `stop` (BenchmarkStartStop's unit).
//! - `after_func/chain_1000`: a chain of 1000 `after_func(0)`, each scheduled by the previous one's
//!   callback (BenchmarkAfterFunc): run-next keeps the chain on one callback thread.
//! - `after_func/simultaneous_1000`: 1000 `after_func(0)` from this thread, then wait for all
//!   (BenchmarkSimultaneousAfterFunc): the pool's queue and wake-ups.

mod ops;

use criterion::{criterion_group, criterion_main, Criterion};
use crossbeam_channel::bounded;
use ops::{HOUR, TICK};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn timers(c: &mut Criterion) {
    let mut g = c.benchmark_group("timer");
    g.bench_function("new_stop", |b| b.iter(|| ops::timer!(HOUR)));
    g.bench_function("new_c_stop", |b| b.iter(|| ops::timer_armed!(HOUR)));
    let t = gotimer::Timer::new(HOUR);
    g.bench_function("reset", |b| b.iter(|| ops::reset!(t, HOUR)));
    g.finish();
}

fn tickers(c: &mut Criterion) {
    let mut g = c.benchmark_group("ticker");
    let t = gotimer::Ticker::new(TICK);
    g.bench_function("reset", |b| b.iter(|| ops::ticker_reset!(t)));
    drop(t);
    let t = gotimer::Ticker::new(TICK);
    g.bench_function("recv_1ns", |b| b.iter(|| ops::ticker_recv!(t)));
    g.finish();
}

fn callbacks(c: &mut Criterion) {
    let mut g = c.benchmark_group("after_func");
    g.bench_function("new_stop", |b| b.iter(|| ops::after_func!(HOUR)));
    g.bench_function("chain_1000", |b| b.iter(|| ops::chain!(1000)));
    let (tx, rx) = bounded(1);
    g.bench_function("simultaneous_1000", |b| {
        b.iter(|| {
            let left = Arc::new(AtomicUsize::new(1000));
            for _ in 0..1000 {
                let (left, done) = (left.clone(), tx.clone());
                gotimer::after_func(Duration::ZERO, move || {
                    if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                        let _ = done.send(());
                    }
                });
            }
            rx.recv().expect("all ran");
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = timers, tickers, callbacks
}
criterion_main!(benches);

//! The system clock's hot paths, each written once. Three drivers run them: the criterion bench
//! `benches/hotpaths.rs` (time per operation, against the last run), `examples/hotpath.rs`
//! (instructions per operation under callgrind) and the lab's ports of Go's benchmarks
//! (`lab/src/bench/ported.rs`, in Go's harness, against Go). Each driver includes this file with
//! `#[path]` and calls `ops::NAME!(...)`.
//!
//! They are macros, not functions, so that each expands in its caller's body: the compiler places
//! and inlines the code (the drop glue of the handles, above all) exactly as it would if the
//! caller had written it out. A function in this module would sit in a codegen unit of its own,
//! and the instruction counts of `examples/hotpath.rs` would move by up to 4 % with no change in
//! the library. Every operation `black_box`es its inputs and results, so that the optimiser
//! cannot drop the work it measures.

// Each driver uses only some of the operations.
#![allow(unused_macros, unused_imports)]

/// The deadline of a timer that never fires while it is measured.
pub const HOUR: std::time::Duration = std::time::Duration::from_secs(3600);
/// The ticker period of `ticker_recv` and the first of `ticker_reset` (Go: `NewTicker(1)`).
pub const TICK: std::time::Duration = std::time::Duration::from_nanos(1);

/// `Timer::new(d)`, `stop`, drop, never waited on: the timer stays parked (no channel, no wheel
/// node). Go: `NewTimer(d).Stop()` (BenchmarkStop).
macro_rules! timer {
    ($d:expr) => {{
        let t = gotimer::Timer::new(std::hint::black_box($d));
        std::hint::black_box(t.stop());
    }};
}
pub(crate) use timer;

/// [`timer`] with `c()` asked for before the stop: armed, its channel made and its node filed in
/// the wheel (the cost of a timeout somebody waits on).
macro_rules! timer_armed {
    ($d:expr) => {{
        let t = gotimer::Timer::new(std::hint::black_box($d));
        std::hint::black_box(t.c());
        std::hint::black_box(t.stop());
    }};
}
pub(crate) use timer_armed;

/// `Timer::reset(d)` of the pending timer `t`: the lock-free path (BenchmarkReset).
macro_rules! reset {
    ($t:expr, $d:expr) => {{
        std::hint::black_box($t.reset(std::hint::black_box($d)));
    }};
}
pub(crate) use reset;

/// `after_func(d, || {})`, `stop`, drop (BenchmarkStartStop's unit).
macro_rules! after_func {
    ($d:expr) => {{
        let t = gotimer::after_func(std::hint::black_box($d), || {});
        std::hint::black_box(t.stop());
    }};
}
pub(crate) use after_func;

/// `c().recv()` of the [`TICK`] ticker `t`: `c()` fires the due tick on the calling thread
/// (BenchmarkTicker).
macro_rules! ticker_recv {
    ($t:expr) => {{
        std::hint::black_box($t.c().recv().expect("a tick"));
    }};
}
pub(crate) use ticker_recv;

/// `Ticker::reset(2 ns)` of the ticker `t` (BenchmarkTickerReset).
macro_rules! ticker_reset {
    ($t:expr) => {
        $t.reset(std::hint::black_box(std::time::Duration::from_nanos(2)))
    };
}
pub(crate) use ticker_reset;

/// A chain of `links` `after_func(0)` calls, the first from the calling thread and each next one
/// from the previous one's callback, then a wake-up of the caller (BenchmarkAfterFunc, whose
/// chain of n makes n + 1 calls): run-next keeps the chain on one callback thread.
macro_rules! chain {
    ($links:expr) => {{
        use std::sync::atomic::{AtomicU64, Ordering};
        use std::sync::Arc;
        fn link(left: Arc<AtomicU64>, done: crossbeam_channel::Sender<()>) {
            if left.fetch_sub(1, Ordering::Relaxed) > 0 {
                gotimer::after_func(std::time::Duration::ZERO, move || {
                    link(left.clone(), done.clone())
                });
            } else {
                let _ = done.send(());
            }
        }
        let (tx, rx) = crossbeam_channel::bounded(1);
        link(Arc::new(AtomicU64::new($links)), tx);
        rx.recv().expect("the chain ends");
    }};
}
pub(crate) use chain;

/// `future::sleep(d)`, first poll (registered in the wheel), drop: a task's timeout that loses its
/// race, tokio's `Sleep` create + poll + drop.
macro_rules! sleep_poll_drop {
    ($d:expr) => {{
        let mut s = gotimer::future::sleep(std::hint::black_box($d));
        let waker = std::task::Waker::noop();
        let polled = std::future::Future::poll(
            std::pin::Pin::new(&mut s),
            &mut std::task::Context::from_waker(waker),
        );
        std::hint::black_box(polled.is_pending());
    }};
}
pub(crate) use sleep_poll_drop;

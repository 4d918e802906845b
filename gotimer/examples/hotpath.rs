//! The system clock's hot paths, one at a time, for instruction counts under callgrind:
//!
//! ```text
//! cargo build --release -p gotimer --example hotpath
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/hotpath timer 100000
//! ```
//!
//! `timer`: `Timer::new(1 h)` + `stop` + drop (never waited on: parked); `timer_armed`: the same
//! with `c()` asked for before the stop (armed: channel, wheel node); `reset`: `Timer::reset(1 h)`
//! on one timer; `after_func`: `after_func(1 h, || {})` + `stop` + drop; `ticker_recv`: one
//! `Ticker::new(1 ns)`, then `c().recv()` per operation (the tick fired by `c()` itself);
//! `ticker_reset`: `Ticker::reset(2 ns)` on one ticker; `after_func_now`: `after_func(0)` from a
//! callback thread, each running the next, the chain of Go's BenchmarkAfterFunc. Each first warms
//! up (runtime started, site interned, slab page allocated), then runs `n` operations; compare two
//! builds by the difference of the totals for two values of `n`, which leaves the start-up out.
use std::hint::black_box;
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);

fn main() {
    let mut args = std::env::args().skip(1);
    let op = args.next().unwrap_or_else(|| "timer".into());
    let n: u64 = args
        .next()
        .map(|s| s.parse().expect("n: a count of operations"))
        .unwrap_or(100_000);
    let run = |f: &dyn Fn()| {
        for _ in 0..1000 {
            f();
        }
        for _ in 0..n {
            f();
        }
    };
    match op.as_str() {
        "timer" => run(&|| {
            let t = gotimer::Timer::new(black_box(HOUR));
            black_box(t.stop());
        }),
        "reset" => {
            let t = gotimer::Timer::new(HOUR);
            run(&|| {
                black_box(t.reset(black_box(HOUR)));
            })
        }
        "timer_armed" => run(&|| {
            let t = gotimer::Timer::new(black_box(HOUR));
            black_box(t.c());
            black_box(t.stop());
        }),
        "after_func" => run(&|| {
            let t = gotimer::after_func(black_box(HOUR), || {});
            black_box(t.stop());
        }),
        "ticker_recv" => {
            let t = gotimer::Ticker::new(Duration::from_nanos(1));
            run(&|| {
                black_box(t.c().recv().expect("a tick"));
            })
        }
        "ticker_reset" => {
            let t = gotimer::Ticker::new(Duration::from_nanos(1));
            run(&|| t.reset(black_box(Duration::from_nanos(2))))
        }
        "after_func_now" => {
            // One chain of 1000 + n links: each callback schedules the next with after_func(0).
            use std::sync::atomic::{AtomicU64, Ordering};
            use std::sync::Arc;
            fn link(left: Arc<AtomicU64>, done: crossbeam_channel::Sender<()>) {
                if left.fetch_sub(1, Ordering::Relaxed) > 0 {
                    gotimer::after_func(Duration::ZERO, move || link(left.clone(), done.clone()));
                } else {
                    let _ = done.send(());
                }
            }
            let (tx, rx) = crossbeam_channel::bounded(1);
            link(Arc::new(AtomicU64::new(1000 + n)), tx);
            rx.recv().expect("the chain ends");
        }
        other => panic!(
            "unknown op {other:?}: timer, timer_armed, reset, after_func, ticker_recv, \
             ticker_reset or after_func_now"
        ),
    }
}

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
//! callback thread, each running the next, the chain of Go's BenchmarkAfterFunc;
//! `sleep_poll_drop`: `future::sleep(1 h)`, one poll, drop (a task's timeout that lost its race);
//! `sleep_1ns_ready`: `future::sleep(1 ns)`, one poll (ready: the deadline passed), drop (Go's
//! `Sleep(1ns)` in a task, BenchmarkSleep1000's body). The operations
//! are `benches/ops/mod.rs`, shared with the criterion bench and the lab. Each first warms up
//! (runtime started, site interned, slab page allocated), then runs `n` operations; compare two
//! builds by the difference of the totals for two values of `n`, which leaves the start-up out.

#[path = "../benches/ops/mod.rs"]
mod ops;

use ops::{HOUR, TICK};

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
        "timer" => run(&|| ops::timer!(HOUR)),
        "reset" => {
            let t = gotimer::Timer::new(HOUR);
            run(&|| ops::reset!(t, HOUR))
        }
        "timer_armed" => run(&|| ops::timer_armed!(HOUR)),
        "after_func" => run(&|| ops::after_func!(HOUR)),
        "sleep_poll_drop" => run(&|| ops::sleep_poll_drop!(HOUR)),
        "sleep_1ns_ready" => run(&|| ops::sleep_poll_drop!(std::time::Duration::from_nanos(1))),
        "ticker_recv" => {
            let t = gotimer::Ticker::new(TICK);
            run(&|| ops::ticker_recv!(t))
        }
        "ticker_reset" => {
            let t = gotimer::Ticker::new(TICK);
            run(&|| ops::ticker_reset!(t))
        }
        // One chain of 1000 + n links: each callback schedules the next with after_func(0).
        "after_func_now" => ops::chain!(1000 + n),
        other => panic!(
            "unknown op {other:?}: timer, timer_armed, reset, after_func, ticker_recv, \
             ticker_reset, after_func_now, sleep_poll_drop or sleep_1ns_ready"
        ),
    }
}

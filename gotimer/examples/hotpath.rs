//! The system clock's hot paths, one at a time, for instruction counts under callgrind:
//!
//! ```text
//! cargo build --release -p gotimer --example hotpath
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/hotpath timer 100000
//! ```
//!
//! `timer`: `Timer::new(1 h)` + `stop` + drop; `reset`: `Timer::reset(1 h)` on one timer;
//! `after_func`: `after_func(1 h, || {})` + `stop` + drop. Each first warms up (runtime started, site
//! interned, slab page allocated), then runs `n` operations; compare two builds by the difference of
//! the totals for two values of `n`, which leaves the start-up out.
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
        "after_func" => run(&|| {
            let t = gotimer::after_func(black_box(HOUR), || {});
            black_box(t.stop());
        }),
        other => panic!("unknown op {other:?}: timer, reset or after_func"),
    }
}

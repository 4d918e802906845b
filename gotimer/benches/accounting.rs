//! What per-call-site accounting costs on the hot path: create + stop + drop.
//!
//! Accounting is compiled in or out with the `profile` feature (on by default), so the comparison is
//! two runs of this same benchmark, one with it and one without:
//!
//! ```text
//! cargo bench -p gotimer --bench accounting                        # with accounting
//! cargo bench -p gotimer --bench accounting --no-default-features  # without
//! ```
//!
//! Both runs use the same benchmark names, so criterion compares the second run with the first
//! ("change: +x%") and that figure is the overhead (with the sign flipped: the second run is the one
//! without accounting). The target is at most 5% slower with accounting.
//!
//! The benchmarks:
//! - `timer_new_stop`: `Timer::new(1 h)`, `stop`, drop: a channel timer that is created and cancelled.
//! - `after_func_stop`: `after_func(1 h, || {})`, `stop`, drop: a callback timer created and cancelled.
//!
//! Each runs on the calling thread, with one call site, so the per-thread site cache is warm, as it
//! is in a loop that creates timers at the same line.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);

fn create_stop(c: &mut Criterion) {
    let accounting = if cfg!(feature = "profile") {
        "with accounting (feature profile)"
    } else {
        "without accounting (--no-default-features)"
    };
    eprintln!("accounting bench: {accounting}");
    // Start the runtime (driver thread, shards) before measuring.
    gotimer::Timer::new(HOUR).stop();

    c.bench_function("timer_new_stop", |b| {
        b.iter(|| {
            let t = gotimer::Timer::new(black_box(HOUR));
            black_box(t.stop());
        })
    });
    c.bench_function("after_func_stop", |b| {
        b.iter(|| {
            let t = gotimer::after_func(black_box(HOUR), || {});
            black_box(t.stop());
        })
    });
}

criterion_group!(benches, create_stop);
criterion_main!(benches);

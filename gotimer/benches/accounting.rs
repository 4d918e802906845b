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
//! ("change: −x%": the run without accounting is x% faster). The target is at most 5% slower with
//! accounting.
//!
//! The benchmarks:
//! - `timer_new_stop`: `Timer::new(1 h)`, `stop`, drop: a channel timer that is created and cancelled.
//! - `after_func_stop`: `after_func(1 h, || {})`, `stop`, drop: a callback timer created and cancelled.
//!
//! Each runs on the calling thread, with one call site, so the per-thread site cache is warm, as it
//! is in a loop that creates timers at the same line.
//!
//! Each is measured twice: in wall-clock time (`.../wall`), and in the CPU time of the benchmark
//! thread (`.../cpu`, Linux's `CLOCK_THREAD_CPUTIME_ID`). On a machine shared with other work the
//! wall-clock figures swing by ±30% from run to run, because the thread is preempted; the CPU-time
//! figures leave preemption out and are the ones to compare across the two builds. For a verdict,
//! alternate the two builds a few times and compare the lowest (or median) figures.

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);

/// CPU time of the calling thread, in nanoseconds (wall-clock time where there is no such clock).
struct ThreadCpu;

#[cfg(target_os = "linux")]
fn thread_cpu_ns() -> u64 {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec (64-bit Linux layout); the clock id is Linux's.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(not(target_os = "linux"))]
fn thread_cpu_ns() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_nanos() as u64
}

static WALL: WallTime = WallTime;

impl Measurement for ThreadCpu {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        WALL.formatter()
    }
}

fn create_stop<M: Measurement + 'static>(c: &mut Criterion<M>, clock: &str) {
    // Start the runtime (driver thread, shards) before measuring.
    gotimer::Timer::new(HOUR).stop();

    c.bench_function(&format!("timer_new_stop/{clock}"), |b| {
        b.iter(|| {
            let t = gotimer::Timer::new(black_box(HOUR));
            black_box(t.stop());
        })
    });
    c.bench_function(&format!("after_func_stop/{clock}"), |b| {
        b.iter(|| {
            let t = gotimer::after_func(black_box(HOUR), || {});
            black_box(t.stop());
        })
    });
}

fn wall(c: &mut Criterion) {
    let accounting = if cfg!(feature = "profile") {
        "with accounting (feature profile)"
    } else {
        "without accounting (--no-default-features)"
    };
    eprintln!("accounting bench: {accounting}");
    create_stop(c, "wall");
}

fn cpu(c: &mut Criterion<ThreadCpu>) {
    create_stop(c, "cpu");
}

criterion_group!(wall_group, wall);
criterion_group! {
    name = cpu_group;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = cpu
}
criterion_main!(wall_group, cpu_group);

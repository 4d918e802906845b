//! The shape of Go's benchmark harness, in Rust: `-benchtime`, the adaptive choice of `b.N`
//! (`testing.B.launch`), `b.RunParallel` over one thread per core, the WaitGroup, `doWork`, and the
//! lateness statistics that the latency benchmarks report.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Barrier;
use std::thread::Thread;
use std::time::{Duration, Instant};

/// `-benchtime`: a duration (`1s`, `500ms`, `1.5s`, `2m`) or a fixed count (`100x`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BenchTime {
    Time(Duration),
    Iters(u64),
}

impl BenchTime {
    /// Parses Go's `-benchtime` syntax.
    pub fn parse(s: &str) -> Result<BenchTime, String> {
        let s = s.trim();
        if let Some(n) = s.strip_suffix('x') {
            return match n.parse::<u64>() {
                Ok(n) if n > 0 => Ok(BenchTime::Iters(n)),
                _ => Err(format!(
                    "invalid count {s:?}: want a positive integer followed by x"
                )),
            };
        }
        parse_go_duration(s)
            .filter(|d| !d.is_zero())
            .map(BenchTime::Time)
            .ok_or_else(|| format!("invalid benchtime {s:?}: want e.g. 1s, 300ms, 2.5s or 100x"))
    }
}

/// A Go duration string with a single unit: `ns`, `us`, `µs`, `ms`, `s`, `m`, `h`.
pub fn parse_go_duration(s: &str) -> Option<Duration> {
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (num, unit) = s.split_at(split);
    let v: f64 = num.parse().ok()?;
    let unit_ns = match unit {
        "ns" => 1.0,
        "us" | "µs" | "μs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" => 60e9,
        "h" => 3600e9,
        _ => return None,
    };
    Some(Duration::from_nanos((v * unit_ns).round() as u64))
}

/// Go's `time.Duration.String()` for the whole-unit values the benchmark names use (`300µs`, `2ms`).
pub fn go_duration_name(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns.is_multiple_of(1_000_000_000) {
        format!("{}s", ns / 1_000_000_000)
    } else if ns.is_multiple_of(1_000_000) {
        format!("{}ms", ns / 1_000_000)
    } else if ns.is_multiple_of(1_000) {
        format!("{}µs", ns / 1_000)
    } else {
        format!("{ns}ns")
    }
}

/// One run of a benchmark body with `b.N = n`: the timed duration, and lateness if it reports any.
pub struct Round {
    pub elapsed: Duration,
    pub late: Option<Lateness>,
}

impl From<Duration> for Round {
    fn from(elapsed: Duration) -> Self {
        Round {
            elapsed,
            late: None,
        }
    }
}

/// A benchmark's timed result: its last (largest) round, as Go prints it.
#[derive(Clone, Debug, PartialEq)]
pub struct Timed {
    pub iters: u64,
    pub elapsed: Duration,
    pub late: Option<Lateness>,
}

impl Timed {
    /// ns/op as Go computes it: the timed duration over `b.N`.
    pub fn ns_per_op(&self) -> f64 {
        self.elapsed.as_nanos() as f64 / self.iters.max(1) as f64
    }
}

/// Go's `testing.B.launch`: one round with N=1, then, for a time goal, rounds with N predicted from
/// the previous one (1.2x the estimate, at most 100x the last N, at least one more), until a round
/// lasts the goal. `round(n)` runs the body with `b.N = n`.
pub fn launch(bt: BenchTime, mut round: impl FnMut(u64) -> Round) -> Timed {
    let mut n = 1u64;
    let mut r = round(n);
    match bt {
        BenchTime::Iters(want) => {
            if want > 1 {
                n = want;
                r = round(n);
            }
        }
        BenchTime::Time(goal) => {
            while r.elapsed < goal && n < 1_000_000_000 {
                let last = n;
                let prev_ns = (r.elapsed.as_nanos() as u64).max(1);
                let mut next = (goal.as_nanos() * last as u128 / prev_ns as u128) as u64;
                next += next / 5;
                next = next.min(100 * last).max(last + 1).min(1_000_000_000);
                n = next;
                r = round(n);
            }
        }
    }
    Timed {
        iters: n,
        elapsed: r.elapsed,
        late: r.late,
    }
}

/// Go's `b.RunParallel` inside the `benchmark` helper of sleep_test.go: `threads` threads each make
/// their state first (the 2^15 garbage timers, untimed, like Go's before `b.ResetTimer`), then all
/// pull iterations from a shared counter and call `op` until `n` are done. Returns the wall time from
/// the moment all are ready to the moment the last finishes. States are dropped after the clock
/// stops (Go stops its garbage timers after `b.StopTimer`).
pub fn run_parallel<S>(
    threads: usize,
    n: u64,
    setup: impl Fn() -> S + Sync,
    op: impl Fn(&mut S) + Sync,
) -> Duration {
    let next = AtomicU64::new(0);
    let start = Barrier::new(threads + 1);
    let end = Barrier::new(threads + 1);
    let teardown = Barrier::new(threads + 1);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut state = setup();
                start.wait();
                while next.fetch_add(1, Ordering::Relaxed) < n {
                    op(&mut state);
                }
                end.wait();
                teardown.wait();
                drop(state);
            });
        }
        start.wait();
        let t0 = Instant::now();
        end.wait();
        let elapsed = t0.elapsed();
        teardown.wait();
        elapsed
    })
}

/// Threads used by the parallel benchmarks: one per core, as Go's RunParallel with the default
/// GOMAXPROCS.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Go's `sync.WaitGroup` for one waiting thread: `done` from anywhere, `wait` parks until the count
/// reaches zero and the last `done` unparks the waiter.
pub struct WaitGroup {
    count: AtomicUsize,
    waiter: Thread,
}

impl WaitGroup {
    /// A group of `n`, waited on by the calling thread.
    pub fn new(n: usize) -> Self {
        WaitGroup {
            count: AtomicUsize::new(n),
            waiter: std::thread::current(),
        }
    }

    /// Go's `wg.Add(n)`.
    pub fn add(&self, n: usize) {
        self.count.fetch_add(n, Ordering::AcqRel);
    }

    pub fn done(&self) {
        if self.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.waiter.unpark();
        }
    }

    pub fn wait(&self) {
        while self.count.load(Ordering::Acquire) != 0 {
            std::thread::park();
        }
    }
}

/// Go's `doWork`: spins on the clock for `d`.
pub fn do_work(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// The lateness metrics Go reports with `b.ReportMetric`: `avg-late-ns` and `max-late-ns`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lateness {
    pub avg_ns: f64,
    pub max_ns: f64,
}

/// One timer's lateness samples (Go's `stats[j]`), padded to its own cache lines as in Go.
#[repr(align(128))]
#[derive(Default)]
pub struct LateSlot {
    sum_ns: AtomicU64,
    max_ns: AtomicU64,
    count: AtomicU64,
}

impl LateSlot {
    /// Records that a timer due at `expected` fired now (early counts as 0, as in Go).
    pub fn record(&self, expected: Instant) {
        let late = Instant::now().saturating_duration_since(expected);
        self.record_late(late);
    }

    pub fn record_late(&self, late: Duration) {
        let ns = late.as_nanos() as u64;
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
        self.max_ns.fetch_max(ns, Ordering::Relaxed);
    }
}

/// Go's summary over all slots: total lateness over all samples, and the largest.
pub fn summarize(slots: &[LateSlot]) -> Lateness {
    let mut total = 0f64;
    let mut samples = 0f64;
    let mut max = 0u64;
    for s in slots {
        total += s.sum_ns.load(Ordering::Relaxed) as f64;
        samples += s.count.load(Ordering::Relaxed) as f64;
        max = max.max(s.max_ns.load(Ordering::Relaxed));
    }
    Lateness {
        avg_ns: if samples > 0.0 { total / samples } else { 0.0 },
        max_ns: max as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn benchtime_parses_go_syntax() {
        assert_eq!(
            BenchTime::parse("1s"),
            Ok(BenchTime::Time(Duration::from_secs(1)))
        );
        assert_eq!(
            BenchTime::parse("250ms"),
            Ok(BenchTime::Time(Duration::from_millis(250)))
        );
        assert_eq!(
            BenchTime::parse("1.5s"),
            Ok(BenchTime::Time(Duration::from_millis(1500)))
        );
        assert_eq!(BenchTime::parse("100x"), Ok(BenchTime::Iters(100)));
        assert!(BenchTime::parse("0x").is_err());
        assert!(BenchTime::parse("fast").is_err());
        assert!(BenchTime::parse("10").is_err());
    }

    #[test]
    fn duration_names_match_go() {
        assert_eq!(go_duration_name(Duration::from_micros(300)), "300µs");
        assert_eq!(go_duration_name(Duration::from_millis(2)), "2ms");
        assert_eq!(go_duration_name(Duration::from_secs(3)), "3s");
    }

    #[test]
    fn launch_grows_n_like_go() {
        // A body that takes 1 ms per iteration: N goes 1, 100 (capped at 100x), then ~1.2 * goal.
        let mut seen = Vec::new();
        let m = launch(BenchTime::Time(Duration::from_millis(500)), |n| {
            seen.push(n);
            Round::from(Duration::from_millis(n))
        });
        assert_eq!(seen, vec![1, 100, 600]);
        assert_eq!(m.iters, 600);
        assert_eq!(m.ns_per_op(), 1e6);

        let mut seen = Vec::new();
        launch(BenchTime::Iters(7), |n| {
            seen.push(n);
            Round::from(Duration::ZERO)
        });
        assert_eq!(seen, vec![1, 7]);
    }

    #[test]
    fn lateness_is_summed_over_all_samples() {
        let slots: Vec<LateSlot> = (0..2).map(|_| LateSlot::default()).collect();
        slots[0].record_late(Duration::from_nanos(100));
        slots[0].record_late(Duration::from_nanos(300));
        slots[1].record_late(Duration::from_nanos(800));
        let l = summarize(&slots);
        assert_eq!(l.avg_ns, 400.0);
        assert_eq!(l.max_ns, 800.0);
        assert_eq!(summarize(&[]).avg_ns, 0.0);
    }

    #[test]
    fn parallel_runs_every_iteration_once() {
        let done = AtomicU64::new(0);
        run_parallel(
            3,
            50,
            || (),
            |_| {
                done.fetch_add(1, Ordering::Relaxed);
            },
        );
        assert_eq!(done.load(Ordering::Relaxed), 50);
    }
}

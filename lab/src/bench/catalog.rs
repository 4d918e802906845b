//! Every benchmark the lab runs, by what it measures, and the name and unit it has in each
//! generation of Go's `src/time` benchmarks.
//!
//! Go 1.23 reshaped them. Before, the `benchmark(b, func(n int))` helper ran every body with
//! n = 1000, so each ns/op was 1000 timer operations. Since, the helper hands the body a
//! `*testing.PB` and one op is one `pb.Next()`: After, Stop, Reset and the tickers report a single
//! operation, the benchmarks that still do 1000 say so in their names (`AfterFunc1000`,
//! `SimultaneousAfterFunc1000`, `StartStop1000`, `Sleep1000`), Stop and Reset split into
//! `impl=chan` (a channel timer, what `Timer::new` is) and `impl=func` sub-benchmarks, and
//! `AdjustTimers10000` is new. The lab compares ns per *timer operation*: Go's ns/op over the
//! operations in its op, and the ports' likewise.

use super::harness::go_duration_name;
use super::latency::STAGGERED_DELAY;
use std::collections::BTreeSet;
use std::time::Duration;

/// The ns/op benchmarks, by what they do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// A chain of `AfterFunc(0, f)` callbacks, each scheduling the next.
    AfterFunc,
    /// `<-After(1ns)`.
    After,
    /// `NewTimer(1s).Stop()`.
    Stop,
    /// 1000 `AfterFunc(0, wg.Done)` at once, then wait.
    SimultaneousAfterFunc,
    /// 1000 `AfterFunc(1h, nil)`, then stop each.
    StartStop,
    /// `t.Reset(1h)` on a pending timer.
    Reset,
    /// Goroutines (threads) that each `Sleep(1ns)`.
    Sleep,
    /// `<-ticker.C` of a 1 ns ticker.
    Ticker,
    /// `ticker.Reset(2ns)`.
    TickerReset,
    /// `ticker.Stop(); ticker = NewTicker(2ns)`.
    TickerResetNaive,
    /// 10000 `AfterFunc(1h)`, the last reset to 1 ns, `Sleep(1µs)`, stop them all.
    AdjustTimers,
}

impl Op {
    pub const ALL: [Op; 11] = [
        Op::AfterFunc,
        Op::After,
        Op::Stop,
        Op::SimultaneousAfterFunc,
        Op::StartStop,
        Op::Reset,
        Op::Sleep,
        Op::Ticker,
        Op::TickerReset,
        Op::TickerResetNaive,
        Op::AdjustTimers,
    ];

    /// Timer operations in one body call of the ports, with `n` the ports' operations per op
    /// (Go's 1000).
    pub fn timer_ops(self, n: usize) -> usize {
        match self {
            Op::AdjustTimers => 10 * n,
            _ => n,
        }
    }
}

/// A benchmark (or one sub-benchmark), by what it measures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bench {
    /// ns per timer operation.
    PerOp(Op),
    /// BenchmarkParallelTimerLatency: lateness only.
    ParallelLatency,
    /// One sub-benchmark of BenchmarkStaggeredTickerLatency: lateness only.
    StaggeredLatency { work: Duration, per_p: usize },
}

impl Bench {
    /// The lab's name: the benchmark's name in Go, without a generation's count suffix.
    pub fn name(&self) -> String {
        match self {
            Bench::PerOp(op) => format!("{op:?}"),
            Bench::ParallelLatency => "ParallelTimerLatency".into(),
            Bench::StaggeredLatency { work, per_p } => format!(
                "StaggeredTickerLatency/work-dur={}/tickers-per-P={per_p}",
                go_duration_name(*work)
            ),
        }
    }

    pub fn is_latency(&self) -> bool {
        !matches!(self, Bench::PerOp(_))
    }

    /// Its name and unit in a generation of Go's benchmarks; None where that generation has none.
    pub fn go_name(&self, generation: Generation) -> Option<GoName> {
        let Bench::PerOp(op) = *self else {
            // The latency benchmarks kept their names and report lateness, not ns/op.
            return Some(GoName {
                name: self.name(),
                timer_ops: 1,
            });
        };
        let (name, timer_ops) = match generation {
            Generation::PerThousand => match op {
                Op::AdjustTimers => return None,
                _ => (self.name(), 1000),
            },
            Generation::PerNext => match op {
                Op::AfterFunc => ("AfterFunc1000".into(), 1000),
                Op::SimultaneousAfterFunc => ("SimultaneousAfterFunc1000".into(), 1000),
                Op::StartStop => ("StartStop1000".into(), 1000),
                Op::Sleep => ("Sleep1000".into(), 1000),
                Op::AdjustTimers => ("AdjustTimers10000".into(), 10_000),
                Op::Stop => ("Stop/impl=chan".into(), 1),
                Op::Reset => ("Reset/impl=chan".into(), 1),
                Op::After | Op::Ticker | Op::TickerReset | Op::TickerResetNaive => (self.name(), 1),
            },
        };
        Some(GoName { name, timer_ops })
    }
}

/// A benchmark as one Go version names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoName {
    /// Without the `Benchmark` prefix, with its sub-benchmark: `Stop/impl=chan`.
    pub name: String,
    /// Timer operations in one of its ops: its ns/op over this is ns per timer operation.
    pub timer_ops: u32,
}

impl GoName {
    /// The top-level benchmark (what `-test.list` lists).
    pub fn top_level(&self) -> &str {
        self.name.split('/').next().unwrap_or(&self.name)
    }
}

/// The two shapes of Go's `src/time` benchmarks (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generation {
    /// Before Go 1.23: one op is a body call with n = 1000.
    PerThousand,
    /// Go 1.23 and later: one op is one `pb.Next()`.
    PerNext,
}

impl Generation {
    /// Which one a test binary holds, from the top-level benchmarks it lists (without the
    /// `Benchmark` prefix): Go 1.23 renamed AfterFunc to AfterFunc1000.
    pub fn detect(listed: &BTreeSet<String>) -> Option<Generation> {
        if listed.contains("AfterFunc1000") {
            Some(Generation::PerNext)
        } else if listed.contains("AfterFunc") {
            Some(Generation::PerThousand)
        } else {
            None
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Generation::PerThousand => "1 op = 1000 timer operations",
            Generation::PerNext => "1 op = 1 timer operation, unless the name says 1000 or 10000",
        }
    }
}

/// Every benchmark, in sleep_test.go's order, then tick_test.go's and AdjustTimers10000.
pub fn all() -> Vec<Bench> {
    let mut v: Vec<Bench> = Op::ALL.iter().map(|&op| Bench::PerOp(op)).collect();
    v.push(Bench::ParallelLatency);
    for work in [Duration::from_micros(300), Duration::from_millis(2)] {
        let per_p_max = (STAGGERED_DELAY.as_nanos() / work.as_nanos()) as usize;
        for per_p in 1..=per_p_max {
            v.push(Bench::StaggeredLatency { work, per_p });
        }
    }
    v
}

/// `--filter`: case-insensitive substring, `|` alternatives, `^`/`$` anchors.
pub fn filter_matches(filter: &str, name: &str) -> bool {
    let name = name.to_lowercase();
    filter.split('|').any(|alt| {
        let alt = alt.trim().to_lowercase();
        let (start, alt) = match alt.strip_prefix('^') {
            Some(a) => (true, a),
            None => (false, alt.as_str()),
        };
        let (end, alt) = match alt.strip_suffix('$') {
            Some(a) => (true, a),
            None => (false, alt),
        };
        match (start, end) {
            (true, true) => name == alt,
            (true, false) => name.starts_with(alt),
            (false, true) => name.ends_with(alt),
            (false, false) => name.contains(alt),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_go() {
        let all = all();
        assert_eq!(all.len(), 11 + 1 + 10 + 1);
        assert_eq!(all[0].name(), "AfterFunc");
        assert_eq!(all[10].name(), "AdjustTimers");
        assert_eq!(all[11].name(), "ParallelTimerLatency");
        assert_eq!(
            all[12].name(),
            "StaggeredTickerLatency/work-dur=300µs/tickers-per-P=1"
        );
        assert_eq!(
            all[22].name(),
            "StaggeredTickerLatency/work-dur=2ms/tickers-per-P=1"
        );
        assert!(all[22].is_latency() && !all[0].is_latency());
    }

    #[test]
    fn names_and_units_per_generation() {
        let name = |b: Bench, g| b.go_name(g).map(|n| (n.name, n.timer_ops));
        let s = |x: &str, n| Some((x.to_string(), n));
        use Generation::*;
        assert_eq!(name(Bench::PerOp(Op::Stop), PerThousand), s("Stop", 1000));
        assert_eq!(
            name(Bench::PerOp(Op::Stop), PerNext),
            s("Stop/impl=chan", 1)
        );
        assert_eq!(
            name(Bench::PerOp(Op::Reset), PerNext),
            s("Reset/impl=chan", 1)
        );
        assert_eq!(name(Bench::PerOp(Op::After), PerNext), s("After", 1));
        assert_eq!(name(Bench::PerOp(Op::Sleep), PerNext), s("Sleep1000", 1000));
        assert_eq!(
            name(Bench::PerOp(Op::Ticker), PerThousand),
            s("Ticker", 1000)
        );
        assert_eq!(name(Bench::PerOp(Op::AdjustTimers), PerThousand), None);
        assert_eq!(
            name(Bench::PerOp(Op::AdjustTimers), PerNext),
            s("AdjustTimers10000", 10_000)
        );
        assert_eq!(
            name(Bench::ParallelLatency, PerThousand),
            name(Bench::ParallelLatency, PerNext)
        );
        let stop = Bench::PerOp(Op::Stop).go_name(PerNext).unwrap();
        assert_eq!(stop.top_level(), "Stop");

        let listed = |names: &[&str]| names.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            Generation::detect(&listed(&["After", "AfterFunc"])),
            Some(PerThousand)
        );
        assert_eq!(
            Generation::detect(&listed(&["AfterFunc1000"])),
            Some(PerNext)
        );
        assert_eq!(Generation::detect(&listed(&["Now"])), None);
    }

    /// Every name the catalog gives a Go version is a benchmark in that version's sources, with
    /// the sub-benchmark it names: checked against each installed toolchain's GOROOT.
    #[test]
    fn go_names_exist_in_every_installed_goroot() {
        let gos = crate::golang::find_all().toolchains;
        if gos.is_empty() {
            eprintln!("no Go toolchain: the catalog is not checked against Go's sources");
        }
        for go in gos {
            let Ok(goroot) = go.goroot_with_sources() else {
                eprintln!("{}: no sources, not checked", go.name());
                continue;
            };
            let src: String = ["sleep_test.go", "tick_test.go"]
                .iter()
                .map(|f| std::fs::read_to_string(goroot.join("src/time").join(f)).unwrap())
                .collect();
            let listed: BTreeSet<String> = src
                .lines()
                .filter_map(|l| l.strip_prefix("func Benchmark"))
                .filter_map(|l| l.split('(').next())
                .map(str::to_string)
                .collect();
            let generation = Generation::detect(&listed).expect("a known generation");
            let expected = if go.release() >= (1, 23, 0) {
                Generation::PerNext
            } else {
                Generation::PerThousand
            };
            assert_eq!(generation, expected, "{}", go.name());
            for b in all() {
                let Some(n) = b.go_name(generation) else {
                    continue;
                };
                assert!(
                    listed.contains(n.top_level()),
                    "{}: no Benchmark{}",
                    go.name(),
                    n.name
                );
                // A fixed sub-benchmark name (`"impl=chan"`) or a formatted one (`"work-dur=%s"`).
                for sub in n.name.split('/').skip(1) {
                    let key = sub.split('=').next().unwrap();
                    assert!(
                        src.contains(&format!("\"{sub}\"")) || src.contains(&format!("\"{key}=%")),
                        "{}: no {}",
                        go.name(),
                        n.name
                    );
                }
            }
        }
    }

    #[test]
    fn filter_is_a_regex_ish_substring() {
        assert!(filter_matches("after", "SimultaneousAfterFunc"));
        assert!(filter_matches("^After$", "After"));
        assert!(!filter_matches("^After$", "AfterFunc"));
        assert!(filter_matches("^after", "AfterFunc"));
        assert!(!filter_matches("^after", "SimultaneousAfterFunc"));
        assert!(filter_matches("Reset|Stop$", "StartStop"));
        assert!(filter_matches(
            "per-P=1$",
            "StaggeredTickerLatency/work-dur=2ms/tickers-per-P=1"
        ));
        assert!(!filter_matches(
            "per-P=1$",
            "StaggeredTickerLatency/work-dur=300µs/tickers-per-P=10"
        ));
    }
}

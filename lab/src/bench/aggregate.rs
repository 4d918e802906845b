//! `bench`'s third stage: per benchmark and column, the median of the rounds with its min–max;
//! per benchmark, column and Go version, the ratio of each round's figures and its verdict.

use super::catalog::{Bench, Op};
use super::execute::{Measurement, Results};
use super::plan::{Engine, Job, Plan};
use crate::stats::{round_ratios, MedianRange, Target, Verdict};
use std::collections::HashMap;

/// The ns-per-timer-operation target: every ported benchmark at most this times Go's.
pub const NS_TARGET: Target = Target { max: 0.5 };
/// The ParallelTimerLatency target: average lateness at most this times Go's.
pub const LATE_TARGET: Target = Target { max: 0.25 };

/// gotimer's target with tasks: Sleep1000 per sleep, and the average lateness of every
/// StaggeredTickerLatency row, at most Go's (the goal for Sleep is half).
pub const TASK_TARGET: Target = Target { max: 1.0 };

/// The target an engine's ratio to Go on a benchmark is held to, if any: the task column's
/// ([`TASK_TARGET`]), or the threads' (which the peers' ratios are judged by too, for comparison).
pub fn target(bench: &Bench, engine: Engine) -> Option<Target> {
    match (engine, bench) {
        (Engine::GotimerAsync, Bench::PerOp(Op::Sleep) | Bench::StaggeredLatency { .. }) => {
            Some(TASK_TARGET)
        }
        (Engine::GotimerAsync, _) => None,
        (_, Bench::PerOp(_)) => Some(NS_TARGET),
        (_, Bench::ParallelLatency) => Some(LATE_TARGET),
        (_, Bench::StaggeredLatency { .. }) => None,
    }
}

/// One column's figures for one benchmark, over its rounds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cell {
    pub iters: MedianRange,
    /// ns per timer operation, or average lateness in ns.
    pub value: MedianRange,
    pub max_late: Option<MedianRange>,
}

/// A column against one Go version on one benchmark.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Versus {
    /// Each round's figure over the Go version's in the same round.
    pub ratio: Option<MedianRange>,
    /// The median ratio judged by the benchmark's target, if it has one.
    pub verdict: Option<Verdict>,
}

pub struct Aggregate {
    cells: HashMap<(usize, usize), Cell>,
    versus: HashMap<(usize, usize, usize), Versus>,
}

impl Aggregate {
    /// Column `column`'s figures on benchmark `bench` (indices into the plan).
    pub fn cell(&self, bench: usize, column: usize) -> Option<&Cell> {
        self.cells.get(&(bench, column))
    }

    /// Column `column` against Go column `go` on benchmark `bench`.
    pub fn versus(&self, bench: usize, column: usize, go: usize) -> Option<&Versus> {
        self.versus.get(&(bench, column, go))
    }
}

pub fn aggregate(plan: &Plan, results: &Results) -> Aggregate {
    let engines: Vec<Option<Engine>> = plan.columns.iter().map(|c| c.engine()).collect();
    summarize(
        &plan.benches,
        &engines,
        plan.rounds,
        &plan.jobs,
        &results.measured,
    )
}

/// [`aggregate`] on plain data: the benchmarks, each column's engine (None for a Go version), and
/// each job with its measurement.
fn summarize(
    benches: &[Bench],
    engines: &[Option<Engine>],
    rounds: u32,
    jobs: &[Job],
    measured: &[Option<Measurement>],
) -> Aggregate {
    // (bench, column) -> measurement per round.
    let mut by_round: HashMap<(usize, usize), HashMap<u32, Measurement>> = HashMap::new();
    for (job, m) in jobs.iter().zip(measured) {
        if let Some(m) = m {
            by_round
                .entry((job.bench, job.column))
                .or_default()
                .insert(job.round, *m);
        }
    }
    let mut cells = HashMap::new();
    for (&key, rounds) in &by_round {
        let ms = || rounds.values();
        let (Some(iters), Some(value)) = (
            MedianRange::of(ms().map(|m| m.iters as f64)),
            MedianRange::of(ms().map(|m| m.figure.value())),
        ) else {
            continue;
        };
        let max_late = MedianRange::of(ms().filter_map(|m| m.figure.max_late()));
        cells.insert(
            key,
            Cell {
                iters,
                value,
                max_late,
            },
        );
    }
    let mut versus = HashMap::new();
    let value = |b: usize, c: usize, r: u32| {
        by_round
            .get(&(b, c))
            .and_then(|m| m.get(&r))
            .map(|m| m.figure.value())
    };
    let go_columns = || (0..engines.len()).filter(|&c| engines[c].is_none());
    for (b, bench) in benches.iter().enumerate() {
        for go in go_columns() {
            for (c, engine) in engines.iter().enumerate() {
                let Some(engine) = *engine else { continue };
                if !cells.contains_key(&(b, c)) {
                    continue;
                }
                let ratio = round_ratios(|r| value(b, c, r), |r| value(b, go, r), rounds);
                let verdict = target(bench, engine).map(|t| t.judge(ratio.map(|r| r.median)));
                versus.insert((b, c, go), Versus { ratio, verdict });
            }
        }
    }
    Aggregate { cells, versus }
}

#[cfg(test)]
mod tests {
    use super::super::execute::Figure;
    use super::super::harness::Lateness;
    use super::*;

    #[test]
    fn ratios_are_per_round_against_each_go_version() {
        // Columns: gotimer, two Go versions, a peer. Two benchmarks, three rounds.
        let benches = [Bench::PerOp(Op::Stop), Bench::ParallelLatency];
        let engines = [Some(Engine::Gotimer), None, None, Some(Engine::Crossbeam)];
        let ns = |v: f64| {
            Some(Measurement {
                iters: 10,
                figure: Figure::NsPerTimerOp(v),
            })
        };
        let late = |avg_ns: f64| {
            Some(Measurement {
                iters: 5,
                figure: Figure::Late(Lateness {
                    avg_ns,
                    max_ns: 4.0 * avg_ns,
                }),
            })
        };
        let mut jobs = Vec::new();
        let mut measured = Vec::new();
        let mut put = |bench, column, round, m| {
            jobs.push(Job {
                bench,
                column,
                round,
            });
            measured.push(m);
        };
        // Stop: gotimer 100, 200, 100; go A 400, 400, 100; go B 50 each; the peer only round 0.
        for (r, (g, a)) in [(100.0, 400.0), (200.0, 400.0), (100.0, 100.0)]
            .into_iter()
            .enumerate()
        {
            put(0, 0, r as u32, ns(g));
            put(0, 1, r as u32, ns(a));
            put(0, 2, r as u32, ns(50.0));
        }
        put(0, 3, 0, ns(40.0));
        // Latency: gotimer 1000 ns average, go A 8000; go B's runs failed.
        put(1, 0, 0, late(1000.0));
        put(1, 1, 0, late(8000.0));
        put(1, 2, 0, None);
        let agg = summarize(&benches, &engines, 3, &jobs, &measured);

        let cell = agg.cell(0, 0).unwrap();
        assert_eq!(
            (cell.value.median, cell.value.min, cell.value.max),
            (100.0, 100.0, 200.0)
        );
        assert_eq!(cell.max_late, None);
        let vs_a = agg.versus(0, 0, 1).unwrap();
        let r = vs_a.ratio.unwrap();
        // Rounds: 0.25, 0.5, 1.0 -- not 100/400, the ratio of the medians.
        assert_eq!((r.median, r.min, r.max, r.n), (0.5, 0.25, 1.0, 3));
        assert_eq!(vs_a.verdict, Some(Verdict::Met));
        let vs_b = agg.versus(0, 0, 2).unwrap();
        assert_eq!(vs_b.ratio.unwrap().median, 2.0);
        assert_eq!(vs_b.verdict, Some(Verdict::Missed));
        assert_eq!(
            agg.versus(0, 3, 1).unwrap().ratio.unwrap().n,
            1,
            "the peer ran once"
        );
        assert!(agg.versus(0, 1, 2).is_none(), "Go is not compared with Go");

        let late_cell = agg.cell(1, 0).unwrap();
        assert_eq!(late_cell.max_late.unwrap().median, 4000.0);
        let vs = agg.versus(1, 0, 1).unwrap();
        assert_eq!(vs.ratio.unwrap().median, 0.125);
        assert_eq!(vs.verdict, Some(Verdict::Met), "0.125 <= LATE_TARGET");
        let none = agg.versus(1, 0, 2).unwrap();
        assert_eq!((none.ratio, none.verdict), (None, Some(Verdict::NoFigure)));
        let staggered = Bench::StaggeredLatency {
            work: std::time::Duration::from_millis(2),
            per_p: 1,
        };
        assert_eq!(target(&staggered, Engine::Gotimer), None);
        assert_eq!(target(&staggered, Engine::GotimerAsync), Some(TASK_TARGET));
        assert_eq!(
            target(&Bench::PerOp(Op::Sleep), Engine::GotimerAsync),
            Some(TASK_TARGET)
        );
        assert_eq!(target(&Bench::ParallelLatency, Engine::GotimerAsync), None);
    }
}

//! `bench`'s first stage: which benchmarks, which columns (gotimer, one per Go version, the peers)
//! and the jobs, in alternating rounds.

use super::catalog::{self, Bench, Generation, GoName};
use super::gobench::{self, TestBinary};
use super::harness::{self, BenchTime};
use super::{peers, ported, Args};
use crate::golang::{self, Go};
use indicatif::ProgressBar;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The Rust engines: gotimer's ports (with threads, and with tasks on its futures) and the peers'.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Engine {
    Gotimer,
    /// `gotimer::future` in tasks on a multi-thread tokio runtime (see [`super::tasks`]).
    GotimerAsync,
    Crossbeam,
    TokioCt,
    TokioMt,
    /// async-io's `Timer` in tasks on the same runtime as tokio-mt.
    AsyncIo,
    /// futures-timer's `Delay` in tasks on the same runtime as tokio-mt.
    FuturesTimer,
}

impl Engine {
    /// gotimer's columns, first in every table: threads, then tasks.
    pub const GOTIMERS: [Engine; 2] = [Engine::Gotimer, Engine::GotimerAsync];
    /// The peers, in the tables' order: one entry each.
    pub const PEERS: [Engine; 5] = [
        Engine::Crossbeam,
        Engine::TokioCt,
        Engine::TokioMt,
        Engine::AsyncIo,
        Engine::FuturesTimer,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Engine::Gotimer => "gotimer",
            Engine::GotimerAsync => "gotimer-async",
            Engine::Crossbeam => "crossbeam",
            Engine::TokioCt => "tokio-ct",
            Engine::TokioMt => "tokio-mt",
            Engine::AsyncIo => "async-io",
            Engine::FuturesTimer => "futures-timer",
        }
    }

    pub fn supports(self, bench: &Bench) -> bool {
        match bench {
            Bench::PerOp(op) => peers::supports(self, *op),
            Bench::ParallelLatency => self != Engine::TokioCt,
            // futures-timer has no interval.
            Bench::StaggeredLatency { .. } => {
                self != Engine::TokioCt && self != Engine::FuturesTimer
            }
        }
    }
}

/// A Go toolchain ready to run its own benchmarks.
pub struct GoSide {
    pub go: Go,
    pub goroot: PathBuf,
    pub binary: TestBinary,
    pub generation: Generation,
    /// The top-level benchmarks its test binary holds.
    pub listed: BTreeSet<String>,
}

impl GoSide {
    /// What `bench` is called in this Go, if it has it.
    pub fn name_for(&self, bench: &Bench) -> Option<GoName> {
        bench
            .go_name(self.generation)
            .filter(|n| self.listed.contains(n.top_level()))
    }
}

/// Who runs a column.
pub enum Runner {
    Rust(Engine),
    Go(Box<GoSide>),
}

/// One column of every table.
pub struct Column {
    pub label: String,
    pub runner: Runner,
}

impl Column {
    pub fn supports(&self, bench: &Bench) -> bool {
        match &self.runner {
            Runner::Rust(e) => e.supports(bench),
            Runner::Go(g) => g.name_for(bench).is_some(),
        }
    }

    pub fn go(&self) -> Option<&GoSide> {
        match &self.runner {
            Runner::Go(g) => Some(g),
            Runner::Rust(_) => None,
        }
    }

    /// The Rust engine that runs it; None for a Go column.
    pub fn engine(&self) -> Option<Engine> {
        match &self.runner {
            Runner::Rust(e) => Some(*e),
            Runner::Go(_) => None,
        }
    }
}

/// One run of one benchmark by one column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Job {
    pub bench: usize,
    pub column: usize,
    pub round: u32,
}

pub struct Plan {
    pub benches: Vec<Bench>,
    pub columns: Vec<Column>,
    pub jobs: Vec<Job>,
    pub rounds: u32,
    /// `-benchtime` in Go's syntax, for Go and for the output.
    pub benchtime: String,
    pub cores: usize,
    /// Said under the tables.
    pub notes: Vec<String>,
}

impl Plan {
    /// The columns that are Go versions, with their index.
    pub fn go_columns(&self) -> impl Iterator<Item = (usize, &GoSide)> {
        self.columns
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.go().map(|g| (i, g)))
    }
}

/// The benchmarks `--filter` selects; Err lists every name when it selects none.
fn select(filter: Option<&str>) -> anyhow::Result<Vec<Bench>> {
    let all = catalog::all();
    let selected: Vec<Bench> = all
        .iter()
        .copied()
        .filter(|b| filter.is_none_or(|f| catalog::filter_matches(f, &b.name())))
        .collect();
    if selected.is_empty() {
        let names: Vec<String> = all.iter().map(Bench::name).collect();
        anyhow::bail!(
            "--filter {:?} matches no benchmark; names are: {}",
            filter.unwrap_or(""),
            names.join(", ")
        );
    }
    Ok(selected)
}

/// Readies one Go toolchain: its sources, its `time` test binary (built into
/// `out/go/VERSION/time.test`), the benchmarks it lists and their generation.
fn go_side(go: Go, out: &Path) -> anyhow::Result<GoSide> {
    let goroot = go.goroot_with_sources().map_err(anyhow::Error::msg)?;
    let spinner = ProgressBar::new_spinner()
        .with_message(format!("building Go's time test binary ({})", go.version));
    spinner.enable_steady_tick(Duration::from_millis(200));
    let dest = out.join("go").join(go.name()).join("time.test");
    let built = gobench::build_test_binary(&go, &goroot, &dest);
    spinner.finish_and_clear();
    let binary = built?;
    let listed = binary.list()?;
    let generation = Generation::detect(&listed).ok_or_else(|| {
        anyhow::anyhow!(
            "its time test binary has neither BenchmarkAfterFunc nor BenchmarkAfterFunc1000"
        )
    })?;
    Ok(GoSide {
        go,
        goroot,
        binary,
        generation,
        listed,
    })
}

/// The jobs: benchmark by benchmark, `rounds` rounds each, every column that supports it once per
/// round, in reverse order on odd rounds (so that each pair of columns runs next to each other in
/// both orders).
pub fn jobs(benches: &[Bench], columns: &[Column], rounds: u32) -> Vec<Job> {
    let mut jobs = Vec::new();
    for (b, bench) in benches.iter().enumerate() {
        let mut order: Vec<usize> = (0..columns.len())
            .filter(|&c| columns[c].supports(bench))
            .collect();
        for round in 0..rounds {
            jobs.extend(order.iter().map(|&column| Job {
                bench: b,
                column,
                round,
            }));
            order.reverse();
        }
    }
    jobs
}

pub fn make(args: &Args, out: &Path) -> anyhow::Result<Plan> {
    let benches = select(args.filter.as_deref())?;
    let cores = harness::cores();
    let mut notes = Vec::new();
    if args.garbage != ported::GARBAGE || args.ops_per_op != ported::N {
        notes.push(format!(
            "sizes changed (garbage {} per thread, {} operations per op; Go uses {} and {}): \
             the ratios to Go are not comparable",
            args.garbage,
            args.ops_per_op,
            ported::GARBAGE,
            ported::N
        ));
    }
    if cores < 2 {
        notes.push(
            "fewer than 2 cores: the latency benchmarks are skipped, as Go skips them".into(),
        );
    }

    // gotimer's two (threads, then tasks), then each Go version, then the peers: one
    // entry each.
    let mut columns: Vec<Column> = (Engine::GOTIMERS.iter())
        .map(|&e| Column {
            label: e.label().into(),
            runner: Runner::Rust(e),
        })
        .collect();
    let (gos, go_note) = golang::find_and_say(&args.go);
    notes.extend(go_note);
    for go in gos {
        let label = go.name().to_string();
        match go_side(go, out) {
            Ok(side) => columns.push(Column {
                label,
                runner: Runner::Go(Box::new(side)),
            }),
            Err(e) => {
                let msg = format!("{label} left out: {e:#}");
                eprintln!("{msg}");
                notes.push(msg);
            }
        }
    }
    if !args.no_peers {
        columns.extend(Engine::PEERS.iter().map(|&e| Column {
            label: e.label().into(),
            runner: Runner::Rust(e),
        }));
    }
    let benchtime = match args.benchtime {
        BenchTime::Iters(n) => format!("{n}x"),
        BenchTime::Time(d) => format!("{}ms", d.as_millis().max(1)),
    };
    let jobs = jobs(&benches, &columns, args.count);
    Ok(Plan {
        benches,
        columns,
        jobs,
        rounds: args.count,
        benchtime,
        cores,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::super::catalog::Op;
    use super::*;

    fn rust(e: Engine) -> Column {
        Column {
            label: e.label().into(),
            runner: Runner::Rust(e),
        }
    }

    #[test]
    fn rounds_alternate_and_skip_what_a_column_cannot_run() {
        let benches = [Bench::PerOp(Op::Reset), Bench::PerOp(Op::After)];
        let columns = [
            rust(Engine::Gotimer),
            rust(Engine::Crossbeam),
            rust(Engine::TokioMt),
        ];
        let j: Vec<(usize, usize, u32)> = jobs(&benches, &columns, 2)
            .iter()
            .map(|j| (j.bench, j.column, j.round))
            .collect();
        assert_eq!(
            j,
            [
                // crossbeam cannot reset
                (0, 0, 0),
                (0, 2, 0),
                (0, 2, 1),
                (0, 0, 1),
                (1, 0, 0),
                (1, 1, 0),
                (1, 2, 0),
                (1, 2, 1),
                (1, 1, 1),
                (1, 0, 1),
            ]
        );
    }

    #[test]
    fn every_peer_support_is_declared() {
        assert!(Engine::Gotimer.supports(&Bench::PerOp(Op::Sleep)));
        assert!(Engine::Gotimer.supports(&Bench::PerOp(Op::AdjustTimers)));
        assert!(!Engine::Crossbeam.supports(&Bench::PerOp(Op::Reset)));
        assert!(Engine::Crossbeam.supports(&Bench::ParallelLatency));
        assert!(!Engine::TokioCt.supports(&Bench::ParallelLatency));
        assert!(Engine::TokioMt.supports(&Bench::PerOp(Op::AfterFunc)));
        assert!(Engine::AsyncIo.supports(&Bench::PerOp(Op::Sleep)));
        assert!(!Engine::FuturesTimer.supports(&Bench::PerOp(Op::Reset)));
        assert!(Engine::FuturesTimer.supports(&Bench::ParallelLatency));
        let staggered = Bench::StaggeredLatency {
            work: Duration::from_millis(2),
            per_p: 1,
        };
        assert!(!Engine::FuturesTimer.supports(&staggered), "no interval");
        assert!(Engine::GotimerAsync.supports(&staggered));
    }

    #[test]
    fn a_filter_that_selects_nothing_lists_the_names() {
        let e = select(Some("NoSuchBenchmark")).unwrap_err().to_string();
        assert!(
            e.contains("matches no benchmark") && e.contains("AdjustTimers"),
            "{e}"
        );
        assert_eq!(select(Some("^Ticker")).unwrap().len(), 3);
    }
}

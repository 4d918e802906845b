//! `bench`'s second stage: every job of the plan, in order, under one progress bar. Each gives a
//! [`Measurement`] in the lab's units: ns per timer operation, or lateness.

use super::catalog::Bench;
use super::gobench;
use super::harness::{Lateness, Timed};
use super::plan::{Engine, GoSide, Plan, Runner};
use super::{latency, peers, ported, Args};
use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;

/// What a benchmark reports.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Figure {
    /// ns per timer operation (Go's ns/op over the timer operations in its op).
    NsPerTimerOp(f64),
    /// Go's avg-late-ns and max-late-ns.
    Late(Lateness),
}

impl Figure {
    /// The figure a ratio compares: ns per timer operation, or the average lateness.
    pub fn value(&self) -> f64 {
        match self {
            Figure::NsPerTimerOp(ns) => *ns,
            Figure::Late(l) => l.avg_ns,
        }
    }

    pub fn max_late(&self) -> Option<f64> {
        match self {
            Figure::Late(l) => Some(l.max_ns),
            Figure::NsPerTimerOp(_) => None,
        }
    }
}

/// One job's result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measurement {
    /// Go's b.N of the final round.
    pub iters: u64,
    pub figure: Figure,
}

pub struct Results {
    /// One per job of the plan, in its order; None where it ran nothing.
    pub measured: Vec<Option<Measurement>>,
    /// What each Go column printed, by column index.
    pub go_output: Vec<(usize, String)>,
    pub notes: Vec<String>,
}

pub fn execute(plan: &Plan, args: &Args) -> Results {
    eprintln!(
        "bench: {} benchmark(s), {} run(s) in {} round(s), -benchtime {}, {} thread(s)",
        plan.benches.len(),
        plan.jobs.len(),
        plan.rounds,
        plan.benchtime,
        plan.cores
    );
    let bar = ProgressBar::new(plan.jobs.len() as u64).with_style(
        ProgressStyle::with_template("{elapsed:>4} [{bar:30}] {pos}/{len} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(250));
    let mut results = Results {
        measured: Vec::with_capacity(plan.jobs.len()),
        go_output: Vec::new(),
        notes: Vec::new(),
    };
    for job in &plan.jobs {
        let bench = &plan.benches[job.bench];
        let column = &plan.columns[job.column];
        bar.set_message(format!(
            "{} · {} · round {}",
            bench.name(),
            column.label,
            job.round + 1
        ));
        let m = match &column.runner {
            Runner::Rust(engine) => run_rust(*engine, bench, args, plan.cores),
            Runner::Go(side) => match run_go(side, bench, &plan.benchtime) {
                Ok((m, text)) => {
                    results.go_output.push((job.column, text));
                    m
                }
                Err(e) => {
                    let msg = format!("{} failed on {}: {e:#}", column.label, bench.name());
                    bar.suspend(|| eprintln!("{msg}"));
                    results.notes.push(msg);
                    None
                }
            },
        };
        results.measured.push(m);
        bar.inc(1);
    }
    bar.finish_and_clear();
    results
}

/// A port (gotimer) or a peer.
fn run_rust(engine: Engine, bench: &Bench, args: &Args, cores: usize) -> Option<Measurement> {
    let bt = args.benchtime;
    let timed: Timed = match *bench {
        Bench::PerOp(op) if engine == Engine::Gotimer => {
            Some(ported::run(op, bt, cores, args.garbage, args.ops_per_op))
        }
        Bench::PerOp(op) => peers::run(engine, op, bt, cores, args.garbage, args.ops_per_op),
        Bench::ParallelLatency => latency::parallel(engine, bt, cores),
        Bench::StaggeredLatency { work, per_p } => {
            latency::staggered(engine, bt, cores, work, per_p)
        }
    }?;
    let figure = match (*bench, timed.late) {
        (Bench::PerOp(op), _) => {
            Figure::NsPerTimerOp(timed.ns_per_op() / op.timer_ops(args.ops_per_op) as f64)
        }
        (_, Some(late)) => Figure::Late(late),
        (_, None) => return None,
    };
    Some(Measurement {
        iters: timed.iters,
        figure,
    })
}

/// Go's own benchmark, alone, with the test binary; returns its figure and what it printed.
fn run_go(
    side: &GoSide,
    bench: &Bench,
    benchtime: &str,
) -> anyhow::Result<(Option<Measurement>, String)> {
    let name = side
        .name_for(bench)
        .ok_or_else(|| anyhow::anyhow!("{} has no {}", side.go.name(), bench.name()))?;
    let text = side
        .binary
        .run(&gobench::bench_regex_one(&name.name), benchtime)?;
    let m = gobench::parse(&text)
        .into_iter()
        .find(|r| r.name == name.name)
        .and_then(|r| {
            let figure = if bench.is_latency() {
                Figure::Late(Lateness {
                    avg_ns: r.metric("avg-late-ns")?,
                    max_ns: r.metric("max-late-ns")?,
                })
            } else {
                Figure::NsPerTimerOp(r.metric("ns/op")? / f64::from(name.timer_ops))
            };
            Some(Measurement {
                iters: r.iters,
                figure,
            })
        });
    anyhow::ensure!(
        m.is_some(),
        "no Benchmark{} result in its output:\n{text}",
        name.name
    );
    Ok((m, text))
}

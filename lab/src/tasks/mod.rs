//! `tasks`: gotimer's futures against tokio::time, async-io's `Timer` and futures-timer's `Delay`,
//! on what only async timers are asked (issue 19's musts that have no Go benchmark):
//! - [`churn`]: create + first poll + drop of `sleep(1h)`, per op, alone and with 1M other sleeps
//!   pending in the same runtime;
//! - [`crowd`]: 100k tasks each sleeping 50 ms on a 2-worker tokio runtime, spawn to all done;
//! - [`precision`]: a 100 µs sleep, creation to completion: median and p99.
//!
//! Go's goroutine benchmarks with tasks (Sleep1000, StaggeredTickerLatency) are `bench`'s
//! gotimer-async, tokio-mt, async-io and futures-timer columns, next to Go's own; bytes per pending
//! sleep are `mem`'s.
//!
//! Every measurement runs in its own process (`tasks-child`), so that what one library leaves
//! behind (a million sleeps being taken out by futures-timer's helper thread or async-io's reactor,
//! the memory of gotimer's wheel) costs nothing to the next. The rounds alternate: each runs every
//! library once per measurement, in reverse order on odd rounds. A figure is the median of the
//! rounds with their min–max, a ratio the median of each round's ratio ([`tables`]).

mod churn;
mod crowd;
mod precision;
mod tables;

use crate::async_timer::{with_timer, Lib};
use crate::bench::harness::BenchTime;
use crate::child;
use std::collections::HashMap;
use std::path::Path;

/// The sizes of the measurements, given to each child as they were to the parent.
#[derive(clap::Args, Clone, Debug)]
pub struct Sizes {
    /// Time per create + poll + drop measurement, as Go's -benchtime: a duration (1s, 300ms) or a
    /// count of ops (100x).
    #[arg(long, default_value = "1s", value_parser = BenchTime::parse)]
    benchtime: BenchTime,
    /// Other sleeps pending, each polled, in the second create + poll + drop row.
    #[arg(long, default_value_t = 1_000_000)]
    pending: usize,
    /// Tasks each sleeping 50 ms at once.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    tasks: u64,
    /// 100 µs sleeps per round.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    samples: u64,
    /// Workers of the tokio runtime that the tasks run on.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..))]
    workers: u64,
}

#[derive(clap::Args)]
pub struct Args {
    /// Rounds: each runs every library once per measurement, in reverse order on odd rounds.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    count: u32,
    /// Only these measurements (repeatable); all by default.
    #[arg(long, value_enum)]
    only: Vec<Kind>,
    #[command(flatten)]
    sizes: Sizes,
}

/// Arguments of the hidden `tasks-child` subcommand: one measurement of one library.
#[derive(clap::Args)]
pub struct ChildArgs {
    #[arg(value_enum)]
    lib: Lib,
    #[arg(value_enum)]
    kind: Kind,
    #[command(flatten)]
    sizes: Sizes,
}

/// Arguments of the hidden `crowd-phases` subcommand: where one library's crowd spends its time.
#[derive(clap::Args)]
pub struct PhasesArgs {
    #[arg(value_enum)]
    lib: Lib,
    /// How long each task sleeps, in ms: at 500 the sleeps come due after the spawning is over.
    #[arg(long, default_value_t = 50)]
    nap_ms: u64,
    #[command(flatten)]
    sizes: Sizes,
}

/// `crowd-phases`: one crowd of one library, with each task's marks (`crowd::phases`): when the
/// spawning and the sleeps' creation ended, how late the first task and the average task resumed
/// after their deadlines, and the wall time. A diagnostic of the crowd row, printed as
/// `figure,value` lines in ms.
pub fn phases(args: &PhasesArgs) -> anyhow::Result<()> {
    let s = &args.sizes;
    let nap = std::time::Duration::from_millis(args.nap_ms);
    let p =
        with_timer!(args.lib, T => crowd::phases::<T>(s.tasks as usize, s.workers as usize, nap));
    println!("{HEADER}");
    for (name, d) in [
        ("spawned_ms", p.spawned),
        ("created_last_ms", p.created_last),
        ("first_wake_late_ms", p.first_wake_late),
        ("late_avg_ms", p.late_avg),
        ("late_max_ms", p.late_max),
        ("wall_ms", p.wall),
    ] {
        println!("{name},{}", d.as_secs_f64() * 1e3);
    }
    Ok(())
}

/// What a child measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Kind {
    /// Create + first poll + drop of sleep(1h), with `--pending` others pending (0 for the first row).
    Churn,
    /// `--tasks` tasks each sleeping 50 ms.
    Crowd,
    /// 100 µs sleeps, one after the other.
    Precision,
}

/// One measurement of the run: a kind, and for churn how many other sleeps are pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Measure {
    pub kind: Kind,
    pub pending: usize,
}

/// The child's output: a header, then one `figure,value` line per figure.
pub const HEADER: &str = "figure,value";

/// What one child reported, by figure name.
pub type Figures = HashMap<String, f64>;

/// Every child's figures, by measurement, library and round.
pub type Results = HashMap<(Measure, Lib, u32), Figures>;

/// The measurements of a run, in the tables' order.
fn measures(args: &Args) -> Vec<Measure> {
    let all = [
        Measure {
            kind: Kind::Churn,
            pending: 0,
        },
        Measure {
            kind: Kind::Churn,
            pending: args.sizes.pending,
        },
        Measure {
            kind: Kind::Crowd,
            pending: 0,
        },
        Measure {
            kind: Kind::Precision,
            pending: 0,
        },
    ];
    let mut v: Vec<Measure> = all
        .into_iter()
        .filter(|m| args.only.is_empty() || args.only.contains(&m.kind))
        .collect();
    v.dedup();
    v
}

/// The libraries in round `round`'s order: [`Lib::ALL`], reversed on odd rounds, so that each pair
/// runs next to each other in both orders.
fn order(round: u32) -> Vec<Lib> {
    let mut v = Lib::ALL.to_vec();
    if round % 2 == 1 {
        v.reverse();
    }
    v
}

pub fn run(args: &Args, out: &Path) -> anyhow::Result<()> {
    let measures = measures(args);
    let mut results = Results::new();
    for &m in &measures {
        for round in 0..args.count {
            for lib in order(round) {
                let label = format!(
                    "tasks: {} · {} · round {}/{}",
                    tables::measure_name(m, args),
                    lib.label(),
                    round + 1,
                    args.count
                );
                let figures = run_child(args, m, lib, &label)?;
                results.insert((m, lib, round), figures);
            }
        }
    }
    tables::write(args, &measures, &results, out)
}

/// One measurement in its own process.
fn run_child(args: &Args, m: Measure, lib: Lib, label: &str) -> anyhow::Result<Figures> {
    let s = &args.sizes;
    let benchtime = match s.benchtime {
        BenchTime::Iters(n) => format!("{n}x"),
        BenchTime::Time(d) => format!("{}ms", d.as_millis().max(1)),
    };
    let argv: Vec<String> = [
        "tasks-child",
        &value_arg(lib),
        &value_arg(m.kind),
        "--benchtime",
        &benchtime,
        "--pending",
        &m.pending.to_string(),
        "--tasks",
        &s.tasks.to_string(),
        "--samples",
        &s.samples.to_string(),
        "--workers",
        &s.workers.to_string(),
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    let lines = child::collect(child::lab(&argv)?, label, 1, parse_line, |_, pb| {
        pb.set_position(1)
    })?;
    Ok(lines.into_iter().collect())
}

/// How a value is written on the command line.
fn value_arg(v: impl clap::ValueEnum) -> String {
    v.to_possible_value()
        .expect("no value is skipped")
        .get_name()
        .to_string()
}

/// Parses one line: `Ok(None)` for the header or a blank line.
pub fn parse_line(line: &str) -> anyhow::Result<Option<(String, f64)>> {
    let Some(f) = child::Fields::split(line, HEADER)? else {
        return Ok(None);
    };
    Ok(Some((f.str(0).to_string(), f.get(1)?)))
}

/// `tasks-child`: measures one library and prints its figures.
pub fn child(args: &ChildArgs) -> anyhow::Result<()> {
    let s = &args.sizes;
    let workers = s.workers as usize;
    let figures: Vec<(&str, f64)> = with_timer!(args.lib, T => match args.kind {
        Kind::Churn => {
            let (t, cpu) = churn::measure::<T>(s.benchtime, s.pending);
            vec![
                ("ns_per_op", t.ns_per_op()),
                ("cpu_ns_per_op", cpu),
                ("iters", t.iters as f64),
            ]
        }
        Kind::Crowd => {
            let wall = crowd::measure::<T>(s.tasks as usize, workers);
            vec![("wall_ms", wall.as_secs_f64() * 1e3)]
        }
        Kind::Precision => {
            let p = precision::measure::<T>(s.samples as usize, workers);
            vec![
                ("median_us", p.median.as_secs_f64() * 1e6),
                ("p99_us", p.p99.as_secs_f64() * 1e6),
            ]
        }
    });
    println!("{HEADER}");
    for (name, value) in figures {
        println!("{name},{value}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_alternate() {
        assert_eq!(order(0), Lib::ALL);
        assert_eq!(order(1)[0], Lib::FuturesTimer);
        assert_eq!(order(2), Lib::ALL);
    }

    #[test]
    fn child_lines_parse() {
        assert_eq!(parse_line(HEADER).unwrap(), None);
        assert_eq!(
            parse_line("wall_ms,51.5").unwrap(),
            Some(("wall_ms".to_string(), 51.5))
        );
        assert!(parse_line("wall_ms,x").is_err());
        assert!(parse_line("wall_ms").is_err());
    }
}

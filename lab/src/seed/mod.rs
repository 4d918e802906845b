//! `seed`: the article's experiment. The leaking `time.After`-in-`select` loop and its two fixes, in
//! Rust with gotimer and with every Go toolchain found, each program in its own process, sampled
//! every 50 ms.
//!
//! Four stages over typed results:
//! - [`plan`]: the sides (gotimer, then one per Go version, its `seed.go` built once) and the jobs,
//!   in alternating rounds: every round runs every side's three programs, in reverse order on odd
//!   rounds, so that the two variants a ratio compares run next to each other;
//! - [`execute`]: runs each job as a child process (`gotimer-lab seed-child MODE SECONDS` for Rust,
//!   the built `seed MODE SECONDS` for Go), reading its [`sample::Sample`]s;
//! - [`aggregate`]: one [`Summary`] per side and program, each figure the median of the rounds with its
//!   min–max, and the after-in-loop/hoisted ratio computed round by round;
//! - [`report`]: the table, the story it tells, CSV and the chart.

mod child;
mod report;
pub mod sample;

pub use child::{child, ChildArgs};

use crate::golang::{self, Go};
use crate::stats::{round_ratios, MedianRange};
use sample::{RunFigures, Sample};
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(clap::Args)]
pub struct Args {
    /// How long each program runs in each round, in seconds.
    #[arg(long, default_value_t = 2.0, value_parser = crate::positive_seconds)]
    pub seconds: f64,
    /// Rounds: each runs every program once per side; figures are the median of the rounds.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub rounds: u32,
    /// Serve gotimer's /debug/pprof/ endpoint at this address (e.g. 127.0.0.1:6060) while each
    /// Rust program runs, for `go tool pprof http://ADDR/debug/pprof/timers`.
    #[arg(long, value_name = "ADDR")]
    pub pprof: Option<String>,
    /// Print every column of the table (about 220 characters wide), not only those that fit in 100
    /// (seed-summary.csv always has them all).
    #[arg(long)]
    pub wide: bool,
    #[command(flatten)]
    pub go: golang::NoGo,
}

/// The article's three programs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Program {
    /// `after(3 min)` inside the loop's `select!`: the article's leak (in Go before 1.23).
    AfterInLoop,
    /// One `after(3 min)` before the loop: the article's first fix.
    HoistedAfter,
    /// One timer, reset at the top of every iteration: the article's second fix.
    TimerReset,
}

pub const PROGRAMS: [Program; 3] = [
    Program::AfterInLoop,
    Program::HoistedAfter,
    Program::TimerReset,
];

impl Program {
    pub fn name(self) -> &'static str {
        match self {
            Program::AfterInLoop => "after-in-loop",
            Program::HoistedAfter => "hoisted-after",
            Program::TimerReset => "timer-reset",
        }
    }
}

/// How a side runs a program.
enum Runner {
    /// This executable's hidden `seed-child`.
    Gotimer,
    /// A Go toolchain's build of seed.go.
    Go { go: Go, binary: PathBuf },
}

/// One column of the comparison: gotimer, or one Go version.
struct Side {
    label: String,
    runner: Runner,
}

/// One run of one program by one side, in one round.
#[derive(Clone, Copy)]
struct Job {
    side: usize,
    program: Program,
    round: u32,
}

struct Plan {
    sides: Vec<Side>,
    jobs: Vec<Job>,
    /// Said under the table (Go not found, a build that failed).
    notes: Vec<String>,
}

/// `items` in order on even rounds, reversed on odd ones.
fn alternate<T: Copy>(items: &[T], round: u32) -> Vec<T> {
    let mut v = items.to_vec();
    if round % 2 == 1 {
        v.reverse();
    }
    v
}

fn plan(args: &Args, out: &Path) -> Plan {
    let (gos, go_note) = golang::find_and_say(&args.go);
    let mut notes: Vec<String> = go_note.into_iter().collect();
    let mut sides = vec![Side {
        label: "gotimer".into(),
        runner: Runner::Gotimer,
    }];
    for (go, binary) in golang::build_each(&gos, golang::SEED_GO, out, &mut notes) {
        sides.push(Side {
            label: go.name().to_string(),
            runner: Runner::Go { go, binary },
        });
    }
    let order: Vec<usize> = (0..sides.len()).collect();
    let jobs = (0..args.rounds)
        .flat_map(|round| {
            alternate(&order, round).into_iter().flat_map(move |side| {
                alternate(&PROGRAMS, round)
                    .into_iter()
                    .map(move |program| Job {
                        side,
                        program,
                        round,
                    })
            })
        })
        .collect();
    Plan { sides, jobs, notes }
}

/// What one job printed, or why it failed.
struct Outcome {
    job: Job,
    samples: Result<Vec<Sample>, String>,
}

fn command(side: &Side, program: Program, args: &Args) -> anyhow::Result<Command> {
    let seconds = args.seconds.to_string();
    match &side.runner {
        Runner::Gotimer => {
            let mut child_args = vec!["seed-child".into(), program.name().into(), seconds];
            if let Some(addr) = &args.pprof {
                child_args.extend(["--pprof".into(), addr.clone()]);
            }
            crate::child::lab(&child_args)
        }
        Runner::Go { binary, .. } => {
            let mut cmd = Command::new(binary);
            cmd.args([program.name(), &seconds]);
            Ok(cmd)
        }
    }
}

fn execute(plan: &Plan, args: &Args) -> Vec<Outcome> {
    let total = plan.jobs.len();
    plan.jobs
        .iter()
        .enumerate()
        .map(|(i, &job)| {
            let side = &plan.sides[job.side];
            let label = format!(
                "[{}/{total}] {} {} (round {})",
                i + 1,
                side.label,
                job.program.name(),
                job.round + 1
            );
            let samples = command(side, job.program, args)
                .and_then(|cmd| run_child(cmd, &label, args.seconds))
                .map_err(|e| {
                    let msg = format!(
                        "{} {} failed in round {}, skipping it: {e:#}",
                        side.label,
                        job.program.name(),
                        job.round + 1
                    );
                    eprintln!("{msg}");
                    msg
                });
            Outcome { job, samples }
        })
        .collect()
}

/// Runs one program's process, reading its samples as they come, with a progress bar.
fn run_child(cmd: Command, label: &str, seconds: f64) -> anyhow::Result<Vec<Sample>> {
    let ms = |s: f64| (s * 1000.0).round() as u64;
    let samples = crate::child::collect(cmd, label, ms(seconds), sample::parse_line, |s, pb| {
        pb.set_position(ms(s.seconds))
    })?;
    anyhow::ensure!(samples.len() >= 2, "{label} printed fewer than two samples");
    Ok(samples)
}

/// How the heap behaves while a program runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeapShape {
    /// It keeps what every iteration allocated: it grows with the messages.
    Grows,
    /// It grows and a GC frees it again: a sawtooth around a flat line.
    FreedByGc,
    /// It does not move: nothing is allocated that outlives its iteration, and no GC runs.
    Flat,
}

impl HeapShape {
    /// Retained bytes per iteration above which a heap counts as growing. Go 1.19 retains about
    /// 220 B; a collected or freed heap's slope stays within a few bytes of zero.
    const GROWING: f64 = 16.0;

    fn of(bytes_per_iteration: f64, gcs_per_s: f64) -> HeapShape {
        if bytes_per_iteration > Self::GROWING {
            HeapShape::Grows
        } else if gcs_per_s > 0.0 {
            HeapShape::FreedByGc
        } else {
            HeapShape::Flat
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            HeapShape::Grows => "grows",
            HeapShape::FreedByGc => "sawtooth (GC)",
            HeapShape::Flat => "flat",
        }
    }
}

/// One side's figures for one program, over the rounds.
struct Summary {
    side: usize,
    program: Program,
    messages_per_s: MedianRange,
    /// messages/s over the hoisted variant's in the same round.
    vs_hoisted: Option<MedianRange>,
    bytes_per_iteration: MedianRange,
    heap_mb_per_s: MedianRange,
    /// Over every round's steady samples.
    heap_min: i64,
    heap_max: i64,
    gcs_per_s: MedianRange,
    consumer_cpu_per_msg: Option<MedianRange>,
    process_cpu_per_msg: Option<MedianRange>,
    final_rss: MedianRange,
    shape: HeapShape,
}

/// Each (side, program)'s figures per round, then the rows.
fn aggregate(plan: &Plan, outcomes: &[Outcome], rounds: u32) -> Vec<Summary> {
    let figures = |side: usize, program: Program, round: u32| -> Option<RunFigures> {
        outcomes
            .iter()
            .find(|o| o.job.side == side && o.job.program == program && o.job.round == round)
            .and_then(|o| o.samples.as_ref().ok())
            .and_then(|s| sample::summarize(s))
    };
    let mut rows = Vec::new();
    for program in PROGRAMS {
        for side in 0..plan.sides.len() {
            let runs: Vec<RunFigures> = (0..rounds)
                .filter_map(|r| figures(side, program, r))
                .collect();
            let of = |f: fn(&RunFigures) -> f64| MedianRange::of(runs.iter().map(f));
            let of_opt =
                |f: fn(&RunFigures) -> Option<f64>| MedianRange::of(runs.iter().filter_map(f));
            let (Some(messages_per_s), Some(bytes_per_iteration), Some(gcs_per_s)) = (
                of(|f| f.messages_per_s),
                of(|f| f.bytes_per_iteration),
                of(|f| f.gcs_per_s),
            ) else {
                continue; // every round of it failed
            };
            let msgs = |p: Program| move |r: u32| figures(side, p, r).map(|f| f.messages_per_s);
            rows.push(Summary {
                side,
                program,
                messages_per_s,
                vs_hoisted: round_ratios(msgs(program), msgs(Program::HoistedAfter), rounds),
                heap_mb_per_s: of(|f| f.heap_mb_per_s).expect("as many as messages_per_s"),
                heap_min: runs.iter().map(|f| f.heap_min).min().unwrap_or(0),
                heap_max: runs.iter().map(|f| f.heap_max).max().unwrap_or(0),
                consumer_cpu_per_msg: of_opt(|f| f.consumer_cpu_per_msg),
                process_cpu_per_msg: of_opt(|f| f.process_cpu_per_msg),
                final_rss: of(|f| f.final_rss as f64).expect("as many as messages_per_s"),
                shape: HeapShape::of(bytes_per_iteration.median, gcs_per_s.median),
                gcs_per_s,
                bytes_per_iteration,
            });
        }
    }
    rows
}

pub fn run(args: &Args, out: &Path) -> anyhow::Result<()> {
    let plan = plan(args, out);
    if let Some(addr) = &args.pprof {
        println!(
            "serving gotimer's profile at http://{addr}/debug/pprof/ while each Rust program runs: \
             go tool pprof -top http://{addr}/debug/pprof/timers"
        );
    }
    eprintln!(
        "seed: {} sides x {} programs x {} rounds of {} s: about {:.0} s",
        plan.sides.len(),
        PROGRAMS.len(),
        args.rounds,
        args.seconds,
        plan.jobs.len() as f64 * (args.seconds + 0.1)
    );
    let watch = crate::busy::Watch::start("seed");
    let outcomes = execute(&plan, args);
    let window = watch.finish();
    let rows = aggregate(&plan, &outcomes, args.rounds);
    report::write(&plan, &outcomes, &rows, window.as_ref(), args, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_alternate_their_order() {
        assert_eq!(alternate(&[1, 2, 3], 0), [1, 2, 3]);
        assert_eq!(alternate(&[1, 2, 3], 1), [3, 2, 1]);
        let args = Args {
            seconds: 1.0,
            rounds: 2,
            pprof: None,
            wide: false,
            go: golang::NoGo { no_go: true },
        };
        let p = plan(&args, Path::new("/nonexistent"));
        assert_eq!(p.sides.len(), 1);
        assert_eq!(p.notes, ["Go left out (--no-go)"]);
        let order: Vec<(Program, u32)> = p.jobs.iter().map(|j| (j.program, j.round)).collect();
        assert_eq!(
            order,
            [
                (Program::AfterInLoop, 0),
                (Program::HoistedAfter, 0),
                (Program::TimerReset, 0),
                (Program::TimerReset, 1),
                (Program::HoistedAfter, 1),
                (Program::AfterInLoop, 1),
            ]
        );
    }

    #[test]
    fn heap_shapes() {
        assert_eq!(HeapShape::of(224.0, 3.0), HeapShape::Grows);
        assert_eq!(HeapShape::of(0.4, 60.0), HeapShape::FreedByGc);
        assert_eq!(HeapShape::of(-0.0, 0.0), HeapShape::Flat);
    }
}

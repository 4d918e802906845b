//! `bench`: Go's timer benchmarks (`src/time/sleep_test.go` and `tick_test.go`), ported to
//! gotimer, run next to Go's own (with every Go toolchain found, one column per version) and next
//! to crossbeam-channel and tokio where they have an equivalent; and the goroutine benchmarks
//! (Sleep1000 and the two lateness ones) with tasks, on gotimer's futures, tokio, async-io and
//! futures-timer.
//!
//! The pipeline, over typed results:
//! - [`plan`]: the benchmarks (`--filter`), the columns (gotimer, each Go version with its `time`
//!   test binary, the peers) and the jobs, in alternating rounds (`--count`);
//! - [`execute`]: runs each job, in the lab's units (ns per timer operation, or lateness);
//! - [`aggregate`]: medians with their min–max, and each round's ratio to each Go version;
//! - [`tables`]: the tables, the targets, CSV, text and `bench.svg` (drawn by [`crate::chart`]).
//!
//! And what they run:
//! - [`catalog`]: every benchmark by what it measures, and its name and unit in each generation
//!   of Go's benchmarks (Go 1.23 renamed and rescaled them);
//! - [`harness`]: Go's harness shape (`-benchtime`, the choice of `b.N`, `RunParallel`);
//! - [`ported`]: the ns/op benchmarks with gotimer, and how each differs from Go, on the hot-path
//!   operations of [`ops`] (`gotimer/benches/ops/mod.rs`, shared with the crate's bench and
//!   callgrind example);
//! - [`latency`]: ParallelTimerLatency and StaggeredTickerLatency with threads, for gotimer and
//!   crossbeam;
//! - [`tasks`]: Sleep1000 and the lateness benchmarks with tasks, for each async timer (the
//!   gotimer-async, tokio-mt, async-io and futures-timer columns);
//! - [`peers`]: the ns/op benchmarks with crossbeam and tokio, and which Go benchmark each stands for;
//! - [`gobench`]: building, running and parsing Go's `time` test binary.

mod aggregate;
mod catalog;
mod execute;
mod gobench;
pub mod harness;
mod latency;
/// The hot-path operations, written once for the crate's bench and example and for the ports.
#[path = "../../../gotimer/benches/ops/mod.rs"]
mod ops;
mod peers;
mod plan;
mod ported;
mod tables;
mod tasks;

pub use catalog::Op;
pub use plan::Engine;

use crate::golang;
use harness::BenchTime;
use std::path::Path;

#[derive(clap::Args)]
pub struct Args {
    /// Time per benchmark, as Go's -benchtime: a duration (1s, 300ms) or a count of ops (100x).
    /// The same value is passed to Go.
    #[arg(long, default_value = "1s", value_parser = BenchTime::parse)]
    benchtime: BenchTime,
    /// Only the benchmarks whose name contains this, ignoring case. Alternatives are separated by
    /// `|`; `^` and `$` anchor (e.g. `^After$|Reset`, `Staggered`, `tickers-per-P=1$`).
    #[arg(long)]
    filter: Option<String>,
    /// Rounds: each runs every benchmark once per column (gotimer, each Go version, the peers),
    /// in reverse order on odd rounds. Figures are the median of the rounds, ratios the median of
    /// each round's ratio, both with their min–max. Useful on a busy machine.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    count: u32,
    #[command(flatten)]
    go: golang::NoGo,
    /// Do not run the peers' columns (crossbeam, tokio, async-io, futures-timer).
    #[arg(long)]
    no_peers: bool,
    /// Idle timers made by each thread first (Go: 1<<15). Other values are for smoke tests: the
    /// ratios to Go are then meaningless.
    #[arg(long, default_value_t = ported::GARBAGE, hide = true)]
    garbage: usize,
    /// Timer operations per op (Go: 1000). Other values are for smoke tests.
    #[arg(long = "ops-per-op", default_value_t = ported::N, hide = true)]
    ops_per_op: usize,
}

pub fn run(args: &Args, out: &Path) -> anyhow::Result<()> {
    let plan = plan::make(args, out)?;
    let results = execute::execute(&plan, args);
    let figures = aggregate::aggregate(&plan, &results);
    tables::write(&plan, &results, &figures, args, out)
}

//! `gotimer-lab`: reproduces the article's `time.After` experiment and Go's timer benchmarks, with
//! gotimer and Go side by side. Every subcommand prints a table and writes CSV and SVG under `--out`.

mod alloc;
mod async_timer;
mod bench;
mod busy;
mod chart;
mod child;
mod golang;
mod leak;
mod mem;
mod proc_self;
mod report;
mod scale;
mod seed;
mod stats;
mod tasks;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "gotimer-lab", version, about, long_about = None)]
struct Cli {
    /// Where CSV and SVG files are written.
    #[arg(long, global = true, default_value = "target/lab")]
    out: PathBuf,
    /// A Go toolchain to compare against, besides those found by themselves (Debian's
    /// /usr/lib/go-1.19/bin/go, `go` on PATH, $GO). Repeatable; one per version is used.
    #[arg(long = "go", value_name = "PATH", global = true)]
    go: Vec<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The article's experiment: time.After in a for/select loop (the leak) and its two fixes,
    /// in Rust with gotimer and in Go, with heap and RSS sampled every 250 ms.
    Seed(seed::Args),
    /// Go's own timer benchmarks (src/time/sleep_test.go), ported, against Go, crossbeam and tokio,
    /// and the goroutine ones with tasks on gotimer::future, tokio, async-io and futures-timer.
    Bench(bench::Args),
    /// Bytes per pending timer with many pending, for each kind of timer and each peer.
    Mem(mem::Args),
    /// Async timers for tasks, gotimer::future vs tokio::time, async-io and futures-timer:
    /// create + poll + drop, many tasks sleeping at once, a 100 µs sleep's precision.
    Tasks(tasks::Args),
    /// ns per insert+cancel and per reset as the number of pending timers grows.
    Scale(scale::Args),
    /// The after_func-in-a-loop leak, found live: the leak watch, /debug/pprof/, go tool pprof.
    Leak(leak::Args),
    /// (internal) One of `seed`'s Rust programs, in its own process: CSV samples on stdout.
    #[command(hide = true)]
    SeedChild(seed::ChildArgs),
    /// (internal) One of `mem`'s Rust measurements, in its own process.
    #[command(hide = true)]
    MemChild(mem::ChildArgs),
    /// (internal) `scale`'s gotimer measurements, in their own process.
    #[command(hide = true)]
    ScaleChild(scale::ChildArgs),
    /// (internal) One of `tasks`' measurements of one library, in its own process.
    #[command(hide = true)]
    TasksChild(tasks::ChildArgs),
    /// (internal) Where one library's crowd of `tasks` spends its time: spawning, the sleeps'
    /// creation, how late tasks resume after their deadlines.
    #[command(hide = true)]
    CrowdPhases(tasks::PhasesArgs),
}

/// A `--seconds`-like argument: a positive, finite number.
fn positive_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() => Ok(v),
        _ => Err(format!("`{s}` is not a positive number of seconds")),
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    golang::configure(cli.go.clone());
    match &cli.command {
        Command::SeedChild(args) => return seed::child(args),
        Command::MemChild(args) => return mem::child(args),
        Command::ScaleChild(args) => return scale::child(args),
        Command::TasksChild(args) => return tasks::child(args),
        Command::CrowdPhases(args) => return tasks::phases(args),
        _ => std::fs::create_dir_all(&cli.out)?,
    }
    match cli.command {
        Command::Seed(args) => seed::run(&args, &cli.out),
        Command::Bench(args) => watched("bench", "its ns/op and ratios", || {
            bench::run(&args, &cli.out)
        }),
        Command::Mem(args) => mem::run(&args, &cli.out),
        Command::Scale(args) => watched("scale", "its ns/op and ratios", || {
            scale::run(&args, &cli.out)
        }),
        Command::Tasks(args) => watched("tasks", "its figures and ratios", || {
            tasks::run(&args, &cli.out)
        }),
        Command::Leak(args) => leak::run(&args, &cli.out),
        Command::SeedChild(_)
        | Command::MemChild(_)
        | Command::ScaleChild(_)
        | Command::TasksChild(_)
        | Command::CrowdPhases(_) => unreachable!(),
    }
}

/// Runs a timed command, then says whether the machine was busy meanwhile (`seed` does the same
/// inside its report): figures taken while other processes held the cores are not to be trusted.
fn watched(
    what: &str,
    figures_affected: &str,
    run: impl FnOnce() -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let watch = busy::Watch::start(what);
    run()?;
    if let Some(window) = watch.finish() {
        for line in busy::verdict(&window, figures_affected) {
            println!("{line}");
        }
    }
    Ok(())
}

//! `bench`'s last stage: the tables (figures, ratios against each Go version, which Go benchmark
//! each row is compared with), the targets, CSV, the text file and the chart.

use super::aggregate::{target, Aggregate, LATE_TARGET, NS_TARGET, TASK_TARGET};
use super::catalog::Bench;
use super::execute::{Figure, Results};
use super::gobench;
use super::plan::{Engine, GoSide, Plan, Runner};
use super::Args;
use crate::chart::{self, BarSeries, Bars};
use crate::report::Table;
use crate::stats::{MedianRange, Verdict};
use plotters::style::RGBColor;
use std::path::Path;

fn rounds_text(rounds: u32) -> String {
    if rounds == 1 {
        "1 round".into()
    } else {
        format!("median of {rounds} alternating rounds")
    }
}

/// The benchmarks of one kind (ns per timer operation, or lateness), with their index in the plan.
fn benches(plan: &Plan, latency: bool) -> Vec<(usize, &Bench)> {
    plan.benches
        .iter()
        .enumerate()
        .filter(|(_, b)| b.is_latency() == latency)
        .collect()
}

/// The columns that are not Go, with their index.
fn rust_columns(plan: &Plan) -> Vec<usize> {
    (0..plan.columns.len())
        .filter(|&c| plan.columns[c].go().is_none())
        .collect()
}

fn labels(plan: &Plan, columns: &[usize]) -> Vec<String> {
    columns
        .iter()
        .map(|&c| plan.columns[c].label.clone())
        .collect()
}

fn ns_table(plan: &Plan, agg: &Aggregate, args: &Args) -> Table {
    let all: Vec<usize> = (0..plan.columns.len()).collect();
    let mut header = vec!["benchmark".to_string()];
    header.extend(labels(plan, &all));
    let mut t = Table::new(
        format!(
            "Go's timer benchmarks, ns per timer operation ({}; {} threads in parallel, each with \
             {} idle timers; lower is better)",
            rounds_text(plan.rounds),
            plan.cores,
            args.garbage
        ),
        header,
    );
    for (b, bench) in benches(plan, false) {
        let mut row = vec![bench.name()];
        row.extend(all.iter().map(|&c| {
            agg.cell(b, c)
                .map_or("-".into(), |cell| format!("{:.1}", cell.value.median))
        }));
        t.row(row);
    }
    t
}

fn late_table(plan: &Plan, agg: &Aggregate) -> Table {
    // tokio-ct runs no latency benchmark: its column would be empty.
    let shown: Vec<usize> = (0..plan.columns.len())
        .filter(|&c| {
            benches(plan, true)
                .iter()
                .any(|(_, b)| plan.columns[c].supports(b))
        })
        .collect();
    let mut header = vec!["benchmark".to_string()];
    header.extend(labels(plan, &shown));
    let mut t = Table::new(
        format!(
            "Timer lateness, average µs (max µs) (Go's avg-late-ns and max-late-ns; {}; lower is \
             better)",
            rounds_text(plan.rounds)
        ),
        header,
    );
    for (b, bench) in benches(plan, true) {
        let mut row = vec![bench.name()];
        row.extend(shown.iter().map(|&c| match agg.cell(b, c) {
            Some(cell) => format!(
                "{:.1} ({:.0})",
                cell.value.median / 1e3,
                cell.max_late.map_or(0.0, |m| m.median / 1e3)
            ),
            None => "-".into(),
        }));
        t.row(row);
    }
    t
}

fn verdict_cell(v: Option<Verdict>, bench: &Bench, engine: Engine) -> String {
    match (v, target(bench, engine)) {
        (Some(v), Some(t)) if v != Verdict::NoFigure => format!("{v} (<={})", t.max),
        _ => "-".into(),
    }
}

/// gotimer's columns (threads, tasks) that this plan runs, with their index.
fn gotimer_columns(plan: &Plan) -> Vec<(usize, Engine)> {
    (plan.columns.iter().enumerate())
        .filter_map(|(c, col)| col.engine().map(|e| (c, e)))
        .filter(|(_, e)| Engine::GOTIMERS.contains(e))
        .collect()
}

/// One of gotimer's columns against every Go version, on the benchmarks it runs: the ratio of each
/// round's figures and the verdict.
fn ratio_table(plan: &Plan, agg: &Aggregate, column: usize, engine: Engine) -> Table {
    let label = engine.label();
    let mut header = vec!["benchmark".to_string()];
    for (_, g) in plan.go_columns() {
        header.extend([format!("{label}/{}", g.go.name()), "target".to_string()]);
    }
    let mut t = Table::new(
        format!(
            "{label} / Go: the ratio of each round's figures, median [min–max] over {} round(s) \
             (ns per timer operation; lateness: average; below 1 {label} is faster)",
            plan.rounds
        ),
        header,
    );
    for (b, bench) in plan.benches.iter().enumerate() {
        if !engine.supports(bench) {
            continue;
        }
        let mut row = vec![bench.name()];
        for (go, _) in plan.go_columns() {
            let v = agg.versus(b, column, go);
            row.push(
                v.and_then(|v| v.ratio)
                    .map_or("-".into(), |r: MedianRange| r.show(2)),
            );
            row.push(verdict_cell(v.and_then(|v| v.verdict), bench, engine));
        }
        t.row(row);
    }
    t
}

/// Which Go benchmark each ns row compares with, and what its op holds.
fn names_table(plan: &Plan) -> Table {
    let mut header = vec!["benchmark".to_string()];
    header.extend(plan.go_columns().map(|(_, g)| g.go.name().to_string()));
    let mut t = Table::new(
        "Go benchmark compared with each row (its ns/op is divided by the timer operations of one \
         op; the latency benchmarks have the same names in every version)",
        header,
    );
    for (_, bench) in benches(plan, false) {
        let mut row = vec![bench.name()];
        for (_, g) in plan.go_columns() {
            row.push(g.name_for(bench).map_or("- (none)".into(), |n| {
                format!("{} (/{})", n.name, n.timer_ops)
            }));
        }
        t.row(row);
    }
    t
}

/// "all met", "MISSED by A, B", or "not run": `column`'s verdicts against Go column `go` on the
/// benchmarks that `which` selects.
fn missed_text(
    plan: &Plan,
    agg: &Aggregate,
    column: usize,
    go: usize,
    which: impl Fn(&Bench) -> bool,
) -> String {
    let mut judged = 0;
    let mut missed = Vec::new();
    for (b, bench) in plan.benches.iter().enumerate().filter(|(_, b)| which(b)) {
        if let Some(v) = agg.versus(b, column, go).and_then(|v| v.verdict) {
            if v == Verdict::NoFigure {
                continue;
            }
            judged += 1;
            if v == Verdict::Missed {
                missed.push(bench.name());
            }
        }
    }
    if judged == 0 {
        "not run".into()
    } else if missed.is_empty() {
        "all met".into()
    } else {
        format!("MISSED by {}", missed.join(", "))
    }
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// How a Go column ran, with the `go test` command that runs the same benchmarks.
fn go_line(plan: &Plan, g: &GoSide) -> String {
    let mut tops: Vec<String> = plan
        .benches
        .iter()
        .filter_map(|b| g.name_for(b).map(|n| n.top_level().to_string()))
        .collect();
    tops.dedup();
    let tops: Vec<&str> = tops.iter().map(String::as_str).collect();
    let equivalent = gobench::test_args(&gobench::bench_regex(&tops), &plan.benchtime);
    format!(
        "{}: {} ({}; one benchmark at a time, with the test binary of `go test -c -tags \
         timetzdata time`; the same benchmarks as `(cd {} && GOTOOLCHAIN=local {} {})`)",
        g.go.version,
        g.go.path.display(),
        g.generation.describe(),
        g.goroot.join("src/time").display(),
        g.go.path.display(),
        equivalent
            .iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    )
}

/// Every job's figures, and every ratio to a Go version.
fn write_csvs(plan: &Plan, results: &Results, agg: &Aggregate, out: &Path) -> anyhow::Result<()> {
    let mut runs = Table::new(
        "bench",
        [
            "benchmark",
            "column",
            "round",
            "iterations",
            "ns_per_timer_op",
            "avg_late_ns",
            "max_late_ns",
            "go_benchmark",
            "timer_ops_per_go_op",
        ],
    );
    for (job, m) in plan.jobs.iter().zip(&results.measured) {
        let Some(m) = m else { continue };
        let bench = &plan.benches[job.bench];
        let column = &plan.columns[job.column];
        let go_name = column.go().and_then(|g| g.name_for(bench));
        let (ns, avg, max) = match m.figure {
            Figure::NsPerTimerOp(ns) => (format!("{ns:.2}"), String::new(), String::new()),
            Figure::Late(l) => (
                String::new(),
                format!("{:.0}", l.avg_ns),
                format!("{:.0}", l.max_ns),
            ),
        };
        runs.row(vec![
            bench.name(),
            column.label.clone(),
            (job.round + 1).to_string(),
            m.iters.to_string(),
            ns,
            avg,
            max,
            go_name.as_ref().map_or(String::new(), |n| n.name.clone()),
            go_name.map_or(String::new(), |n| n.timer_ops.to_string()),
        ]);
    }
    runs.write_csv(&out.join("bench.csv"))?;

    let mut ratios = Table::new(
        "bench ratios",
        [
            "benchmark",
            "column",
            "vs",
            "rounds",
            "median",
            "min",
            "max",
            "target",
            "verdict",
        ],
    );
    for (b, bench) in plan.benches.iter().enumerate() {
        for (go, g) in plan.go_columns() {
            for c in rust_columns(plan) {
                let Some(v) = agg.versus(b, c, go) else {
                    continue;
                };
                let f = |get: fn(&MedianRange) -> f64| {
                    v.ratio.map_or(String::new(), |r| format!("{:.4}", get(&r)))
                };
                ratios.row(vec![
                    bench.name(),
                    plan.columns[c].label.clone(),
                    g.go.name().to_string(),
                    v.ratio.map_or(0, |r| r.n).to_string(),
                    f(|r| r.median),
                    f(|r| r.min),
                    f(|r| r.max),
                    (plan.columns[c].engine())
                        .and_then(|e| target(bench, e))
                        .map_or(String::new(), |t| t.max.to_string()),
                    v.verdict.map_or(String::new(), |v| v.to_string()),
                ]);
            }
        }
    }
    ratios.write_csv(&out.join("bench-ratios.csv"))?;
    for (c, g) in plan.go_columns() {
        let text: String = results
            .go_output
            .iter()
            .filter(|(col, _)| *col == c)
            .map(|(_, t)| t.as_str())
            .collect();
        std::fs::write(out.join(format!("bench-{}.txt", g.go.name())), text)?;
    }
    Ok(())
}

/// A benchmark name short enough for an axis label.
fn short_name(name: &str) -> String {
    match name.strip_prefix("StaggeredTickerLatency/work-dur=") {
        Some(rest) => format!("Staggered {}", rest.replace("/tickers-per-P=", " x")),
        None => name.to_string(),
    }
}

/// The colour of a Rust engine's bars.
fn engine_colour(engine: Engine) -> RGBColor {
    match engine {
        Engine::Gotimer => RGBColor(0xd9, 0x48, 0x1c),
        Engine::GotimerAsync => RGBColor(0xf2, 0x9e, 0x4c),
        Engine::Crossbeam => RGBColor(0x8a, 0x8a, 0x8a),
        Engine::TokioCt => RGBColor(0x4c, 0xa6, 0x4c),
        Engine::TokioMt => RGBColor(0x7b, 0x52, 0xab),
        Engine::AsyncIo => RGBColor(0xc2, 0x3b, 0x80),
        Engine::FuturesTimer => RGBColor(0x6b, 0x4e, 0x2e),
    }
}

/// The colour of the `k`-th Go version's bars (oldest first): shades of Go's blue.
fn go_colour(k: usize) -> RGBColor {
    const SHADES: [RGBColor; 3] = [
        RGBColor(0x00, 0x7d, 0x9c),
        RGBColor(0x00, 0xad, 0xd8),
        RGBColor(0x1f, 0x3f, 0x8f),
    ];
    SHADES[k % SHADES.len()]
}

fn draw_chart(plan: &Plan, agg: &Aggregate, path: &Path) -> anyhow::Result<()> {
    let mut go_k = 0;
    let colours: Vec<_> = plan
        .columns
        .iter()
        .map(|c| match &c.runner {
            Runner::Rust(e) => engine_colour(*e),
            Runner::Go(_) => {
                go_k += 1;
                go_colour(go_k - 1)
            }
        })
        .collect();
    let panel = |latency: bool, title: &str, unit: &str, scale: f64| {
        let bs = benches(plan, latency);
        Bars {
            title: title.into(),
            unit: unit.into(),
            log: true,
            show_values: false,
            categories: bs.iter().map(|(_, b)| short_name(&b.name())).collect(),
            series: plan
                .columns
                .iter()
                .enumerate()
                .map(|(c, col)| BarSeries {
                    name: col.label.clone(),
                    colour: colours[c],
                    values: bs
                        .iter()
                        .map(|&(b, _)| agg.cell(b, c).map(|cell| cell.value.median / scale))
                        .collect(),
                })
                .collect(),
        }
    };
    let mut panels = Vec::new();
    if !benches(plan, false).is_empty() {
        panels.push(panel(
            false,
            "Go's timer benchmarks: ns per timer operation (log scale, lower is better)",
            "ns per timer op",
            1.0,
        ));
    }
    if !benches(plan, true).is_empty() {
        panels.push(panel(
            true,
            "Average lateness, µs (log scale, lower is better)",
            "avg-late µs",
            1e3,
        ));
    }
    chart::bar_charts(path, &panels)
}

pub fn write(
    plan: &Plan,
    results: &Results,
    agg: &Aggregate,
    args: &Args,
    out: &Path,
) -> anyhow::Result<()> {
    let has_go = plan.go_columns().next().is_some();
    let mut text = String::new();
    let mut push_table = |t: Table| {
        if !t.rows.is_empty() {
            text.push_str(&t.render());
            text.push('\n');
        }
    };
    push_table(ns_table(plan, agg, args));
    push_table(late_table(plan, agg));
    if has_go {
        for (c, engine) in gotimer_columns(plan) {
            push_table(ratio_table(plan, agg, c, engine));
        }
        push_table(names_table(plan));
    }
    for (c, engine) in gotimer_columns(plan) {
        for (go, g) in plan.go_columns() {
            let missed = |which: fn(&Bench) -> bool| missed_text(plan, agg, c, go, which);
            text.push_str(&match engine {
                Engine::GotimerAsync => format!(
                    "Targets of gotimer-async (tasks) against {}: Sleep per sleep and every \
                     StaggeredTickerLatency row's average lateness at most {}x: {}.\n",
                    g.go.name(),
                    TASK_TARGET.max,
                    missed(|b| target(b, Engine::GotimerAsync).is_some()),
                ),
                _ => format!(
                    "Targets against {}: ns per timer operation at most {}x: {}. \
                     ParallelTimerLatency average lateness at most {}x: {}.\n",
                    g.go.name(),
                    NS_TARGET.max,
                    missed(|b| !b.is_latency()),
                    LATE_TARGET.max,
                    missed(|b| b.is_latency()),
                ),
            });
        }
    }
    text.push_str(&format!(
        "Machine: {} cores; -benchtime {}; gotimer and peers: {}\n",
        plan.cores,
        plan.benchtime,
        std::env::args().collect::<Vec<_>>().join(" ")
    ));
    for (_, g) in plan.go_columns() {
        text.push_str(&go_line(plan, g));
        text.push('\n');
    }
    text.push_str(DIFFERENCES);
    for n in plan.notes.iter().chain(&results.notes) {
        text.push_str(&format!("Note: {n}\n"));
    }
    print!("{text}");

    write_csvs(plan, results, agg, out)?;
    let svg = out.join("bench.svg");
    draw_chart(plan, agg, &svg)?;
    std::fs::write(out.join("bench.txt"), &text)?;
    eprintln!(
        "wrote {}, {}, {} and {}",
        out.join("bench.csv").display(),
        out.join("bench-ratios.csv").display(),
        svg.display(),
        out.join("bench.txt").display()
    );
    Ok(())
}

/// What differs from Go, printed under the tables.
const DIFFERENCES: &str = "\
How the ports differ from Go (see lab/src/bench/*.rs):
  - Units: every ns/op figure is ns per timer operation. Go before 1.23 runs 1000 operations per
    op; Go 1.23+ runs one, except AfterFunc1000, SimultaneousAfterFunc1000, StartStop1000,
    Sleep1000 (1000) and AdjustTimers10000 (10000). Stop and Reset compare with Go 1.23+'s
    impl=chan sub-benchmarks (a channel timer, as Timer::new is). The ports run 1000 per op.
  - Harness: one OS thread per core stands for RunParallel's goroutines (GOMAXPROCS = cores); each
    makes its 2^15 idle after_func(1h) timers before the clock starts, as Go does per P.
  - AfterFunc, SimultaneousAfterFunc, ParallelTimerLatency: callbacks run on gotimer's callback
    threads, not in a new goroutine each; the WaitGroup is an atomic count that unparks the waiter.
  - Sleep: Go starts 1000 goroutines per op; the port wakes 1000 sleeper threads started before the
    clock (thread creation, ~10-20 us each, would swamp the timer), each gotimer::sleep(1ns) (the
    OS sleep).
  - Ticker, TickerReset, TickerResetNaive: a Ticker::new(1ns) per body call of 1000 receives,
    resets to 2ns, or stop-and-new; AdjustTimers: 10000 after_func(1h), the last reset to 1ns,
    sleep(1us), all stopped.
  - StaggeredTickerLatency: one OS thread per ticker where Go has one goroutine.
  - After: gotimer::after is crossbeam's after channel (the receiver's timed wait is the timer), so
    the gotimer and crossbeam After columns measure the same code.
Peers (lab/src/bench/peers.rs): crossbeam after/at stand for After, Stop, StartStop (they register
  nothing: Stop and StartStop only allocate channels), tick for Ticker, TickerResetNaive and
  StaggeredTickerLatency; tokio sleep / timeout / Sleep::reset / interval / spawned tasks stand for
  every ns/op benchmark, and sleep_until / interval (Skip) for the latency ones. tokio-ct: one
  current-thread runtime per core thread (no latency benchmarks: one thread cannot serve timers
  while it spins); tokio-mt: one runtime with a worker per core and a benchmark task per core.
  tokio's timer counts whole milliseconds, so a sleep(0 or 1ns) that has to wait for the timer
  takes up to 1 ms.
Tasks (lab/src/bench/tasks.rs): gotimer-async (gotimer::future), tokio-mt, async-io and
  futures-timer run Sleep, ParallelTimerLatency and StaggeredTickerLatency as tasks on one tokio
  runtime with a worker per core, each with its own timer: Sleep spawns 1000 tasks per op that each
  sleep(1ns).await (Go's goroutines), the garbage is 2^15 registered one-hour sleeps per
  benchmark task; the callbacks and ticker goroutines are tasks (sleep_until, an interval per task:
  gotimer::future::interval, Go's ticker; tokio with MissedTickBehavior::Skip; async-io's
  Timer::interval, which bursts missed ticks; futures-timer has no interval). A task spinning in
  doWork holds its worker: tasks are not preempted, goroutines are (after 10 ms). So
  StaggeredTickerLatency's body, a goroutine in Go, is a task that yields after each 10 ms it runs.
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_shorten() {
        assert_eq!(
            short_name("StaggeredTickerLatency/work-dur=300µs/tickers-per-P=10"),
            "Staggered 300µs x10"
        );
        assert_eq!(short_name("Reset"), "Reset");
    }
}

//! `bench`: Go's timer benchmarks (`src/time/sleep_test.go`), ported to gotimer, run next to Go's
//! own (when a Go toolchain is found) and next to crossbeam-channel and tokio where they have an
//! equivalent.
//!
//! - [`harness`]: Go's harness shape (`-benchtime`, the choice of `b.N`, `RunParallel`).
//! - [`ported`]: the ns/op benchmarks with gotimer, and how each differs from Go.
//! - [`latency`]: ParallelTimerLatency and StaggeredTickerLatency, for gotimer and the peers.
//! - [`peers`]: the ns/op benchmarks with crossbeam and tokio, and which Go benchmark each stands for.
//! - [`gobench`]: running and parsing `go test -bench`.
//! - [`chart`]: draws `bench.svg`.

mod chart;
mod gobench;
mod harness;
mod latency;
mod peers;
mod ported;

use crate::report::Table;
use harness::{go_duration_name, BenchTime, Lateness, Measured};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

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
    /// Runs of each benchmark, alternating gotimer, Go and the peers; the tables show the median
    /// (Go's -count, summarized as benchstat would). Useful on a busy machine.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    count: u32,
    /// Do not run Go's benchmarks, even if Go is installed.
    #[arg(long)]
    no_go: bool,
    /// Do not run the crossbeam and tokio columns.
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

/// The ns/op benchmarks of sleep_test.go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    AfterFunc,
    After,
    Stop,
    SimultaneousAfterFunc,
    StartStop,
    Reset,
    Sleep,
}

impl Op {
    const ALL: [Op; 7] = [
        Op::AfterFunc,
        Op::After,
        Op::Stop,
        Op::SimultaneousAfterFunc,
        Op::StartStop,
        Op::Reset,
        Op::Sleep,
    ];
}

/// What a benchmark measures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// ns per call of bench(1000).
    Ns(Op),
    /// BenchmarkParallelTimerLatency: lateness only.
    Parallel,
    /// One sub-benchmark of BenchmarkStaggeredTickerLatency: lateness only.
    Staggered { work: Duration, per_p: usize },
}

/// A benchmark (or sub-benchmark) under Go's name, without the `Benchmark` prefix.
#[derive(Clone, Debug)]
pub struct Def {
    pub name: String,
    pub kind: Kind,
}

impl Def {
    fn top_level(&self) -> &str {
        self.name.split('/').next().unwrap_or(&self.name)
    }
}

/// Every benchmark, in sleep_test.go's order.
pub fn all_benchmarks() -> Vec<Def> {
    let mut v: Vec<Def> = Op::ALL
        .iter()
        .map(|&op| Def {
            name: format!("{op:?}"),
            kind: Kind::Ns(op),
        })
        .collect();
    v.push(Def {
        name: "ParallelTimerLatency".into(),
        kind: Kind::Parallel,
    });
    for work in [Duration::from_micros(300), Duration::from_millis(2)] {
        let per_p_max = (latency::STAGGERED_DELAY.as_nanos() / work.as_nanos()) as usize;
        for per_p in 1..=per_p_max {
            v.push(Def {
                name: format!(
                    "StaggeredTickerLatency/work-dur={}/tickers-per-P={per_p}",
                    go_duration_name(work)
                ),
                kind: Kind::Staggered { work, per_p },
            });
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

/// The Rust engines; Go is run separately.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Engine {
    Gotimer,
    Crossbeam,
    TokioCt,
    TokioMt,
}

impl Engine {
    pub const PEERS: [Engine; 3] = [Engine::Crossbeam, Engine::TokioCt, Engine::TokioMt];

    pub fn label(self) -> &'static str {
        match self {
            Engine::Gotimer => "gotimer",
            Engine::Crossbeam => "crossbeam",
            Engine::TokioCt => "tokio-ct",
            Engine::TokioMt => "tokio-mt",
        }
    }

    fn supports(self, kind: Kind) -> bool {
        match kind {
            Kind::Ns(op) => peers::supports(self, op),
            Kind::Parallel | Kind::Staggered { .. } => self != Engine::TokioCt,
        }
    }
}

/// `a / b`, the ratio the tables print; None without both figures or with a zero divisor.
pub fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 && a.is_finite() => Some(a / b),
        _ => None,
    }
}

/// The verdict on a target "ratio at most `max`".
pub fn verdict(r: Option<f64>, max: f64) -> &'static str {
    match r {
        Some(r) if r <= max => "met",
        Some(_) => "MISSED",
        None => "-",
    }
}

/// The ns/op target: every ported benchmark at most this times Go's.
pub const NS_TARGET: f64 = 0.5;
/// The ParallelTimerLatency target: average lateness at most this times Go's.
pub const LATE_TARGET: f64 = 0.25;

/// One engine's figures for one benchmark.
#[derive(Clone, Debug, Default)]
struct Figures {
    /// How many runs these figures summarize (the median of each).
    runs: usize,
    iters: u64,
    ns_op: Option<f64>,
    late: Option<Lateness>,
}

impl From<&Measured> for Figures {
    fn from(m: &Measured) -> Self {
        Figures {
            runs: 1,
            iters: m.iters,
            ns_op: m.late.is_none().then(|| m.ns_per_op()),
            late: m.late,
        }
    }
}

impl From<&gobench::GoResult> for Figures {
    fn from(g: &gobench::GoResult) -> Self {
        let late = match (g.metric("avg-late-ns"), g.metric("max-late-ns")) {
            (Some(avg_ns), Some(max_ns)) => Some(Lateness { avg_ns, max_ns }),
            _ => None,
        };
        Figures {
            runs: 1,
            iters: g.iters,
            ns_op: g.metric("ns/op"),
            late,
        }
    }
}

impl Figures {
    /// The median of each figure over several runs.
    fn median(all: &[Figures]) -> Figures {
        let med =
            |get: &dyn Fn(&Figures) -> Option<f64>| median(all.iter().filter_map(get).collect());
        let avg = med(&|f| f.late.map(|l| l.avg_ns));
        let max = med(&|f| f.late.map(|l| l.max_ns));
        Figures {
            runs: all.len(),
            iters: med(&|f| Some(f.iters as f64)).map_or(0, |v| v.round() as u64),
            ns_op: med(&|f| f.ns_op),
            late: avg
                .zip(max)
                .map(|(avg_ns, max_ns)| Lateness { avg_ns, max_ns }),
        }
    }
}

/// The median (the mean of the middle two for an even count); None for no values.
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

fn fmt_ns(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.0}"))
}

fn fmt_us(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{:.1}", v / 1e3))
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or("-".into(), |r| format!("{r:.2}"))
}

pub fn run(args: &Args, out: &Path) -> anyhow::Result<()> {
    let cores = harness::cores();
    let benchtime_str = match args.benchtime {
        BenchTime::Iters(n) => format!("{n}x"),
        BenchTime::Time(d) => format!("{}ms", d.as_millis().max(1)),
    };
    let selected: Vec<Def> = all_benchmarks()
        .into_iter()
        .filter(|d| {
            args.filter
                .as_deref()
                .is_none_or(|f| filter_matches(f, &d.name))
        })
        .collect();
    if selected.is_empty() {
        anyhow::bail!(
            "--filter {:?} matches no benchmark; names are: {}",
            args.filter.as_deref().unwrap_or(""),
            all_benchmarks()
                .iter()
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let mut notes: Vec<String> = Vec::new();
    let smoke = args.garbage != ported::GARBAGE || args.ops_per_op != ported::N;
    if smoke {
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

    // Go: found and its test binary built first, so that each benchmark's Go run comes right
    // after its gotimer run.
    let mut go_line = None;
    let mut go_bin = None;
    if args.no_go {
        notes.push("Go columns skipped (--no-go)".into());
    } else {
        match gobench::find() {
            Err(why) => {
                let msg = format!("Go columns skipped: {why}");
                eprintln!("{msg}");
                notes.push(msg);
            }
            Ok(tree) => {
                let go = &tree.go;
                let spinner = ProgressBar::new_spinner()
                    .with_message(format!("building Go's time test binary ({})", go.version));
                spinner.enable_steady_tick(Duration::from_millis(200));
                let built = tree.build_test_binary(&out.join("go").join("time.test"));
                spinner.finish_and_clear();
                match built {
                    Ok(bin) => {
                        let mut tops: Vec<&str> = selected.iter().map(|d| d.top_level()).collect();
                        tops.dedup();
                        let equivalent =
                            gobench::test_args(&gobench::bench_regex(&tops), &benchtime_str);
                        go_line = Some(format!(
                            "Go: {} (one benchmark at a time, with the test binary of `go test -c -tags \
                             timetzdata time`; same as `(cd {} && {} {})`)",
                            go.version,
                            tree.goroot.join("src/time").display(),
                            go.path.display(),
                            equivalent
                                .iter()
                                .map(|a| shell_quote(a))
                                .collect::<Vec<_>>()
                                .join(" ")
                        ));
                        go_bin = Some(bin);
                    }
                    Err(e) => {
                        let msg = format!("Go columns empty: {e:#}");
                        eprintln!("{msg}");
                        notes.push(msg);
                    }
                }
            }
        }
    }

    // Every (benchmark, engine) pair, benchmark by benchmark: gotimer, Go, then the peers.
    let engines: Vec<Engine> = std::iter::once(Engine::Gotimer)
        .chain(if args.no_peers {
            vec![]
        } else {
            Engine::PEERS.to_vec()
        })
        .collect();
    let jobs: Vec<(usize, Option<Engine>)> = selected
        .iter()
        .enumerate()
        .flat_map(|(i, d)| std::iter::repeat_n((i, d), args.count as usize))
        .flat_map(|(i, d)| {
            let rust = engines
                .iter()
                .filter(move |e| e.supports(d.kind))
                .map(move |&e| (i, Some(e)));
            let go = go_bin.as_ref().map(|_| (i, None));
            rust.take(1).chain(go).chain(
                engines
                    .iter()
                    .skip(1)
                    .filter(move |e| e.supports(d.kind))
                    .map(move |&e| (i, Some(e))),
            )
        })
        .collect();
    eprintln!(
        "bench: {} benchmark(s), {} run(s), -benchtime {benchtime_str}, {cores} thread(s)",
        selected.len(),
        jobs.len()
    );
    let bar = ProgressBar::new(jobs.len() as u64).with_style(
        ProgressStyle::with_template("{elapsed:>4} [{bar:30}] {pos}/{len} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(250));
    let mut runs: HashMap<(String, String), Vec<Figures>> = HashMap::new();
    let mut go_output = String::new();
    for &(i, engine) in &jobs {
        let def = &selected[i];
        bar.set_message(format!(
            "{} · {}",
            def.name,
            engine.map_or("Go", |e| e.label())
        ));
        let Some(engine) = engine else {
            let bin = go_bin.as_ref().expect("Go jobs only with a binary");
            match bin.run(&gobench::bench_regex_one(&def.name), &benchtime_str) {
                Ok(text) => {
                    for r in gobench::parse(&text) {
                        if r.name == def.name {
                            runs.entry((r.name.clone(), "Go".to_string()))
                                .or_default()
                                .push(Figures::from(&r));
                        }
                    }
                    go_output.push_str(&text);
                }
                Err(e) => {
                    let msg = format!("Go failed on {}: {e:#}", def.name);
                    bar.suspend(|| eprintln!("{msg}"));
                    notes.push(msg);
                }
            }
            bar.inc(1);
            continue;
        };
        let m = match def.kind {
            Kind::Ns(op) if engine == Engine::Gotimer => Some(ported::run(
                op,
                args.benchtime,
                cores,
                args.garbage,
                args.ops_per_op,
            )),
            Kind::Ns(op) => peers::run(
                engine,
                op,
                args.benchtime,
                cores,
                args.garbage,
                args.ops_per_op,
            ),
            Kind::Parallel => latency::parallel(engine, args.benchtime, cores),
            Kind::Staggered { work, per_p } => {
                latency::staggered(engine, args.benchtime, cores, work, per_p)
            }
        };
        if let Some(m) = m {
            runs.entry((def.name.clone(), engine.label().to_string()))
                .or_default()
                .push(Figures::from(&m));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if go_bin.is_some() {
        std::fs::write(out.join("bench-go.txt"), &go_output)?;
    }

    // Tables.
    let results: HashMap<(String, String), Figures> = runs
        .into_iter()
        .map(|(k, v)| (k, Figures::median(&v)))
        .collect();
    let get = |name: &str, engine: &str| results.get(&(name.to_string(), engine.to_string()));
    let peer_labels: Vec<&str> = if args.no_peers {
        vec![]
    } else {
        Engine::PEERS.iter().map(|e| e.label()).collect()
    };

    let mut ns_header = vec!["benchmark", "gotimer", "Go", "gotimer/Go", "target <=0.5"];
    ns_header.extend(&peer_labels);
    let median_of = if args.count > 1 {
        format!("; median of {} runs", args.count)
    } else {
        String::new()
    };
    let mut ns_table = Table::new(
        format!(
            "Go's timer benchmarks, ns/op (1 op = {} timer operations; {cores} threads in \
             parallel, each with {} idle timers{median_of}; lower is better)",
            args.ops_per_op, args.garbage
        ),
        &ns_header,
    );
    let mut late_header = vec![
        "benchmark",
        "gotimer avg",
        "Go avg",
        "gotimer/Go",
        "target <=0.25",
        "gotimer max",
        "Go max",
    ];
    let peer_late: Vec<String> = peer_labels
        .iter()
        .filter(|l| **l != Engine::TokioCt.label())
        .flat_map(|l| [format!("{l} avg"), format!("{l} max")])
        .collect();
    late_header.extend(peer_late.iter().map(|s| s.as_str()));
    let mut late_table = Table::new(
        format!(
            "Timer lateness, µs (Go's avg-late-ns and max-late-ns, in µs{median_of}; lower is \
             better)"
        ),
        &late_header,
    );
    let mut csv = Table::new(
        "bench",
        &[
            "benchmark",
            "engine",
            "runs",
            "iterations",
            "ns_per_op",
            "avg_late_ns",
            "max_late_ns",
            "ratio_to_go",
        ],
    );
    let mut ns_missed = Vec::new();
    let mut late_missed = Vec::new();
    for def in &selected {
        let g = get(&def.name, "gotimer");
        let go = get(&def.name, "Go");
        match def.kind {
            Kind::Ns(_) => {
                let r = ratio(g.and_then(|f| f.ns_op), go.and_then(|f| f.ns_op));
                if verdict(r, NS_TARGET) == "MISSED" {
                    ns_missed.push(def.name.clone());
                }
                let mut row = vec![
                    def.name.clone(),
                    fmt_ns(g.and_then(|f| f.ns_op)),
                    go_cell(go.and_then(|f| f.ns_op), args.no_go, go_line.is_some()),
                    fmt_ratio(r),
                    verdict(r, NS_TARGET).into(),
                ];
                for p in &peer_labels {
                    row.push(fmt_ns(get(&def.name, p).and_then(|f| f.ns_op)));
                }
                ns_table.row(row);
            }
            Kind::Parallel | Kind::Staggered { .. } => {
                let avg = |f: Option<&Figures>| f.and_then(|f| f.late).map(|l| l.avg_ns);
                let max = |f: Option<&Figures>| f.and_then(|f| f.late).map(|l| l.max_ns);
                let r = ratio(avg(g), avg(go));
                let target = if def.kind == Kind::Parallel {
                    if verdict(r, LATE_TARGET) == "MISSED" {
                        late_missed.push(def.name.clone());
                    }
                    verdict(r, LATE_TARGET)
                } else {
                    "-"
                };
                let mut row = vec![
                    def.name.clone(),
                    fmt_us(avg(g)),
                    go_cell(avg(go).map(|v| v / 1e3), args.no_go, go_line.is_some()),
                    fmt_ratio(r),
                    target.into(),
                    fmt_us(max(g)),
                    go_cell(max(go).map(|v| v / 1e3), args.no_go, go_line.is_some()),
                ];
                for p in peer_labels
                    .iter()
                    .filter(|l| **l != Engine::TokioCt.label())
                {
                    row.push(fmt_us(avg(get(&def.name, p))));
                    row.push(fmt_us(max(get(&def.name, p))));
                }
                late_table.row(row);
            }
        }
        for engine in std::iter::once("gotimer")
            .chain(std::iter::once("Go"))
            .chain(peer_labels.iter().copied())
        {
            let Some(f) = get(&def.name, engine) else {
                continue;
            };
            let r = if engine == "Go" {
                None
            } else if f.late.is_some() {
                ratio(
                    f.late.map(|l| l.avg_ns),
                    go.and_then(|g| g.late).map(|l| l.avg_ns),
                )
            } else {
                ratio(f.ns_op, go.and_then(|g| g.ns_op))
            };
            csv.row(vec![
                def.name.clone(),
                engine.into(),
                f.runs.to_string(),
                f.iters.to_string(),
                f.ns_op.map_or(String::new(), |v| format!("{v:.1}")),
                f.late.map_or(String::new(), |l| format!("{:.0}", l.avg_ns)),
                f.late.map_or(String::new(), |l| format!("{:.0}", l.max_ns)),
                r.map_or(String::new(), |r| format!("{r:.4}")),
            ]);
        }
    }

    let mut text = String::new();
    if !ns_table.rows.is_empty() {
        text.push_str(&ns_table.render());
        text.push('\n');
    }
    if !late_table.rows.is_empty() {
        text.push_str(&late_table.render());
        text.push('\n');
    }
    if go_line.is_some() {
        text.push_str(&format!(
            "Targets: ns/op at most {NS_TARGET}x Go's: {}. ParallelTimerLatency average lateness \
             at most {LATE_TARGET}x Go's: {}.\n",
            missed_text(&ns_missed, ns_table.rows.len()),
            missed_text(
                &late_missed,
                usize::from(selected.iter().any(|d| d.kind == Kind::Parallel))
            )
        ));
    }
    text.push_str(&format!(
        "Machine: {cores} cores; -benchtime {benchtime_str}; gotimer and peers: {}\n",
        std::env::args().collect::<Vec<_>>().join(" ")
    ));
    if let Some(l) = &go_line {
        text.push_str(l);
        text.push('\n');
    }
    text.push_str(DIFFERENCES);
    for n in &notes {
        text.push_str(&format!("Note: {n}\n"));
    }
    print!("{text}");

    let csv_path = out.join("bench.csv");
    csv.write_csv(&csv_path)?;
    let svg_path = out.join("bench.svg");
    let engines_shown: Vec<&str> = std::iter::once("gotimer")
        .chain(go_line.is_some().then_some("Go"))
        .chain(peer_labels.iter().copied())
        .collect();
    let ns_names: Vec<&Def> = selected
        .iter()
        .filter(|d| matches!(d.kind, Kind::Ns(_)))
        .collect();
    let late_names: Vec<&Def> = selected
        .iter()
        .filter(|d| !matches!(d.kind, Kind::Ns(_)))
        .collect();
    let panel = |defs: &[&Def], value: &dyn Fn(&Figures) -> Option<f64>| chart::Panel {
        categories: defs.iter().map(|d| chart::short_name(&d.name)).collect(),
        series: engines_shown
            .iter()
            .map(|e| {
                (
                    e.to_string(),
                    defs.iter()
                        .map(|d| get(&d.name, e).and_then(value))
                        .collect(),
                )
            })
            .collect(),
        title: String::new(),
        unit: String::new(),
    };
    let mut panels = Vec::new();
    if !ns_names.is_empty() {
        let mut p = panel(&ns_names, &|f| f.ns_op);
        p.title = "Go's timer benchmarks: ns/op (log scale, lower is better)".into();
        p.unit = "ns/op".into();
        panels.push(p);
    }
    if !late_names.is_empty() {
        let mut p = panel(&late_names, &|f| f.late.map(|l| l.avg_ns / 1e3));
        p.title = "Average lateness, µs (log scale, lower is better)".into();
        p.unit = "avg-late µs".into();
        panels.push(p);
    }
    chart::draw(&svg_path, &panels)?;
    std::fs::write(out.join("bench.txt"), &text)?;
    eprintln!(
        "wrote {}, {} and {}",
        csv_path.display(),
        svg_path.display(),
        out.join("bench.txt").display()
    );
    Ok(())
}

fn missed_text(missed: &[String], total: usize) -> String {
    if total == 0 {
        "not run".into()
    } else if missed.is_empty() {
        "all met".into()
    } else {
        format!("MISSED by {}", missed.join(", "))
    }
}

fn go_cell(v: Option<f64>, no_go: bool, go_ran: bool) -> String {
    match v {
        Some(v) => format!("{v:.0}"),
        None if no_go || !go_ran => "skipped".into(),
        None => "-".into(),
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

/// What differs from Go, printed under the tables (the module docs have the details).
const DIFFERENCES: &str = "\
How the ports differ from Go (see lab/src/bench/*.rs):
  - Harness: one OS thread per core stands for RunParallel's goroutines (GOMAXPROCS = cores); each
    makes its 2^15 idle after_func(1h) timers before the clock starts, as Go does per P.
  - AfterFunc, SimultaneousAfterFunc, ParallelTimerLatency: callbacks run on gotimer's callback
    threads, not in a new goroutine each; the WaitGroup is an atomic count that unparks the waiter.
  - Sleep: Go starts 1000 goroutines per op; the port wakes 1000 sleeper threads started before the
    clock (thread creation, ~10-20 us each, would swamp the timer), each gotimer::sleep(1ns) (the
    OS sleep).
  - StaggeredTickerLatency: one OS thread per ticker where Go has one goroutine.
  - After: gotimer::after is crossbeam's after channel (the receiver's timed wait is the timer), so
    the gotimer and crossbeam After columns measure the same code.
Peers (lab/src/bench/peers.rs): crossbeam after/at stand for After, Stop, StartStop (they register
  nothing: Stop and StartStop only allocate channels) and tick for StaggeredTickerLatency; tokio
  sleep / timeout / Sleep::reset / spawned tasks stand for all seven ns/op benchmarks, and
  sleep_until / interval (Skip) for the latency ones. tokio-ct: one current-thread runtime per core
  thread (no latency benchmarks: one thread cannot serve timers while it spins); tokio-mt: one
  runtime with a worker per core and a benchmark task per core. tokio's timer counts whole
  milliseconds, so a sleep(0 or 1ns) that has to wait for the timer takes up to 1 ms.
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_go() {
        let all = all_benchmarks();
        assert_eq!(all.len(), 7 + 1 + 10 + 1);
        assert_eq!(all[0].name, "AfterFunc");
        assert_eq!(all[7].name, "ParallelTimerLatency");
        assert_eq!(
            all[8].name,
            "StaggeredTickerLatency/work-dur=300µs/tickers-per-P=1"
        );
        assert_eq!(
            all[18].name,
            "StaggeredTickerLatency/work-dur=2ms/tickers-per-P=1"
        );
        assert_eq!(all[18].top_level(), "StaggeredTickerLatency");
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

    #[test]
    fn ratio_maths() {
        assert_eq!(ratio(Some(250.0), Some(1000.0)), Some(0.25));
        assert_eq!(ratio(Some(3.0), Some(2.0)), Some(1.5));
        assert_eq!(ratio(None, Some(2.0)), None);
        assert_eq!(ratio(Some(2.0), None), None);
        assert_eq!(
            ratio(Some(2.0), Some(0.0)),
            None,
            "Go's 0 ns/op is no figure"
        );
        assert_eq!(verdict(Some(0.5), NS_TARGET), "met");
        assert_eq!(verdict(Some(0.51), NS_TARGET), "MISSED");
        assert_eq!(verdict(Some(0.25), LATE_TARGET), "met");
        assert_eq!(verdict(None, NS_TARGET), "-");
        assert_eq!(fmt_ratio(Some(0.123)), "0.12");
        assert_eq!(fmt_us(Some(190568.0)), "190.6");
    }

    #[test]
    fn go_figures_from_the_sample() {
        let rs = gobench::parse(gobench::tests_sample());
        let stop = rs.iter().find(|r| r.name == "Stop").unwrap();
        let f = Figures::from(stop);
        assert_eq!(f.ns_op, Some(528518.0));
        assert!(f.late.is_none());
        let p = Figures::from(&rs[7]);
        assert_eq!(p.ns_op, None);
        assert_eq!(
            p.late,
            Some(Lateness {
                avg_ns: 190568.0,
                max_ns: 3476105.0
            })
        );
        // Several runs: the median of each figure.
        let three = Figures::median(&[f.clone(), Figures::from(&rs[1]), Figures::from(&rs[0])]);
        assert_eq!(three.runs, 3);
        assert_eq!(three.ns_op, Some(552623.0), "Stop, After, AfterFunc");
        // The ratio the table would print for a gotimer Stop of 100000 ns/op.
        assert_eq!(fmt_ratio(ratio(Some(100000.0), f.ns_op)), "0.19");
    }

    #[test]
    fn medians() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0]), Some(3.0));
        assert_eq!(median(vec![9.0, 1.0, 5.0]), Some(5.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 100.0]), Some(3.0));
    }

    #[test]
    fn every_peer_support_is_declared() {
        assert!(Engine::Gotimer.supports(Kind::Ns(Op::Sleep)));
        assert!(!Engine::Crossbeam.supports(Kind::Ns(Op::Reset)));
        assert!(Engine::Crossbeam.supports(Kind::Parallel));
        assert!(!Engine::TokioCt.supports(Kind::Parallel));
        assert!(Engine::TokioMt.supports(Kind::Ns(Op::AfterFunc)));
    }
}

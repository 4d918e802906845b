//! `seed`'s output: one table with a row per program and side, the story it tells about the
//! leaking loop, the targets, the samples as CSV and the heap chart.

use super::Args;
use super::{HeapShape, Outcome, Plan, Program, Summary, PROGRAMS};
use crate::busy::Window;
use crate::chart::{self, LineChart, Series};
use crate::report::{self, Table};
use crate::stats::{fixed, MedianRange, Verdict};
use anyhow::Context as _;
use std::path::Path;

/// The targets for gotimer's after-in-loop: retained bytes per iteration within 1 B of
/// zero, and messages/s at least 0.9x the hoisted variant's.
const RETAINS_NOTHING: f64 = 1.0;
const VS_HOISTED: f64 = 0.9;

/// MB (10^6 bytes) with two decimals below 10, none above.
fn mb(bytes: f64) -> String {
    let v = bytes / 1e6;
    if v.abs() < 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.0}")
    }
}

fn opt(v: Option<MedianRange>, decimals: usize) -> String {
    v.map_or("-".into(), |v| v.show(decimals))
}

/// The printed output's width without `--wide`.
pub const WIDTH: usize = 100;

/// The columns printed by default; `--wide` prints all of [`full_table`]'s.
const NARROW: [&str; 6] = [
    "program",
    "side",
    "messages/s (M)",
    "vs hoisted",
    "retained B/iter",
    "heap",
];

pub(super) fn write(
    plan: &Plan,
    outcomes: &[Outcome],
    rows: &[Summary],
    window: Option<&Window>,
    args: &Args,
    out: &Path,
) -> anyhow::Result<()> {
    write_samples(plan, outcomes, &out.join("seed.csv"))?;
    let gos: Vec<_> = plan
        .sides
        .iter()
        .filter_map(|s| match &s.runner {
            super::Runner::Go { go, .. } => Some(go.clone()),
            super::Runner::Gotimer => None,
        })
        .collect();
    let suffix = crate::golang::title_suffix(&gos);
    let summary = out.join("seed-summary.csv");
    full_table(plan, rows, args, &suffix)
        .write_csv(&summary)
        .with_context(|| format!("writing {}", summary.display()))?;
    print!("{}", text(plan, rows, window, args, &suffix));
    chart(plan, outcomes, &out.join("seed.svg"))?;
    let wrote = format!(
        "wrote {}, {} and {}",
        out.join("seed.csv").display(),
        summary.display(),
        out.join("seed.svg").display()
    );
    let width = if args.wide { usize::MAX } else { WIDTH };
    for l in report::wrap(&wrote, width, "  ", "    ") {
        println!("{l}");
    }
    Ok(())
}

/// The table printed by default: what the story and the targets rest on, the retained bytes as
/// their median alone.
fn narrow_table(plan: &Plan, rows: &[Summary], args: &Args, suffix: &str) -> Table {
    let mut table = Table::new(title(args, suffix), NARROW);
    for r in rows {
        table.row(vec![
            r.program.name().into(),
            plan.sides[r.side].label.clone(),
            r.messages_per_s.scaled(1e6).show(2),
            opt(r.vs_hoisted, 2),
            fixed(r.bytes_per_iteration.median, 1),
            r.shape.name().into(),
        ]);
    }
    table
}

fn title(args: &Args, suffix: &str) -> String {
    let rounds = if args.rounds == 1 {
        "1 round".to_string()
    } else {
        format!("median [min–max] of {} alternating rounds", args.rounds)
    };
    format!(
        "seed: the article's loop, {} s per program and round, each run in its own process;\n  \
         {rounds}{suffix}",
        args.seconds,
    )
}

/// Every column: the CSV, and the table `--wide` prints.
fn full_table(plan: &Plan, rows: &[Summary], args: &Args, suffix: &str) -> Table {
    let mut table = Table::new(
        title(args, suffix),
        [
            "program",
            "side",
            "messages/s (M)",
            "vs hoisted",
            "consumer CPU ns/msg",
            "process CPU ns/msg",
            "retained B/iteration",
            "heap growth MB/s",
            "heap MB min–max",
            "GC/s",
            "final RSS MB",
            "heap",
        ],
    );
    for r in rows {
        table.row(vec![
            r.program.name().into(),
            plan.sides[r.side].label.clone(),
            r.messages_per_s.scaled(1e6).show(2),
            opt(r.vs_hoisted, 2),
            opt(r.consumer_cpu_per_msg, 0),
            opt(r.process_cpu_per_msg, 0),
            r.bytes_per_iteration.show(1),
            fixed(r.heap_mb_per_s.median, 2),
            format!("{}–{}", mb(r.heap_min as f64), mb(r.heap_max as f64)),
            format!("{:.1}", r.gcs_per_s.median),
            mb(r.final_rss.median),
            r.shape.name().into(),
        ]);
    }
    table
}

/// Everything `seed` prints after its runs: the table (narrow unless `--wide`), what its columns
/// mean, the story of the leaking loop, the targets, and whether the machine was quiet.
fn text(
    plan: &Plan,
    rows: &[Summary],
    window: Option<&Window>,
    args: &Args,
    suffix: &str,
) -> String {
    let mut s = if args.wide {
        full_table(plan, rows, args, suffix).render()
    } else {
        narrow_table(plan, rows, args, suffix).render()
    };
    let width = if args.wide { usize::MAX } else { WIDTH };
    let mut say = |line: &str| {
        for l in report::wrap(line, width, "  ", "    ") {
            s.push_str(&l);
            s.push('\n');
        }
    };
    for note in &plan.notes {
        say(note);
    }
    if !args.wide {
        say(
            "More columns (the retained bytes' range, CPU per message, heap growth, heap \
             min–max, GC/s, final RSS) with --wide; all of them are in seed-summary.csv.",
        );
    }
    say("MB = 10^6 bytes. Heap: gotimer = live bytes from the lab's counting allocator (Rust has no GC); Go = runtime.MemStats.HeapAlloc (garbage included until a GC frees it).");
    say("retained B/iter(ation) = slope of heap over messages received; vs hoisted = messages/s over hoisted-after's in the same round.");
    if args.wide {
        say("heap growth = slope of heap over time. CPU = the kernel's thread clocks (schedstat): consumer = the thread running the loop (Go: -, a goroutine has no thread of its own); process = all threads, producer and GC included.");
    }
    let mut lines = story(plan, rows);
    lines.extend(targets(rows));
    if let Some(w) = window {
        let verdict = crate::busy::verdict(
            w,
            "messages/s, the vs-hoisted ratios and the messages/s target",
        );
        lines.extend(verdict.into_iter().map(|l| ("  ".to_string(), l)));
    }
    for (indent, line) in lines {
        let more = format!("{indent}  ");
        for l in report::wrap(&line, width, &indent, &more) {
            s.push_str(&l);
            s.push('\n');
        }
    }
    s
}

fn row(rows: &[Summary], side: usize, program: Program) -> Option<&Summary> {
    rows.iter().find(|r| r.side == side && r.program == program)
}

/// A line to print, with its indent.
type Line = (String, String);

/// What the after-in-loop rows say, side by side: leak, collected garbage, or nothing at all.
fn story(plan: &Plan, rows: &[Summary]) -> Vec<Line> {
    let mut out: Vec<Line> = vec![(
        "  ".into(),
        "The leaking loop (after-in-loop), side by side:".into(),
    )];
    let mut say = |line: String| out.push(("    ".into(), line));
    for (side, s) in plan.sides.iter().enumerate() {
        let Some(r) = row(rows, side, Program::AfterInLoop) else {
            continue;
        };
        let b = r.bytes_per_iteration.median;
        let (lo, hi) = (mb(r.heap_min as f64), mb(r.heap_max as f64));
        let what = match r.shape {
            HeapShape::Grows => format!(
                "leaks: {b:.0} B retained per iteration, the heap grows {:.0} MB/s (to {hi} MB) though {:.1} GCs/s run",
                r.heap_mb_per_s.median, r.gcs_per_s.median
            ),
            HeapShape::FreedByGc => format!(
                "frees at GC time: the heap saws between {lo} and {hi} MB as {:.0} GCs/s collect the abandoned timers ({b:.1} B retained per iteration)",
                r.gcs_per_s.median
            ),
            HeapShape::Flat => format!(
                "retains nothing, without any GC: the heap stays between {lo} and {hi} MB ({b:.1} B retained per iteration)"
            ),
        };
        let vs = r.vs_hoisted.map_or(String::new(), |v| {
            format!("; messages/s {}x hoisted-after's", v.show(2))
        });
        say(format!("{}: {what}{vs}", s.label));
        if let (Some(c), Some(h)) = (
            r.consumer_cpu_per_msg,
            row(rows, side, Program::HoistedAfter).and_then(|h| h.consumer_cpu_per_msg),
        ) {
            say(format!(
                "{}: the consumer thread spends {:.0} ns per message with after() in the loop, {:.0} ns hoisted: {:+.0} ns per loop iteration, whatever the scheduler does",
                s.label,
                c.median,
                h.median,
                c.median - h.median
            ));
        }
    }
    out
}

/// The two targets gotimer's after-in-loop is held to, each with its figure and "met" or "MISSED".
fn targets(rows: &[Summary]) -> Vec<Line> {
    let Some(leak) = row(rows, 0, Program::AfterInLoop) else {
        return Vec::new();
    };
    let b = leak.bytes_per_iteration;
    let met = |ok: bool| if ok { Verdict::Met } else { Verdict::Missed };
    let mut out = vec![(
        "  ".to_string(),
        format!(
            "target: gotimer after-in-loop retains ~0 B/iteration: {} B -> {}",
            b.show(2),
            met(b.median.abs() < RETAINS_NOTHING)
        ),
    )];
    if let Some(v) = leak.vs_hoisted {
        out.push((
            "  ".to_string(),
            format!(
                "target: gotimer after-in-loop messages/s >= {VS_HOISTED}x hoisted-after: {}x -> {}",
                v.show(2),
                met(v.median >= VS_HOISTED)
            ),
        ));
    }
    out
}

/// Every sample of every run, with its side, program and round.
fn write_samples(plan: &Plan, outcomes: &[Outcome], path: &Path) -> anyhow::Result<()> {
    let mut csv = Table::new(
        "samples",
        [
            "side",
            "program",
            "round",
            "seconds",
            "messages",
            "heap_bytes",
            "rss_bytes",
            "gcs",
            "consumer_cpu_ns",
            "process_cpu_ns",
        ],
    );
    for o in outcomes {
        let Ok(samples) = &o.samples else { continue };
        for s in samples {
            let line = s.csv();
            let mut cells = vec![
                plan.sides[o.job.side].label.clone(),
                o.job.program.name().to_string(),
                (o.job.round + 1).to_string(),
            ];
            cells.extend(line.split(',').map(str::to_string));
            csv.row(cells);
        }
    }
    csv.write_csv(path)?;
    Ok(())
}

/// The heap over time, one panel per program, one line per side, from each side's first round
/// that ran: on a log scale, so that a flat line near zero, a sawtooth of a few MB and a climb to
/// a GB show side by side.
fn chart(plan: &Plan, outcomes: &[Outcome], path: &Path) -> anyhow::Result<()> {
    let series_of = |program: Program| -> Vec<Series> {
        plan.sides
            .iter()
            .enumerate()
            .filter_map(|(side, s)| {
                let samples = outcomes
                    .iter()
                    .filter(|o| o.job.side == side && o.job.program == program)
                    .min_by_key(|o| o.job.round)
                    .and_then(|o| o.samples.as_ref().ok())?;
                Some((
                    s.label.clone(),
                    samples
                        .iter()
                        .map(|x| (x.seconds, x.heap_bytes as f64 / 1e6))
                        .collect(),
                ))
            })
            .collect()
    };
    let all: Vec<(String, Vec<Series>)> = PROGRAMS
        .iter()
        .map(|&p| {
            (
                format!("{}: live heap while it runs (log scale)", p.name()),
                series_of(p),
            )
        })
        .collect();
    let charts: Vec<LineChart> = all
        .iter()
        .map(|(title, series)| LineChart {
            title,
            x_label: "seconds",
            y_label: "heap MB",
            series,
            log_x: false,
            log_y: true,
        })
        .collect();
    chart::line_charts(path, &charts)
}

#[cfg(test)]
mod tests {
    use super::super::{golang, Runner, Side};
    use super::*;

    fn range(median: f64, min: f64, max: f64) -> MedianRange {
        MedianRange {
            median,
            min,
            max,
            n: 5,
        }
    }

    /// Three sides with figures as wide as a real run's get (a leaking Go's hundreds of MB, a
    /// fast machine's double-digit millions of messages).
    fn example(wide: bool) -> String {
        let side = |label: &str| Side {
            label: label.into(),
            runner: Runner::Gotimer,
        };
        let plan = Plan {
            sides: vec![side("gotimer"), side("go1.19.13"), side("go1.27.3")],
            jobs: Vec::new(),
            notes: vec![
                "go1.99 failed to build seed.go, skipping it: exit status 1: \
                         go: cannot find main module, but found .git/config in /somewhere"
                    .into(),
            ],
        };
        let mut rows = Vec::new();
        for program in PROGRAMS {
            for (side, shape) in [HeapShape::Flat, HeapShape::Grows, HeapShape::FreedByGc]
                .into_iter()
                .enumerate()
            {
                rows.push(Summary {
                    side,
                    program,
                    messages_per_s: range(12.34e6, 10.01e6, 15.55e6),
                    vs_hoisted: Some(range(0.98, 0.11, 1.23)),
                    bytes_per_iteration: range(-232.5, -230.7, 1234.0),
                    heap_mb_per_s: range(160.01, 150.0, 170.0),
                    heap_min: 50_000,
                    heap_max: 1_426_000_000,
                    gcs_per_s: range(22.5, 20.0, 25.0),
                    consumer_cpu_per_msg: Some(range(11908.0, 11354.0, 12007.0)),
                    process_cpu_per_msg: Some(range(13038.0, 12181.0, 13213.0)),
                    final_rss: range(1_333e6, 1_300e6, 1_400e6),
                    shape,
                });
            }
        }
        let args = Args {
            seconds: 2.5,
            rounds: 5,
            pprof: None,
            wide,
            go: golang::NoGo { no_go: false },
        };
        let busy = crate::busy::Reading {
            at_secs: 0.0,
            busy_ticks: 0,
            steal_ticks: 0,
            total_ticks: 0,
            own_ticks: 0,
            load1: 0.0,
        };
        let end = crate::busy::Reading {
            at_secs: 93.0,
            busy_ticks: 18_000,
            steal_ticks: 400,
            total_ticks: 18_600,
            own_ticks: 9_000,
            load1: 11.18,
        };
        let window = Window::between(&busy, &end, 100.0, 2);
        let suffix = " (Go: go1.19.13 linux/amd64, go1.27.3 linux/amd64)";
        text(&plan, &rows, Some(&window), &args, suffix)
    }

    #[test]
    fn the_default_output_fits_in_100_columns() {
        let out = example(false);
        for l in out.lines() {
            assert!(
                l.chars().count() <= WIDTH,
                "{} wide: {l}\n{out}",
                l.chars().count()
            );
        }
        let header = out.lines().nth(2).unwrap();
        for col in NARROW {
            assert!(header.contains(col), "{col} missing: {header}");
        }
        assert!(!header.contains("GC/s"), "{header}");
        assert!(out.contains("--wide"), "{out}");
        // The rows the lab's tests look for: program and side first, the heap's shape last.
        let row = out
            .lines()
            .find(|l| {
                l.split_whitespace()
                    .take(2)
                    .eq(["after-in-loop", "go1.19.13"])
            })
            .unwrap();
        assert!(row.trim_end().ends_with("grows"), "{row}");
        assert!(out.contains("\n    go1.27.3: frees at GC time"), "{out}");
        assert!(
            out.contains("target: gotimer after-in-loop messages/s >= 0.9x"),
            "{out}"
        );
        assert!(out.contains("WARNING: the machine was busy"), "{out}");
        assert!(
            out.contains("median [min–max] of 5 alternating rounds"),
            "{out}"
        );
    }

    #[test]
    fn wide_prints_every_column() {
        let out = example(true);
        let header = out.lines().nth(2).unwrap();
        for col in [
            "consumer CPU ns/msg",
            "heap MB min–max",
            "GC/s",
            "final RSS MB",
        ] {
            assert!(header.contains(col), "{col} missing: {header}");
        }
        assert!(out.lines().any(|l| l.chars().count() > 200), "{out}");
    }
}

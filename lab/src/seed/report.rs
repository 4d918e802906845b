//! `seed`'s output: one table with a row per program and side, the story it tells about the
//! leaking loop, the targets, the samples as CSV and the heap chart.

use super::Args;
use super::{HeapShape, Outcome, Plan, Program, Summary, PROGRAMS};
use crate::report::{self, LineChart, Series, Table};
use crate::stats::{fixed, MedianRange, Verdict};
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

pub(super) fn write(
    plan: &Plan,
    outcomes: &[Outcome],
    rows: &[Summary],
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
    let rounds = if args.rounds == 1 {
        "1 round".to_string()
    } else {
        format!("median [min–max] of {} alternating rounds", args.rounds)
    };
    let title = format!(
        "seed: the article's loop, {} s per program and round, each run in its own process; {rounds}{}",
        args.seconds,
        crate::golang::title_suffix(&gos)
    );
    let mut table = Table::new(
        title,
        &[
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
    report::emit(&table, out, "seed-summary.csv")?;
    for note in &plan.notes {
        println!("  {note}");
    }
    println!("  MB = 10^6 bytes. Heap: gotimer = live bytes from the lab's counting allocator (Rust has no GC); Go = runtime.MemStats.HeapAlloc (garbage included until a GC frees it).");
    println!("  retained B/iteration = slope of heap over messages received; heap growth = slope of heap over time; vs hoisted = messages/s over hoisted-after's in the same round.");
    println!("  CPU = the kernel's thread clocks (schedstat): consumer = the thread running the loop (Go: -, a goroutine has no thread of its own); process = all threads, producer and GC included.");
    story(plan, rows);
    targets(rows);
    chart(plan, outcomes, &out.join("seed.svg"))?;
    println!(
        "  wrote {}, {} and {}",
        out.join("seed.csv").display(),
        out.join("seed-summary.csv").display(),
        out.join("seed.svg").display()
    );
    Ok(())
}

fn row(rows: &[Summary], side: usize, program: Program) -> Option<&Summary> {
    rows.iter().find(|r| r.side == side && r.program == program)
}

/// What the after-in-loop rows say, side by side: leak, collected garbage, or nothing at all.
fn story(plan: &Plan, rows: &[Summary]) {
    println!("  The leaking loop (after-in-loop), side by side:");
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
        println!("    {}: {what}{vs}", s.label);
        if let (Some(c), Some(h)) = (
            r.consumer_cpu_per_msg,
            row(rows, side, Program::HoistedAfter).and_then(|h| h.consumer_cpu_per_msg),
        ) {
            println!(
                "    {}: the consumer thread spends {:.0} ns per message with after() in the loop, {:.0} ns hoisted: {:+.0} ns per loop iteration, whatever the scheduler does",
                s.label,
                c.median,
                h.median,
                c.median - h.median
            );
        }
    }
}

fn targets(rows: &[Summary]) {
    let Some(leak) = row(rows, 0, Program::AfterInLoop) else {
        return;
    };
    let b = leak.bytes_per_iteration;
    let met = |ok: bool| if ok { Verdict::Met } else { Verdict::Missed };
    println!(
        "  target: gotimer after-in-loop retains ~0 B/iteration: {} B -> {}",
        b.show(2),
        met(b.median.abs() < RETAINS_NOTHING)
    );
    if let Some(v) = leak.vs_hoisted {
        println!(
            "  target: gotimer after-in-loop messages/s >= {VS_HOISTED}x hoisted-after: {}x -> {}",
            v.show(2),
            met(v.median >= VS_HOISTED)
        );
    }
}

/// Every sample of every run, with its side, program and round.
fn write_samples(plan: &Plan, outcomes: &[Outcome], path: &Path) -> anyhow::Result<()> {
    let mut csv = Table::new(
        "samples",
        &[
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
    report::line_charts(path, &charts)
}

//! `scale`: ns per insert+cancel (of a channel timer and of a callback timer) and per reset as the
//! number of pending timers grows, gotimer vs Go.
//! A timing wheel should stay flat where a heap grows as log n.
//!
//! Each language runs in its own process (`gotimer-lab scale-child PENDING...`, `go run scale.go
//! PENDING...`). For each step it first adds background timers (callback timers with no handle,
//! deadlines scattered over 1 h to 2 h) until that many are pending, then times, in batches of
//! 1,000, for at least 300 ms and 50 batches:
//! - insert+cancel: `Timer::new(1 h)` then drop (Go: `NewTimer(time.Hour)` then `Stop`). Neither
//!   side's channel timer enters its wheel or heap here: nobody waits on it (gotimer parks it until
//!   `c()`, Go 1.23+ until a goroutine blocks on it; Go 1.19 does put it in the heap);
//! - after_func: `after_func(1 h, f)` then `stop` (Go: `AfterFunc(time.Hour, f).Stop()`), a timer
//!   that both sides file in their wheel or heap at once;
//! - reset: one of 1024 pending timers reset to 1 h plus up to 1 s.
//!
//! and prints the lower quartile of the batches' ns/op:
//! `pending,insert_cancel_ns,reset_ns,after_func_ns`.

use crate::chart::{self, LineChart, Series};
use crate::report::{self, Table};
use crate::stats::Target;
use crate::{child, golang};
use anyhow::bail;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// The largest number of pending timers; steps are 1k, 10k, 100k, ... up to it.
    #[arg(long, default_value_t = 10_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max: u64,
    #[command(flatten)]
    pub go: golang::NoGo,
}

/// Arguments of the hidden `scale-child` subcommand.
#[derive(clap::Args)]
pub struct ChildArgs {
    /// Pending counts to measure at, in increasing order.
    #[arg(required = true)]
    pub pending: Vec<u64>,
}

pub const HEADER: &str = "pending,insert_cancel_ns,reset_ns,after_func_ns";
const BATCH: usize = 1000;
const RESETTABLE: usize = 1024;
const HOUR: Duration = Duration::from_secs(3600);

/// The pending counts measured for `max`: the powers of ten from 1k up to it, and `max` itself.
pub fn steps(max: u64) -> Vec<u64> {
    let mut v: Vec<u64> = std::iter::successors(Some(1000u64), |s| s.checked_mul(10))
        .take_while(|s| *s <= max)
        .collect();
    if v.last() != Some(&max) {
        v.push(max);
    }
    v
}

/// One step's measurement.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub pending: u64,
    pub insert_cancel_ns: f64,
    pub reset_ns: f64,
    pub after_func_ns: f64,
}

/// Parses one line: `Ok(None)` for the header or a blank line.
pub fn parse_line(line: &str) -> anyhow::Result<Option<Point>> {
    let Some(f) = child::Fields::split(line, HEADER)? else {
        return Ok(None);
    };
    Ok(Some(Point {
        pending: f.get(0)?,
        insert_cancel_ns: f.get(1)?,
        reset_ns: f.get(2)?,
        after_func_ns: f.get(3)?,
    }))
}

/// The targets: gotimer's ns/op at the largest step at most 1.5 times the smallest's, and
/// at every step at most Go's.
const FLAT: Target = Target { max: 1.5 };
const AHEAD: Target = Target { max: 1.0 };

/// An operation measured at each step: its name in the table and the verdicts, its name in the
/// chart's legend, and its ns/op in a [`Point`].
type Op = (&'static str, &'static str, fn(&Point) -> f64);

/// The operations, in the tables' order.
const OPS: [Op; 3] = [
    ("Timer", "insert+cancel", |p| p.insert_cancel_ns),
    ("after_func", "after_func", |p| p.after_func_ns),
    ("reset", "reset", |p| p.reset_ns),
];

pub fn run(args: &Args, out: &Path) -> anyhow::Result<()> {
    let (gos, go_note) = golang::find_and_say(&args.go);
    let mut notes: Vec<String> = go_note.into_iter().collect();
    let steps = steps(args.max);
    let step_args: Vec<String> = steps.iter().map(|s| s.to_string()).collect();

    // One entry per side: gotimer, then each Go version.
    let mut child_args = vec!["scale-child".to_string()];
    child_args.extend(step_args.iter().cloned());
    let mut sides: Vec<(String, Vec<Point>)> = vec![(
        "gotimer".into(),
        run_child(child::lab(&child_args)?, "gotimer", steps.len())?,
    )];
    for (go, binary) in golang::build_each(&gos, golang::SCALE_GO, out, &mut notes) {
        let mut cmd = std::process::Command::new(binary);
        cmd.args(&step_args);
        match run_child(cmd, go.name(), steps.len()) {
            Ok(p) => sides.push((go.name().to_string(), p)),
            Err(e) => {
                let msg = format!("{} failed, skipping it: {e:#}", go.name());
                eprintln!("{msg}");
                notes.push(msg);
            }
        }
    }

    let title = format!(
        "scale: ns/op as pending timers grow (lower quartile of {BATCH}-op batches){}",
        golang::title_suffix(&gos)
    );
    let mut header = vec!["pending".to_string()];
    for (name, _) in &sides {
        header.extend(OPS.iter().map(|(op, _, _)| format!("{name} {op} ns")));
    }
    let mut table = Table::new(title, header);
    for (i, step) in steps.iter().enumerate() {
        let mut row = vec![step.to_string()];
        for (_, points) in &sides {
            row.extend(
                OPS.iter()
                    .map(|(_, _, ns)| format!("{:.1}", ns(&points[i]))),
            );
        }
        table.row(row);
    }
    report::emit(&table, out, "scale.csv")?;
    println!(
        "  Timer = Timer::new(1h) + drop (Go: NewTimer(Hour) + Stop); after_func = after_func(1h, f) + stop \
         (Go: AfterFunc(Hour, f).Stop()); reset = Timer::reset(1h + up to 1s) of one of 1024 timers"
    );
    for note in &notes {
        println!("  {note}");
    }
    for (name, points) in &sides {
        let Some((first, last)) = growth(points) else {
            continue;
        };
        // Only gotimer is held to the target; Go's growth is shown for comparison.
        let is_gotimer = name == "gotimer";
        let parts: Vec<String> = (OPS.iter())
            .map(|(op, _, ns)| {
                let r = ns(&last) / ns(&first);
                let verdict = FLAT.judge(Some(r));
                match is_gotimer {
                    true => format!("{op} {r:.2}x {verdict}"),
                    false => format!("{op} {r:.2}x"),
                }
            })
            .collect();
        println!(
            "  {name}: ns/op at {} pending vs {}{}: {}",
            report::si(last.pending as f64),
            report::si(first.pending as f64),
            if is_gotimer {
                format!(" (target <= {}x)", FLAT.max)
            } else {
                String::new()
            },
            parts.join(", ")
        );
    }
    if let Some((_, ours)) = sides.first() {
        for (name, theirs) in &sides[1..] {
            println!("  {}", versus(ours, name, theirs));
        }
    }

    let series: Vec<Series> = (sides.iter())
        .flat_map(|(name, points)| {
            OPS.iter().map(move |(_, legend, ns)| {
                let line = points.iter().map(|p| (p.pending as f64, ns(p)));
                (format!("{name} {legend}"), line.collect())
            })
        })
        .collect();
    let svg = out.join("scale.svg");
    chart::line_charts(
        &svg,
        &[LineChart {
            title: "Timer operations as pending timers grow",
            x_label: "pending timers (log scale)",
            y_label: "ns per operation",
            series: &series,
            log_x: true,
            log_y: false,
        }],
    )?;
    println!(
        "  wrote {} and {}",
        out.join("scale.csv").display(),
        svg.display()
    );
    Ok(())
}

/// One line comparing gotimer with a Go version at every step: the worst (largest) ratio of
/// gotimer's ns/op to Go's for each operation, against the target of being ahead (at most 1.0).
fn versus(ours: &[Point], name: &str, theirs: &[Point]) -> String {
    let parts: Vec<String> = (OPS.iter())
        .map(|(op, _, ns)| {
            let ratios = ours.iter().zip(theirs).map(|(a, b)| ns(a) / ns(b));
            let worst = ratios.fold(0.0f64, f64::max);
            format!("{op} {worst:.2}x {}", AHEAD.judge(Some(worst)))
        })
        .collect();
    format!(
        "gotimer / {name}, worst step (target <= 1.0 at every step): {}",
        parts.join(", ")
    )
}

/// The first and last point, when there are two or more.
fn growth(points: &[Point]) -> Option<(Point, Point)> {
    match points {
        [first, .., last] => Some((*first, *last)),
        _ => None,
    }
}

fn run_child(cmd: std::process::Command, label: &str, len: usize) -> anyhow::Result<Vec<Point>> {
    let points = child::collect(
        cmd,
        &format!("scale: {label}"),
        len as u64,
        parse_line,
        |_, pb| pb.inc(1),
    )?;
    if points.len() != len {
        bail!("{label} printed {} of {len} steps", points.len());
    }
    Ok(points)
}

/// Deadline for background timer `i`: scattered over [1 h, 2 h) by splitmix64, as in scale.go.
pub fn scattered_deadline(i: u64) -> Duration {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    HOUR + Duration::from_nanos(z % 3_600_000_000_000)
}

/// Runs `op` in batches; the lower quartile of the batches' ns per operation.
fn measure(mut op: impl FnMut(usize)) -> f64 {
    let mut per_op = Vec::new();
    let start = Instant::now();
    let mut k = 0;
    while per_op.len() < 50 || start.elapsed() < Duration::from_millis(300) {
        let t0 = Instant::now();
        for _ in 0..BATCH {
            op(k);
            k += 1;
        }
        per_op.push(t0.elapsed().as_nanos() as f64 / BATCH as f64);
    }
    per_op.sort_by(f64::total_cmp);
    per_op[per_op.len() / 4]
}

/// `scale-child`: measures gotimer at each pending count and prints the CSV.
pub fn child(args: &ChildArgs) -> anyhow::Result<()> {
    let resettable: Vec<gotimer::Timer> =
        (0..RESETTABLE).map(|_| gotimer::Timer::new(HOUR)).collect();
    let mut pending = RESETTABLE as u64;
    println!("{HEADER}");
    // A discarded first round, so that the first step does not pay for warming up.
    insert_cancel();
    reset(&resettable);
    after_func_stop();
    for &step in &args.pending {
        while pending < step {
            drop(gotimer::after_func(scattered_deadline(pending), || {}));
            pending += 1;
        }
        let in_wheels = gotimer::stats().pending as u64;
        if in_wheels < pending {
            eprintln!("warning: {in_wheels} pending in gotimer, expected {pending}");
        }
        let insert = insert_cancel();
        let reset = reset(&resettable);
        let func = after_func_stop();
        println!("{pending},{insert:.1},{reset:.1},{func:.1}");
    }
    Ok(())
}

/// ns per `Timer::new(1 h)` then drop.
fn insert_cancel() -> f64 {
    measure(|_| {
        let t = gotimer::Timer::new(HOUR);
        drop(black_box(t));
    })
}

/// ns per `after_func(1 h, f)` then `stop` (and drop).
fn after_func_stop() -> f64 {
    measure(|_| {
        let t = gotimer::after_func(HOUR, || {});
        black_box(t.stop());
    })
}

/// ns per reset of a pending timer to 1 h plus up to 1 s.
fn reset(resettable: &[gotimer::Timer]) -> f64 {
    measure(|k| {
        let d = HOUR + Duration::from_micros((k % 1_000_000) as u64);
        black_box(resettable[k & (RESETTABLE - 1)].reset(d));
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_up_to_max() {
        assert_eq!(
            steps(10_000_000),
            vec![1000, 10_000, 100_000, 1_000_000, 10_000_000]
        );
        assert_eq!(steps(10_000), vec![1000, 10_000]);
        assert_eq!(steps(50_000), vec![1000, 10_000, 50_000]);
        assert_eq!(steps(500), vec![500]);
    }

    #[test]
    fn parses_points() {
        let go = "pending,insert_cancel_ns,reset_ns,after_func_ns\n1024,329.3,64.0,200.5\n100000,336.7,53.3,250.0\n";
        let p: Vec<Point> = go.lines().filter_map(|l| parse_line(l).unwrap()).collect();
        assert_eq!(
            p,
            vec![
                Point {
                    pending: 1024,
                    insert_cancel_ns: 329.3,
                    reset_ns: 64.0,
                    after_func_ns: 200.5
                },
                Point {
                    pending: 100_000,
                    insert_cancel_ns: 336.7,
                    reset_ns: 53.3,
                    after_func_ns: 250.0
                }
            ]
        );
        let (first, last) = growth(&p).unwrap();
        assert!((last.insert_cancel_ns / first.insert_cancel_ns - 1.0225).abs() < 1e-3);
        assert!(growth(&p[..1]).is_none());
        assert!(parse_line("1,2").is_err());
        assert!(parse_line("1,2,3").is_err());
        let slower = [Point {
            pending: 1024,
            insert_cancel_ns: 100.0,
            reset_ns: 32.0,
            after_func_ns: 500.0,
        }];
        let line = versus(&slower, "go", &p[..1]);
        assert!(line.contains("Timer 0.30x met"), "{line}");
        assert!(line.contains("after_func 2.49x MISSED"), "{line}");
        assert!(line.contains("reset 0.50x met"), "{line}");
        assert!(parse_line("a,2,3").is_err());
    }

    #[test]
    fn scattered_deadlines_match_go_range() {
        for i in 0..1000 {
            let d = scattered_deadline(i);
            assert!(d >= HOUR && d < 2 * HOUR);
        }
        assert_ne!(scattered_deadline(0), scattered_deadline(1));
    }
}

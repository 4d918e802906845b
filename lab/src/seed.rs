//! `seed`: the article's experiment. The leaking `time.After`-in-`select` loop and its two fixes, in
//! Rust with gotimer and in Go, each program in its own process, sampled every 250 ms.
//!
//! The parent runs every program as a child process (`gotimer-lab seed-child MODE SECONDS` for Rust,
//! `go run seed.go MODE SECONDS` for Go). Both print the same CSV on stdout,
//! `seconds,messages,heap_bytes,rss_bytes`, which one parser reads.

use crate::report::{self, Series, Table};
use crate::{alloc, child, golang};
use crossbeam_channel::{bounded, select};
use std::io::Write as _;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// How long each program runs, in seconds.
    #[arg(long, default_value_t = 5.0, value_parser = crate::positive_seconds)]
    pub seconds: f64,
    /// Serve gotimer's /debug/pprof/ endpoint at this address (e.g. 127.0.0.1:6060) while each
    /// Rust program runs, for `go tool pprof http://ADDR/debug/pprof/timers`.
    #[arg(long, value_name = "ADDR")]
    pub pprof: Option<String>,
}

/// Arguments of the hidden `seed-child` subcommand: one Rust program, CSV samples on stdout.
#[derive(clap::Args)]
pub struct ChildArgs {
    pub program: Program,
    #[arg(value_parser = crate::positive_seconds)]
    pub seconds: f64,
    /// Serve the /debug/pprof/ endpoint here while the program runs.
    #[arg(long)]
    pub pprof: Option<String>,
}

/// The article's three programs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Program {
    /// `after(3 min)` inside the loop's `select!`: the article's leak (in Go).
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

/// The article's timeout.
const TIMEOUT: Duration = Duration::from_secs(180);
/// Time between samples.
const EVERY: Duration = Duration::from_millis(250);
pub const HEADER: &str = "seconds,messages,heap_bytes,rss_bytes";

/// One sample of a running program.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    pub seconds: f64,
    pub messages: u64,
    pub heap_bytes: i64,
    pub rss_bytes: u64,
}

/// Parses one line of a program's output: `Ok(None)` for the header or a blank line.
pub fn parse_line(line: &str) -> anyhow::Result<Option<Sample>> {
    let Some(f) = child::Fields::split(line, HEADER)? else {
        return Ok(None);
    };
    Ok(Some(Sample {
        seconds: f.get(0)?,
        messages: f.get(1)?,
        heap_bytes: f.get(2)?,
        rss_bytes: f.get(3)?,
    }))
}

/// Parses a whole output; it must start with the header. (The lab reads line by line, as samples
/// arrive; this is for tests.)
#[cfg(test)]
pub fn parse_samples(text: &str) -> anyhow::Result<Vec<Sample>> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    match lines.next() {
        Some(h) if h.trim() == HEADER => {}
        other => anyhow::bail!("expected the header {HEADER:?}, got {other:?}"),
    }
    let mut out = Vec::new();
    for line in lines {
        out.extend(parse_line(line)?);
    }
    Ok(out)
}

/// The figures of one program's row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    pub messages_per_s: f64,
    /// Least-squares slope of heap over time, in 10^6 bytes per second.
    pub heap_mb_per_s: f64,
    /// Least-squares slope of heap over messages received: bytes kept per loop iteration.
    pub bytes_per_iteration: f64,
    pub final_heap: i64,
    pub final_rss: u64,
}

/// Least-squares slope of y over x; 0 with fewer than two distinct x.
pub fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if points.len() < 2 {
        return 0.0;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if sxx == 0.0 {
        0.0
    } else {
        sxy / sxx
    }
}

/// Summarises a run. The sample at t = 0 (before the loop has started, and before the channel and
/// threads exist) is left out of the slopes, so they measure the loop's steady state.
pub fn summarize(samples: &[Sample]) -> Option<Summary> {
    let last = samples.last()?;
    let steady: Vec<&Sample> = samples.iter().filter(|s| s.seconds > 0.0).collect();
    let over_time: Vec<(f64, f64)> = steady
        .iter()
        .map(|s| (s.seconds, s.heap_bytes as f64))
        .collect();
    let over_msgs: Vec<(f64, f64)> = steady
        .iter()
        .map(|s| (s.messages as f64, s.heap_bytes as f64))
        .collect();
    Some(Summary {
        messages_per_s: if last.seconds > 0.0 {
            last.messages as f64 / last.seconds
        } else {
            0.0
        },
        heap_mb_per_s: slope(&over_time) / 1e6,
        bytes_per_iteration: slope(&over_msgs),
        final_heap: last.heap_bytes,
        final_rss: last.rss_bytes,
    })
}

/// One program's run: language, program and its samples.
struct Run {
    language: &'static str,
    program: Program,
    samples: Vec<Sample>,
}

pub fn run(args: &Args, out: &Path) -> anyhow::Result<()> {
    let go = golang::find_and_say();
    let mut runs = Vec::new();
    if let Some(addr) = &args.pprof {
        println!(
            "serving gotimer's profile at http://{addr}/debug/pprof/ while each Rust program runs: \
             go tool pprof -top http://{addr}/debug/pprof/timers"
        );
    }
    for program in PROGRAMS {
        let mut child_args = vec![
            "seed-child".into(),
            program.name().into(),
            args.seconds.to_string(),
        ];
        if let Some(addr) = &args.pprof {
            child_args.extend(["--pprof".into(), addr.clone()]);
        }
        let cmd = child::lab(&child_args)?;
        let samples = run_child(cmd, &format!("gotimer {}", program.name()), args.seconds)?;
        runs.push(Run {
            language: "gotimer",
            program,
            samples,
        });
    }
    let mut go_note = None;
    if let Some(go) = &go {
        for program in PROGRAMS {
            let cmd = go.run(
                golang::SEED_GO,
                out,
                &[program.name().to_string(), args.seconds.to_string()],
            )?;
            match run_child(cmd, &format!("Go {}", program.name()), args.seconds) {
                Ok(samples) => runs.push(Run {
                    language: "Go",
                    program,
                    samples,
                }),
                Err(e) => {
                    eprintln!("Go {} failed, skipping it: {e:#}", program.name());
                    go_note = Some(format!("Go {} failed: {e}", program.name()));
                }
            }
        }
    } else {
        go_note = Some("Go columns skipped: no Go toolchain found (see above)".to_string());
    }

    // All samples.
    let mut csv = Table::new(
        "samples",
        &[
            "language",
            "program",
            "seconds",
            "messages",
            "heap_bytes",
            "rss_bytes",
        ],
    );
    for r in &runs {
        for s in &r.samples {
            csv.row(vec![
                r.language.into(),
                r.program.name().into(),
                format!("{:.3}", s.seconds),
                s.messages.to_string(),
                s.heap_bytes.to_string(),
                s.rss_bytes.to_string(),
            ]);
        }
    }
    csv.write_csv(&out.join("seed.csv"))?;

    // The table.
    let title = format!(
        "seed: the article's loop, {} s per program, each in its own process{}",
        args.seconds,
        golang::title_suffix(go.as_ref())
    );
    let mut table = Table::new(
        title,
        &[
            "program",
            "language",
            "messages/s",
            "vs hoisted",
            "heap growth MB/s",
            "final heap MB",
            "final RSS MB",
            "retained B/iteration",
        ],
    );
    let summaries: Vec<(&Run, Summary)> = runs
        .iter()
        .filter_map(|r| summarize(&r.samples).map(|s| (r, s)))
        .collect();
    let hoisted = |lang: &str| {
        summaries
            .iter()
            .find(|(r, _)| r.language == lang && r.program == Program::HoistedAfter)
            .map(|(_, s)| s.messages_per_s)
    };
    for (r, s) in &summaries {
        let vs = hoisted(r.language)
            .filter(|h| *h > 0.0)
            .map_or("-".to_string(), |h| format!("{:.2}x", s.messages_per_s / h));
        table.row(vec![
            r.program.name().into(),
            r.language.into(),
            format!("{:.0}", s.messages_per_s),
            vs,
            format!("{:.2}", s.heap_mb_per_s),
            format!("{:.1}", s.final_heap as f64 / 1e6),
            format!("{:.1}", s.final_rss as f64 / 1e6),
            format!("{:.1}", s.bytes_per_iteration),
        ]);
    }
    report::emit(&table, out, "seed-summary.csv")?;
    if let Some(note) = &go_note {
        println!("  {note}");
    }
    println!("  MB = 10^6 bytes. Heap: gotimer = live bytes from the lab's counting allocator; Go = runtime.MemStats.HeapAlloc (includes garbage not yet collected).");
    println!("  retained B/iteration = slope of heap over messages received; heap growth = slope of heap over time.");

    // Targets, from the issue.
    let get = |lang: &str, p: Program| {
        summaries
            .iter()
            .find(|(r, _)| r.language == lang && r.program == p)
            .map(|(_, s)| *s)
    };
    if let Some(leak) = get("gotimer", Program::AfterInLoop) {
        let b = leak.bytes_per_iteration;
        println!(
            "  target: gotimer after-in-loop retains ~0 B/iteration: {b:.2} B -> {}",
            if b.abs() < 1.0 { "met" } else { "MISSED" }
        );
        if let Some(h) = hoisted("gotimer").filter(|h| *h > 0.0) {
            let ratio = leak.messages_per_s / h;
            println!(
                "  target: gotimer after-in-loop messages/s >= 0.9x hoisted-after: {ratio:.2}x -> {}",
                if ratio >= 0.9 { "met" } else { "MISSED" }
            );
        }
    }
    if let Some(leak) = get("Go", Program::AfterInLoop) {
        let ratio = hoisted("Go")
            .filter(|h| *h > 0.0)
            .map_or("-".into(), |h| format!("{:.2}x", leak.messages_per_s / h));
        println!(
            "  Go after-in-loop (the article's leak): {:.0} B/iteration retained, messages/s {ratio} of hoisted-after (the issue expects ~200 B and ~0.3x for Go 1.19)",
            leak.bytes_per_iteration
        );
    }

    // The chart: heap over time, one line per program and language.
    let series: Vec<Series> = runs
        .iter()
        .map(|r| {
            (
                format!("{} {}", r.language, r.program.name()),
                r.samples
                    .iter()
                    .map(|s| (s.seconds, s.heap_bytes as f64 / 1e6))
                    .collect(),
            )
        })
        .collect();
    let svg = out.join("seed.svg");
    report::line_chart(
        &svg,
        "Live heap while the article's loop runs (after() in select! vs its fixes)",
        "seconds",
        "heap MB",
        &series,
        false,
    )?;
    println!(
        "  wrote {}, {} and {}",
        out.join("seed.csv").display(),
        out.join("seed-summary.csv").display(),
        svg.display()
    );
    Ok(())
}

/// Runs one program's process, reading its samples as they come, with a progress bar.
fn run_child(cmd: Command, label: &str, seconds: f64) -> anyhow::Result<Vec<Sample>> {
    let ms = |s: f64| (s * 1000.0).round() as u64;
    let samples = child::collect(cmd, label, ms(seconds), parse_line, |s, pb| {
        pb.set_position(ms(s.seconds))
    })?;
    anyhow::ensure!(!samples.is_empty(), "{label} printed no samples");
    Ok(samples)
}

static RECEIVED: AtomicU64 = AtomicU64::new(0);

/// `seed-child`: runs one Rust program for `seconds`, printing samples, then exits the process.
pub fn child(args: &ChildArgs) -> anyhow::Result<()> {
    // Kept alive for the whole run; the process exits at the end of the program.
    let _server = match &args.pprof {
        Some(addr) => Some(
            gotimer::debug::serve(addr.as_str())
                .map_err(|e| anyhow::anyhow!("cannot serve /debug/pprof/ at {addr}: {e}"))?,
        ),
        None => None,
    };
    let (tx, rx) = bounded::<String>(120);
    std::thread::spawn(move || {
        let mut i = 0u64;
        loop {
            i += 1;
            if tx.send(format!("hello {i}")).is_err() {
                return;
            }
        }
    });
    println!("{HEADER}");
    let start = Instant::now();
    let seconds = args.seconds;
    std::thread::spawn(move || sampler(start, seconds));

    let mut n = 0u64;
    match args.program {
        Program::AfterInLoop => loop {
            select! {
                recv(rx) -> _msg => {
                    n += 1;
                    RECEIVED.store(n, Relaxed);
                }
                recv(gotimer::after(TIMEOUT)) -> _ => eprintln!("timeout"),
            }
        },
        Program::HoistedAfter => {
            let timeout = gotimer::after(TIMEOUT);
            loop {
                select! {
                    recv(rx) -> _msg => {
                        n += 1;
                        RECEIVED.store(n, Relaxed);
                    }
                    recv(timeout) -> _ => break,
                }
            }
        }
        Program::TimerReset => {
            let timer = gotimer::Timer::new(TIMEOUT);
            loop {
                timer.reset(TIMEOUT);
                select! {
                    recv(rx) -> _msg => {
                        n += 1;
                        RECEIVED.store(n, Relaxed);
                    }
                    recv(timer.c()) -> _ => break,
                }
            }
        }
    }
    eprintln!("timeout");
    Ok(())
}

/// Prints a sample every 250 ms from `start`; exits the process after `seconds`.
fn sampler(start: Instant, seconds: f64) -> ! {
    for k in 0u32.. {
        let due = start + EVERY * k;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let n = RECEIVED.load(Relaxed);
        let heap = alloc::live_bytes();
        let rss = alloc::rss_bytes();
        let s = start.elapsed().as_secs_f64();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{s:.3},{n},{heap},{rss}");
        let _ = out.flush();
        if f64::from(k) * EVERY.as_secs_f64() >= seconds {
            break;
        }
    }
    std::process::exit(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rust_child_and_go_output() {
        // As printed by `seed-child` (live bytes may be any i64) and by seed.go (HeapAlloc).
        let rust = "seconds,messages,heap_bytes,rss_bytes\n0.000,0,1024,2000000\n0.250,1000,2048,3000000\n";
        let s = parse_samples(rust).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[1],
            Sample {
                seconds: 0.25,
                messages: 1000,
                heap_bytes: 2048,
                rss_bytes: 3_000_000
            }
        );
        let go = "seconds,messages,heap_bytes,rss_bytes\r\n0.000,0,49336,1949696\r\n\r\n0.258,284258,66701672,69283840\r\n";
        let s = parse_samples(go).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].messages, 284_258);
        assert_eq!(s[1].heap_bytes, 66_701_672);
        assert!(parse_samples("0.1,2,3,4\n").is_err(), "no header");
        assert!(parse_line("0.1,2,3").is_err());
        assert!(parse_line("0.1,x,3,4").is_err());
        assert!(parse_line("timeout").is_err());
        assert_eq!(parse_line(HEADER).unwrap(), None);
    }

    #[test]
    fn table_maths() {
        // 1000 messages per 0.25 s, heap growing 200 B per message after a start-up jump.
        let mut samples = vec![Sample {
            seconds: 0.0,
            messages: 0,
            heap_bytes: 10,
            rss_bytes: 1,
        }];
        for k in 1..=8u64 {
            samples.push(Sample {
                seconds: k as f64 * 0.25,
                messages: k * 1000,
                heap_bytes: 5_000_000 + (k * 1000 * 200) as i64,
                rss_bytes: 7_000_000,
            });
        }
        let s = summarize(&samples).unwrap();
        assert!((s.messages_per_s - 4000.0).abs() < 1e-9);
        assert!((s.bytes_per_iteration - 200.0).abs() < 1e-6, "{s:?}");
        // 200 B × 4000 messages/s = 0.8 MB/s.
        assert!((s.heap_mb_per_s - 0.8).abs() < 1e-9, "{s:?}");
        assert_eq!(s.final_heap, 5_000_000 + 8_000 * 200);
        assert_eq!(s.final_rss, 7_000_000);
        // Flat heap: 0 retained.
        for x in &mut samples[1..] {
            x.heap_bytes = 5_000_000;
        }
        assert_eq!(summarize(&samples).unwrap().bytes_per_iteration, 0.0);
        assert!(summarize(&[]).is_none());
        assert_eq!(slope(&[(1.0, 5.0)]), 0.0);
        assert_eq!(slope(&[(1.0, 5.0), (1.0, 6.0)]), 0.0);
    }
}

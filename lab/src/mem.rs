//! `mem`: bytes per pending timer with N pending, for each kind of timer: gotimer's (threads and
//! futures), Go's, tokio's, crossbeam's, async-io's and futures-timer's. Each kind is measured in
//! its own process, so that what one kind left allocated (or the pages it made resident) does not
//! count for the next.
//!
//! A measurement: live heap before; create N timers with deadlines spread over 1 h to 2 h, all
//! pending; live heap after; drop the handles (where there are any); live heap again. Rust's heap is
//! the lab's counting allocator (bytes requested, so what the timers allocate; the handle itself,
//! which the caller stores, is shown apart as "handle B"); Go's is `HeapAlloc` after a forced GC.
//! For a sleep future the handle is the future itself, kept inline where it is `Unpin` (gotimer,
//! async-io, futures-timer) and boxed where it is not (tokio); "with the future" adds it back, so
//! that the four compare what a pending, polled sleep costs a task. Before each snapshot the
//! process is let go quiet, so that a library's own thread has filed (or freed) what it was given.
//! Both print the same CSV line, `kind,count,heap_before,heap_after,heap_dropped,rss_before,
//! rss_after,rss_dropped`, with the dropped fields empty where nothing can be dropped.

use crate::chart::{self, BarSeries, Bars};
use crate::report::{self, Table};
use crate::{alloc, child, golang, proc_self};
use anyhow::{bail, Context as _};
use std::future::Future;
use std::mem::{size_of, MaybeUninit};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// How many timers are pending at once.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub count: u64,
    #[command(flatten)]
    pub go: golang::NoGo,
}

/// Arguments of the hidden `mem-child` subcommand.
#[derive(clap::Args)]
pub struct ChildArgs {
    pub timer: RustTimer,
    #[arg(value_parser = clap::value_parser!(u64).range(1..))]
    pub count: u64,
}

/// The timers measured in Rust, one kind of timer of one library each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RustTimer {
    /// `gotimer::Timer::new`, handles kept, never waited on (parked: no channel, no wheel node).
    GotimerTimer,
    /// `gotimer::Timer::new` with `c()` asked for, handles kept: armed, with its channel.
    GotimerTimerWaited,
    /// `gotimer::after_func`, handles dropped (the callbacks stay scheduled, as in Go).
    GotimerAfterFunc,
    /// `gotimer::after`, receivers kept.
    GotimerAfter,
    /// `gotimer::Ticker::new`, handles kept, never waited on (parked).
    GotimerTicker,
    /// `gotimer::Ticker::new` with `c()` asked for, handles kept: armed, with its channel.
    GotimerTickerWaited,
    /// `Box::pin(tokio::time::sleep(d))`, polled once so that it is registered, in a current-thread
    /// runtime.
    TokioSleep,
    /// `crossbeam_channel::after`, receivers kept.
    CrossbeamAfter,
    /// `gotimer::future::sleep(d)`, polled once (armed, in the wheel with its waker), kept inline.
    GotimerSleep,
    /// `async_io::Timer::after(d)`, polled once (in its reactor's map), kept inline.
    AsyncIoTimer,
    /// `futures_timer::Delay::new(d)`, polled once (in its helper thread's heap), kept inline.
    FuturesTimerDelay,
}

pub const RUST_TIMERS: [RustTimer; 11] = [
    RustTimer::GotimerTimer,
    RustTimer::GotimerTimerWaited,
    RustTimer::GotimerAfterFunc,
    RustTimer::GotimerAfter,
    RustTimer::GotimerTicker,
    RustTimer::GotimerTickerWaited,
    RustTimer::GotimerSleep,
    RustTimer::TokioSleep,
    RustTimer::AsyncIoTimer,
    RustTimer::FuturesTimerDelay,
    RustTimer::CrossbeamAfter,
];

impl RustTimer {
    fn arg(self) -> &'static str {
        match self {
            RustTimer::GotimerTimer => "gotimer-timer",
            RustTimer::GotimerTimerWaited => "gotimer-timer-waited",
            RustTimer::GotimerAfterFunc => "gotimer-after-func",
            RustTimer::GotimerAfter => "gotimer-after",
            RustTimer::GotimerTicker => "gotimer-ticker",
            RustTimer::GotimerTickerWaited => "gotimer-ticker-waited",
            RustTimer::TokioSleep => "tokio-sleep",
            RustTimer::CrossbeamAfter => "crossbeam-after",
            RustTimer::GotimerSleep => "gotimer-sleep",
            RustTimer::AsyncIoTimer => "async-io-timer",
            RustTimer::FuturesTimerDelay => "futures-timer-delay",
        }
    }

    fn label(self) -> &'static str {
        match self {
            RustTimer::GotimerTimer => "Timer::new",
            RustTimer::GotimerTimerWaited => "Timer::new + c()",
            RustTimer::GotimerAfterFunc => "after_func",
            RustTimer::GotimerAfter => "after",
            RustTimer::GotimerTicker => "Ticker::new",
            RustTimer::GotimerTickerWaited => "Ticker::new + c()",
            RustTimer::TokioSleep => "Box::pin(sleep)",
            RustTimer::CrossbeamAfter => "after",
            RustTimer::GotimerSleep => "future::sleep",
            RustTimer::AsyncIoTimer => "Timer::after",
            RustTimer::FuturesTimerDelay => "Delay::new",
        }
    }

    fn library(self) -> &'static str {
        match self {
            RustTimer::TokioSleep => "tokio",
            RustTimer::CrossbeamAfter => "crossbeam",
            RustTimer::AsyncIoTimer => "async-io",
            RustTimer::FuturesTimerDelay => "futures-timer",
            _ => "gotimer",
        }
    }

    /// Bytes of the handle the caller keeps (not counted in the heap column); None if dropped.
    fn handle_bytes(self) -> Option<usize> {
        match self {
            RustTimer::GotimerTimer | RustTimer::GotimerTimerWaited => {
                Some(size_of::<gotimer::Timer>())
            }
            RustTimer::GotimerAfterFunc => None,
            RustTimer::GotimerAfter | RustTimer::CrossbeamAfter => {
                Some(size_of::<crossbeam_channel::Receiver<Instant>>())
            }
            RustTimer::GotimerTicker | RustTimer::GotimerTickerWaited => {
                Some(size_of::<gotimer::Ticker>())
            }
            RustTimer::TokioSleep => Some(size_of::<Pin<Box<tokio::time::Sleep>>>()),
            RustTimer::GotimerSleep => Some(size_of::<gotimer::future::Sleep>()),
            RustTimer::AsyncIoTimer => Some(size_of::<async_io::Timer>()),
            RustTimer::FuturesTimerDelay => Some(size_of::<futures_timer::Delay>()),
        }
    }

    /// Bytes per pending, polled sleep with the future itself: the heap, plus the future where it
    /// is kept inline (tokio's is inside its box, so in the heap already). None for the thread API.
    fn with_future(self, row: &Row) -> Option<f64> {
        let heap = row.heap_per_timer();
        match self {
            RustTimer::TokioSleep => Some(heap),
            RustTimer::GotimerSleep | RustTimer::AsyncIoTimer | RustTimer::FuturesTimerDelay => {
                Some(heap + self.handle_bytes()? as f64)
            }
            _ => None,
        }
    }
}

/// Go's kinds: argument of mem.go, label, and the size of the handle a Go program keeps (a
/// pointer or a channel: one word), or None when it is dropped.
const GO_TIMERS: [(&str, &str, Option<usize>); 3] = [
    ("timer", "time.NewTimer", Some(8)),
    ("after_func", "time.AfterFunc", None),
    ("after", "time.After", Some(8)),
];

pub const HEADER: &str =
    "kind,count,heap_before,heap_after,heap_dropped,rss_before,rss_after,rss_dropped";

/// One measurement, as printed by `mem-child` and mem.go.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub kind: String,
    pub count: u64,
    pub heap_before: i64,
    pub heap_after: i64,
    pub heap_dropped: Option<i64>,
    pub rss_before: i64,
    pub rss_after: i64,
    pub rss_dropped: Option<i64>,
}

impl Row {
    /// Heap bytes per pending timer.
    pub fn heap_per_timer(&self) -> f64 {
        (self.heap_after - self.heap_before) as f64 / self.count as f64
    }

    /// Heap bytes per timer still allocated once the handles are dropped.
    pub fn retained_per_timer(&self) -> Option<f64> {
        self.heap_dropped
            .map(|d| (d - self.heap_before) as f64 / self.count as f64)
    }

    /// Resident bytes per pending timer.
    pub fn rss_per_timer(&self) -> f64 {
        (self.rss_after - self.rss_before) as f64 / self.count as f64
    }

    fn csv(&self) -> String {
        let opt = |v: Option<i64>| v.map_or(String::new(), |v| v.to_string());
        format!(
            "{},{},{},{},{},{},{},{}",
            self.kind,
            self.count,
            self.heap_before,
            self.heap_after,
            opt(self.heap_dropped),
            self.rss_before,
            self.rss_after,
            opt(self.rss_dropped)
        )
    }
}

/// Parses one line: `Ok(None)` for the header or a blank line.
pub fn parse_line(line: &str) -> anyhow::Result<Option<Row>> {
    let Some(f) = child::Fields::split(line, HEADER)? else {
        return Ok(None);
    };
    let count: i64 = f.get(1)?;
    if count <= 0 {
        bail!("count must be positive in {:?}", line.trim());
    }
    Ok(Some(Row {
        kind: f.str(0).to_string(),
        count: count as u64,
        heap_before: f.get(2)?,
        heap_after: f.get(3)?,
        heap_dropped: f.opt(4)?,
        rss_before: f.get(5)?,
        rss_after: f.get(6)?,
        rss_dropped: f.opt(7)?,
    }))
}

/// A measured kind of timer, for the table.
struct Entry {
    library: String,
    label: &'static str,
    handle: Option<usize>,
    /// Bytes per pending sleep with the future (see [`RustTimer::with_future`]).
    with_future: Option<f64>,
    row: Row,
}

pub fn run(args: &Args, out: &Path) -> anyhow::Result<()> {
    let (gos, go_note) = golang::find_and_say(&args.go);
    let mut notes: Vec<String> = go_note.into_iter().collect();
    let n = args.count;
    let mut entries = Vec::new();
    for timer in RUST_TIMERS {
        let cmd = child::lab(&["mem-child".into(), timer.arg().into(), n.to_string()])?;
        let label = format!("{} {}", timer.library(), timer.label());
        let row = run_child(cmd, &label)?;
        entries.push(Entry {
            library: timer.library().into(),
            label: timer.label(),
            handle: timer.handle_bytes(),
            with_future: timer.with_future(&row),
            row,
        });
    }
    for (go, binary) in golang::build_each(&gos, golang::MEM_GO, out, &mut notes) {
        for (arg, label, handle) in GO_TIMERS {
            let mut cmd = std::process::Command::new(&binary);
            cmd.args([arg, &n.to_string()]);
            match run_child(cmd, &format!("{} {label}", go.name())) {
                Ok(row) => entries.push(Entry {
                    library: go.name().into(),
                    label,
                    handle,
                    with_future: None,
                    row,
                }),
                Err(e) => {
                    let msg = format!("{} {label} failed, skipping it: {e:#}", go.name());
                    eprintln!("{msg}");
                    notes.push(msg);
                }
            }
        }
    }

    let title = format!(
        "mem: bytes per pending timer, {} pending, each kind in its own process{}",
        report::si(n as f64),
        golang::title_suffix(&gos)
    );
    let mut table = Table::new(
        title,
        [
            "library",
            "timer",
            "heap B/timer",
            "handle B",
            "with the future B",
            "RSS B/timer",
            "retained B/timer after drop",
        ],
    );
    for m in &entries {
        table.row(vec![
            m.library.clone(),
            m.label.into(),
            format!("{:.1}", m.row.heap_per_timer()),
            m.handle.map_or("-".into(), |h| h.to_string()),
            m.with_future.map_or("-".into(), |b| format!("{b:.1}")),
            format!("{:.1}", m.row.rss_per_timer()),
            m.row
                .retained_per_timer()
                .map_or("- (not dropped)".into(), |r| format!("{r:.1}")),
        ]);
    }
    report::emit(&table, out, "mem.csv")?;
    for note in &notes {
        println!("  {note}");
    }
    println!("  heap: Rust = bytes allocated (lab's counting allocator), without the handle the caller stores (\"handle B\"); Go = HeapAlloc after GC (its *Timer is on the heap, the caller keeps a pointer).");
    println!("  after_func handles are dropped (the callbacks stay scheduled); \"after drop\" drops every handle or receiver (Go: Stop()s the timers first; abandons After's channels).");
    println!("  sleeps (future::sleep, Box::pin(sleep), Timer::after, Delay::new) are polled once with a no-op waker, so each is filed; \"with the future\" = heap + the future where it is kept inline (its handle B), heap alone for tokio's boxed one.");

    let find = |lib: &str, label: &str| {
        entries
            .iter()
            .find(|m| m.library == lib && m.label == label)
    };
    if let Some(m) = find("gotimer", "after_func") {
        let b = m.row.heap_per_timer();
        println!(
            "  target: gotimer after_func <= 64 B per pending timer: {b:.1} B -> {}",
            if b <= 64.0 { "met" } else { "MISSED" }
        );
    }
    let future = |lib: &str, label: &str| find(lib, label).and_then(|m| m.with_future);
    if let Some(b) = future("gotimer", "future::sleep") {
        let peers = [
            ("async-io", future("async-io", "Timer::after")),
            ("futures-timer", future("futures-timer", "Delay::new")),
        ];
        let best = peers
            .iter()
            .filter_map(|(_, b)| *b)
            .fold(f64::INFINITY, f64::min);
        let shown: Vec<String> = (peers.iter())
            .filter_map(|(lib, b)| b.map(|b| format!("{lib} {b:.1}")))
            .collect();
        let tokio = future("tokio", "Box::pin(sleep)").map_or("-".into(), |b| format!("{b:.1}"));
        println!(
            "  target: gotimer future::sleep, with the future, <= the best runtime-agnostic peer's ({}): {b:.1} B -> {}; goals: tokio's {tokio} B: {}, then 64 B: {}",
            shown.join(", "),
            if b <= best { "met" } else { "MISSED" },
            match future("tokio", "Box::pin(sleep)") {
                Some(t) if b <= t => "met",
                Some(_) => "not yet",
                None => "-",
            },
            if b <= 64.0 { "met" } else { "not yet" },
        );
    }
    if let Some(r) = find("gotimer", "after").and_then(|m| m.row.retained_per_timer()) {
        println!(
            "  target: gotimer after retains 0 B once its receivers are dropped: {r:.2} B -> {}",
            if r.abs() < 0.5 { "met" } else { "MISSED" }
        );
    }

    // One category per kind of timer, one series (colour) per library.
    let mut libraries = vec!["gotimer"];
    libraries.extend(gos.iter().map(|g| g.name()));
    libraries.extend(["tokio", "async-io", "futures-timer", "crossbeam"]);
    let mut kinds: Vec<&str> = Vec::new();
    for m in &entries {
        if !kinds.contains(&m.label) {
            kinds.push(m.label);
        }
    }
    let svg = out.join("mem.svg");
    let series = libraries.iter().enumerate().map(|(i, &library)| BarSeries {
        name: library.into(),
        colour: chart::color(i),
        values: (kinds.iter())
            .map(|&kind| find(library, kind).map(|m| m.row.heap_per_timer()))
            .collect(),
    });
    chart::bar_charts(
        &svg,
        &[Bars {
            title: format!(
                "Heap bytes per pending timer ({} pending)",
                report::si(n as f64)
            ),
            unit: "heap bytes per timer".into(),
            log: false,
            show_values: true,
            categories: kinds.iter().map(|k| k.to_string()).collect(),
            series: series.collect(),
        }],
    )?;
    println!(
        "  wrote {} and {}",
        out.join("mem.csv").display(),
        svg.display()
    );
    Ok(())
}

fn run_child(cmd: std::process::Command, label: &str) -> anyhow::Result<Row> {
    child::collect(cmd, label, 1, parse_line, |_, pb| pb.inc(1))?
        .pop()
        .with_context(|| format!("{label} printed no measurement"))
}

/// Deadline `i` of `n`, spread evenly over [1 h, 2 h).
fn evenly_spread(i: u64, n: u64) -> Duration {
    Duration::from_secs(3600) + Duration::from_nanos(3_600_000_000_000 / n * i)
}

/// How long a snapshot waits at most for the process to go quiet.
const SETTLE: Duration = Duration::from_secs(10);

/// A snapshot of (live heap, RSS).
fn snap() -> (i64, i64) {
    (alloc::live_bytes(), proc_self::rss_bytes() as i64)
}

/// A vector with room for `n`, its memory touched so that filling it changes no RSS.
fn storage<T>(n: u64) -> Vec<T> {
    let mut v = Vec::with_capacity(n as usize);
    for slot in v.spare_capacity_mut() {
        *slot = MaybeUninit::zeroed();
    }
    v
}

/// Measures `n` handles made by `make`, kept in a vector, then dropped.
fn measure_kept<T>(kind: RustTimer, n: u64, mut make: impl FnMut(u64) -> T) -> Row {
    let mut v: Vec<T> = storage(n);
    let (hb, rb) = snap();
    for i in 0..n {
        v.push(make(i));
    }
    proc_self::settle(SETTLE);
    let (ha, ra) = snap();
    check_pending(kind, n);
    v.clear();
    proc_self::settle(SETTLE);
    let (hd, rd) = snap();
    drop(v);
    Row {
        kind: kind.arg().into(),
        count: n,
        heap_before: hb,
        heap_after: ha,
        heap_dropped: Some(hd),
        rss_before: rb,
        rss_after: ra,
        rss_dropped: Some(rd),
    }
}

/// Warns on stderr if gotimer's wheels do not hold the timers that should be pending (a `Timer`
/// or `Ticker` nobody waits on is parked, in no wheel; `after` registers nothing).
fn check_pending(kind: RustTimer, n: u64) {
    if !matches!(
        kind,
        RustTimer::GotimerTimerWaited
            | RustTimer::GotimerTickerWaited
            | RustTimer::GotimerAfterFunc
            | RustTimer::GotimerSleep
    ) {
        return;
    }
    let pending = gotimer::stats().pending as u64;
    if pending < n {
        eprintln!("warning: {} pending in gotimer, expected {n}", pending);
    }
}

/// `mem-child`: measures one Rust kind and prints the CSV header and row.
pub fn child(args: &ChildArgs) -> anyhow::Result<()> {
    let n = args.count;
    // Start gotimer's runtime (threads, shards) before the first snapshot.
    drop(gotimer::Timer::new(Duration::from_secs(3600)));
    let row = match args.timer {
        RustTimer::GotimerTimer => {
            measure_kept(args.timer, n, |i| gotimer::Timer::new(evenly_spread(i, n)))
        }
        RustTimer::GotimerAfter => {
            measure_kept(args.timer, n, |i| gotimer::after(evenly_spread(i, n)))
        }
        RustTimer::GotimerTicker => {
            measure_kept(args.timer, n, |i| gotimer::Ticker::new(evenly_spread(i, n)))
        }
        RustTimer::GotimerTimerWaited => measure_kept(args.timer, n, |i| {
            let t = gotimer::Timer::new(evenly_spread(i, n));
            let _ = t.c();
            t
        }),
        RustTimer::GotimerTickerWaited => measure_kept(args.timer, n, |i| {
            let t = gotimer::Ticker::new(evenly_spread(i, n));
            let _ = t.c();
            t
        }),
        RustTimer::CrossbeamAfter => measure_kept(args.timer, n, |i| {
            crossbeam_channel::after(evenly_spread(i, n))
        }),
        RustTimer::GotimerAfterFunc => {
            let (hb, rb) = snap();
            for i in 0..n {
                drop(gotimer::after_func(evenly_spread(i, n), || {}));
            }
            let (ha, ra) = snap();
            check_pending(args.timer, n);
            Row {
                kind: args.timer.arg().into(),
                count: n,
                heap_before: hb,
                heap_after: ha,
                heap_dropped: None,
                rss_before: rb,
                rss_after: ra,
                rss_dropped: None,
            }
        }
        RustTimer::TokioSleep => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()?;
            let _guard = rt.enter();
            // Register one first, so that the driver's own lazily built parts are not counted.
            drop(polled(Box::pin(tokio::time::sleep(Duration::from_secs(
                3600,
            )))));
            measure_kept(args.timer, n, |i| {
                polled(Box::pin(tokio::time::sleep(evenly_spread(i, n))))
            })
        }
        // As for tokio: one first, so that each library's lazily started thread and its own
        // structures are not counted.
        RustTimer::GotimerSleep => {
            drop(polled(gotimer::future::sleep(Duration::from_secs(3600))));
            measure_kept(args.timer, n, |i| {
                polled(gotimer::future::sleep(evenly_spread(i, n)))
            })
        }
        RustTimer::AsyncIoTimer => {
            drop(polled(async_io::Timer::after(Duration::from_secs(3600))));
            measure_kept(args.timer, n, |i| {
                polled(async_io::Timer::after(evenly_spread(i, n)))
            })
        }
        RustTimer::FuturesTimerDelay => {
            drop(polled(futures_timer::Delay::new(Duration::from_secs(3600))));
            measure_kept(args.timer, n, |i| {
                polled(futures_timer::Delay::new(evenly_spread(i, n)))
            })
        }
    };
    println!("{HEADER}");
    println!("{}", row.csv());
    Ok(())
}

/// A sleep polled once with a no-op waker, so that it sits in its library's timer structure.
fn polled<F: Future + Unpin>(mut s: F) -> F {
    let mut cx = Context::from_waker(Waker::noop());
    assert!(Pin::new(&mut s).poll(&mut cx).is_pending());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rows_and_computes_per_timer() {
        let go =
            "kind,count,heap_before,heap_after,heap_dropped,rss_before,rss_after,rss_dropped\n\
                  after,100000,850376,21849792,21046976,2244608,25473024,24793088\n";
        let rows: Vec<Row> = go.lines().filter_map(|l| parse_line(l).unwrap()).collect();
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(r.kind, "after");
        assert!((r.heap_per_timer() - 209.99416).abs() < 1e-6);
        assert!((r.retained_per_timer().unwrap() - 201.966).abs() < 1e-6);
        assert!((r.rss_per_timer() - 232.28416).abs() < 1e-6);

        let rust = parse_line("gotimer-after-func,1000,100,64100,,0,4096,")
            .unwrap()
            .unwrap();
        assert_eq!(rust.heap_per_timer(), 64.0);
        assert_eq!(rust.retained_per_timer(), None);
        assert_eq!(rust.rss_dropped, None);
        // What the child prints is what the parser reads.
        assert_eq!(parse_line(&rust.csv()).unwrap().unwrap(), rust);

        assert!(parse_line("after,0,1,2,3,4,5,6").is_err());
        assert!(parse_line("after,1,1,2,3,4,5").is_err());
        assert!(parse_line("after,1,x,2,3,4,5,6").is_err());
        assert_eq!(parse_line(HEADER).unwrap(), None);
    }

    #[test]
    fn evenly_spread_is_within_one_to_two_hours() {
        assert_eq!(evenly_spread(0, 10), Duration::from_secs(3600));
        assert!(evenly_spread(9, 10) < Duration::from_secs(7200));
    }
}

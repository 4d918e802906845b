//! Smoke runs of `gotimer-lab bench` with tiny sizes: every benchmark and peer runs once, Go is
//! left out (`--no-go`) and the output says so; the CSV and SVG are written. (`with_go.rs` runs it
//! against every Go toolchain the machine has.)

mod common;

use common::out_dir;
use std::path::PathBuf;
use std::process::{Command, Output};

fn bench(out: &PathBuf, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gotimer-lab"))
        .arg("--out")
        .arg(out)
        .args(common::TINY_BENCH)
        .arg("--no-go")
        .args(args)
        .output()
        .expect("run gotimer-lab")
}

#[test]
fn every_benchmark_runs_once_without_go() {
    let out = out_dir("bench-smoke");
    let o = bench(&out, &[]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Note: Go left out (--no-go)"), "{stdout}");
    for name in [
        "AfterFunc",
        "SimultaneousAfterFunc",
        "StartStop",
        "Reset",
        "Sleep",
        "Ticker",
        "TickerReset",
        "TickerResetNaive",
        "AdjustTimers",
        "ParallelTimerLatency",
        "StaggeredTickerLatency/work-dur=300µs/tickers-per-P=10",
        "StaggeredTickerLatency/work-dur=2ms/tickers-per-P=1",
    ] {
        assert!(stdout.contains(name), "{name} missing:\n{stdout}");
    }

    let csv = std::fs::read_to_string(out.join("bench.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("benchmark,column,round,iterations,ns_per_timer_op,avg_late_ns,max_late_ns,go_benchmark,timer_ops_per_go_op")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let find = |b: &str, e: &str| rows.iter().find(|r| r[0] == b && r[1] == e);
    let reset = find("Reset", "gotimer").expect("a gotimer Reset row");
    assert_eq!(reset[3], "1", "-benchtime 1x runs one op");
    assert!(reset[4].parse::<f64>().unwrap() > 0.0);
    let late = find("ParallelTimerLatency", "gotimer").expect("a latency row");
    assert!(late[4].is_empty() && late[5].parse::<f64>().is_ok());
    assert!(find("Reset", "tokio-mt").is_some());
    assert!(
        find("Reset", "crossbeam").is_none(),
        "crossbeam cannot reset"
    );
    assert!(
        !rows.iter().any(|r| r[1].starts_with("go1")),
        "no Go column"
    );
    assert!(find("TickerReset", "tokio-ct").is_some());
    assert!(find("TickerReset", "crossbeam").is_none());
    // The goroutine benchmarks with tasks, for each async timer (futures-timer has no interval).
    for column in ["gotimer-async", "tokio-mt", "async-io", "futures-timer"] {
        assert!(find("Sleep", column).is_some(), "Sleep by {column}");
        assert!(find("ParallelTimerLatency", column).is_some(), "{column}");
    }
    let staggered = "StaggeredTickerLatency/work-dur=2ms/tickers-per-P=1";
    assert!(find(staggered, "async-io").is_some());
    assert!(find(staggered, "gotimer-async").is_some());
    assert!(find(staggered, "futures-timer").is_none());
    assert!(find("Reset", "async-io").is_none(), "tasks run Sleep only");
    // AdjustTimers is ten times the operations per op: 10 x 10 here.
    let adjust = find("AdjustTimers", "gotimer").expect("an AdjustTimers row");
    assert!(adjust[4].parse::<f64>().unwrap() > 0.0);

    let svg = std::fs::read_to_string(out.join("bench.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("gotimer"));
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn filter_and_switches() {
    let out = out_dir("bench-filter");
    let o = bench(
        &out,
        &["--filter", "^stop$|^After$", "--no-peers", "--count", "2"],
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{stdout}");
    assert!(stdout.contains("Go left out (--no-go)"), "{stdout}");
    let csv = std::fs::read_to_string(out.join("bench.csv")).unwrap();
    let names: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(names, ["After", "After", "Stop", "Stop"], "two rounds each");
    let rounds: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap())
        .collect();
    assert_eq!(rounds, ["1", "2", "1", "2"], "{csv}");
    assert!(
        stdout.contains("median of 2 alternating rounds"),
        "{stdout}"
    );
    assert!(!csv.contains("tokio"));

    let o = bench(&out, &["--filter", "NoSuchBenchmark"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("matches no benchmark"));
    std::fs::remove_dir_all(&out).unwrap();
}

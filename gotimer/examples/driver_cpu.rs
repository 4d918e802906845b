//! CPU time of the system clock's driver thread (and of the whole process) over a window, with one
//! load at a time (Linux: the threads' utime+stime from `/proc/self/task`, in clock ticks):
//!
//! ```text
//! cargo run --release -p gotimer --example driver_cpu -- idle 5     # 1M timers an hour out
//! cargo run --release -p gotimer --example driver_cpu -- ticker 5   # one 1 ms Ticker, received
//! cargo run --release -p gotimer --example driver_cpu -- callback 5 # a 1 ms after_func chain
//! ```
//!
//! Each prints the driver's and the process's CPU as a share of one core over the window.
use std::time::{Duration, Instant};

/// utime+stime in seconds of the threads whose name starts with `prefix` (all threads: "").
fn cpu_secs(prefix: &str) -> f64 {
    let hz = 100.0; // USER_HZ on Linux
    let mut ticks = 0u64;
    for e in std::fs::read_dir("/proc/self/task").expect("/proc/self/task (Linux)") {
        let dir = e.expect("a task").path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if !comm.trim().starts_with(prefix) {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("stat")).unwrap_or_default();
        // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
        let rest = stat.rsplit(')').next().unwrap_or("");
        let f: Vec<&str> = rest.split_whitespace().collect();
        if f.len() > 12 {
            ticks += f[11].parse::<u64>().unwrap_or(0) + f[12].parse::<u64>().unwrap_or(0);
        }
    }
    ticks as f64 / hz
}

fn main() {
    let mut args = std::env::args().skip(1);
    let load = args.next().unwrap_or_else(|| "idle".into());
    let secs: u64 = args.next().map_or(5, |s| s.parse().expect("seconds"));
    let window = Duration::from_secs(secs);
    let mut keep = Vec::new();
    let mut tickers = Vec::new();
    match load.as_str() {
        "idle" => {
            for i in 0..1_000_000u64 {
                let t = gotimer::Timer::new(Duration::from_secs(3600) + Duration::from_micros(i));
                let _ = t.c(); // waited on: in the wheel
                keep.push(t);
            }
        }
        "ticker" => {
            let t = gotimer::Ticker::new(Duration::from_millis(1));
            let rx = t.c().clone();
            tickers.push(t);
            std::thread::spawn(move || while rx.recv().is_ok() {});
        }
        "callback" => {
            fn again() {
                let _ = gotimer::after_func(Duration::from_millis(1), again);
            }
            again();
        }
        other => panic!("unknown load {other:?}: idle, ticker or callback"),
    }
    std::thread::sleep(Duration::from_millis(300));
    let (d0, p0, t0) = (cpu_secs("gotimer-driver"), cpu_secs(""), Instant::now());
    std::thread::sleep(window);
    let wall = t0.elapsed().as_secs_f64();
    let (d1, p1) = (cpu_secs("gotimer-driver"), cpu_secs(""));
    println!(
        "{load}: driver {:.2}% of a core, process {:.2}%, over {wall:.1} s",
        (d1 - d0) / wall * 100.0,
        (p1 - p0) / wall * 100.0
    );
    drop((keep, tickers));
}

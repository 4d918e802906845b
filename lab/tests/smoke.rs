//! Smoke runs of `seed`, `mem` and `scale` with tiny sizes and `--no-go`, into temporary
//! directories: the Go rows are left out and the output says so. (`with_go.rs` runs them with
//! every Go toolchain the machine has.)

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs the lab with `--no-go` into a fresh directory; returns it with stdout.
fn lab(name: &str, args: &[&str]) -> (PathBuf, String) {
    let out = common::out_dir(&format!("smoke-{name}"));
    let o = Command::new(env!("CARGO_BIN_EXE_gotimer-lab"))
        .arg("--out")
        .arg(&out)
        .args(args)
        .arg("--no-go")
        .output()
        .expect("running gotimer-lab");
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{args:?} failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("Go left out (--no-go)"), "{stdout}");
    (out, stdout)
}

pub fn assert_files(out: &Path, files: &[&str]) {
    for f in files {
        let p = out.join(f);
        let s = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(!s.is_empty(), "{} is empty", p.display());
        if f.ends_with(".svg") {
            assert!(s.contains("<text"), "{} has no text", p.display());
        }
    }
}

#[test]
fn seed_without_go() {
    let (out, stdout) = lab("seed", &["seed", "--seconds", "0.5", "--rounds", "2"]);
    for p in ["after-in-loop", "hoisted-after", "timer-reset"] {
        assert!(
            common::has_row(&stdout, &[p, "gotimer"]),
            "{p} missing:\n{stdout}"
        );
    }
    assert!(
        stdout.contains("median [min–max] of 2 alternating rounds"),
        "{stdout}"
    );
    assert!(
        stdout.contains("target: gotimer after-in-loop retains"),
        "{stdout}"
    );
    assert!(
        stdout.contains("gotimer: retains nothing, without any GC"),
        "{stdout}"
    );
    assert!(stdout.contains("the consumer thread spends"), "{stdout}");
    assert_files(&out, &["seed.csv", "seed-summary.csv", "seed.svg"]);
    let csv = std::fs::read_to_string(out.join("seed.csv")).unwrap();
    assert!(csv.starts_with(
        "side,program,round,seconds,messages,heap_bytes,rss_bytes,gcs,consumer_cpu_ns,process_cpu_ns\n"
    ));
    // Samples every 50 ms for 0.5 s, for each program in each of the two rounds.
    for round in ["1", "2"] {
        let n = csv
            .lines()
            .filter(|l| {
                l.starts_with("gotimer,after-in-loop,") && l.split(',').nth(2) == Some(round)
            })
            .count();
        assert!(n >= 10, "round {round}: {n} samples\n{csv}");
    }
    assert!(
        !csv.lines().skip(1).any(|l| !l.starts_with("gotimer,")),
        "{csv}"
    );
    // The consumer's CPU clock is read for Rust.
    let row = csv.lines().last().unwrap();
    assert!(!row.split(',').nth(8).unwrap().is_empty(), "{row}");
}

#[test]
fn mem_without_go() {
    let (out, stdout) = lab("mem", &["mem", "--count", "1000"]);
    for k in [
        "Timer::new",
        "Timer::new + c()",
        "after_func",
        "Ticker::new",
        "Ticker::new + c()",
        "Box::pin(sleep)",
        "crossbeam",
        "future::sleep",
        "Timer::after",
        "Delay::new",
    ] {
        assert!(stdout.contains(k), "{k} missing:\n{stdout}");
    }
    assert!(
        stdout.contains("target: gotimer future::sleep, with the future, <= the best"),
        "{stdout}"
    );
    assert!(
        stdout.contains("target: gotimer after_func <= 64 B"),
        "{stdout}"
    );
    assert!(
        stdout.contains("target: gotimer after retains 0 B"),
        "{stdout}"
    );
    assert!(!stdout.contains("time.AfterFunc"), "{stdout}");
    assert_files(&out, &["mem.csv", "mem.svg"]);
}

#[test]
fn scale_without_go() {
    let (out, stdout) = lab("scale", &["scale", "--max", "10000"]);
    assert!(
        stdout.contains("gotimer: ns/op at 10k pending vs 1.0k"),
        "{stdout}"
    );
    assert_files(&out, &["scale.csv", "scale.svg"]);
    let csv = std::fs::read_to_string(out.join("scale.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "header and two steps:\n{csv}");
    assert!(
        csv.starts_with("pending,gotimer Timer ns,gotimer after_func ns,gotimer reset ns\n"),
        "{csv}"
    );
}

#[test]
fn children_are_hidden_from_help() {
    let o = Command::new(env!("CARGO_BIN_EXE_gotimer-lab"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(help.contains("seed") && help.contains("scale"), "{help}");
    assert!(help.contains("--go <PATH>"), "{help}");
    assert!(!help.contains("seed-child"), "{help}");
}

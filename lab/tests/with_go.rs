//! The lab as a newcomer runs it, with every Go toolchain the machine has: from a fresh working
//! directory, with the default `--out` (a relative `target/lab`), `seed`, `mem`, `scale` and a
//! filtered `bench` must show a row (or column) for each Go version, and print no failure.
//!
//! `seed`, `mem` and `scale` run in one test, in sequence: the first build of a modern Go's standard
//! library is the slow part (about 20 s of CPU), and the later commands reuse its build cache.
//! Skipped, saying so, without Go; under CI (`CI` set) a missing Go fails it.
//!
//! `bench` against Go builds each toolchain's `time` test binary (20-45 s of CPU each on a cold
//! cache), too slow for `cargo test --workspace` on two cores: it is `#[ignore]`d, and run by hand
//! with `cargo test -p gotimer-lab --test with_go -- --ignored`. In the default run, the catalog's
//! unit test checks every Go benchmark name against each installed GOROOT's sources.

mod common;

use common::has_row;
use std::path::Path;
use std::process::Command;

/// `19` for `go1.19.8`.
fn minor(version: &str) -> u32 {
    version
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
}

/// Runs the lab in `cwd` with no `--out`; returns stdout, after checking that it succeeded and
/// printed no failure.
fn lab(cwd: &Path, args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_gotimer-lab"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("running gotimer-lab");
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{args:?} failed:\n{stdout}\n{stderr}");
    for bad in ["failed", "skipping", "left out", "no Go toolchain"] {
        assert!(
            !stdout.contains(bad) && !stderr.contains(bad),
            "{args:?} printed {bad:?}:\n{stdout}\n{stderr}"
        );
    }
    stdout
}

/// The Go versions and a fresh working directory, or None (saying so) without Go.
fn setup(test: &str) -> Option<(Vec<String>, std::path::PathBuf)> {
    let versions = common::go_versions();
    if versions.is_empty() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have Go for {test}"
        );
        eprintln!("SKIPPED {test}: no Go toolchain found");
        return None;
    }
    Some((versions, common::out_dir(test)))
}

#[test]
fn every_go_toolchain_from_a_fresh_directory() {
    let Some((versions, cwd)) = setup("newcomer") else {
        return;
    };
    let out = cwd.join("target/lab");

    // seed: the README's first command, shortened.
    let stdout = lab(&cwd, &["seed", "--seconds", "0.5", "--rounds", "1"]);
    let csv = std::fs::read_to_string(out.join("seed.csv")).expect("seed.csv under target/lab");
    for v in &versions {
        for p in ["after-in-loop", "hoisted-after", "timer-reset"] {
            assert!(has_row(&stdout, &[p, v]), "no {p} row for {v}:\n{stdout}");
            let samples = csv
                .lines()
                .filter(|l| l.starts_with(&format!("{v},{p},")))
                .count();
            assert!(samples >= 10, "{v} {p}: {samples} samples in 0.5 s");
        }
        assert!(
            stdout.contains(&format!("    {v}: ")),
            "no story line for {v}:\n{stdout}"
        );
    }
    // Go before 1.23 leaks in the loop; Go 1.23 and later frees the timers at GC time.
    for v in &versions {
        let expect = if minor(v) < 23 {
            "grows"
        } else {
            "sawtooth (GC)"
        };
        let row = stdout
            .lines()
            .find(|l| has_row(l, &["after-in-loop", v]))
            .unwrap();
        assert!(row.trim_end().ends_with(expect), "{v}: {row}");
    }
    let svg = std::fs::read_to_string(out.join("seed.svg")).unwrap();
    assert!(versions.iter().all(|v| svg.contains(v.as_str())));

    // mem: one set of Go rows per version.
    let stdout = lab(&cwd, &["mem", "--count", "1000"]);
    for v in &versions {
        for t in ["time.NewTimer", "time.AfterFunc", "time.After"] {
            assert!(has_row(&stdout, &[v, t]), "no {v} {t} row:\n{stdout}");
        }
    }

    // scale: three columns per version, and a comparison line with each.
    let stdout = lab(&cwd, &["scale", "--max", "10000"]);
    let csv = std::fs::read_to_string(out.join("scale.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    for v in &versions {
        assert!(
            stdout.contains(&format!("gotimer / {v}, worst step")),
            "{stdout}"
        );
        assert!(
            header.contains(&format!("{v} Timer ns,{v} after_func ns,{v} reset ns")),
            "{header}"
        );
    }
    let _ = std::fs::remove_dir_all(&cwd);
}

#[test]
#[ignore = "builds each Go's time test binary: run by hand with --ignored"]
fn bench_against_every_go_toolchain() {
    let Some((versions, cwd)) = setup("newcomer-bench") else {
        return;
    };
    let out = cwd.join("target/lab");

    // bench: Go's own benchmarks under their names in each generation.
    let mut args = common::TINY_BENCH.to_vec();
    args.extend([
        "--no-peers",
        "--filter",
        "^Stop$|^Ticker$|^AdjustTimers$|^ParallelTimerLatency$",
    ]);
    let stdout = lab(&cwd, &args);
    let csv = std::fs::read_to_string(out.join("bench.csv")).unwrap();
    for v in &versions {
        let (stop, ticker) = if minor(v) < 23 {
            ("Stop (/1000)", "Ticker (/1000)")
        } else {
            ("Stop/impl=chan (/1)", "Ticker (/1)")
        };
        assert!(
            stdout.contains(stop) && stdout.contains(ticker),
            "{v}:\n{stdout}"
        );
        assert!(stdout.contains(&format!("gotimer/{v}")), "{stdout}");
        assert!(
            stdout.contains(&format!("Targets against {v}:")),
            "{stdout}"
        );
        let stop_name = stop.split(' ').next().unwrap();
        assert!(
            csv.lines()
                .any(|l| l.starts_with(&format!("Stop,{v},1,")) && l.contains(stop_name)),
            "no {v} Stop run:\n{csv}"
        );
        assert!(out.join(format!("bench-{v}.txt")).is_file());
    }
    if versions.iter().any(|v| minor(v) >= 23) {
        assert!(stdout.contains("AdjustTimers10000 (/10000)"), "{stdout}");
    }
    let _ = std::fs::remove_dir_all(&cwd);
}

//! Smoke runs of `seed`, `mem` and `scale` with tiny sizes, into temporary directories: once with
//! Go hidden (`GO=/nonexistent`: the Go columns are skipped, and the output says so), and once with
//! whatever Go the machine has (skipped, saying so, when it has none).

mod common;

use common::go_available;
use std::path::PathBuf;
use std::process::Command;

/// Runs the lab into a fresh directory; returns it with stdout and stderr. `hide_go` sets
/// `GO=/nonexistent`; otherwise the lab looks for Go as usual.
fn lab(name: &str, args: &[&str], hide_go: bool) -> (PathBuf, String, String) {
    let out = common::out_dir(&format!("smoke-{name}"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gotimer-lab"));
    cmd.arg("--out").arg(&out).args(args);
    if hide_go {
        cmd.env("GO", "/nonexistent");
    }
    let o = cmd.output().expect("running gotimer-lab");
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{args:?} failed:\n{stdout}\n{stderr}");
    (out, stdout, stderr)
}

fn assert_files(out: &std::path::Path, files: &[&str]) {
    for f in files {
        let p = out.join(f);
        let s = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(!s.is_empty(), "{} is empty", p.display());
        if f.ends_with(".svg") {
            assert!(s.contains("<text"), "{} has no text", p.display());
        }
    }
}

fn check_seed(stdout: &str, out: &std::path::Path, with_go: bool) {
    for p in ["after-in-loop", "hoisted-after", "timer-reset"] {
        assert!(stdout.contains(p), "{p} missing:\n{stdout}");
    }
    assert!(
        stdout.contains("target: gotimer after-in-loop retains"),
        "{stdout}"
    );
    assert_files(out, &["seed.csv", "seed-summary.csv", "seed.svg"]);
    let csv = std::fs::read_to_string(out.join("seed.csv")).unwrap();
    assert!(csv.starts_with("language,program,seconds,messages,heap_bytes,rss_bytes\n"));
    // Samples at 0, 0.25, 0.5 s (at least) for each of the three Rust programs.
    assert!(
        csv.lines().filter(|l| l.starts_with("gotimer,")).count() >= 9,
        "{csv}"
    );
    let go_lines = csv.lines().filter(|l| l.starts_with("Go,")).count();
    if with_go {
        assert!(go_lines >= 9, "{csv}");
        let svg = std::fs::read_to_string(out.join("seed.svg")).unwrap();
        assert!(svg.contains("Go after-in-loop"));
    } else {
        assert_eq!(go_lines, 0);
        assert!(stdout.contains("Go columns skipped"), "{stdout}");
    }
}

#[test]
fn seed_without_go() {
    let (out, stdout, stderr) = lab("seed-nogo", &["seed", "--seconds", "0.5"], true);
    assert!(
        stderr.contains("apt-get install -y golang-1.19-go"),
        "{stderr}"
    );
    check_seed(&stdout, &out, false);
}

#[test]
fn seed_with_go() {
    if !go_available() {
        eprintln!("no Go toolchain: seed_with_go skipped (the Go path is untested here)");
        return;
    }
    let (out, stdout, _) = lab("seed-go", &["seed", "--seconds", "0.5"], false);
    check_seed(&stdout, &out, true);
}

fn check_mem(stdout: &str, out: &std::path::Path, with_go: bool) {
    for k in [
        "Timer::new",
        "after_func",
        "Ticker::new",
        "Box::pin(sleep)",
        "crossbeam",
    ] {
        assert!(stdout.contains(k), "{k} missing:\n{stdout}");
    }
    assert!(
        stdout.contains("target: gotimer after_func <= 64 B"),
        "{stdout}"
    );
    assert!(
        stdout.contains("target: gotimer after retains 0 B"),
        "{stdout}"
    );
    assert_files(out, &["mem.csv", "mem.svg"]);
    if with_go {
        assert!(stdout.contains("time.AfterFunc"), "{stdout}");
    } else {
        assert!(!stdout.contains("time.AfterFunc"), "{stdout}");
        assert!(stdout.contains("Go rows skipped"), "{stdout}");
    }
}

#[test]
fn mem_without_go() {
    let (out, stdout, _) = lab("mem-nogo", &["mem", "--count", "1000"], true);
    check_mem(&stdout, &out, false);
}

#[test]
fn mem_with_go() {
    if !go_available() {
        eprintln!("no Go toolchain: mem_with_go skipped");
        return;
    }
    let (out, stdout, _) = lab("mem-go", &["mem", "--count", "1000"], false);
    check_mem(&stdout, &out, true);
}

fn check_scale(stdout: &str, out: &std::path::Path, with_go: bool) {
    assert!(stdout.contains("gotimer insert+cancel ns"), "{stdout}");
    assert!(
        stdout.contains("gotimer: ns/op at 10k pending vs 1.0k"),
        "{stdout}"
    );
    assert_files(out, &["scale.csv", "scale.svg"]);
    let csv = std::fs::read_to_string(out.join("scale.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "header and two steps:\n{csv}");
    if with_go {
        assert!(csv.starts_with("pending,gotimer insert+cancel ns,gotimer reset ns,Go insert+cancel ns,Go reset ns\n"), "{csv}");
    } else {
        assert!(
            csv.starts_with("pending,gotimer insert+cancel ns,gotimer reset ns\n"),
            "{csv}"
        );
        assert!(stdout.contains("Go columns skipped"), "{stdout}");
    }
}

#[test]
fn scale_without_go() {
    let (out, stdout, _) = lab("scale-nogo", &["scale", "--max", "10000"], true);
    check_scale(&stdout, &out, false);
}

#[test]
fn scale_with_go() {
    if !go_available() {
        eprintln!("no Go toolchain: scale_with_go skipped");
        return;
    }
    let (out, stdout, _) = lab("scale-go", &["scale", "--max", "10000"], false);
    check_scale(&stdout, &out, true);
}

#[test]
fn children_are_hidden_from_help() {
    let o = Command::new(env!("CARGO_BIN_EXE_gotimer-lab"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(help.contains("seed") && help.contains("scale"), "{help}");
    assert!(!help.contains("seed-child"), "{help}");
}

//! Smoke run of `gotimer-lab leak`: a few seconds on a free port. The leak watch must report the
//! leaking line and not the fixed one; the printed `go tool pprof -http` command must name this
//! run's endpoint (gotimer's `tests/pprof_web.rs` checks what that web UI shows); with Go installed
//! (required under CI), `go tool pprof -top` against the lab's own endpoint must show the leaking
//! line with every pending callback.

mod common;

use common::go_available;
use std::process::Command;

#[test]
fn leak_finds_the_leaking_line() {
    let out = common::out_dir("leak");
    let o = Command::new(env!("CARGO_BIN_EXE_gotimer-lab"))
        .arg("--out")
        .arg(&out)
        .args(["leak", "--seconds", "3", "--every", "0.5", "--window", "2"])
        .args(["--rate", "5000", "--pprof", "127.0.0.1:0"])
        // pprof writes nothing into the real home.
        .env("HOME", &out)
        .output()
        .expect("running gotimer-lab leak");
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "failed:\n{stdout}\n{stderr}");

    let leaking = stdout
        .lines()
        .find_map(|l| l.strip_prefix("leaking: "))
        .and_then(|l| l.split_whitespace().next())
        .expect("the leaking line is named")
        .to_owned();
    let fixed = stdout
        .lines()
        .find_map(|l| l.strip_prefix("fixed:   "))
        .and_then(|l| l.split_whitespace().next())
        .expect("the fixed line is named")
        .to_owned();
    assert!(leaking.starts_with("lab/src/leak.rs:"), "{leaking}");
    let rising: Vec<&str> = stdout.lines().filter(|l| l.contains("RISING")).collect();
    assert!(
        rising
            .iter()
            .any(|l| l.contains(&format!("{leaking}:")) && l.contains("AfterFunc")),
        "the watch did not report {leaking}:\n{stdout}"
    );
    assert!(
        !rising.iter().any(|l| l.contains(&format!("{fixed}:"))),
        "the watch reported the fixed line {fixed}:\n{stdout}"
    );
    assert!(
        stdout.contains("verdict: the watch reported the leaking line and not the fixed one"),
        "{stdout}"
    );
    assert!(out.join("leak-timers.pb.gz").exists());

    // The printed web UI command opens this run's endpoint; run from lab/, inside the repository,
    // it needs no -source_path.
    let addr = stdout
        .lines()
        .find_map(|l| l.strip_prefix("serving http://"))
        .and_then(|l| l.split('/').next())
        .expect("the endpoint's address");
    let web = stdout
        .lines()
        .find(|l| l.contains(" tool pprof -http="))
        .unwrap_or_else(|| panic!("no go tool pprof -http command:\n{stdout}"))
        .trim();
    let go = web.split(" tool pprof ").next().unwrap();
    assert_eq!(
        web,
        format!("{go} tool pprof -http=127.0.0.1:8081 http://{addr}/debug/pprof/timers")
    );

    if !go_available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have Go for this test:\n{stdout}"
        );
        eprintln!("SKIPPED the go tool pprof part: no Go");
        assert!(stdout.contains("go tool pprof: skipped"), "{stdout}");
    } else {
        // The command names the Go the lab found.
        assert!(
            Command::new(go)
                .arg("version")
                .output()
                .is_ok_and(|o| o.status.success()),
            "{web}"
        );
        // pprof's top row is the leaking line, with every callback the leaky loop left pending.
        let pending: u64 = stdout
            .lines()
            .find_map(|l| l.strip_prefix("leaky loop handled "))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .expect("the leaky loop's count");
        let top = stdout
            .split("$ go tool pprof -top")
            .nth(1)
            .unwrap_or_else(|| panic!("no go tool pprof output:\n{stdout}"));
        let row = top
            .lines()
            .find(|l| l.contains(&format!("{leaking}:")) && l.ends_with("AfterFunc"))
            .unwrap_or_else(|| panic!("no pprof row for {leaking}:\n{top}"));
        assert_eq!(
            row.split_whitespace().next(),
            Some(pending.to_string().as_str()),
            "{row}"
        );
        assert!(out.join("pprof").read_dir().unwrap().count() >= 1);
    }
    let _ = std::fs::remove_dir_all(&out);
}

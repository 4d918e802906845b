//! A smoke run of `gotimer-lab tasks` with tiny sizes: every measurement of every library runs in
//! two rounds, each in its own process, and the table, the CSVs and the chart are written.

mod common;

use std::process::Command;

#[test]
fn every_measurement_runs_for_every_library() {
    let out = common::out_dir("tasks-smoke");
    let o = Command::new(env!("CARGO_BIN_EXE_gotimer-lab"))
        .arg("--out")
        .arg(&out)
        .args(["tasks", "--count", "2", "--benchtime", "20x"])
        .args(["--pending", "100", "--tasks", "50", "--samples", "5"])
        .output()
        .expect("run gotimer-lab");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("median [min–max] of 2 alternating rounds"),
        "{stdout}"
    );
    for row in [
        "sleep(1h) create + first poll + drop, ns",
        "sleep(1h) create + first poll + drop, 100 others pending, ns",
        "50 tasks each sleep(50ms), spawn to all done, ms",
        "sleep(100µs), creation to completion: median µs",
        "sleep(100µs), creation to completion: p99 µs",
    ] {
        assert!(stdout.contains(row), "{row} missing:\n{stdout}");
    }
    assert!(stdout.contains("<= 1x tokio: "), "{stdout}");
    assert!(stdout.contains("<= 1x best peer ("), "{stdout}"); // it names the library
    assert!(stdout.contains("<= 250 µs: "), "{stdout}");

    let csv = std::fs::read_to_string(out.join("tasks.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.rsplitn(4, ',').collect())
        .collect();
    // (value, figure, round, measurement and library): 7 figures x 4 libraries x 2 rounds.
    assert_eq!(rows.len(), 7 * 4 * 2, "{csv}");
    for lib in ["gotimer", "tokio", "async-io", "futures-timer"] {
        let precision = |r: &&Vec<&str>| r[3].ends_with(&format!(",{lib}")) && r[1] == "median_us";
        let medians: Vec<f64> = rows
            .iter()
            .filter(precision)
            .map(|r| r[0].parse().unwrap())
            .collect();
        assert_eq!(medians.len(), 2, "{lib}: {csv}");
        assert!(
            medians.iter().all(|&us| us >= 100.0),
            "{lib} slept less than 100 µs: {csv}"
        );
    }
    let svg = std::fs::read_to_string(out.join("tasks.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("futures-timer"));
    assert!(out.join("tasks-summary.csv").is_file());
    std::fs::remove_dir_all(&out).unwrap();
}

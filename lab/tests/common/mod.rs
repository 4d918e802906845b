//! Helpers shared by the lab's integration tests (each test file is its own crate and uses only
//! some of them).
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// A fresh, empty directory `gotimer-lab-NAME-PID` under the system's temporary directory.
pub fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gotimer-lab-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The versions (`go1.19.8`) of the Go toolchains the lab will find, looked up as the lab documents
/// it (and independently of its code): `$GO`, Debian's `/usr/lib/go-1.19/bin/go`, `go` on `PATH`;
/// one per version, oldest first.
pub fn go_versions() -> Vec<String> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("GO")
        .filter(|g| !g.is_empty())
        .map(PathBuf::from)
        .into_iter()
        .collect();
    candidates.extend(["/usr/lib/go-1.19/bin/go".into(), "go".into()]);
    let mut versions: Vec<String> = candidates
        .iter()
        .filter_map(|g| {
            let o = Command::new(g)
                .arg("version")
                .env("GOTOOLCHAIN", "local")
                .output()
                .ok()?;
            let out = String::from_utf8_lossy(&o.stdout).into_owned();
            // "go version go1.19.8 linux/amd64"
            o.status
                .success()
                .then(|| out.split_whitespace().nth(2).map(str::to_string))?
        })
        .collect();
    let key = |v: &String| -> Vec<u32> {
        v.trim_start_matches("go")
            .split('.')
            .map(|p| p.parse().unwrap_or(0))
            .collect()
    };
    versions.sort_by_key(key);
    versions.dedup();
    versions
}

/// `bench` with tiny sizes, for smoke runs: one op per benchmark, 16 idle timers per thread, 10
/// timer operations per op (the ratios to Go mean nothing then).
pub const TINY_BENCH: [&str; 7] = [
    "bench",
    "--benchtime",
    "1x",
    "--garbage",
    "16",
    "--ops-per-op",
    "10",
];

/// Whether the lab will find any Go toolchain.
pub fn go_available() -> bool {
    !go_versions().is_empty()
}

/// Whether a printed table has a row starting with these cells.
pub fn has_row(table: &str, cells: &[&str]) -> bool {
    table.lines().any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() > cells.len() && f[..cells.len()] == *cells
    })
}

//! Helpers shared by the test binaries (each uses some of them).
#![allow(dead_code)]

pub mod clocks;
pub mod counting;
pub mod model;
pub mod wakers;

/// utime + stime of this process's thread named `name` (its `comm`), in seconds, from
/// /proc/self/task; `None` if there is no such thread.
pub fn thread_cpu_secs(name: &str) -> Option<f64> {
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let dir = task.ok()?.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if comm.trim() != name {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
        // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
        let rest = &stat[stat.rfind(')')? + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks = f[11].parse::<u64>().ok()? + f[12].parse::<u64>().ok()?;
        return Some(ticks as f64 / clock_ticks_per_sec() as f64);
    }
    None
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`), 100 if it cannot be read.
pub fn clock_ticks_per_sec() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

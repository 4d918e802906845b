//! What the kernel says about this process, read from `/proc`: its resident set size and the CPU
//! clocks of its threads. `seed` and `mem` sample them in their children; the lab's Go programs
//! read the same files, so both languages are measured by one clock. `mem` and `tasks` also wait on
//! the clocks for the process to go quiet.

use std::path::Path;
use std::time::{Duration, Instant};

/// The process's resident set size in bytes, from `VmRSS` in `/proc/self/status` (0 where it cannot
/// be read).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| parse_vmrss(&s))
        .unwrap_or(0)
}

/// The `VmRSS:   1234 kB` line of `/proc/self/status`, in bytes.
pub fn parse_vmrss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut f = line["VmRSS:".len()..].split_whitespace();
    let n: u64 = f.next()?.parse().ok()?;
    match f.next() {
        Some("kB") => Some(n * 1024),
        _ => None,
    }
}

/// The kernel's id of the calling thread (`/proc/thread-self` links to `PID/task/TID`).
pub fn thread_id() -> Option<u32> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

/// CPU time used so far by thread `tid` of this process, in ns: the first field of its
/// `schedstat`, which is what `CLOCK_THREAD_CPUTIME_ID` reads. None where it cannot be read.
pub fn thread_cpu_ns(tid: u32) -> Option<u64> {
    read_schedstat(&Path::new("/proc/self/task").join(tid.to_string()))
}

/// CPU time used so far by every live thread of this process, in ns.
pub fn process_cpu_ns() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|t| read_schedstat(&t.path()))
        .sum()
}

/// Waits, at most `limit`, until the process's threads are idle: less than 2 % of a core over
/// 50 ms. Libraries that file timers on a thread of their own (futures-timer's helper, async-io's
/// reactor) are then done with what was handed to them.
pub fn settle(limit: Duration) {
    let step = Duration::from_millis(50);
    let deadline = Instant::now() + limit;
    let mut before = process_cpu_ns();
    while Instant::now() < deadline {
        std::thread::sleep(step);
        let now = process_cpu_ns();
        if now.saturating_sub(before) < step.as_nanos() as u64 / 50 {
            return;
        }
        before = now;
    }
}

fn read_schedstat(task: &Path) -> Option<u64> {
    parse_schedstat(&std::fs::read_to_string(task.join("schedstat")).ok()?)
}

/// `schedstat`'s first field: `2395917 11524495 24` -> 2395917 ns on a CPU.
pub fn parse_schedstat(s: &str) -> Option<u64> {
    s.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rss_and_cpu_clocks() {
        assert!(rss_bytes() > 0);
        assert_eq!(
            parse_vmrss("Name:\tx\nVmRSS:\t    2048 kB\nVmData: 1 kB\n"),
            Some(2 << 20)
        );
        assert_eq!(parse_schedstat("2395917 11524495 24\n"), Some(2_395_917));
        assert_eq!(parse_schedstat(""), None);

        // A thread that spins sees its clock advance (to 20 ms of CPU, however long the machine
        // takes to give it that), and the process's clock holds at least as much.
        let tid = thread_id().expect("a thread id");
        let before = thread_cpu_ns(tid).expect("this thread's schedstat");
        let start = std::time::Instant::now();
        let mut spun = 0;
        while spun < 20_000_000 && start.elapsed() < std::time::Duration::from_secs(30) {
            std::hint::spin_loop();
            spun = thread_cpu_ns(tid).unwrap() - before;
        }
        assert!(spun >= 20_000_000, "{spun} ns in {:?}", start.elapsed());
        assert!(process_cpu_ns() >= spun);
        // Another thread's clock did not move with this one's spinning.
        let other = std::thread::spawn(|| thread_id().and_then(thread_cpu_ns))
            .join()
            .unwrap()
            .unwrap();
        assert!(other < spun, "{other} vs {spun}");
    }
}

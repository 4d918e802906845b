//! The driver thread: its timer slack, and that it never keeps the process alive.

use std::time::Duration;

/// The driver thread's tid, found by name.
#[cfg(target_os = "linux")]
fn driver_tid() -> Option<String> {
    std::fs::read_dir("/proc/self/task").ok()?.find_map(|e| {
        let tid = e.ok()?.file_name().into_string().ok()?;
        let comm = std::fs::read_to_string(format!("/proc/self/task/{tid}/comm")).ok()?;
        (comm.trim() == "gotimer-driver").then_some(tid)
    })
}

#[cfg(target_os = "linux")]
#[test]
fn driver_runs_with_minimal_timer_slack() {
    // Starting the runtime spawns the driver, which sets its slack before anything else. The
    // timer need not wait for it (a due timer is fired by `c()` on this thread), so on a loaded
    // machine the thread may not have run yet, named or not: wait for it, within a bound that only
    // a driver that never starts misses.
    let t = gotimer::Timer::new(Duration::from_millis(1));
    t.c().recv().unwrap();
    let until = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let tid = driver_tid();
        let slack = tid
            .as_ref()
            .map(|tid| std::fs::read_to_string(format!("/proc/self/task/{tid}/timerslack_ns")));
        match slack {
            Some(Ok(s)) if s.trim() == "1" => return,
            // Kernels before 4.6 have no such file; the prctl still ran.
            Some(Err(e)) => return eprintln!("cannot read timerslack_ns ({e}); skipped"),
            other => assert!(
                std::time::Instant::now() < until,
                "after 10 s, the driver thread is {other:?} (want its timer slack at 1 ns)"
            ),
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn short_sleeps_are_exact_and_not_early() {
    for d in [
        Duration::from_nanos(1),
        Duration::from_micros(10),
        gotimer::SPIN_BELOW,
    ] {
        for _ in 0..100 {
            let start = std::time::Instant::now();
            gotimer::sleep(d);
            assert!(start.elapsed() >= d, "sleep({d:?}) returned early");
        }
    }
}

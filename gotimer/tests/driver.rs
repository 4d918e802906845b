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
    // Starting the runtime starts the driver, which sets its slack before anything else.
    let t = gotimer::Timer::new(Duration::from_millis(1));
    t.c().recv().unwrap();
    let tid = driver_tid().expect("no gotimer-driver thread");
    let slack = std::fs::read_to_string(format!("/proc/self/task/{tid}/timerslack_ns"));
    match slack {
        Ok(s) => assert_eq!(s.trim(), "1", "driver timer slack"),
        // Kernels before 4.6 have no such file; the prctl still ran.
        Err(e) => eprintln!("cannot read timerslack_ns ({e}); skipped"),
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

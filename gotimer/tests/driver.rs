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

/// The process's CPU time, all threads together.
#[cfg(target_os = "linux")]
fn process_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable `timespec` for the call, which writes only it.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// While the process keeps every core busy and deadlines come every 50 µs, the driver fires them
/// in batches (`Stats::batched_wakeups`): every tick still comes, with Go's value, none before it
/// is due, and none later than the batching allows beyond the machine's own delays. Whether the
/// process got its cores is measured, not assumed: on a machine that other processes keep busy, it
/// does not, the driver does not batch, and only the ticks are checked.
#[cfg(target_os = "linux")]
#[test]
fn a_busy_process_gets_dense_ticks_in_batches_none_early() {
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
    use std::time::Instant;
    const TICKERS: usize = 20;
    const TICKS: usize = 100;
    let period = Duration::from_millis(1);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let stop = AtomicBool::new(false);
    let (wall, cpu, batched) = std::thread::scope(|s| {
        for _ in 0..cores {
            s.spawn(|| {
                while !stop.load(Relaxed) {
                    std::hint::spin_loop();
                }
            });
        }
        let (batched0, cpu0, start) = (
            gotimer::stats().batched_wakeups,
            process_cpu(),
            Instant::now(),
        );
        let receivers: Vec<_> = (0..TICKERS)
            .map(|_| {
                s.spawn(move || {
                    let ticker = gotimer::Ticker::new(period);
                    let mut last = None;
                    for _ in 0..TICKS {
                        let tick = ticker.c().recv().expect("a ticker's channel stays open");
                        let seen = Instant::now();
                        assert!(seen >= tick, "a tick came {:?} early", tick - seen);
                        if let Some(last) = last {
                            assert!(tick >= last + period, "ticks {last:?} then {tick:?}");
                        }
                        last = Some(tick);
                    }
                })
            })
            .collect();
        let joined: Vec<_> = receivers.into_iter().map(|r| r.join()).collect();
        let out = (
            start.elapsed(),
            process_cpu() - cpu0,
            gotimer::stats().batched_wakeups - batched0,
        );
        // Before any receiver's panic is passed on: the scope waits for the spinners.
        stop.store(true, Relaxed);
        for r in joined {
            if let Err(panic) = r {
                std::panic::resume_unwind(panic);
            }
        }
        out
    });
    let busy = cpu.as_secs_f64() / (wall.as_secs_f64() * cores as f64);
    if busy >= 0.95 {
        assert!(
            batched > 0,
            "the process used {:.0} % of {cores} cores for {wall:?} with {TICKERS} tickers every \
             {period:?}, and the driver never batched",
            busy * 100.0
        );
    } else {
        eprintln!(
            "the process got only {:.0} % of {cores} cores: the driver need not batch (it did {batched} times)",
            busy * 100.0
        );
    }
}

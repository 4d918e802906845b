//! Reliability edges: durations at and past the end of time, reset to zero, reset storms on one
//! timer from several threads, a ticker with a 1 ns period, and a callback that stops or resets its
//! own timer.

mod common;

use crossbeam_channel::RecvTimeoutError;
use gotimer::{after, after_func, stats, tick, Ticker, Timer};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

const MS: Duration = Duration::from_millis(1);
/// How late a timer may be on a loaded 2-core machine in a debug build.
const BOUND: Duration = Duration::from_millis(500);
/// The wheel's horizon: 2^62 ns (about 146 years) after the runtime started.
const HORIZON: Duration = Duration::from_nanos(1 << 62);

/// Durations whose deadline cannot be represented: the timer is pending forever.
const NEVER: [Duration; 4] = [
    Duration::MAX,
    Duration::from_nanos(u64::MAX),
    Duration::from_secs(u64::MAX / 2),
    Duration::from_nanos((1 << 62) + 1),
];

/// A value that must not come.
fn silent(rx: &crossbeam_channel::Receiver<Instant>, what: &str) {
    assert_eq!(
        rx.recv_timeout(20 * MS),
        Err(RecvTimeoutError::Timeout),
        "{what} delivered"
    );
}

#[test]
fn duration_max_and_instant_overflow_never_fire_and_never_panic() {
    for d in NEVER {
        // Timer: pending (stop is true), never delivers, resettable both ways.
        let t = Timer::new(d);
        silent(t.c(), &format!("Timer::new({d:?})"));
        assert!(
            t.reset(d),
            "reset({d:?}) of a never-due timer: it was pending"
        );
        assert!(t.stop(), "stop of a never-due timer: it was pending");
        assert!(!t.stop());
        assert!(!t.reset(d), "reset after stop: nothing was pending");
        assert!(t.reset(MS), "never-due → 1 ms");
        t.c()
            .recv_timeout(BOUND + MS)
            .expect("reset from never to 1 ms");
        assert!(!t.reset(d), "received: nothing pending");
        silent(t.c(), "Timer reset to never");

        // Ticker: a period past the horizon never ticks, and stop/reset work.
        let tk = Ticker::new(d);
        silent(tk.c(), &format!("Ticker::new({d:?})"));
        tk.reset(MS);
        tk.c()
            .recv_timeout(BOUND + MS)
            .expect("ticker reset from never to 1 ms");
        tk.reset(d);
        silent(tk.c(), "Ticker reset to never");
        tk.stop();

        // after_func: never runs; stop reports that it kept it from running.
        let ran = Arc::new(AtomicBool::new(false));
        let r = ran.clone();
        let f = after_func(d, move || r.store(true, SeqCst));
        std::thread::sleep(10 * MS);
        assert!(f.stop());
        assert!(!ran.load(SeqCst));

        // after: never delivers.
        silent(&after(d), &format!("after({d:?})"));
    }
    // Just inside the horizon: accepted into the wheel (counted as pending), never due in practice.
    let before = stats().pending;
    let inside = HORIZON - Duration::from_secs(3600 * 24 * 365);
    let t = Timer::new(inside);
    let tk = Ticker::new(inside);
    // Asked for their channels: armed, so in the wheel.
    let _ = (t.c(), tk.c());
    assert!(
        stats().pending >= before + 2,
        "a timer within the horizon is in a wheel"
    );
    silent(t.c(), "a timer a century out");
    silent(tk.c(), "a ticker a century out");
    assert!(t.stop());
    tk.stop();
    // A running ticker reset to a century: the ticks stop.
    let tk = Ticker::new(MS);
    tk.c().recv_timeout(BOUND).expect("tick");
    tk.reset(inside);
    silent(tk.c(), "ticker at the horizon");
    // The runtime still works.
    let start = Instant::now();
    let v = Timer::new(5 * MS).c().recv_timeout(BOUND + 5 * MS).unwrap();
    assert!(v >= start + 5 * MS);
}

#[test]
fn reset_to_zero_fires_at_once_and_replaces_the_old_value() {
    let t = Timer::new(Duration::from_secs(3600));
    let before = Instant::now();
    assert!(t.reset(Duration::ZERO), "was pending");
    // Zero fires on the resetting thread: the value is there when reset returns.
    let v = t
        .c()
        .try_recv()
        .expect("reset(0) delivers before it returns");
    assert!(v >= before && v <= Instant::now());
    assert!(!t.reset(Duration::ZERO), "the value was received");
    // Unreceived, a second reset(0) replaces the value: exactly one, the newer.
    let first = Instant::now();
    std::thread::sleep(MS);
    assert!(t.reset(Duration::ZERO), "the old value was not received");
    let v = t.c().try_recv().unwrap();
    assert!(
        v > first,
        "the value is the new schedule's, not the stale one"
    );
    assert!(t.c().try_recv().is_err(), "one value per schedule");
    assert!(!t.stop());

    // after_func: reset(0) runs the callback promptly.
    let (tx, rx) = crossbeam_channel::unbounded();
    let f = after_func(Duration::from_secs(3600), move || {
        tx.send(Instant::now()).unwrap()
    });
    let at = Instant::now();
    assert!(f.reset(Duration::ZERO));
    let ran = rx
        .recv_timeout(BOUND)
        .expect("after_func reset to zero did not run");
    assert!(ran >= at);
    assert!(!f.stop(), "already started");

    // A ticker cannot be reset to zero, as in Go.
    let tk = Ticker::new(Duration::from_secs(1));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tk.reset(Duration::ZERO)));
    let msg = r.expect_err("Ticker::reset(0) must panic");
    let msg = msg
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| msg.downcast_ref::<String>().map(String::as_str))
        .unwrap_or_default();
    assert!(
        msg.contains("non-positive interval for Ticker::reset"),
        "{msg}"
    );
}

/// Several threads reset (and sometimes stop) one timer as fast as they can while another thread
/// receives. Every value received belongs to one of the schedules made, and none is received twice.
/// After the storm, the final schedule delivers exactly once and nothing stale follows.
#[test]
fn reset_storm_on_one_timer_from_several_threads() {
    const THREADS: usize = 4;
    const RESETS: usize = 2000;
    let b = Instant::now();
    let t = Arc::new(Timer::new(MS));
    let a = Instant::now();
    // (earliest, latest) due instant of every schedule, from the instants around each call. The
    // first is the timer's own: on a loaded machine it may come due, and be received (the
    // receiver's `c()` fires it), before any stormer's first reset.
    let windows = Arc::new(Mutex::new(vec![(b + MS, a + MS)]));
    let storming = Arc::new(AtomicBool::new(true));
    let pause = Arc::new(std::sync::Barrier::new(THREADS));
    let receiver = {
        let (t, storming) = (t.clone(), storming.clone());
        std::thread::spawn(move || {
            let mut got = Vec::new();
            while storming.load(SeqCst) {
                if let Ok(v) = t.c().recv_timeout(MS) {
                    got.push((v, Instant::now()));
                }
            }
            got
        })
    };
    let stormers: Vec<_> = (0..THREADS)
        .map(|i| {
            let (t, windows, pause) = (t.clone(), windows.clone(), pause.clone());
            std::thread::spawn(move || {
                let mut x = 0x9e37_79b9_u64 * (i as u64 + 1);
                for n in 0..RESETS {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    if n % 64 == 63 {
                        // All pause together, so that the last schedule fires and is received.
                        pause.wait();
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    if n % 16 == 7 {
                        t.stop();
                        continue;
                    }
                    let d = Duration::from_nanos(x % 500_000);
                    let b = Instant::now();
                    t.reset(d);
                    let a = Instant::now();
                    windows.lock().unwrap().push((b + d, a + d));
                }
            })
        })
        .collect();
    for s in stormers {
        s.join().unwrap();
    }
    storming.store(false, SeqCst);
    let got = receiver.join().unwrap();
    let windows = windows.lock().unwrap().clone();
    let mut seen = std::collections::HashSet::new();
    for &(v, at) in &got {
        assert!(at >= v, "value {v:?} received before it was due");
        assert!(
            windows.iter().any(|&(lo, hi)| lo <= v && v <= hi),
            "value {v:?} is the due instant of no schedule"
        );
        assert!(seen.insert(v), "value {v:?} received twice");
    }
    // The final schedule: stop, then nothing, then a new schedule delivers once.
    t.stop();
    silent(t.c(), "a value after the stop that ended the storm");
    let b = Instant::now();
    assert!(!t.reset(5 * MS), "stopped: nothing pending");
    let a = Instant::now();
    let v = t.c().recv_timeout(BOUND + 5 * MS).expect("final schedule");
    assert!(
        v >= b + 5 * MS && v <= a + 5 * MS,
        "not the final schedule's value"
    );
    silent(t.c(), "a second value of the final schedule");
    eprintln!(
        "reset storm: {} schedules from {THREADS} threads, {} values received, none stale or twice",
        windows.len(),
        got.len()
    );
}

/// A 1 ns ticker whose receiver is held (`c()` asked once, then `recv` on the clone): nobody calls
/// `c()` to fire due ticks, so the driver delivers them, filed at least `SPIN_BELOW` apart because
/// it cannot sleep shorter: the receiver keeps getting ticks, in order, and the driver does not
/// spin for them.
#[test]
fn ticker_with_a_1ns_period_and_a_held_receiver_ticks_at_most_every_spin_below() {
    const SPIN: Duration = Duration::from_millis(300);
    let tk = Ticker::new(Duration::from_nanos(1));
    let rx = tk.c().clone();
    let cpu0 = common::thread_cpu_secs("gotimer-driver");
    let start = Instant::now();
    let (mut ticks, mut last) = (0u64, None);
    // At least 10 ticks, however long a loaded machine keeps the driver from running: each comes
    // within `BOUND` of the last, or the ticker is broken. The bound checked is the upper one.
    while start.elapsed() < SPIN || ticks < 10 {
        let v = rx
            .recv_timeout(BOUND)
            .expect("a held 1 ns ticker must tick");
        if let Some(l) = last {
            assert!(v > l, "ticks out of order");
        }
        last = Some(v);
        ticks += 1;
    }
    let wall = start.elapsed();
    let cpu = common::thread_cpu_secs("gotimer-driver")
        .zip(cpu0)
        .map(|(b, a)| format!("{:.0}%", (b - a) / wall.as_secs_f64() * 100.0))
        .unwrap_or_else(|| "?".into());
    eprintln!("1 ns ticker, held receiver: {ticks} ticks in {wall:?} (driver CPU {cpu} of a core)");
    let most = wall.as_nanos() / gotimer::SPIN_BELOW.as_nanos() + 2;
    assert!(
        u128::from(ticks) <= most,
        "{ticks} ticks in {wall:?}: more than one per SPIN_BELOW ({most})"
    );
}

#[test]
fn ticker_with_a_1ns_period_neither_hangs_nor_starves() {
    const SPIN: Duration = Duration::from_millis(300);
    let tk = Ticker::new(Duration::from_nanos(1));
    // Other timers keep their times while it ticks: a waiting receiver, and a callback.
    let due = Instant::now() + 20 * MS;
    let other = std::thread::spawn(move || {
        let t = Timer::new(20 * MS);
        let v = t.c().recv_timeout(BOUND + 20 * MS);
        (v, Instant::now())
    });
    let ran = Arc::new(Mutex::new(None));
    let r = ran.clone();
    let _f = after_func(20 * MS, move || *r.lock().unwrap() = Some(Instant::now()));
    // The receiver gets ticks, in order, none from the future.
    let cpu0 = common::thread_cpu_secs("gotimer-driver");
    let start = Instant::now();
    let mut last = None;
    let mut ticks = 0;
    while start.elapsed() < SPIN || ticks < 10 {
        let v = tk.c().recv_timeout(BOUND).expect("a 1 ns ticker must tick");
        assert!(v <= Instant::now());
        if let Some(l) = last {
            assert!(v > l, "ticks out of order");
        }
        last = Some(v);
        ticks += 1;
    }
    let cpu = common::thread_cpu_secs("gotimer-driver")
        .zip(cpu0)
        .map(|(b, a)| format!("{:.0}%", (b - a) / start.elapsed().as_secs_f64() * 100.0))
        .unwrap_or_else(|| "?".into());
    let (v, got) = other.join().unwrap();
    let v = v.expect("a 20 ms timer starved by a 1 ns ticker");
    assert!(v >= due - MS);
    let late = got.saturating_duration_since(v);
    let until = Instant::now() + BOUND;
    let ran_at = loop {
        if let Some(t) = *ran.lock().unwrap() {
            break t;
        }
        assert!(
            Instant::now() < until,
            "after_func starved by a 1 ns ticker"
        );
        std::thread::sleep(MS);
    };
    let cb_late = ran_at.saturating_duration_since(due);
    eprintln!(
        "1 ns ticker: {ticks} ticks received in {SPIN:?} (driver CPU {cpu} of a core); meanwhile \
         a 20 ms timer was {late:?} late and a 20 ms callback {cb_late:?}"
    );
    assert!(ticks >= 10, "only {ticks} ticks in {SPIN:?}");
    assert!(
        late < BOUND,
        "a timer was {late:?} late beside a 1 ns ticker"
    );
    assert!(
        cb_late < BOUND,
        "a callback was {cb_late:?} late beside a 1 ns ticker"
    );
    // Reset to 1 ns again, then stop: nothing after stop returns.
    tk.reset(Duration::from_nanos(1));
    tk.c().recv_timeout(BOUND).expect("tick after reset");
    tk.stop();
    silent(tk.c(), "a tick after stop");
    // A `tick(1ns)` whose receiver is dropped frees itself.
    let before = stats().pending;
    let rx = tick(Duration::from_nanos(1));
    rx.recv_timeout(BOUND).expect("tick(1ns) ticks");
    drop(rx);
    let until = Instant::now() + BOUND;
    while stats().pending > before && Instant::now() < until {
        std::thread::sleep(MS);
    }
    assert!(
        stats().pending <= before,
        "a dropped tick(1ns) is still pending"
    );
}

#[test]
fn stop_inside_its_own_callback_returns_false() {
    let handle: Arc<OnceLock<Timer>> = Arc::new(OnceLock::new());
    let (tx, rx) = crossbeam_channel::bounded(1);
    let h = handle.clone();
    let t = after_func(5 * MS, move || {
        // The handle is set right after after_func returns; the callback is 5 ms away.
        let t = h.wait();
        tx.send(t.stop()).unwrap();
    });
    handle.set(t).unwrap();
    let stopped = rx
        .recv_timeout(BOUND + 5 * MS)
        .expect("callback did not run");
    assert!(
        !stopped,
        "stop from inside the callback: it has already started"
    );
    assert!(rx.recv_timeout(20 * MS).is_err(), "ran twice");
}

#[test]
fn reset_inside_its_own_callback_schedules_it_again() {
    const RUNS: usize = 5;
    let handle: Arc<OnceLock<Timer>> = Arc::new(OnceLock::new());
    let runs = Arc::new(AtomicUsize::new(0));
    let results = Arc::new(Mutex::new(Vec::new()));
    let (h, r, res) = (handle.clone(), runs.clone(), results.clone());
    let t = after_func(2 * MS, move || {
        let n = r.fetch_add(1, SeqCst) + 1;
        if n < RUNS {
            // Reset from inside: it already ran, so false, and it runs again.
            res.lock().unwrap().push(h.wait().reset(2 * MS));
        }
    });
    handle.set(t).unwrap();
    let until = Instant::now() + BOUND * RUNS as u32;
    while runs.load(SeqCst) < RUNS {
        assert!(
            Instant::now() < until,
            "only {} runs: reset from inside the callback lost a schedule",
            runs.load(SeqCst)
        );
        std::thread::sleep(MS);
    }
    std::thread::sleep(30 * MS);
    assert_eq!(runs.load(SeqCst), RUNS, "ran more often than scheduled");
    assert_eq!(*results.lock().unwrap(), vec![false; RUNS - 1]);
    assert!(
        !handle.get().unwrap().stop(),
        "nothing pending after the last run"
    );
}

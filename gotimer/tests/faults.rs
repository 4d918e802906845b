//! Faults: what user code and the machine can do to the runtime, and what it must survive.
//!
//! - 1000 `after_func` callbacks that panic: later timers still fire on time, and
//!   `stats().callback_panics` counts every panic.
//! - 64 callbacks that block forever: other callbacks still run on time; the callback pool grows a
//!   thread per blocked callback, bounded by `MAX_WORKERS`.
//! - Two threads busy-looping on the (two) cores: timer lateness stays bounded (measured, printed).
//! - Process exit with a million pending timers: the process exits at once (a child process).
//!
//! The tests run one at a time (they measure lateness and count callback threads).

mod expected_panics;

use crossbeam_channel::unbounded;
use gotimer::{after_func, stats, Timer, IDLE_EXIT, MAX_WORKERS};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The lateness every test here allows a timer, on a loaded 2-core machine in a debug build.
const ON_TIME: Duration = Duration::from_millis(250);

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Lateness samples: how long after its due instant each timer was observed.
#[derive(Default)]
struct Lateness(Mutex<Vec<Duration>>);

impl Lateness {
    fn add(&self, d: Duration) {
        self.0.lock().unwrap().push(d);
    }

    /// Prints p50/p99/max under `label` and returns the maximum.
    fn report(&self, label: &str) -> Duration {
        let mut v = self.0.lock().unwrap().clone();
        v.sort_unstable();
        let at = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
        eprintln!(
            "{label}: {} timers, lateness p50 {:?}, p99 {:?}, max {:?} (bound {ON_TIME:?})",
            v.len(),
            at(0.5),
            at(0.99),
            at(1.0)
        );
        at(1.0)
    }
}

/// Starts `n` `Timer`s and `n` `after_func`s due 20–80 ms from now, waits for all of them, and
/// records how late each was observed. Timers are received on `threads` receiving threads.
fn probe_timers(n: usize, threads: usize, late: &Arc<Lateness>) {
    let ran = Arc::new(AtomicUsize::new(0));
    let mut funcs = Vec::new();
    for i in 0..n {
        let d = Duration::from_millis(20 + (i as u64 * 7) % 60);
        let due = Instant::now() + d;
        let (late, ran) = (late.clone(), ran.clone());
        funcs.push(after_func(d, move || {
            late.add(Instant::now().saturating_duration_since(due));
            ran.fetch_add(1, SeqCst);
        }));
    }
    std::thread::scope(|s| {
        for t in 0..threads {
            let late = late.clone();
            s.spawn(move || {
                for i in (t..n).step_by(threads) {
                    let d = Duration::from_millis(20 + (i as u64 * 13) % 60);
                    let timer = Timer::new(d);
                    let due = timer
                        .c()
                        .recv_timeout(d + Duration::from_secs(5))
                        .expect("a timer never fired");
                    late.add(Instant::now().saturating_duration_since(due));
                }
            });
        }
    });
    let until = Instant::now() + Duration::from_secs(5);
    while ran.load(SeqCst) < n {
        assert!(Instant::now() < until, "after_func callbacks never ran");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn thousand_panicking_callbacks_leave_other_timers_on_time() {
    let _s = serial();
    expected_panics::quiet();
    const FAULT: &str = "injected fault (expected by this test)";
    let panics_before = stats().callback_panics;
    let start = Instant::now();
    let line = line!() + 2;
    for i in 0..1000u64 {
        after_func(Duration::from_micros(i * 50), || panic!("{FAULT}"));
    }
    // Timers due while, and after, the callbacks panic.
    let late = Arc::new(Lateness::default());
    probe_timers(50, 2, &late);
    let until = Instant::now() + Duration::from_secs(10);
    while stats().callback_panics < panics_before + 1000 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(5));
    }
    let panics = stats().callback_panics - panics_before;
    eprintln!(
        "1000 panicking callbacks: {panics} panics counted in {:?}; {} callback threads",
        start.elapsed(),
        stats().callback_threads
    );
    assert_eq!(
        panics, 1000,
        "stats().callback_panics must count every panic"
    );
    // Each is reported with its call site (unless GOTIMER_TEST_SHOW_EXPECTED_PANICS=1 sent the
    // reports to stderr).
    let reports = expected_panics::reports();
    if !reports.is_empty() {
        let ours = reports.iter().filter(|r| r.message == FAULT);
        assert!(ours
            .clone()
            .all(|r| r.file.ends_with("faults.rs") && r.line == line));
        assert_eq!(ours.count(), 1000, "every panic reported");
    }
    let max = late.report("timers during 1000 panics");
    assert!(
        max < ON_TIME,
        "a timer was {max:?} late while callbacks panicked"
    );
    // And after them.
    let late = Arc::new(Lateness::default());
    probe_timers(20, 1, &late);
    let max = late.report("timers after 1000 panics");
    assert!(
        max < ON_TIME,
        "a timer was {max:?} late after callbacks panicked"
    );
}

#[test]
fn callbacks_blocked_forever_do_not_delay_others() {
    const BLOCKED: usize = 64;
    let _s = serial();
    let before = stats().callback_threads;
    // A channel nobody ever sends on: the callbacks block on it until the process exits.
    let (tx, rx) = unbounded::<()>();
    std::mem::forget(tx);
    let started = Arc::new(AtomicUsize::new(0));
    for _ in 0..BLOCKED {
        let (rx, started) = (rx.clone(), started.clone());
        after_func(Duration::from_millis(1), move || {
            started.fetch_add(1, SeqCst);
            let _ = rx.recv();
        });
    }
    let until = Instant::now() + Duration::from_secs(10);
    while started.load(SeqCst) < BLOCKED {
        assert!(
            Instant::now() < until,
            "only {} of {BLOCKED} callbacks started: blocked callbacks starve the others",
            started.load(SeqCst)
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    let grown = stats().callback_threads;
    let late = Arc::new(Lateness::default());
    probe_timers(40, 2, &late);
    let after = stats().callback_threads;
    eprintln!(
        "{BLOCKED} blocked callbacks: callback threads {before} before, {grown} once they blocked, \
         {after} after 40 more callbacks ran; the pool is bounded by MAX_WORKERS = {MAX_WORKERS} \
         threads, and idle ones exit after IDLE_EXIT = {IDLE_EXIT:?}"
    );
    let max = late.report(&format!("timers with {BLOCKED} callbacks blocked"));
    assert!(
        grown > BLOCKED,
        "the pool must keep a free thread beside the {BLOCKED} blocked ones (has {grown})"
    );
    assert!(after <= MAX_WORKERS);
    assert!(
        max < ON_TIME,
        "a callback was {max:?} late while {BLOCKED} were blocked"
    );
}

#[test]
fn lateness_stays_bounded_with_the_cores_saturated() {
    let _s = serial();
    let spin = Arc::new(AtomicBool::new(true));
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let spinners: Vec<_> = (0..2)
        .map(|_| {
            let spin = spin.clone();
            std::thread::spawn(move || {
                let mut x = 0u64;
                while spin.load(SeqCst) {
                    x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(50));
    let late = Arc::new(Lateness::default());
    let start = Instant::now();
    probe_timers(200, 4, &late);
    let took = start.elapsed();
    spin.store(false, SeqCst);
    for s in spinners {
        s.join().unwrap();
    }
    let max = late.report(&format!(
        "2 busy-looping threads on {cores} cores, {took:?} of timers"
    ));
    assert!(max < ON_TIME, "lateness {max:?} with the cores saturated");
}

/// The child side of `exit_with_a_million_pending_timers`: a no-op unless the parent set the
/// variable.
#[test]
fn exit_child() {
    if std::env::var_os("GOTIMER_FAULTS_CHILD").is_none() {
        return;
    }
    let start = Instant::now();
    // One million callbacks an hour out, whose handles are dropped: only the runtime holds them.
    for _ in 0..1_000_000 {
        after_func(Duration::from_secs(3600), || {});
    }
    let pending = stats().pending;
    assert!(pending >= 1_000_000, "{pending} pending");
    println!("CREATED {pending} in {:?}", start.elapsed());
    // Returning ends the test, and the harness's main returns with them all pending.
}

#[test]
fn exit_with_a_million_pending_timers() {
    let _s = serial();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["exit_child", "--exact", "--nocapture", "--test-threads=1"])
        .env("GOTIMER_FAULTS_CHILD", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let created_at = loop {
        line.clear();
        let n = std::io::BufRead::read_line(&mut out, &mut line).unwrap();
        assert!(n > 0, "the child ended without creating its timers");
        if line.contains("CREATED ") {
            break Instant::now();
        }
    };
    eprintln!("child: {}", line.trim());
    // Drain the rest of its output so it never blocks on a full pipe.
    let drain = std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if created_at.elapsed() > Duration::from_secs(10) {
            child.kill().unwrap();
            panic!("the child did not exit within 10 s of creating its timers");
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let exit = created_at.elapsed();
    drain.join().unwrap().unwrap();
    eprintln!("process exit with a million pending timers took {exit:?} after they were created");
    assert!(status.success(), "child failed: {status}");
    assert!(exit < Duration::from_secs(2), "exit took {exit:?}");
}

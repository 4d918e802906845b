//! Faults: what user code and the machine can do to the runtime, and what it must survive.
//!
//! - 1000 `after_func` callbacks that panic: later timers still fire on time, and
//!   `stats().callback_panics` counts every panic.
//! - 64 callbacks that block forever: other callbacks still run on time; the callback pool grows a
//!   thread per blocked callback, bounded by `MAX_WORKERS`.
//! - Two threads busy-looping on the (two) cores: timers are no later than a control timer thread
//!   serving the same deadlines beside them (measured, printed).
//! - Process exit with a million pending timers: the process exits at once (a child process).
//!
//! Lateness is checked against that control, run at the same time under the same load, and a
//! ceiling no load reaches on its own (`Probe::check`): the tests fail when gotimer makes a timer
//! late, not when the machine does.
//!
//! The tests run one at a time (they measure lateness and count callback threads).

mod expected_panics;

use crossbeam_channel::{unbounded, Receiver, RecvTimeoutError, Sender};
use gotimer::{after_func, stats, Timer, IDLE_EXIT, MAX_WORKERS};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How late a timer may be beyond the control's lateness (see `Probe::check`).
const MARGIN: Duration = Duration::from_millis(100);

/// How late a timer may be whatever the load: a lost wake-up leaves an isolated probe waiting
/// for the 30 s sentinel (or for ever), a driver stuck behind a callback leaves every timer
/// waiting, and neither comes near this on its own.
const CEILING: Duration = Duration::from_secs(2);

/// A deadline no probe reaches: while an isolated probe is pending it is the only other one, so
/// a driver that missed the probe's insert sleeps until this one.
const SENTINEL: Duration = Duration::from_secs(30);

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

    /// p50, p99 and max.
    fn summary(&self) -> (Duration, Duration, Duration) {
        let mut v = self.0.lock().unwrap().clone();
        v.sort_unstable();
        let at = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
        (at(0.5), at(0.99), at(1.0))
    }
}

/// What `probe_timers` measured: gotimer's timers and, at the same time under the same load, a
/// control that does without gotimer what a timer does with it.
#[derive(Default)]
struct Probe {
    /// Lateness of the `Timer`s and `after_func`s due 20–80 ms out, started together.
    gotimer: Arc<Lateness>,
    /// The `after_func`s among them.
    funcs: Arc<Lateness>,
    /// Lateness of the control: the same deadlines, at the same time, served by a timer thread
    /// built on `recv_timeout` (`control_timer_thread`) and received by waiting threads: two
    /// wake-ups, as a gotimer timer is (the driver, then the receiver or the callback's thread).
    control: Arc<Lateness>,
    /// How long `Timer::new` and the first `c()` took, for the report: a timer that was late
    /// because its arming waited (on a shard lock, say) shows here.
    arming: Arc<Lateness>,
    /// Lateness of the isolated probes, each pending alone beside the sentinel.
    isolated: Arc<Lateness>,
}

impl Probe {
    /// Prints the measurements under `label` and checks that gotimer's timers were not late
    /// because of gotimer. A loaded machine delays every thread's wake-up, the control's timer
    /// thread as much as gotimer's driver, so gotimer's lateness is bounded by the control's: p99
    /// within twice the control's p99 plus `MARGIN`, max within twice the control's max plus
    /// `MARGIN` (the factor and the margin because a tail is a few samples of a noisy distribution,
    /// and a descheduling of either timer thread lands on one of them and not the other).
    /// A lost wake-up, a driver stuck behind a callback or a busy shard, or callbacks starved by
    /// blocked ones, make gotimer's timers late while the control's are not, or late past
    /// `CEILING`, which no load on its own reaches.
    fn check(&self, label: &str) {
        let (g50, g99, gmax) = self.gotimer.summary();
        let (c50, c99, cmax) = self.control.summary();
        let (_, _, imax) = self.isolated.summary();
        let (f50, f99, fmax) = self.funcs.summary();
        let (_, a99, amax) = self.arming.summary();
        let n = self.gotimer.0.lock().unwrap().len();
        let cn = self.control.0.lock().unwrap().len();
        eprintln!(
            "{label}: {n} timers, lateness p50 {g50:?}, p99 {g99:?}, max {gmax:?}; \
             control ({cn} deadlines on a recv_timeout timer thread): p50 {c50:?}, p99 {c99:?}, max {cmax:?}; \
             isolated probes max {imax:?}; after_funcs alone p50 {f50:?}, p99 {f99:?}, max {fmax:?}; \
             Timer::new + c() p99 {a99:?}, max {amax:?}"
        );
        let p99_bound = c99 * 2 + MARGIN;
        let max_bound = (cmax * 2 + MARGIN).min(CEILING);
        assert!(
            g99 <= p99_bound,
            "{label}: gotimer's p99 lateness {g99:?} is past {p99_bound:?} (twice the control's \
             p99 {c99:?} plus {MARGIN:?})"
        );
        assert!(
            gmax <= max_bound,
            "{label}: a timer was {gmax:?} late, past {max_bound:?} (twice the control's max \
             {cmax:?} plus {MARGIN:?}, at most {CEILING:?})"
        );
        assert!(
            imax < CEILING,
            "{label}: an isolated timer was {imax:?} late: a lost wake-up?"
        );
    }
}

/// The durations of the probes: 20–80 ms, spread.
fn probe_duration(i: usize, step: u64) -> Duration {
    Duration::from_millis(20 + (i as u64 * step) % 60)
}

/// A request to the control's timer thread: the due instant, and where to send it then.
type Request = (Instant, Sender<Instant>);

/// The control's timer thread: what a timer built on the standard library and crossbeam alone
/// would do. It keeps the pending deadlines in a heap, waits for the earliest with
/// `recv_timeout` (woken early by a new request), and sends each due instant to its requester.
/// One thread serves every deadline, as gotimer's driver does, so a descheduling of it delays
/// every control timer due meanwhile, as one of the driver delays gotimer's.
fn control_timer_thread(requests: Receiver<Request>) {
    let mut heap: BinaryHeap<Reverse<(Instant, usize)>> = BinaryHeap::new();
    let mut replies: HashMap<usize, Sender<Instant>> = HashMap::new();
    let mut open = true;
    for id in 0.. {
        let request = match heap.peek() {
            None if !open => return,
            None => requests.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(&Reverse((due, _))) => {
                let now = Instant::now();
                if due <= now {
                    let Reverse((due, id)) = heap.pop().unwrap();
                    let _ = replies.remove(&id).unwrap().send(due);
                    continue;
                }
                if open {
                    requests.recv_timeout(due - now)
                } else {
                    std::thread::sleep(due - now);
                    Err(RecvTimeoutError::Timeout)
                }
            }
        };
        match request {
            Ok((due, reply)) => {
                heap.push(Reverse((due, id)));
                replies.insert(id, reply);
            }
            Err(RecvTimeoutError::Disconnected) => open = false,
            Err(RecvTimeoutError::Timeout) => {}
        }
    }
}

/// Starts `n` `Timer`s and `n` `after_func`s due 20–80 ms from now, waits for all of them, and
/// records how late each was observed. Timers are received on `threads` receiving threads; the
/// `after_func`s run on gotimer's callback threads. The control does the same at the same time on
/// its own timer thread (`control_timer_thread`): `n` deadlines received on `threads` threads,
/// and `n` received by one thread standing for the callback threads. Then a few isolated probes,
/// one at a time, each the only pending deadline but the sentinel.
fn probe_timers(n: usize, threads: usize) -> Probe {
    let probe = Probe::default();
    let late = &probe.gotimer;
    let (requests, control_requests) = unbounded::<Request>();
    let control_driver = std::thread::spawn(move || control_timer_thread(control_requests));
    let (fired, control_fired) = unbounded::<Instant>();
    let control = probe.control.clone();
    let control_callbacks = std::thread::spawn(move || {
        for due in control_fired.iter().take(n) {
            control.add(Instant::now().saturating_duration_since(due));
        }
    });
    let ran = Arc::new(AtomicUsize::new(0));
    let mut funcs = Vec::new();
    for i in 0..n {
        let d = probe_duration(i, 7);
        let due = Instant::now() + d;
        let (late, func_late, ran) = (late.clone(), probe.funcs.clone(), ran.clone());
        funcs.push(after_func(d, move || {
            let l = Instant::now().saturating_duration_since(due);
            late.add(l);
            func_late.add(l);
            ran.fetch_add(1, SeqCst);
        }));
        requests.send((due, fired.clone())).unwrap();
    }
    std::thread::scope(|s| {
        for t in 0..threads {
            let (late, arming) = (late.clone(), probe.arming.clone());
            s.spawn(move || {
                for i in (t..n).step_by(threads) {
                    let d = probe_duration(i, 13);
                    let made = Instant::now();
                    let timer = Timer::new(d);
                    let rx = timer.c();
                    arming.add(made.elapsed());
                    let due = rx
                        .recv_timeout(d + Duration::from_secs(5))
                        .expect("a timer never fired");
                    late.add(Instant::now().saturating_duration_since(due));
                }
            });
            let (requests, control) = (requests.clone(), probe.control.clone());
            s.spawn(move || {
                let (reply, receive) = unbounded();
                for i in (t..n).step_by(threads) {
                    let d = probe_duration(i, 13);
                    requests.send((Instant::now() + d, reply.clone())).unwrap();
                    let due = receive.recv().unwrap();
                    control.add(Instant::now().saturating_duration_since(due));
                }
            });
        }
    });
    drop(requests);
    control_driver.join().unwrap();
    control_callbacks.join().unwrap();
    let until = Instant::now() + Duration::from_secs(5);
    while ran.load(SeqCst) < n {
        assert!(Instant::now() < until, "after_func callbacks never ran");
        std::thread::sleep(Duration::from_millis(1));
    }
    drop(funcs);
    let sentinel = after_func(SENTINEL, || {});
    for i in 0..6 {
        let d = Duration::from_millis(30);
        let got = if i % 2 == 0 {
            let timer = Timer::new(d);
            let due = timer.c().recv_timeout(CEILING + d);
            due.map(|due| Instant::now().saturating_duration_since(due))
        } else {
            let due = Instant::now() + d;
            let (tx, rx) = unbounded();
            let _f = after_func(d, move || {
                let _ = tx.send(Instant::now());
            });
            rx.recv_timeout(CEILING + d)
                .map(|at| at.saturating_duration_since(due))
        };
        probe.isolated.add(got.unwrap_or(CEILING));
    }
    sentinel.stop();
    probe
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
    let during = probe_timers(50, 2);
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
    during.check("timers during 1000 panics");
    // And after them.
    probe_timers(20, 1).check("timers after 1000 panics");
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
    let probe = probe_timers(40, 2);
    let after = stats().callback_threads;
    eprintln!(
        "{BLOCKED} blocked callbacks: callback threads {before} before, {grown} once they blocked, \
         {after} after 40 more callbacks ran; the pool is bounded by MAX_WORKERS = {MAX_WORKERS} \
         threads, and idle ones exit after IDLE_EXIT = {IDLE_EXIT:?}"
    );
    assert!(
        grown > BLOCKED,
        "the pool must keep a free thread beside the {BLOCKED} blocked ones (has {grown})"
    );
    assert!(after <= MAX_WORKERS);
    probe.check(&format!("timers with {BLOCKED} callbacks blocked"));
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
    let start = Instant::now();
    let probe = probe_timers(200, 4);
    let took = start.elapsed();
    spin.store(false, SeqCst);
    for s in spinners {
        s.join().unwrap();
    }
    probe.check(&format!(
        "2 busy-looping threads on {cores} cores, {took:?} of timers"
    ));
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

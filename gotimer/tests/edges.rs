//! Edge cases of the public API: zero and huge durations, every stop/reset transition, `after_func`
//! semantics, ticker phase alignment and dropping, and the delivered value being the due instant.
//!
//! The runtime's counters (`stats().pending`) are checked in stats.rs, whose tests run one at a time;
//! here tests run in parallel, so only the monotonic `callback_panics` is read.

mod expected_panics;

use crossbeam_channel::{bounded, RecvTimeoutError};
use gotimer::{after, after_func, sleep, tick, Receiver, Ticker, Timer};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const MS: Duration = Duration::from_millis(1);
const HOUR: Duration = Duration::from_secs(3600);
/// How long something that must happen is given: far more than any scheduler delay.
const WAKE: Duration = Duration::from_secs(10);

/// Durations whose deadline is past what the runtime can represent, and so never come.
const OUT_OF_RANGE: [Duration; 4] = [
    Duration::MAX,
    Duration::from_secs(u64::MAX),
    Duration::from_nanos(u64::MAX),
    Duration::from_secs(200 * 365 * 86_400),
];

/// Checks that `v` is the due instant of a timer set to `d` by a call made between `before` and
/// `after`: the deadline is `now + d` for a `now` the call read, so `v` lies in that window.
#[track_caller]
fn assert_due(v: Instant, before: Instant, after: Instant, d: Duration) {
    assert!(
        v >= before + d,
        "value {v:?} is before the deadline ({before:?} + {d:?})"
    );
    assert!(
        v <= after + d,
        "value {v:?} is not the due instant: it is {:?} after the latest possible deadline",
        v - (after + d)
    );
}

/// Waits until `cond` holds, polling; panics after `WAKE`.
#[track_caller]
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAKE;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        sleep(MS);
    }
}

#[test]
fn handles_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Timer>();
    send_sync::<Ticker>();
    send_sync::<Receiver<Instant>>();
}

#[test]
fn zero_duration_fires_as_soon_as_possible() {
    let before = Instant::now();
    let t = Timer::new(Duration::ZERO);
    let made = Instant::now();
    let v = t
        .c()
        .recv_timeout(WAKE)
        .expect("Timer::new(ZERO) did not fire");
    assert_due(v, before, made, Duration::ZERO);
    assert!(!t.stop(), "received already");

    let before = Instant::now();
    let v = after(Duration::ZERO).recv_timeout(WAKE).unwrap();
    assert!(v >= before);

    let (tx, rx) = bounded(1);
    after_func(Duration::ZERO, move || {
        let _ = tx.try_send(());
    });
    rx.recv_timeout(WAKE).expect("after_func(ZERO) did not run");

    let start = Instant::now();
    sleep(Duration::ZERO);
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[test]
fn out_of_range_durations_never_fire_and_never_panic() {
    for d in OUT_OF_RANGE {
        let t = Timer::new(d);
        assert_eq!(t.c().recv_timeout(30 * MS), Err(RecvTimeoutError::Timeout));
        assert!(t.stop(), "Timer::new({d:?}) is pending until stopped");
        assert!(!t.stop(), "second stop");
        assert!(!t.reset(d), "reset of a stopped timer returned true");
        assert!(
            t.reset(d),
            "reset of a pending out-of-range timer returned false"
        );
        // From never to soon, and back.
        let before = Instant::now();
        assert!(t.reset(MS));
        assert_due(
            t.c().recv_timeout(WAKE).unwrap(),
            before,
            Instant::now(),
            MS,
        );
        assert!(!t.reset(d));
        assert_eq!(t.c().recv_timeout(30 * MS), Err(RecvTimeoutError::Timeout));

        assert_eq!(
            after(d).recv_timeout(10 * MS),
            Err(RecvTimeoutError::Timeout)
        );

        let f = after_func(d, move || panic!("a callback due at {d:?} ran"));
        sleep(10 * MS);
        assert!(f.stop(), "after_func({d:?}) is pending until stopped");
        assert!(!f.stop());

        let ticker = Ticker::new(d);
        assert_eq!(
            ticker.c().recv_timeout(10 * MS),
            Err(RecvTimeoutError::Timeout)
        );
        ticker.reset(d);
        let before = Instant::now();
        ticker.reset(MS);
        assert_due(
            ticker.c().recv_timeout(WAKE).unwrap(),
            before,
            Instant::now(),
            MS,
        );
        ticker.reset(d);
        assert_eq!(
            ticker.c().recv_timeout(10 * MS),
            Err(RecvTimeoutError::Timeout)
        );
        ticker.stop();
    }
}

#[test]
fn tick_out_of_range_never_delivers() {
    // tick(d) for a d whose deadline is out of range must behave like tick(ZERO) (and like Go's
    // Tick of a huge duration): a receiver that blocks, not a disconnected one.
    for d in OUT_OF_RANGE {
        let rx = tick(d);
        assert_eq!(
            rx.recv_timeout(10 * MS),
            Err(RecvTimeoutError::Timeout),
            "tick({d:?}) should block forever"
        );
    }
}

#[test]
fn long_but_in_range_durations_wait_in_the_wheel() {
    for d in [
        Duration::from_secs(100 * 365 * 86_400),
        Duration::from_secs(1 << 30),
        HOUR,
    ] {
        let t = Timer::new(d);
        assert_eq!(t.c().recv_timeout(10 * MS), Err(RecvTimeoutError::Timeout));
        assert!(t.stop());
        let rx = tick(d);
        assert_eq!(rx.recv_timeout(10 * MS), Err(RecvTimeoutError::Timeout));
    }
}

#[test]
fn reset_after_fire() {
    let t = Timer::new(MS);
    sleep(20 * MS); // fired, not received
    let before = Instant::now();
    assert!(t.reset(10 * MS), "fired but unreceived: true");
    let made = Instant::now();
    assert_due(t.c().recv_timeout(WAKE).unwrap(), before, made, 10 * MS);
    assert!(t.c().try_recv().is_err(), "the old value was discarded");
}

#[test]
fn reset_after_receive() {
    let t = Timer::new(MS);
    t.c().recv_timeout(WAKE).unwrap();
    let before = Instant::now();
    assert!(!t.reset(5 * MS), "received already: false");
    let made = Instant::now();
    assert_due(t.c().recv_timeout(WAKE).unwrap(), before, made, 5 * MS);
    assert!(!t.reset(HOUR));
    assert!(t.stop());
}

#[test]
fn double_stop() {
    let t = Timer::new(HOUR);
    assert!(t.stop());
    assert!(!t.stop());
    assert!(!t.stop());
    assert!(t.c().try_recv().is_err());
}

#[test]
fn stop_then_reset() {
    let t = Timer::new(HOUR);
    assert!(t.stop());
    let before = Instant::now();
    assert!(!t.reset(5 * MS), "stopped: false");
    let made = Instant::now();
    assert_due(t.c().recv_timeout(WAKE).unwrap(), before, made, 5 * MS);
    assert!(!t.stop(), "received: false");
}

#[test]
fn reset_of_a_pending_timer_keeps_one_value() {
    let t = Timer::new(HOUR);
    let mut before = Instant::now();
    for d in [HOUR * 2, MS * 500, MS * 5, MS * 20] {
        before = Instant::now();
        assert!(t.reset(d), "pending: true");
    }
    let made = Instant::now();
    assert_due(t.c().recv_timeout(WAKE).unwrap(), before, made, 20 * MS);
    assert_eq!(t.c().recv_timeout(30 * MS), Err(RecvTimeoutError::Timeout));
}

#[test]
fn value_is_the_due_instant_not_the_receive_instant() {
    let d = 20 * MS;
    let before = Instant::now();
    let t = Timer::new(d);
    let made = Instant::now();
    sleep(50 * MS + d);
    let received_at = Instant::now();
    let v = t.c().recv().unwrap();
    assert_due(v, before, made, d);
    assert!(
        v + 40 * MS < received_at,
        "the value looks like the receive instant"
    );
}

#[test]
fn after_func_stop_keeps_f_from_starting() {
    // A stop before the deadline returns true and f never runs. Retried with longer deadlines in
    // case the machine stalls past the deadline before `stop` (then stop is false, correctly).
    let mut slow = Vec::new();
    for d in [200 * MS, 600 * MS, 2000 * MS] {
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        let made = Instant::now();
        let f = after_func(d, move || {
            r.fetch_add(1, SeqCst);
        });
        if !f.stop() {
            assert!(
                made.elapsed() >= d,
                "stop returned false before the deadline"
            );
            slow.push(d);
            continue;
        }
        assert!(!f.stop(), "second stop");
        sleep(d + 100 * MS);
        assert_eq!(ran.load(SeqCst), 0, "a stopped callback ran");
        return;
    }
    panic!("the machine stalled past every deadline: {slow:?}");
}

#[test]
fn after_func_reset_after_it_ran_schedules_again() {
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let f = after_func(MS, move || {
        r.fetch_add(1, SeqCst);
    });
    eventually("the first run", || runs.load(SeqCst) == 1);
    assert!(!f.stop(), "it ran: stop is false");
    assert!(
        !f.reset(MS),
        "it ran: reset schedules again and returns false"
    );
    eventually("the second run", || runs.load(SeqCst) == 2);
    // Reset while pending: true, and it runs once, at the new deadline.
    assert!(!f.reset(HOUR));
    assert!(f.reset(5 * MS), "pending: reset returns true");
    eventually("the third run", || runs.load(SeqCst) == 3);
    sleep(30 * MS);
    assert_eq!(runs.load(SeqCst), 3, "one run per schedule");
    // Stop then reset: false (stopped), runs again.
    assert!(!f.reset(HOUR), "it ran: false");
    assert!(f.stop());
    assert!(!f.reset(MS), "stopped: false");
    eventually("the fourth run", || runs.load(SeqCst) == 4);
}

#[test]
fn after_func_runs_after_at_least_d_and_its_channel_never_delivers() {
    let (tx, rx) = bounded(1);
    let before = Instant::now();
    let f = after_func(20 * MS, move || tx.send(Instant::now()).unwrap());
    let ran_at = rx.recv_timeout(WAKE).expect("the callback did not run");
    assert!(ran_at >= before + 20 * MS, "the callback ran early");
    assert_eq!(f.c().recv_timeout(30 * MS), Err(RecvTimeoutError::Timeout));
}

#[test]
fn after_func_stop_does_not_wait_for_a_running_callback() {
    let (started_tx, started) = bounded(1);
    let f = after_func(Duration::ZERO, move || {
        started_tx.send(()).unwrap();
        sleep(Duration::from_secs(3));
    });
    started
        .recv_timeout(WAKE)
        .expect("the callback did not start");
    let t0 = Instant::now();
    assert!(!f.stop(), "the callback started: stop is false");
    let took = t0.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "stop waited {took:?} for the callback"
    );
}

#[test]
fn after_func_handle_drop_does_not_cancel() {
    let (tx, rx) = bounded(1);
    drop(after_func(10 * MS, move || tx.send(()).unwrap()));
    rx.recv_timeout(WAKE)
        .expect("dropping the handle cancelled the callback");
}

#[test]
fn after_func_callback_runs_off_the_calling_thread() {
    let (tx, rx) = bounded(1);
    let me = thread::current().id();
    after_func(MS, move || tx.send(thread::current().id()).unwrap());
    let ran_on = rx.recv_timeout(WAKE).unwrap();
    assert_ne!(ran_on, me);
    // Nor on the thread that fires timers.
    let (tx, rx) = bounded(1);
    after_func(MS, move || {
        tx.send(thread::current().name().map(String::from)).unwrap()
    });
    let name = rx.recv_timeout(WAKE).unwrap();
    assert_ne!(name.as_deref(), Some("gotimer-driver"));
}

#[test]
fn after_func_callback_can_reset_and_stop_its_own_timer() {
    // A self-rescheduling callback (a common way to build a periodic job): it resets its own timer
    // from inside, five times, then stops it. No lock may be held while it runs.
    let handle: Arc<std::sync::OnceLock<Timer>> = Arc::new(std::sync::OnceLock::new());
    let runs = Arc::new(AtomicUsize::new(0));
    let (h, r) = (handle.clone(), runs.clone());
    let (done_tx, done) = bounded(1);
    let t = after_func(HOUR, move || {
        let me = h.get().unwrap();
        if r.fetch_add(1, SeqCst) + 1 < 6 {
            assert!(!me.reset(MS), "it is running, so not pending: false");
        } else {
            assert!(!me.stop(), "it is running, so not pending: false");
            done_tx.send(()).unwrap();
        }
    });
    assert!(handle.set(t).is_ok());
    assert!(handle.get().unwrap().reset(MS));
    done.recv_timeout(WAKE)
        .expect("the self-rescheduling callback stalled");
    sleep(20 * MS);
    assert_eq!(runs.load(SeqCst), 6);
}

#[test]
fn a_tiny_period_ticker_starves_no_other_timer() {
    // A 1 ns ticker that nobody reads comes due on every pass of the driver; 10 ms timers must
    // still fire, within seconds.
    let busy = Ticker::new(Duration::from_nanos(1));
    for _ in 0..5 {
        let before = Instant::now();
        let t = Timer::new(10 * MS);
        let v = t.c().recv_timeout(WAKE).expect("starved by a 1 ns ticker");
        assert!(v >= before + 10 * MS);
        assert!(before.elapsed() < Duration::from_secs(3));
    }
    busy.stop();
}

#[test]
fn slow_after_func_callback_delays_no_other() {
    // A callback sleeping 3 s is running; a 10 ms callback scheduled now still runs well within 2 s
    // (were they serialised, it would wait the 3 s out).
    let (started_tx, started) = bounded(1);
    after_func(Duration::ZERO, move || {
        started_tx.send(()).unwrap();
        sleep(Duration::from_secs(3));
    });
    started
        .recv_timeout(WAKE)
        .expect("the slow callback did not start");
    let (tx, rx) = bounded(1);
    let made = Instant::now();
    after_func(10 * MS, move || tx.send(Instant::now()).unwrap());
    let ran_at = rx
        .recv_timeout(WAKE)
        .expect("the fast callback did not run");
    let took = ran_at - made;
    assert!(took >= 10 * MS, "ran early");
    assert!(
        took < Duration::from_secs(2),
        "a 10 ms callback ran after {took:?}, behind a slow one"
    );
}

#[test]
fn panicking_after_func_breaks_no_other_timer() {
    expected_panics::quiet();
    let panics = gotimer::stats().callback_panics;
    for i in 0..3 {
        after_func(MS, move || {
            panic!("callback {i} panics (expected by this test)")
        });
    }
    eventually("three reported panics", || {
        gotimer::stats().callback_panics >= panics + 3
    });
    // Callbacks, timers and tickers all still work.
    let (tx, rx) = bounded(1);
    after_func(MS, move || tx.send(()).unwrap());
    rx.recv_timeout(WAKE)
        .expect("a callback after the panics did not run");
    let before = Instant::now();
    let t = Timer::new(5 * MS);
    assert_due(
        t.c().recv_timeout(WAKE).unwrap(),
        before,
        Instant::now(),
        5 * MS,
    );
    let ticker = Ticker::new(MS);
    ticker.c().recv_timeout(WAKE).unwrap();
    ticker.c().recv_timeout(WAKE).unwrap();
}

#[test]
fn after_func_reused_callback_runs_concurrently_with_itself() {
    // `f` is `Fn`: a reset after it started schedules it again even while it still runs.
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (r, m) = (running.clone(), most.clone());
    let f = after_func(Duration::ZERO, move || {
        let now = r.fetch_add(1, SeqCst) + 1;
        m.fetch_max(now, SeqCst);
        sleep(200 * MS);
        r.fetch_sub(1, SeqCst);
    });
    eventually("the first run starts", || running.load(SeqCst) == 1);
    assert!(!f.reset(Duration::ZERO));
    eventually("both runs finish", || {
        most.load(SeqCst) == 2 && running.load(SeqCst) == 0
    });
}

/// Collects `n` ticks, returning them with the instants bracketing the ticker's start.
fn ticks_of(d: Duration, n: usize, delay: Duration) -> (Instant, Instant, Vec<Instant>) {
    let before = Instant::now();
    let ticker = Ticker::new(d);
    let made = Instant::now();
    let mut ticks = Vec::new();
    for _ in 0..n {
        ticks.push(ticker.c().recv_timeout(WAKE).expect("no tick"));
        sleep(delay);
    }
    (before, made, ticks)
}

#[test]
fn ticker_ticks_are_phase_aligned() {
    // Ticks are due at t0 + k*d exactly, for the t0 the ticker read at creation: never drifting,
    // whether the receiver keeps up, is slow (ticks dropped), or is erratic.
    let d = 3 * MS;
    for delay in [Duration::ZERO, 7 * MS, MS * 4 / 3] {
        let (before, made, ticks) = ticks_of(d, 12, delay);
        let first = ticks[0];
        assert_due(first, before, made, d);
        for (i, w) in ticks.windows(2).enumerate() {
            let gap = w[1] - w[0];
            assert!(gap >= d, "ticks {i} and {} are {gap:?} apart", i + 1);
            assert_eq!(
                gap.as_nanos() % d.as_nanos(),
                0,
                "gap {gap:?} not a multiple of {d:?}"
            );
        }
        // Each tick is t0 + k*d for the same t0.
        let t0 = first - d;
        for &t in &ticks {
            assert_eq!((t - t0).as_nanos() % d.as_nanos(), 0);
        }
    }
}

#[test]
fn slow_ticker_receiver_finds_at_most_one_tick_waiting() {
    // After ten periods unreceived, one tick waits, not a burst, and the ticks missed meanwhile are
    // dropped: the next one is due after the receive. `c()` fires what is due on the receiving
    // thread, so none of this depends on when the driver thread runs: the first tick is there
    // (ten periods passed), a second `try_recv` finds nothing older than the first receive, and
    // the tick after it is the first grid point past the moment `c()` fired.
    let d = 5 * MS;
    let before = Instant::now();
    let ticker = Ticker::new(d);
    let after = Instant::now();
    sleep(10 * d + d / 2);
    let taken = Instant::now();
    let first = ticker
        .c()
        .try_recv()
        .expect("ten periods passed: a tick waits");
    assert!(
        first >= before + d && first <= after + d,
        "the first tick, with the instant it was due"
    );
    // A tick may come due between the two receives on a slow machine; then it is a new one, due
    // after the first receive, never one of the ticks missed before it.
    if let Ok(second) = ticker.c().try_recv() {
        assert!(
            second > taken,
            "a burst of ticks waited: {first:?}, then {second:?}"
        );
    }
    let next = ticker.c().recv_timeout(WAKE).unwrap();
    assert!(next > taken, "a tick missed while one waited was queued");
    assert_eq!((next - first).as_nanos() % d.as_nanos(), 0, "off the grid");
}

#[test]
fn ticker_reset_next_tick_one_new_period_later() {
    let ticker = Ticker::new(5 * MS);
    ticker.c().recv_timeout(WAKE).unwrap();
    for d in [30 * MS, 7 * MS] {
        let before = Instant::now();
        ticker.reset(d);
        let made = Instant::now();
        let first = ticker.c().recv_timeout(WAKE).unwrap();
        assert_due(first, before, made, d);
        let second = ticker.c().recv_timeout(WAKE).unwrap();
        assert_eq!((second - first).as_nanos() % d.as_nanos(), 0, "new phase");
    }
    // Reset restarts a stopped ticker.
    ticker.stop();
    assert_eq!(
        ticker.c().recv_timeout(20 * MS),
        Err(RecvTimeoutError::Timeout)
    );
    let before = Instant::now();
    ticker.reset(MS);
    let made = Instant::now();
    assert_due(ticker.c().recv_timeout(WAKE).unwrap(), before, made, MS);
}

#[test]
fn ticker_stop_no_tick_after() {
    let ticker = Ticker::new(MS);
    ticker.c().recv_timeout(WAKE).unwrap();
    sleep(5 * MS);
    ticker.stop();
    assert_eq!(
        ticker.c().recv_timeout(30 * MS),
        Err(RecvTimeoutError::Timeout)
    );
    ticker.stop();
}

#[test]
fn ticker_drop_disconnects_clones() {
    let ticker = Ticker::new(MS);
    let rx = ticker.c().clone();
    rx.recv_timeout(WAKE).unwrap();
    drop(ticker);
    // At most the tick that was waiting, then disconnection.
    let mut got = 0;
    loop {
        match rx.recv_timeout(WAKE) {
            Ok(_) => got += 1,
            Err(e) => {
                assert_eq!(e, RecvTimeoutError::Disconnected);
                break;
            }
        }
    }
    assert!(got <= 1, "{got} ticks after the drop");
}

#[test]
fn sleep_blocks_at_least_d() {
    for d in [MS, 7 * MS, 30 * MS] {
        let start = Instant::now();
        sleep(d);
        assert!(start.elapsed() >= d);
    }
}

#[test]
fn timers_made_on_one_thread_work_from_another() {
    // A timer lives in its creator's shard; stop, reset and receive from elsewhere are the same.
    let t = Arc::new(Mutex::new(None::<Timer>));
    let t2 = t.clone();
    thread::spawn(move || *t2.lock().unwrap() = Some(Timer::new(HOUR)))
        .join()
        .unwrap();
    let t = t.lock().unwrap().take().unwrap();
    assert!(t.stop());
    let before = Instant::now();
    assert!(!t.reset(2 * MS));
    let made = Instant::now();
    assert_due(t.c().recv_timeout(WAKE).unwrap(), before, made, 2 * MS);
}

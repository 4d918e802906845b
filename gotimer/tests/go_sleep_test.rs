//! The semantic cases of Go 1.19's `src/time/sleep_test.go`, ported to gotimer. Each test is named
//! after the Go test it ports (`TestAfterFunc` is `test_after_func`); the code is our own, written
//! from what each Go test checks. Go-only cases are left out, with a note where they would be.
//!
//! Timing policy: "never early" is checked strictly, every time. Upper bounds and orderings that
//! depend on the OS scheduler are retried with growing durations, as Go retries them, and fail
//! only when every duration fails. Under Go 1.23 semantics some checks that Go 1.19 had to retry
//! (a stopped timer's channel is empty) are exact, and are checked strictly here.

use crossbeam_channel::{bounded, select, unbounded};
use gotimer::{after, after_func, sleep, Receiver, Ticker, Timer};
use std::panic::catch_unwind;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const MS: Duration = Duration::from_millis(1);
const HOUR: Duration = Duration::from_secs(3600);

/// Runs `attempt` with each duration in turn until one passes, as Go's retried tests do. An
/// `Err` means "too slow this time"; a hard failure is an `assert!` inside `attempt`.
fn retry(durations: &[Duration], mut attempt: impl FnMut(Duration) -> Result<(), String>) {
    let mut errors = Vec::new();
    for &d in durations {
        match attempt(d) {
            Ok(()) => return,
            Err(e) => {
                eprintln!("attempt with {d:?} failed, retrying: {e}");
                errors.push(format!("{d:?}: {e}"));
            }
        }
    }
    panic!("failed at every duration: {errors:#?}");
}

#[test]
fn test_sleep() {
    // Go's version also interrupts the sleeping goroutine with a signal (`Interrupt`); a Rust thread
    // has no counterpart, so only "sleeps at least d" is ported. Go's check is relaxed for Windows'
    // timer granularity; ours is strict.
    const DELAY: Duration = Duration::from_millis(100);
    let start = Instant::now();
    sleep(DELAY);
    let took = start.elapsed();
    assert!(took >= DELAY, "sleep({DELAY:?}) slept only {took:?}");
}

/// The chain of callbacks of `test_after_func`: each link schedules the next at once, then sleeps.
struct Chain {
    left: AtomicIsize,
    done: crossbeam_channel::Sender<()>,
}

fn chain_link(chain: &Arc<Chain>) {
    // Go: `i--; if i >= 0 { AfterFunc(0, f); Sleep(1 * Second) } else { c <- true }`.
    if chain.left.fetch_sub(1, SeqCst) > 0 {
        let next = chain.clone();
        after_func(Duration::ZERO, move || chain_link(&next));
        sleep(Duration::from_secs(1));
    } else {
        chain.done.send(()).unwrap();
    }
}

#[test]
fn test_after_func() {
    // Eleven callbacks, each of which schedules the next and then sleeps a second. They only finish
    // quickly if callbacks run concurrently: one after another they would take ten seconds.
    let (done, finished) = bounded(1);
    let chain = Arc::new(Chain {
        left: AtomicIsize::new(10),
        done,
    });
    let start = Instant::now();
    let first = chain.clone();
    after_func(Duration::ZERO, move || chain_link(&first));
    let waited = finished.recv_timeout(Duration::from_secs(8));
    assert!(
        waited.is_ok(),
        "after {:?} the chain of 11 after_func(0) callbacks has not finished: callbacks that \
         sleep 1 s delay each other (serially they would take 10 s)",
        start.elapsed()
    );
    assert_eq!(chain.left.load(SeqCst), -1);
}

#[test]
fn test_after_stress() {
    // Go runs the garbage collector in a loop while a 1 ns ticker ticks 100 times. Our stand-in for
    // the GC is a thread that churns the allocator and yields.
    let stop = Arc::new(AtomicBool::new(false));
    let churn = {
        let stop = stop.clone();
        thread::spawn(move || {
            while !stop.load(SeqCst) {
                let v: Vec<u8> = vec![1; 64 * 1024];
                std::hint::black_box(v);
                sleep(Duration::from_nanos(1));
            }
        })
    };
    let ticker = Ticker::new(Duration::from_nanos(1));
    let mut last: Option<Instant> = None;
    for i in 0..100 {
        let tick = ticker
            .c()
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("tick {i} of a 1 ns ticker did not come: {e}"));
        if let Some(last) = last {
            assert!(tick > last, "tick {i} at {tick:?} is not after {last:?}");
        }
        last = Some(tick);
    }
    ticker.stop();
    stop.store(true, SeqCst);
    churn.join().unwrap();
}

#[test]
fn test_after() {
    // Go's `After` is `NewTimer(d).C`; ours is a channel that registers nothing. Both are checked:
    // the wait lasts at least `d` and the value is the due instant, `d` after the call.
    const DELAY: Duration = Duration::from_millis(100);
    let start = Instant::now();
    let end = after(DELAY).recv().unwrap();
    let took = start.elapsed();
    assert!(took >= DELAY, "after({DELAY:?}) waited only {took:?}");
    assert!(
        end >= start + DELAY,
        "after({DELAY:?}) delivered a value before start + {DELAY:?}"
    );

    let start = Instant::now();
    let end = Timer::new(DELAY).c().recv().unwrap();
    let took = start.elapsed();
    assert!(took >= DELAY, "Timer::new({DELAY:?}) waited only {took:?}");
    assert!(
        end >= start + DELAY,
        "Timer::new({DELAY:?}) delivered {end:?}, before start + d"
    );
}

#[test]
fn test_after_tick() {
    // Ten consecutive `after(delta)` take at least ten deltas (strict) and not more than three times
    // that (retried with longer deltas, as Go's short and long modes).
    const COUNT: u32 = 10;
    retry(&[10 * MS, 25 * MS, 50 * MS, 100 * MS], |delta| {
        let t0 = Instant::now();
        for _ in 0..COUNT {
            after(delta).recv().unwrap();
        }
        let took = t0.elapsed();
        let target = delta * COUNT;
        assert!(
            took >= target,
            "{COUNT} after({delta:?}) took only {took:?}"
        );
        if took > target * 3 {
            return Err(format!(
                "{COUNT} after({delta:?}) took {took:?}, over 3x {target:?}"
            ));
        }
        Ok(())
    });
}

#[test]
fn test_after_stop() {
    // A timer and a callback stopped before they are due never deliver, and a second stop of the
    // callback's timer returns false. Under Go 1.23 semantics `t0.stop()` returns true even if the
    // machine was so slow that t0 fired (its value was not received), and then t0.c() is empty,
    // so those are strict; only a callback that started before `stop` (machine too slow) is retried.
    retry(&[50 * MS, 100 * MS, 200 * MS, 400 * MS], |unit| {
        let _unrelated = after_func(unit * 2, || {});
        let t0 = Timer::new(unit);
        let (c1_tx, c1) = bounded(1);
        let t1 = after_func(unit * 3, move || {
            let _ = c1_tx.try_send(());
        });
        let c2 = after(unit * 4);
        assert!(t0.stop(), "stop of an unreceived timer returned false");
        if !t1.stop() {
            return Err("failed to stop the after_func before it started".into());
        }
        c2.recv().unwrap();
        select! {
            recv(t0.c()) -> v => panic!("the stopped timer delivered {v:?}"),
            recv(c1) -> _ => panic!("the stopped after_func ran"),
            default => {}
        }
        assert!(!t1.stop(), "stop returned true twice");
        assert!(!t0.stop(), "stop returned true twice");
        Ok(())
    });
}

/// How `test_after_queuing` makes its channels: Go's `After`, or gotimer's `Timer`.
#[derive(Clone, Copy, Debug)]
enum Source {
    After,
    Timer,
}

/// One timer per slot, each waited for on its own thread; they must come back in slot order, each
/// at its due time. `Err` when the scheduler reordered or delayed them.
fn after_queuing(delta: Duration, source: Source) -> Result<(), String> {
    const SLOTS: [u32; 13] = [5, 3, 6, 6, 6, 1, 1, 2, 7, 9, 4, 8, 0];
    let (results_tx, results) = bounded(SLOTS.len());
    let t0 = Instant::now();
    let mut waiters = Vec::new();
    for slot in SLOTS {
        let d = delta * slot;
        let results_tx = results_tx.clone();
        // Each timer is created here, on the test's thread, and waited for on its own.
        let wait: Box<dyn FnOnce() -> Instant + Send> = match source {
            Source::After => {
                let rx = after(d);
                Box::new(move || rx.recv().unwrap())
            }
            Source::Timer => {
                let t = Timer::new(d);
                Box::new(move || t.c().recv().unwrap())
            }
        };
        waiters.push(thread::spawn(move || {
            let due = wait();
            results_tx.send((slot, due, Instant::now())).unwrap();
        }));
    }
    let mut order = Vec::new();
    let mut error = None;
    for _ in SLOTS {
        let (slot, due, arrived) = results.recv().unwrap();
        let target = delta * slot;
        // The value is the due instant: exactly `target` after a moment at or after t0.
        assert!(
            due >= t0 + target,
            "{source:?} slot {slot}: value {:?} after t0, before its {target:?}",
            due - t0
        );
        let late = arrived - t0;
        if late > target + delta * 10 && error.is_none() {
            error = Some(format!("slot {slot} ({target:?}) arrived after {late:?}"));
        }
        order.push(slot);
    }
    for w in waiters {
        w.join().unwrap();
    }
    if order.windows(2).any(|w| w[1] < w[0]) {
        return Err(format!(
            "{source:?}: timers came back out of order: {order:?}"
        ));
    }
    error.map_or(Ok(()), Err)
}

#[test]
fn test_after_queuing() {
    // Go tries deltas of 20, 70, 120, 170 and 220 ms.
    let deltas: Vec<Duration> = (0..5).map(|i| MS * (20 + i * 50)).collect();
    for source in [Source::After, Source::Timer] {
        retry(&deltas, |delta| after_queuing(delta, source));
    }
}

#[test]
fn test_timer_stop_stress() {
    // 100 threads each start a 2 s callback and stop it after 1 s. A stop that returns true must
    // keep its callback from ever running (strict). A stop that returns false is only correct if
    // the thread overslept past the deadline; Go counts that as a failure outright, we allow a few
    // such stalls on a loaded machine but not many.
    const DEADLINE: Duration = Duration::from_secs(2);
    let results: Vec<_> = (0..100)
        .map(|_| {
            thread::spawn(move || {
                let ran = Arc::new(AtomicBool::new(false));
                let flag = ran.clone();
                let made = Instant::now();
                let timer = after_func(DEADLINE, move || flag.store(true, SeqCst));
                sleep(Duration::from_secs(1));
                let stopped = timer.stop();
                let stopped_at = made.elapsed();
                (ran, stopped, stopped_at)
            })
        })
        .collect();
    sleep(Duration::from_secs(3));
    let mut late = 0;
    for (i, t) in results.into_iter().enumerate() {
        let (ran, stopped, stopped_at) = t.join().unwrap();
        if stopped {
            assert!(
                !ran.load(SeqCst),
                "timer {i}: stop returned true but the callback ran"
            );
        } else {
            assert!(
                stopped_at >= DEADLINE,
                "timer {i}: stop returned false {stopped_at:?} after a {DEADLINE:?} after_func"
            );
            late += 1;
        }
    }
    assert!(
        late <= 5,
        "{late} of 100 threads overslept a 1 s sleep by a second"
    );
}

#[test]
fn test_sleep_zero_deadlock() {
    // Go's bug was in its scheduler (a goroutine left waiting by Sleep(0) during a GC). The Rust
    // analogue: `sleep(ZERO)` and zero timers, interleaved with channel traffic while another
    // thread churns the allocator, all return.
    let (done_tx, done) = bounded(1);
    thread::spawn(move || {
        for _ in 0..100 {
            std::hint::black_box(vec![0u8; 256 * 1024]);
        }
        done_tx.send(()).unwrap();
    });
    for _ in 0..100 {
        sleep(Duration::ZERO);
        Timer::new(Duration::ZERO)
            .c()
            .recv_timeout(Duration::from_secs(10))
            .expect("a zero timer did not fire");
        let (tx, rx) = bounded(1);
        tx.send(true).unwrap();
        assert!(rx.recv().unwrap());
    }
    done.recv_timeout(Duration::from_secs(10)).unwrap();
}

/// Go's `testReset`: a reset before firing pushes the deadline out; a fired timer resets to false.
fn reset_once(d: Duration) -> Result<(), String> {
    let t0 = Timer::new(2 * d);
    sleep(d);
    let reset_at = Instant::now();
    if !t0.reset(3 * d) {
        // Go 1.23: true for a pending timer and for a fired one whose value nobody received.
        panic!("reset of an unreceived timer returned false");
    }
    sleep(2 * d);
    if let Ok(v) = t0.c().try_recv() {
        // Fine only if the sleep overslept past the new deadline; never a value before it.
        assert!(
            v >= reset_at + 3 * d,
            "the timer fired early, or delivered its old value"
        );
        return Err("slept past the new deadline; machine too slow".into());
    }
    sleep(2 * d);
    match t0.c().try_recv() {
        Ok(v) => assert!(
            v >= reset_at + 3 * d,
            "value {v:?} is before the new deadline"
        ),
        Err(_) => return Err("the reset timer had not fired 4d after the reset".into()),
    }
    if t0.reset(50 * MS) {
        panic!("reset of a timer whose value was received returned true");
    }
    Ok(())
}

#[test]
fn test_reset() {
    const UNIT: Duration = Duration::from_millis(25);
    retry(&[UNIT, 3 * UNIT, 7 * UNIT, 15 * UNIT], reset_once);
}

#[test]
fn test_overflow_sleep() {
    // Durations so large that the deadline overflows never fire early, and do not disturb other
    // timers. Go's second half (`Sleep` and `After` with a negative duration return at once) has no
    // Rust counterpart: `Duration` cannot be negative.
    let big_sleep_returned = Arc::new(AtomicBool::new(false));
    {
        let flag = big_sleep_returned.clone();
        // Never joined: it sleeps until the process exits.
        thread::spawn(move || {
            sleep(Duration::MAX);
            flag.store(true, SeqCst);
        });
    }
    let bigs = [
        Duration::MAX,
        Duration::from_secs(u64::MAX),
        Duration::from_nanos(u64::MAX),
        Duration::from_secs(200 * 365 * 86_400), // past the wheel's 146 years
        Duration::from_secs(100 * 365 * 86_400), // within them
    ];
    let timers: Vec<Timer> = bigs.iter().map(|&d| Timer::new(d)).collect();
    let tickers: Vec<Ticker> = bigs.iter().map(|&d| Ticker::new(d)).collect();
    let funcs: Vec<Timer> = bigs
        .iter()
        .map(|&d| after_func(d, || panic!("a callback due in centuries ran")))
        .collect();
    let afters: Vec<Receiver<Instant>> = bigs.iter().map(|&d| after(d)).collect();
    for (i, d) in bigs.iter().enumerate() {
        select! {
            recv(after(*d)) -> v => panic!("after({d:?}) fired: {v:?}"),
            recv(timers[i].c()) -> v => panic!("Timer::new({d:?}) fired: {v:?}"),
            recv(tickers[i].c()) -> v => panic!("Ticker::new({d:?}) ticked: {v:?}"),
            recv(afters[i]) -> v => panic!("after({d:?}) fired: {v:?}"),
            recv(after(25 * MS)) -> _ => {}
        }
    }
    // `tick` with these durations is checked in edges.rs (tick_out_of_range_never_delivers).

    // The other timers keep working.
    let start = Instant::now();
    let v = Timer::new(10 * MS)
        .c()
        .recv_timeout(Duration::from_secs(10));
    assert!(v.expect("a 10 ms timer did not fire") >= start + 10 * MS);
    for t in &timers {
        assert!(t.stop(), "a timer due in centuries was not pending");
    }
    for t in &funcs {
        assert!(t.stop(), "a callback due in centuries was not pending");
    }
    for t in &tickers {
        t.stop();
    }
    assert!(
        !big_sleep_returned.load(SeqCst),
        "sleep(Duration::MAX) returned"
    );
}

// Go's TestIssue5745 checks that a panic (a nil *Timer's Stop) does not leave the timers' lock held,
// so that a deferred ticker.Stop does not deadlock. A nil Timer cannot exist in Rust; the panics
// gotimer can meet are its own (`Ticker::reset(ZERO)`), a user's panic while timers are alive, and
// a panicking callback. After each, stopping a ticker and running timers must still work.
#[test]
fn test_issue5745() {
    struct StopOnDrop(Ticker);
    impl Drop for StopOnDrop {
        fn drop(&mut self) {
            self.0.stop(); // the Go test's deferred Stop
        }
    }

    let outcome = catch_unwind(|| {
        let _deferred = StopOnDrop(Ticker::new(HOUR));
        let _alive = Timer::new(HOUR);
        Ticker::new(HOUR).reset(Duration::ZERO);
    });
    assert!(outcome.is_err(), "Ticker::reset(ZERO) did not panic");

    let outcome = catch_unwind(|| {
        let _deferred = StopOnDrop(Ticker::new(HOUR));
        let _due = Timer::new(Duration::ZERO);
        panic!("a user panic while timers are alive");
    });
    assert!(outcome.is_err());

    let panics = gotimer::stats().callback_panics;
    after_func(Duration::ZERO, || {
        panic!("a panicking callback (expected by this test)")
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while gotimer::stats().callback_panics == panics {
        assert!(
            Instant::now() < deadline,
            "the panicking callback was not reported"
        );
        sleep(MS);
    }

    // Everything still works, on this thread's shard and others'.
    let ticker = Ticker::new(MS);
    ticker.c().recv_timeout(Duration::from_secs(10)).unwrap();
    ticker.stop();
    Timer::new(MS)
        .c()
        .recv_timeout(Duration::from_secs(10))
        .unwrap();
    thread::spawn(|| {
        let t = Ticker::new(MS);
        t.c().recv_timeout(Duration::from_secs(10)).unwrap();
        t.stop();
    })
    .join()
    .unwrap();
}

// Go's TestOverflowPeriodRuntimeTimer drives the runtime's internal timers directly; there is no
// public counterpart. (A ticker whose next tick would overflow is covered by test_overflow_sleep's
// tickers, which must neither tick nor panic.)

// Go's TestZeroTimerResetPanics and TestZeroTimerStopPanics call methods on a zero-value `Timer{}`,
// which Go cannot forbid. A gotimer `Timer` exists only through its constructors, so there is
// nothing to port.

#[test]
fn test_zero_timer() {
    // Go runs a million zero timers (regression test for zero timers missed by the scheduler).
    // A million takes a few seconds in a debug build, so debug builds run 100,000.
    let n = if cfg!(debug_assertions) {
        100_000
    } else {
        1_000_000
    };
    for i in 0..n {
        let s = Instant::now();
        let t = Timer::new(Duration::ZERO);
        t.c()
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("zero timer {i} did not fire"));
        let took = s.elapsed();
        assert!(
            took <= Duration::from_secs(2),
            "zero timer {i} took {took:?}"
        );
    }
}

#[test]
fn test_timer_modified_earlier() {
    // Go: a timer moved earlier again and again (Reset to a time in the past) must still fire.
    // Go's past is a negative duration; ours is ZERO.
    for i in 0..1000 {
        let timer = Timer::new(HOUR);
        for _ in 0..10 {
            if !timer.stop() {
                // Go 1.23 never gets here: the value of a reset(ZERO) waits in the channel until
                // stop discards it, so stop returns true.
                panic!("timer {i}: stop returned false though nobody received its value");
            }
            timer.reset(Duration::ZERO);
        }
        let now = Instant::now();
        select! {
            recv(timer.c()) -> v => {
                v.unwrap();
                let since = now.elapsed();
                assert!(since <= Duration::from_secs(8), "timer {i} took {since:?}");
            }
            recv(after(Duration::from_secs(10))) -> _ => panic!("timer {i}: deadline expired"),
        }
    }
    // The same through the wheel: moved earlier from an hour in steps that each relink the entry,
    // the timer fires at its last deadline, never before.
    for i in 0..100 {
        let timer = Timer::new(HOUR);
        let mut last = Instant::now();
        for d in [600_000, 60_000, 1_000, 100, 30, 5] {
            last = Instant::now();
            assert!(
                timer.reset(MS * d),
                "timer {i}: reset of a pending timer returned false"
            );
        }
        let v = timer
            .c()
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("timer {i} moved earlier did not fire: {e}"));
        assert!(
            v >= last + 5 * MS,
            "timer {i} fired before its last deadline"
        );
    }
}

/// A small xorshift generator: the tests need shuffles, not a crate.
struct Rng(u64);

impl Rng {
    fn seeded() -> Rng {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        Rng(nanos | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[test]
fn test_adjust_timers() {
    // Go: 100 timers, each driven through a fixed sequence of states, interleaved at random:
    // fire at once, receive, reset to minutes and stop (three times), reset to zero, receive.
    let mut rng = Rng::seeded();
    let seed = rng.0;
    let mut timers: Vec<Option<Timer>> = (0..100).map(|_| None).collect();
    let mut states = [0u32; 100];
    let mut live: Vec<usize> = (0..100).collect();
    while !live.is_empty() {
        let ii = rng.below(live.len());
        let i = live[ii];
        let state = states[i];
        states[i] += 1;
        let ctx = format!("seed {seed}, timer {i}, state {state}");
        let timer = timers[i].as_ref();
        match state {
            0 => timers[i] = Some(Timer::new(Duration::ZERO)),
            1 => {
                timer
                    .unwrap()
                    .c()
                    .recv_timeout(Duration::from_secs(10))
                    .unwrap_or_else(|e| panic!("{ctx}: zero timer did not fire: {e}"));
            }
            2 | 4 | 6 => {
                let d = Duration::from_secs(60 * [1, 3, 2][(state as usize - 2) / 2]);
                assert!(!timer.unwrap().reset(d), "{ctx}: reset returned true");
            }
            3 | 5 | 7 => assert!(timer.unwrap().stop(), "{ctx}: stop of a pending timer"),
            8 => assert!(!timer.unwrap().reset(Duration::ZERO), "{ctx}: reset(0)"),
            9 => {
                let now = Instant::now();
                timer
                    .unwrap()
                    .c()
                    .recv_timeout(Duration::from_secs(10))
                    .unwrap_or_else(|e| panic!("{ctx}: reset(0) did not fire: {e}"));
                let took = now.elapsed();
                assert!(took <= Duration::from_secs(2), "{ctx}: took {took:?}");
            }
            _ => {
                live.swap_remove(ii);
            }
        }
    }
}

#[test]
fn test_after_func_queueing_through_channels() {
    // Not a Go test: Go's TestAfterFunc notes that "correct queueing behavior is tested elsewhere,
    // since After and AfterFunc share the same code". Ours do not share code, so the callbacks get
    // the ordering check too: ten callbacks at distinct delays report in order, never early.
    retry(&[10 * MS, 40 * MS, 100 * MS], |delta| {
        let (tx, rx) = unbounded();
        let tx = Arc::new(Mutex::new(tx));
        let t0 = Instant::now();
        for slot in [4u32, 2, 9, 0, 7, 1, 8, 3, 6, 5] {
            let tx = tx.clone();
            after_func(delta * slot, move || {
                tx.lock().unwrap().send((slot, Instant::now())).unwrap();
            });
        }
        let mut order = Vec::new();
        for _ in 0..10 {
            let (slot, at) = rx
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|e| panic!("a callback did not run: {e}"));
            assert!(at >= t0 + delta * slot, "callback {slot} ran early");
            order.push(slot);
        }
        if order.windows(2).any(|w| w[1] < w[0]) {
            return Err(format!("callbacks ran out of order: {order:?}"));
        }
        Ok(())
    });
}

//! The semantic cases of Go's `src/time/tick_test.go`, ported to gotimer: Go 1.19's, and those Go
//! added up to 1.27.3. Each test is named after the Go test it ports and sits under a link to it;
//! the code is our own, written from what each Go test checks.
//!
//! Both clocks: every test here is one body given a `TestClock`, run as `name::system` and
//! `name::fake` (see `common/clocks.rs`); on the fake clock, where nothing is late, its bounds are
//! exact. Timing policy: "never early" is strict; upper bounds are retried with growing durations,
//! as Go's TestTicker retries, and fail only when every duration fails.

mod common;

use common::clocks::{both_clocks, retry, TestClock};
use crossbeam_channel::{bounded, select, Receiver};
use gotimer::{Ticker, Timer};
use std::any::Any;
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::thread;
use std::time::{Duration, Instant};

const MS: Duration = Duration::from_millis(1);
const HOUR: Duration = Duration::from_secs(3600);

/// The message of a caught panic, which Rust gives as `&str` or `String`.
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(not a string)")
}

/// One run of Go's TestTicker: `count/2` ticks of `delta`, a reset to `2*delta`, `count/2` more.
fn ticker_run(tc: &TestClock, count: u32, delta: Duration) -> Result<(), String> {
    // t0 before the ticker exists, so the lower bound below is exact: ticks are due at
    // created + k*delta with created >= t0, and after the reset at reset + k*2*delta.
    let clock = tc.clock();
    let t0 = clock.now();
    let ticker = clock.ticker(delta);
    for _ in 0..count / 2 {
        tc.recv(ticker.c());
    }
    let reset_at = clock.now();
    ticker.reset(delta * 2);
    let mut after_reset = Vec::new();
    for _ in count / 2..count {
        after_reset.push(tc.recv(ticker.c()));
    }
    ticker.stop();
    let took = clock.now() - t0;
    let target = 3 * delta * (count / 2);
    tc.assert_on_time(took, target, &format!("{count} ticks"));
    // After the reset, ticks are reset + k*2*delta: never before, and exactly phase-aligned.
    tc.assert_on_time(
        after_reset[0] - reset_at,
        delta * 2,
        "the first tick after reset",
    );
    for w in after_reset.windows(2) {
        let gap = (w[1] - w[0]).as_nanos();
        let period = (delta * 2).as_nanos();
        assert!(
            gap > 0 && gap % period == 0,
            "ticks {gap} ns apart, period {period} ns"
        );
    }
    let slop = target / 2;
    if took > target + slop {
        thread::sleep(Duration::from_millis(500)); // the machine may be overloaded; let it recover
        return Err(format!(
            "{count} ticks took {took:?}, expected at most {:?}",
            target + slop
        ));
    }
    // The ticker stopped: Go 1.23 guarantees no tick after stop returns, so this is strict.
    tc.pass(2 * delta);
    assert!(
        ticker.c().try_recv().is_err(),
        "the ticker ticked after stop"
    );
    Ok(())
}

/// [TestTicker](https://github.com/golang/go/blob/go1.19.8/src/time/tick_test.go#L14)
fn test_ticker(tc: &TestClock) {
    // Go tries (10, 20 ms) and then (8, 1 s); we add a middle step.
    let tries = [(10, 20 * MS), (10, 60 * MS), (8, 250 * MS)];
    retry(tc, &tries, |(count, delta)| ticker_run(tc, count, delta));
}
both_clocks!(test_ticker);

/// [TestTickerStopWithDirectInitialization](https://github.com/golang/go/blob/go1.19.8/src/time/tick_test.go#L100)
/// (and Go 1.23's [TestManualTicker](https://github.com/golang/go/blob/go1.27.3/src/time/tick_test.go#L558),
/// the same case).
fn test_ticker_stop_with_direct_initialization(tc: &TestClock) {
    // Go's test stops a `Ticker{C: c}` built without NewTicker (issue 21874). A Rust `Ticker` can
    // only come from its constructors, so we port the intent: stop on a ticker in any state returns
    // and does not panic: never ticked, stopped twice, stopped from another thread, then dropped.
    let tk = tc.clock().ticker(HOUR);
    tk.stop();
    tk.stop();
    thread::scope(|s| {
        s.spawn(|| tk.stop());
    });
    drop(tk);
}
both_clocks!(test_ticker_stop_with_direct_initialization);

/// [TestTeardown](https://github.com/golang/go/blob/go1.19.8/src/time/tick_test.go#L107)
fn test_teardown(tc: &TestClock) {
    // Tearing down a ticker right after a tick must not deadlock. Go uses 100 ms (20 ms in short
    // mode); 20 ms keeps the suite fast. The last one is torn down by drop rather than stop.
    for i in 0..4 {
        let ticker = tc.clock().ticker(20 * MS);
        tc.recv(ticker.c());
        if i < 3 {
            ticker.stop();
        }
    }
}
both_clocks!(test_teardown);

/// [TestTick](https://github.com/golang/go/blob/go1.19.8/src/time/tick_test.go#L120)
fn test_tick(tc: &TestClock) {
    // Go: `Tick(d)` with d <= 0 returns nil, a channel that never delivers. Only zero is expressible
    // here (`Duration` cannot be negative); its receiver blocks (it is not disconnected).
    let clock = tc.clock();
    tc.assert_quiet(&clock.tick(Duration::ZERO), 50 * MS, "tick(ZERO)");
    // And a positive one ticks, never early.
    let start = clock.now();
    let first = tc.recv(&clock.tick(5 * MS));
    tc.assert_on_time(first - start, 5 * MS, "tick(5 ms)");
}
both_clocks!(test_tick);

/// [TestNewTickerLtZeroDuration](https://github.com/golang/go/blob/go1.19.8/src/time/tick_test.go#L128)
fn test_new_ticker_lt_zero_duration(tc: &TestClock) {
    // Go checks NewTicker(-1); a zero period is the non-positive interval Rust can express.
    let payload =
        catch_unwind(AssertUnwindSafe(|| tc.clock().ticker(Duration::ZERO))).expect_err("no panic");
    assert_eq!(
        panic_message(&*payload),
        "non-positive interval for Ticker::new"
    );
}
both_clocks!(test_new_ticker_lt_zero_duration);

/// [TestTickerResetLtZeroDuration](https://github.com/golang/go/blob/go1.19.8/src/time/tick_test.go#L138)
fn test_ticker_reset_lt_zero_duration(tc: &TestClock) {
    let clock = tc.clock();
    let tk = clock.ticker(Duration::from_secs(1));
    let payload =
        catch_unwind(AssertUnwindSafe(|| tk.reset(Duration::ZERO))).expect_err("no panic");
    assert_eq!(
        panic_message(&*payload),
        "non-positive interval for Ticker::reset"
    );
    // The failed reset changed nothing: the ticker still works and can be reset properly.
    let before = clock.now();
    tk.reset(5 * MS);
    let v = tc.recv(tk.c());
    tc.assert_on_time(v - before, 5 * MS, "the tick after the reset");
    tk.stop();
}
both_clocks!(test_ticker_reset_lt_zero_duration);

// Go 1.23's TestLongAdjustTimers (a scheduler ping-pong under a heap of 5000 sleeping goroutines,
// against a 60 s deadline) measures Go's scheduler; the wheel's behaviour under many timers is
// tests/stress.rs's. Its TestTimerGC (unstopped timers are collected) is, in Rust, "a dropped
// handle frees its timer": tests/memory.rs measures that with a counting allocator, which needs a
// binary of its own. A dropped `tick` receiver is freed at its next tick, as `tick`'s docs say.

/// Go's `timer` interface in TestChan: a `Timer`, or a `Ticker` behind Go's `tickerTimer`, whose
/// `stop` and `reset` report whether it was running.
enum ChanTimer {
    Timer(Timer),
    Ticker(Ticker, Cell<bool>),
}

impl ChanTimer {
    fn c(&self) -> &Receiver<Instant> {
        match self {
            ChanTimer::Timer(t) => t.c(),
            ChanTimer::Ticker(t, _) => t.c(),
        }
    }

    fn is_ticker(&self) -> bool {
        matches!(self, ChanTimer::Ticker(..))
    }

    fn stop(&self) -> bool {
        match self {
            ChanTimer::Timer(t) => t.stop(),
            ChanTimer::Ticker(t, stopped) => {
                t.stop();
                !stopped.replace(true)
            }
        }
    }

    fn reset(&self, d: Duration) -> bool {
        match self {
            ChanTimer::Timer(t) => t.reset(d),
            ChanTimer::Ticker(t, stopped) => {
                t.reset(d);
                !stopped.replace(false)
            }
        }
    }
}

/// Go's `testTimerChan`: stop and reset of a timer or ticker in and out of the heap, with threads
/// blocked on its channel, and Go 1.23's guarantee that they leave no stale value.
fn timer_chan(tc: &TestClock, tim: &ChanTimer) {
    const SCHED: Duration = Duration::from_millis(10);
    const TRIES: usize = 100;
    // Go resets to 1 ns for "imminent". A fake clock steps through every tick of a ticker, and a
    // 1 ns ticker would make each 10 ms that passes ten million steps: 100 us is imminent enough.
    const SOON: Duration = Duration::from_micros(100);
    let c = tim.c();
    let no_tick = |what: &str| assert!(c.try_recv().is_err(), "extra tick: {what}");
    let assert_tick = |what: &str| {
        for _ in 0..TRIES {
            if c.try_recv().is_ok() {
                return;
            }
            tc.pass(SCHED);
        }
        panic!("missing tick: {what}");
    };
    // Go's `waitDone`: time passes until a thread reports.
    let wait_done = |done: &Receiver<()>, what: &str| {
        for _ in 0..TRIES {
            tc.pass(SCHED);
            if done.recv_timeout(SCHED).is_ok() {
                return;
            }
        }
        panic!("never got done: {what}");
    };

    // Simple stop; the timer is never in the heap.
    tim.stop();
    no_tick("after stop");
    // Modify a timer not in the heap.
    tim.reset(10_000 * Duration::from_secs(1));
    no_tick("after a reset far away");
    // Modify a timer in the heap.
    tim.reset(SOON);
    tc.pass(SCHED);
    // Go 1.23's channels report len 0 and cap 0 (the value is made when it is received). Ours are
    // crossbeam channels of capacity 1, as `Timer`'s docs say: a waiting value counts in `len`
    // until it is received, and never more than one (no burst of ticks).
    assert_eq!(c.capacity(), Some(1));
    assert!(c.len() <= 1, "{} values wait", c.len());
    assert_tick("after an imminent reset");
    // Long enough that a ticker ticks again: the reset must not lose it to a stale value.
    tc.pass(SCHED);
    tim.reset(10_000 * Duration::from_secs(1));
    no_tick("after a reset far away");

    thread::scope(|s| {
        // Stop and reset while a thread is blocked on the channel.
        tim.reset(10_000 * Duration::from_secs(1));
        let (done_tx, done) = bounded(2);
        let rx = c.clone();
        s.spawn(move || {
            let _ = rx.recv();
            done_tx.send(()).unwrap();
        });
        tc.assert_quiet(&done, SCHED, "a waiter on a timer due in 10,000 s");
        tim.reset(20_000 * Duration::from_secs(1));
        tc.assert_quiet(&done, SCHED, "a waiter after a reset far away");
        tim.reset(SOON);
        wait_done(&done, "a waiter after an imminent reset");
        // A ticker has ticked again since (SOON apart); a timer has stopped.
        if tim.is_ticker() {
            assert_tick("a ticker after the waiter's tick");
        } else {
            no_tick("a timer after the waiter's value");
        }
        tim.stop();
        no_tick("after stop");
    });

    thread::scope(|s| {
        // Again with select, and two threads waiting.
        tim.reset(10_000 * Duration::from_secs(1));
        let (done_tx, done) = bounded(2);
        let (stop_tx, stop) = bounded::<()>(0);
        let mut finished = Vec::new();
        for _ in 0..2 {
            let (rx, done_tx, stop) = (c.clone(), done_tx.clone(), stop.clone());
            let (finished_tx, finished_rx) = bounded(1);
            finished.push(finished_rx);
            s.spawn(move || {
                select! {
                    recv(rx) -> _ => done_tx.send(()).unwrap(),
                    recv(stop) -> _ => {}
                }
                finished_tx.send(()).unwrap();
            });
        }
        tc.assert_quiet(&done, SCHED, "two waiters on a timer due in 10,000 s");
        tim.reset(SCHED / 2);
        wait_done(&done, "one of two waiters after a reset to 5 ms");
        tim.stop();
        drop(stop_tx);
        for (i, f) in finished.iter().enumerate() {
            wait_done(f, &format!("waiter {i} after stop"));
        }
        if tim.is_ticker() {
            // The other waiter may have taken a second tick, and a third may wait in the channel.
            let _ = done.try_recv();
            let _ = c.try_recv();
        }
        assert!(done.try_recv().is_err(), "early done");
    });

    thread::scope(|s| {
        // Threads waiting on a stopped timer get nothing.
        let (stop_tx, stop) = bounded::<()>(0);
        let (done_tx, done) = bounded(2);
        for _ in 0..2 {
            let (rx, done_tx, stop) = (c.clone(), done_tx.clone(), stop.clone());
            s.spawn(move || {
                select! {
                    recv(rx) -> v => panic!("unexpected data: {v:?}"),
                    recv(stop) -> _ => {}
                }
                done_tx.send(()).unwrap();
            });
        }
        tc.pass(SCHED);
        drop(stop_tx);
        wait_done(&done, "the first waiter on a stopped timer");
        wait_done(&done, "the second waiter on a stopped timer");
    });

    // Stop and Reset block old values from being received (go.dev/issue/37196).
    tim.reset(SOON);
    tc.pass(SCHED);
    assert!(tim.stop(), "stop of a fired, unreceived timer");
    no_tick("after stop of a fired timer");
    tim.reset(HOUR);
    no_tick("after a reset to an hour");
    assert!(tim.reset(SOON), "reset of a pending timer");
    assert_tick("after an imminent reset");
    tc.pass(SCHED);
    if tim.is_ticker() {
        assert_tick("a ticker, again");
        tc.pass(SCHED);
    } else {
        no_tick("a timer whose value was received");
    }
    assert_eq!(
        tim.reset(HOUR),
        tim.is_ticker(),
        "reset: true for a running ticker, false for a received timer"
    );
    no_tick("after the last reset");
}

/// [TestChan](https://github.com/golang/go/blob/go1.27.3/src/time/tick_test.go#L313), for a timer
/// and a ticker.
fn test_chan(tc: &TestClock) {
    let far = 10_000 * Duration::from_secs(1);
    timer_chan(tc, &ChanTimer::Timer(tc.clock().timer(far)));
    timer_chan(
        tc,
        &ChanTimer::Ticker(tc.clock().ticker(far), Cell::new(false)),
    );
}
both_clocks!(test_chan);

/// Go's TestAfterTimes and TestTickTimes: a channel read long after it fired gives the instant it
/// was due, not the instant it was read. Retried ten times on the system clock, as Go does.
fn read_late(tc: &TestClock, make: impl Fn() -> Receiver<Instant>, what: &str) {
    let clock = tc.clock();
    retry(tc, &[(); 10], |()| {
        let start = clock.now();
        let c = make();
        tc.pass(500 * MS);
        let dt = tc.recv(&c) - start;
        tc.assert_on_time(dt, 10 * MS, what);
        if dt >= 400 * MS {
            return Err(format!("{what}'s value is +{dt:?}, want under 400 ms"));
        }
        Ok(())
    });
}

/// [TestAfterTimes](https://github.com/golang/go/blob/go1.27.3/src/time/tick_test.go#L567)
fn test_after_times(tc: &TestClock) {
    read_late(tc, || tc.clock().after(10 * MS), "after(10 ms)");
}
both_clocks!(test_after_times);

/// [TestTickTimes](https://github.com/golang/go/blob/go1.27.3/src/time/tick_test.go#L587)
fn test_tick_times(tc: &TestClock) {
    read_late(tc, || tc.clock().tick(10 * MS), "tick(10 ms)");
}
both_clocks!(test_tick_times);

//! The semantic cases of Go 1.19's `src/time/tick_test.go`, ported to gotimer. Each test is named
//! after the Go test it ports; the code is our own, written from what each Go test checks.
//!
//! Timing policy: "never early" is strict; upper bounds are retried with growing durations, as
//! Go's TestTicker retries, and fail only when every duration fails.

use gotimer::{sleep, tick, Ticker};
use std::any::Any;
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
fn ticker_run(count: u32, delta: Duration) -> Result<(), String> {
    // t0 before the ticker exists, so the lower bound below is exact: ticks are due at
    // created + k*delta with created >= t0, and after the reset at reset + k*2*delta.
    let t0 = Instant::now();
    let ticker = Ticker::new(delta);
    for _ in 0..count / 2 {
        ticker.c().recv().unwrap();
    }
    let reset_at = Instant::now();
    ticker.reset(delta * 2);
    let mut after_reset = Vec::new();
    for _ in count / 2..count {
        after_reset.push(ticker.c().recv().unwrap());
    }
    ticker.stop();
    let took = t0.elapsed();
    let target = 3 * delta * (count / 2);
    assert!(
        took >= target,
        "{count} ticks took only {took:?}, target {target:?}"
    );
    // After the reset, ticks are reset + k*2*delta: never before, and exactly phase-aligned.
    assert!(
        after_reset[0] >= reset_at + delta * 2,
        "first tick after reset came early"
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
        sleep(Duration::from_millis(500)); // the machine may be overloaded; let it recover
        return Err(format!(
            "{count} ticks took {took:?}, expected at most {:?}",
            target + slop
        ));
    }
    // The ticker stopped: Go 1.23 guarantees no tick after stop returns, so this is strict.
    sleep(2 * delta);
    assert!(
        ticker.c().try_recv().is_err(),
        "the ticker ticked after stop"
    );
    Ok(())
}

#[test]
fn test_ticker() {
    // Go tries (10, 20 ms) and then (8, 1 s); we add a middle step.
    let tries = [(10, 20 * MS), (10, 60 * MS), (8, 250 * MS)];
    let mut errors = Vec::new();
    for (count, delta) in tries {
        match ticker_run(count, delta) {
            Ok(()) => return,
            Err(e) => errors.push(e),
        }
    }
    panic!("failed at every duration: {errors:#?}");
}

#[test]
fn test_ticker_stop_with_direct_initialization() {
    // Go's test stops a `Ticker{C: c}` built without NewTicker (issue 21874). A Rust `Ticker` can
    // only come from `Ticker::new`, so we port the intent: stop on a ticker in any state returns
    // and does not panic: never ticked, stopped twice, stopped from another thread, then dropped.
    let tk = Ticker::new(HOUR);
    tk.stop();
    tk.stop();
    thread::scope(|s| {
        s.spawn(|| tk.stop());
    });
    drop(tk);
}

#[test]
fn test_teardown() {
    // Tearing down a ticker right after a tick must not deadlock. Go uses 100 ms (20 ms in short
    // mode); 20 ms keeps the suite fast. The last one is torn down by drop rather than stop.
    for i in 0..4 {
        let ticker = Ticker::new(20 * MS);
        ticker
            .c()
            .recv_timeout(Duration::from_secs(10))
            .expect("no tick");
        if i < 3 {
            ticker.stop();
        }
    }
}

#[test]
fn test_tick() {
    // Go: `Tick(d)` with d <= 0 returns nil, a channel that never delivers. Only zero is expressible
    // here (`Duration` cannot be negative); its receiver blocks (it is not disconnected).
    let never = tick(Duration::ZERO);
    assert_eq!(
        never.recv_timeout(50 * MS),
        Err(crossbeam_channel::RecvTimeoutError::Timeout)
    );
    // And a positive one ticks, never early.
    let start = Instant::now();
    let ticks = tick(5 * MS);
    let first = ticks.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(first >= start + 5 * MS);
}

#[test]
fn test_new_ticker_lt_zero_duration() {
    // Go checks NewTicker(-1); a zero period is the non-positive interval Rust can express.
    let payload = catch_unwind(|| Ticker::new(Duration::ZERO)).expect_err("no panic");
    assert_eq!(
        panic_message(&*payload),
        "non-positive interval for Ticker::new"
    );
}

#[test]
fn test_ticker_reset_lt_zero_duration() {
    let tk = Ticker::new(Duration::from_secs(1));
    let payload =
        catch_unwind(AssertUnwindSafe(|| tk.reset(Duration::ZERO))).expect_err("no panic");
    assert_eq!(
        panic_message(&*payload),
        "non-positive interval for Ticker::reset"
    );
    // The failed reset changed nothing: the ticker still works and can be reset properly.
    let before = Instant::now();
    tk.reset(5 * MS);
    let v = tk.c().recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(v >= before + 5 * MS);
    tk.stop();
}

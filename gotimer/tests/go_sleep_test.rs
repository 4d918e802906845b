//! The semantic cases of Go's `src/time/sleep_test.go`, ported to gotimer: Go 1.19's, and those Go
//! added up to 1.27.3. Each test is named after the Go test it ports (`TestAfterFunc` is
//! `test_after_func`) and sits under a link to it; the code is our own, written from what each Go
//! test checks. Go-only cases are left out, with a note where they would be.
//!
//! Both clocks: each test that does not measure real-time lateness is one body given a
//! `TestClock`, and runs twice, as `name::system` and `name::fake` (see `common/clocks.rs`). On the
//! system clock time passes by itself; on the fake one every wait is an advance, so nothing is ever
//! late and the checks that are bounds on the system clock are exact there. The tests that stay on
//! the system clock only say why.
//!
//! Timing policy: "never early" is checked strictly, every time. Upper bounds and orderings that
//! depend on the OS scheduler are retried with growing durations, as Go retries them, and fail
//! only when every duration fails (on a fake clock the first duration must pass). Under Go 1.23
//! semantics some checks that Go 1.19 had to retry (a stopped timer's channel is empty) are exact,
//! and are checked strictly here.

mod common;
mod expected_panics;

use common::clocks::{both_clocks, retry, TestClock, WAKE};
use crossbeam_channel::{bounded, select, unbounded, Receiver, TryRecvError};
use gotimer::{Clock, Ticker, Timer};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const MS: Duration = Duration::from_millis(1);
const NS: Duration = Duration::from_nanos(1);
const HOUR: Duration = Duration::from_secs(3600);

/// How a test makes its one-shot timers: a channel `Timer` (Go's `NewTimer`), or Go's
/// `newTimerFunc` (sleep_test.go since Go 1.23), a timer built from `after_func` whose callback
/// sends the clock's `now()` on a channel of its own, so that each test that uses it checks the
/// callback path where it checks the channel path.
#[derive(Clone, Copy, Debug)]
enum Impl {
    Chan,
    Func,
}

enum GoTimer {
    Chan(Timer),
    Func(Timer, Receiver<Instant>),
}

impl GoTimer {
    fn new(how: Impl, clock: &Clock, d: Duration) -> GoTimer {
        match how {
            Impl::Chan => GoTimer::Chan(clock.timer(d)),
            Impl::Func => {
                let (tx, rx) = bounded(1);
                let now = clock.clone();
                let timer = clock.after_func(d, move || {
                    let _ = tx.try_send(now.now());
                });
                GoTimer::Func(timer, rx)
            }
        }
    }

    fn c(&self) -> &Receiver<Instant> {
        match self {
            GoTimer::Chan(t) => t.c(),
            GoTimer::Func(_, rx) => rx,
        }
    }

    fn timer(&self) -> &Timer {
        match self {
            GoTimer::Chan(t) | GoTimer::Func(t, _) => t,
        }
    }

    fn stop(&self) -> bool {
        self.timer().stop()
    }

    fn reset(&self, d: Duration) -> bool {
        self.timer().reset(d)
    }
}

impl Drop for GoTimer {
    fn drop(&mut self) {
        // As dropping a `Timer` cancels it; an `after_func` timer would run anyway, and its
        // callback holds a clone of the clock.
        self.stop();
    }
}

/// A thread that churns the allocator and yields until dropped: the stand-in for Go's tests' GC
/// loops. It runs on real time on either clock.
struct Churn {
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Churn {
    fn start() -> Churn {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = thread::spawn(move || {
            while !flag.load(SeqCst) {
                std::hint::black_box(vec![1u8; 64 * 1024]);
                thread::yield_now();
            }
        });
        Churn {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Churn {
    fn drop(&mut self) {
        self.stop.store(true, SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

/// [TestSleep](https://github.com/golang/go/blob/go1.19.8/src/time/sleep_test.go#L28)
fn test_sleep(tc: &TestClock) {
    // Go's version also interrupts the sleeping goroutine with a signal (`Interrupt`); a Rust thread
    // has no counterpart, so only "sleeps at least d" is ported. Go's check is relaxed for Windows'
    // timer granularity; ours is strict.
    const DELAY: Duration = Duration::from_millis(100);
    let clock = tc.clock().clone();
    let start = clock.now();
    let sleeper = thread::spawn(move || {
        clock.sleep(DELAY);
        clock.now()
    });
    tc.until_waiters(1);
    tc.pass(DELAY);
    let took = sleeper.join().unwrap() - start;
    tc.assert_on_time(took, DELAY, "sleep");
}
both_clocks!(test_sleep);

/// The chain of callbacks of `test_after_func`: each link schedules the next at once, then naps.
struct Chain {
    clock: Clock,
    nap: Duration,
    left: AtomicIsize,
    done: crossbeam_channel::Sender<()>,
}

fn chain_link(chain: &Arc<Chain>) {
    // Go: `i--; if i >= 0 { AfterFunc(0, f); Sleep(1 * Second) } else { c <- true }`.
    if chain.left.fetch_sub(1, SeqCst) > 0 {
        let next = chain.clone();
        chain
            .clock
            .after_func(Duration::ZERO, move || chain_link(&next));
        chain.clock.sleep(chain.nap);
    } else {
        chain.done.send(()).unwrap();
    }
}

/// Eleven `after_func(0)` callbacks, each of which schedules the next and then naps for `nap`;
/// returns the real time the chain took.
fn after_func_chain(tc: &TestClock, nap: Duration) -> Duration {
    let (done, finished) = bounded(1);
    let chain = Arc::new(Chain {
        clock: tc.clock().clone(),
        nap,
        left: AtomicIsize::new(10),
        done,
    });
    let start = Instant::now();
    let first = chain.clone();
    tc.clock()
        .after_func(Duration::ZERO, move || chain_link(&first));
    tc.recv(&finished);
    assert_eq!(chain.left.load(SeqCst), -1);
    start.elapsed()
}

/// [TestAfterFunc](https://github.com/golang/go/blob/go1.19.8/src/time/sleep_test.go#L49), its
/// semantic half: the chain of eleven `after_func(0)` runs to its end. On a fake clock all eleven
/// run in one advance (callbacks due at once during an advance run in it), without the naps: a fake
/// clock runs its callbacks on the advancing thread, one at a time, and they may not sleep on it.
fn test_after_func(tc: &TestClock) {
    let start = tc.clock().now();
    after_func_chain(tc, Duration::ZERO);
    if tc.is_fake() {
        assert_eq!(
            tc.clock().now(),
            start,
            "after_func(0) callbacks are due now"
        );
    }
}
both_clocks!(test_after_func);

/// [TestAfterFunc](https://github.com/golang/go/blob/go1.19.8/src/time/sleep_test.go#L49) as Go
/// runs it, each callback sleeping a second: they only finish quickly if callbacks run
/// concurrently. System clock only: that is a real-time property of the callback pool (a fake
/// clock runs callbacks one after another, by design).
#[test]
fn test_after_func_callbacks_run_concurrently() {
    let took = after_func_chain(&TestClock::system(), Duration::from_secs(1));
    assert!(
        took < Duration::from_secs(8),
        "the chain of 11 after_func(0) callbacks took {took:?}: callbacks that sleep 1 s delay \
         each other (serially they would take 10 s)"
    );
}

/// [TestTickerStress](https://github.com/golang/go/blob/go1.27.3/src/time/sleep_test.go#L93)
/// (Go 1.19's [TestAfterStress](https://github.com/golang/go/blob/go1.19.8/src/time/sleep_test.go#L67)):
/// a 1 ns ticker ticks 100 times while another thread churns the allocator (Go: runs the GC).
fn test_ticker_stress(tc: &TestClock) {
    let _churn = Churn::start();
    let t0 = tc.clock().now();
    let ticker = tc.clock().ticker(NS);
    let mut last: Option<Instant> = None;
    for i in 1..=100 {
        let tick = tc.recv(ticker.c());
        if let Some(last) = last {
            assert!(tick > last, "tick {i} at {tick:?} is not after {last:?}");
        }
        if tc.is_fake() {
            assert_eq!(tick, t0 + NS * i, "tick {i} of a 1 ns ticker");
        }
        last = Some(tick);
    }
    ticker.stop();
}
both_clocks!(test_ticker_stress);

/// [TestTickerConcurrentStress](https://github.com/golang/go/blob/go1.27.3/src/time/sleep_test.go#L112):
/// ten threads take 100 ticks each from one 1 ns ticker, while another churns the allocator.
fn test_ticker_concurrent_stress(tc: &TestClock) {
    let _churn = Churn::start();
    let ticker = tc.clock().ticker(NS);
    let received = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..10 {
            s.spawn(|| {
                for i in 0..100 {
                    let tick = ticker.c().recv_timeout(WAKE);
                    tick.unwrap_or_else(|e| panic!("tick {i} did not come: {e}"));
                    received.fetch_add(1, SeqCst);
                }
            });
        }
        tc.pass_until("1000 ticks received", || received.load(SeqCst) == 1000);
    });
    ticker.stop();
}
both_clocks!(test_ticker_concurrent_stress);

/// [TestAfterFuncStarvation](https://github.com/golang/go/blob/go1.27.3/src/time/sleep_test.go#L139):
/// two threads ping-pong on a channel, so one of them is always runnable; a callback due in 1 us
/// must still run and stop them (Go issue 65178: it live-locked on one processor).
fn test_after_func_starvation(tc: &TestClock) {
    let stop = Arc::new(AtomicBool::new(false));
    let starved = AtomicBool::new(false);
    let (tx, rx) = bounded(1);
    thread::scope(|s| {
        let (stop, starved) = (&stop, &starved);
        s.spawn(move || {
            let start = Instant::now();
            while !stop.load(SeqCst) {
                if start.elapsed() > WAKE {
                    starved.store(true, SeqCst);
                    break;
                }
                tx.send(true).unwrap();
            }
        });
        s.spawn(move || for _ in rx {});
        let flag = stop.clone();
        let _t = tc
            .clock()
            .after_func(Duration::from_micros(1), move || flag.store(true, SeqCst));
        tc.pass(Duration::from_micros(1));
    });
    assert!(
        !starved.load(SeqCst),
        "the callback did not run in {WAKE:?}"
    );
}
both_clocks!(test_after_func_starvation);

/// [TestAfter](https://github.com/golang/go/blob/go1.19.8/src/time/sleep_test.go#L202)
fn test_after(tc: &TestClock) {
    // Go's `After` is `NewTimer(d).C`; ours, on the system clock, is a channel that registers
    // nothing. Both are checked: the wait lasts at least `d` and the value is the due instant.
    const DELAY: Duration = Duration::from_millis(100);
    let clock = tc.clock();
    let start = clock.now();
    let end = tc.recv(&clock.after(DELAY));
    tc.assert_on_time(clock.now() - start, DELAY, "after");
    tc.assert_on_time(end - start, DELAY, "after's value");

    let start = clock.now();
    let end = tc.recv(clock.timer(DELAY).c());
    tc.assert_on_time(clock.now() - start, DELAY, "Timer::new");
    tc.assert_on_time(end - start, DELAY, "Timer::new's value");
}
both_clocks!(test_after);

/// [TestAfterTick](https://github.com/golang/go/blob/go1.19.8/src/time/sleep_test.go#L218)
fn test_after_tick(tc: &TestClock) {
    // Ten consecutive `after(delta)` take at least ten deltas (strict) and not more than three times
    // that (retried with longer deltas, as Go's short and long modes).
    const COUNT: u32 = 10;
    let clock = tc.clock();
    retry(tc, &[10 * MS, 25 * MS, 50 * MS, 100 * MS], |delta| {
        let t0 = clock.now();
        for _ in 0..COUNT {
            tc.recv(&clock.after(delta));
        }
        let took = clock.now() - t0;
        let target = delta * COUNT;
        tc.assert_on_time(took, target, "ten afters");
        if took > target * 3 {
            return Err(format!(
                "{COUNT} after({delta:?}) took {took:?}, over 3x {target:?}"
            ));
        }
        Ok(())
    });
}
both_clocks!(test_after_tick);

/// One run of Go's `testAfterStop` with timers made by `how`, at `unit` (Go: 50 ms).
fn after_stop(tc: &TestClock, how: Impl, unit: Duration) -> Result<(), String> {
    let clock = tc.clock();
    let _unrelated = clock.after_func(unit * 2, || {});
    let t0 = GoTimer::new(how, clock, unit);
    let (c1_tx, c1) = bounded(1);
    let t1 = clock.after_func(unit * 3, move || {
        let _ = c1_tx.try_send(());
    });
    let c2 = clock.after(unit * 4);
    if !t0.stop() {
        // Go 1.23: a channel timer's stop is true even if it fired (nobody received its value).
        assert!(
            matches!(how, Impl::Func),
            "stop of an unreceived timer returned false"
        );
        return Err("failed to stop the func timer before it started".into());
    }
    if !t1.stop() {
        return Err("failed to stop the after_func before it started".into());
    }
    tc.recv(&c2);
    select! {
        recv(t0.c()) -> v => panic!("the stopped timer delivered {v:?}"),
        recv(c1) -> _ => panic!("the stopped after_func ran"),
        default => {}
    }
    assert!(!t1.stop(), "stop returned true twice");
    assert!(!t0.stop(), "stop returned true twice");
    Ok(())
}

/// [TestAfterStop](https://github.com/golang/go/blob/go1.19.8/src/time/sleep_test.go#L239), with
/// Go 1.27.3's [impl=func](https://github.com/golang/go/blob/go1.27.3/src/time/sleep_test.go#L359)
/// variant: timers and callbacks stopped before they are due never deliver, and a second stop
/// returns false. Only a callback that started before `stop` (machine too slow) is retried.
fn test_after_stop(tc: &TestClock) {
    for how in [Impl::Chan, Impl::Func] {
        retry(tc, &[50 * MS, 100 * MS, 200 * MS, 400 * MS], |unit| {
            after_stop(tc, how, unit)
        });
    }
}
both_clocks!(test_after_stop);

/// How `test_after_queuing` makes its channels: Go's `After`, or a timer.
#[derive(Clone, Copy, Debug)]
enum Source {
    After,
    Timer(Impl),
}

/// One timer per slot, each waited for on its own thread; they must come back in slot order, each
/// at its due time. `Err` when the scheduler reordered or delayed them.
fn after_queuing(tc: &TestClock, delta: Duration, source: Source) -> Result<(), String> {
    const SLOTS: [u32; 13] = [5, 3, 6, 6, 6, 1, 1, 2, 7, 9, 4, 8, 0];
    let clock = tc.clock();
    let (results_tx, results) = bounded(SLOTS.len());
    let t0 = clock.now();
    let mut waiters = Vec::new();
    for slot in SLOTS {
        let d = delta * slot;
        let (results_tx, clock) = (results_tx.clone(), clock.clone());
        // Each timer is created here, on the test's thread, and waited for on its own.
        let wait: Box<dyn FnOnce() -> Instant + Send> = match source {
            Source::After => {
                let rx = clock.after(d);
                Box::new(move || rx.recv().unwrap())
            }
            Source::Timer(how) => {
                let t = GoTimer::new(how, &clock, d);
                Box::new(move || t.c().recv().unwrap())
            }
        };
        waiters.push(thread::spawn(move || {
            let due = wait();
            results_tx.send((slot, due, clock.now())).unwrap();
        }));
    }
    // Time passes one slot at a time, and the results due by then are collected. On the system
    // clock that only paces the collecting (the order checked is the order the threads sent in);
    // on a fake clock it lets each woken thread report before a later timer fires.
    let mut steps = SLOTS.to_vec();
    steps.sort_unstable();
    steps.dedup();
    let mut order = Vec::new();
    let mut error = None;
    for step in steps {
        tc.pass_to(t0 + delta * step);
        while order.len() < SLOTS.iter().filter(|&&s| s <= step).count() {
            let (slot, due, arrived) = results
                .recv_timeout(WAKE)
                .unwrap_or_else(|e| panic!("{source:?}: a timer due by slot {step}: {e}"));
            let target = delta * slot;
            // The value is the due instant: exactly `target` after a moment at or after t0.
            tc.assert_on_time(due - t0, target, &format!("{source:?} slot {slot}"));
            let late = arrived - t0;
            if late > target + delta * 10 && error.is_none() {
                error = Some(format!("slot {slot} ({target:?}) arrived after {late:?}"));
            }
            order.push(slot);
        }
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

/// [TestAfterQueuing](https://github.com/golang/go/blob/go1.19.8/src/time/sleep_test.go#L295),
/// with Go 1.27.3's [impl=func](https://github.com/golang/go/blob/go1.27.3/src/time/sleep_test.go#L424)
/// variant.
fn test_after_queuing(tc: &TestClock) {
    // Go tries deltas of 20, 70, 120, 170 and 220 ms.
    let deltas: Vec<Duration> = (0..5).map(|i| MS * (20 + i * 50)).collect();
    for source in [
        Source::After,
        Source::Timer(Impl::Chan),
        Source::Timer(Impl::Func),
    ] {
        retry(tc, &deltas, |delta| after_queuing(tc, delta, source));
    }
}
both_clocks!(test_after_queuing);

/// [TestTimerStopStress](https://github.com/golang/go/blob/go1.19.8/src/time/sleep_test.go#L354)
fn test_timer_stop_stress(tc: &TestClock) {
    // 100 threads each start a 2 s callback and stop it after sleeping 1 s. A stop that returns
    // true must keep its callback from ever running (strict). A stop that returns false is only
    // correct if the thread overslept past the deadline; Go counts that as a failure outright, we
    // allow a few such stalls on a loaded machine but not many (on a fake clock, none).
    const DEADLINE: Duration = Duration::from_secs(2);
    let threads: Vec<_> = (0..100)
        .map(|_| {
            let clock = tc.clock().clone();
            thread::spawn(move || {
                let ran = Arc::new(AtomicBool::new(false));
                let flag = ran.clone();
                let made = clock.now();
                let timer = clock.after_func(DEADLINE, move || flag.store(true, SeqCst));
                clock.sleep(Duration::from_secs(1));
                let stopped = timer.stop();
                (ran, stopped, clock.now() - made)
            })
        })
        .collect();
    tc.until_waiters(200); // 100 callbacks and 100 sleeps
    tc.pass(Duration::from_secs(1));
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    tc.pass(Duration::from_secs(2));
    let mut late = 0;
    for (i, (ran, stopped, stopped_at)) in results.into_iter().enumerate() {
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
    let allowed = if tc.is_fake() { 0 } else { 5 };
    assert!(
        late <= allowed,
        "{late} of 100 threads overslept a 1 s sleep by a second"
    );
}
both_clocks!(test_timer_stop_stress);

/// [TestSleepZeroDeadlock](https://github.com/golang/go/blob/go1.19.8/src/time/sleep_test.go#L370)
fn test_sleep_zero_deadlock(tc: &TestClock) {
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
        tc.clock().sleep(Duration::ZERO);
        tc.recv(tc.clock().timer(Duration::ZERO).c());
        let (tx, rx) = bounded(1);
        tx.send(true).unwrap();
        assert!(rx.recv().unwrap());
    }
    done.recv_timeout(WAKE).unwrap();
}
both_clocks!(test_sleep_zero_deadlock);

/// Go's `testReset`: a reset before firing pushes the deadline out; a fired timer resets to false.
fn reset_once(tc: &TestClock, d: Duration) -> Result<(), String> {
    let clock = tc.clock();
    let t0 = clock.timer(2 * d);
    tc.pass(d);
    let reset_at = clock.now();
    // Go 1.23: true for a pending timer and for a fired one whose value nobody received.
    assert!(
        t0.reset(3 * d),
        "reset of an unreceived timer returned false"
    );
    tc.pass(2 * d);
    if let Ok(v) = t0.c().try_recv() {
        // Fine only if the sleep overslept past the new deadline; never a value before it.
        tc.assert_on_time(v - reset_at, 3 * d, "the reset timer's value");
        return Err("slept past the new deadline; machine too slow".into());
    }
    tc.pass(2 * d);
    match t0.c().try_recv() {
        Ok(v) => tc.assert_on_time(v - reset_at, 3 * d, "the reset timer's value"),
        Err(_) => return Err("the reset timer had not fired 4d after the reset".into()),
    }
    assert!(
        !t0.reset(50 * MS),
        "reset of a timer whose value was received returned true"
    );
    Ok(())
}

/// [TestReset](https://github.com/golang/go/blob/go1.19.8/src/time/sleep_test.go#L417)
fn test_reset(tc: &TestClock) {
    const UNIT: Duration = Duration::from_millis(25);
    retry(tc, &[UNIT, 3 * UNIT, 7 * UNIT, 15 * UNIT], |d| {
        reset_once(tc, d)
    });
}
both_clocks!(test_reset);

/// Durations so large that the deadline overflows (the first four) or lies past the wheel's 146
/// years (the fourth).
const BIGS: [Duration; 5] = [
    Duration::MAX,
    Duration::from_secs(u64::MAX),
    Duration::from_nanos(u64::MAX),
    Duration::from_secs(200 * 365 * 86_400), // past the wheel's 146 years
    Duration::from_secs(100 * 365 * 86_400), // within them
];

/// [TestOverflowSleep](https://github.com/golang/go/blob/go1.19.8/src/time/sleep_test.go#L443)
fn test_overflow_sleep(tc: &TestClock) {
    // Durations so large that the deadline overflows never fire early, and do not disturb other
    // timers. Go's second half (`Sleep` and `After` with a negative duration return at once) has no
    // Rust counterpart: `Duration` cannot be negative. `after` with the out-of-range durations is
    // `test_overflow_after`.
    let clock = tc.clock();
    let big_sleep_returned = Arc::new(AtomicBool::new(false));
    {
        let (flag, clock) = (big_sleep_returned.clone(), clock.clone());
        // Never joined: it sleeps until the process exits.
        thread::spawn(move || {
            clock.sleep(Duration::MAX);
            flag.store(true, SeqCst);
        });
    }
    let timers: Vec<Timer> = BIGS.iter().map(|&d| clock.timer(d)).collect();
    let tickers: Vec<Ticker> = BIGS.iter().map(|&d| clock.ticker(d)).collect();
    let funcs: Vec<Timer> = BIGS
        .iter()
        .map(|&d| clock.after_func(d, || panic!("a callback due in centuries ran")))
        .collect();
    let within = clock.after(BIGS[4]);
    // Go: `select { case <-After(big): fail; case <-After(25 * Millisecond): }`.
    tc.pass(25 * MS);
    for (i, d) in BIGS.iter().enumerate() {
        let empty = Err(TryRecvError::Empty);
        assert_eq!(timers[i].c().try_recv(), empty, "Timer::new({d:?})");
        assert_eq!(tickers[i].c().try_recv(), empty, "Ticker::new({d:?})");
    }
    assert_eq!(within.try_recv(), Err(TryRecvError::Empty), "after(100 y)");
    // `tick` with these durations is checked in edges.rs (tick_out_of_range_never_delivers).

    // The other timers keep working.
    let start = clock.now();
    let v = tc.recv(clock.timer(10 * MS).c());
    tc.assert_on_time(v - start, 10 * MS, "a 10 ms timer");
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
both_clocks!(test_overflow_sleep);

/// [TestOverflowSleep](https://github.com/golang/go/blob/go1.19.8/src/time/sleep_test.go#L443)'s
/// `After(big)`: a deadline out of range gives a channel that never delivers, as `after`'s docs
/// say. Not a disconnected one, which `select!` would take at once and Go's test would fail.
fn test_overflow_after(tc: &TestClock) {
    let afters: Vec<Receiver<Instant>> = BIGS.iter().map(|&d| tc.clock().after(d)).collect();
    tc.pass(MS);
    for (rx, d) in afters.iter().zip(BIGS) {
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "after({d:?})");
    }
}
both_clocks!(test_overflow_after);

// Go's TestIssue5745 checks that a panic (a nil *Timer's Stop) does not leave the timers' lock held,
// so that a deferred ticker.Stop does not deadlock. A nil Timer cannot exist in Rust; the panics
// gotimer can meet are its own (`Ticker::reset(ZERO)`), a user's panic while timers are alive, and
// a panicking callback. After each, stopping a ticker and running timers must still work.
/// [TestIssue5745](https://github.com/golang/go/blob/go1.19.8/src/time/sleep_test.go#L472)
fn test_issue5745(tc: &TestClock) {
    expected_panics::quiet();
    struct StopOnDrop(Ticker);
    impl Drop for StopOnDrop {
        fn drop(&mut self) {
            self.0.stop(); // the Go test's deferred Stop
        }
    }
    let clock = tc.clock();

    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let _deferred = StopOnDrop(clock.ticker(HOUR));
        let _alive = clock.timer(HOUR);
        clock.ticker(HOUR).reset(Duration::ZERO);
    }));
    assert!(outcome.is_err(), "Ticker::reset(ZERO) did not panic");

    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let _deferred = StopOnDrop(clock.ticker(HOUR));
        let _due = clock.timer(Duration::ZERO);
        panic!("a user panic while timers are alive");
    }));
    assert!(outcome.is_err());

    let panics = clock.stats().callback_panics;
    clock.after_func(Duration::ZERO, || {
        panic!("a panicking callback (expected by this test)")
    });
    tc.pass_until("the panicking callback was reported", || {
        clock.stats().callback_panics > panics
    });

    // Everything still works, on this thread's shard and others'.
    let ticker = clock.ticker(MS);
    tc.recv(ticker.c());
    ticker.stop();
    tc.recv(clock.timer(MS).c());
    thread::scope(|s| {
        s.spawn(|| {
            let t = clock.ticker(MS);
            tc.recv(t.c());
            t.stop();
        });
    });
}
both_clocks!(test_issue5745);

// Go's TestOverflowPeriodRuntimeTimer drives the runtime's internal timers directly; there is no
// public counterpart. (A ticker whose next tick would overflow is covered by test_overflow_sleep's
// tickers, which must neither tick nor panic.)

// Go's TestZeroTimerResetPanics and TestZeroTimerStopPanics call methods on a zero-value `Timer{}`,
// which Go cannot forbid. A gotimer `Timer` exists only through its constructors, so there is
// nothing to port.

/// [TestZeroTimer](https://github.com/golang/go/blob/go1.19.8/src/time/sleep_test.go#L517), with
/// Go 1.27.3's [impl=func and impl=cache](https://github.com/golang/go/blob/go1.27.3/src/time/sleep_test.go#L656)
/// variants: zero timers are never missed.
fn test_zero_timer(tc: &TestClock) {
    // Go runs a million zero timers of each kind (regression test for zero timers missed by the
    // scheduler). Debug builds run fewer, and fewer callbacks: a callback's hand-off to the pool
    // costs more than a channel timer. A fake clock runs a tenth: time stands still and no thread
    // races the timer, so every iteration is the same run, and a miss would show in the first.
    let scale = if tc.is_fake() { 10 } else { 1 };
    let clock = tc.clock();
    let cached = GoTimer::new(Impl::Func, clock, HOUR);
    for (name, count) in [("chan", 100_000), ("func", 20_000), ("cache", 20_000)] {
        let count = if cfg!(debug_assertions) {
            count
        } else {
            1_000_000
        } / scale;
        for i in 0..count {
            let s = clock.now();
            let made = match name {
                "chan" => Some(GoTimer::new(Impl::Chan, clock, Duration::ZERO)),
                "func" => Some(GoTimer::new(Impl::Func, clock, Duration::ZERO)),
                _ => {
                    cached.reset(Duration::ZERO);
                    None
                }
            };
            tc.recv(made.as_ref().unwrap_or(&cached).c());
            let took = clock.now() - s;
            assert!(
                took <= Duration::from_secs(2),
                "impl={name}: zero timer {i} took {took:?}"
            );
        }
    }
}
both_clocks!(test_zero_timer);

/// [TestTimerModifiedEarlier](https://github.com/golang/go/blob/go1.19.8/src/time/sleep_test.go#L534),
/// on channel timers as in Go 1.19 and on
/// [func timers](https://github.com/golang/go/blob/go1.27.3/src/time/sleep_test.go#L685) as since
/// Go 1.23: a timer moved earlier again and again (reset to the past) must still fire. Go's past is
/// a negative duration; ours is ZERO.
fn test_timer_modified_earlier(tc: &TestClock) {
    let clock = tc.clock();
    for how in [Impl::Chan, Impl::Func] {
        for i in 0..1000 {
            let timer = GoTimer::new(how, clock, HOUR);
            for _ in 0..10 {
                if !timer.stop() {
                    // Go 1.23's channel timers never get here: the value of a reset(ZERO) waits in
                    // the channel until stop discards it, so stop returns true. A func timer's
                    // callback has started: Go drains what it sends.
                    assert!(
                        matches!(how, Impl::Func),
                        "timer {i}: stop returned false though nobody received its value"
                    );
                    tc.recv(timer.c());
                }
                timer.reset(Duration::ZERO);
            }
            let now = clock.now();
            tc.recv(timer.c());
            let since = clock.now() - now;
            assert!(
                since <= Duration::from_secs(8),
                "{how:?} timer {i} took {since:?}"
            );
        }
    }
    // The same through the wheel: moved earlier from an hour in steps that each relink the entry,
    // the timer fires at its last deadline, never before.
    for i in 0..100 {
        let timer = clock.timer(HOUR);
        let mut last = clock.now();
        for d in [600_000, 60_000, 1_000, 100, 30, 5] {
            last = clock.now();
            assert!(
                timer.reset(MS * d),
                "timer {i}: reset of a pending timer returned false"
            );
        }
        let v = tc.recv(timer.c());
        tc.assert_on_time(v - last, 5 * MS, &format!("timer {i} moved earlier"));
    }
}
both_clocks!(test_timer_modified_earlier);

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

/// [TestAdjustTimers](https://github.com/golang/go/blob/go1.19.8/src/time/sleep_test.go#L573), on
/// channel timers as in Go 1.19 and on
/// [func timers](https://github.com/golang/go/blob/go1.27.3/src/time/sleep_test.go#L724) as since
/// Go 1.23.
fn test_adjust_timers(tc: &TestClock) {
    // 100 timers, each driven through a fixed sequence of states, interleaved at random: fire at
    // once, receive, reset to minutes and stop (three times), reset to zero, receive.
    let clock = tc.clock();
    for how in [Impl::Chan, Impl::Func] {
        let mut rng = Rng::seeded();
        let seed = rng.0;
        let mut timers: Vec<Option<GoTimer>> = (0..100).map(|_| None).collect();
        let mut states = [0u32; 100];
        let mut live: Vec<usize> = (0..100).collect();
        while !live.is_empty() {
            let ii = rng.below(live.len());
            let i = live[ii];
            let state = states[i];
            states[i] += 1;
            let ctx = format!("{how:?}, seed {seed}, timer {i}, state {state}");
            let timer = timers[i].as_ref();
            match state {
                0 => timers[i] = Some(GoTimer::new(how, clock, Duration::ZERO)),
                1 => {
                    tc.recv(timer.unwrap().c());
                }
                2 | 4 | 6 => {
                    let d = Duration::from_secs(60 * [1, 3, 2][(state as usize - 2) / 2]);
                    assert!(!timer.unwrap().reset(d), "{ctx}: reset returned true");
                }
                3 | 5 | 7 => assert!(timer.unwrap().stop(), "{ctx}: stop of a pending timer"),
                8 => assert!(!timer.unwrap().reset(Duration::ZERO), "{ctx}: reset(0)"),
                9 => {
                    let now = clock.now();
                    tc.recv(timer.unwrap().c());
                    let took = clock.now() - now;
                    assert!(took <= Duration::from_secs(2), "{ctx}: took {took:?}");
                }
                _ => {
                    live.swap_remove(ii);
                }
            }
        }
    }
}
both_clocks!(test_adjust_timers);

/// Go's `testStopResetResult` (Go issue 69312): threads wait on two 1 ms timers at once and stop
/// (or reset to an hour) the one that lost. Go accepts `false` if the loser's value can then be
/// received; under Go 1.23's guarantee nobody received it, so the result is always true, and no
/// value of the old schedule is received after. (go123.rs races the same on real time, across
/// shards.) On a fake clock the threads advance it as they wait, so one thread's jump may take the
/// clock an hour on, past another's reset: a value is then fine if it is the new schedule's.
fn stop_reset_result(tc: &TestClock, stop: bool) {
    const THREADS: usize = 16;
    let iterations = if cfg!(debug_assertions) { 50 } else { 100 };
    let clock = tc.clock();
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for j in 0..iterations {
                    let timers = [clock.timer(MS), clock.timer(MS)];
                    let (won, _) = tc.recv_any(&[timers[0].c(), timers[1].c()]);
                    let loser = &timers[1 - won];
                    let reset_at = clock.now();
                    let kept = if stop {
                        loser.stop()
                    } else {
                        loser.reset(HOUR)
                    };
                    assert!(kept, "iteration {j}: the loser's value was not received");
                    if let Ok(v) = loser.c().try_recv() {
                        assert!(
                            !stop && v >= reset_at + HOUR,
                            "iteration {j}: a value of the old schedule after stop or reset"
                        );
                    }
                }
            });
        }
    });
}

/// [TestStopResult](https://github.com/golang/go/blob/go1.27.3/src/time/sleep_test.go#L788)
fn test_stop_result(tc: &TestClock) {
    stop_reset_result(tc, true);
}
both_clocks!(test_stop_result);

/// [TestResetResult](https://github.com/golang/go/blob/go1.27.3/src/time/sleep_test.go#L792)
fn test_reset_result(tc: &TestClock) {
    stop_reset_result(tc, false);
}
both_clocks!(test_reset_result);

/// [TestMultiWakeupTicker](https://github.com/golang/go/blob/go1.27.3/src/time/sleep_test.go#L842):
/// threads wake on one 1 us ticker at once, each also waiting on an `after(1 ms)` of its own.
fn test_multi_wakeup_ticker(tc: &TestClock) {
    // Go runs 100,000 rounds per processor (in long mode only).
    let rounds = if cfg!(debug_assertions) {
        2_000
    } else {
        20_000
    };
    let threads = thread::available_parallelism().map_or(2, |n| n.get());
    let ticker = tc.clock().ticker(Duration::from_micros(1));
    thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..rounds {
                    tc.recv_any(&[ticker.c(), &tc.clock().after(MS)]);
                }
            });
        }
    });
}
both_clocks!(test_multi_wakeup_ticker);

/// [TestMultiWakeupTimer](https://github.com/golang/go/blob/go1.27.3/src/time/sleep_test.go#L867):
/// threads take one 1 ns timer's value if it has one and reset it, all at once. A nanosecond
/// passes between rounds (on the system clock, a yield), so that it also fires on a fake clock.
fn test_multi_wakeup_timer(tc: &TestClock) {
    let threads = thread::available_parallelism().map_or(2, |n| n.get());
    let timer = tc.clock().timer(NS);
    thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..10_000 {
                    let _ = timer.c().try_recv();
                    timer.reset(NS);
                    tc.pass(NS);
                }
            });
        }
    });
    timer.stop();
    assert!(timer.c().is_empty(), "a value after stop");
}
both_clocks!(test_multi_wakeup_timer);

/// Not a Go test: Go's TestAfterFunc notes that "correct queueing behavior is tested elsewhere,
/// since After and AfterFunc share the same code". Ours do not share code, so the callbacks get
/// the ordering check too: ten callbacks at distinct delays report in order, never early.
fn test_after_func_queueing_through_channels(tc: &TestClock) {
    let clock = tc.clock();
    retry(tc, &[10 * MS, 40 * MS, 100 * MS], |delta| {
        let (tx, rx) = unbounded();
        let tx = Arc::new(Mutex::new(tx));
        let t0 = clock.now();
        for slot in [4u32, 2, 9, 0, 7, 1, 8, 3, 6, 5] {
            let (tx, now) = (tx.clone(), clock.clone());
            clock.after_func(delta * slot, move || {
                tx.lock().unwrap().send((slot, now.now())).unwrap();
            });
        }
        let mut order = Vec::new();
        for _ in 0..10 {
            let (slot, at) = tc.recv(&rx);
            tc.assert_on_time(at - t0, delta * slot, &format!("callback {slot}"));
            order.push(slot);
        }
        if order.windows(2).any(|w| w[1] < w[0]) {
            return Err(format!("callbacks ran out of order: {order:?}"));
        }
        Ok(())
    });
}
both_clocks!(test_after_func_queueing_through_channels);

//! The Go 1.23 timer semantics that Go 1.19's tests do not cover: no stale value after `stop` or
//! `reset`, the stop-the-loser race of Go issue #69312, `stop`/`reset` seen by a thread blocked on
//! the channel elsewhere, and dropping a timer under a blocked receiver.
//!
//! Both clocks: each test that does not race the system clock's driver in real time is one body
//! given a `TestClock`, run as `name::system` and `name::fake` (see `common/clocks.rs`). The two
//! that do race it stay on the system clock and say so: on a fake clock nothing fires while the
//! test thread runs, so there is no race to lose.

mod common;

use common::clocks::{both_clocks, retry, TestClock, WAKE};
use crossbeam_channel::{bounded, never, select, unbounded, RecvError, RecvTimeoutError, Sender};
use gotimer::{Receiver, Timer};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::{Duration, Instant};

const MS: Duration = Duration::from_millis(1);
const US: Duration = Duration::from_micros(1);
const HOUR: Duration = Duration::from_secs(3600);

/// A small xorshift generator for jitter.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Busy-waits `d`: sleeping would round up to the OS's granularity and miss the race windows.
fn spin(d: Duration) {
    let end = Instant::now() + d;
    while Instant::now() < end {
        std::hint::spin_loop();
    }
}

fn stop_discards_a_fired_unreceived_value(tc: &TestClock) {
    for d in [Duration::ZERO, MS] {
        let t = tc.clock().timer(d);
        tc.pass(20 * MS); // it has fired; its value waits in the channel
        assert!(
            t.stop(),
            "stop of a fired, unreceived timer ({d:?}) returned false"
        );
        assert!(t.c().try_recv().is_err(), "a value survived stop");
        tc.assert_quiet(t.c(), 30 * MS, "a stopped timer");
        assert!(!t.stop(), "second stop returned true");
    }
}
both_clocks!(stop_discards_a_fired_unreceived_value);

fn reset_discards_a_fired_unreceived_value(tc: &TestClock) {
    let clock = tc.clock();
    let t = clock.timer(MS);
    tc.pass(20 * MS);
    assert!(
        t.reset(HOUR),
        "reset of a fired, unreceived timer returned false"
    );
    assert!(t.c().try_recv().is_err(), "the old value survived reset");
    tc.assert_quiet(t.c(), 30 * MS, "a timer reset to an hour");

    // Fired again, then reset to a short time: the value received is the new one.
    assert!(t.reset(MS));
    tc.pass(20 * MS);
    let before = clock.now();
    assert!(
        t.reset(10 * MS),
        "reset of a fired, unreceived timer returned false"
    );
    let v = tc.recv(t.c());
    tc.assert_on_time(v - before, 10 * MS, "the value after the reset");
}
both_clocks!(reset_discards_a_fired_unreceived_value);

/// System clock only: it races the driver thread in real time (the call lands just before, during or
/// just after the fire), and on a fake clock nothing fires while the test thread runs.
#[test]
fn stop_and_reset_racing_the_fire_leave_no_stale_value() {
    // Timers due in 0-50 us are stopped or reset after 0-60 us of spinning, so the call lands just
    // before, during or just after the fire. Nobody receives, so every stop and reset must return
    // true, and no value of the old schedule may be seen afterwards.
    let mut rng = Rng::new(69312);
    for i in 0..3000 {
        let t = Timer::new(US * rng.below(50) as u32);
        spin(US * rng.below(60) as u32);
        if i % 3 == 0 {
            let before = Instant::now();
            let d = US * (20 + rng.below(300) as u32);
            assert!(
                t.reset(d),
                "iteration {i}: reset returned false, nobody received"
            );
            let v = t
                .c()
                .recv_timeout(WAKE)
                .expect("the reset timer did not fire");
            assert!(
                v >= before + d,
                "iteration {i}: a value of the old schedule after reset"
            );
            assert!(t.c().try_recv().is_err(), "iteration {i}: two values");
        } else {
            assert!(
                t.stop(),
                "iteration {i}: stop returned false, nobody received"
            );
            assert!(
                t.c().try_recv().is_err(),
                "iteration {i}: a value after stop"
            );
            if i % 100 == 1 {
                assert_eq!(t.c().recv_timeout(MS), Err(RecvTimeoutError::Timeout));
            }
        }
    }
}

fn ticker_stop_and_reset_discard_the_waiting_tick(tc: &TestClock) {
    let clock = tc.clock();
    let ticker = clock.ticker(MS);
    tc.pass(20 * MS); // a tick waits in the channel
    ticker.stop();
    assert!(ticker.c().try_recv().is_err(), "a tick survived stop");
    tc.assert_quiet(ticker.c(), 30 * MS, "a stopped ticker");

    ticker.reset(MS);
    tc.pass(20 * MS);
    let before = clock.now();
    ticker.reset(HOUR);
    assert!(ticker.c().try_recv().is_err(), "a tick survived reset");
    ticker.reset(10 * MS);
    let v = tc.recv(ticker.c());
    tc.assert_on_time(v - before, 10 * MS, "the tick after the reset");
}
both_clocks!(ticker_stop_and_reset_discard_the_waiting_tick);

/// A thread that makes timers on request, so that a test can hold timers from another shard.
fn timer_factory() -> (Sender<(Duration, Sender<Timer>)>, thread::JoinHandle<()>) {
    let (tx, rx) = unbounded::<(Duration, Sender<Timer>)>();
    let handle = thread::spawn(move || {
        for (d, reply) in rx {
            let _ = reply.send(Timer::new(d));
        }
    });
    (tx, handle)
}

/// System clock only: a real-time race (the second timer fires during the select or the stop, in
/// another shard's critical section). go_sleep_test.rs's `test_stop_result` checks the same result
/// on both clocks.
#[test]
fn issue_69312_stop_of_the_loser_returns_true() {
    // Go issue 69312: threads select on two 1 ms timers and stop the one that lost. Nobody received
    // the loser's value, so stop must return true, and its channel must then be empty; the winner's
    // value was received, so stopping it returns false. The second timer is sometimes 0-40 us later
    // (so it fires during the select or the stop), sometimes made by another thread (so it lives in
    // another shard and fires in another critical section).
    const THREADS: u64 = 16;
    let iterations: u64 = if cfg!(debug_assertions) { 150 } else { 400 };
    let (factory, factory_thread) = timer_factory();
    let false_stops = AtomicUsize::new(0);
    let stale = AtomicUsize::new(0);
    let winner_true = AtomicUsize::new(0);
    thread::scope(|s| {
        for id in 0..THREADS {
            let factory = factory.clone();
            let (false_stops, stale, winner_true) = (&false_stops, &stale, &winner_true);
            s.spawn(move || {
                let mut rng = Rng::new(id + 1);
                for i in 0..iterations {
                    let d2 = MS + US * [0, 0, rng.below(40) as u32][i as usize % 3];
                    let t1 = Timer::new(MS);
                    let t2 = if i % 4 == 3 {
                        let (reply, timer) = bounded(1);
                        factory.send((d2, reply)).unwrap();
                        timer.recv().unwrap()
                    } else {
                        Timer::new(d2)
                    };
                    let (winner, loser) = select! {
                        recv(t1.c()) -> v => { v.unwrap(); (&t1, &t2) }
                        recv(t2.c()) -> v => { v.unwrap(); (&t2, &t1) }
                    };
                    if !loser.stop() {
                        false_stops.fetch_add(1, SeqCst);
                    }
                    if loser.c().try_recv().is_ok() {
                        stale.fetch_add(1, SeqCst);
                    }
                    if winner.stop() {
                        winner_true.fetch_add(1, SeqCst);
                    }
                }
            });
        }
    });
    drop(factory);
    factory_thread.join().unwrap();
    let total = THREADS * iterations;
    assert_eq!(
        false_stops.load(SeqCst),
        0,
        "stop() of the losing timer returned false without a receive, out of {total}"
    );
    assert_eq!(stale.load(SeqCst), 0, "a value after stop, out of {total}");
    assert_eq!(
        winner_true.load(SeqCst),
        0,
        "stop() of a received timer returned true"
    );
}

/// How a thread waits on a timer's channel in the cross-thread tests.
#[derive(Clone, Copy, Debug)]
enum Wait {
    Recv,
    Select,
}

fn wait_on(how: Wait, rx: &Receiver<Instant>) -> Result<Instant, RecvError> {
    match how {
        Wait::Recv => rx.recv(),
        Wait::Select => {
            let other = never::<()>();
            select! {
                recv(rx) -> v => v,
                recv(other) -> _ => unreachable!(),
            }
        }
    }
}

/// One run of the cross-thread test: a thread waits on `t.c()` for a timer due in `d`; another
/// thread pushes it to an hour (or stops it), so the waiter must stay blocked past `d`; a third
/// resets it to 1 ms, which must wake the waiter with the new value. `Err`: the machine was so slow
/// that the timer fired before the push.
fn cross_thread(tc: &TestClock, how: Wait, stop_instead: bool, d: Duration) -> Result<(), String> {
    let clock = tc.clock();
    let t = clock.timer(d);
    let (woke_tx, woke) = bounded(1);
    thread::scope(|s| {
        let waiter = s.spawn(|| woke_tx.send(wait_on(how, t.c())).unwrap());
        tc.pass(d / 10); // most likely the waiter is blocked by now; correctness does not depend on it
        let pushed = s
            .spawn(|| {
                if stop_instead {
                    t.stop()
                } else {
                    t.reset(HOUR)
                }
            })
            .join()
            .unwrap();
        if !pushed {
            // The old value was received before the push: legitimate, but this run proves nothing.
            waiter.join().unwrap();
            return Err(format!("the timer fired before the push ({how:?})"));
        }
        // The waiter must not wake: the value it waited for is gone for good.
        tc.assert_quiet(&woke, 2 * d, &format!("{how:?}: a waiter after the push"));
        let before = clock.now();
        let was_pending = s.spawn(|| t.reset(MS)).join().unwrap();
        assert_eq!(was_pending, !stop_instead, "{how:?}: reset's return value");
        tc.pass(MS);
        let v = woke
            .recv_timeout(WAKE)
            .unwrap_or_else(|_| panic!("{how:?}: the reset to 1 ms did not wake the waiter"))
            .expect("the channel disconnected");
        tc.assert_on_time(v - before, MS, &format!("{how:?}: the waiter's value"));
        waiter.join().unwrap();
        Ok(())
    })
}

fn cross_thread_retried(tc: &TestClock, how: Wait, stop_instead: bool) {
    retry(tc, &[100 * MS, 300 * MS, 1000 * MS], |d| {
        cross_thread(tc, how, stop_instead, d)
    });
}

fn cross_thread_reset_seen_by_recv(tc: &TestClock) {
    cross_thread_retried(tc, Wait::Recv, false);
}
both_clocks!(cross_thread_reset_seen_by_recv);

fn cross_thread_reset_seen_by_select(tc: &TestClock) {
    cross_thread_retried(tc, Wait::Select, false);
}
both_clocks!(cross_thread_reset_seen_by_select);

fn cross_thread_stop_seen_by_recv_and_select(tc: &TestClock) {
    cross_thread_retried(tc, Wait::Recv, true);
    cross_thread_retried(tc, Wait::Select, true);
}
both_clocks!(cross_thread_stop_seen_by_recv_and_select);

fn cross_thread_reset_of_an_idle_timer_wakes_a_blocked_thread(tc: &TestClock) {
    // The waiter blocks on a timer that fired and was received; another thread's reset wakes it.
    let clock = tc.clock();
    for how in [Wait::Recv, Wait::Select] {
        let t = clock.timer(Duration::ZERO);
        tc.recv(t.c());
        let (woke_tx, woke) = bounded(1);
        thread::scope(|s| {
            s.spawn(|| woke_tx.send(wait_on(how, t.c())).unwrap());
            tc.assert_quiet(
                &woke,
                50 * MS,
                &format!("{how:?}: a waiter on a received timer"),
            );
            let before = clock.now();
            assert!(!s.spawn(|| t.reset(MS)).join().unwrap(), "received already");
            tc.pass(MS);
            let v = woke.recv_timeout(WAKE).expect("not woken").unwrap();
            tc.assert_on_time(v - before, MS, &format!("{how:?}: the waiter's value"));
        });
    }
}
both_clocks!(cross_thread_reset_of_an_idle_timer_wakes_a_blocked_thread);

/// A thread waits on a clone of the channel; dropping the timer or ticker must disconnect it.
fn drop_under_waiter<T: Send + 'static>(
    tc: &TestClock,
    how: Wait,
    make: impl Fn() -> (T, Receiver<Instant>),
) {
    let (owner, rx) = make();
    let (woke_tx, woke) = bounded(1);
    let waiter = thread::spawn(move || woke_tx.send(wait_on(how, &rx)).unwrap());
    tc.pass(20 * MS); // most likely the waiter is blocked by now
    drop(owner);
    let r = woke
        .recv_timeout(WAKE)
        .unwrap_or_else(|_| panic!("{how:?}: the waiter hangs after the drop"));
    assert_eq!(
        r,
        Err(RecvError),
        "{how:?}: the waiter should see disconnection"
    );
    waiter.join().unwrap();
}

fn drop_of_a_timer_while_another_thread_waits_on_a_clone_of_its_channel(tc: &TestClock) {
    let clock = tc.clock();
    for how in [Wait::Recv, Wait::Select] {
        drop_under_waiter(tc, how, || {
            let t = clock.timer(HOUR);
            let rx = t.c().clone();
            (t, rx)
        });
        // Out of range: held by nothing but its handle.
        drop_under_waiter(tc, how, || {
            let t = clock.timer(Duration::MAX);
            let rx = t.c().clone();
            (t, rx)
        });
        // Stopped, then dropped from another thread.
        drop_under_waiter(tc, how, || {
            let t = clock.timer(HOUR);
            t.stop();
            let rx = t.c().clone();
            (thread::spawn(move || t), rx)
        });
        drop_under_waiter(tc, how, || {
            let t = clock.ticker(HOUR);
            let rx = t.c().clone();
            (t, rx)
        });
    }
}
both_clocks!(drop_of_a_timer_while_another_thread_waits_on_a_clone_of_its_channel);

fn drop_of_a_timer_whose_value_waits_leaves_the_value_to_clones(tc: &TestClock) {
    // Dropping cancels the timer; a value already in the channel can still be taken by a clone of
    // the receiver (as with any crossbeam channel), and then the clone sees disconnection.
    let t = tc.clock().timer(Duration::ZERO);
    let rx = t.c().clone();
    tc.pass(5 * MS);
    drop(t);
    match rx.recv_timeout(WAKE) {
        Ok(_) => assert_eq!(rx.recv_timeout(WAKE), Err(RecvTimeoutError::Disconnected)),
        Err(e) => assert_eq!(e, RecvTimeoutError::Disconnected),
    }
}
both_clocks!(drop_of_a_timer_whose_value_waits_leaves_the_value_to_clones);

fn concurrent_resets_and_stops_leave_one_consistent_timer(tc: &TestClock) {
    // Four threads reset and stop one timer at random, with deadlines of 0-100 us so that it also
    // fires throughout (on a fake clock, only the resets to 0 fire, at once); each ends with a
    // reset. Nobody receives, so afterwards exactly one value waits (the last schedule's), and
    // stop discards it and returns true.
    let clock = tc.clock();
    let t = clock.timer(HOUR);
    thread::scope(|s| {
        for id in 0..4u64 {
            let t = &t;
            s.spawn(move || {
                let mut rng = Rng::new(100 + id);
                for _ in 0..2000 {
                    if rng.below(4) == 0 {
                        t.stop();
                    } else {
                        t.reset(US * rng.below(100) as u32);
                    }
                }
                t.reset(US * rng.below(100) as u32); // so that the last call of all is a reset
            });
        }
    });
    // The last reset fires within 100 us (given the scheduler's delays, within seconds).
    tc.pass_until("the last reset fired", || !t.c().is_empty());
    tc.pass(5 * MS);
    assert_eq!(t.c().len(), 1, "one value waits, the last schedule's");
    assert!(t.stop(), "a value waits: stop discards it and returns true");
    assert!(t.c().is_empty());
    assert!(!t.stop());
    let before = clock.now();
    assert!(!t.reset(MS));
    let v = tc.recv(t.c());
    tc.assert_on_time(v - before, MS, "the value after the storm");
}
both_clocks!(concurrent_resets_and_stops_leave_one_consistent_timer);

fn ticker_cross_thread_reset_and_stop(tc: &TestClock) {
    // A thread blocked on a ticker's channel stays blocked when another thread stops it or moves
    // it to an hour, and wakes when a third resets it to 1 ms.
    let clock = tc.clock();
    let ticker = clock.ticker(HOUR);
    let (woke_tx, woke) = bounded(1);
    thread::scope(|s| {
        s.spawn(|| woke_tx.send(ticker.c().recv()).unwrap());
        s.spawn(|| ticker.stop()).join().unwrap();
        tc.assert_quiet(&woke, 50 * MS, "a waiter on a stopped ticker");
        s.spawn(|| ticker.reset(HOUR)).join().unwrap();
        tc.assert_quiet(&woke, 50 * MS, "a waiter on a ticker reset to an hour");
        let before = clock.now();
        s.spawn(|| ticker.reset(MS)).join().unwrap();
        tc.pass(MS);
        let v = woke.recv_timeout(WAKE).expect("not woken").unwrap();
        tc.assert_on_time(v - before, MS, "the waiter's tick");
    });
    ticker.stop();
}
both_clocks!(ticker_cross_thread_reset_and_stop);

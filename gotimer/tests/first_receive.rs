//! What a non-blocking receive through `c()` sees: exactly what Go 1.23's receive would. Every
//! `c()`, the first included, fires what is due on the calling thread (Go's `maybeRunChan`), so
//! `select!` with `default` right after a deadline passed takes the timer's arm, whatever the
//! driver thread is doing.
//!
//! These are not timing-dependent: the deadline has passed before `c()` reads the clock (a sleep
//! of at least that long came first), so a correct runtime cannot miss, however loaded the machine.
//! Each case is repeated, as the issue that found the gap measured it (up to half the tries
//! missed).
//!
//! Also here: what a receiver obtained earlier (a held `&Receiver` or a clone) sees when the
//! deadline passes and nobody calls `c()` again.

use gotimer::{select, FakeClock, Ticker, Timer};
use std::time::{Duration, Instant};

const MS: Duration = Duration::from_millis(1);
/// How long something the driver must deliver is given: far more than any scheduler delay.
const WAKE: Duration = Duration::from_secs(10);

/// A non-blocking receive through `c()`, as Go's `select { case v := <-t.C: … default: … }`.
fn select_default(rx: &gotimer::Receiver<Instant>) -> Option<Instant> {
    select! {
        recv(rx) -> v => Some(v.expect("a timer's channel stays connected while it lives")),
        default => None,
    }
}

/// `NewTimer(2ms)`, sleep 6 ms, `select` with `default`: Go never takes the default (0 of 100).
#[test]
fn a_due_timer_is_seen_by_the_first_non_blocking_receive() {
    for i in 0..100 {
        let before = Instant::now();
        let t = Timer::new(2 * MS);
        let after = Instant::now();
        std::thread::sleep(6 * MS);
        let v = select_default(t.c()).unwrap_or_else(|| panic!("try {i}: took the default"));
        assert!(
            v >= before + 2 * MS && v <= after + 2 * MS,
            "the due instant"
        );
        assert!(!t.stop(), "received: nothing left to stop");
    }
}

/// `NewTimer(0)`, then `select` with `default` at once: Go never takes the default (0 of 200).
#[test]
fn a_zero_timer_is_seen_by_the_first_non_blocking_receive() {
    for i in 0..200 {
        let t = Timer::new(Duration::ZERO);
        assert!(select_default(t.c()).is_some(), "try {i}: took the default");
        assert!(select_default(t.c()).is_none(), "one value per schedule");
    }
}

/// The same after `reset(0)` of a timer nobody had waited on, and of one already armed.
#[test]
fn a_reset_to_zero_is_seen_by_the_next_non_blocking_receive() {
    for i in 0..100 {
        let parked = Timer::new(Duration::from_secs(3600));
        assert!(parked.reset(Duration::ZERO));
        assert!(select_default(parked.c()).is_some(), "try {i}: parked");
        let armed = Timer::new(Duration::from_secs(3600));
        let _ = armed.c();
        assert!(armed.reset(Duration::ZERO));
        assert!(select_default(armed.c()).is_some(), "try {i}: armed");
    }
}

/// `NewTicker(1ms)` left 10 periods, then `select` with `default`: Go never takes the default (0 of
/// 40). The tick received is the first one (the ticks due while nobody received were dropped, and
/// its value is when it was due), and the next is on the grid, after the receive.
#[test]
fn a_due_tick_is_seen_by_the_first_non_blocking_receive() {
    for i in 0..40 {
        let before = Instant::now();
        let tk = Ticker::new(MS);
        let after = Instant::now();
        std::thread::sleep(10 * MS);
        let taken = Instant::now();
        let first = select_default(tk.c()).unwrap_or_else(|| panic!("try {i}: took the default"));
        assert!(
            first >= before + MS && first <= after + MS,
            "the first tick"
        );
        let next = tk.c().recv_timeout(WAKE).expect("the next tick");
        assert!(next > taken, "ticks due while one waited were dropped");
        assert_eq!((next - first).as_nanos() % MS.as_nanos(), 0, "on the grid");
    }
}

/// A receiver obtained before the deadline (a clone of `c()`, or the `&Receiver` itself, held):
/// nobody calls `c()` again, so the value is sent by the driver thread when it wakes for the
/// deadline, and a blocking receive gets it, with the due instant. What `c()` fires lands in the
/// same channel, so once any thread has called `c()` after the deadline, the held receiver sees the
/// value too: `t.c()` before a non-blocking receive is what makes it exact.
#[test]
fn a_held_receiver_gets_the_value_from_the_driver_or_from_the_next_c() {
    // The driver delivers to a held receiver, unprompted.
    let before = Instant::now();
    let t = Timer::new(2 * MS);
    let after = Instant::now();
    let held = t.c().clone();
    let v = held.recv_timeout(WAKE).expect("the driver delivers");
    assert!(v >= before + 2 * MS && v <= after + 2 * MS);

    // `c()` on another thread, after the deadline, fires it into the channel the clone shares: a
    // non-blocking receive on the clone then sees it, whatever the driver did meanwhile.
    for i in 0..100 {
        let t = Timer::new(MS);
        let held = t.c().clone();
        std::thread::sleep(2 * MS);
        std::thread::scope(|s| {
            s.spawn(|| {
                let _ = t.c();
            });
        });
        assert!(held.try_recv().is_ok(), "try {i}: the clone missed it");
    }
}

/// On a fake clock there is no driver to wait for: `advance` fires everything due before it
/// returns, so a held receiver (or a clone) sees exactly what is due, without calling `c()` again.
#[test]
fn on_a_fake_clock_a_held_receiver_sees_what_advance_fired() {
    let fake = FakeClock::new();
    let t = fake.clock().timer(MS);
    let held = t.c();
    let clone = held.clone();
    fake.advance(MS - Duration::from_nanos(1));
    assert!(clone.try_recv().is_err());
    fake.advance(Duration::from_nanos(1));
    assert_eq!(clone.try_recv(), Ok(fake.now()));
    let tk = fake.clock().ticker(MS);
    let ticks = tk.c().clone();
    fake.advance(10 * MS);
    assert_eq!(ticks.try_recv(), Ok(fake.now() - 9 * MS), "the first tick");
    assert!(ticks.try_recv().is_err(), "at most one waits");
}

//! What a fake clock keeps, measured with a counting allocator: a dropped `Timer` or `Ticker` is
//! freed at once, as on the system clock; a dropped fake `after` receiver keeps its timer (entry and
//! channel) until the clock reaches its deadline, and nothing after that; an `after` that delivered
//! to a receiver keeps its channel (a sender of it) until the clock is dropped.

mod common;

use common::counting::{live, Counting};
use gotimer::FakeClock;
use std::time::Duration;

#[global_allocator]
static ALLOC: Counting = Counting;

const N: usize = 10_000;
const HOUR: Duration = Duration::from_secs(3600);

/// Each timer kind is made at one call site (a site's record is allocated on its first timer), so
/// the warm-up below leaves nothing for the measured part to allocate but the timers.
fn timers(clock: &gotimer::Clock) -> Vec<gotimer::Timer> {
    (0..N).map(|_| clock.timer(HOUR)).collect()
}
fn tickers(clock: &gotimer::Clock) -> Vec<gotimer::Ticker> {
    (0..N).map(|_| clock.ticker(HOUR)).collect()
}
fn afters(clock: &gotimer::Clock) -> Vec<gotimer::Receiver<std::time::Instant>> {
    (0..N).map(|_| clock.after(HOUR)).collect()
}

#[test]
fn fake_clock_memory_is_freed_when_nothing_can_receive() {
    let fake = FakeClock::new();
    let clock = fake.clock();
    // Warm up: the wheel's slab pages, the site table, thread-locals, the advance's buffers.
    for _ in 0..2 {
        drop((timers(&clock), tickers(&clock)));
        drop(afters(&clock));
        fake.advance(HOUR);
    }
    let base = live();

    let (timers, tickers) = (timers(&clock), tickers(&clock));
    assert_eq!(fake.waiters(), 2 * N);
    drop((timers, tickers));
    assert_eq!(fake.waiters(), 0);
    let after_drop = live() - base;
    assert!(after_drop <= 0, "dropped timers kept {after_drop} B");

    drop(afters(&clock));
    let kept = live() - base;
    let each = kept as f64 / N as f64;
    assert_eq!(fake.waiters(), N, "each is still a pending timer");
    assert!(
        (600.0..1000.0).contains(&each),
        "a dropped fake `after` keeps its entry and channel: {each} B"
    );
    fake.advance(HOUR - Duration::from_nanos(1));
    assert_eq!(fake.waiters(), N, "kept until the deadline");
    fake.advance(Duration::from_nanos(1));
    assert_eq!(fake.waiters(), 0);
    let left = live() - base;
    // Printed only now: the test harness's output capture allocates.
    println!("after dropping {N} Timers and {N} Tickers: {after_drop:+} B");
    println!(
        "{N} dropped fake `after` receivers keep {kept} B ({each:.0} B each) until their deadline"
    );
    println!("after their deadline: {left:+} B");
    assert!(left <= 0, "fired fake `after` timers kept {left} B");

    // Delivered to a receiver: the clock keeps the channel, so that the receiver finds it empty,
    // not disconnected, after taking the value. Kept after the receiver goes, until the clock does.
    let received = afters(&clock);
    fake.advance(HOUR);
    assert!(received.iter().all(|rx| rx.try_recv().is_ok()));
    drop(received);
    let kept = live() - base;
    let each = kept as f64 / N as f64;
    println!("{N} fake `after` channels that delivered keep {kept} B ({each:.0} B each)");
    assert!(
        (600.0..800.0).contains(&each),
        "a delivered fake `after` keeps its channel: {each} B"
    );
    drop((fake, clock));
    let left = live() - base;
    println!("after the clock is dropped: {left:+} B");
    assert!(left <= 0, "a dropped fake clock kept {left} B");
}

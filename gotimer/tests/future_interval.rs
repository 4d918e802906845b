//! `future::interval` (issue 19): Go's ticker for a task: first tick one period after creation,
//! phase-aligned, missed ticks dropped with the first missed instant delivered, `reset` from now,
//! a cancel-safe `tick()`, a `Stream`, and nothing pending once dropped.

mod common;

use common::wakers::counter;
use futures::StreamExt;
use gotimer::future::{interval, Interval};
use gotimer::FakeClock;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::Ordering::SeqCst;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

const SEC: Duration = Duration::from_secs(1);

fn poll_tick(i: &mut Interval) -> Poll<Instant> {
    i.poll_tick(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn the_first_tick_is_one_period_after_creation() {
    let fake = FakeClock::new();
    let t0 = fake.now();
    let mut i = fake.clock().interval(SEC);
    assert!(poll_tick(&mut i).is_pending(), "not at once");
    fake.advance(SEC);
    assert_eq!(poll_tick(&mut i), Poll::Ready(t0 + SEC));
}

#[test]
fn ticks_are_aligned_and_a_late_tick_is_the_first_missed_with_no_burst() {
    let fake = FakeClock::new();
    let t0 = fake.now();
    let mut i = fake.clock().interval(SEC);
    fake.advance(Duration::from_millis(4500));
    assert_eq!(
        poll_tick(&mut i),
        Poll::Ready(t0 + SEC),
        "the first missed tick"
    );
    assert!(
        poll_tick(&mut i).is_pending(),
        "the others were dropped, not burst"
    );
    fake.advance(Duration::from_millis(500));
    assert_eq!(
        poll_tick(&mut i),
        Poll::Ready(t0 + 5 * SEC),
        "still aligned to t0"
    );
}

#[test]
fn reset_restarts_the_period_from_now() {
    let fake = FakeClock::new();
    let mut i = fake.clock().interval(SEC);
    fake.advance(Duration::from_millis(1500)); // a tick waits
    i.reset(2 * SEC);
    let from = fake.now();
    assert!(poll_tick(&mut i).is_pending(), "the old tick is gone");
    fake.advance(2 * SEC);
    assert_eq!(poll_tick(&mut i), Poll::Ready(from + 2 * SEC));
    assert_eq!(i.period(), 2 * SEC);
}

#[test]
fn tick_is_cancel_safe() {
    let fake = FakeClock::new();
    let mut i = fake.clock().interval(SEC);
    {
        let tick = pin!(i.tick());
        assert!(tick
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_pending());
    } // dropped, as by a select! whose other branch won
    fake.advance(SEC);
    assert_eq!(pollster::block_on(i.tick()), fake.now());
}

#[test]
fn it_is_a_stream_on_real_executors() {
    let start = Instant::now();
    let ticks: Vec<Instant> = futures::executor::block_on(
        interval(Duration::from_millis(1))
            .take(3)
            .collect::<Vec<_>>(),
    );
    assert!(ticks[0] >= start + Duration::from_millis(1));
    assert!(ticks.windows(2).all(|w| w[1] > w[0]));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let mut i = interval(Duration::from_millis(1));
        for _ in 0..3 {
            i.tick().await;
        }
    });
    smol::block_on(async {
        let mut i = interval(Duration::from_millis(1));
        i.next().await.unwrap();
    });
}

#[test]
fn a_dropped_interval_leaves_nothing_pending() {
    let fake = FakeClock::new();
    let mut i = fake.clock().interval(SEC);
    assert!(poll_tick(&mut i).is_pending());
    assert_eq!(fake.waiters(), 1);
    drop(i);
    assert_eq!(fake.waiters(), 0);
    // Never polled, on the system clock: parked, and freed with it.
    drop(interval(SEC));
}

#[test]
fn stop_then_reset() {
    let fake = FakeClock::new();
    let mut i = fake.clock().interval(SEC);
    i.stop();
    fake.advance(3 * SEC);
    assert!(poll_tick(&mut i).is_pending());
    i.reset(SEC);
    fake.advance(SEC);
    assert_eq!(poll_tick(&mut i), Poll::Ready(fake.now()));
}

#[test]
#[should_panic(expected = "non-positive interval for future::interval")]
fn a_zero_period_panics_as_gos() {
    let _ = interval(Duration::ZERO);
}

#[test]
#[should_panic(expected = "non-positive interval for Interval::reset")]
fn a_reset_to_a_zero_period_panics_naming_the_interval() {
    let mut i = interval(SEC);
    i.reset(Duration::ZERO);
}

#[test]
fn interval_is_unpin_send_and_static() {
    fn check<T: Unpin + Send + 'static>() {}
    check::<Interval>();
}

#[test]
fn the_latest_polls_waker_is_woken_and_a_task_not_waiting_is_not() {
    let fake = FakeClock::new();
    let mut i = fake.clock().interval(SEC);
    let ((a, wa), (b, wb)) = (counter(), counter());
    let mut poll_with = |w: &Waker| i.poll_tick(&mut Context::from_waker(w));
    assert!(poll_with(&wa).is_pending());
    assert!(poll_with(&wb).is_pending(), "the task moved: its new waker");
    fake.advance(SEC);
    assert_eq!((a.0.load(SeqCst), b.0.load(SeqCst)), (0, 1));
    assert!(poll_with(&wb).is_ready());
    // Busy with the tick: the next one waits for the task's next poll, and wakes nobody.
    fake.advance(SEC);
    assert_eq!(b.0.load(SeqCst), 1, "a task not waiting is not woken");
    assert!(poll_with(&wb).is_ready(), "the tick waited");
    // Waiting again, with the waker it kept, and then with the other.
    assert!(poll_with(&wb).is_pending());
    fake.advance(SEC);
    assert_eq!(b.0.load(SeqCst), 2);
    assert!(poll_with(&wb).is_ready());
    assert!(poll_with(&wa).is_pending());
    fake.advance(SEC);
    assert_eq!((a.0.load(SeqCst), b.0.load(SeqCst)), (1, 2));
}

/// The same semantics on the system clock, where a tick's poll after the first reaches the
/// ticker's slot without its entry, and looks for a due tick to fire only once one may be due
/// (the last tick plus the period): ticks stay aligned, a late consumer gets the first tick it
/// missed and then the next aligned one, and a reset starts again from now.
#[test]
fn on_the_system_clock_ticks_are_aligned_with_no_burst_and_reset_starts_again() {
    const P: Duration = Duration::from_millis(20);
    let t0 = Instant::now();
    let mut i = interval(P);
    let first = pollster::block_on(i.tick());
    assert!(
        first >= t0 + P && first <= Instant::now(),
        "one period out, and due"
    );
    let second = pollster::block_on(i.tick());
    assert_eq!(second, first + P, "aligned");
    // Late by more than two periods: the first missed tick, then the next aligned one.
    std::thread::sleep(P * 2 + P / 2);
    let missed = pollster::block_on(i.tick());
    assert_eq!(missed, second + P, "the first tick missed");
    let next = pollster::block_on(i.tick());
    assert!(
        next > missed + P,
        "the ticks between were dropped, not burst"
    );
    assert_eq!((next - first).as_nanos() % P.as_nanos(), 0, "still aligned");
    // A reset restarts the period from now, with another period.
    let at = Instant::now();
    i.reset(P / 2);
    let after = pollster::block_on(i.tick());
    assert!(after >= at + P / 2, "a period from the reset");
    assert_eq!(pollster::block_on(i.tick()), after + P / 2);
    // Polled while its tick is not due, it waits, and its waker is woken by the fire.
    let (woken, waker) = counter();
    assert!(i.poll_tick(&mut Context::from_waker(&waker)).is_pending());
    while woken.0.load(SeqCst) == 0 {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(i.poll_tick(&mut Context::from_waker(&waker)).is_ready());
}

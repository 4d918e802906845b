//! tokio's `tokio/tests/time_interval.rs`, ported to `gotimer::future::Interval`: each test keeps
//! the intent of its upstream one, in its own code, under a link to it (tokio at commit ea91b33c).
//!
//! tokio's paused time is a `FakeClock` here, advanced by the test between polls of an interval it
//! polls by hand (`ports::Task`, tokio-test's `task::spawn`). An `Interval` is Go's ticker, not
//! tokio's, and each test checks Go's semantics where they differ, saying what tokio expects:
//! - the first tick is one period after the interval is made, where tokio's comes at once (its
//!   `interval_at(start, p)` ticks at `start`); the ports make the interval at `start`, so the tick
//!   tokio has at `start` is not there, and every later one falls at the same instant as tokio's;
//! - ticks stay aligned to `start + k·period`, and a consumer that falls behind gets the first tick
//!   it missed and then the next one due: Go drops the others. tokio's default
//!   (`MissedTickBehavior::Burst`) delivers every missed tick at once, and its `Delay` shifts the
//!   schedule to the late poll; Go has neither, so the ports of `burst` and `delay` check that the
//!   ticks tokio bursts or shifts are dropped or stay aligned. tokio's `Skip` is Go's behaviour;
//! - Go's `Reset(d)` makes `d` the period and the next tick `d` from now. tokio's `reset_after(d)`
//!   and `reset_at(t)` change only the next tick, keeping the period: Go code resets twice, to `d`
//!   and, at that tick, back to the period, which the ports do. tokio's `reset_immediately` ticks at
//!   once; Go has no such reset, and no reset ever ticks at once, even with a tick waiting;
//! - a fake clock keeps nanoseconds, so a tick comes at its instant exactly: the millisecond tokio
//!   advances first, to get past its timer's granularity, and the one it adds to every tick after a
//!   reset, are not here;
//! - a period of `Duration::MAX` never ticks (tokio's first tick comes at once).
//!
//! Every wait a tick ends is checked to have woken the task that polled pending.
//!
//! Not ported, as they test tokio alone: nothing (every upstream test has a port below).

mod ports;

use futures::{Stream, StreamExt};
use gotimer::future::Interval;
use gotimer::FakeClock;
use ports::{run_paused, Task};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// The period of most of the tests, as upstream.
const P: Duration = Duration::from_millis(300);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn poll_next(i: &mut Task<Interval>) -> Poll<Instant> {
    i.enter(|cx, mut i| i.poll_tick(cx))
}

/// tokio's `check_interval_poll!`: polls `i` once for each of `ticks` (milliseconds from `start`),
/// each ready with it, then once more, pending. A tick that ended a wait must have woken the task
/// that polled pending before.
fn check(i: &mut Task<Interval>, start: Instant, ticks: &[u64]) {
    if !ticks.is_empty() {
        assert!(i.is_woken(), "the tick did not wake the waiting task");
    }
    for &t in ticks {
        assert_eq!(poll_next(i), Poll::Ready(start + ms(t)));
    }
    assert!(poll_next(i).is_pending());
}

/// Runs upstream's schedule on an interval of period `P` made at `start`: each step advances the
/// clock by its milliseconds, then checks the ticks waiting (milliseconds from `start`).
fn schedule(steps: &[(u64, &[u64])]) {
    let fake = FakeClock::new();
    let start = fake.now();
    let mut i = Task::new(fake.clock().interval(P));
    for &(advance, ticks) in steps {
        fake.advance(ms(advance));
        check(&mut i, start, ticks);
    }
}

/// An interval of period `P` made at the fake clock's `start`, polled through upstream's first
/// steps in every reset test: nothing at `start` (tokio: a tick), then the tick at 300 ms, then
/// nothing at 400 ms.
fn at_400ms() -> (FakeClock, Instant, Task<Interval>) {
    let fake = FakeClock::new();
    let start = fake.now();
    let mut i = Task::new(fake.clock().interval(P));
    for (advance, ticks) in [(0, &[][..]), (100, &[]), (200, &[300]), (100, &[])] {
        fake.advance(ms(advance));
        check(&mut i, start, ticks);
    }
    (fake, start, i)
}

/// tokio's `reset_after(first)` in Go, at 400 ms on `at_400ms`'s interval: the next tick `first`
/// from now with the period kept is a `reset(first)` and, at that tick, a `reset(P)`. Checks that
/// nothing ticks, `P` by `P`, until `first` has passed, that the tick comes then, and the next one
/// `P` later (nothing 100 ms in), as upstream's tests of the resets check.
fn reset_once(first: Duration) {
    let (fake, start, mut i) = at_400ms();
    let from = fake.now();
    i.get_mut().reset(first);
    while fake.now() + P < from + first {
        fake.advance(P);
        check(&mut i, start, &[]);
    }
    fake.advance(from + first - fake.now());
    assert!(i.is_woken());
    assert_eq!(poll_next(&mut i), Poll::Ready(from + first));
    i.get_mut().reset(P);
    assert_eq!(i.get_mut().period(), P);
    assert!(poll_next(&mut i).is_pending());
    fake.advance(ms(100));
    check(&mut i, start, &[]);
    fake.advance(P - ms(100));
    assert!(i.is_woken());
    assert_eq!(poll_next(&mut i), Poll::Ready(from + first + P));
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_interval.rs#L29
// (interval_zero_duration): a zero period panics, as Go's `NewTicker` does.
#[test]
#[should_panic(expected = "non-positive interval for future::interval")]
fn interval_zero_duration() {
    let _ = FakeClock::new().clock().interval(Duration::ZERO);
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_interval.rs#L43
// (burst): tokio's default bursts the missed ticks: at 950 ms it yields 600 and 900 at once. Go
// drops 900: the consumer gets 600, the first it missed, and the next is 1200, aligned. tokio also
// ticks at 0.
#[test]
fn burst() {
    schedule(&[
        (0, &[]),
        (100, &[]),
        (200, &[300]),
        (650, &[600]), // tokio: 600, 900
        (200, &[]),
        (100, &[1200]),
        (250, &[1500]),
        (300, &[1800]),
    ]);
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_interval.rs#L87
// (delay): tokio's `Delay` restarts the schedule from the late poll at 950 ms (ticks at 1251, 1551,
// 1851 with its extra millisecond). Go keeps it aligned to the start: 1200, 1500, 1800, each
// polled late here at the instants upstream polls.
#[test]
fn delay() {
    schedule(&[
        (0, &[]),
        (100, &[]),
        (200, &[300]),
        (650, &[600]),
        (100, &[]),
        (201, &[1200]), // tokio: 1251
        (300, &[1500]), // tokio: 1551
        (300, &[1800]), // tokio: 1851
    ]);
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_interval.rs#L139
// (skip): tokio's `Skip` is Go's behaviour, so the schedule is upstream's but for tokio's tick at
// 0: 600, the first missed, at 950 ms, with 900 dropped, and 1200 next.
#[test]
fn skip() {
    schedule(&[
        (0, &[]),
        (100, &[]),
        (200, &[300]),
        (650, &[600]),
        (250, &[1200]),
        (300, &[1500]),
        (300, &[1800]),
    ]);
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_interval.rs#L172
// (reset): a reset at 400 ms restarts the ticks from then: 700, 1000 (tokio: 701, 1001). The task
// waiting across the reset is woken by the first tick after it.
#[test]
fn reset() {
    let (fake, start, mut i) = at_400ms();
    i.get_mut().reset(P);
    fake.advance(ms(250));
    check(&mut i, start, &[]);
    fake.advance(ms(50));
    check(&mut i, start, &[700]);
    fake.advance(ms(300));
    check(&mut i, start, &[1000]);
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_interval.rs#L208
// (reset_immediately): tokio's ticks at once, at 401 ms, then 701. Go has no reset that ticks at
// once: a reset's first tick is a period away, and a tick waiting when it is called is dropped
// (Go 1.23's guarantee that no tick from before a reset is received after it). So the tick at 600
// is left waiting, and the reset then drops it: the next is 900.
#[test]
fn reset_immediately() {
    let (fake, start, mut i) = at_400ms();
    fake.advance(ms(200));
    assert!(i.is_woken(), "the tick at 600 waits");
    i.get_mut().reset(P);
    check(&mut i, start, &[]); // tokio: 401 (at once)
    fake.advance(ms(100));
    check(&mut i, start, &[]);
    fake.advance(ms(200));
    check(&mut i, start, &[900]);
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_interval.rs#L243
// (reset_after): tokio's `reset_after(20 ms)` at 400 ms ticks at 421, then 721; Go's two resets
// tick at 420, then 720.
#[test]
fn reset_after() {
    reset_once(ms(20));
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_interval.rs#L279
// (reset_at): tokio's `reset_at(now + 40 ms)` at 400 ms ticks at 441, then 741. Go resets by a
// duration, the distance to that instant: the two resets tick at 440, then 740.
#[test]
fn reset_at() {
    reset_once(ms(40));
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_interval.rs#L315
// (reset_at_bigger_than_interval): a first tick a second away, more than the period: nothing at
// 700, 1000 or 1300 ms, the tick at 1400, then 1700 (tokio: 1401, 1701).
#[test]
fn reset_at_bigger_than_interval() {
    reset_once(ms(1000));
}

/// Upstream's `IntervalStreamer`: counts the interval's ticks, yielding the count at each fourth,
/// and ends after the twelfth. Between, it returns `Pending` having taken a tick, which leaves no
/// waker with the interval: unless it wakes itself (`wake_on_pending`), it stalls. That is what
/// upstream checks: `poll_tick` registers the waker only when it returns `Pending`.
struct IntervalStreamer {
    counter: u32,
    timer: Interval,
    wake_on_pending: bool,
}

impl Stream for IntervalStreamer {
    type Item = u32;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<u32>> {
        let this = self.get_mut();
        if this.counter > 12 {
            return Poll::Ready(None);
        }
        match this.timer.poll_tick(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(_) => {
                this.counter += 1;
                if this.counter.is_multiple_of(4) {
                    return Poll::Ready(Some(this.counter));
                }
                if this.wake_on_pending {
                    cx.waker().wake_by_ref();
                }
                Poll::Pending
            }
        }
    }
}

/// Drains an `IntervalStreamer` of 10 ms ticks within 150 ms of paused time: the items it yielded,
/// and whether it ended before the deadline.
fn stream_items(wake_on_pending: bool) -> (Vec<u32>, bool) {
    let fake = FakeClock::new();
    let mut stream = IntervalStreamer {
        counter: 0,
        timer: fake.clock().interval(ms(10)),
        wake_on_pending,
    };
    let mut items = Vec::new();
    let ended = run_paused(
        &fake,
        fake.clock().timeout(ms(150), async {
            while let Some(item) = stream.next().await {
                items.push(item);
            }
        }),
    );
    (items, ended.is_ok())
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_interval.rs#L408
// (stream_with_interval_poll_tick_self_waking): woken by itself, the stream takes its twelve ticks
// (at 10 to 120 ms: Go's first is a period in, tokio's at 0) inside the 150 ms.
#[test]
fn stream_with_interval_poll_tick_self_waking() {
    assert_eq!(stream_items(true), (vec![4, 8, 12], true));
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_interval.rs#L440
// (stream_with_interval_poll_tick_no_waking): not woken by itself, the stream stalls after its
// first tick (the ticks after it wake nobody) until the 150 ms deadline.
#[test]
fn stream_with_interval_poll_tick_no_waking() {
    assert_eq!(stream_items(false), (vec![], false));
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_interval.rs#L474
// (interval_doesnt_panic_max_duration_when_polling): polling an interval of `Duration::MAX` does
// not panic. tokio's first tick is ready at once; Go's is a period away, which never comes: the
// poll is pending, the clock counts no waiter, and a century later nothing has ticked.
#[test]
fn interval_doesnt_panic_max_duration_when_polling() {
    let fake = FakeClock::new();
    let mut i = Task::new(fake.clock().interval(Duration::MAX));
    assert!(poll_next(&mut i).is_pending());
    assert_eq!(fake.waiters(), 0);
    fake.advance(Duration::from_secs(100 * 365 * 24 * 3600));
    assert!(!i.is_woken());
    assert!(poll_next(&mut i).is_pending());
}

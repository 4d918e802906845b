//! tokio's `tokio/tests/time_sleep.rs`, ported to `gotimer::future::Sleep`: each test keeps the
//! intent of its upstream one, in its own code, under a link to it (tokio at commit ea91b33c).
//!
//! tokio's paused time (`time::pause`, `start_paused`) is a `FakeClock` here, moved by the test:
//! by hand, or to each next deadline by `ports::run_paused`, as tokio's auto-advance does. Where
//! gotimer's semantics differ from tokio's, the test checks gotimer's (Go's), and says so:
//! - a fake clock keeps nanoseconds, where tokio rounds deadlines up to its millisecond ticks, so
//!   a sleep fires at its deadline exactly, and the clock reads that deadline;
//! - `Sleep` completes with its deadline, and `reset` returns Go's result (true if it had not yet
//!   returned `Ready`);
//! - a sleep needs no runtime context, so making one outside any runtime works (tokio panics);
//! - `Duration::MAX`, and any deadline 73 years and more away, never completes (tokio's completes
//!   at its far-future instant once paused time gets there).
//!
//! Not ported, as they test tokio alone: nothing (every upstream test has a port below).

mod ports;

use futures::future::Either;
use gotimer::future::{sleep, sleep_until, Sleep};
use gotimer::FakeClock;
use ports::{run_paused, Task};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

const NS: Duration = Duration::from_nanos(1);
const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
/// How long a real-time test waits for what must happen: a correct run never sits it out.
const PATIENCE: Duration = Duration::from_secs(30);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn poll_noop(s: &mut Sleep) -> Poll<Instant> {
    Pin::new(s).poll(&mut Context::from_waker(Waker::noop()))
}

/// Polls `sleep` pending, moves `fake` to one nanosecond before `deadline`, still pending, then to
/// `deadline`: woken, and ready with `deadline`.
fn fires_exactly_at(fake: &FakeClock, sleep: Sleep, deadline: Instant) {
    let mut task = Task::new(sleep);
    assert!(task.poll().is_pending());
    fake.advance(deadline - NS - fake.now());
    assert!(!task.is_woken(), "woken a nanosecond early");
    assert!(task.poll().is_pending());
    fake.advance(NS);
    assert!(task.is_woken());
    assert_eq!(task.poll(), Poll::Ready(deadline));
    assert_eq!(fake.now(), deadline);
}

/// Sleeps until `deadline` on `fake`, in paused time: completes with `deadline`, and the clock
/// reads it then.
fn sleeps_until(fake: &FakeClock, deadline: Instant) {
    let at = run_paused(fake, fake.clock().sleep_until_async(deadline));
    assert_eq!(at, deadline);
    assert_eq!(fake.now(), deadline);
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_sleep.rs#L14
// (immediate_sleep): a sleep until now completes at its first poll, with no time passing, and is
// elapsed after. gotimer differs from tokio before that poll: tokio registers a sleep at its first
// poll, so one due already is not elapsed until then; gotimer files a sleep when it is made (a
// timeout's is the one parked until its first poll), so one due then has fired already, and is
// elapsed at once, on either clock.
#[test]
fn immediate_sleep() {
    let fake = FakeClock::new();
    let now = fake.now();
    let mut s = fake.clock().sleep_until_async(now);
    assert_eq!(poll_noop(&mut s), Poll::Ready(now));
    assert_eq!(fake.now(), now, "no time passed");
    assert!(s.is_elapsed());
    // A deadline from before the system clock started completes with the clock's start: start it.
    let _ = gotimer::Clock::system().now();
    let now = Instant::now();
    let mut s = sleep_until(now);
    assert!(s.is_elapsed(), "fired as it was made");
    assert_eq!(poll_noop(&mut s), Poll::Ready(now));
    assert!(s.is_elapsed());
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_sleep.rs#L29
// (is_elapsed)
#[test]
fn is_elapsed() {
    let fake = FakeClock::new();
    let mut s = fake.clock().sleep_async(ms(10));
    assert!(!s.is_elapsed());
    assert!(poll_noop(&mut s).is_pending());
    assert!(!s.is_elapsed());
    run_paused(&fake, &mut s);
    assert!(s.is_elapsed());
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_sleep.rs#L48
// (delayed_sleep_level_0). tokio checks the time taken is at least the delay and under a
// millisecond more; a fake clock fires it at the delay exactly.
#[test]
fn delayed_sleep_level_0() {
    let fake = FakeClock::new();
    for i in [1, 10, 60] {
        let deadline = fake.now() + ms(i);
        fires_exactly_at(&fake, fake.clock().sleep_until_async(deadline), deadline);
    }
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_sleep.rs#L62
// (sub_ms_delayed_sleep). tokio rounds a deadline 1 ms + 1 ns away up to its next millisecond
// tick; gotimer keeps the nanosecond.
#[test]
fn sub_ms_delayed_sleep() {
    let fake = FakeClock::new();
    for _ in 0..5 {
        let deadline = fake.now() + ms(1) + NS;
        fires_exactly_at(&fake, fake.clock().sleep_until_async(deadline), deadline);
    }
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_sleep.rs#L76
// (delayed_sleep_wrapping_level_0): a sleep made once the wheel has turned, reaching past the
// first level's end.
#[test]
fn delayed_sleep_wrapping_level_0() {
    let fake = FakeClock::new();
    run_paused(&fake, fake.clock().sleep_async(ms(5)));
    let deadline = fake.now() + ms(60);
    fires_exactly_at(&fake, fake.clock().sleep_until_async(deadline), deadline);
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_sleep.rs#L88
// (reset_future_sleep_before_fire)
#[test]
fn reset_future_sleep_before_fire() {
    let fake = FakeClock::new();
    let now = fake.now();
    let mut s = fake.clock().sleep_until_async(now + ms(100));
    assert!(poll_noop(&mut s).is_pending());
    assert!(
        s.reset_at(now + ms(200)),
        "pending: Go's Reset returns true"
    );
    fires_exactly_at(&fake, s, now + ms(200));
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_sleep.rs#L105
// (reset_past_sleep_before_turn): reset to an earlier deadline before time moves.
#[test]
fn reset_past_sleep_before_turn() {
    let fake = FakeClock::new();
    let now = fake.now();
    let mut s = fake.clock().sleep_until_async(now + ms(100));
    assert!(poll_noop(&mut s).is_pending());
    assert!(s.reset_at(now + ms(80)));
    fires_exactly_at(&fake, s, now + ms(80));
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_sleep.rs#L122
// (reset_past_sleep_before_fire): reset to an earlier deadline after time moved.
#[test]
fn reset_past_sleep_before_fire() {
    let fake = FakeClock::new();
    let now = fake.now();
    let mut s = fake.clock().sleep_until_async(now + ms(100));
    assert!(poll_noop(&mut s).is_pending());
    run_paused(&fake, fake.clock().sleep_async(ms(10)));
    assert!(s.reset_at(now + ms(80)));
    fires_exactly_at(&fake, s, now + ms(80));
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_sleep.rs#L141
// (reset_future_sleep_after_fire)
#[test]
fn reset_future_sleep_after_fire() {
    let fake = FakeClock::new();
    let now = fake.now();
    let mut s = fake.clock().sleep_until_async(now + ms(100));
    assert_eq!(run_paused(&fake, &mut s), now + ms(100));
    assert_eq!(fake.now(), now + ms(100));
    assert!(
        !s.reset_at(now + ms(110)),
        "returned Ready: Go's Reset returns false"
    );
    fires_exactly_at(&fake, s, now + ms(110));
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_sleep.rs#L156
// (reset_sleep_to_past). tokio leaves open (a TODO) whether such a reset wakes the task; gotimer
// documents that the task that polled last is woken at the new deadline with no new poll, so a
// deadline already past wakes it by the time the reset returns.
#[test]
fn reset_sleep_to_past() {
    let fake = FakeClock::new();
    let now = fake.now();
    let mut task = Task::new(fake.clock().sleep_until_async(now + ms(100)));
    assert!(task.poll().is_pending());
    run_paused(&fake, fake.clock().sleep_async(ms(50)));
    assert!(!task.is_woken());
    assert!(task.get_mut().reset_at(now + ms(40)));
    assert!(task.is_woken(), "a deadline in the past wakes the task");
    assert_eq!(task.poll(), Poll::Ready(now + ms(40)));
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_sleep.rs#L179
// (creating_sleep_outside_of_context). Inverted: tokio panics when a sleep is made outside a
// runtime with a time driver; gotimer needs none, so one made on a bare thread and polled by a
// hand-written loop completes.
#[test]
fn creating_sleep_outside_of_context() {
    let start = Instant::now();
    let s = std::thread::spawn(|| sleep(ms(5))).join().unwrap();
    let deadline = s.deadline();
    assert_eq!(pollster::block_on(s), deadline);
    assert!(Instant::now() >= deadline && deadline >= start + ms(5));
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_sleep.rs#L188
// (greater_than_max): 5 years, past the wheel's top level, still completes.
#[test]
fn greater_than_max() {
    let fake = FakeClock::new();
    let deadline = fake.now() + ms(5 * 365 * 24 * 60 * 60 * 1000);
    sleeps_until(&fake, deadline);
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_sleep.rs#L196
// (short_sleeps): a thousand zero sleeps in a row, on the system clock, each ready at its first
// poll.
#[test]
fn short_sleeps() {
    futures::executor::block_on(async {
        for _ in 0..1000 {
            sleep(Duration::ZERO).await;
        }
    });
    for _ in 0..1000 {
        assert!(poll_noop(&mut sleep(Duration::ZERO)).is_ready());
    }
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_sleep.rs#L203
// (multi_long_sleeps)
#[test]
fn multi_long_sleeps() {
    let fake = FakeClock::new();
    let clock = fake.clock();
    for _ in 0..5 {
        run_paused(&fake, clock.sleep_async(YEAR));
    }
    sleeps_until(&fake, fake.now() + 10 * YEAR);
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_sleep.rs#L226
// (long_sleeps). tokio allows a millisecond late; a fake clock is exact.
#[test]
fn long_sleeps() {
    let fake = FakeClock::new();
    let deadline = fake.now() + 10 * YEAR;
    sleeps_until(&fake, deadline);
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_sleep.rs#L242
// (reset_after_firing): on the system clock, a sleep that completed and is reset far ahead is
// pending again, with a new deadline.
#[test]
fn reset_after_firing() {
    let mut s = sleep(ms(1));
    let deadline = s.deadline();
    assert_eq!(pollster::block_on(&mut s), deadline);
    assert_eq!(poll_noop(&mut s), Poll::Ready(deadline), "ready again");
    assert!(!s.reset_at(Instant::now() + Duration::from_secs(600)));
    assert_ne!(deadline, s.deadline());
    assert!(poll_noop(&mut s).is_pending());
    assert!(poll_noop(&mut s).is_pending());
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_sleep.rs#L267
// (exactly_max). tokio's completes at its far-future instant; gotimer's never completes, as
// documented: it is no deadline for the clock to move to, and polling it neither panics nor
// overflows.
#[test]
fn exactly_max() {
    let fake = FakeClock::new();
    let mut task = Task::new(fake.clock().sleep_async(Duration::MAX));
    assert!(task.poll().is_pending());
    assert_eq!(fake.advance_to_next(), None, "no deadline to move to");
    fake.advance(10 * YEAR);
    assert!(!task.is_woken());
    assert!(task.poll().is_pending());
    // On the system clock too.
    assert!(poll_noop(&mut sleep(Duration::MAX)).is_pending());
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_sleep.rs#L273
// (issue_5183): a sleep of u64::MAX / 10 seconds (an overflowing deadline) raced with a 1 ns one:
// the short one wins, and nothing panics.
#[test]
fn issue_5183() {
    let big = Duration::from_secs(u64::MAX / 10);
    let fake = FakeClock::new();
    let clock = fake.clock();
    let (mut long, mut short) = (clock.sleep_async(big), clock.sleep_async(NS));
    let first = run_paused(
        &fake,
        poll_fn(|cx| {
            if Pin::new(&mut long).poll(cx).is_ready() {
                return Poll::Ready("long");
            }
            Pin::new(&mut short).poll(cx).map(|_| "short")
        }),
    );
    assert_eq!(first, "short");
    // On the system clock, with an executor's select.
    let raced = futures::executor::block_on(futures::future::select(sleep(big), sleep(NS)));
    assert!(matches!(raced, Either::Right(_)), "the long sleep won");
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_sleep.rs#L287
// (no_out_of_bounds_close_to_max). As `exactly_max`: it never completes, and nothing panics.
#[test]
fn no_out_of_bounds_close_to_max() {
    let fake = FakeClock::new();
    let mut s = fake.clock().sleep_async(Duration::MAX - ms(1));
    assert!(poll_noop(&mut s).is_pending());
    assert_eq!(fake.advance_to_next(), None);
    assert!(poll_noop(&mut sleep(Duration::MAX - ms(1))).is_pending());
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_sleep.rs#L297
// (drop_after_reschedule_at_new_scheduled_time): a sleep moved to the slot of another, then
// dropped once time reached its old slot, leaves the wheel whole.
#[test]
fn drop_after_reschedule_at_new_scheduled_time() {
    let fake = FakeClock::new();
    let clock = fake.clock();
    let start = fake.now();
    let mut a = clock.sleep_async(ms(5));
    let mut b = clock.sleep_async(ms(5));
    let mut c = clock.sleep_async(ms(10));
    for s in [&mut a, &mut b, &mut c] {
        assert!(poll_noop(s).is_pending());
    }
    assert!(b.reset_at(start + ms(10)));
    assert_eq!(run_paused(&fake, a), start + ms(5));
    drop(b);
    assert_eq!(fake.waiters(), 1, "c alone is pending");
    assert_eq!(run_paused(&fake, c), start + ms(10));
    assert_eq!(fake.waiters(), 0);
}

/// Sleeps that a waker drops, all of them, when it is woken.
type Shelf = Arc<Mutex<Vec<Sleep>>>;

/// The waker of `drop_from_wake`: it drops every sleep on the shelf, its own included, and
/// records whether that panicked.
struct DropAll {
    shelf: Shelf,
    panicked: AtomicBool,
}

impl Wake for DropAll {
    fn wake(self: Arc<Self>) {
        let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut sleeps = self.shelf.lock().expect("shelf lock");
            sleeps.clear();
        }));
        if dropped.is_err() {
            self.panicked.store(true, SeqCst);
        }
    }
}

/// 100 sleeps of 10 ms made on `make`, polled with a `DropAll` waker and shelved: returns the shelf
/// and the waker.
fn shelve(make: impl Fn() -> Sleep) -> (Shelf, Arc<DropAll>) {
    let shelf: Shelf = Arc::default();
    let drop_all = Arc::new(DropAll {
        shelf: shelf.clone(),
        panicked: AtomicBool::new(false),
    });
    let waker = Waker::from(drop_all.clone());
    let mut sleeps = shelf.lock().unwrap();
    for _ in 0..100 {
        let mut s = make();
        assert!(Pin::new(&mut s)
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        sleeps.push(s);
    }
    drop(sleeps);
    (shelf, drop_all)
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_sleep.rs#L319
// (drop_from_wake): a waker that drops the sleeps that are firing, while they fire, neither
// panics nor deadlocks: on a fake clock (the advancing thread wakes) and on the system clock (the
// driver thread does).
#[test]
fn drop_from_wake() {
    let fake = FakeClock::new();
    let clock = fake.clock();
    let (shelf, drop_all) = shelve(|| clock.sleep_async(ms(10)));
    run_paused(&fake, clock.sleep_async(ms(11)));
    assert!(
        !drop_all.panicked.load(SeqCst),
        "panicked when dropping sleeps"
    );
    assert!(shelf.lock().unwrap().is_empty());
    assert_eq!(fake.waiters(), 0);
    assert_eq!(clock.stats().callback_panics, 0);

    let (shelf, drop_all) = shelve(|| sleep(ms(10)));
    let start = Instant::now();
    while !shelf.lock().unwrap().is_empty() {
        assert!(start.elapsed() < PATIENCE, "the sleeps never fired");
        std::thread::sleep(ms(1));
    }
    assert!(
        !drop_all.panicked.load(SeqCst),
        "panicked when dropping sleeps"
    );
    // The driver thread survived: the next sleep completes.
    pollster::block_on(sleep(ms(1)));
}

//! tokio's `tokio/tests/time_timeout.rs`, ported to `gotimer::future::{timeout, timeout_at}`: each
//! test keeps the intent of its upstream one, in its own code, under a link to it (tokio at commit
//! ea91b33c).
//!
//! tokio's paused time (`time::pause`, `time::advance`) is a `FakeClock` here, advanced by the test
//! between polls of a future it polls by hand (`ports::Task`, tokio-test's `task::spawn`). Where
//! gotimer's semantics differ from tokio's, the test checks gotimer's, and says so:
//! - a deadline that is now has passed: the timeout elapses at its first poll, with no advance
//!   (tokio needs a millisecond more, its timer's jitter);
//! - `Duration::MAX` is a deadline that never comes, not tokio's far-future instant;
//! - gotimer's `Timeout` knows nothing of tokio's cooperative budget, so "a future that never
//!   yields of its own accord" is one that tokio's budget makes yield, run on tokio.
//!
//! Not ported, as they test tokio alone: nothing (every upstream test has a port below).

mod ports;

use futures::channel::oneshot;
use gotimer::future::{timeout, timeout_at, Elapsed};
use gotimer::FakeClock;
use ports::Task;
use std::future::pending;
use std::task::Poll;
use std::time::{Duration, Instant};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_timeout.rs#L12
// (simultaneous_deadline_future_completion): a ready future beats a deadline of now.
#[test]
fn simultaneous_deadline_future_completion() {
    let mut t = Task::new(timeout_at(Instant::now(), async {}));
    assert_eq!(t.poll(), Poll::Ready(Ok(())));
    let fake = FakeClock::new();
    let mut t = Task::new(fake.clock().timeout_at(fake.now(), async {}));
    assert_eq!(t.poll(), Poll::Ready(Ok(())));
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_timeout.rs#L22
// (completed_future_past_deadline): and a deadline a second past.
#[test]
fn completed_future_past_deadline() {
    let mut t = Task::new(timeout_at(Instant::now() - ms(1000), async {}));
    assert_eq!(t.poll(), Poll::Ready(Ok(())));
    let fake = FakeClock::new();
    let mut t = Task::new(fake.clock().timeout_at(fake.now() - ms(1000), async {}));
    assert_eq!(t.poll(), Poll::Ready(Ok(())));
}

/// A timeout made by `start` around a oneshot that is sent on 90 ms into a 100 ms deadline: still
/// pending then, and woken by the send and ready with its value.
fn completes_before_its_deadline<F>(start: F)
where
    F: FnOnce(&FakeClock, oneshot::Receiver<()>) -> gotimer::future::Timeout<oneshot::Receiver<()>>,
{
    let fake = FakeClock::new();
    let (tx, rx) = oneshot::channel();
    let mut t = Task::new(start(&fake, rx));
    assert!(t.poll().is_pending());
    fake.advance(ms(90));
    assert!(!t.is_woken());
    assert!(t.poll().is_pending());
    tx.send(()).unwrap();
    assert!(t.is_woken());
    assert_eq!(t.poll(), Poll::Ready(Ok(Ok(()))));
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_timeout.rs#L31
// (future_and_deadline_in_future)
#[test]
fn future_and_deadline_in_future() {
    completes_before_its_deadline(|fake, rx| fake.clock().timeout_at(fake.now() + ms(100), rx));
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_timeout.rs#L55
// (future_and_timeout_in_future)
#[test]
fn future_and_timeout_in_future() {
    completes_before_its_deadline(|fake, rx| fake.clock().timeout(ms(100), rx));
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_timeout.rs#L79
// (very_large_timeout): `Duration::MAX` neither overflows nor elapses, over ten years.
#[test]
fn very_large_timeout() {
    let fake = FakeClock::new();
    let (tx, rx) = oneshot::channel();
    let mut t = Task::new(fake.clock().timeout(Duration::MAX, rx));
    assert!(t.poll().is_pending());
    fake.advance(Duration::from_secs(86400 * 365 * 10));
    assert!(!t.is_woken());
    assert!(t.poll().is_pending());
    tx.send(()).unwrap();
    assert_eq!(t.poll(), Poll::Ready(Ok(Ok(()))));
    // On the system clock too.
    let (tx, rx) = oneshot::channel();
    let mut t = Task::new(timeout(Duration::MAX, rx));
    assert!(t.poll().is_pending());
    tx.send(()).unwrap();
    assert!(t.is_woken());
    assert_eq!(t.poll(), Poll::Ready(Ok(Ok(()))));
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_timeout.rs#L106
// (deadline_now_elapses). tokio advances 1 ms first ("factor in jitter", a TODO); gotimer's
// timeout elapses at its first poll, with the clock where it was.
#[test]
fn deadline_now_elapses() {
    let fake = FakeClock::new();
    let mut t = Task::new(fake.clock().timeout_at(fake.now(), pending::<()>()));
    assert!(matches!(t.poll(), Poll::Ready(Err(Elapsed { .. }))));
    // On the system clock, once it has started (a deadline from before its start is inexact).
    let _ = gotimer::Clock::system().now();
    let mut t = Task::new(timeout_at(Instant::now(), pending::<()>()));
    assert!(matches!(t.poll(), Poll::Ready(Err(Elapsed { .. }))));
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_timeout.rs#L122
// (deadline_future_elapses). gotimer fires at the deadline exactly, so this also checks that it
// had not a millisecond before.
#[test]
fn deadline_future_elapses() {
    let fake = FakeClock::new();
    let mut t = Task::new(
        fake.clock()
            .timeout_at(fake.now() + ms(300), pending::<()>()),
    );
    assert!(t.poll().is_pending());
    fake.advance(ms(299));
    assert!(!t.is_woken());
    assert!(t.poll().is_pending());
    fake.advance(ms(2));
    assert!(t.is_woken());
    assert!(matches!(t.poll(), Poll::Ready(Err(Elapsed { .. }))));
}

// https://github.com/tokio-rs/tokio/blob/ea91b33ca57ff0581b38e735cc108f831bccbdaa/tokio/tests/time_timeout.rs#L141
// (timeout_is_not_exhausted_by_future): a future that is always ready to go on, and yields only
// when tokio's cooperative budget runs out (tokio's mpsc, as tokio's `io::empty` upstream), still
// times out on tokio; and one that yields at every step does on an executor with no budget.
#[test]
fn timeout_is_not_exhausted_by_future() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let busy = rt.block_on(timeout(ms(1), async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        loop {
            tx.send(()).unwrap();
            rx.recv().await;
        }
    }));
    assert!(busy.is_err());
    let yielding = pollster::block_on(timeout(ms(1), async {
        loop {
            smol::future::yield_now().await;
        }
    }));
    assert!(yielding.is_err());
}

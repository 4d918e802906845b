//! `future::timeout` and `timeout_at` (issue 19): the inner future is polled first, what `Elapsed`
//! says, `!Unpin` inner futures (the structural pin of `Timeout::poll`), and what a drop leaves.

use gotimer::future::{sleep, timeout, timeout_at, Elapsed, Timeout};
use gotimer::FakeClock;
use std::future::{pending, ready, Future};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

const MS: Duration = Duration::from_millis(1);

fn poll_once<F: Future>(f: Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn a_ready_future_wins_even_against_a_passed_deadline() {
    assert_eq!(pollster::block_on(timeout(Duration::ZERO, ready(1))), Ok(1));
    let past = Instant::now() - Duration::from_secs(1);
    assert_eq!(pollster::block_on(timeout_at(past, async { 2 })), Ok(2));
    let fake = FakeClock::new();
    let t = fake.clock().timeout(Duration::ZERO, ready(3));
    assert_eq!(pollster::block_on(t), Ok(3));
}

#[test]
fn a_pending_future_elapses_with_a_message() {
    let err = pollster::block_on(timeout(2 * MS, pending::<()>())).unwrap_err();
    assert_eq!(err.to_string(), "deadline has elapsed");
    let e: Box<dyn std::error::Error + Send + Sync + 'static> = Box::new(err);
    assert!(e.is::<Elapsed>());
    let io = std::io::Error::from(err);
    assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
}

#[test]
fn an_unpin_less_inner_future_is_polled_in_place() {
    // An `async` block holding a `Sleep` across an await is `!Unpin`: `Timeout::poll` projects the
    // pin to it.
    let inner = async {
        sleep(2 * MS).await;
        let local = [7u8; 64];
        sleep(MS).await;
        local.iter().map(|&b| b as u32).sum::<u32>()
    };
    assert_eq!(
        futures::executor::block_on(timeout(Duration::from_secs(60), inner)),
        Ok(7 * 64)
    );
    let slow = async {
        sleep(Duration::from_secs(60)).await;
    };
    assert!(futures::executor::block_on(timeout(2 * MS, slow)).is_err());
}

#[test]
fn on_a_fake_clock_it_elapses_exactly_at_the_deadline() {
    let fake = FakeClock::new();
    let mut t = pin!(fake
        .clock()
        .timeout(Duration::from_secs(10), pending::<()>()));
    assert!(poll_once(t.as_mut()).is_pending());
    fake.advance(Duration::from_millis(9_999));
    assert!(poll_once(t.as_mut()).is_pending());
    fake.advance(MS);
    assert_eq!(poll_once(t.as_mut()), Poll::Ready(Err(elapsed())));
}

fn elapsed() -> Elapsed {
    pollster::block_on(timeout(Duration::ZERO, pending::<()>())).unwrap_err()
}

#[test]
fn dropping_a_timeout_drops_the_future_and_leaves_nothing_pending() {
    struct Flag(Arc<AtomicBool>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.store(true, SeqCst);
        }
    }
    let fake = FakeClock::new();
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = Flag(dropped.clone());
    let mut t = Box::pin(fake.clock().timeout(Duration::from_secs(1), async move {
        let _flag = flag;
        pending::<()>().await
    }));
    assert!(poll_once(t.as_mut()).is_pending());
    assert_eq!(fake.waiters(), 1);
    drop(t);
    assert!(dropped.load(SeqCst));
    assert_eq!(fake.waiters(), 0);
}

#[test]
fn timeout_is_unpin_when_its_future_is_and_send_sync() {
    fn unpin<T: Unpin + Send + Sync + 'static>(_: &T) {}
    let t = timeout(MS, ready(1));
    unpin(&t);
    assert_eq!(t.into_inner().into_inner(), 1);
    let t: Timeout<std::future::Pending<()>> = timeout(MS, pending());
    drop(t);
}

//! `future::sleep`, `sleep_until` and `Sleep` (issue 19): on every executor or none, Go's values and
//! reset results, which waker is woken, what a drop leaves, and a waker that panics.

mod common;

use common::wakers::counter;
use gotimer::future::{sleep, sleep_until, Sleep};
use gotimer::{stats, Clock, FakeClock};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

const MS: Duration = Duration::from_millis(1);
/// A wait that a passing test never sits out: only a broken one does.
const PATIENCE: Duration = Duration::from_secs(30);

/// The tests that read the process-wide `stats()` run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn poll_with(s: &mut Sleep, waker: &Waker) -> Poll<Instant> {
    Pin::new(s).poll(&mut Context::from_waker(waker))
}

/// A hand-written executor: polls, and parks the thread until the waker unparks it.
fn block_on_by_hand<F: Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut f = std::pin::pin!(f);
    let start = Instant::now();
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut Context::from_waker(&waker)) {
            return v;
        }
        assert!(start.elapsed() < PATIENCE, "never woken");
        std::thread::park_timeout(PATIENCE);
    }
}

/// Sleeps 2 ms and checks the value and the time taken.
async fn two_ms() {
    let start = Instant::now();
    let s = sleep(2 * MS);
    let due = s.deadline();
    assert_eq!(s.await, due, "the value is the instant it was due");
    assert!(Instant::now() >= due && due >= start + 2 * MS);
}

#[test]
fn runs_on_tokio_current_thread_without_its_time_driver() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(two_ms());
    // And from spawned tasks.
    rt.block_on(async {
        let tasks: Vec<_> = (0..10).map(|_| tokio::spawn(two_ms())).collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
}

#[test]
fn runs_on_tokio_multi_thread_without_its_time_driver() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let tasks: Vec<_> = (0..100).map(|_| tokio::spawn(two_ms())).collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
}

#[test]
fn runs_on_smol_futures_executor_pollster_and_a_hand_written_loop() {
    smol::block_on(two_ms());
    let ex = smol::Executor::new();
    let tasks: Vec<_> = (0..10).map(|_| ex.spawn(two_ms())).collect();
    smol::block_on(ex.run(async {
        for t in tasks {
            t.await;
        }
    }));
    futures::executor::block_on(two_ms());
    pollster::block_on(two_ms());
    block_on_by_hand(two_ms());
}

#[test]
fn a_passed_deadline_is_ready_at_the_first_poll_with_no_wake() {
    let (count, waker) = counter();
    // (A deadline after the system clock started: one from before completes with the start.)
    let _ = Clock::system().now();
    std::thread::sleep(2 * MS);
    let deadline = Instant::now() - MS;
    let mut s = sleep_until(deadline);
    assert_eq!(poll_with(&mut s, &waker), Poll::Ready(deadline));
    let mut zero = sleep(Duration::ZERO);
    assert!(poll_with(&mut zero, &waker).is_ready());
    assert_eq!(count.0.load(SeqCst), 0, "ready at once: no wake needed");
    // On a fake clock too.
    let fake = FakeClock::new();
    let mut s = fake.clock().sleep_async(Duration::ZERO);
    assert_eq!(poll_with(&mut s, &waker), Poll::Ready(fake.now()));
}

#[test]
fn reset_returns_gos_result_and_hides_the_old_deadline() {
    let fake = FakeClock::new();
    let (_, waker) = counter();
    let mut s = fake.clock().sleep_async(Duration::from_secs(1));
    assert!(poll_with(&mut s, &waker).is_pending());
    assert!(s.reset(Duration::from_secs(2)), "pending: true");
    fake.advance(Duration::from_secs(1));
    assert!(
        poll_with(&mut s, &waker).is_pending(),
        "the old deadline is not seen"
    );
    fake.advance(Duration::from_secs(1));
    // Fired, not yet polled: it has not returned Ready, so a reset returns true and the fired
    // deadline is never seen.
    assert!(s.is_elapsed());
    assert!(s.reset(Duration::from_secs(1)));
    assert!(
        poll_with(&mut s, &waker).is_pending(),
        "no completion from the old deadline"
    );
    fake.advance(Duration::from_secs(1));
    let at = fake.now();
    assert_eq!(poll_with(&mut s, &waker), Poll::Ready(at));
    assert_eq!(
        poll_with(&mut s, &waker),
        Poll::Ready(at),
        "ready again, same value"
    );
    // Completed: a reset returns false and waits again.
    assert!(!s.reset(Duration::from_secs(3)));
    assert!(
        poll_with(&mut s, &waker).is_pending(),
        "a completed sleep reset waits again"
    );
    fake.advance(Duration::from_secs(3));
    assert_eq!(
        poll_with(&mut s, &waker),
        Poll::Ready(at + Duration::from_secs(3))
    );
}

#[test]
fn reset_before_the_first_poll_and_on_the_system_clock() {
    let mut s = sleep(Duration::from_secs(3600));
    assert!(s.reset(2 * MS), "pending (parked): true");
    let due = s.deadline();
    assert_eq!(futures::executor::block_on(&mut s), due);
    assert!(!s.reset(MS));
    assert_eq!(pollster::block_on(&mut s), s.deadline(), "waits again");
    // Later then earlier, while it is filed.
    let mut s = sleep(Duration::from_secs(3600));
    let (_, waker) = counter();
    assert!(poll_with(&mut s, &waker).is_pending());
    assert!(
        s.reset(Duration::from_secs(7200)),
        "later: the lock-free path"
    );
    assert!(s.reset(MS), "earlier: the locked path");
    block_on_by_hand(&mut s);
}

#[test]
fn the_waker_of_the_latest_poll_is_woken() {
    let fake = FakeClock::new();
    let mut s = fake.clock().sleep_async(Duration::from_secs(1));
    let (first, w1) = counter();
    let (second, w2) = counter();
    assert!(poll_with(&mut s, &w1).is_pending());
    assert!(poll_with(&mut s, &w2).is_pending());
    fake.advance(Duration::from_secs(1));
    assert_eq!(first.0.load(SeqCst), 0);
    assert_eq!(second.0.load(SeqCst), 1);
}

#[test]
fn a_reset_to_an_earlier_deadline_wakes_the_task_with_no_new_poll() {
    let fake = FakeClock::new();
    let mut s = fake.clock().sleep_async(Duration::from_secs(60));
    let (count, waker) = counter();
    assert!(poll_with(&mut s, &waker).is_pending());
    assert!(s.reset(Duration::from_secs(1)));
    fake.advance(Duration::from_secs(1));
    assert_eq!(count.0.load(SeqCst), 1, "woken at the new deadline");
    // And after a completion, a reset wakes the same task again.
    assert!(poll_with(&mut s, &waker).is_ready());
    assert!(!s.reset(Duration::from_secs(1)));
    fake.advance(Duration::from_secs(1));
    assert_eq!(count.0.load(SeqCst), 2);
}

#[test]
fn a_dropped_sleep_leaves_nothing_pending() {
    let fake = FakeClock::new();
    let (_, waker) = counter();
    let mut polled = fake.clock().sleep_async(Duration::from_secs(1));
    assert!(poll_with(&mut polled, &waker).is_pending());
    let unpolled = fake.clock().sleep_async(Duration::from_secs(1));
    assert_eq!(fake.waiters(), 2);
    drop((polled, unpolled));
    assert_eq!(fake.waiters(), 0);
    // On the system clock: polled (filed) and unpolled (parked).
    let _serial = serial();
    let before = stats().pending;
    let mut filed: Vec<Sleep> = (0..100).map(|_| sleep(Duration::from_secs(3600))).collect();
    for s in &mut filed {
        assert!(poll_with(s, &waker).is_pending());
    }
    assert!(
        stats().pending >= before + 100,
        "pending sleeps count in stats()"
    );
    drop(filed);
    let parked: Vec<Sleep> = (0..100).map(|_| sleep(Duration::from_secs(3600))).collect();
    drop(parked);
    assert!(stats().pending < before + 100);
}

#[test]
fn a_never_due_sleep_waits_and_can_be_reset() {
    let fake = FakeClock::new();
    let (_, waker) = counter();
    let mut s = fake.clock().sleep_async(Duration::MAX);
    assert!(poll_with(&mut s, &waker).is_pending());
    assert!(!s.is_elapsed());
    assert!(
        fake.advance_to_next().is_none(),
        "not counted as a deadline"
    );
    assert!(s.reset(Duration::from_secs(1)), "pending forever: true");
    fake.advance(Duration::from_secs(1));
    assert!(poll_with(&mut s, &waker).is_ready());
}

#[test]
fn a_waker_that_panics_is_counted_and_the_runtime_goes_on() {
    struct Panics;
    impl Wake for Panics {
        fn wake(self: Arc<Self>) {
            panic!("a waker that panics");
        }
    }
    let _serial = serial();
    let before = stats().callback_panics;
    let mut s = sleep(MS);
    let waker = Waker::from(Arc::new(Panics));
    assert!(poll_with(&mut s, &waker).is_pending());
    let start = Instant::now();
    while stats().callback_panics == before {
        assert!(start.elapsed() < PATIENCE, "the panic was never counted");
        std::thread::sleep(MS);
    }
    // The driver survived: the next sleep still completes.
    block_on_by_hand(sleep(MS));
    // On a fake clock, the advancing thread survives too.
    let fake = FakeClock::new();
    let mut s = fake.clock().sleep_async(MS);
    assert!(poll_with(&mut s, &waker).is_pending());
    fake.advance(MS);
    assert_eq!(fake.clock().stats().callback_panics, 1);
}

#[test]
fn the_free_functions_bind_to_the_current_clock_when_called() {
    let fake = FakeClock::new();
    let s = {
        let _guard = fake.clock().enter();
        sleep(Duration::from_secs(5))
    };
    assert_eq!(s.deadline(), fake.now() + Duration::from_secs(5));
    assert_eq!(fake.waiters(), 1);
    assert!(!Clock::current().is_fake());
}

#[test]
fn sleep_is_unpin_send_sync_and_static() {
    fn check<T: Unpin + Send + Sync + 'static>() {}
    check::<Sleep>();
}

#[cfg(feature = "profile")]
#[test]
fn pending_sleeps_and_timeouts_show_in_the_profile_under_their_line() {
    use gotimer::future::timeout;
    use gotimer::profile::{snapshot, Kind};
    let _serial = serial();
    let (_, waker) = counter();
    let site = |line: u32| {
        snapshot()
            .into_iter()
            .find(|s| s.line == line && s.file.ends_with("future_sleep.rs"))
    };
    let sleep_line = line!() + 1;
    let mut sleeps: Vec<Sleep> = (0..3).map(|_| sleep(Duration::from_secs(3600))).collect();
    for s in &mut sleeps {
        assert!(poll_with(s, &waker).is_pending());
    }
    let timeout_line = line!() + 1;
    let mut t = Box::pin(timeout(
        Duration::from_secs(3600),
        std::future::pending::<()>(),
    ));
    assert!(t
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    let s = site(sleep_line).expect("the sleep's line is a site");
    assert_eq!((s.kind, s.live), (Kind::Sleep, 3));
    let s = site(timeout_line).expect("the timeout's line is a site");
    assert_eq!((s.kind, s.live), (Kind::Timeout, 1));
    assert!(s.earliest.is_some(), "its deadline is in the profile");
    drop((sleeps, t));
    assert_eq!(site(sleep_line).unwrap().live, 0, "freed on drop");
}

/// A dropped sleep lets its task's waker go at once, although the thread keeps its entry for its
/// next sleep (`runtime/spare.rs`): a spare holds no task, and the sleep that reuses it starts
/// afresh.
#[test]
fn a_dropped_sleep_lets_its_waker_go() {
    struct Task;
    impl Wake for Task {
        fn wake(self: Arc<Self>) {}
    }
    let task = Arc::new(Task);
    let waker = Waker::from(task.clone());
    let mut s = sleep(Duration::from_secs(3600));
    assert!(Pin::new(&mut s)
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    drop(waker);
    assert_eq!(Arc::strong_count(&task), 2, "the sleep holds the waker");
    drop(s);
    assert_eq!(Arc::strong_count(&task), 1, "the dropped sleep let it go");
    let s = sleep(MS);
    let due = s.deadline();
    assert!(!s.is_elapsed());
    assert_eq!(futures::executor::block_on(s), due);
}

/// A sleep shorter than a tick of the wheel (Go's `Sleep(1ns)`) is parked until its first poll, as
/// a timeout's is: made, it holds no wheel node (fewer bytes than a filed sleep); its first poll
/// after the deadline is ready at once (without the lock: only the sleep holds it); dropped, nothing
/// is left.
#[cfg(feature = "profile")]
#[test]
fn a_sleep_under_a_tick_is_parked_until_its_first_poll() {
    let site = |line: u32| {
        gotimer::profile::snapshot()
            .into_iter()
            .find(|s| s.file.ends_with("future_sleep.rs") && s.line == line)
            .expect("the site is in the profile")
    };
    let (filed, filed_line) = (sleep(Duration::from_secs(3600)), line!());
    let (mut short, short_line) = (sleep(Duration::from_nanos(500)), line!());
    let (filed_site, short_site) = (site(filed_line), site(short_line));
    assert_eq!((filed_site.live, short_site.live), (1, 1));
    assert!(
        short_site.live_bytes < filed_site.live_bytes,
        "filed at once: {short_site:?} against {filed_site:?}"
    );
    std::thread::sleep(Duration::from_millis(1));
    let mut cx = Context::from_waker(Waker::noop());
    let due = short.deadline();
    assert_eq!(Pin::new(&mut short).poll(&mut cx), Poll::Ready(due));
    // Reset to never before its first poll, it is not fired by that poll for its old deadline.
    let (mut never, never_line) = (sleep(Duration::from_nanos(500)), line!());
    assert!(never.reset(Duration::MAX));
    std::thread::sleep(Duration::from_millis(1));
    assert_eq!(Pin::new(&mut never).poll(&mut cx), Poll::Pending);
    drop((filed, short, never));
    for line in [filed_line, short_line, never_line] {
        let s = site(line);
        assert_eq!((s.live, s.live_bytes), (0, 0), "{s:?}");
    }
}

#[test]
fn a_parked_sleep_due_at_its_first_poll_is_elapsed_ready_and_keeps_the_waker() {
    // The driver is held inside a task's waker (what a waker that blocks costs); meanwhile a sleep
    // shorter than a tick is made, parked until its first poll, which reads the clock and fires
    // it: due before that poll, it reads as elapsed, and the poll is Ready whatever the driver
    // does. Ready, it keeps the waker as every Ready poll does.
    struct Holds {
        entered: std::sync::mpsc::SyncSender<()>,
        release: Arc<(Mutex<bool>, std::sync::Condvar)>,
    }
    impl Wake for Holds {
        fn wake(self: Arc<Self>) {
            let _ = self.entered.try_send(());
            let (lock, cv) = &*self.release;
            let mut released = lock.lock().unwrap();
            while !*released {
                released = cv.wait(released).unwrap();
            }
        }
    }
    /// Lets the driver go however the test ends.
    struct Release(Arc<(Mutex<bool>, std::sync::Condvar)>);
    impl Drop for Release {
        fn drop(&mut self) {
            *self.0 .0.lock().unwrap() = true;
            self.0 .1.notify_all();
        }
    }
    let _serial = serial();
    let release = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
    let _release = Release(release.clone());
    let (entered, held) = std::sync::mpsc::sync_channel(1);
    let holds = Waker::from(Arc::new(Holds {
        entered,
        release: release.clone(),
    }));
    let mut holder = sleep(2 * MS);
    assert!(poll_with(&mut holder, &holds).is_pending());
    held.recv_timeout(PATIENCE)
        .expect("the driver woke the holder");

    let (count, waker) = counter();
    let mut short = sleep(Duration::from_nanos(500));
    std::thread::sleep(MS);
    assert!(short.is_elapsed(), "due, and its next poll is Ready");
    assert_eq!(poll_with(&mut short, &waker), Poll::Ready(short.deadline()));
    drop(_release);
    // Ready, it kept this poll's waker: a reset wakes it at the new deadline with no new poll.
    assert!(!short.reset(2 * MS), "it had returned Ready");
    let start = Instant::now();
    while count.0.load(SeqCst) == 0 {
        assert!(
            start.elapsed() < PATIENCE,
            "the reset's deadline woke nobody"
        );
        std::thread::sleep(MS);
    }
    assert_eq!(poll_with(&mut short, &waker), Poll::Ready(short.deadline()));
}

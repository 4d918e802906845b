//! async-io's `tests/timer.rs`, ported to `gotimer::future`: each test keeps the intent of its
//! upstream one, in its own code, under a link to it (smol-rs/async-io at commit e94f31c4).
//!
//! async-io's `Timer` is a `Sleep` here: `Timer::after` is `sleep`, `set_after` is `reset`,
//! `Timer::interval` is `interval`, and a timer is awaited by `&mut`, moved between tasks, or shared behind a mutex, as upstream. These
//! tests run on real time, as upstream's do, on threads of their own, each with an executor that
//! knows nothing of timers (`futures::executor`, `pollster`). They check only lower bounds on the
//! time taken, and values, which are exact: a `Sleep` completes with its deadline, and an
//! `Interval`'s ticks are the instants they were due, a period apart.
//!
//! Not ported, as they test async-io alone: nothing (every upstream test has a port below).

use futures::StreamExt;
use gotimer::future::{sleep, Sleep};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{mpsc, Arc, Mutex};
use std::task::Poll;
use std::thread;
use std::time::{Duration, Instant};

const SECOND: Duration = Duration::from_secs(1);

// https://github.com/smol-rs/async-io/blob/e94f31c472d61101dac0aaa67c4fb42068bd8071/tests/timer.rs#L25
// (smoke)
#[test]
fn smoke() {
    let start = Instant::now();
    let s = sleep(SECOND);
    let deadline = s.deadline();
    assert_eq!(futures::executor::block_on(s), deadline);
    assert!(start.elapsed() >= SECOND);
}

// https://github.com/smol-rs/async-io/blob/e94f31c472d61101dac0aaa67c4fb42068bd8071/tests/timer.rs#L34
// (interval): async-io's `Timer::interval` is `future::interval`, a `Stream` as upstream's is. Its first
// tick is one period after it was made (as upstream's), and the next one period after that: the
// values say so exactly. Upstream also bounds each wait above by half a second of jitter, which is
// timing, not semantics, and is left out.
#[test]
fn interval() {
    let start = Instant::now();
    let mut every = gotimer::future::interval(SECOND);
    let first = futures::executor::block_on(every.next()).unwrap();
    assert!(first >= start + SECOND);
    assert!(start.elapsed() >= SECOND);
    let second = futures::executor::block_on(every.next()).unwrap();
    assert_eq!(second - first, SECOND);
    assert!(start.elapsed() >= 2 * SECOND);
}

// https://github.com/smol-rs/async-io/blob/e94f31c472d61101dac0aaa67c4fb42068bd8071/tests/timer.rs#L50
// (poll_across_tasks): a sleep polled on one task (which then moves on) and sent to another task,
// on another thread, completes there: the waker of its latest poll is the one woken.
#[test]
fn poll_across_tasks() {
    let start = Instant::now();
    let (sender, receiver) = mpsc::sync_channel::<Sleep>(1);
    let first = thread::spawn(move || {
        let mut s = sleep(SECOND);
        futures::executor::block_on(poll_fn(|cx| {
            assert!(
                Pin::new(&mut s).poll(cx).is_pending(),
                "sleep should not be ready"
            );
            Poll::Ready(())
        }));
        sender.send(s).unwrap();
    });
    let second = thread::spawn(move || {
        let s = receiver.recv().unwrap();
        let deadline = s.deadline();
        assert_eq!(pollster::block_on(s), deadline);
    });
    first.join().unwrap();
    second.join().unwrap();
    assert!(start.elapsed() >= SECOND);
}

// https://github.com/smol-rs/async-io/blob/e94f31c472d61101dac0aaa67c4fb42068bd8071/tests/timer.rs#L81
// (set): a pending sleep, shared behind a mutex with a task that is polling it, is reset from
// another thread to an earlier deadline, and the task, woken then with no new poll, completes at
// the new deadline. Upstream bounds the time taken above by the old deadline; here the sleep's
// value says it exactly (the new deadline, long before the old one), with no timing.
#[test]
fn set() {
    let start = Instant::now();
    let old = Duration::from_secs(10);
    let shared = Arc::new(Mutex::new(sleep(old)));
    let new_deadline = thread::spawn({
        let shared = shared.clone();
        move || {
            thread::sleep(SECOND);
            let mut s = shared.lock().unwrap();
            assert!(s.reset(2 * SECOND), "pending: Go's Reset returns true");
            s.deadline()
        }
    });
    let at = futures::executor::block_on(poll_fn(|cx| {
        Pin::new(&mut *shared.lock().unwrap()).poll(cx)
    }));
    let new_deadline = new_deadline.join().unwrap();
    assert_eq!(at, new_deadline);
    assert!(new_deadline < start + old);
    assert!(start.elapsed() >= 2 * SECOND);
}

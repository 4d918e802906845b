//! What the ports of other crates' timer tests (`tokio_time_*.rs`, `async_io_timer.rs`) stand on
//! in place of those crates' test kits: a future polled by hand that records its wakes (tokio-test's
//! `task::spawn`), and a fake clock that moves to the next deadline whenever the future waits
//! (tokio's paused time, which advances by itself when the runtime has nothing else to do).
#![allow(dead_code)]

use gotimer::FakeClock;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// A waker that counts its wakes.
#[derive(Default)]
pub struct Wakes(AtomicUsize);

impl Wakes {
    /// The wakes so far.
    pub fn count(&self) -> usize {
        self.0.load(SeqCst)
    }
}

impl Wake for Wakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A future (or an `Interval`) polled by the test itself, with a waker of its own: `is_woken` says
/// whether it was woken since its latest poll, which is how a test sees that a wake came from the
/// clock and not from a poll it made.
pub struct Task<F> {
    future: Pin<Box<F>>,
    wakes: Arc<Wakes>,
    waker: Waker,
    seen: usize,
}

impl<F> Task<F> {
    pub fn new(future: F) -> Self {
        let wakes = Arc::new(Wakes::default());
        Task {
            future: Box::pin(future),
            waker: Waker::from(wakes.clone()),
            wakes,
            seen: 0,
        }
    }

    /// Runs `f` with the task's context, as a poll does: for what is polled by a method of its own
    /// (`Interval::poll_tick`), as tokio-test's `Spawn::enter`.
    pub fn enter<R>(&mut self, f: impl FnOnce(&mut Context<'_>, Pin<&mut F>) -> R) -> R {
        self.seen = self.wakes.0.load(SeqCst);
        f(&mut Context::from_waker(&self.waker), self.future.as_mut())
    }

    /// Woken since the latest poll (or since it was made, before any).
    pub fn is_woken(&self) -> bool {
        self.wakes.0.load(SeqCst) > self.seen
    }

    /// The future, to reach it between polls (to reset a `Sleep`).
    pub fn get_mut(&mut self) -> Pin<&mut F> {
        self.future.as_mut()
    }
}

impl<F: Future> Task<F> {
    pub fn poll(&mut self) -> Poll<F::Output> {
        self.enter(|cx, future| future.poll(cx))
    }
}

/// Runs `future` to completion on `fake` as tokio's paused time does: whenever it is pending, the
/// clock jumps from deadline to deadline until one wakes it. Panics if it waits with no deadline
/// left (it would hang).
pub fn run_paused<F: Future>(fake: &FakeClock, future: F) -> F::Output {
    let mut task = Task::new(future);
    loop {
        if let Poll::Ready(v) = task.poll() {
            return v;
        }
        while !task.is_woken() {
            fake.advance_to_next()
                .expect("pending, and no deadline left on the clock to wake it");
        }
    }
}

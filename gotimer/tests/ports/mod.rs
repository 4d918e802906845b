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

impl Wake for Wakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A future polled by the test itself, with a waker of its own: `is_woken` says whether it was
/// woken since its latest poll, which is how a test sees that a wake came from the clock and not
/// from a poll it made.
pub struct Task<F> {
    future: Pin<Box<F>>,
    wakes: Arc<Wakes>,
    waker: Waker,
    seen: usize,
}

impl<F: Future> Task<F> {
    pub fn new(future: F) -> Self {
        let wakes = Arc::new(Wakes::default());
        Task {
            future: Box::pin(future),
            waker: Waker::from(wakes.clone()),
            wakes,
            seen: 0,
        }
    }

    pub fn poll(&mut self) -> Poll<F::Output> {
        self.seen = self.wakes.0.load(SeqCst);
        self.future
            .as_mut()
            .poll(&mut Context::from_waker(&self.waker))
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

//! `Scoped`: a future polled with a clock entered, and, on a fake clock, counted among the tasks
//! that each step of an advance waits for (`runtime/settle.rs`), so that virtual time moves only
//! when every scoped task is idle, as in Go's `testing/synctest`.

use crate::context;
use crate::runtime::settle::TaskWaker;
use crate::runtime::Rt;
use std::fmt;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// A future that runs with a clock entered: what [`Clock::scope`](crate::Clock::scope) returns.
/// Every gotimer call inside it (the free functions, `future::sleep`, `Timer::new`, …) binds to
/// that clock, on whichever thread polls it. On a [`FakeClock`](crate::FakeClock)'s clock it is
/// also one of the tasks that [`advance`](crate::FakeClock::advance) waits for, at every step,
/// until it is idle.
///
/// `'static` when the future is, `Send` when it is, and `Unpin` when it is.
///
/// ```
/// use gotimer::FakeClock;
/// use std::time::Duration;
/// let fake = FakeClock::new();
/// let task = fake.clock().scope(async { gotimer::future::sleep(Duration::from_secs(60)).await });
/// let worker = std::thread::spawn(move || pollster::block_on(task));
/// fake.advance(Duration::from_secs(60)); // waits for the task to make its sleep, then fires it
/// assert_eq!(worker.join().unwrap(), fake.now());
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Scoped<F> {
    /// Structurally pinned: see `poll`. Dropped by `Drop`, in place, before the task is removed.
    future: ManuallyDrop<F>,
    rt: Rt,
    /// On a fake clock: the task's entry among the clock's scoped tasks, and the waker built on it
    /// that the future is polled with.
    task: Option<(Arc<TaskWaker>, Waker)>,
}

impl<F> Scoped<F> {
    pub(crate) fn new(rt: Rt, site: &'static Location<'static>, future: F) -> Self {
        let task = match &rt {
            Rt::Manual(manual) => {
                let id = manual.settle().add(site);
                let task = Arc::new(TaskWaker::new(manual.clone(), id));
                let waker = Waker::from(task.clone());
                Some((task, waker))
            }
            Rt::System(..) => None,
        };
        Scoped {
            future: ManuallyDrop::new(future),
            rt,
            task,
        }
    }
}

/// Ends a scoped task's poll, also when the future panics.
struct Polling<'a> {
    task: &'a TaskWaker,
    done: bool,
    /// The thread was unwinding already when the poll began (a future polled by a destructor).
    panicking: bool,
}

impl<'a> Polling<'a> {
    fn begin(task: &'a TaskWaker) -> Self {
        task.settle().begin_poll(task.id());
        Polling {
            task,
            done: false,
            panicking: std::thread::panicking(),
        }
    }
}

impl Drop for Polling<'_> {
    fn drop(&mut self) {
        let unwound = !self.panicking && std::thread::panicking();
        self.task
            .settle()
            .end_poll(self.task.id(), self.done, unwound);
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is pinned structurally, and nothing else is. Nothing moves it out of a
        // pinned `Scoped`: no method takes it by value, and `Drop` drops it in place;
        // `Scoped` is `Unpin` only when `F` is (`ManuallyDrop<F>` is `Unpin` when `F` is, and
        // `Rt`, `Arc` and `Waker` are `Unpin`). Exercised by the tests with `async` blocks, which
        // are `!Unpin` (`tests/scope.rs`).
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as above: `this.future` stays where it is until `Drop` drops it in place.
        let future = unsafe { Pin::new_unchecked(&mut *this.future) };
        let _clock = context::enter(this.rt.clone());
        let Some((task, waker)) = &this.task else {
            return future.poll(cx);
        };
        task.set_inner(cx.waker());
        let mut polling = Polling::begin(task);
        let out = future.poll(&mut Context::from_waker(waker));
        polling.done = out.is_ready();
        out
    }
}

impl<F> Drop for Scoped<F> {
    /// Drops the future as it is polled: with the clock entered, and the task counted as running
    /// until it is gone, so that what its destructor does (a sender dropped, a timer stopped) binds
    /// to the clock and wakes the other scoped tasks before an advance can step on.
    fn drop(&mut self) {
        // At a thread's exit (a future kept in a thread-local executor), without the clock.
        let _clock = context::try_enter(self.rt.clone());
        let _polling = self.task.as_ref().map(|(task, _)| {
            let mut polling = Polling::begin(task);
            polling.done = true;
            polling
        });
        // SAFETY: `future` is dropped here once, in place (where `poll` pinned it), and never used
        // again: this is `Scoped`'s drop. Exercised by `tests/scope.rs`, whose scoped `async`
        // blocks are dropped done, undone and while an advance waits for them.
        unsafe { ManuallyDrop::drop(&mut self.future) };
    }
}

impl<F> fmt::Debug for Scoped<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scoped")
            .field("fake", &self.task.is_some())
            .finish_non_exhaustive()
    }
}

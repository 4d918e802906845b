//! `Timeout` and `Elapsed`: a deadline on a future, the async form of Go's
//! `select { case v := <-work: … case <-time.After(d): … }`.
//!
//! The inner future is polled first, so one that is ready wins even against a passed deadline,
//! and then the `Sleep`, which is parked until that first poll of its own: a timeout whose future
//! is ready at once takes no lock and touches no wheel.

use super::sleep::Sleep;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

/// A future with a deadline: what [`timeout`](crate::future::timeout) and
/// [`timeout_at`](crate::future::timeout_at) return. It completes with `Ok` and the future's
/// output if the future completes first, or with `Err(Elapsed)` once the deadline has passed;
/// dropping it drops the future and cancels the deadline. `Unpin` when the future is.
///
/// ```
/// use gotimer::future::{sleep, timeout};
/// use std::time::Duration;
///
/// futures::executor::block_on(async {
///     let fast = timeout(Duration::from_secs(60), async { 7 });
///     assert_eq!(fast.await, Ok(7));
///     let slow = timeout(Duration::from_millis(1), sleep(Duration::from_secs(60)));
///     assert!(slow.await.is_err());
/// });
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Timeout<F> {
    /// Structurally pinned: see `poll`.
    value: F,
    sleep: Sleep,
}

impl<F> Timeout<F> {
    pub(crate) fn new(value: F, sleep: Sleep) -> Self {
        Timeout { value, sleep }
    }

    /// The instant at which the timeout elapses.
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// let t = fake.clock().timeout(Duration::from_secs(2), async {});
    /// assert_eq!(t.deadline(), fake.now() + Duration::from_secs(2));
    /// ```
    pub fn deadline(&self) -> Instant {
        self.sleep.deadline()
    }

    /// The inner future.
    ///
    /// ```
    /// let t = gotimer::future::timeout(std::time::Duration::from_secs(1), std::future::ready(3));
    /// assert_eq!(t.get_ref().clone().into_inner(), 3);
    /// ```
    pub fn get_ref(&self) -> &F {
        &self.value
    }

    /// The inner future, mutably; possible only while the `Timeout` is not pinned (or when the
    /// future is `Unpin`, through `Pin::get_mut`).
    ///
    /// ```
    /// let mut t = gotimer::future::timeout(std::time::Duration::from_secs(1), std::future::ready(3));
    /// let _inner: &mut std::future::Ready<i32> = t.get_mut();
    /// ```
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.value
    }

    /// The inner future, with the deadline cancelled.
    ///
    /// ```
    /// let t = gotimer::future::timeout(std::time::Duration::from_secs(1), std::future::ready(3));
    /// assert_eq!(t.into_inner().into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> F {
        self.value
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `value` is pinned structurally and `sleep` is not. Nothing moves `value` out of a
        // pinned `Timeout`: the only method that takes it by value (`into_inner`) takes `self` by
        // value, which a pinned `Timeout` of a `!Unpin` future cannot give; `Timeout` has no
        // `Drop`, so the future is dropped in place; and `Timeout` is `Unpin` only when `F` is
        // (`Sleep` is `Unpin`). `sleep` is moved by nobody either, but needs no pin. Exercised by
        // the tests with `async` blocks, which are `!Unpin` (`tests/future_timeout.rs`).
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as above: `this.value` stays where it is until it is dropped in place.
        let value = unsafe { Pin::new_unchecked(&mut this.value) };
        if let Poll::Ready(v) = value.poll(cx) {
            return Poll::Ready(Ok(v));
        }
        match Pin::new(&mut this.sleep).poll(cx) {
            Poll::Ready(_) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F: fmt::Debug> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("value", &self.value)
            .field("deadline", &self.deadline())
            .finish()
    }
}

/// The error of a [`Timeout`] whose deadline passed before its future completed.
///
/// ```
/// use gotimer::future::timeout;
/// use std::time::Duration;
/// let err = futures::executor::block_on(timeout(Duration::ZERO, std::future::pending::<()>()))
///     .unwrap_err();
/// assert_eq!(err.to_string(), "deadline has elapsed");
/// let io: std::io::Error = err.into();
/// assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(e: Elapsed) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::TimedOut, e)
    }
}

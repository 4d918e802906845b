//! `Interval`: Go's `time.Ticker` for one task, as a `Stream` and a cancel-safe `tick()`.
//!
//! It is a `Ticker` that the task receives from with `recv_async` (so it has no crossbeam channel),
//! with its place among the ticker's waiters kept from poll to poll. Go's semantics, not tokio's
//! defaults: the first tick is one period after creation (tokio's comes at once), ticks are
//! phase-aligned, and a consumer that falls behind finds one tick waiting, the first it missed,
//! with the others dropped (tokio bursts them by default).

use crate::runtime::kinds::tasks::Tasks;
use crate::ticker::{period_ns, Ticker};
use futures_core::Stream;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Ticks every period, for a task: what [`interval`](crate::future::interval) returns. Go's
/// `time.NewTicker` received from by one task: each tick is the instant it was due, the first one
/// period after creation; ticks are phase-aligned (due at `t0 + k·period`), and at most one waits
/// for a slow consumer, so a consumer that falls behind gets the first tick it missed and then
/// the next one due, never a burst. It is a [`Stream`] of those instants, and
/// [`tick`](Interval::tick) is its cancel-safe next. `Unpin` and `Send`; dropping it stops it.
///
/// ```
/// use gotimer::FakeClock;
/// use std::time::Duration;
///
/// let fake = FakeClock::new();
/// let t0 = fake.now();
/// let mut every_second = fake.clock().interval(Duration::from_secs(1));
/// fake.advance(Duration::from_millis(3500)); // late: the ticks at 2 s and 3 s are dropped
/// let first = pollster::block_on(every_second.tick());
/// assert_eq!(first, t0 + Duration::from_secs(1), "the first tick missed");
/// fake.advance(Duration::from_millis(500));
/// assert_eq!(pollster::block_on(every_second.tick()), t0 + Duration::from_secs(4), "aligned");
/// ```
pub struct Interval {
    ticker: Ticker,
    /// This interval's place among the ticker's waiters, kept between polls of `poll_tick`.
    waiter: Option<u64>,
    /// The ticker's tasks' slot, kept once the first poll made it: a poll reaches it without
    /// reading the ticker's entry, which the firing thread writes at every tick (`poll_kept`).
    /// `None` while not polled, and on a clock whose tickers have a channel from the start (a fake
    /// one), where every poll takes `poll_recv`. Nothing makes an interval's channel later: its
    /// ticker's `c()` is not reachable.
    tasks: Option<Arc<Tasks>>,
    /// No tick is due before this, on the clock's time line: the last tick received plus the
    /// period (ticks are phase-aligned), or 0 when not known (before the first tick, after a
    /// reset). A poll before it does not look for a tick to fire.
    next_at_least: u64,
    /// The period in nanoseconds, kept here for the same reason.
    period_ns: u64,
}

impl Interval {
    pub(crate) fn new(ticker: Ticker) -> Interval {
        let period_ns = period_ns(ticker.period());
        Interval {
            ticker,
            waiter: None,
            tasks: None,
            next_at_least: 0,
            period_ns,
        }
    }

    /// The next tick: the instant it was due. Cancel-safe: dropping the future before it completes
    /// loses no tick. The interval stays registered with the waker of its latest poll, so a tick
    /// that comes after such a drop wakes that task once, whether it still waits or not.
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut i = gotimer::future::interval(Duration::from_millis(1));
    /// let (a, b) = pollster::block_on(async { (i.tick().await, i.tick().await) });
    /// // One period apart, or a whole number of them if this thread was late for one.
    /// assert!(b > a && (b - a).as_nanos() % 1_000_000 == 0);
    /// ```
    pub fn tick(&mut self) -> impl Future<Output = Instant> + Send + '_ {
        poll_fn(|cx| self.poll_tick(cx))
    }

    /// The next tick as a poll: `Ready` with the instant it was due, or `Pending` with the waker
    /// stored (the latest poll's is woken).
    ///
    /// ```
    /// use std::task::{Context, Waker};
    /// use std::time::Duration;
    /// let mut i = gotimer::future::interval(Duration::from_secs(60));
    /// assert!(i.poll_tick(&mut Context::from_waker(Waker::noop())).is_pending());
    /// ```
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        let polled = match &self.tasks {
            Some(tasks) => self
                .ticker
                .poll_kept(tasks, cx, &mut self.waiter, self.next_at_least),
            None => {
                let polled = self.ticker.poll_recv(cx, &mut self.waiter);
                self.tasks = self.ticker.tasks();
                polled
            }
        };
        if let Poll::Ready(tick) = polled {
            self.next_at_least = self.ticker.ns_at(tick).saturating_add(self.period_ns);
        }
        polled
    }

    /// Restarts the ticks with period `period`, the next one `period` from now; a tick from before
    /// is never received after it returns. Go's `Ticker.Reset`.
    ///
    /// # Panics
    /// If `period` is zero, with "non-positive interval for Interval::reset".
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// let mut i = fake.clock().interval(Duration::from_secs(10));
    /// fake.advance(Duration::from_secs(4));
    /// i.reset(Duration::from_secs(1));
    /// fake.advance(Duration::from_secs(1));
    /// assert_eq!(pollster::block_on(i.tick()), fake.now(), "1 s after the reset");
    /// ```
    pub fn reset(&mut self, period: Duration) {
        assert!(
            !period.is_zero(),
            "non-positive interval for Interval::reset"
        );
        self.ticker.reset(period);
        self.period_ns = period_ns(period);
        self.next_at_least = 0;
    }

    /// Stops the ticks (a tick waiting is dropped) until a [`reset`](Interval::reset). Go's
    /// `Ticker.Stop`.
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::task::{Context, Waker};
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// let mut i = fake.clock().interval(Duration::from_secs(1));
    /// i.stop();
    /// fake.advance(Duration::from_secs(5));
    /// assert!(i.poll_tick(&mut Context::from_waker(Waker::noop())).is_pending());
    /// ```
    pub fn stop(&mut self) {
        self.ticker.stop()
    }

    /// The period.
    ///
    /// ```
    /// use std::time::Duration;
    /// let i = gotimer::future::interval(Duration::from_millis(250));
    /// assert_eq!(i.period(), Duration::from_millis(250));
    /// ```
    pub fn period(&self) -> Duration {
        self.ticker.period()
    }
}

impl Stream for Interval {
    type Item = Instant;

    /// Never ends: `Ready(Some(tick))` or `Pending`.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }
}

impl Drop for Interval {
    fn drop(&mut self) {
        self.ticker.forget_waiter(&mut self.waiter);
    }
}

impl fmt::Debug for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interval")
            .field("period", &self.period())
            .field("ticker", &self.ticker)
            .finish()
    }
}

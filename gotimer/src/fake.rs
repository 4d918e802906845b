//! `FakeClock`: virtual time for tests, moved only by hand.

use crate::clock::Clock;
use crate::future::Sleep;
use crate::runtime::{ManualRuntime, Rt, Step};
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

/// A clock whose time moves only when the test says so, for testing code that waits: timeouts,
/// idle timers, retries, tickers, debouncers. The code under test takes a [`Clock`] (or runs on a
/// thread that [entered](Clock::enter) it) and makes its timers as usual; the test moves time with
/// [`advance`](FakeClock::advance) and sees every timer that came due fire, in order, in
/// microseconds of real time.
///
/// Semantics are the system clock's, Go 1.23's: values are the due instant to the nanosecond,
/// tickers are phase-aligned and drop ticks their receiver has not taken, and `stop`/`reset` return
/// the same results and leave no stale value. Nothing on a fake clock ever fires on real time, and
/// fake clocks are independent of each other and of the system clock: tests running in parallel do
/// not interfere. An idle fake clock costs no thread.
///
/// Callbacks ([`Clock::after_func`]) run on the thread that advances the clock, one at a time, in
/// deadline order. [`after_func(ZERO)`](Clock::after_func) and other callbacks that come due
/// between advances run at the start of the next advance (`advance(Duration::ZERO)` will do); until
/// then they have not started, so a [`stop`](crate::Timer::stop) returns true and they never run.
///
/// The fake clock lives while any handle of it does: a `FakeClock`, a [`Clock`], or a [`Timer`] or
/// [`Ticker`](crate::Ticker) made on it. When the last one is dropped, every timer still pending on it is
/// freed, callbacks that never ran are dropped unrun, and the receivers left over (from
/// [`Clock::after`] and [`Clock::tick`]) report disconnection. Until then it keeps the channel of
/// each `after` that delivered (see [`Clock::after`]). A callback that holds a clone of its
/// own clock keeps the clock alive while it is pending.
///
/// [`Timer`]: crate::Timer
///
/// ```
/// use gotimer::FakeClock;
/// use std::time::Duration;
///
/// let fake = FakeClock::new();
/// let clock = fake.clock();
/// let timeout = clock.timer(Duration::from_secs(30));
/// fake.advance(Duration::from_secs(29));
/// assert!(timeout.c().try_recv().is_err());
/// fake.advance(Duration::from_secs(1));
/// assert_eq!(timeout.c().try_recv().unwrap(), fake.now());
/// ```
#[derive(Clone)]
pub struct FakeClock {
    rt: Arc<ManualRuntime>,
}

impl FakeClock {
    /// A new fake clock. Its [`now`](FakeClock::now) is `Instant::now()` at creation, and stands
    /// still.
    ///
    /// ```
    /// let fake = gotimer::FakeClock::new();
    /// std::thread::sleep(std::time::Duration::from_millis(2));
    /// assert_eq!(fake.now(), fake.now());
    /// ```
    pub fn new() -> FakeClock {
        FakeClock {
            rt: Arc::new(ManualRuntime::new()),
        }
    }

    /// The [`Clock`] to hand to the code under test.
    ///
    /// ```
    /// let fake = gotimer::FakeClock::new();
    /// assert!(fake.clock().is_fake());
    /// assert_eq!(fake.clock(), fake.clock());
    /// ```
    pub fn clock(&self) -> Clock {
        Clock::from_rt(Rt::Manual(self.rt.clone()))
    }

    /// The clock's current time.
    ///
    /// ```
    /// let fake = gotimer::FakeClock::new();
    /// assert_eq!(fake.now(), fake.clock().now());
    /// ```
    pub fn now(&self) -> Instant {
        self.rt.core().now()
    }

    /// Moves the clock forward by `d`, stepping through every pending deadline up to `now + d` in
    /// order. At each step the clock reads exactly that deadline, everything due then fires, and the
    /// callbacks due then run (on this thread, one after another) before time moves past it.
    /// Timers and callbacks that are created during the advance, by callbacks or by other threads,
    /// with a deadline up to the target fire in the same advance.
    ///
    /// Before each step, and before it returns, it waits until every task scoped to this clock
    /// ([`Clock::scope`]) is idle, so that the tasks a step woke run, and make their next timers,
    /// before time moves on (see `Clock::scope` for what it can and cannot see, and
    /// [`advance_async`](FakeClock::advance_async) for a test on an executor's thread: a
    /// current-thread runtime's, or a multi-thread runtime's worker).
    ///
    /// It returns once the clock reads `now + d` and every callback that came due within it has
    /// returned, including callbacks due at once (`after_func(ZERO)`) made before or during it. A
    /// callback that panics is caught and reported (and counted in
    /// [`Clock::stats`]), and the advance goes on; a callback that never returns keeps `advance`
    /// from returning. A ticker steps once per tick: advancing a 1 ms ticker by an hour takes 3.6
    /// million steps. Advances of one clock from several threads run one after another.
    ///
    /// # Panics
    /// When called from a callback of the same clock (that advance would wait for itself), and
    /// when scoped tasks stay runnable past the [settle limit](FakeClock::set_settle_limit).
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    ///
    /// let fake = FakeClock::new();
    /// let clock = fake.clock();
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// for ms in [30, 10, 20] {
    ///     let (clock2, seen) = (clock.clone(), seen.clone());
    ///     let start = clock.now();
    ///     clock.after_func(Duration::from_millis(ms), move || {
    ///         seen.lock().unwrap().push(clock2.now() - start);
    ///     });
    /// }
    /// fake.advance(Duration::from_millis(25));
    /// let ms = Duration::from_millis;
    /// assert_eq!(*seen.lock().unwrap(), [ms(10), ms(20)]);
    /// fake.advance(Duration::from_millis(5));
    /// assert_eq!(*seen.lock().unwrap(), [ms(10), ms(20), ms(30)]);
    /// ```
    pub fn advance(&self, d: Duration) {
        self.rt.advance(d)
    }

    /// [`advance`](FakeClock::advance) for a test that runs on an executor's thread: a task on a
    /// current-thread runtime, where a blocking advance would keep the scoped tasks it waits for
    /// from running. Between steps it waits without blocking the thread; if the calling task is
    /// itself scoped to this clock (directly or through nested scopes), it leaves its own scopes
    /// out of the wait. Its steps take the clock's advance lock one at a time, and wait for it
    /// without blocking, so an advance from another thread can come in between them: that
    /// advance's time adds to this one's, and this one still moves the clock by `d` of its own.
    /// Nothing happens until the future is first polled, as with an `async fn`.
    ///
    /// # Panics
    /// When called from a callback of the same clock, and, as `advance`, when scoped tasks stay
    /// runnable past the [settle limit](FakeClock::set_settle_limit).
    ///
    /// ```
    /// use gotimer::{future, FakeClock};
    /// use std::time::Duration;
    ///
    /// let fake = FakeClock::new();
    /// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// rt.block_on(async {
    ///     let clock = fake.clock();
    ///     let worker = tokio::spawn(clock.scope(async {
    ///         future::sleep(Duration::from_secs(5)).await;
    ///         "done"
    ///     }));
    ///     fake.advance_async(Duration::from_secs(5)).await; // lets the worker run in between
    ///     assert_eq!(worker.await.unwrap(), "done");
    /// });
    /// ```
    pub fn advance_async(&self, d: Duration) -> impl Future<Output = ()> + Send + 'static {
        let rt = self.rt.clone();
        // Counted from where the clock is at each step, as an `async fn`'s body runs when polled:
        // an advance that comes in between adds to this one.
        let mut remaining = d;
        async move {
            let mut limit: Option<(Instant, Sleep)> = None;
            loop {
                poll_fn(|cx| {
                    let settle = rt.settle();
                    let own = settle.own_tasks();
                    if settle.poll_idle(&own, cx).is_ready() {
                        return Poll::Ready(());
                    }
                    let (start, sleep) = limit.get_or_insert_with(|| {
                        (Instant::now(), Clock::system().sleep_async(settle.limit()))
                    });
                    if Pin::new(sleep).poll(cx).is_ready() {
                        settle.stuck(&own, start.elapsed());
                    }
                    Poll::Pending
                })
                .await;
                limit = None;
                let (step, moved) = poll_fn(|cx| match rt.step_once(remaining, cx) {
                    Some(stepped) => Poll::Ready(stepped),
                    None => Poll::Pending,
                })
                .await;
                remaining = remaining.saturating_sub(moved);
                if let Step::Done = step {
                    return;
                }
            }
        }
    }

    /// How long of real time an advance waits for the tasks scoped to this clock
    /// ([`Clock::scope`]) to go idle before it panics, naming them: 10 s unless set.
    ///
    /// ```should_panic
    /// use gotimer::FakeClock;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// fake.set_settle_limit(Duration::from_millis(10));
    /// let never_polled = fake.clock().scope(async {}); // runnable until its first poll
    /// fake.advance(Duration::from_secs(1)); // panics: "the task scoped at …: made and never polled"
    /// # drop(never_polled);
    /// ```
    pub fn set_settle_limit(&self, limit: Duration) {
        self.rt.settle().set_limit(limit)
    }

    /// Jumps to the earliest pending deadline, fires everything due then and runs its callbacks;
    /// returns how far the clock moved, or `None` (moving nothing) if no timer with a deadline is
    /// pending. Callbacks waiting to run (`after_func(ZERO)`) run first.
    ///
    /// # Panics
    /// When called from a callback of the same clock.
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// assert_eq!(fake.advance_to_next(), None);
    /// let t = fake.clock().timer(Duration::from_secs(90));
    /// assert_eq!(fake.advance_to_next(), Some(Duration::from_secs(90)));
    /// assert!(t.c().try_recv().is_ok());
    /// ```
    pub fn advance_to_next(&self) -> Option<Duration> {
        self.rt.advance_to_next()
    }

    /// The earliest deadline of the timers pending on this clock, exactly (a walk over them all).
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// assert_eq!(fake.next_deadline(), None);
    /// let _t = fake.clock().timer(Duration::from_millis(7));
    /// assert_eq!(fake.next_deadline(), Some(fake.now() + Duration::from_millis(7)));
    /// ```
    pub fn next_deadline(&self) -> Option<Instant> {
        self.rt.next_deadline()
    }

    /// How many timers with a deadline are pending on this clock: `Timer`s, `Ticker`s, `tick`s,
    /// `after`s and `after_func`s, and so the threads blocked in its [`sleep`](Clock::sleep) (a
    /// sleep is a timer, so each sleeping thread counts once).
    ///
    /// This is how a test knows that the code under test is waiting on the clock, but it counts
    /// timers, not threads: a thread blocked in `select!` on a timer's channel is counted through
    /// its timer (and so is a timer nobody is waiting on), a thread blocked on anything else is not
    /// counted, and a timer with an out-of-range deadline (`Duration::MAX`) is not counted either.
    /// A receiver of [`Clock::after`] dropped unreceived still counts until its deadline.
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// let t = fake.clock().timer(Duration::from_secs(1));
    /// assert_eq!(fake.waiters(), 1);
    /// t.stop();
    /// assert_eq!(fake.waiters(), 0);
    /// ```
    pub fn waiters(&self) -> usize {
        self.rt.waiters()
    }

    /// Blocks until [`waiters`](FakeClock::waiters) is at least `n`, and returns true; or returns
    /// false once `timeout` of real time has passed. It wakes on each new timer, without polling.
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// let clock = fake.clock();
    /// std::thread::spawn(move || clock.sleep(Duration::from_secs(1)));
    /// assert!(fake.wait_for_waiters(1, Duration::from_secs(10)));
    /// assert!(!fake.wait_for_waiters(2, Duration::from_millis(10)));
    /// ```
    pub fn wait_for_waiters(&self, n: usize, timeout: Duration) -> bool {
        self.rt.wait_for_waiters(n, timeout)
    }
}

impl Default for FakeClock {
    fn default() -> Self {
        FakeClock::new()
    }
}

impl fmt::Debug for FakeClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeClock")
            .field("now", &self.now())
            .field("waiters", &self.waiters())
            .finish()
    }
}

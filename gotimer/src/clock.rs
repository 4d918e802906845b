//! `Clock`: the handle through which timers are made, on the system clock or on a fake one, and the
//! clock that the free functions (`Timer::new`, `after`, `sleep`, …) use on each thread.

use crate::context::{self, current_rt, ClockGuard};
use crate::future::{Interval, Sleep, Timeout};
use crate::origin::Kind;
use crate::runtime::{Due, Rt, Stats, SPIN_BELOW};
use crate::scope::Scoped;
use crate::ticker::Ticker;
use crate::timer::Timer;
use crossbeam_channel::Receiver;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::panic::Location;
use std::time::{Duration, Instant};

/// A source of time and timers: the system clock, or a [`FakeClock`](crate::FakeClock) that a test
/// moves by hand. `Send + Sync`, and cheap to clone (a pointer).
///
/// Its methods are the free functions of this crate, on this clock: `clock.timer(d)` is
/// [`Timer::new(d)`](Timer::new), `clock.after(d)` is [`after(d)`](crate::after), and so on. The
/// timers it makes are the same [`Timer`], [`Ticker`] and [`Receiver`] types on every clock, so code
/// that takes a `Clock` needs no generics, and its tests can pass a fake one. The free functions
/// use [`Clock::current`], which is the system clock unless the thread [entered](Clock::enter)
/// another.
///
/// ```
/// use gotimer::{Clock, FakeClock};
/// use std::time::Duration;
///
/// // Code under test takes the clock it should use.
/// fn wait_twice(clock: &Clock) -> Duration {
///     let start = clock.now();
///     clock.sleep(Duration::from_millis(5));
///     clock.sleep(Duration::from_millis(5));
///     clock.now() - start
/// }
///
/// assert!(wait_twice(&Clock::system()) >= Duration::from_millis(10));
///
/// let fake = FakeClock::new();
/// let clock = fake.clock();
/// let worker = std::thread::spawn(move || wait_twice(&clock));
/// for _ in 0..2 {
///     assert!(fake.wait_for_waiters(1, Duration::from_secs(10)));
///     fake.advance(Duration::from_millis(5));
/// }
/// assert_eq!(worker.join().unwrap(), Duration::from_millis(10));
/// ```
#[derive(Clone)]
pub struct Clock {
    rt: Rt,
}

impl Clock {
    pub(crate) fn from_rt(rt: Rt) -> Clock {
        Clock { rt }
    }

    /// The real clock: `Instant::now()`, a driver thread and callback threads. This is what the free
    /// functions use unless the thread entered another clock.
    ///
    /// ```
    /// let clock = gotimer::Clock::system();
    /// let before = std::time::Instant::now();
    /// assert!(clock.now() >= before);
    /// ```
    pub fn system() -> Clock {
        Clock { rt: Rt::system() }
    }

    /// The clock the free functions use on this thread now: the one most recently
    /// [entered](Clock::enter) and not yet left, or else [`Clock::system`].
    ///
    /// ```
    /// use gotimer::{Clock, FakeClock};
    /// let fake = FakeClock::new();
    /// assert!(!Clock::current().is_fake());
    /// let _guard = fake.clock().enter();
    /// assert_eq!(Clock::current().now(), fake.now());
    /// ```
    pub fn current() -> Clock {
        Clock { rt: current_rt() }
    }

    /// True for a [`FakeClock`](crate::FakeClock)'s clock.
    ///
    /// ```
    /// assert!(!gotimer::Clock::system().is_fake());
    /// assert!(gotimer::FakeClock::new().clock().is_fake());
    /// ```
    pub fn is_fake(&self) -> bool {
        self.rt.is_fake()
    }

    /// The current time on this clock. On a fake clock it stands still until the test advances it.
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// let t0 = fake.clock().now();
    /// fake.advance(Duration::from_secs(1));
    /// assert_eq!(fake.clock().now() - t0, Duration::from_secs(1));
    /// ```
    pub fn now(&self) -> Instant {
        self.rt.core().now()
    }

    /// [`Timer::new(d)`](Timer::new) on this clock.
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// let t = fake.clock().timer(Duration::from_secs(5));
    /// fake.advance(Duration::from_secs(5));
    /// assert_eq!(t.c().try_recv().unwrap(), fake.now());
    /// ```
    #[track_caller]
    #[must_use = "dropping a Timer cancels it and disconnects its channel: keep it while you wait on c()"]
    pub fn timer(&self, d: Duration) -> Timer {
        Timer::start(self.rt.clone(), Location::caller(), Due::In(d))
    }

    /// [`Timer::at(deadline)`](Timer::at) on this clock: a timer that sends `deadline` when this
    /// clock reaches it, at once if it is past, never if it is too far away to represent.
    ///
    /// Deadlines are instants on this clock's time line. On a fake clock that is
    /// [`now()`](Clock::now) plus something: a fake clock starts at the `Instant::now()` of its
    /// creation and moves only when advanced, so a later `Instant::now()` is as far in its future
    /// as real time has run. The value delivered is `deadline` exactly, even for a deadline from
    /// before the clock started (but see [`Timer::reset_at`] for that case).
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// let deadline = fake.now() + Duration::from_secs(30);
    /// let t = fake.clock().timer_at(deadline);
    /// fake.advance(Duration::from_secs(29));
    /// assert!(t.c().try_recv().is_err());
    /// fake.advance(Duration::from_secs(1));
    /// assert_eq!(t.c().try_recv().unwrap(), deadline);
    /// ```
    #[track_caller]
    #[must_use = "dropping a Timer cancels it and disconnects its channel: keep it while you wait on c()"]
    pub fn timer_at(&self, deadline: Instant) -> Timer {
        Timer::start(self.rt.clone(), Location::caller(), Due::At(deadline))
    }

    /// [`after(d)`](crate::after) on this clock.
    ///
    /// On the system clock it registers nothing (the receiving thread's own timeout is the timer).
    /// A fake clock cannot lend its time to the operating system, so there `after` registers a timer
    /// with no handle: a receiver dropped unreceived leaves that timer pending (counted by
    /// [`FakeClock::waiters`](crate::FakeClock::waiters)) until the clock reaches its deadline, when
    /// it is freed, or until the fake clock is dropped. One that delivers to a receiver still there
    /// frees its timer, but the clock keeps its channel (a sender of it: 680 bytes, 664 of them the
    /// channel) until the fake clock is dropped, so that a receiver that has taken the value finds
    /// the channel empty, as Go's and the system clock's `after` are: a `select!` that keeps the
    /// receiver takes `default` (or blocks), and does not take the arm with `Err`.
    ///
    /// ```
    /// use gotimer::{select, FakeClock};
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// let start = fake.now();
    /// let rx = fake.clock().after(Duration::from_millis(3));
    /// assert!(rx.try_recv().is_err());
    /// fake.advance(Duration::from_millis(3));
    /// assert_eq!(rx.try_recv(), Ok(start + Duration::from_millis(3)));
    /// select! {
    ///     recv(rx) -> _ => unreachable!("empty, not disconnected"),
    ///     default => {}
    /// }
    /// ```
    #[track_caller]
    #[must_use = "a receiver dropped unused is a timeout nobody waits for"]
    pub fn after(&self, d: Duration) -> Receiver<Instant> {
        crate::timer::after_on(&self.rt, Location::caller(), Due::In(d))
    }

    /// [`at(deadline)`](crate::at) on this clock: a channel that receives `deadline` when this
    /// clock reaches it. It costs what [`Clock::after`] costs on the same clock (on a fake clock,
    /// its channel is kept until the clock is dropped once it has delivered), and its deadline is
    /// read as [`Clock::timer_at`]'s is.
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// let deadline = fake.now() + Duration::from_millis(3);
    /// let rx = fake.clock().at(deadline);
    /// fake.advance(Duration::from_millis(3));
    /// assert_eq!(rx.try_recv().unwrap(), deadline);
    /// ```
    #[track_caller]
    #[must_use = "a receiver dropped unused is a timeout nobody waits for"]
    pub fn at(&self, deadline: Instant) -> Receiver<Instant> {
        crate::timer::after_on(&self.rt, Location::caller(), Due::At(deadline))
    }

    /// [`after_func(d, f)`](crate::after_func) on this clock. On a fake clock, `f` runs on the
    /// thread that advances the clock past `d`, before time moves further.
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// let runs = Arc::new(AtomicUsize::new(0));
    /// let r = runs.clone();
    /// fake.clock().after_func(Duration::from_secs(1), move || {
    ///     r.fetch_add(1, Ordering::SeqCst);
    /// });
    /// fake.advance(Duration::from_millis(999));
    /// assert_eq!(runs.load(Ordering::SeqCst), 0);
    /// fake.advance(Duration::from_millis(1));
    /// assert_eq!(runs.load(Ordering::SeqCst), 1);
    /// ```
    #[track_caller]
    pub fn after_func<F>(&self, d: Duration, f: F) -> Timer
    where
        F: Fn() + Send + Sync + 'static,
    {
        Timer::start_func(self.rt.clone(), Location::caller(), Due::In(d), f)
    }

    /// [`after_func_at(deadline, f)`](crate::after_func_at) on this clock: `f` runs when this clock
    /// reaches `deadline`, read as [`Clock::timer_at`] reads it.
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::sync::mpsc::channel;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// let (clock, (tx, rx)) = (fake.clock(), channel());
    /// let deadline = fake.now() + Duration::from_secs(1);
    /// let c = clock.clone();
    /// clock.after_func_at(deadline, move || tx.send(c.now()).unwrap());
    /// fake.advance(Duration::from_secs(2));
    /// assert_eq!(rx.try_recv().unwrap(), deadline);
    /// ```
    #[track_caller]
    pub fn after_func_at<F>(&self, deadline: Instant, f: F) -> Timer
    where
        F: Fn() + Send + Sync + 'static,
    {
        Timer::start_func(self.rt.clone(), Location::caller(), Due::At(deadline), f)
    }

    /// [`after_func_stopped(f)`](crate::after_func_stopped) on this clock: a callback timer that
    /// runs `f` only once [`reset`](Timer::reset) schedules it (the debouncer's timer).
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// let runs = Arc::new(AtomicUsize::new(0));
    /// let r = runs.clone();
    /// let t = fake.clock().after_func_stopped(move || {
    ///     r.fetch_add(1, SeqCst);
    /// });
    /// assert!(!t.stop(), "nothing was pending");
    /// fake.advance(Duration::from_secs(60));
    /// assert_eq!(runs.load(SeqCst), 0);
    /// assert!(!t.reset(Duration::from_secs(1)), "nothing was pending");
    /// fake.advance(Duration::from_secs(1));
    /// assert_eq!(runs.load(SeqCst), 1);
    /// ```
    #[track_caller]
    #[must_use = "a stopped after_func runs only once reset: keep its Timer"]
    pub fn after_func_stopped<F>(&self, f: F) -> Timer
    where
        F: Fn() + Send + Sync + 'static,
    {
        Timer::start_func_stopped(self.rt.clone(), Location::caller(), f)
    }

    /// [`Ticker::new(d)`](Ticker::new) on this clock.
    ///
    /// # Panics
    /// If `d` is zero, with "non-positive interval for Ticker::new", as Go does.
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// let t0 = fake.now();
    /// let ticker = fake.clock().ticker(Duration::from_secs(1));
    /// fake.advance(Duration::from_secs(3));
    /// // The first tick waits in the channel; the two after it found it full and were dropped.
    /// assert_eq!(ticker.c().try_recv().unwrap(), t0 + Duration::from_secs(1));
    /// assert!(ticker.c().try_recv().is_err());
    /// fake.advance(Duration::from_secs(1));
    /// assert_eq!(ticker.c().try_recv().unwrap(), t0 + Duration::from_secs(4));
    /// ```
    #[track_caller]
    #[must_use = "dropping a Ticker stops it and disconnects its channel: keep it while you receive"]
    pub fn ticker(&self, d: Duration) -> Ticker {
        Ticker::start(self.rt.clone(), Location::caller(), d)
    }

    /// [`Ticker::at(start, period)`](Ticker::at) on this clock: ticks due at `start + k·period`,
    /// skipping those already past; `start` is read as [`Clock::timer_at`] reads a deadline.
    ///
    /// # Panics
    /// If `period` is zero, with "non-positive interval for Ticker::at".
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// let start = fake.now() + Duration::from_secs(10);
    /// let ticker = fake.clock().ticker_at(start, Duration::from_secs(1));
    /// fake.advance(Duration::from_secs(10));
    /// assert_eq!(ticker.c().try_recv().unwrap(), start, "the first tick is at start");
    /// fake.advance(Duration::from_secs(1));
    /// assert_eq!(ticker.c().try_recv().unwrap(), start + Duration::from_secs(1));
    /// ```
    #[track_caller]
    #[must_use = "dropping a Ticker stops it and disconnects its channel: keep it while you receive"]
    pub fn ticker_at(&self, start: Instant, period: Duration) -> Ticker {
        Ticker::start_at(self.rt.clone(), Location::caller(), start, period)
    }

    /// [`tick(d)`](crate::tick) on this clock.
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// let ticks = fake.clock().tick(Duration::from_secs(1));
    /// fake.advance(Duration::from_secs(1));
    /// assert!(ticks.try_recv().is_ok());
    /// ```
    #[track_caller]
    #[must_use = "a tick channel dropped unused ticks for nobody (it frees itself at its next tick)"]
    pub fn tick(&self, d: Duration) -> Receiver<Instant> {
        crate::ticker::tick_on(&self.rt, Location::caller(), d)
    }

    /// [`sleep(d)`](crate::sleep) on this clock. On a fake clock it blocks the calling thread until
    /// the clock reaches `now + d` (a timer, counted by
    /// [`FakeClock::waiters`](crate::FakeClock::waiters) while it waits); `Duration::ZERO` returns at
    /// once.
    ///
    /// # Panics
    /// On a fake clock, when called from one of that clock's own callbacks with a non-zero `d`: the
    /// advance running the callback would wait for the callback, which waits for the advance.
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// let clock = fake.clock();
    /// let sleeper = std::thread::spawn(move || clock.sleep(Duration::from_secs(60)));
    /// assert!(fake.wait_for_waiters(1, Duration::from_secs(10)));
    /// fake.advance(Duration::from_secs(60));
    /// sleeper.join().unwrap();
    /// ```
    pub fn sleep(&self, d: Duration) {
        if !self.is_fake() {
            return sleep_os(d);
        }
        if d.is_zero() {
            return;
        }
        assert!(
            !matches!(&self.rt, Rt::Manual(m) if m.in_own_callback()),
            "gotimer: Clock::sleep on a fake clock from one of its own callbacks would never return"
        );
        let timer = self.timer(d);
        // The timer's handle holds the clock, so its channel stays connected.
        let _ = timer.c().recv();
    }

    /// [`future::sleep(d)`](crate::future::sleep) on this clock: a future that completes when this
    /// clock reaches `now + d`. On a fake clock it is counted by
    /// [`FakeClock::waiters`](crate::FakeClock::waiters) while it is pending, and completes when an
    /// advance reaches its deadline.
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// let s = fake.clock().sleep_async(Duration::from_secs(60));
    /// assert_eq!(fake.waiters(), 1);
    /// fake.advance(Duration::from_secs(60));
    /// assert_eq!(pollster::block_on(s), fake.now());
    /// ```
    #[track_caller]
    pub fn sleep_async(&self, d: Duration) -> Sleep {
        Sleep::start(self.rt.clone(), Location::caller(), Kind::Sleep, Due::In(d))
    }

    /// [`future::sleep_until(deadline)`](crate::future::sleep_until) on this clock.
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// let deadline = fake.now() + Duration::from_secs(1);
    /// let s = fake.clock().sleep_until_async(deadline);
    /// fake.advance(Duration::from_secs(1));
    /// assert_eq!(pollster::block_on(s), deadline);
    /// ```
    #[track_caller]
    pub fn sleep_until_async(&self, deadline: Instant) -> Sleep {
        Sleep::start(
            self.rt.clone(),
            Location::caller(),
            Kind::Sleep,
            Due::At(deadline),
        )
    }

    /// [`future::timeout(d, f)`](crate::future::timeout) on this clock.
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// let t = fake.clock().timeout(Duration::from_secs(5), std::future::pending::<()>());
    /// fake.advance(Duration::from_secs(5));
    /// assert!(pollster::block_on(t).is_err());
    /// ```
    #[track_caller]
    pub fn timeout<F: IntoFuture>(&self, d: Duration, f: F) -> Timeout<F::IntoFuture> {
        let sleep = Sleep::start(
            self.rt.clone(),
            Location::caller(),
            Kind::Timeout,
            Due::In(d),
        );
        Timeout::new(f.into_future(), sleep)
    }

    /// [`future::interval(period)`](crate::future::interval) on this clock.
    ///
    /// # Panics
    /// If `period` is zero, with "non-positive interval for future::interval".
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// let mut i = fake.clock().interval(Duration::from_secs(1));
    /// fake.advance(Duration::from_secs(1));
    /// assert_eq!(pollster::block_on(i.tick()), fake.now());
    /// ```
    #[track_caller]
    pub fn interval(&self, period: Duration) -> Interval {
        Interval::new(Ticker::start_interval(
            self.rt.clone(),
            Location::caller(),
            period,
        ))
    }

    /// [`future::timeout_at(deadline, f)`](crate::future::timeout_at) on this clock.
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// let t = fake.clock().timeout_at(fake.now() + Duration::from_secs(5), async { 1 });
    /// assert_eq!(pollster::block_on(t), Ok(1));
    /// ```
    #[track_caller]
    pub fn timeout_at<F: IntoFuture>(&self, deadline: Instant, f: F) -> Timeout<F::IntoFuture> {
        let due = Due::At(deadline);
        let sleep = Sleep::start(self.rt.clone(), Location::caller(), Kind::Timeout, due);
        Timeout::new(f.into_future(), sleep)
    }

    /// Makes this the clock of the free functions on the calling thread until the guard is dropped.
    /// Guards nest; dropping one restores the clock that was current before it.
    ///
    /// Other threads do not inherit it, including threads this one spawns: pass them the `Clock`
    /// (it is `Send`), or have them `enter` it themselves.
    ///
    /// # Panics
    /// When guards are dropped in another order than the reverse of their creation.
    ///
    /// ```
    /// use gotimer::{Clock, FakeClock};
    /// use std::time::Duration;
    ///
    /// let fake = FakeClock::new();
    /// let clock = fake.clock();
    /// let worker = std::thread::spawn(move || {
    ///     let _guard = clock.enter(); // this thread's free functions now use the fake clock
    ///     gotimer::sleep(Duration::from_secs(3600));
    /// });
    /// assert!(fake.wait_for_waiters(1, Duration::from_secs(10)));
    /// fake.advance(Duration::from_secs(3600));
    /// worker.join().unwrap();
    /// assert!(!Clock::current().is_fake(), "this thread never entered it");
    /// ```
    pub fn enter(&self) -> ClockGuard {
        context::enter(self.rt.clone())
    }

    /// Runs `f` with this clock entered: every gotimer call inside it (the free functions,
    /// [`future::sleep`](crate::future::sleep), [`Timer::new`], …) binds to this clock, on
    /// whichever thread polls it, as [`enter`](Clock::enter) does for a thread. Spawn the scoped
    /// future on any executor, or poll it by hand.
    ///
    /// On a [`FakeClock`](crate::FakeClock)'s clock it also gives tasks virtual time that they
    /// obey, as Go 1.25's `testing/synctest` gives goroutines in a bubble, without owning the
    /// executor: at each step, [`advance`](crate::FakeClock::advance) and
    /// [`advance_async`](crate::FakeClock::advance_async) wait until every task scoped to this
    /// clock is idle (not being polled, and not woken but not yet polled, whatever woke it: a
    /// timer, a channel, another task) before they fire the next deadline. So a woken task runs,
    /// reads [`now()`](Clock::now) equal to its deadline, and makes its next timers from there,
    /// before time moves on; and a test that spawns a scoped task and advances at once does not
    /// race it: a scoped future counts as runnable from its creation until its first poll.
    ///
    /// The limits, which Go's bubbles do not have, since Go owns its scheduler:
    /// - A task outside every scope, or blocked on something other than a wake (real I/O, a
    ///   thread, a lock), is invisible: an advance does not wait for it.
    /// - A task that never yields (a poll that never returns), or that is woken and never polled
    ///   again (its executor is gone), keeps an advance waiting. After a limit of real time
    ///   (10 s; [`FakeClock::set_settle_limit`](crate::FakeClock::set_settle_limit)) the advance
    ///   panics, naming the creation site of each task it waited for.
    /// - A wake that an executor makes after a poll has returned is seen only once it is made,
    ///   and an advance can step on in between. Three such wakes are common:
    ///   - a `JoinHandle`'s: the task awaiting it is woken after the awaited task's last poll;
    ///   - tokio's `yield_now`;
    ///   - tokio's cooperative budget: a tokio channel that returns `Pending` because the budget
    ///     is spent.
    ///
    ///   Both tokio cases hand the waker to the scheduler, which wakes it after the poll. So
    ///   inside a scope:
    ///   - have a task send its result on a channel as its last act, and await that, when the
    ///     receiver's time matters;
    ///   - yield with a future that wakes inside its poll (`futures_lite::future::yield_now`, as
    ///     smol's);
    ///   - wrap a task that drains a busy tokio channel in `tokio::task::unconstrained`.
    /// - A blocking `advance` on a thread of an executor waits for tasks that thread may be the
    ///   only one to run. The thread of a current-thread runtime is one. A multi-thread tokio
    ///   worker is another: the task it woke last sits in a slot that no other worker takes. Use
    ///   `advance_async` there, or on tokio's multi-thread runtime wrap the `advance` in
    ///   `tokio::task::block_in_place`.
    /// - A scoped task that blocks its thread on a timer of the clock inside a poll (a blocking
    ///   `sleep`, a `recv()` on a timer's channel) is still inside that poll: the advance it waits
    ///   for waits for it, until the limit names it. Inside a scope, await the clock instead
    ///   (`future::sleep`, `recv_async`). A blocking `advance` from a scoped task that finds
    ///   another advance under way counts as idle to it while it waits its turn.
    /// - A scoped future counts from its creation: made well before it is first polled (a helper
    ///   scoped, then awaited after a sleep), it holds every advance until then. Scope a future
    ///   where it is spawned or awaited.
    ///
    /// The scope binds what runs inside it: a future made by the caller binds when it is made, so
    /// `clock.scope(future::sleep(d))` sleeps on the caller's clock; write
    /// `clock.scope(async { future::sleep(d).await })`.
    ///
    /// On the system clock it only enters the clock.
    ///
    /// ```
    /// use gotimer::{future, FakeClock};
    /// use std::time::Duration;
    ///
    /// let fake = FakeClock::new();
    /// let clock = fake.clock();
    /// let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    /// // Code under test: retries every second, three times, then gives up.
    /// let task = rt.spawn(clock.scope(async {
    ///     let start = gotimer::Clock::current().now();
    ///     for _ in 0..3 {
    ///         future::sleep(Duration::from_secs(1)).await;
    ///     }
    ///     gotimer::Clock::current().now() - start
    /// }));
    /// fake.advance(Duration::from_secs(10)); // no wait_for_waiters needed: it waits for the task
    /// assert_eq!(rt.block_on(task).unwrap(), Duration::from_secs(3));
    /// ```
    #[track_caller]
    pub fn scope<F: Future>(&self, f: F) -> Scoped<F> {
        Scoped::new(self.rt.clone(), Location::caller(), f)
    }

    /// This clock's counters: pending timers, callback threads, panicked callbacks.
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// fake.clock().after_func(Duration::from_secs(1), || panic!("boom"));
    /// assert_eq!(fake.clock().stats().pending, 1);
    /// fake.advance(Duration::from_secs(1));
    /// assert_eq!(fake.clock().stats().callback_panics, 1);
    /// ```
    pub fn stats(&self) -> Stats {
        self.rt.stats()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.rt {
            Rt::System(..) => f.write_str("Clock::system()"),
            Rt::Manual(..) => f
                .debug_struct("Clock")
                .field("fake", &true)
                .field("now", &self.now())
                .finish(),
        }
    }
}

impl PartialEq for Clock {
    /// Two handles of the same clock.
    fn eq(&self, other: &Clock) -> bool {
        self.rt.same(&other.rt)
    }
}

impl Eq for Clock {}

/// Blocks the calling thread for at least `d`. Go's `time.Sleep`. `Duration::ZERO` returns at once.
/// It sleeps on [`Clock::current`]: on a thread that entered a fake clock, until that clock reaches
/// `now + d` (see [`Clock::sleep`]).
///
/// On the system clock a sleeping thread needs no timer entry: this is the operating system's sleep
/// (`std::thread::sleep`), except below [`SPIN_BELOW`], where the kernel's default timer slack of
/// 50 µs would stretch the sleep to several times `d`; such short waits yield the CPU in a loop
/// (`std::thread::yield_now`) until `d` has passed, as Go's scheduler does not sleep in the kernel
/// for them either.
///
/// ```
/// use std::time::{Duration, Instant};
/// let start = Instant::now();
/// gotimer::sleep(Duration::from_millis(2));
/// assert!(start.elapsed() >= Duration::from_millis(2));
/// ```
pub fn sleep(d: Duration) {
    match current_rt() {
        Rt::System(..) => sleep_os(d),
        fake => Clock::from_rt(fake).sleep(d),
    }
}

/// The system clock's sleep.
fn sleep_os(d: Duration) {
    if d >= SPIN_BELOW {
        return std::thread::sleep(d);
    }
    let start = std::time::Instant::now();
    while start.elapsed() < d {
        std::thread::yield_now();
    }
}

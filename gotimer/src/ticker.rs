//! `Ticker` and `tick`: Go's periodic timers.

use crate::context::current_rt;
use crate::future::recv::Recv;
use crate::origin::Kind;
use crate::runtime::kinds::tasks::Tasks;
use crate::runtime::kinds::tick::Tick;
use crate::runtime::{Due, Handle, Held, Rt};
use crossbeam_channel::{bounded, never, Receiver};
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Delivers the instant of each tick on [`c()`](Ticker::c), every period. Go's `time.Ticker`.
///
/// Ticks are phase-aligned: they are due at `t0 + d`, `t0 + 2d`, … where `t0` is when the ticker was
/// created or last reset, so they do not drift. The channel holds one tick: a slow receiver finds at
/// most one waiting, never a burst, and the ticks it missed are dropped. As in Go 1.23, no tick due
/// before [`stop`](Ticker::stop) or [`reset`](Ticker::reset) is received after it returns. Dropping a
/// `Ticker` stops it and frees it at once.
///
/// ```
/// use gotimer::Ticker;
/// use std::time::Duration;
///
/// let ticker = Ticker::new(Duration::from_millis(2));
/// let a = ticker.c().recv().unwrap();
/// let b = ticker.c().recv().unwrap();
/// assert_eq!((b - a).as_nanos() % 2_000_000, 0, "phase-aligned");
/// ticker.stop();
/// assert!(ticker.c().recv_timeout(Duration::from_millis(10)).is_err());
/// ```
pub struct Ticker {
    handle: Handle<Tick>,
    /// The channel, made the first time `c()` asks for it, which arms the ticker (until then it is
    /// parked: see `runtime/entry/`). Set at creation on a fake clock.
    rx: OnceLock<Receiver<Instant>>,
}

impl Ticker {
    /// Creates a ticker that ticks every `d`, first at `d` from now. Go's `time.NewTicker`.
    ///
    /// # Panics
    /// If `d` is zero, with "non-positive interval for Ticker::new", as Go does.
    ///
    /// ```should_panic
    /// let _t = gotimer::Ticker::new(std::time::Duration::ZERO); // non-positive interval for Ticker::new
    /// ```
    ///
    /// Dropping the `Ticker` stops it, so a bare `Ticker::new(d);` is a warning:
    ///
    /// ```compile_fail
    /// #![deny(unused_must_use)]
    /// gotimer::Ticker::new(std::time::Duration::from_secs(1));
    /// ```
    #[track_caller]
    #[must_use = "dropping a Ticker stops it and disconnects its channel: keep it while you receive"]
    pub fn new(d: Duration) -> Ticker {
        Ticker::start(current_rt(), Location::caller(), d)
    }

    /// Creates a ticker whose ticks are due at `start`, `start + period`, `start + 2·period`, …:
    /// phase-aligned to an instant of your choosing rather than to now (tokio's `interval_at`).
    /// Ticks already past when it is created are skipped, as a ticker drops the ticks nobody was
    /// there to take: the first tick is the first of those instants at or after now (at once if
    /// that is now). After that it is a [`Ticker::new`] in every way, with the same Go 1.23
    /// guarantees, and [`reset`](Ticker::reset) realigns it to now. A `start` too far away to
    /// represent never ticks. On a fake clock, build `start` from that clock's
    /// [`now`](crate::Clock::now).
    ///
    /// There is no `reset_at`: `Ticker::reset(d)` is Go's change of period from now; to realign the
    /// phase, make a new ticker.
    ///
    /// # Panics
    /// If `period` is zero, with "non-positive interval for Ticker::at".
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::time::Duration;
    ///
    /// let fake = FakeClock::new();
    /// let sec = Duration::from_secs(1);
    /// let t0 = fake.now();
    /// fake.advance(sec * 5 / 2); // 2.5 s: the ticks at t0 + 0, 1 and 2 s are past
    /// let ticker = fake.clock().ticker_at(t0, sec);
    /// fake.advance(sec);
    /// assert_eq!(ticker.c().try_recv().unwrap(), t0 + sec * 3, "aligned to t0, not to now");
    /// ```
    #[track_caller]
    #[must_use = "dropping a Ticker stops it and disconnects its channel: keep it while you receive"]
    pub fn at(start: Instant, period: Duration) -> Ticker {
        Ticker::start_at(current_rt(), Location::caller(), start, period)
    }

    pub(crate) fn start(rt: Rt, site: &'static Location<'static>, d: Duration) -> Ticker {
        assert!(!d.is_zero(), "non-positive interval for Ticker::new");
        Ticker::schedule(rt, site, Kind::Ticker, Due::In(d), d)
    }

    /// A ticker for `future::interval` (counted as `Kind::Interval`). Panics on a zero `d`, as
    /// `Ticker::new` does, naming `future::interval`.
    pub(crate) fn start_interval(rt: Rt, site: &'static Location<'static>, d: Duration) -> Ticker {
        assert!(!d.is_zero(), "non-positive interval for future::interval");
        Ticker::schedule(rt, site, Kind::Interval, Due::In(d), d)
    }

    pub(crate) fn start_at(
        rt: Rt,
        site: &'static Location<'static>,
        start: Instant,
        period: Duration,
    ) -> Ticker {
        assert!(!period.is_zero(), "non-positive interval for Ticker::at");
        let first = first_tick_from(start, period, rt.core().now());
        Ticker::schedule(rt, site, Kind::Ticker, first, period)
    }

    fn schedule(
        rt: Rt,
        site: &'static Location<'static>,
        kind: Kind,
        first: Due,
        period: Duration,
    ) -> Ticker {
        let tick = Tick::unarmed(period_ns(period));
        let (handle, rx) = Handle::start_channel(rt, site, kind, tick, first);
        Ticker { handle, rx }
    }

    /// The channel on which ticks are delivered. Go's `ticker.C`.
    ///
    /// Each call, the first included, sends a tick that is due but not yet sent itself, on the
    /// calling thread, as [`Timer::c`](crate::Timer::c) does for a timer (Go's `maybeRunChan`):
    /// `select!` with `default` after a period has passed takes the tick, and
    /// `ticker.c().recv()` in a loop gets every due tick without waiting for the driver, even for a
    /// period shorter than the driver can sleep ([`SPIN_BELOW`](crate::SPIN_BELOW)). The first call
    /// also makes the channel and files the ticker in its wheel (until then it is parked). A
    /// receiver kept from an earlier call (or a clone) gets the ticks nobody sent through `c()`
    /// from the driver thread, when it wakes for them, at most one per `SPIN_BELOW`: see
    /// [`Timer::c`](crate::Timer::c) for what a non-blocking receive on it can miss.
    ///
    /// ```
    /// # use gotimer::Ticker;
    /// # use std::time::Duration;
    /// let ticker = Ticker::new(Duration::from_millis(1));
    /// for _ in 0..3 {
    ///     ticker.c().recv().unwrap();
    /// }
    /// ```
    pub fn c(&self) -> &Receiver<Instant> {
        // A tick already waiting is the one to receive (later ones are dropped until it is).
        self.handle.channel(&self.rx)
    }

    /// Waits in a task for the next tick: the instant it was due, as [`c().recv()`](Ticker::c)
    /// gives a thread, with the same guarantees (at most one tick waits for a slow receiver, and
    /// none from before a [`stop`](Ticker::stop) or [`reset`](Ticker::reset) is received after
    /// it). As [`Timer::recv_async`](crate::Timer::recv_async): no crossbeam channel is made for a
    /// ticker only ever awaited, the future is cancel-safe, and each tick goes to exactly one of
    /// the tasks and threads waiting. A task that owns its ticker can use
    /// [`future::interval`](crate::future::interval) instead.
    ///
    /// ```
    /// use gotimer::Ticker;
    /// use std::time::Duration;
    ///
    /// let ticker = Ticker::new(Duration::from_millis(1));
    /// let a = pollster::block_on(ticker.recv_async());
    /// let b = pollster::block_on(ticker.recv_async());
    /// assert!(b > a);
    /// ```
    pub fn recv_async(&self) -> impl Future<Output = Instant> + Send + '_ {
        Recv::new(&self.handle, &self.rx)
    }

    /// [`recv_async`](Ticker::recv_async) as a poll, for `Interval`: `waiter` is the caller's place
    /// among the waiters, kept from tick to tick (with its waker), and given back by
    /// `forget_waiter`.
    pub(crate) fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        waiter: &mut Option<u64>,
    ) -> Poll<Instant> {
        self.handle.poll_recv(&self.rx, cx, waiter, true)
    }

    /// `poll_recv` once the slot is kept (`Handle::poll_kept`), for `Interval`.
    pub(crate) fn poll_kept(
        &self,
        tasks: &Tasks,
        cx: &mut Context<'_>,
        waiter: &mut Option<u64>,
        next_at_least: u64,
    ) -> Poll<Instant> {
        self.handle.poll_kept(tasks, cx, waiter, next_at_least)
    }

    /// A count of the tasks' slot, once a `poll_recv` made it, for `Interval` to keep; `None` if
    /// the ticker has a channel (made at its start on a clock that parks nothing, a fake one),
    /// whose ticks `poll_kept` would not see.
    pub(crate) fn tasks(&self) -> Option<Arc<Tasks>> {
        let chan = &self.handle.action().chan;
        match chan.has_channel() {
            true => None,
            false => chan.tasks_shared(),
        }
    }

    /// Nanoseconds on the ticker's clock's time line at `t`, the unit of `poll_kept`'s bound.
    pub(crate) fn ns_at(&self, t: Instant) -> u64 {
        self.handle.time().ns_at(t)
    }

    /// Gives back a place taken by `poll_recv`.
    pub(crate) fn forget_waiter(&self, waiter: &mut Option<u64>) {
        self.handle.forget(waiter)
    }

    /// The period.
    pub(crate) fn period(&self) -> Duration {
        Duration::from_nanos(self.handle.action().period())
    }

    /// Empties the channel and the tasks' slot; called with the shard locked, so nothing can be
    /// sent meanwhile.
    fn drain(&self, held: &Held) -> bool {
        let from_channel = self.rx.get().is_some_and(|rx| rx.try_recv().is_ok());
        self.handle.action().chan.drain_tasks(held) | from_channel
    }

    /// Turns the ticker off: no tick is received after `stop` returns, including one that was
    /// waiting in the channel. A stopped ticker can be restarted with [`reset`](Ticker::reset).
    /// Go's `ticker.Stop()`.
    ///
    /// ```
    /// # use gotimer::Ticker;
    /// # use std::time::Duration;
    /// let ticker = Ticker::new(Duration::from_millis(1));
    /// std::thread::sleep(Duration::from_millis(5));
    /// ticker.stop();
    /// assert!(ticker.c().try_recv().is_err(), "the waiting tick was discarded");
    /// ```
    pub fn stop(&self) {
        // A pending ticker may have a tick waiting: always drain.
        self.handle.stop(|held, _| self.drain(held));
    }

    /// Stops the ticker and restarts it with period `d`: the next tick comes `d` from now. A tick
    /// from the old schedule is never received after `reset` returns. Go's `ticker.Reset(d)`.
    ///
    /// # Panics
    /// If `d` is zero, with "non-positive interval for Ticker::reset", as Go does.
    ///
    /// ```
    /// # use gotimer::Ticker;
    /// # use std::time::{Duration, Instant};
    /// let ticker = Ticker::new(Duration::from_secs(3600));
    /// let start = Instant::now();
    /// ticker.reset(Duration::from_millis(5));
    /// let due = ticker.c().recv().unwrap();
    /// assert!(due >= start + Duration::from_millis(5));
    /// ```
    pub fn reset(&self, d: Duration) {
        assert!(!d.is_zero(), "non-positive interval for Ticker::reset");
        self.handle.reset(Due::In(d), |held, _| {
            self.handle.action().set_period(held, period_ns(d));
            self.drain(held)
        });
    }
}

#[cfg(all(test, gotimer_loom))]
impl Ticker {
    pub(crate) fn handle(&self) -> &Handle<Tick> {
        &self.handle
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        // A ticker never armed is in no wheel: its entry is this handle's alone, and goes with it.
        if self.handle.action().chan.is_armed() {
            self.handle.stop(|_, _| false);
        }
    }
}

impl fmt::Debug for Ticker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ticker")
            .field("site", &self.handle.origin().location())
            .finish_non_exhaustive()
    }
}

/// Returns the channel of a ticker with period `d` that has no handle. Go's `time.Tick`.
///
/// It cannot be stopped, but it does not leak either: once every receiver is dropped, the ticker
/// frees itself at its next tick, within one period. `Duration::ZERO` gives a channel that never
/// delivers, as Go's `Tick` returns nil for a non-positive interval; so does a period too long to
/// ever elapse (`Duration::MAX`).
///
/// ```
/// use std::time::Duration;
///
/// let ticks = gotimer::tick(Duration::from_millis(1));
/// ticks.recv().unwrap();
/// ticks.recv().unwrap();
/// assert!(gotimer::tick(Duration::ZERO).recv_timeout(Duration::from_millis(5)).is_err());
/// ```
#[track_caller]
#[must_use = "a tick channel dropped unused ticks for nobody (it frees itself at its next tick)"]
pub fn tick(d: Duration) -> Receiver<Instant> {
    tick_on(&current_rt(), Location::caller(), d)
}

pub(crate) fn tick_on(rt: &Rt, site: &'static Location<'static>, d: Duration) -> Receiver<Instant> {
    // Nothing would ever be sent: a channel that never delivers (not one that is disconnected).
    if d.is_zero() || !rt.core().fires_within_range(Due::In(d)) {
        return never();
    }
    let (tx, rx) = bounded(1);
    let tick = Tick::new(tx, period_ns(d));
    // No handle: the entry lives in the wheel until a tick finds every receiver gone.
    drop(Handle::start(
        rt.clone(),
        site,
        Kind::Tick,
        tick,
        Due::In(d),
    ));
    rx
}

/// The first of `start + k·period` (k = 0, 1, …) at or after `now`, as an instant: never before
/// `now`, so it is exact on any time line; never (`Duration::MAX`) if it cannot be represented.
fn first_tick_from(start: Instant, period: Duration, now: Instant) -> Due {
    let behind = now.saturating_duration_since(start).as_nanos();
    let period = period.as_nanos();
    let skipped = behind.div_ceil(period);
    skipped
        .checked_mul(period)
        .and_then(|ns| u64::try_from(ns).ok())
        .and_then(|ns| start.checked_add(Duration::from_nanos(ns)))
        .map_or(Due::In(Duration::MAX), Due::At)
}

/// A period in nanoseconds, saturating: a period too long to count is never due anyway.
pub(crate) fn period_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

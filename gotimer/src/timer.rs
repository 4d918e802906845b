//! `Timer`, `after` and `after_func`: Go's one-shot timers.

use crate::clock::current_rt;
use crate::origin::Kind;
use crate::runtime::entry::{Deliver, Func};
use crate::runtime::time::Due;
use crate::runtime::{Handle, Rt};
use crossbeam_channel::{bounded, never, Receiver};
use std::fmt;
use std::panic::Location;
use std::time::{Duration, Instant};

/// A single event: after a duration, the instant it was due is sent on [`c()`](Timer::c), or, for a
/// timer made by [`after_func`], a callback runs. Go's `time.Timer`.
///
/// Semantics are Go 1.23's: [`stop`](Timer::stop) and [`reset`](Timer::reset) guarantee that no value
/// sent before they returned is received after, so the Go 1.22 idiom of draining `t.C` after `Stop` is
/// not needed (and not harmful: the channel is simply empty). Dropping a `Timer` cancels it and frees
/// it at once, except a timer made by [`after_func`], which runs its callback anyway, as in Go.
///
/// The channel has capacity 1. A clone of `c()` that outlives its `Timer` reports disconnection.
///
/// ```
/// use gotimer::Timer;
/// use std::time::{Duration, Instant};
///
/// let start = Instant::now();
/// let t = Timer::new(Duration::from_millis(10));
/// let due = t.c().recv().unwrap();
/// assert!(due >= start + Duration::from_millis(10));
/// assert!(!t.stop(), "already received: nothing left to stop");
/// ```
pub struct Timer {
    handle: Handle,
    rx: Receiver<Instant>,
    /// False for `after_func` timers: dropping the handle lets the callback run.
    cancel_on_drop: bool,
}

impl Timer {
    /// Creates a timer that sends the instant it was due on [`c()`](Timer::c) after at least `d`.
    /// `Duration::ZERO` fires at once; a duration so long that the deadline is out of range
    /// (`Duration::MAX`) never fires. Go's `time.NewTimer`.
    ///
    /// ```
    /// # use gotimer::Timer;
    /// # use std::time::Duration;
    /// let t = Timer::new(Duration::ZERO);
    /// t.c().recv().unwrap();
    /// let never = Timer::new(Duration::MAX);
    /// assert!(never.c().recv_timeout(Duration::from_millis(5)).is_err());
    /// assert!(never.stop());
    /// ```
    #[track_caller]
    pub fn new(d: Duration) -> Timer {
        Timer::start(current_rt(), Location::caller(), Due::In(d))
    }

    pub(crate) fn start(rt: Rt, site: &'static Location<'static>, due: Due) -> Timer {
        let (tx, rx) = bounded(1);
        Timer {
            handle: Handle::start(rt, site, Kind::Timer, Deliver::new(tx), due),
            rx,
            cancel_on_drop: true,
        }
    }

    pub(crate) fn start_func<F>(rt: Rt, site: &'static Location<'static>, due: Due, f: F) -> Timer
    where
        F: Fn() + Send + Sync + 'static,
    {
        Timer {
            handle: Handle::start(rt, site, Kind::AfterFunc, Func(f), due),
            rx: never(),
            cancel_on_drop: false,
        }
    }

    /// The channel on which the timer delivers: use it with `recv`, `recv_timeout`, `try_recv` or
    /// crossbeam's `select!`. Go's `t.C`. It never delivers for a timer made by [`after_func`].
    ///
    /// ```
    /// use crossbeam_channel::select;
    /// # use gotimer::Timer;
    /// # use std::time::Duration;
    /// let (_tx, work) = crossbeam_channel::unbounded::<u32>();
    /// let t = Timer::new(Duration::from_millis(5));
    /// select! {
    ///     recv(work) -> _ => unreachable!(),
    ///     recv(t.c()) -> due => assert!(due.is_ok()),
    /// }
    /// ```
    pub fn c(&self) -> &Receiver<Instant> {
        &self.rx
    }

    /// Prevents the timer from firing. Returns true if this call kept a value from being received
    /// (the timer was pending, or had fired but its value was not yet received) or, for
    /// [`after_func`], kept the callback from starting; false if the value was already received, the
    /// callback already started, or the timer was already stopped. After `stop` returns, no value
    /// from before it is received. It does not wait for a running callback. Go's `t.Stop()`.
    ///
    /// ```
    /// # use gotimer::Timer;
    /// # use std::time::Duration;
    /// let t = Timer::new(Duration::from_secs(3600));
    /// assert!(t.stop());
    /// assert!(!t.stop(), "already stopped");
    ///
    /// let t = Timer::new(Duration::ZERO);
    /// std::thread::sleep(Duration::from_millis(1));
    /// assert!(t.stop(), "fired but not received: the value is discarded");
    /// assert!(t.c().try_recv().is_err());
    /// ```
    pub fn stop(&self) -> bool {
        self.handle.stop(|_, pending| self.drain(pending))
    }

    /// Changes the timer to fire `d` from now, on a pending, fired, received or stopped timer alike.
    /// Returns true under the same rule as [`stop`](Timer::stop). After `reset` returns, no receive
    /// sees a value from the old schedule. For [`after_func`] it reschedules the callback, or
    /// schedules it again if it already ran (and then returns false). Go's `t.Reset(d)`.
    ///
    /// ```
    /// # use gotimer::Timer;
    /// # use std::time::Duration;
    /// let t = Timer::new(Duration::from_secs(3600));
    /// assert!(t.reset(Duration::from_millis(1)));
    /// t.c().recv().unwrap();
    /// assert!(!t.reset(Duration::ZERO), "received already");
    /// t.c().recv().unwrap();
    /// ```
    pub fn reset(&self, d: Duration) -> bool {
        self.handle
            .reset(Due::In(d), |_, pending| self.drain(pending))
    }

    /// [`reset`](Timer::reset) to the instant `deadline` rather than a duration from now: the timer
    /// fires at `deadline` (at once if it is past), with the same result and the same guarantee. An
    /// instant too far away to represent never fires.
    ///
    /// ```
    /// # use gotimer::Timer;
    /// # use std::time::{Duration, Instant};
    /// let t = Timer::new(Duration::from_secs(3600));
    /// let deadline = Instant::now() + Duration::from_millis(2);
    /// assert!(t.reset_at(deadline));
    /// assert_eq!(t.c().recv().unwrap(), deadline);
    /// ```
    pub fn reset_at(&self, deadline: Instant) -> bool {
        self.handle
            .reset(Due::At(deadline), |_, pending| self.drain(pending))
    }

    #[cfg(all(test, loom))]
    pub(crate) fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Empties the channel; called with the shard locked, so nothing can be sent meanwhile. A pending
    /// one-shot timer has not sent yet, so its channel is known to be empty.
    fn drain(&self, pending: bool) -> bool {
        !pending && self.rx.try_recv().is_ok()
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if self.cancel_on_drop {
            self.handle.stop(|_, _| false);
        }
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("site", &self.handle.entry().origin.location())
            .field("after_func", &!self.cancel_on_drop)
            .finish_non_exhaustive()
    }
}

/// Returns a channel that receives the instant it was due, once, after at least `d`. Go's
/// `time.After`, without its leak: nothing is registered anywhere until a receiver waits on it (the
/// waiting thread's own timeout is the timer), so a receiver that is dropped unreceived frees
/// everything at once. Calling it in a `select!` inside a loop is therefore fine.
///
/// `Duration::MAX` (a deadline out of range) gives a channel that never delivers.
///
/// ```
/// use crossbeam_channel::{bounded, select};
/// use std::time::Duration;
///
/// let (tx, rx) = bounded(120);
/// std::thread::spawn(move || for i in 0..1000 { tx.send(format!("hello {i}")).unwrap() });
/// let mut n = 0;
/// while n < 1000 {
///     select! {
///         recv(rx) -> _ => n += 1,
///         recv(gotimer::after(Duration::from_secs(180))) -> _ => panic!("timeout"),
///     }
/// }
/// ```
#[track_caller]
pub fn after(d: Duration) -> Receiver<Instant> {
    after_on(&current_rt(), Location::caller(), Due::In(d))
}

/// `after` on `rt`: crossbeam's `after`/`at` on the system clock (the receiving thread's own
/// timeout is the timer, so nothing is registered), and on a fake clock, whose time the operating
/// system cannot wait for, a channel timer with no handle, freed when it fires.
pub(crate) fn after_on(rt: &Rt, site: &'static Location<'static>, due: Due) -> Receiver<Instant> {
    match (rt, due) {
        (Rt::System(_), Due::In(d)) => crossbeam_channel::after(d),
        (Rt::System(_), Due::At(t)) => crossbeam_channel::at(t),
        // Nothing would ever be sent: a channel that never delivers, as on the system clock (not
        // one that is disconnected when the handle-less entry goes).
        (Rt::Fake(fake), due) if !fake.fires_within_range(due) => never(),
        (Rt::Fake(_), due) => {
            let (tx, rx) = bounded(1);
            // No handle: the entry lives in the wheel until it fires (or the clock is dropped).
            drop(Handle::start(
                rt.clone(),
                site,
                Kind::After,
                Deliver::new(tx),
                due,
            ));
            rx
        }
    }
}

/// Runs `f` on a callback thread after at least `d`, and returns a [`Timer`] that can stop or
/// reschedule it; its [`c()`](Timer::c) never delivers. Go's `time.AfterFunc`.
///
/// Callbacks run concurrently with each other, never on the thread that fires timers, so a slow
/// callback delays no other timer. Dropping the returned `Timer` does not cancel the callback (as in
/// Go, and like dropping a `JoinHandle`). A panic in `f` is caught and reported on stderr with the
/// `after_func` call site; other timers keep working.
///
/// ```
/// use std::sync::mpsc::channel;
/// use std::time::Duration;
///
/// let (tx, rx) = channel();
/// let tx = std::sync::Mutex::new(tx);
/// gotimer::after_func(Duration::from_millis(1), move || tx.lock().unwrap().send("fired").unwrap());
/// assert_eq!(rx.recv().unwrap(), "fired");
/// ```
#[track_caller]
pub fn after_func<F>(d: Duration, f: F) -> Timer
where
    F: Fn() + Send + Sync + 'static,
{
    Timer::start_func(current_rt(), Location::caller(), Due::In(d), f)
}

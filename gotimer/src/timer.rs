//! `Timer`, `after` and `after_func`: Go's one-shot timers.

use crate::context::current_rt;
use crate::future::recv::Recv;
use crate::origin::Kind;
use crate::runtime::kinds::{after::After, callback::Callback, channel::Channel};
use crate::runtime::{Delivery, Due, Handle, Held, Rt};
use crossbeam_channel::{bounded, never, Receiver, Sender};
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A single event: after a duration, the instant it was due is sent on [`c()`](Timer::c), or, for a
/// timer made by [`after_func`], a callback runs. Go's `time.Timer`.
///
/// Semantics are Go 1.23's: [`stop`](Timer::stop) and [`reset`](Timer::reset) guarantee that no value
/// sent before they returned is received after, so the Go 1.22 idiom of draining `t.C` after `Stop` is
/// not needed (and not harmful: the channel is simply empty). Dropping a `Timer` cancels it and frees
/// it at once, except a timer made by [`after_func`], which runs its callback anyway, as in Go.
///
/// The channel has capacity 1.
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
///
/// # The channel belongs to the `Timer`
///
/// Go's `time.NewTimer(d).C` keeps only the channel, and the timer still fires. Here the `Timer`
/// is the timer: when it drops, it is cancelled and its sending half is gone, so a clone of
/// [`c()`](Timer::c) that outlives it is *disconnected*. `recv` on it returns `Err(RecvError)` at
/// once, and in `select!` its arm is taken at once with `Err`: a timeout that fires immediately.
/// Keep the `Timer` for as long as you wait on its channel, or, when you only want the channel, use
/// [`after(d)`](after), which is Go's `time.After(d)` and costs nothing once dropped.
///
/// Go can let the channel keep its timer alive because its garbage collector sees who holds the
/// channel; a crossbeam `Receiver` owns nothing but its channel. Having the runtime keep every
/// dropped `Timer` until its deadline instead would bring back the leak this crate exists to
/// avoid (a `Timer::new(d)` per loop iteration, each kept for `d`). So the constructors are
/// `#[must_use]`, and the clone disconnects loudly rather than waiting forever.
///
/// ```
/// use gotimer::{after, select, Timer};
/// use std::time::Duration;
///
/// // Wrong: the Timer is dropped at the end of the statement, and the clone disconnects.
/// let timeout = Timer::new(Duration::from_secs(60)).c().clone();
/// select! {
///     recv(timeout) -> v => assert!(v.is_err(), "taken at once, with Err"),
///     default(Duration::from_secs(10)) => unreachable!(),
/// }
/// // Right: keep the Timer, or take `after`'s channel.
/// let timer = Timer::new(Duration::from_millis(1));
/// let timeout = after(Duration::from_millis(1));
/// assert!(timer.c().recv().is_ok() && timeout.recv().is_ok());
/// ```
pub struct Timer {
    kind: TimerKind,
}

/// The two kinds of timer a `Timer` can be.
enum TimerKind {
    /// `Timer::new`, `Timer::at`: delivers on a channel, and is cancelled when dropped.
    Channel {
        handle: Handle<Channel>,
        /// The channel, made the first time `c()` asks for it, which arms the timer (until then it
        /// is parked: see `runtime/entry/`). Set at creation on a fake clock, whose timers are
        /// armed at once.
        rx: OnceLock<Receiver<Instant>>,
    },
    /// `after_func`: runs a callback, and dropping the handle lets it run; `c()` is the shared
    /// `never_receiver`.
    Callback(Handle),
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
    ///
    /// Dropping the `Timer` at once cancels it, so a bare `Timer::new(d);` is a warning:
    ///
    /// ```compile_fail
    /// #![deny(unused_must_use)]
    /// gotimer::Timer::new(std::time::Duration::from_secs(1));
    /// ```
    #[track_caller]
    #[must_use = "dropping a Timer cancels it and disconnects its channel: keep it while you wait on c()"]
    pub fn new(d: Duration) -> Timer {
        Timer::start(current_rt(), Location::caller(), Due::In(d))
    }

    /// Creates a timer that sends `deadline` on [`c()`](Timer::c) once the clock reaches it: the
    /// deadline form of [`Timer::new`], with the same Go 1.23 guarantees, like crossbeam's `at` and
    /// tokio's `sleep_until`. A deadline already past fires at once (and still delivers
    /// `deadline`); one too far away to represent never fires. Later deadlines move with
    /// [`reset_at`](Timer::reset_at). The instant is read on [`Clock::current`](crate::Clock::current):
    /// on a fake clock, build it from that clock's [`now`](crate::Clock::now) (see
    /// [`Clock::timer_at`](crate::Clock::timer_at)).
    ///
    /// ```
    /// use gotimer::Timer;
    /// use std::time::{Duration, Instant};
    ///
    /// let deadline = Instant::now() + Duration::from_millis(3);
    /// let t = Timer::at(deadline);
    /// assert_eq!(t.c().recv().unwrap(), deadline, "the value is the deadline, exactly");
    /// assert!(Instant::now() >= deadline);
    /// ```
    #[track_caller]
    #[must_use = "dropping a Timer cancels it and disconnects its channel: keep it while you wait on c()"]
    pub fn at(deadline: Instant) -> Timer {
        Timer::start(current_rt(), Location::caller(), Due::At(deadline))
    }

    pub(crate) fn start(rt: Rt, site: &'static Location<'static>, due: Due) -> Timer {
        let (handle, rx) = start_channel(rt, site, Kind::Timer, due);
        Timer {
            kind: TimerKind::Channel { handle, rx },
        }
    }

    pub(crate) fn start_func<F>(rt: Rt, site: &'static Location<'static>, due: Due, f: F) -> Timer
    where
        F: Fn() + Send + Sync + 'static,
    {
        let handle = Handle::start(rt, site, Kind::AfterFunc, Callback(f), due);
        Timer {
            kind: TimerKind::Callback(handle.erase()),
        }
    }

    /// The channel on which the timer delivers: use it with `recv`, `recv_timeout`, `try_recv` or
    /// [`select!`](crate::select). Go's `t.C`. It never delivers for a timer made by [`after_func`],
    /// and never disconnects either. It is connected only while the `Timer` lives: see
    /// [the type's docs](Timer#the-channel-belongs-to-the-timer).
    ///
    /// Each call, the first included, reads the clock and, if the timer is due and its value not
    /// yet sent, sends it there and then, on the calling thread (Go 1.23's `maybeRunChan`), before
    /// it returns the channel. So a receive through `c()` sees exactly what Go's receive on `t.C`
    /// would: `select!` with `default`, or `try_recv`, right after the deadline gets the value,
    /// whatever the driver thread is doing. The first call also makes the channel and files the
    /// timer in its wheel (until then it is parked, as a Go 1.23 timer stays out of the heap until
    /// a goroutine waits on it: a timer that is only made, reset and stopped costs no channel).
    ///
    /// A receiver obtained earlier (the `&Receiver` from an earlier call, held, or a clone of it)
    /// is the same channel, but receiving on it does not go through `c()`: a value due since then
    /// is in it once *something* has sent it, which is the next `c()` call on any thread, or else
    /// the driver thread when it wakes for the deadline (usually within tens of microseconds of it,
    /// later on a loaded machine). So a blocking `recv`, `recv_timeout` or `select!` on a held
    /// receiver gets the value as soon as the driver sends it, but a non-blocking `try_recv` or
    /// `select!` with `default` on it just after the deadline may find it empty, where Go's would
    /// not. Call `c()` for each non-blocking receive (it is cheap: a clock read and a load once
    /// armed) to see what Go's would. On a fake clock there is no driver to wait for: `advance`
    /// has sent everything due when it returns, to held receivers as well.
    ///
    /// ```
    /// use gotimer::{select, Timer};
    /// # use std::time::Duration;
    /// let t = Timer::new(Duration::from_millis(1));
    /// std::thread::sleep(Duration::from_millis(2));
    /// select! {
    ///     recv(t.c()) -> due => assert!(due.is_ok()), // always: c() fired it
    ///     default => unreachable!(),
    /// }
    /// ```
    ///
    /// ```
    /// use gotimer::{crossbeam_channel::unbounded, select, Timer};
    /// # use std::time::Duration;
    /// let (_tx, work) = unbounded::<u32>();
    /// let t = Timer::new(Duration::from_millis(5));
    /// select! {
    ///     recv(work) -> _ => unreachable!(),
    ///     recv(t.c()) -> due => assert!(due.is_ok()),
    /// }
    /// ```
    pub fn c(&self) -> &Receiver<Instant> {
        match &self.kind {
            TimerKind::Channel { handle, rx } => handle.channel(rx),
            TimerKind::Callback(_) => never_receiver(),
        }
    }

    /// Waits in a task for the timer's value: the instant it was due, as
    /// [`c().recv()`](Timer::c) gives a thread, with the same Go 1.23 guarantees (no value from
    /// before a [`stop`](Timer::stop) or [`reset`](Timer::reset) is received after it returns). It
    /// never completes for a timer made by [`after_func`].
    ///
    /// A timer that is only ever awaited never makes the crossbeam channel that [`c()`](Timer::c)
    /// makes: its value waits in a slot of its own (a few dozen bytes, not the channel's 664). The
    /// future is cancel-safe: dropping it (a `select!` that another branch won) loses no value.
    /// Several tasks may wait on one timer: each value goes to exactly one of them. A thread
    /// receiving through `c()` and a task receiving through this compete the same way: whichever
    /// receives first gets the value, the other waits for the next (once a thread asked for `c()`,
    /// the value waits in the channel, and the tasks receive from it).
    ///
    /// ```
    /// use gotimer::Timer;
    /// use std::time::Duration;
    ///
    /// let t = Timer::new(Duration::from_millis(2));
    /// let due = pollster::block_on(t.recv_async());
    /// assert!(t.reset(Duration::from_millis(1)) == false, "received: nothing was pending");
    /// assert!(pollster::block_on(t.recv_async()) > due);
    /// ```
    pub fn recv_async(&self) -> impl Future<Output = Instant> + Send + '_ {
        match &self.kind {
            TimerKind::Channel { handle, rx } => Recv::new(handle, rx),
            TimerKind::Callback(_) => Recv::never(),
        }
    }

    /// Prevents the timer from firing. Returns true if this call kept a value from being received
    /// (the timer was pending, or had fired but its value was not yet received) or, for
    /// [`after_func`], kept the callback from starting; false if the value was already received, the
    /// callback already started, or the timer was already stopped. After `stop` returns, no value
    /// from before it is received. It does not wait for a running callback. Go's `t.Stop()`.
    ///
    /// For [`after_func`], true means exactly that the callback will not run for the schedule
    /// stopped, and false that it has started (or ran, or nothing was scheduled): as in Go, whose
    /// `Stop` returns false only once `f` has been started. A callback that came due is handed to
    /// a thread to run, and is pending until that thread starts it; a `stop` that comes first wins.
    /// So `after_func(Duration::ZERO, f)` (or `reset(Duration::ZERO)`) followed at once by `stop`
    /// returns true in practice, and `f` does not run; on a fake clock, where a due callback runs
    /// at the next advance, a `stop` before that advance always returns true.
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
    ///
    /// let fake = gotimer::FakeClock::new();
    /// let f = fake.clock().after_func(Duration::ZERO, || unreachable!("stopped first"));
    /// assert!(f.stop(), "due, but not started: it never runs");
    /// fake.advance(Duration::ZERO);
    /// ```
    pub fn stop(&self) -> bool {
        match &self.kind {
            TimerKind::Channel { handle, rx } => {
                handle.stop(|held, pending| drain(handle, held, rx, pending))
            }
            TimerKind::Callback(handle) => handle.stop(|_, _| false),
        }
    }

    /// Changes the timer to fire `d` from now, on a pending, fired, received or stopped timer alike.
    /// Returns true under the same rule as [`stop`](Timer::stop). After `reset` returns, no receive
    /// sees a value from the old schedule. For [`after_func`] it reschedules the callback (true: the
    /// old schedule's run, pending or due but not started, will not happen), or schedules it again
    /// if it already started (false: that run goes on, and the new schedule runs it once more).
    /// `reset(Duration::ZERO)` makes the callback due at once, and a `stop` before a thread starts
    /// it still returns true. Go's `t.Reset(d)`.
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
        self.reschedule(Due::In(d))
    }

    /// [`reset`](Timer::reset) to the instant `deadline` rather than a duration from now: the timer
    /// fires at `deadline` (at once if it is past, still delivering `deadline`), with the same result
    /// and the same guarantee. An instant too far away to represent never fires. On a fake clock,
    /// build the deadline from that clock's [`now`](crate::Clock::now).
    ///
    /// One case is inexact: a deadline from before the timer's clock started (before the first use
    /// of gotimer in the process, for the system clock; before its creation, for a fake clock)
    /// fires at once but delivers the clock's start instead of `deadline`. The constructors
    /// ([`Timer::at`], [`Clock::timer_at`](crate::Clock::timer_at)) deliver such a deadline exactly.
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
        self.reschedule(Due::At(deadline))
    }

    #[inline]
    fn reschedule(&self, due: Due) -> bool {
        match &self.kind {
            TimerKind::Channel { handle, rx } => {
                handle.reset(due, |held, pending| drain(handle, held, rx, pending))
            }
            TimerKind::Callback(handle) => handle.reset(due, |_, _| false),
        }
    }

    /// An `after_func` timer that is not scheduled: made pending forever (no wheel entry), then
    /// stopped.
    pub(crate) fn start_func_stopped<F>(rt: Rt, site: &'static Location<'static>, f: F) -> Timer
    where
        F: Fn() + Send + Sync + 'static,
    {
        let timer = Timer::start_func(rt, site, Due::In(Duration::MAX), f);
        timer.stop();
        timer
    }

    /// References to the timer's entry: its handle's, and the wheel's while it is filed.
    #[cfg(all(test, gotimer_loom))]
    pub(crate) fn entry_refs(&self) -> usize {
        match &self.kind {
            TimerKind::Channel { handle, .. } => handle.entry_refs(),
            TimerKind::Callback(handle) => handle.entry_refs(),
        }
    }

    /// A check of whether the timer's entry is still allocated, for after the timer is gone.
    #[cfg(all(test, gotimer_loom))]
    pub(crate) fn entry_probe(&self) -> Box<dyn Fn() -> bool + Send> {
        match &self.kind {
            TimerKind::Channel { handle, .. } => handle.entry_probe(),
            TimerKind::Callback(handle) => handle.entry_probe(),
        }
    }
}

/// Empties a timer's channel and its tasks' slot; called with the shard locked, so nothing can be
/// sent meanwhile. A pending one-shot timer has not sent yet, so both are known to be empty.
fn drain(
    handle: &Handle<Channel>,
    held: &Held,
    rx: &OnceLock<Receiver<Instant>>,
    pending: bool,
) -> bool {
    if pending {
        return false;
    }
    let from_channel = rx.get().is_some_and(|rx| rx.try_recv().is_ok());
    handle.action().chan.drain_tasks(held) | from_channel
}

/// The channel of every `after_func` timer: it never delivers and never disconnects.
fn never_receiver() -> &'static Receiver<Instant> {
    static NEVER: OnceLock<Receiver<Instant>> = OnceLock::new();
    NEVER.get_or_init(never)
}

impl Drop for Timer {
    fn drop(&mut self) {
        // A timer never armed is in no wheel: its entry is this handle's alone, and goes with it.
        // A callback runs anyway, as in Go.
        if let TimerKind::Channel { handle, .. } = &self.kind {
            if handle.action().chan.is_armed() {
                handle.stop(|_, _| false);
            }
        }
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (origin, after_func) = match &self.kind {
            TimerKind::Channel { handle, .. } => (handle.origin(), false),
            TimerKind::Callback(handle) => (handle.origin(), true),
        };
        f.debug_struct("Timer")
            .field("site", &origin.location())
            .field("after_func", &after_func)
            .finish_non_exhaustive()
    }
}

/// Returns a channel that receives the instant it was due, once, after at least `d`. Go's
/// `time.After`, without its leak: nothing is registered anywhere until a receiver waits on it (the
/// waiting thread's own timeout is the timer), so a receiver that is dropped unreceived frees
/// everything at once. Calling it in a `select!` inside a loop is therefore fine.
///
/// On the system clock it is crossbeam's `after`, so neither [`stats`](crate::stats) nor the
/// profile ever sees it: it has no entry to count, and its `#[track_caller]` site is recorded only
/// on a fake clock, where `after` must register a timer (kind `After`; see [`Clock::after`]).
/// What shows that it retains nothing is the heap, measured by a counting allocator in
/// `tests/article_loop.rs` and in the crate's top-level example.
///
/// `Duration::MAX` (a deadline out of range) gives a channel that never delivers.
///
/// [`Clock::after`]: crate::Clock::after
///
/// ```
/// use gotimer::{crossbeam_channel::bounded, select};
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
#[must_use = "a receiver dropped unused is a timeout nobody waits for"]
pub fn after(d: Duration) -> Receiver<Instant> {
    after_on(&current_rt(), Location::caller(), Due::In(d))
}

/// Returns a channel that receives `deadline`, once, when the clock reaches it: the deadline form
/// of [`after`], with the same cost (on the system clock it is crossbeam's `at`, and registers
/// nothing). A deadline already past delivers at once; one too far away never delivers. On a fake
/// clock, build the deadline from that clock's [`now`](crate::Clock::now).
///
/// ```
/// use gotimer::{crossbeam_channel::never, select};
/// use std::time::{Duration, Instant};
///
/// let deadline = Instant::now() + Duration::from_millis(5);
/// let work = never::<u32>();
/// // One deadline for a whole sequence of waits, as `recv_deadline` does.
/// for _ in 0..3 {
///     select! {
///         recv(work) -> _ => unreachable!(),
///         recv(gotimer::at(deadline)) -> v => assert_eq!(v.unwrap(), deadline),
///     }
/// }
/// ```
#[track_caller]
#[must_use = "a receiver dropped unused is a timeout nobody waits for"]
pub fn at(deadline: Instant) -> Receiver<Instant> {
    after_on(&current_rt(), Location::caller(), Due::At(deadline))
}

/// `after` on `rt`: crossbeam's `after`/`at` on the system clock (the receiving thread's own
/// timeout is the timer, so nothing is registered), and on a fake clock, whose time the operating
/// system cannot wait for, a channel timer with no handle (`kinds/after.rs`), freed when it fires.
pub(crate) fn after_on(rt: &Rt, site: &'static Location<'static>, due: Due) -> Receiver<Instant> {
    match (rt, due) {
        (Rt::System(..), Due::In(d)) => crossbeam_channel::after(d),
        (Rt::System(..), Due::At(t)) => crossbeam_channel::at(t),
        // Nothing would ever be sent: a channel that never delivers, as on the system clock (not
        // one that is disconnected when the handle-less entry goes).
        (Rt::Manual(fake), due) if !fake.core().fires_within_range(due) => never(),
        (Rt::Manual(fake), due) => {
            let keep = fake.kept();
            let after = |tx| After::new(tx, keep.clone());
            match due {
                Due::At(deadline) if deadline <= fake.core().now() => {
                    // The clock keeps the sender, as `After` does once it has delivered.
                    let (_, rx, fired) =
                        fired_at_creation(rt.clone(), site, Kind::After, after, deadline);
                    crate::sync::lock(&*keep).push(fired);
                    rx
                }
                // No handle: the entry lives in the wheel until it fires (or the clock is
                // dropped), and then the clock keeps a sender (`After`).
                due => {
                    let (tx, rx) = bounded(1);
                    drop(Handle::start(rt.clone(), site, Kind::After, after(tx), due));
                    rx
                }
            }
        }
    }
}

/// Creates a channel timer's entry and schedules it for `due`. A deadline already reached is
/// delivered here, as the wheel would deliver it at once, but exactly: the wheel's time line counts
/// from its runtime's start and reads an instant from before it (a deadline computed before the
/// first use of gotimer, say) as that start.
fn start_channel(
    rt: Rt,
    site: &'static Location<'static>,
    kind: Kind,
    due: Due,
) -> (Handle<Channel>, OnceLock<Receiver<Instant>>) {
    match due {
        Due::At(deadline) if deadline <= rt.core().now() => {
            let (handle, rx, _) = fired_at_creation(rt, site, kind, Channel::new, deadline);
            (handle, OnceLock::from(rx))
        }
        due => Handle::start_channel(rt, site, kind, Channel::unarmed(), due),
    }
}

/// A channel timer of kind `make(tx)` made already fired at `deadline`, a deadline reached: its
/// entry idle, as after firing, and `deadline` in its channel. Nobody else can reach the channel
/// yet, so this is the value of a timer that fired. Returns a sender of the channel too.
fn fired_at_creation<A: Delivery>(
    rt: Rt,
    site: &'static Location<'static>,
    kind: Kind,
    make: impl FnOnce(Sender<Instant>) -> A,
    deadline: Instant,
) -> (Handle<A>, Receiver<Instant>, Sender<Instant>) {
    let (tx, rx) = bounded(1);
    let fired = tx.clone();
    let handle = Handle::idle(rt, site, kind, make(tx));
    let _ = fired.try_send(deadline);
    (handle, rx, fired)
}

/// Runs `f` on a callback thread after at least `d`, and returns a [`Timer`] that can stop or
/// reschedule it; its [`c()`](Timer::c) never delivers. Go's `time.AfterFunc`.
///
/// Callbacks run concurrently with each other, never on the thread that fires timers, so a slow
/// callback delays no other timer. A callback that a running callback makes due at once (an
/// `after_func(Duration::ZERO, g)` inside `f`) runs next on the same thread as soon as `f` returns,
/// with no other thread woken, as Go runs a goroutine started by a goroutine next on its P; if `f`
/// has not returned within a millisecond, another thread runs it. Until a thread starts the
/// callback, [`stop`](Timer::stop) keeps it from running and returns true, as Go's `Stop` does:
/// even `after_func(Duration::ZERO, f)` followed at once by `stop()`. Dropping the returned `Timer`
/// does not cancel the callback (as in Go, and like dropping a `JoinHandle`). A panic in `f` is
/// caught and reported with the `after_func` call site (on stderr, or to the reporter set by
/// [`set_callback_panic_reporter`](crate::set_callback_panic_reporter)); other timers keep
/// working. It is counted in [`stats().callback_panics`](crate::Stats::callback_panics) before the callback's
/// captures are dropped and before gotimer's report line, so a test that waits for the captures to
/// drop (a `Sender`'s disconnection, say) then sees the count. The panic hook's own message (and
/// backtrace, with `RUST_BACKTRACE=1`) is printed earlier, as the panic starts.
///
/// For a callback that is started later, or again and again (a debouncer), see
/// [`after_func_stopped`].
///
/// ```
/// use std::sync::mpsc::channel;
/// use std::time::Duration;
///
/// let (tx, rx) = channel();
/// // `Sender` is `Sync` (since Rust 1.72), so the `Fn + Send + Sync` closure can own it as it is.
/// gotimer::after_func(Duration::from_millis(1), move || tx.send("fired").unwrap());
/// assert_eq!(rx.recv().unwrap(), "fired");
/// ```
#[track_caller]
pub fn after_func<F>(d: Duration, f: F) -> Timer
where
    F: Fn() + Send + Sync + 'static,
{
    Timer::start_func(current_rt(), Location::caller(), Due::In(d), f)
}

/// Runs `f` on a callback thread once the clock reaches `deadline`: the deadline form of
/// [`after_func`], with the same guarantees (at once if `deadline` is past; never if it is too far
/// away). On a fake clock, build the deadline from that clock's [`now`](crate::Clock::now).
///
/// ```
/// use std::sync::mpsc::channel;
/// use std::time::{Duration, Instant};
///
/// let (tx, rx) = channel();
/// let deadline = Instant::now() + Duration::from_millis(2);
/// gotimer::after_func_at(deadline, move || tx.send(Instant::now()).unwrap());
/// assert!(rx.recv().unwrap() >= deadline);
/// ```
#[track_caller]
pub fn after_func_at<F>(deadline: Instant, f: F) -> Timer
where
    F: Fn() + Send + Sync + 'static,
{
    Timer::start_func(current_rt(), Location::caller(), Due::At(deadline), f)
}

/// An [`after_func`] timer that is stopped: `f` runs only when [`reset`](Timer::reset) (or
/// [`reset_at`](Timer::reset_at)) schedules it, once per schedule that comes due before another
/// `reset` or a `stop` replaces it. [`stop`](Timer::stop) and `reset` return what they would for
/// an `after_func` that was stopped: false, until a schedule is pending. Go has no such constructor;
/// its programs write `time.AfterFunc(math.MaxInt64, f)` and `Stop` it, which here would be
/// `after_func(Duration::MAX, f)`, a timer pending forever on which the first `stop` or `reset`
/// returns true.
///
/// Unlike `after_func`, dropping its `Timer` unused is a mistake (nothing could ever start it), so
/// it is `#[must_use]`.
///
/// # A debouncer
///
/// Run an action once things have been quiet for `delay`: every event pushes the deadline back.
///
/// ```
/// use gotimer::{Clock, FakeClock, Timer};
/// use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// /// Calls `f` once no event has come for `delay`.
/// struct Debouncer {
///     timer: Timer,
///     delay: Duration,
/// }
///
/// impl Debouncer {
///     fn new(clock: &Clock, delay: Duration, f: impl Fn() + Send + Sync + 'static) -> Self {
///         Debouncer { timer: clock.after_func_stopped(f), delay }
///     }
///
///     fn event(&self) {
///         self.timer.reset(self.delay); // moves the deadline; no stale run (Go 1.23)
///     }
/// }
///
/// impl Drop for Debouncer {
///     fn drop(&mut self) {
///         self.timer.stop(); // an after_func's Timer does not cancel on drop
///     }
/// }
///
/// let fake = FakeClock::new();
/// let runs = Arc::new(AtomicUsize::new(0));
/// let r = runs.clone();
/// let save = Debouncer::new(&fake.clock(), Duration::from_millis(50), move || {
///     r.fetch_add(1, SeqCst);
/// });
/// fake.advance(Duration::from_secs(1));
/// assert_eq!(runs.load(SeqCst), 0, "stopped until the first event");
/// for _ in 0..5 {
///     save.event(); // a burst: an event every 30 ms
///     fake.advance(Duration::from_millis(30));
/// }
/// assert_eq!(runs.load(SeqCst), 0, "never 50 ms of quiet yet");
/// fake.advance(Duration::from_millis(20));
/// assert_eq!(runs.load(SeqCst), 1, "once, 50 ms after the last event");
/// fake.advance(Duration::from_secs(1));
/// assert_eq!(runs.load(SeqCst), 1, "and only once");
/// save.event();
/// drop(save);
/// fake.advance(Duration::from_secs(1));
/// assert_eq!(runs.load(SeqCst), 1, "a dropped debouncer runs nothing");
/// ```
#[track_caller]
#[must_use = "a stopped after_func runs only once reset: keep its Timer"]
pub fn after_func_stopped<F>(f: F) -> Timer
where
    F: Fn() + Send + Sync + 'static,
{
    Timer::start_func_stopped(current_rt(), Location::caller(), f)
}

//! `Sleep`: a task's one-shot timer, Go's `time.Sleep` (and a `time.Timer` waited on by one task)
//! as a future, on the same wheels as the thread API's timers.
//!
//! A timeout's `Sleep` is parked until its first poll, as a channel timer is until its first `c()`:
//! made and dropped unpolled (a `timeout` whose future was ready at once) it takes no lock and
//! touches no wheel, and its first poll arms it (fired there if its deadline has passed, else
//! filed). So is a sleep shorter than a tick of the wheel. A plain `sleep` is filed when it is
//! made: a first poll after its deadline finds it ready once the driver has fired it, at once on
//! an idle machine, up to 250 µs later while every core is busy (the driver then batches
//! deadlines). Parking every sleep would spare that, at the cost of a second clock read on each.
//! The kind is `runtime/kinds/wake.rs`.

use crate::origin::Kind;
use crate::runtime::kinds::wake::{Polled, Wake};
use crate::runtime::{Due, Handle, Rt};
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// A future that completes at its deadline, with the instant it was due: what
/// [`sleep`](crate::future::sleep) and [`sleep_until`](crate::future::sleep_until) return. Go's
/// `time.Sleep` for a task, and a `time.Timer` that one task waits on: it can be
/// [`reset`](Sleep::reset) with Go's result, and dropping it cancels it and frees it at once.
///
/// It is `Unpin`, `Send` and `Sync`, so it needs no `Box::pin` or `pin!` to be polled by `&mut`
/// in a `select!` loop, and it runs on any executor, or none: it needs no runtime context, only the
/// crate's own driver thread (or a fake clock's `advance`).
///
/// ```
/// use gotimer::future::sleep;
/// use std::time::{Duration, Instant};
///
/// let start = Instant::now();
/// let s = sleep(Duration::from_millis(5));
/// let due = s.deadline();
/// assert_eq!(futures::executor::block_on(s), due, "the value is the instant it was due");
/// assert!(Instant::now() >= start + Duration::from_millis(5));
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Sleep {
    /// `None` only in `drop`, which hands it to the thread's spares (`Handle::free`).
    handle: Option<Handle<Wake>>,
}

// A pending sleep's bytes are this, its entry and its wheel node: `ShardRt` keeps the handle at 16.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Sleep>() == 16);

impl Sleep {
    /// A sleep until `due` on `rt`, recorded at `site` as `kind`. A timeout's is parked until its
    /// first poll (on a clock read without the lock): its future is polled first, and when that
    /// is ready at once the sleep is never polled, and costs no lock. A plain sleep is made to be
    /// awaited, so it is filed at once, which spares its first poll a second clock read and the
    /// arming; unless it is shorter than a tick of the wheel (Go's `Sleep(1ns)`): parked, its first
    /// poll most likely finds it due and returns `Ready`, where filed it would wait for the driver
    /// to wake its task.
    pub(crate) fn start(rt: Rt, site: &'static Location<'static>, kind: Kind, due: Due) -> Sleep {
        if kind == Kind::Timeout || due.is_under_a_tick() {
            return Sleep::start_parked(rt, site, kind, due);
        }
        Sleep {
            handle: Some(Handle::start(rt, site, kind, Wake::armed(), due)),
        }
    }

    /// `start` parked, on a clock that allows it. Kept out of line: inlined into `future::sleep`,
    /// it cost every filed sleep 17 instructions (create + poll + drop, callgrind: 1050 to 1033).
    #[inline(never)]
    fn start_parked(rt: Rt, site: &'static Location<'static>, kind: Kind, due: Due) -> Sleep {
        let handle = match Handle::start_parked(rt, site, kind, Wake::unarmed(), due) {
            Ok(handle) => handle,
            Err((rt, _)) => Handle::start(rt, site, kind, Wake::armed(), due),
        };
        Sleep {
            handle: Some(handle),
        }
    }

    /// The instant the sleep is due: the value it completes with. For a sleep that never comes
    /// due (a deadline out of range, such as `Duration::MAX`, or 73 years and more away), an
    /// instant 73 years from the start of its clock.
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// let s = fake.clock().sleep_async(Duration::from_secs(3));
    /// assert_eq!(s.deadline(), fake.now() + Duration::from_secs(3));
    /// ```
    pub fn deadline(&self) -> Instant {
        self.handle().instant(self.handle().action().deadline())
    }

    /// True once the deadline has passed and the sleep was fired, or would be by its next poll (its
    /// next poll is `Ready`), and after it returned `Ready`, until a reset. A sleep made already
    /// due fired as it was made, and reads true at once.
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// let s = fake.clock().sleep_async(Duration::from_secs(1));
    /// assert!(!s.is_elapsed());
    /// fake.advance(Duration::from_secs(1));
    /// assert!(s.is_elapsed());
    /// ```
    pub fn is_elapsed(&self) -> bool {
        let wake = self.handle().action();
        // Parked until its first poll (a timeout's, or one shorter than a tick), it is fired by
        // that poll if its deadline has passed: due is elapsed.
        wake.is_elapsed() || (wake.is_parked() && self.handle().is_due())
    }

    /// Makes the sleep due `d` from now, whether it is pending, elapsed or already returned: Go's
    /// `Timer.Reset`. Returns true if the sleep had not yet returned `Ready` (it was pending, or
    /// due but not yet polled), false if it had. Once it returns, no completion from the old
    /// deadline is seen: the next poll waits for the new one. The task that polled it last is woken
    /// at the new deadline with no new poll, even when it is earlier than the old one.
    ///
    /// A reset to a later deadline of a pending sleep takes no lock: it moves the deadline with one
    /// compare-and-swap, as Go's `timerModifiedLater` does, so an idle timeout pushed back on every
    /// message costs no more than an atomic.
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// let mut s = fake.clock().sleep_async(Duration::from_secs(1));
    /// assert!(s.reset(Duration::from_secs(5)), "pending");
    /// fake.advance(Duration::from_secs(5));
    /// assert_eq!(futures::executor::block_on(&mut s), fake.now());
    /// assert!(!s.reset(Duration::from_secs(1)), "already returned Ready");
    /// ```
    pub fn reset(&mut self, d: Duration) -> bool {
        self.reschedule(Due::In(d))
    }

    /// [`reset`](Sleep::reset) to the instant `deadline`: due at once if it is past (completing
    /// with `deadline`, or with the start of the clock for a deadline from before it started).
    ///
    /// ```
    /// use gotimer::FakeClock;
    /// use std::time::Duration;
    /// let fake = FakeClock::new();
    /// let mut s = fake.clock().sleep_async(Duration::from_secs(60));
    /// let deadline = fake.now() + Duration::from_secs(1);
    /// assert!(s.reset_at(deadline));
    /// assert_eq!(s.deadline(), deadline);
    /// ```
    pub fn reset_at(&mut self, deadline: Instant) -> bool {
        self.reschedule(Due::At(deadline))
    }

    fn reschedule(&mut self, due: Due) -> bool {
        let completed = self.handle().action().has_completed();
        self.handle().reset(due, |_, _| false);
        !completed
    }

    /// A check of whether the sleep's entry is still allocated, for after the sleep is gone.
    #[cfg(all(test, gotimer_loom))]
    pub(crate) fn entry_probe(&self) -> Box<dyn Fn() -> bool + Send> {
        self.handle().entry_probe()
    }

    #[inline]
    fn handle(&self) -> &Handle<Wake> {
        self.handle
            .as_ref()
            .expect("gotimer: a Sleep's handle is taken only by its drop")
    }

    /// The instant of a deadline in nanoseconds of the sleep's clock.
    fn ready(&self, at: u64) -> Poll<Instant> {
        Poll::Ready(self.handle().instant(at))
    }
}

impl Future for Sleep {
    type Output = Instant;

    /// Ready with the deadline once the sleep fired; otherwise stores the waker (the one of the
    /// latest poll is woken) and, on the first poll, arms the sleep: one already due is then ready
    /// at once, with no wake.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Instant> {
        let wake = self.handle().action();
        if let Polled::Ready(at) = wake.poll() {
            // Kept on `Ready` too: a reset after it wakes this poll's task, not an earlier one's.
            wake.register(cx.waker());
            return self.ready(at);
        }
        if wake.set_armed() {
            // Unarmed, it was parked (or never due): only this sleep holds its entry.
            self.handle().arm_unshared();
            if let Polled::Ready(at) = wake.poll() {
                // As on any `Ready`: a reset after it wakes this poll's task.
                wake.register(cx.waker());
                return self.ready(at);
            }
        }
        wake.register(cx.waker());
        // Fired since the first look? Then the firing thread may have looked for a waker before
        // this one was stored.
        match wake.poll() {
            Polled::Ready(at) => self.ready(at),
            Polled::Pending => Poll::Pending,
        }
    }
}

impl Drop for Sleep {
    /// Cancels a pending sleep, freeing its wheel node at once. One never polled is parked (only
    /// this `Sleep` holds it) and one that fired is in no wheel: neither takes a lock.
    ///
    /// The wheel holds a filed sleep's entry without a count of its own (`Wake::wheel_borrows`),
    /// so this takes it out under the lock before letting go of the handle's count, whenever it
    /// may be filed; `stop` cannot unwind (the shard lock ignores poisoning, and a corrupt wheel
    /// aborts).
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            if handle.action().is_filed() {
                handle.stop(|_, _| false);
            }
            handle.free();
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline())
            .field("site", &self.handle().origin().location())
            .finish_non_exhaustive()
    }
}

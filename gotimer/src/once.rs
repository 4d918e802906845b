//! `after_func_once`: Go's `time.AfterFunc(d, func() { close(done) })`, whose callback consumes
//! what it captured, as a Rust `FnOnce`.
//!
//! Built on the public [`after_func`]: the closure is kept in a `Mutex<Option<F>>` that the first
//! run empties. So every `stop`/`reset` result is `after_func`'s, and the one thing added is that
//! `f` runs at most once, whatever `reset` does afterwards.

use crate::{after_func, Timer};
use std::sync::Mutex;
use std::time::Duration;

/// Runs `f` once on a callback thread after at least `d`: [`after_func`] for a closure that can
/// run only once (`FnOnce`), such as one that sends on a oneshot channel or drops a `Sender` to
/// signal, as Go's `time.AfterFunc(d, func() { close(done) })` does. `f` need not be `Sync`.
///
/// The returned [`Timer`] is `after_func`'s, and so are its results:
/// - [`stop`](Timer::stop) returns true exactly when `f` will never run (it had not started), as
///   for any `after_func`; `f` and its captures are then dropped with the timer's callback;
/// - [`reset`](Timer::reset) before `f` has started reschedules it: true, and `f` runs once, at the
///   new time;
/// - `reset` once `f` has started (or run) returns false, as for any `after_func`, and schedules a
///   run that does nothing: `f` has been consumed and cannot run again. Make a new
///   `after_func_once` to run another.
///
/// `f` and its captures are dropped when it returns (so a captured `Sender` disconnects then, like
/// Go's `close`), or, if it never runs, when the callback is freed. A panic in `f` is caught and
/// reported like any callback's (see [`set_callback_panic_reporter`](crate::set_callback_panic_reporter)).
///
/// It runs on [`Clock::current`](crate::Clock::current), like `after_func`: on a
/// [`FakeClock`](crate::FakeClock), call it on a thread that [`enter`](crate::Clock::enter)ed that
/// clock.
///
/// ```
/// use gotimer::crossbeam_channel::{bounded, RecvTimeoutError};
/// use std::time::Duration;
///
/// // Go: done := make(chan struct{}); time.AfterFunc(d, func() { close(done) }); <-done
/// let (done_tx, done) = bounded::<()>(0);
/// gotimer::after_func_once(Duration::from_millis(1), move || drop(done_tx));
/// assert_eq!(
///     done.recv_timeout(Duration::from_secs(10)),
///     Err(RecvTimeoutError::Disconnected) // closed: the callback ran and dropped the sender
/// );
///
/// // Stopped in time: `f` never runs, and is dropped (its sender with it).
/// let (tx, rx) = bounded::<&str>(1);
/// let t = gotimer::after_func_once(Duration::from_secs(3600), move || tx.send("ran").unwrap());
/// assert!(t.stop());
/// assert!(rx.recv_timeout(Duration::from_millis(50)).is_err()); // nothing was sent
/// ```
#[track_caller]
pub fn after_func_once<F>(d: Duration, f: F) -> Timer
where
    F: FnOnce() + Send + 'static,
{
    let slot = Mutex::new(Some(f));
    after_func(d, move || {
        // Taken under the lock, run after it: `f` may reset its own timer, whose later run must
        // find the slot empty, not wait for this one.
        let f = crate::sync::lock(&slot).take();
        if let Some(f) = f {
            f();
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FakeClock;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::Arc;

    const MS: Duration = Duration::from_millis(1);

    /// A capture that counts its drops.
    struct Dropped(Arc<AtomicUsize>);
    impl Drop for Dropped {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    fn counted() -> (Arc<AtomicUsize>, Arc<AtomicUsize>) {
        (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)))
    }

    #[test]
    fn runs_once_and_a_reset_after_it_ran_cannot_run_it_again() {
        let fake = FakeClock::new();
        let _in = fake.clock().enter();
        let (runs, drops) = counted();
        let (r, d) = (runs.clone(), Dropped(drops.clone()));
        let t = after_func_once(MS, move || {
            let _d = d;
            r.fetch_add(1, SeqCst);
        });
        fake.advance(MS);
        assert_eq!(runs.load(SeqCst), 1);
        assert_eq!(drops.load(SeqCst), 1, "captures dropped when f returns");
        assert!(
            !t.reset(MS),
            "it ran: reset returns false, as for any after_func"
        );
        fake.advance(MS);
        assert_eq!(
            runs.load(SeqCst),
            1,
            "consumed: the rescheduled run does nothing"
        );
        assert!(!t.stop());
    }

    #[test]
    fn a_reset_before_it_ran_moves_its_one_run() {
        let fake = FakeClock::new();
        let _in = fake.clock().enter();
        let (runs, _) = counted();
        let r = runs.clone();
        let t = after_func_once(MS, move || {
            r.fetch_add(1, SeqCst);
        });
        assert!(t.reset(10 * MS), "pending: rescheduled");
        fake.advance(5 * MS);
        assert_eq!(runs.load(SeqCst), 0, "not at the old time");
        fake.advance(5 * MS);
        assert_eq!(runs.load(SeqCst), 1, "at the new one");
        fake.advance(Duration::from_secs(1));
        assert_eq!(runs.load(SeqCst), 1);
    }

    #[test]
    fn stopped_in_time_it_never_runs() {
        let fake = FakeClock::new();
        let _in = fake.clock().enter();
        let (runs, _) = counted();
        let r = runs.clone();
        let t = after_func_once(MS, move || {
            r.fetch_add(1, SeqCst);
        });
        assert!(t.stop(), "pending: stop keeps it from running");
        fake.advance(Duration::from_secs(1));
        assert_eq!(runs.load(SeqCst), 0);
        assert!(!t.stop(), "already stopped");
    }

    #[test]
    fn a_callback_that_resets_its_own_timer_runs_once() {
        let fake = FakeClock::new();
        let _in = fake.clock().enter();
        let (runs, _) = counted();
        let r = runs.clone();
        let own: Arc<Mutex<Option<Timer>>> = Arc::default();
        let own2 = own.clone();
        let t = after_func_once(MS, move || {
            r.fetch_add(1, SeqCst);
            if let Some(t) = own2.lock().unwrap().as_ref() {
                t.reset(MS); // schedules a run that finds `f` consumed
            }
        });
        *own.lock().unwrap() = Some(t);
        fake.advance(10 * MS);
        assert_eq!(runs.load(SeqCst), 1);
        own.lock().unwrap().take(); // the timer holds the callback, which holds `own`
    }

    #[test]
    fn runs_on_the_system_clock() {
        let (tx, rx) = crossbeam_channel::bounded::<u32>(0);
        let _t = after_func_once(Duration::ZERO, move || drop(tx));
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(30)),
            Err(crossbeam_channel::RecvTimeoutError::Disconnected)
        );
    }
}

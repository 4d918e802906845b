//! The clock a semantic test runs on, and how the test lets time pass on it. One test body, given a
//! `TestClock`, runs on the system clock, where time passes by itself and the body waits for real,
//! and on a fake clock, where time passes only when the body says so and every wait is an
//! `advance`: the same checks, in milliseconds of real time and without scheduler noise.
//!
//! `both_clocks!(name)` turns `fn name(tc: &TestClock)` into two tests, `name::system` and
//! `name::fake` (so `cargo test ::fake` runs every fake variant).

use crossbeam_channel::{Receiver, RecvTimeoutError, Select, TryRecvError};
use gotimer::{Clock, FakeClock};
use std::fmt::Debug;
use std::time::{Duration, Instant};

/// How long a test waits, in real time, for something that must happen (a timer on the system
/// clock, a thread reacting to a fake clock's advance) before it fails: far beyond any scheduler
/// delay, so it never decides a correct run.
pub const WAKE: Duration = Duration::from_secs(10);

/// How long a fake-clock test gives a woken thread, in real time, to show that it woke when it
/// must not have. A correct run waits it out and passes whatever the scheduler does: it only sets
/// how likely a wrong wakeup is to be caught.
const GRACE: Duration = Duration::from_millis(20);

/// The clock of one run of a test body: the system clock, or a new fake clock.
pub struct TestClock {
    clock: Clock,
    fake: Option<FakeClock>,
}

impl TestClock {
    pub fn system() -> TestClock {
        TestClock {
            clock: Clock::system(),
            fake: None,
        }
    }

    pub fn fake() -> TestClock {
        let fake = FakeClock::new();
        TestClock {
            clock: fake.clock(),
            fake: Some(fake),
        }
    }

    /// The clock the body makes its timers on.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn is_fake(&self) -> bool {
        self.fake.is_some()
    }

    /// Lets `d` pass: the system clock sleeps; the fake clock advances by `d`, firing everything
    /// due on the way (so threads blocked on its timers wake as it reaches them).
    pub fn pass(&self, d: Duration) {
        match &self.fake {
            None => self.clock.sleep(d),
            Some(fake) => fake.advance(d),
        }
    }

    /// Lets time pass until `at`; nothing if it is past.
    pub fn pass_to(&self, at: Instant) {
        self.pass(at.saturating_duration_since(self.clock.now()));
    }

    /// Asserts that `took`, measured on this clock, is at least `target`: never early. On a fake
    /// clock nothing is late either, so there it must be exactly `target`.
    pub fn assert_on_time(&self, took: Duration, target: Duration, what: &str) {
        assert!(took >= target, "{what}: took {took:?}, before {target:?}");
        if self.is_fake() {
            assert_eq!(took, target, "{what}: late on a fake clock");
        }
    }

    /// Waits until at least `n` timers are pending on the fake clock, which is how a test knows
    /// that threads it started are blocked in `sleep` (or made their timers). On the system clock
    /// there is nothing to wait for: time runs for those threads by itself.
    pub fn until_waiters(&self, n: usize) {
        if let Some(fake) = &self.fake {
            assert!(
                fake.wait_for_waiters(n, WAKE),
                "after {WAKE:?} only {} of {n} timers are pending on the fake clock",
                fake.waiters()
            );
        }
    }

    /// Receives from the first of `rxs` to deliver, letting time pass until one does: a blocking
    /// select on the system clock (failing after `WAKE`); on the fake clock, a jump to each next
    /// deadline in turn until one of them has a value, trying them in order. So on the fake clock
    /// the value must come from the clock itself (a timer's channel, or a callback it runs), not
    /// from another thread that an advance wakes.
    ///
    /// Panics if nothing arrives: on the fake clock, when nothing is left pending that could
    /// deliver, or when a channel is disconnected.
    pub fn recv_any<T>(&self, rxs: &[&Receiver<T>]) -> (usize, T) {
        let Some(fake) = &self.fake else {
            let mut select = Select::new();
            for rx in rxs {
                select.recv(rx);
            }
            let op = select
                .select_timeout(WAKE)
                .unwrap_or_else(|_| panic!("nothing was received within {WAKE:?}"));
            let i = op.index();
            let v = op
                .recv(rxs[i])
                .unwrap_or_else(|_| panic!("channel {i} is disconnected"));
            return (i, v);
        };
        let deadline = Instant::now() + WAKE;
        let (mut ran_due, mut stalled) = (false, false);
        loop {
            for (i, rx) in rxs.iter().enumerate() {
                match rx.try_recv() {
                    Ok(v) => return (i, v),
                    Err(TryRecvError::Empty) => {}
                    Err(TryRecvError::Disconnected) => panic!("channel {i} is disconnected"),
                }
            }
            assert!(
                !stalled,
                "nothing is pending on the fake clock: this receive would block forever"
            );
            assert!(
                Instant::now() < deadline,
                "nothing was received after {WAKE:?} of advancing the fake clock"
            );
            if ran_due {
                stalled = fake.advance_to_next().is_none();
            } else {
                // First the callbacks due now (`after_func(ZERO)`), without moving time:
                // `advance_to_next` would run them and then jump on.
                fake.advance(Duration::ZERO);
            }
            ran_due = !ran_due;
        }
    }

    /// `recv_any` with one channel: the value, once time has passed until it came.
    pub fn recv<T>(&self, rx: &Receiver<T>) -> T {
        self.recv_any(&[rx]).1
    }

    /// Asserts that nothing arrives on `rx` while `d` passes: a `recv_timeout(d)` on the system
    /// clock; on the fake clock an advance by `d` and then a short real wait, in case a thread
    /// that the advance wrongly woke is about to send.
    pub fn assert_quiet<T: Debug>(&self, rx: &Receiver<T>, d: Duration, what: &str) {
        let got = match &self.fake {
            None => rx.recv_timeout(d),
            Some(fake) => {
                fake.advance(d);
                rx.recv_timeout(GRACE)
            }
        };
        assert!(
            matches!(got, Err(RecvTimeoutError::Timeout)),
            "{what}: {got:?} while {d:?} passed"
        );
    }

    /// Lets time pass until `done()` holds: polls every millisecond of real time on the system
    /// clock; on the fake clock runs the callbacks due at once, then jumps from deadline to
    /// deadline while anything is pending, pausing 20 us of real time after each jump so that the
    /// threads it woke can run before the next, and waits in real time when nothing is pending.
    /// Fails after `WAKE` of real time.
    pub fn pass_until(&self, what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + WAKE;
        if let Some(fake) = &self.fake {
            fake.advance(Duration::ZERO);
        }
        while !done() {
            assert!(Instant::now() < deadline, "{what}: not after {WAKE:?}");
            match &self.fake {
                Some(fake) if fake.advance_to_next().is_some() => {
                    std::thread::sleep(Duration::from_micros(20))
                }
                _ => std::thread::sleep(Duration::from_millis(1)),
            }
        }
    }
}

/// Runs `attempt` with each parameter in turn until one passes, as Go's retried tests do. An `Err`
/// means "too slow this time" (a hard failure is an `assert!` inside `attempt`), which only real
/// time can be: on a fake clock only the first parameter runs, and it must pass.
pub fn retry<P: Copy + Debug>(
    tc: &TestClock,
    params: &[P],
    mut attempt: impl FnMut(P) -> Result<(), String>,
) {
    let params = if tc.is_fake() { &params[..1] } else { params };
    let mut errors = Vec::new();
    for &p in params {
        match attempt(p) {
            Ok(()) => return,
            Err(e) => {
                eprintln!("attempt with {p:?} failed, retrying: {e}");
                errors.push(format!("{p:?}: {e}"));
            }
        }
    }
    panic!("failed at every duration: {errors:#?}");
}

/// `both_clocks!(a, b, …)`: for each `fn a(tc: &TestClock)`, the tests `a::system` and `a::fake`.
/// Attributes in brackets after a name go on its fake variant only:
/// `both_clocks!(a [ignore = "bug: …"])`.
#[allow(unused_macros)] // used by the binaries that port Go's tests, not by every one
macro_rules! both_clocks {
    ($($name:ident $([$($fake_attr:meta),*])?),+ $(,)?) => {
        $(
            mod $name {
                #[test]
                fn system() {
                    super::$name(&$crate::common::clocks::TestClock::system());
                }

                #[test]
                $($(#[$fake_attr])*)?
                fn fake() {
                    super::$name(&$crate::common::clocks::TestClock::fake());
                }
            }
        )+
    };
}

#[allow(unused_imports)]
pub(crate) use both_clocks;

//! The runtime's own tests, on a runtime the tests build: what the public API cannot reach.

use super::entry::{Delivery, Fired, Held};
use super::handle::Handle;
use super::manual::ManualRuntime;
use super::rt::Rt;
use super::time::{Due, Timeline};
use crate::origin::Kind;
use crate::Timer;
use std::panic::Location;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Long enough for a loaded 2-core machine; a lost notification still fails.
const PATIENCE: Duration = Duration::from_secs(10);

/// A kind that asks to be notified on the firing thread (`Fired::Notify`), as a task's waker will:
/// it reports the thread's name, or panics if `panic` is set.
struct Notifying {
    to: Sender<String>,
    panic: bool,
}

impl Delivery for Notifying {
    fn fire(&self, _: &Held, _: u64, _: u64, _: &Timeline) -> Fired {
        Fired::Notify
    }

    fn notify(&self) {
        let name = std::thread::current().name().unwrap_or("").to_string();
        let _ = self.to.send(name);
        assert!(!self.panic, "a notification that panics");
    }
}

/// Starts `kind` on `rt`, due in `d`.
#[track_caller]
fn start(rt: Rt, kind: Notifying, d: Duration) -> Handle<Notifying> {
    Handle::start(rt, Location::caller(), Kind::AfterFunc, kind, Due::In(d))
}

fn notifying(panic: bool) -> (Notifying, Receiver<String>) {
    let (to, rx) = channel();
    (Notifying { to, panic }, rx)
}

/// A runtime on the monotonic clock whose driver never runs: what a held receiver sees while
/// the system clock's driver has not woken yet, held still.
fn driverless() -> Rt {
    Rt::Manual(Arc::new(ManualRuntime::on(Timeline::monotonic())))
}

/// A receiver kept from an earlier `c()` gets a value only once something sends it: the driver
/// (absent here), or a `c()` call, which fires what is due on its own thread. So after the
/// deadline a non-blocking receive on the held receiver finds nothing until then, and a
/// receive through `c()` always finds the value.
#[test]
fn a_held_receiver_sees_a_due_value_only_once_the_driver_or_c_sends_it() {
    let ms = Duration::from_millis(1);
    let t = Timer::start(driverless(), Location::caller(), Due::In(ms));
    let held = t.c().clone();
    std::thread::sleep(2 * ms);
    assert!(held.try_recv().is_err(), "nothing sent it yet");
    assert!(t.c().try_recv().is_ok(), "c() fires what is due");

    // The first `c()` fires it too, from parked.
    let t = Timer::start(driverless(), Location::caller(), Due::In(ms));
    std::thread::sleep(2 * ms);
    assert!(t.c().try_recv().is_ok(), "the first c() fires what is due");
    assert!(
        !t.reset(ms),
        "received: the reset kept nothing from being received"
    );
    let held = t.c().clone();
    std::thread::sleep(2 * ms);
    assert!(held.try_recv().is_err(), "nothing sent it yet");
    let _ = t.c();
    assert!(
        held.try_recv().is_ok(),
        "a c() on any thread sends it to every receiver"
    );
}

/// A kind that asks for `Fired::Notify` is notified once, on the driver thread, when it comes due;
/// one whose notification panics is counted as a callback's panic, and the driver goes on firing.
#[test]
fn the_driver_notifies_a_kind_once_and_survives_a_panicking_notification() {
    let (kind, notified) = notifying(false);
    let _h = start(Rt::system(), kind, Duration::from_millis(1));
    assert_eq!(
        notified.recv_timeout(PATIENCE).as_deref(),
        Ok("gotimer-driver")
    );
    assert!(
        notified.recv_timeout(Duration::from_millis(20)).is_err(),
        "notified twice"
    );

    let panics = crate::stats().callback_panics;
    let (kind, notified) = notifying(true);
    let _h = start(Rt::system(), kind, Duration::from_millis(1));
    assert!(notified.recv_timeout(PATIENCE).is_ok());
    // A held receiver: only the driver can send on it, so this sees the driver alive.
    let t = Timer::new(Duration::from_millis(1));
    let held = t.c().clone();
    assert!(
        held.recv_timeout(PATIENCE).is_ok(),
        "the driver still fires"
    );
    let deadline = Instant::now() + PATIENCE;
    while crate::stats().callback_panics <= panics && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(
        crate::stats().callback_panics > panics,
        "the panic was not counted"
    );
}

/// On a manual runtime the advancing thread notifies, at the step of the deadline; a kind due at
/// creation is notified by the creating thread, as the lock is released.
#[test]
fn a_manual_step_notifies_on_the_advancing_thread() {
    let manual = Arc::new(ManualRuntime::new());
    let rt = Rt::Manual(manual.clone());
    let here = std::thread::current().name().unwrap_or("").to_string();
    let (kind, notified) = notifying(false);
    let _h = start(rt.clone(), kind, Duration::from_secs(1));
    manual.advance(Duration::from_millis(999));
    assert!(notified.try_recv().is_err(), "notified before its deadline");
    manual.advance(Duration::from_millis(1));
    assert_eq!(notified.try_recv().as_ref(), Ok(&here));
    assert!(notified.try_recv().is_err(), "notified twice");

    let (kind, notified) = notifying(false);
    let _h = start(rt, kind, Duration::ZERO);
    assert_eq!(notified.try_recv().as_ref(), Ok(&here));

    let (kind, notified) = notifying(true);
    let _h = start(Rt::Manual(manual.clone()), kind, Duration::from_secs(1));
    manual.advance(Duration::from_secs(1));
    assert!(notified.try_recv().is_ok());
    assert_eq!(manual.stats().callback_panics, 1, "the panic was counted");
}

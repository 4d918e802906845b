//! The runtime's own tests, on a runtime the tests build: what the public API cannot reach.

use super::manual::ManualRuntime;
use super::rt::Rt;
use super::time::{Due, Timeline};
use crate::Timer;
use std::panic::Location;
use std::sync::Arc;
use std::time::Duration;

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

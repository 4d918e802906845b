//! Faults the tests inject into the system runtime: a panic under a shard lock on the driver
//! thread (a broken wheel invariant), a callback thread the operating system refuses, and a thread
//! descheduled right after it started the driver thread. The
//! production paths call the hooks below, which are empty functions outside test builds, so they
//! cost nothing there. The tests that use them are in `fault_tests.rs`.

#[cfg(all(test, not(gotimer_loom)))]
mod injected {
    use std::sync::atomic::AtomicBool;

    /// While set, the driver's next poll panics under the shard lock. A plain `std` atomic: a
    /// test-only flag that no ordering argument rests on.
    pub(crate) static PANIC_IN_POLL: AtomicBool = AtomicBool::new(false);

    /// While set, starting a callback thread fails.
    pub(crate) static FAIL_SPAWNS: AtomicBool = AtomicBool::new(false);

    /// While set, the thread that starts the driver thread stalls for a second once it has.
    pub(crate) static STALL_DRIVER_SPAWNER: AtomicBool = AtomicBool::new(false);
}

#[cfg(all(test, not(gotimer_loom)))]
pub(crate) use injected::{FAIL_SPAWNS, PANIC_IN_POLL, STALL_DRIVER_SPAWNER};

/// Called by the driver's poll while it holds a shard lock.
#[inline(always)]
pub(crate) fn under_poll_lock() {
    #[cfg(all(test, not(gotimer_loom)))]
    if PANIC_IN_POLL.load(std::sync::atomic::Ordering::SeqCst) {
        panic!("injected fault: a broken wheel invariant");
    }
}

/// Called before a callback thread is started: an error to return instead of starting it.
#[cfg_attr(gotimer_loom, allow(dead_code))] // no thread is started under loom
#[inline(always)]
pub(crate) fn refuse_spawn() -> Option<std::io::Error> {
    #[cfg(all(test, not(gotimer_loom)))]
    if FAIL_SPAWNS.load(std::sync::atomic::Ordering::SeqCst) {
        return Some(std::io::Error::other("injected spawn failure"));
    }
    None
}

/// Called by the thread that started the driver thread, once it has: a loaded machine may not run
/// it again for a while, and the driver must not depend on it meanwhile.
#[cfg_attr(gotimer_loom, allow(dead_code))] // no driver thread is started under loom
#[inline(always)]
pub(crate) fn after_driver_spawn() {
    #[cfg(all(test, not(gotimer_loom)))]
    if STALL_DRIVER_SPAWNER.load(std::sync::atomic::Ordering::SeqCst) {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

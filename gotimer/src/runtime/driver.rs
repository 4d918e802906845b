//! The driver: one thread that sleeps until the earliest deadline of any shard, then fires what is due.
//!
//! It never runs user code: channel sends happen under the shard lock (they never block), and
//! callbacks are handed to the pool. With nothing due it is parked, so a million timers an hour away
//! cost no CPU. A thread that inserts a deadline earlier than the driver's planned wakeup unparks it.
//!
//! The handshake that keeps a wakeup from being lost is Dekker's: the inserter writes the shard's
//! `next` and then reads `sleep_until`; the driver writes `sleep_until` and then reads every `next`.
//! A `SeqCst` fence between the write and the read on each side makes at least one side see the
//! other. (`SeqCst` on the four accesses alone would do in the language's memory model, but loom
//! treats `SeqCst` accesses as acquire/release and found the lost wakeup that allows; with the
//! fences, `loom_driver_park_vs_insert` checks the handshake.) Of the inserters that see an earlier
//! deadline, the one whose compare-exchange wins unparks, so a burst of inserts costs one syscall.
//!
//! The driver never dies quietly: a panic on it is fatal (see `fatal.rs`). While a callback thread
//! cannot be started, it retries every [`RETRY`] instead of sleeping until the next deadline, so a
//! callback runs as soon as a thread can be had again.

use super::entry::{Batch, Filed};
#[cfg(not(gotimer_loom))]
use super::fatal::{fatal, panic_message};
use super::time::SPIN_BELOW;
use crate::sync::{fence, AtomicU64, Ordering::SeqCst, Thread};
#[cfg(not(gotimer_loom))]
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;
use std::time::Duration;

/// What a driver drives: a runtime with a clock, shards to poll and callbacks to hand out. The
/// system runtime implements it (`system.rs`), and hands itself to [`Driver::spawn`]: a runtime
/// that lives for the rest of the process, as its callback threads need.
pub(crate) trait Driven: Sync + 'static {
    /// The wake-up state of this runtime's driver.
    fn driver(&self) -> &Driver;
    /// The runtime's time, in its time line's nanoseconds.
    fn now(&self) -> u64;
    /// Fires what is due at `now` (what that leaves for after the locks through `batch`, which the
    /// runtime hands on) and
    /// returns the earliest deadline left, for the driver to sleep until.
    fn poll_due(&'static self, now: u64, buf: &mut Vec<(u64, Filed)>, batch: &mut Batch) -> u64;
    /// Retries starting a callback thread that could not be started; true while callbacks still
    /// wait for one.
    fn retry_callback_threads(&'static self) -> bool;
    /// The earliest deadline anything published, read without locks: the driver's rescan before it
    /// parks.
    fn earliest(&self) -> u64;
}

/// How often the driver retries starting a callback thread while none can be started.
pub(crate) const RETRY: Duration = Duration::from_millis(10);

/// Entries the driver's buffers keep room for between polls; a bigger burst is given back after.
const KEEP: usize = 64;

/// `sleep_until` while the driver is awake: it rescans every shard before it sleeps again.
const AWAKE: u64 = 0;

pub(crate) struct Driver {
    /// When the parked driver will wake on its own (`u64::MAX`: never), or `AWAKE`.
    sleep_until: AtomicU64,
    /// The driver thread, set by the thread itself before it first parks. Until then there is
    /// nobody to wake: the thread scans every shard when it starts (`sleep_until` is `AWAKE`, so no
    /// `notify` even tries).
    thread: OnceLock<Thread>,
}

impl Driver {
    /// The wake-up state of a driver whose thread is not started yet.
    pub(crate) fn new() -> Driver {
        Driver {
            sleep_until: AtomicU64::new(AWAKE),
            thread: OnceLock::new(),
        }
    }

    /// Starts the thread that drives `driven`, once `driven` is in its final place. It runs until
    /// the process exits and never keeps it alive.
    #[cfg(not(gotimer_loom))]
    pub(crate) fn spawn<D: Driven>(driven: &'static D) {
        std::thread::Builder::new()
            .name("gotimer-driver".into())
            .spawn(move || {
                // Before the first park: a driver that could park before its thread is known
                // would be left parked for good by a `notify` that finds it so, and no thread to
                // unpark. The spawning thread may not run again for a while after `spawn`.
                let _ = driven.driver().thread.set(std::thread::current());
                tighten_timer_slack();
                let ended = catch_unwind(AssertUnwindSafe(|| run(driven)));
                let why = match &ended {
                    Ok(()) => "returned",
                    Err(payload) => panic_message(payload.as_ref()),
                };
                fatal(format_args!(
                    "the timer driver thread panicked ({why}): no timer could fire again"
                ))
            })
            .expect("gotimer: cannot spawn the timer driver thread");
        super::faults::after_driver_spawn();
    }

    #[cfg(gotimer_loom)]
    pub(crate) fn spawn<D: Driven>(_: &'static D) {
        unreachable!("gotimer: the system runtime's thread does not run under loom")
    }

    /// A driver whose thread is the calling one: for the loom model of the handshake.
    #[cfg(all(test, gotimer_loom))]
    pub(crate) fn for_current_thread() -> Driver {
        let driver = Driver::new();
        let _ = driver.thread.set(crate::sync::current_thread());
        driver
    }

    /// The driver's half of the handshake, before it parks until `next`: publishes `next`, then
    /// rescans with `earliest`. True if it may park (an inserter that lowers a deadline below
    /// `next` from now on sees `next`, and unparks it); false if a deadline below `next` was
    /// published meanwhile, and it must rescan instead.
    pub(crate) fn prepare_park(&self, next: u64, earliest: impl FnOnce() -> u64) -> bool {
        self.sleep_until.store(next, SeqCst);
        fence(SeqCst);
        if earliest() < next {
            self.sleep_until.store(AWAKE, SeqCst);
            return false;
        }
        true
    }

    /// True if an inserter woke the parked driver (an earlier deadline than it planned for).
    fn notified(&self) -> bool {
        self.sleep_until.load(SeqCst) == AWAKE
    }

    /// The driver is awake again: it rescans every shard before it parks again.
    pub(crate) fn woke(&self) {
        self.sleep_until.store(AWAKE, SeqCst);
    }

    /// The inserter's half: called after a shard's `next` was lowered to `deadline`.
    pub(crate) fn notify(&self, deadline: u64) {
        fence(SeqCst);
        let planned = self.sleep_until.load(SeqCst);
        if deadline < planned
            && self
                .sleep_until
                .compare_exchange(planned, AWAKE, SeqCst, SeqCst)
                .is_ok()
        {
            if let Some(thread) = self.thread.get() {
                thread.unpark();
            }
        }
    }
}

/// Linux stretches a thread's timed sleeps by its timer slack (50 µs by default) to batch wakeups.
/// The driver's sleeps end at timer deadlines, so it asks for the least slack, 1 ns. Checked by
/// `tests/driver.rs`, which reads the driver thread's `timerslack_ns`.
#[cfg_attr(gotimer_loom, allow(dead_code))]
fn tighten_timer_slack() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_TIMERSLACK takes a plain integer and changes only the calling thread's slack;
    // no pointer is passed, so there is no memory to get wrong. Failure leaves the default slack.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0);
    }
}

/// The driver thread's loop: fire what is due, then sleep until the earliest deadline left.
#[cfg_attr(gotimer_loom, allow(dead_code))]
fn run<D: Driven>(rt: &'static D) {
    let driver = rt.driver();
    let mut buf = Vec::new();
    let mut batch = Batch::default();
    let mut lead = Lead::default();
    loop {
        let mut next = rt.poll_due(rt.now(), &mut buf, &mut batch);
        if rt.retry_callback_threads() {
            next = next.min(rt.now().saturating_add(RETRY.as_nanos() as u64));
        }
        // A burst of timers due at once must not leave the driver bigger for good.
        buf.shrink_to(KEEP);
        batch.shrink_to(KEEP);
        if next <= rt.now() {
            continue;
        }
        if !driver.prepare_park(next, || rt.earliest()) {
            continue;
        }
        if next == u64::MAX {
            std::thread::park();
        } else {
            sleep_until(rt, driver, next, &mut lead);
        }
        driver.woke();
    }
}

/// The most the driver wakes before a deadline to wait out the rest awake.
const MAX_LEAD: u64 = SPIN_BELOW.as_nanos() as u64;

/// The driver spins at most one part in this many of its time (`Lead::before`).
const SPIN_SHARE: u64 = 16;

/// The most spinning the driver saves up while no deadline comes (`Lead::before`).
const MAX_BUDGET: u64 = 20 * MAX_LEAD;

/// How late a timed park returns, learned from the driver's own parks: a moving average of the
/// overshoot (each sample capped at `MAX_LEAD`, so one descheduling does not inflate it); and the
/// spinning the driver may still do.
#[derive(Default)]
struct Lead {
    ns: u64,
    /// Spinning allowed, in nanoseconds: earns `1 / SPIN_SHARE` of the time that passes, up to
    /// `MAX_BUDGET`, and pays for each early wake-up.
    budget: u64,
    /// When `budget` was last brought up to date (runtime time).
    at: u64,
}

impl Lead {
    fn observe(&mut self, overshoot: u64) {
        // 7/8 of the old average and 1/8 of the new sample.
        self.ns = (self.ns * 7 + overshoot.min(MAX_LEAD)) / 8;
    }

    /// How long before a deadline to wake, at `now`: the learned overshoot, while the budget
    /// lasts. Deadlines that come so often that spinning before each would take more than
    /// `1 / SPIN_SHARE` of a core (many tickers on a busy machine, where the spinning would only
    /// take time from the work) are slept for in full, most of them.
    fn before(&mut self, now: u64) -> u64 {
        let earned = now.saturating_sub(self.at) / SPIN_SHARE;
        self.budget = self.budget.saturating_add(earned).min(MAX_BUDGET);
        self.at = now;
        if self.budget >= self.ns {
            self.budget -= self.ns;
            self.ns
        } else {
            0
        }
    }
}

/// Sleeps until `next` (runtime time), or until an earlier deadline is notified. A timed park
/// returns late by the kernel's wake-up latency, tens of microseconds on a virtual machine, and
/// every timer due then is that late: so the driver parks until `lead` before the deadline, `lead`
/// being how late its parks have returned, and spins out the rest. The cost is bounded and paid
/// only when a deadline comes: at most `MAX_LEAD` (50 µs) of spinning per wake-up, at most
/// `1 / SPIN_SHARE` of a core in all, and nothing while no deadline is near.
#[cfg_attr(gotimer_loom, allow(dead_code))]
fn sleep_until<D: Driven>(rt: &D, driver: &Driver, next: u64, lead: &mut Lead) {
    let early = lead.before(rt.now());
    loop {
        let now = rt.now();
        if now >= next || driver.notified() {
            return;
        }
        let left = next - now;
        if left > early {
            let wait = left - early;
            std::thread::park_timeout(Duration::from_nanos(wait));
            if !driver.notified() {
                lead.observe(rt.now().saturating_sub(now + wait));
            }
        } else {
            // Not `yield_now`: with a busy thread on this core, a yield can cost a whole time
            // slice, milliseconds, which is what waking early was to avoid.
            std::hint::spin_loop();
        }
    }
}

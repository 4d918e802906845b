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
//! It wakes for each deadline, and spins out the last microseconds before it (`Lead`), unless the
//! process keeps every core busy with deadlines more often than every 250 µs: then it batches
//! them, up to 250 µs late, so that its wake-ups do not take the cores from the work (`Coalesce`).
//!
//! The driver never dies quietly: a panic on it is fatal (see `fatal.rs`). While a callback thread
//! cannot be started, it retries every [`RETRY`] instead of sleeping until the next deadline, so a
//! callback runs as soon as a thread can be had again.

use super::entry::{Batch, Filed};
#[cfg(not(gotimer_loom))]
use super::fatal::{fatal, panic_message};
use super::time::SPIN_BELOW;
use crate::sync::{
    fence, AtomicU64,
    Ordering::{Relaxed, SeqCst},
    Thread,
};
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
    /// runtime hands on) and returns the earliest deadline left, for the driver to sleep until.
    fn poll_due(&'static self, now: u64, buf: &mut Vec<(u64, Filed)>, batch: &mut Batch) -> Swept;
    /// Retries starting a callback thread that could not be started; true while callbacks still
    /// wait for one.
    fn retry_callback_threads(&'static self) -> bool;
    /// The earliest deadline anything published, read without locks: the driver's rescan before it
    /// parks.
    fn earliest(&self) -> u64;
}

/// What a driver's poll did (`Driven::poll_due`).
pub(crate) struct Swept {
    /// The earliest deadline left.
    pub(crate) next: u64,
    /// How many entries came out of the wheels: what tells the driver how dense deadlines are
    /// (`Coalesce`).
    pub(crate) given: usize,
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
    /// Sleeps that batched deadlines (`Coalesce`), for `Stats::batched_wakeups`. Only the driver
    /// thread writes it.
    batched: AtomicU64,
}

impl Driver {
    /// The wake-up state of a driver whose thread is not started yet.
    pub(crate) fn new() -> Driver {
        Driver {
            sleep_until: AtomicU64::new(AWAKE),
            thread: OnceLock::new(),
            batched: AtomicU64::new(0),
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

    /// How many of the driver's sleeps batched deadlines (`Coalesce`).
    pub(crate) fn batched_wakeups(&self) -> u64 {
        self.batched.load(Relaxed)
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
    let mut coalesce = Coalesce::new(rt.now());
    loop {
        let now = rt.now();
        let swept = rt.poll_due(now, &mut buf, &mut batch);
        coalesce.observe(now, swept.given, process_cpu_time);
        let mut next = swept.next;
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
        } else if coalesce.on() {
            // `next` is what is published: an earlier deadline still wakes the driver, and a
            // later one within the slack is fired by the same wake-up. No spinning: every
            // core is busy with the process's own work.
            driver.batched.fetch_add(1, Relaxed);
            sleep_until(rt, driver, next.saturating_add(SLACK), 0, &mut lead);
        } else {
            let early = lead.before(rt.now());
            sleep_until(rt, driver, next, early, &mut lead);
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
/// every timer due then is that late: so the driver parks until `early` before the deadline
/// (`Lead::before`: how late its parks have returned) and spins out the rest. The cost is bounded
/// and paid only when a deadline comes: at most `MAX_LEAD` (50 µs) of spinning per wake-up, at
/// most `1 / SPIN_SHARE` of a core in all, and nothing while no deadline is near.
#[cfg_attr(gotimer_loom, allow(dead_code))]
fn sleep_until<D: Driven>(rt: &D, driver: &Driver, next: u64, early: u64, lead: &mut Lead) {
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

/// How late the driver may fire a deadline while it batches them (`Coalesce`): Linux's timer
/// slack, at a size that lets one wake-up serve the deadlines of a busy process's tickers.
const SLACK: u64 = 250_000;

/// How often, at most, the driver looks again at whether to batch deadlines (`Coalesce`). The
/// kernel adds a running thread's time to the process's at its scheduler ticks (4 ms at 250 Hz),
/// so a shorter window reads busy cores as idle, or more than busy.
const WINDOW: u64 = 20_000_000;

/// The share of every core, in hundredths, that the process must use for the driver to batch.
const BUSY_PERCENT: u64 = 85;

/// Whether the driver batches deadlines: waking at most `SLACK` after the earliest one and firing
/// every deadline due by then in one wake-up, instead of waking for each.
///
/// A driver wake-up is two context switches. On an idle core they cost nothing that anything else
/// wanted; but when the process keeps every core busy, each one preempts one of the process's own
/// threads, and a task woken then waits for a worker that was parked to wake up, while its core
/// idles. With deadlines every 150 µs (Go's StaggeredTickerLatency with 10 tickers per P, whose
/// tickers' work fills both cores), that lost time makes ticks late, and a ticker that falls a whole
/// period behind drops a tick; batching fires a tick at most 250 µs late but drops fewer.
///
/// So the driver batches only while, over the last window (at least `WINDOW`), the process used at
/// least `BUSY_PERCENT` of every core (its CPU time, read once a window) and the wheels gave out an
/// entry every `SLACK` or more often. A single timer, a sparse one (ParallelTimerLatency's, which
/// fire while spinning callbacks keep the cores busy), or any timer of a process that leaves a core
/// free, is fired as precisely as ever; without a way to read the process's CPU time, never.
struct Coalesce {
    on: bool,
    /// When the window started (runtime time).
    since: u64,
    /// The process's CPU time then.
    cpu: Option<Duration>,
    /// Entries the wheels gave out since.
    given: u64,
    /// The cores the process may use.
    cores: u64,
}

impl Coalesce {
    #[cfg_attr(gotimer_loom, allow(dead_code))]
    fn new(now: u64) -> Coalesce {
        Coalesce {
            on: false,
            since: now,
            cpu: process_cpu_time(),
            given: 0,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get() as u64),
        }
    }

    /// Counts a poll at `now` that gave out `given` entries; at the end of a window, decides from
    /// the process's CPU time `cpu` whether to batch in the next.
    fn observe(&mut self, now: u64, given: usize, cpu: impl FnOnce() -> Option<Duration>) {
        self.given = self.given.saturating_add(given as u64);
        let elapsed = now.saturating_sub(self.since);
        if elapsed < WINDOW {
            return;
        }
        let cpu = cpu();
        let used = match (self.cpu, cpu) {
            (Some(then), Some(now)) => now.saturating_sub(then).as_nanos() as u64,
            _ => 0,
        };
        let busy = used.saturating_mul(100) >= elapsed.saturating_mul(self.cores * BUSY_PERCENT);
        let dense = self.given.saturating_mul(SLACK) >= elapsed;
        self.on = busy && dense;
        self.since = now;
        self.cpu = cpu;
        self.given = 0;
    }

    fn on(&self) -> bool {
        self.on
    }
}

/// The CPU time the process has used, all its threads together; `None` where it cannot be read.
#[cfg_attr(gotimer_loom, allow(dead_code))]
fn process_cpu_time() -> Option<Duration> {
    #[cfg(target_os = "linux")]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable `timespec` for the duration of the call, which writes
        // only it; `CLOCK_PROCESS_CPUTIME_ID` needs no other argument. On failure `ts` is unused.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
        (rc == 0).then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

#[cfg(all(test, not(gotimer_loom)))]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    /// A policy for two cores whose window started at 0 with `cpu` used.
    fn two_cores(cpu: Duration) -> Coalesce {
        Coalesce {
            on: false,
            since: 0,
            cpu: Some(cpu),
            given: 0,
            cores: 2,
        }
    }

    /// At the end of a window, at `at`, whether to batch in the next, after `given` entries in the
    /// window and with the process's CPU time at `cpu`.
    fn decide(c: &mut Coalesce, at: u64, given: usize, cpu: Option<Duration>) -> bool {
        c.observe(at, given, || cpu);
        c.on()
    }

    #[test]
    fn batches_only_while_every_core_is_busy_and_deadlines_are_dense() {
        let w = Duration::from_nanos(WINDOW);
        let dense = (WINDOW / SLACK) as usize;
        // Both cores busy (95 %), an entry every `SLACK`: batch.
        let mut c = two_cores(Duration::ZERO);
        assert!(decide(&mut c, WINDOW, dense, Some(w * 19 / 10)));
        // Then one core idle half the time (75 %): stop.
        let cpu = w * 19 / 10 + w * 3 / 2;
        assert!(!decide(&mut c, 2 * WINDOW, dense, Some(cpu)));
        // Busy, but sparse deadlines (ParallelTimerLatency's, fired while callbacks spin): no.
        let cpu = cpu + w * 2;
        assert!(!decide(&mut c, 3 * WINDOW, dense - 1, Some(cpu)));
        // Dense and busy again: batch; the decision holds until the window ends.
        let cpu = cpu + w * 2;
        assert!(decide(&mut c, 4 * WINDOW, dense, Some(cpu)));
        c.observe(5 * WINDOW - 1, 0, || panic!("read before the window ends"));
        assert!(c.on());
        // No CPU time to read, then or now: never.
        let mut c = two_cores(Duration::ZERO);
        assert!(!decide(&mut c, WINDOW, dense, None));
        assert!(!decide(&mut c, 2 * WINDOW, dense, Some(w * 4)));
        // A long window (the driver parked for a while) is judged over its whole length: 40 ms of
        // CPU time over 100 ms of two cores is not busy, though it would fill one window.
        let mut c = two_cores(Duration::from_secs(1));
        let many = 100 * dense;
        assert!(!decide(
            &mut c,
            100 * MS,
            many,
            Some(Duration::from_secs(1) + w * 2)
        ));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn process_cpu_time_counts_the_work_of_this_thread() {
        let start = process_cpu_time().expect("Linux reads a process's CPU time");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        // Spin until 5 ms of CPU time are counted: on a loaded machine that takes longer, never
        // forever, unless the clock does not count this process's work.
        loop {
            let now = process_cpu_time().expect("still readable");
            assert!(now >= start, "CPU time went back: {start:?} then {now:?}");
            if now - start >= Duration::from_millis(5) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "30 s of spinning counted {:?} of CPU time",
                now - start
            );
            std::hint::spin_loop();
        }
    }
}

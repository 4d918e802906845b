//! Loom models of the timer state machine: fire (the driver's `Shard::poll`), stop, reset, drop and
//! receive, racing on one timer across threads.
//!
//! The models drive the real handles (`Timer`, `Ticker`, `after_func`, `tick`) on a runtime of their
//! own, injected as a fake clock's is (`Rt`), so `stop`/`reset` run exactly the code users call:
//! `Handle`, `Shard`, the entries and their kinds, on `crate::sync`, which under `--cfg gotimer_loom`
//! is loom's `Mutex` and atomics; loom explores every interleaving of the real lock and atomic
//! operations. The runtime's time line is `Timeline::simulated`: the model sets it between phases,
//! and handles read it without the lock as they read the monotonic clock, so the lock-free reset
//! (`Delivery::reset_later`) is covered. The driver is the real `Shard::poll` at a time the model
//! picks; the callbacks that come due run on the polling thread, as the manual drive runs them.
//!
//! Channels are the real crossbeam channels: loom does not instrument them, so each channel
//! operation is one indivisible step between loom's scheduling points. That is exact here, because
//! every send and every drain happens under the shard lock; receivers only ever `try_recv` (a
//! blocking receive would stall the model).
//!
//! The futures' models (`loom_async.rs`) run on the same `World` and runners.
//!
//! Run: `RUSTFLAGS="--cfg gotimer_loom" cargo test -p gotimer --release --lib loom --target-dir target/loom`

use super::callback;
use super::core::Core;
use super::driver::Driven;
use super::entry::{Batch, Entry, EntryRef};
use super::kinds::callback::Callback;
use super::manual::ManualRuntime;
use super::pool::Pool;
use super::rt::Rt;
use super::shard::Shard;
use super::system::SystemRuntime;
use super::time::{Due, Timeline};
use crate::sync::{AtomicUsize, Ordering::SeqCst};
use crate::{Ticker, Timer};
use crossbeam_channel::Receiver;
use loom::thread;
use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The wheel's resolution: simulated times are multiples of it, so that a poll at a deadline
/// fires it (the wheel rounds deadlines up and poll times down to a tick).
pub(super) const RES: u64 = crate::wheel::RESOLUTION_NS;
/// The first deadline of every model's timer, in simulated nanoseconds.
pub(super) const T1: u64 = 10 * RES;
/// A driver poll that finds `T1` due.
pub(super) const POLL1: u64 = 20 * RES;
/// When the models' threads reset: after `T1` was scheduled, before `POLL1`.
const MID: u64 = POLL1 / 2;
/// Deadlines of later schedules, after `POLL1`.
pub(super) const T2: u64 = 30 * RES;
const T3: u64 = 50 * RES;
/// A poll after every deadline of the models.
pub(super) const LAST: u64 = 1000 * RES;

/// Runs `f` under loom, exploring every interleaving (no preemption bound: the models are small),
/// and prints how many executions that took.
#[track_caller]
pub(super) fn model(f: impl Fn() + Send + Sync + 'static) {
    model_bounded(None, f)
}

/// `model`, with at most `bound` preemptions per execution. For the models with three threads that
/// each do several atomic steps (the lock-free `reset_later` added two per reset and one per fire),
/// exhaustive search takes many minutes (over 8 for the reset storm); loom's guidance is that a
/// bound of 2 or 3 finds almost all bugs. These use 5, and every interleaving within it is explored.
#[track_caller]
pub(super) fn model_bounded(bound: Option<usize>, f: impl Fn() + Send + Sync + 'static) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let mut b = loom::model::Builder::new();
    b.max_branches = 10_000;
    b.preemption_bound = bound;
    b.check(move || {
        counter.fetch_add(1, Ordering::Relaxed);
        f()
    });
    eprintln!(
        "loom model at {}: {} interleavings explored",
        Location::caller(),
        runs.load(Ordering::Relaxed)
    );
}

/// One model's runtime, and a witness of its channel traffic.
pub(super) struct World {
    pub(super) rt: Rt,
    /// Loom cannot see crossbeam's channel, so its partial-order reduction would treat a receive
    /// as independent of everything and might try it in one position only. Every section that may
    /// send or drain (poll, stop, reset) and every receive touches this atomic, so loom tries each
    /// receive before and after each such section.
    chan: AtomicUsize,
    /// Callbacks that panicked (none should).
    panics: AtomicUsize,
}

impl World {
    /// A world on a manual runtime: its callbacks run on the polling thread, as a manual step
    /// runs them.
    pub(super) fn new() -> Arc<World> {
        World::with(Rt::Manual(Arc::new(ManualRuntime::on(
            Timeline::simulated(),
        ))))
    }

    /// A world on a system runtime whose driver is the calling (model) thread, so that inserts
    /// notify it through the real handshake. Leaked, as the process's system runtime is static.
    fn with_driver() -> Arc<World> {
        let rt = SystemRuntime::with_driver_here(Timeline::simulated());
        World::with(Rt::System(Box::leak(Box::new(rt))))
    }

    fn with(rt: Rt) -> Arc<World> {
        Arc::new(World {
            rt,
            chan: AtomicUsize::new(0),
            panics: AtomicUsize::new(0),
        })
    }

    fn runtime(&self) -> &Core {
        self.rt.core()
    }

    fn manual(&self) -> &ManualRuntime {
        match &self.rt {
            Rt::Manual(rt) => rt,
            Rt::System(..) => unreachable!("a world made by World::new"),
        }
    }

    fn system(&self) -> &'static SystemRuntime {
        match &self.rt {
            Rt::System(rt) => rt,
            Rt::Manual(..) => unreachable!("a world made by World::with_driver"),
        }
    }

    fn shard(&self) -> &Shard {
        self.runtime().shard(0)
    }

    /// Sets the simulated time that handles read. Only between phases: no other thread runs.
    pub(super) fn set_now(&self, ns: u64) {
        self.runtime().time.set(ns);
    }

    pub(super) fn at(&self, ns: u64) -> Instant {
        self.runtime().time.instant(ns)
    }

    /// The duration from the simulated now to `deadline`.
    pub(super) fn until(&self, deadline: u64) -> Duration {
        Duration::from_nanos(deadline - self.runtime().time.now())
    }

    pub(super) fn witness(&self) {
        self.chan.fetch_add(1, SeqCst);
    }

    /// A receiver's `try_recv`, ordered by loom against every send and drain.
    pub(super) fn recv(&self, rx: &Receiver<Instant>) -> Option<Instant> {
        self.witness();
        rx.try_recv().ok()
    }

    /// `Timer::new`, due at `due`, and waited on: its channel asked for, so it is armed (in the
    /// wheel), as a timer is once somebody receives from it.
    #[track_caller]
    fn timer(&self, due: u64) -> Arc<Timer> {
        let t = self.parked_timer(due);
        let _ = t.c();
        t
    }

    /// `Timer::new`, due at `due`, that nobody has asked the channel of yet: parked.
    #[track_caller]
    pub(super) fn parked_timer(&self, due: u64) -> Arc<Timer> {
        Arc::new(Timer::start(
            self.rt.clone(),
            Location::caller(),
            Due::In(self.until(due)),
        ))
    }

    /// `Ticker::new` with `period`, from now, and waited on (armed).
    #[track_caller]
    fn ticker(&self, period: u64) -> Arc<Ticker> {
        let t = Arc::new(Ticker::start(
            self.rt.clone(),
            Location::caller(),
            Duration::from_nanos(period),
        ));
        let _ = t.c();
        t
    }

    /// `tick(period)`: a ticker with no handle.
    #[track_caller]
    fn tick(&self, period: u64) -> Receiver<Instant> {
        crate::ticker::tick_on(&self.rt, Location::caller(), Duration::from_nanos(period))
    }

    /// `after_func`, due at `due`, whose callback counts its runs in `runs`.
    #[track_caller]
    fn func(&self, due: u64, runs: Arc<AtomicUsize>) -> Arc<Timer> {
        Arc::new(Timer::start_func(
            self.rt.clone(),
            Location::caller(),
            Due::In(self.until(due)),
            move || {
                runs.fetch_add(1, SeqCst);
            },
        ))
    }

    /// `Timer::stop`, between witnesses.
    fn stop(&self, t: &Timer) -> bool {
        self.witness();
        let stopped = t.stop();
        self.witness();
        stopped
    }

    /// `Timer::reset` to `deadline`, between witnesses.
    fn reset(&self, t: &Timer, deadline: u64) -> bool {
        self.witness();
        let active = t.reset(self.until(deadline));
        self.witness();
        active
    }

    /// The driver's step: the real `Shard::poll` at `now`, then, on this thread after the lock is
    /// released, the notifications it left (a task's waker, `Fired::Notify`) and the callbacks that
    /// came due (with those a reset made due at once), in the order `SystemRuntime::poll_due` makes
    /// them.
    pub(super) fn poll(&self, now: u64) {
        let (mut buf, mut batch) = (Vec::new(), Batch::default());
        if self.shard().next() <= now {
            self.witness();
            self.shard()
                .poll(now, &self.runtime().time, &mut buf, &mut batch);
            self.witness();
        }
        for entry in batch.notify {
            callback::notify(entry, &self.panics);
        }
        for job in batch.run {
            callback::run(job, &self.panics);
        }
        assert_eq!(
            self.panics.load(SeqCst),
            0,
            "a model's callback or waker panicked"
        );
    }

    /// `poll(now)` on a thread of its own: the driver racing the other threads of a model.
    pub(super) fn spawn_poll(self: &Arc<Self>, now: u64) -> thread::JoinHandle<()> {
        let w = self.clone();
        thread::spawn(move || w.poll(now))
    }

    pub(super) fn len(&self) -> usize {
        self.shard().len()
    }

    /// The shard's published `next` is at or before every deadline in its wheel, so the driver,
    /// which reads only `next`, never sleeps through a deadline.
    pub(super) fn check_next(&self) {
        let next = self.shard().next();
        self.shard().for_each(|deadline, _| {
            assert!(
                next <= deadline.next_multiple_of(RES),
                "published next {next} is after a pending deadline {deadline}"
            );
        });
    }
}

/// References to a timer's entry besides the wheel's: its handle's, while it lives.
fn entry_refs(t: &Timer) -> usize {
    t.entry_refs()
}

/// Fire vs stop vs a receiver on a third thread. Exactly one of "the receiver got the value" and
/// "stop returned true" holds; nothing is left in the channel after stop.
#[test]
fn loom_timer_fire_vs_stop_vs_receive() {
    model(|| {
        let w = World::new();
        let timer = w.timer(T1);
        let rx = timer.c().clone();
        w.set_now(MID);
        let driver = w.spawn_poll(POLL1);
        let stopper = {
            let (w, timer, rx) = (w.clone(), timer.clone(), rx.clone());
            thread::spawn(move || {
                let stopped = w.stop(&timer);
                // Nothing from before stop can be received after it.
                assert!(w.recv(&rx).is_none(), "stale value after stop");
                stopped
            })
        };
        let received = w.recv(&rx);
        driver.join().unwrap();
        let stopped = stopper.join().unwrap();
        if let Some(v) = received {
            assert_eq!(v, w.at(T1), "the value is the instant the timer was due");
        }
        assert_eq!(
            received.is_some(),
            !stopped,
            "stop()={stopped} but the receiver got {received:?}"
        );
        w.poll(LAST);
        assert!(rx.try_recv().is_err(), "stale value after stop");
        assert_eq!(w.len(), 0);
        w.check_next();
        assert_eq!(entry_refs(&timer), 1, "the wheel still holds the entry");
    });
}

/// Fire vs reset vs a receiver. reset() is true exactly when the old value was not received; the
/// new schedule delivers exactly once; the old value never appears after reset returned.
#[test]
fn loom_timer_fire_vs_reset_vs_receive() {
    model(|| {
        let w = World::new();
        let timer = w.timer(T1);
        let rx = timer.c().clone();
        w.set_now(MID);
        let driver = w.spawn_poll(POLL1);
        let resetter = {
            let (w, timer, rx) = (w.clone(), timer.clone(), rx.clone());
            thread::spawn(move || {
                let active = w.reset(&timer, T2);
                if let Some(v) = w.recv(&rx) {
                    panic!("value {v:?} right after reset: old schedule (T2 is not due yet)");
                }
                active
            })
        };
        let received = w.recv(&rx);
        driver.join().unwrap();
        let active = resetter.join().unwrap();
        w.check_next();
        if let Some(v) = received {
            assert_eq!(v, w.at(T1), "only the old schedule can have fired by now");
        }
        assert_eq!(
            received.is_some(),
            !active,
            "reset()={active} but the receiver got {received:?}"
        );
        // The new schedule fires exactly once, with its own deadline.
        w.poll(LAST);
        assert_eq!(rx.try_recv().ok(), Some(w.at(T2)));
        assert!(rx.try_recv().is_err());
        w.poll(LAST + 1);
        assert!(rx.try_recv().is_err(), "delivered twice");
        assert_eq!(w.len(), 0);
    });
}

/// Stop and reset of one timer from two threads while it fires. Nobody receives until the end, so
/// the outcome is determined by which of stop and reset took the lock first, which their return
/// values reveal: the old value is never observed, and the new one exactly when reset came last.
#[test]
fn loom_timer_stop_vs_reset_vs_fire() {
    model_bounded(Some(5), || {
        let w = World::new();
        let timer = w.timer(T1);
        let rx = timer.c().clone();
        w.set_now(MID);
        let driver = w.spawn_poll(POLL1);
        let resetter = {
            let (w, timer) = (w.clone(), timer.clone());
            thread::spawn(move || w.reset(&timer, T2))
        };
        let stopped = w.stop(&timer);
        driver.join().unwrap();
        let reset_active = resetter.join().unwrap();
        w.check_next();
        assert!(
            stopped,
            "the timer was pending or its value unreceived: stop must be true"
        );
        w.poll(LAST);
        let finally: Vec<Instant> = rx.try_iter().collect();
        if reset_active {
            // reset came first (after stop it would find nothing): stop cancelled the new schedule.
            assert_eq!(
                finally,
                vec![],
                "stop returned but its value arrived anyway"
            );
        } else {
            assert_eq!(
                finally,
                vec![w.at(T2)],
                "reset came last: its schedule must fire once"
            );
        }
        assert_eq!(w.len(), 0);
    });
}

/// Two threads reset one timer to different deadlines while it fires: exactly one value arrives in
/// the end, that of the reset that came last; no value of an older schedule survives. A reset to a
/// later deadline of a pending timer takes no lock (`Delivery::reset_later`); when both resets took
/// the lock, the order they took it in says which came last.
#[test]
fn loom_timer_reset_storm() {
    model_bounded(Some(5), || {
        let w = World::new();
        let timer = w.timer(T1);
        let rx = timer.c().clone();
        w.set_now(MID);
        let spawn_reset = |due: u64| {
            let (w, timer) = (w.clone(), timer.clone());
            thread::spawn(move || w.reset(&timer, due))
        };
        let a = spawn_reset(T2);
        let b = spawn_reset(T3);
        w.poll(POLL1);
        let active_a = a.join().unwrap();
        let active_b = b.join().unwrap();
        // Each reset found the timer pending, or its fired value unreceived.
        assert!(active_a && active_b);
        w.check_next();
        w.poll(LAST);
        // Which reset came last is not visible from outside (the lock-free one takes no lock to
        // order by), but exactly one value survives, of one of the two.
        let finally: Vec<Instant> = rx.try_iter().collect();
        assert!(
            finally == vec![w.at(T2)] || finally == vec![w.at(T3)],
            "one value, of one of the two resets: {finally:?}"
        );
        assert_eq!(w.len(), 0);
    });
}

/// Dropping a `Timer` (stop without drain, then the receiver goes) while the driver fires it:
/// nothing panics, and the wheel lets go of the entry, whoever won.
#[test]
fn loom_timer_drop_vs_fire() {
    model(|| {
        let w = World::new();
        let timer = Arc::into_inner(w.timer(T1)).unwrap();
        let entry_alive = timer.entry_probe();
        let dropper = {
            let w = w.clone();
            thread::spawn(move || {
                w.witness();
                drop(timer); // `Timer`'s drop: stop without drain, then the receiver goes
                w.witness();
            })
        };
        w.poll(POLL1);
        dropper.join().unwrap();
        w.poll(LAST);
        assert_eq!(w.len(), 0);
        w.check_next();
        assert!(!entry_alive(), "entry leaked in the wheel");
    });
}

/// A `tick` receiver dropped while the driver ticks: the entry frees itself at the next tick.
#[test]
fn loom_tick_receiver_drop_vs_tick() {
    model(|| {
        let w = World::new();
        let rx = w.tick(T1); // `tick` keeps no handle: only the wheel holds the entry
        let dropper = {
            let w = w.clone();
            thread::spawn(move || {
                w.witness();
                drop(rx);
            })
        };
        w.poll(T1);
        w.poll(2 * T1);
        dropper.join().unwrap();
        w.check_next();
        w.poll(3 * T1);
        w.poll(4 * T1);
        assert_eq!(w.len(), 0, "ticker with no receiver still in the wheel");
    });
}

/// Ticker stop vs two ticks: no tick is received after stop returns, and the entry leaves the wheel.
#[test]
fn loom_ticker_stop_vs_tick() {
    model(|| {
        let w = World::new();
        let ticker = w.ticker(T1);
        let rx = ticker.c().clone();
        let stopper = {
            let (w, ticker, rx) = (w.clone(), ticker.clone(), rx.clone());
            thread::spawn(move || {
                w.witness();
                ticker.stop();
                w.witness();
                assert!(w.recv(&rx).is_none(), "tick received after stop");
            })
        };
        w.poll(T1);
        w.poll(2 * T1);
        stopper.join().unwrap();
        w.check_next();
        w.poll(LAST);
        assert!(rx.try_recv().is_err(), "tick after stop");
        assert_eq!(w.len(), 0);
        assert_eq!(ticker.handle().entry_refs(), 1);
    });
}

/// Ticker reset (new period, under the lock as `Ticker::reset` does) vs ticks and a receiver: after
/// reset, every tick is on the new phase; the old period's ticks stop.
#[test]
fn loom_ticker_reset_vs_tick_vs_receive() {
    const NOW: u64 = 15 * RES;
    const PERIOD: u64 = 100 * RES;
    model(|| {
        let w = World::new();
        let ticker = w.ticker(T1);
        let rx = ticker.c().clone();
        w.set_now(NOW);
        let resetter = {
            let (w, ticker, rx) = (w.clone(), ticker.clone(), rx.clone());
            thread::spawn(move || {
                w.witness();
                ticker.reset(Duration::from_nanos(PERIOD));
                w.witness();
                assert!(w.recv(&rx).is_none(), "old tick received after reset");
            })
        };
        let driver = {
            let w = w.clone();
            thread::spawn(move || {
                w.poll(T1);
                w.poll(2 * T1);
            })
        };
        let early = w.recv(&rx);
        resetter.join().unwrap();
        driver.join().unwrap();
        w.check_next();
        if let Some(v) = early {
            assert!(v == w.at(T1) || v == w.at(2 * T1), "unexpected tick {v:?}");
        }
        // From here on, only the new phase: NOW + k * PERIOD.
        for k in 1..=3 {
            w.poll(NOW + k * PERIOD);
            assert_eq!(rx.try_recv().ok(), Some(w.at(NOW + k * PERIOD)));
        }
        drop((rx, ticker));
        w.poll(LAST);
        assert_eq!(w.len(), 0, "ticker gone: it is out of the wheel");
    });
}

/// `after_func` stop vs fire: stop is true exactly when the callback never runs.
#[test]
fn loom_after_func_stop_vs_fire() {
    model(|| {
        let w = World::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let timer = w.func(T1, runs.clone());
        let stopper = {
            let (w, timer) = (w.clone(), timer.clone());
            thread::spawn(move || w.stop(&timer))
        };
        w.poll(POLL1);
        let stopped = stopper.join().unwrap();
        w.poll(LAST);
        let n = runs.load(SeqCst);
        assert_eq!(
            n,
            usize::from(!stopped),
            "stop()={stopped}, callback ran {n} times"
        );
        assert_eq!(w.len(), 0);
        assert_eq!(entry_refs(&timer), 1);
    });
}

/// `after_func` reset vs fire: reset reschedules (true, one run in all) or, if the callback was
/// already committed, schedules it again (false, two runs). Never a lost or extra run.
#[test]
fn loom_after_func_reset_vs_fire() {
    model(|| {
        let w = World::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let timer = w.func(T1, runs.clone());
        w.set_now(MID);
        let resetter = {
            let (w, timer) = (w.clone(), timer.clone());
            thread::spawn(move || w.reset(&timer, T2))
        };
        w.poll(POLL1);
        let active = resetter.join().unwrap();
        w.check_next();
        w.poll(LAST);
        w.poll(LAST + 1);
        let n = runs.load(SeqCst);
        let expected = if active { 1 } else { 2 };
        assert_eq!(n, expected, "reset()={active}, callback ran {n} times");
        assert_eq!(w.len(), 0);
    });
}

/// `after_func(0)` is queued at once for the thread that runs callbacks (here the manual
/// runtime's queue) and pending until that thread claims it: a `stop` racing the claim returns
/// true exactly when the callback never runs.
#[test]
fn loom_after_func_zero_stop_vs_claim() {
    model(|| {
        let w = World::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let timer = w.func(0, runs.clone());
        let runner = {
            let w = w.clone();
            thread::spawn(move || w.manual().run_queued())
        };
        let stopped = w.stop(&timer);
        runner.join().unwrap();
        w.manual().run_queued();
        let n = runs.load(SeqCst);
        assert_eq!(n, usize::from(!stopped), "stop()={stopped}, ran {n} times");
        assert!(!w.stop(&timer), "nothing left to stop");
        assert_eq!(entry_refs(&timer), 1, "the job let go of the entry");
    });
}

/// `reset` to a deadline already past queues the callback under the lock; a `stop` on another
/// thread and the thread that runs callbacks race it. The callback runs (once) unless the reset
/// kept the old schedule from running and the stop then kept the new one from starting; never
/// twice, never when both returned true.
#[test]
fn loom_after_func_reset_to_zero_vs_stop_vs_claim() {
    model_bounded(Some(5), || {
        let w = World::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let timer = w.func(T1, runs.clone());
        w.set_now(MID);
        let resetter = {
            let (w, timer) = (w.clone(), timer.clone());
            thread::spawn(move || w.reset(&timer, MID))
        };
        let runner = {
            let w = w.clone();
            thread::spawn(move || w.manual().run_queued())
        };
        let stopped = w.stop(&timer);
        let active = resetter.join().unwrap();
        runner.join().unwrap();
        w.manual().run_queued();
        w.poll(LAST);
        let n = runs.load(SeqCst);
        assert_eq!(
            n,
            usize::from(!(active && stopped)),
            "reset()={active}, stop()={stopped}, ran {n} times"
        );
        assert_eq!(w.len(), 0);
    });
}

/// A reset to a deadline already past fires on the resetting thread, under the lock, racing the
/// driver firing the old schedule: the receiver sees the old value at most once and the new one
/// exactly once, and never the old one after reset returned.
#[test]
fn loom_timer_reset_to_zero_vs_fire() {
    const NOW: u64 = 25 * RES;
    model(|| {
        let w = World::new();
        let timer = w.timer(T1);
        let rx = timer.c().clone();
        w.set_now(NOW);
        let resetter = {
            let (w, timer) = (w.clone(), timer.clone());
            thread::spawn(move || w.reset(&timer, NOW))
        };
        w.poll(POLL1);
        let received = w.recv(&rx);
        let active = resetter.join().unwrap();
        let mut all: Vec<Instant> = received.into_iter().collect();
        all.extend(rx.try_iter());
        w.poll(LAST);
        all.extend(rx.try_iter());
        let old = all.iter().filter(|&&v| v == w.at(T1)).count();
        let new = all.iter().filter(|&&v| v == w.at(NOW)).count();
        assert_eq!(new, 1, "the new schedule delivers exactly once: {all:?}");
        assert_eq!(old, usize::from(!active), "reset()={active}, got {all:?}");
        assert_eq!(all.len(), old + new);
        assert_eq!(w.len(), 0);
        w.check_next();
    });
}

/// Arming (the first `c()`, on one thread) races a reset of the parked timer (another thread, which
/// takes the lock-free path while the entry is parked or in the wheel) and the driver's poll: the
/// reset always finds the timer active (nobody had received), and the receiver gets exactly one
/// value, the new schedule's, never the old one.
#[test]
fn loom_timer_arm_vs_reset_vs_poll() {
    model(|| {
        let w = World::new();
        let timer = w.parked_timer(T1);
        let armer = {
            let timer = timer.clone();
            thread::spawn(move || timer.c().clone())
        };
        let resetter = {
            let (w, timer) = (w.clone(), timer.clone());
            thread::spawn(move || w.reset(&timer, T2))
        };
        w.poll(POLL1);
        let rx = armer.join().unwrap();
        let active = resetter.join().unwrap();
        assert!(
            active,
            "nobody received: the reset stopped a pending schedule"
        );
        w.check_next();
        let mut all: Vec<Instant> = rx.try_iter().collect();
        w.poll(LAST);
        all.extend(rx.try_iter());
        assert_eq!(all, vec![w.at(T2)], "exactly the new schedule's value");
        assert_eq!(w.len(), 0);
    });
}

/// Arming races a stop and the driver's poll: the stop always returns true (nobody received), and
/// nothing is ever received, however the arm, the fire and the stop interleave.
#[test]
fn loom_timer_arm_vs_stop_vs_poll() {
    model(|| {
        let w = World::new();
        let timer = w.parked_timer(T1);
        w.set_now(MID - RES);
        let armer = {
            let timer = timer.clone();
            thread::spawn(move || timer.c().clone())
        };
        let stopper = {
            let (w, timer) = (w.clone(), timer.clone());
            thread::spawn(move || w.stop(&timer))
        };
        w.poll(POLL1);
        let rx = armer.join().unwrap();
        assert!(
            stopper.join().unwrap(),
            "nobody received: stop kept the value"
        );
        w.poll(LAST);
        assert_eq!(rx.try_recv().ok(), None, "a value after stop returned true");
        assert_eq!(w.len(), 0);
        w.check_next();
    });
}

/// Publishing a shard's `next`: a thread inserting an earlier deadline races the driver's poll,
/// which recomputes `next`. Afterwards `next` is at or before every pending deadline, so the driver
/// cannot sleep through the insert.
#[test]
fn loom_shard_next_insert_vs_poll() {
    model(|| {
        let w = World::new();
        let _late = w.timer(T3);
        let _first = w.timer(T1);
        let inserter = {
            let w = w.clone();
            thread::spawn(move || {
                let early = w.timer(T2);
                let next = w.shard().next();
                assert!(
                    next <= T2,
                    "inserter's deadline not published: next = {next}"
                );
                early
            })
        };
        w.poll(POLL1);
        let early = inserter.join().unwrap();
        w.check_next();
        assert!(w.shard().next() <= T2);
        w.poll(T2);
        assert_eq!(early.c().try_recv().ok(), Some(w.at(T2)));
        w.check_next();
    });
}

/// The driver's sleep/notify handshake (`Driver::prepare_park` against `Driver::notify`, run by the
/// real `Timer::new` through `SystemRuntime::after_unlock`): the driver, about to park until the earliest
/// deadline it saw (none), races a thread that creates an earlier timer. Either the driver's rescan
/// sees the new deadline, or the inserter sees the driver's planned wakeup and unparks it; a lost
/// wakeup would leave the driver parked forever, which loom reports as a deadlock.
#[test]
fn loom_driver_park_vs_insert() {
    model(|| {
        let w = World::with_driver();
        let inserter = {
            let w = w.clone();
            thread::spawn(move || w.timer(T1))
        };
        let rt = w.system();
        let driver = rt.driver();
        loop {
            let next = rt.earliest();
            if next <= T1 {
                break; // the driver knows of the new deadline and would sleep only until it
            }
            if driver.prepare_park(next, || rt.earliest()) {
                crate::sync::park();
            }
            driver.woke();
        }
        let _timer = inserter.join().unwrap();
    });
}

/// The pool's idle exit (`Pool::leave_if_idle`, a worker that waited `IDLE_EXIT` for nothing)
/// against `Pool::submit` of a callback: either the leaving worker sees the job and stays, or the
/// submission sees no idle worker and starts one; never a job with no worker to run it.
#[test]
fn loom_pool_submit_vs_idle_exit() {
    model(|| {
        let pool: &'static Pool = Box::leak(Box::new(Pool::with_one_idle_worker()));
        let leaving = thread::spawn(move || pool.leave_if_idle());
        let job: EntryRef = Arc::new(Entry::new(
            crate::origin::Origin::new(Location::caller(), crate::origin::Kind::AfterFunc, 0),
            Callback(|| {}),
        ));
        assert!(pool.submit(job), "starting a thread cannot fail here");
        let left = leaving.join().unwrap();
        let (workers, idle, started) = pool.model_counts();
        assert!(
            !left || started >= 1,
            "the only worker left and nobody started another for the job"
        );
        assert_eq!(workers, usize::from(!left) + started, "workers miscounted");
        assert_eq!(idle, workers, "no job was taken yet: every worker is idle");
    });
}

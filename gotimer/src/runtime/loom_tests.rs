//! Loom models of the timer state machine: fire (the driver's `Shard::poll`), stop, reset, drop and
//! receive, racing on one entry across threads.
//!
//! The models drive the real `Shard`, `Entry` and actions (`Deliver`, `Tick`, `Func`) built on
//! `crate::sync`, which under `--cfg loom` is loom's `Mutex` and atomics, so loom explores every
//! interleaving of the real lock and atomic operations. Channels are the real crossbeam channels: loom
//! does not instrument them, so each channel operation is one indivisible step between loom's
//! scheduling points. That is exact here, because every send and every drain happens under the
//! shard lock; receivers only ever `try_recv` (a blocking receive would stall the model).
//!
//! `stop` and `reset` below mirror `Handle::stop` and `Handle::reset` in `runtime/mod.rs` (which
//! read the global runtime's clock and shard), with the drain closures of `Timer::drain` and
//! `Ticker::reset`. Time is simulated: each call gets its own `now`.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p gotimer --release --lib loom --target-dir /work/target-loom`

use super::entry::{Deliver, Entry, EntryRef, Func, Tick};
use super::shard::{Scheduled, Shard};
use crate::clock::Clock;
use crate::origin::{Kind, Origin};
use crate::sync::{AtomicU64, AtomicUsize, Ordering::SeqCst};
use crossbeam_channel::{bounded, Receiver};
use loom::thread;
use std::panic::Location;
use std::sync::Arc;
use std::time::Instant;

/// The wheel's resolution: simulated times are multiples of it, so that a poll at a deadline
/// fires it (the wheel rounds deadlines up and poll times down to a tick).
const RES: u64 = crate::wheel::RESOLUTION_NS;
/// The first deadline of every model's timer, in simulated nanoseconds.
const T1: u64 = 10 * RES;
/// A driver poll that finds `T1` due.
const POLL1: u64 = 20 * RES;
/// Deadlines of later schedules, after `POLL1`.
const T2: u64 = 30 * RES;
const T3: u64 = 50 * RES;
/// A poll after every deadline of the models.
const LAST: u64 = 1000 * RES;

/// Runs `f` under loom, exploring every interleaving (no preemption bound: the models are small),
/// and prints how many executions that took.
#[track_caller]
fn model(f: impl Fn() + Send + Sync + 'static) {
    model_bounded(None, f)
}

/// `model`, with at most `bound` preemptions per execution. For the models with three threads that
/// each do several atomic steps (the lock-free `reset_later` added two per reset and one per fire),
/// exhaustive search takes many minutes (over 8 for the reset storm); loom's guidance is that a
/// bound of 2 or 3 finds almost all bugs. These use 5, and every interleaving within it is explored
/// (about 100,000 for the storm, under 30 s).
#[track_caller]
fn model_bounded(bound: Option<usize>, f: impl Fn() + Send + Sync + 'static) {
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

/// Shared state of one model: a shard, a clock to turn deadlines into instants.
struct World {
    shard: Shard,
    clock: Clock,
    /// A witness of channel traffic. Loom cannot see crossbeam's channel, so its partial-order
    /// reduction would treat a receive as independent of everything and might try it in one
    /// position only. Every section that may send or drain (poll, stop, reset) and every receive
    /// touches this atomic, so loom tries each receive before and after each such section.
    chan: AtomicUsize,
}

impl World {
    fn new() -> Arc<World> {
        Arc::new(World {
            shard: Shard::new(),
            clock: Clock::new(),
            chan: AtomicUsize::new(0),
        })
    }

    fn at(&self, ns: u64) -> Instant {
        self.clock.instant(ns)
    }

    fn witness(&self) {
        self.chan.fetch_add(1, SeqCst);
    }

    /// A receiver's `try_recv`, ordered by loom against every send and drain.
    fn recv(&self, rx: &Receiver<Instant>) -> Option<Instant> {
        self.witness();
        rx.try_recv().ok()
    }

    /// A `Timer::new` entry (or `Deliver`), scheduled at `due` from time 0.
    #[track_caller]
    fn timer(&self, due: u64) -> (EntryRef, Receiver<Instant>) {
        let (tx, rx) = bounded(1);
        let entry: EntryRef = Arc::new(Entry::new(origin(Kind::Timer), Deliver::new(tx)));
        let done = self.reset(&entry, Some(due), 0, |_| false).1;
        assert!(done.dispatch.is_none());
        (entry, rx)
    }

    /// A `Ticker::new` entry with `period`, first due at `period`.
    #[track_caller]
    fn ticker(&self, period: u64) -> (EntryRef, Receiver<Instant>) {
        let (tx, rx) = bounded(1);
        let tick = Tick {
            tx,
            period: AtomicU64::new(period),
        };
        let entry: EntryRef = Arc::new(Entry::new(origin(Kind::Ticker), tick));
        let _ = self.reset(&entry, Some(period), 0, |_| false);
        (entry, rx)
    }

    /// An `after_func` entry whose callback counts its runs in `runs`.
    #[track_caller]
    fn func(&self, due: u64, runs: Arc<AtomicUsize>) -> EntryRef {
        let entry: EntryRef = Arc::new(Entry::new(
            origin(Kind::AfterFunc),
            Func(move || {
                runs.fetch_add(1, SeqCst);
            }),
        ));
        let _ = self.reset(&entry, Some(due), 0, |_| false);
        entry
    }

    /// `Handle::stop`: the real `Shard::stop`, with `under_lock(was_pending)` as the handle's drain.
    fn stop(&self, entry: &EntryRef, under_lock: impl FnOnce(bool) -> bool) -> bool {
        self.witness();
        let stopped = self.shard.stop(entry, under_lock);
        self.witness();
        stopped
    }

    /// `Handle::reset`: the real `Shard::reset`. Returns the result and what the caller must do
    /// after unlocking.
    fn reset(
        &self,
        entry: &EntryRef,
        deadline: Option<u64>,
        now: u64,
        under_lock: impl FnOnce(bool) -> bool,
    ) -> (bool, Scheduled) {
        self.witness();
        let r = self
            .shard
            .reset(entry, deadline, now, &self.clock, under_lock);
        self.witness();
        r
    }

    /// The driver's step for one shard: fire what is due at `now`, and run the callbacks that came
    /// due (the pool's job) on this thread, after the lock is released.
    fn poll(&self, now: u64) {
        let mut buf = Vec::new();
        let mut jobs = Vec::new();
        if self.shard.next() <= now {
            self.witness();
            self.shard.poll(now, &self.clock, &mut buf, &mut jobs);
            self.witness();
        }
        for job in jobs {
            job.action.run();
        }
    }

    /// `poll(now)` on a thread of its own: the driver racing the other threads of a model.
    fn spawn_poll(self: &Arc<Self>, now: u64) -> thread::JoinHandle<()> {
        let w = self.clone();
        thread::spawn(move || w.poll(now))
    }

    /// The shard's published `next` is at or before every deadline in its wheel, so the driver,
    /// which reads only `next`, never sleeps through a deadline.
    fn check_next(&self) {
        let next = self.shard.next();
        self.shard.for_each(|deadline, _| {
            assert!(
                next <= deadline.next_multiple_of(RES),
                "published next {next} is after a pending deadline {deadline}"
            );
        });
    }
}

/// Where a model's timer was created, as `Handle::start` records it.
#[track_caller]
fn origin(kind: Kind) -> Origin {
    Origin::new(Location::caller(), kind, 0)
}

/// `Timer::drain`: a pending one-shot timer has sent nothing, so its channel is not looked at.
fn timer_drain(pending: bool, rx: &Receiver<Instant>) -> bool {
    !pending && drain(rx)
}

/// `Ticker`'s drain, which always looks.
fn drain(rx: &Receiver<Instant>) -> bool {
    rx.try_recv().is_ok()
}

/// Fire vs stop vs a receiver on a third thread. Exactly one of "the receiver got the value" and
/// "stop returned true" holds; nothing is left in the channel after stop.
#[test]
fn loom_timer_fire_vs_stop_vs_receive() {
    model(|| {
        let w = World::new();
        let (entry, rx) = w.timer(T1);
        let driver = w.spawn_poll(POLL1);
        let stopper = {
            let (w, entry, rx) = (w.clone(), entry.clone(), rx.clone());
            thread::spawn(move || {
                let stopped = w.stop(&entry, |p| timer_drain(p, &rx));
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
        assert_eq!(w.shard.len(), 0);
        w.check_next();
        assert_eq!(
            Arc::strong_count(&entry),
            1,
            "the wheel still holds the entry"
        );
    });
}

/// Fire vs reset vs a receiver. reset() is true exactly when the old value was not received; the
/// new schedule delivers exactly once; the old value never appears after reset returned.
#[test]
fn loom_timer_fire_vs_reset_vs_receive() {
    model(|| {
        let w = World::new();
        let (entry, rx) = w.timer(T1);
        let driver = w.spawn_poll(POLL1);
        let resetter = {
            let (w, entry, rx) = (w.clone(), entry.clone(), rx.clone());
            thread::spawn(move || {
                let (active, done) = w.reset(&entry, Some(T2), POLL1 / 2, |p| timer_drain(p, &rx));
                assert!(done.dispatch.is_none());
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
        assert_eq!(w.shard.len(), 0);
    });
}

/// Stop and reset of one timer from two threads while it fires. Nobody receives until the end, so
/// the outcome is determined by which of stop and reset took the lock first, which their return
/// values reveal: the old value is never observed, and the new one exactly when reset came last.
#[test]
fn loom_timer_stop_vs_reset_vs_fire() {
    model_bounded(Some(5), || {
        let w = World::new();
        let (entry, rx) = w.timer(T1);
        let driver = w.spawn_poll(POLL1);
        let resetter = {
            let (w, entry, rx) = (w.clone(), entry.clone(), rx.clone());
            thread::spawn(move || {
                let (active, _) = w.reset(&entry, Some(T2), POLL1 / 2, |p| timer_drain(p, &rx));
                active
            })
        };
        let stopped = w.stop(&entry, |p| timer_drain(p, &rx));
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
        assert_eq!(w.shard.len(), 0);
    });
}

/// Two threads reset one timer to different deadlines while it fires: exactly one value arrives in
/// the end, that of the reset that came last; no value of an older schedule survives. A reset to a
/// later deadline of a pending timer takes no lock (`Deliver::reset_later`); when both resets took
/// the lock, the order they took it in says which came last.
#[test]
fn loom_timer_reset_storm() {
    model_bounded(Some(5), || {
        let w = World::new();
        let (entry, rx) = w.timer(T1);
        let order = Arc::new(AtomicUsize::new(0));
        let spawn_reset = |due: u64| {
            let (w, entry, rx, order) = (w.clone(), entry.clone(), rx.clone(), order.clone());
            thread::spawn(move || {
                let mut seq = None;
                let (active, _) = w.reset(&entry, Some(due), POLL1 / 2, |p| {
                    seq = Some(order.fetch_add(1, SeqCst));
                    timer_drain(p, &rx)
                });
                (seq, active)
            })
        };
        let a = spawn_reset(T2);
        let b = spawn_reset(T3);
        w.poll(POLL1);
        let (seq_a, active_a) = a.join().unwrap();
        let (seq_b, active_b) = b.join().unwrap();
        // Each reset found the timer pending, or its fired value unreceived.
        assert!(active_a && active_b);
        w.check_next();
        w.poll(LAST);
        let finally: Vec<Instant> = rx.try_iter().collect();
        match (seq_a, seq_b) {
            (Some(a), Some(b)) => {
                let last = if a > b { T2 } else { T3 };
                assert_eq!(finally, vec![w.at(last)], "the last reset's value, once");
            }
            _ => assert!(
                finally == vec![w.at(T2)] || finally == vec![w.at(T3)],
                "one value, of one of the two resets: {finally:?}"
            ),
        }
        assert_eq!(w.shard.len(), 0);
    });
}

/// Dropping a `Timer` (stop without drain, then the receiver goes) while the driver fires it:
/// nothing panics, and the wheel lets go of the entry, whoever won.
#[test]
fn loom_timer_drop_vs_fire() {
    model(|| {
        let w = World::new();
        let (entry, rx) = w.timer(T1);
        let dropper = {
            let (w, entry) = (w.clone(), entry.clone());
            thread::spawn(move || {
                w.stop(&entry, |_| false);
                drop(rx);
                drop(entry);
            })
        };
        w.poll(POLL1);
        dropper.join().unwrap();
        w.poll(LAST);
        assert_eq!(w.shard.len(), 0);
        w.check_next();
        assert_eq!(Arc::strong_count(&entry), 1, "entry leaked in the wheel");
    });
}

/// A `tick` receiver dropped while the driver ticks: the entry frees itself at the next tick.
#[test]
fn loom_tick_receiver_drop_vs_tick() {
    model(|| {
        let w = World::new();
        let (entry, rx) = w.ticker(T1);
        let weak = Arc::downgrade(&entry);
        drop(entry); // `tick` keeps no handle: only the wheel holds the entry
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
        assert_eq!(
            w.shard.len(),
            0,
            "ticker with no receiver still in the wheel"
        );
        assert!(weak.upgrade().is_none(), "ticker entry leaked");
    });
}

/// Ticker stop vs two ticks: no tick is received after stop returns, and the entry leaves the wheel.
#[test]
fn loom_ticker_stop_vs_tick() {
    model(|| {
        let w = World::new();
        let (entry, rx) = w.ticker(T1);
        let stopper = {
            let (w, entry, rx) = (w.clone(), entry.clone(), rx.clone());
            thread::spawn(move || {
                w.stop(&entry, |_| drain(&rx));
                assert!(w.recv(&rx).is_none(), "tick received after stop");
            })
        };
        w.poll(T1);
        w.poll(2 * T1);
        stopper.join().unwrap();
        w.check_next();
        w.poll(LAST);
        assert!(rx.try_recv().is_err(), "tick after stop");
        assert_eq!(w.shard.len(), 0);
        assert_eq!(Arc::strong_count(&entry), 1);
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
        let (entry, rx) = w.ticker(T1);
        let resetter = {
            let (w, entry, rx) = (w.clone(), entry.clone(), rx.clone());
            thread::spawn(move || {
                let _ = w.reset(&entry, Some(NOW + PERIOD), NOW, |_| {
                    entry.action.set_period(PERIOD);
                    drain(&rx)
                });
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
        drop(rx);
        w.poll(LAST);
        assert_eq!(w.shard.len(), 0, "receiver gone: the ticker frees itself");
    });
}

/// `after_func` stop vs fire: stop is true exactly when the callback never runs.
#[test]
fn loom_after_func_stop_vs_fire() {
    model(|| {
        let w = World::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let entry = w.func(T1, runs.clone());
        let stopper = {
            let (w, entry) = (w.clone(), entry.clone());
            thread::spawn(move || w.stop(&entry, |_| false))
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
        assert_eq!(w.shard.len(), 0);
        assert_eq!(Arc::strong_count(&entry), 1);
    });
}

/// `after_func` reset vs fire: reset reschedules (true, one run in all) or, if the callback was
/// already committed, schedules it again (false, two runs). Never a lost or extra run.
#[test]
fn loom_after_func_reset_vs_fire() {
    model(|| {
        let w = World::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let entry = w.func(T1, runs.clone());
        let resetter = {
            let (w, entry) = (w.clone(), entry.clone());
            thread::spawn(move || {
                let (active, done) = w.reset(&entry, Some(T2), POLL1 / 2, |_| false);
                assert!(done.dispatch.is_none());
                active
            })
        };
        w.poll(POLL1);
        let active = resetter.join().unwrap();
        w.check_next();
        w.poll(LAST);
        w.poll(LAST + 1);
        let n = runs.load(SeqCst);
        let expected = if active { 1 } else { 2 };
        assert_eq!(n, expected, "reset()={active}, callback ran {n} times");
        assert_eq!(w.shard.len(), 0);
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
        let (entry, rx) = w.timer(T1);
        let resetter = {
            let (w, entry, rx) = (w.clone(), entry.clone(), rx.clone());
            thread::spawn(move || {
                let (active, done) = w.reset(&entry, Some(NOW), NOW, |p| timer_drain(p, &rx));
                assert!(done.dispatch.is_none() && done.deadline.is_none());
                active
            })
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
        assert_eq!(w.shard.len(), 0);
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
        let (_late, _rx_late) = w.timer(T3);
        let (_first, _rx_first) = w.timer(T1);
        let inserter = {
            let w = w.clone();
            thread::spawn(move || {
                let (early, rx) = w.timer(T2);
                let next = w.shard.next();
                assert!(
                    next <= T2,
                    "inserter's deadline not published: next = {next}"
                );
                (early, rx)
            })
        };
        w.poll(POLL1);
        let (_early, rx) = inserter.join().unwrap();
        w.check_next();
        assert!(w.shard.next() <= T2);
        w.poll(T2);
        assert_eq!(rx.try_recv().ok(), Some(w.at(T2)));
        w.check_next();
    });
}

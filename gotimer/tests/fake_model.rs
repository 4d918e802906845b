//! A model check of the fake clock: random schedules of timers, `after`s, callbacks, tickers and
//! `tick`s, with resets, stops, drops, receives and advances, all on one `FakeClock` from one
//! thread, must deliver exactly what a simple reference model predicts.
//!
//! The model is a list of timers, each with its schedule (idle, never, or due at a nanosecond), a
//! ticker period, a channel buffer of capacity 1 and whether its handle is alive; a queue of
//! callbacks due at once; and the callback runs it expects. An advance fires, deadline by deadline,
//! everything due, as the fake clock promises. Checked against it after every operation: the
//! return values of `stop` and `reset`, every `try_recv` (the exact `Instant`), `now()`,
//! `waiters()` and `next_deadline()`, `advance_to_next`'s distance, and the callbacks that ran:
//! which, how many times, and the clock's `now()` inside each, which must be its deadline.
//! Callbacks due at the same instant may run in any order, so they are compared as a multiset per
//! instant; distinct instants must come in order. At the end every handle is dropped and the
//! clock advanced until nothing is pending: the callbacks still due must run then, as predicted.

mod common;

use common::model::{dur, nanos, period, Dur};
use gotimer::{Clock, FakeClock, Receiver, Ticker, Timer};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
enum Op {
    Timer(Dur),
    /// `after` with a deadline in range (out of range: see go_sleep_test's `test_overflow_after`).
    After(u64),
    AfterFunc(Dur),
    Ticker(Dur),
    Tick(Dur),
    /// Indices pick among the live handles, modulo their number.
    Stop(usize),
    /// The duration for timers and callbacks, the period for tickers.
    Reset(usize, Dur, Dur),
    Drop(usize),
    TryRecv(usize),
    Advance(u64),
    AdvanceToNext,
}

fn op() -> impl Strategy<Value = Op> {
    let ix = any::<usize>();
    prop_oneof![
        3 => dur().prop_map(Op::Timer),
        2 => nanos().prop_map(Op::After),
        3 => dur().prop_map(Op::AfterFunc),
        2 => period().prop_map(Op::Ticker),
        1 => period().prop_map(Op::Tick),
        3 => ix.prop_map(Op::Stop),
        4 => (ix, dur(), period()).prop_map(|(i, d, p)| Op::Reset(i, d, p)),
        2 => ix.prop_map(Op::Drop),
        6 => ix.prop_map(Op::TryRecv),
        4 => nanos().prop_map(Op::Advance),
        2 => Just(Op::AdvanceToNext),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Timer,
    After,
    Func,
    Ticker,
    Tick,
}

/// A timer's schedule in the model.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Sched {
    Idle,
    /// A callback due at once, waiting for the next advance to start it: still pending, so a
    /// `stop` or `reset` before then returns true and it does not run (Go's `Stop` returns false
    /// only once `f` has started).
    Queued,
    /// Pending with a deadline out of range: never fires, not counted by `waiters`.
    Never,
    At(u64),
}

/// One timer of the model, kept after its handle is dropped (an `after`, a callback or a `tick`
/// may still be pending then).
#[derive(Debug)]
struct Modelled {
    kind: Kind,
    sched: Sched,
    period: u64,
    buf: Option<u64>,
    handle: bool,
}

/// The reference model: times are nanoseconds since the clock's start.
#[derive(Default)]
struct Model {
    now: u64,
    timers: Vec<Modelled>,
    /// Callbacks due at once, which run at the start of the next advance.
    queued: Vec<usize>,
    /// The callback runs predicted since the last check: (instant, timer id).
    runs: Vec<(u64, usize)>,
}

impl Model {
    fn create(&mut self, kind: Kind, d: Dur) -> usize {
        let id = self.timers.len();
        self.timers.push(Modelled {
            kind,
            sched: Sched::Idle,
            period: 0,
            buf: None,
            handle: true,
        });
        match kind {
            Kind::Ticker | Kind::Tick => self.reset_ticker(id, d),
            _ => {
                self.schedule(id, d);
            }
        }
        id
    }

    /// Go's `Reset(d)` of a one-shot timer or callback (and its first schedule); returns what
    /// `reset` returns: whether it kept a value from being received or a callback from running.
    fn schedule(&mut self, id: usize, d: Dur) -> bool {
        let now = self.now;
        let t = &mut self.timers[id];
        let kept = t.sched != Sched::Idle || t.buf.take().is_some();
        t.sched = match d {
            Dur::Max => Sched::Never,
            Dur::Ns(0) => {
                // Due at once: a value is sent now; a callback waits for the next advance.
                match t.kind {
                    Kind::Func => {
                        self.queued.push(id);
                        Sched::Queued
                    }
                    _ => {
                        t.buf = Some(now);
                        Sched::Idle
                    }
                }
            }
            Dur::Ns(ns) => Sched::At(now + ns),
        };
        kept
    }

    /// A ticker's start or reset with period `p`: the waiting tick is discarded.
    fn reset_ticker(&mut self, id: usize, p: Dur) {
        let now = self.now;
        let t = &mut self.timers[id];
        t.buf = None;
        (t.sched, t.period) = match p {
            Dur::Max => (Sched::Never, 0),
            Dur::Ns(ns) => (Sched::At(now + ns), ns),
        };
    }

    fn stop(&mut self, id: usize) -> bool {
        let t = &mut self.timers[id];
        let kept = t.sched != Sched::Idle || (t.kind == Kind::Timer && t.buf.take().is_some());
        if t.kind == Kind::Ticker {
            t.buf = None;
        }
        t.sched = Sched::Idle;
        kept
    }

    fn drop_handle(&mut self, id: usize) {
        let t = &mut self.timers[id];
        t.handle = false;
        t.buf = None;
        // Dropping a `Timer` or `Ticker` cancels it. An `after_func`'s callback runs anyway; an
        // `after` stays pending until its deadline, a `tick` until its next tick.
        if matches!(t.kind, Kind::Timer | Kind::Ticker) {
            t.sched = Sched::Idle;
        }
    }

    fn try_recv(&mut self, id: usize) -> Option<u64> {
        self.timers[id].buf.take()
    }

    /// Starts the queued callbacks that are still due (not stopped, not reset since), in the
    /// order they were queued; a callback queued twice (`reset(0)` twice) runs once, at the first.
    fn run_queued(&mut self) {
        let now = self.now;
        for id in std::mem::take(&mut self.queued) {
            if self.timers[id].sched == Sched::Queued {
                self.timers[id].sched = Sched::Idle;
                self.runs.push((now, id));
            }
        }
    }

    fn next_deadline(&self) -> Option<u64> {
        self.timers
            .iter()
            .filter_map(|t| match t.sched {
                Sched::At(at) => Some(at),
                _ => None,
            })
            .min()
    }

    fn waiters(&self) -> usize {
        let pending = |t: &&Modelled| matches!(t.sched, Sched::At(_));
        self.timers.iter().filter(pending).count()
    }

    /// Moves to `at` and fires everything due then.
    fn fire_at(&mut self, at: u64) {
        self.now = at;
        for (id, t) in self.timers.iter_mut().enumerate() {
            if t.sched != Sched::At(at) {
                continue;
            }
            t.sched = Sched::Idle;
            match t.kind {
                // The channel is empty: every schedule drains it first.
                Kind::Timer | Kind::After if t.handle => t.buf = Some(at),
                Kind::Timer | Kind::After => {}
                Kind::Func => self.runs.push((at, id)),
                // A tick finding every receiver gone frees itself; a full channel drops the tick.
                Kind::Tick if !t.handle => {}
                Kind::Ticker | Kind::Tick => {
                    t.buf.get_or_insert(at);
                    t.sched = Sched::At(at + t.period);
                }
            }
        }
    }

    fn advance(&mut self, d: u64) {
        let target = self.now + d;
        self.run_queued();
        while let Some(at) = self.next_deadline().filter(|&at| at <= target) {
            self.fire_at(at);
        }
        self.now = target;
    }

    fn advance_to_next(&mut self) -> Option<u64> {
        self.run_queued();
        let from = self.now;
        let at = self.next_deadline()?;
        self.fire_at(at);
        Some(at - from)
    }
}

/// The real side of one timer.
enum Real {
    Timer(Timer),
    After(Receiver<Instant>),
    Func(Timer),
    Ticker(Ticker),
    Tick(Receiver<Instant>),
}

impl Real {
    fn rx(&self) -> Option<&Receiver<Instant>> {
        match self {
            Real::Timer(t) => Some(t.c()),
            Real::Ticker(t) => Some(t.c()),
            Real::After(rx) | Real::Tick(rx) => Some(rx),
            Real::Func(_) => None,
        }
    }
}

/// The clock under test, its live handles (with their model ids) and the callbacks' log.
struct World {
    fake: FakeClock,
    clock: Clock,
    base: Instant,
    live: Vec<(usize, Real)>,
    log: Arc<Mutex<Vec<(usize, Instant)>>>,
}

impl World {
    fn new() -> World {
        let fake = FakeClock::new();
        World {
            clock: fake.clock(),
            base: fake.now(),
            fake,
            live: Vec::new(),
            log: Arc::default(),
        }
    }

    fn at(&self, ns: u64) -> Instant {
        self.base + Duration::from_nanos(ns)
    }

    fn after_func(&self, id: usize, d: Duration) -> Timer {
        let (log, clock) = (self.log.clone(), self.clock.clone());
        self.clock.after_func(d, move || {
            log.lock().unwrap().push((id, clock.now()));
        })
    }

    /// The callback runs since the last call, as (instant, id), grouped by instant.
    fn take_runs(&self) -> BTreeMap<u64, Vec<usize>> {
        let log = std::mem::take(&mut *self.log.lock().unwrap());
        let mut order = Vec::new();
        for (id, now) in log {
            let ns = u64::try_from((now - self.base).as_nanos()).unwrap();
            order.push((ns, id));
        }
        assert!(
            order.windows(2).all(|w| w[0].0 <= w[1].0),
            "callbacks ran out of deadline order: {order:?}"
        );
        group(order)
    }
}

fn group(runs: Vec<(u64, usize)>) -> BTreeMap<u64, Vec<usize>> {
    let mut by_instant: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (at, id) in runs {
        by_instant.entry(at).or_default().push(id);
    }
    for ids in by_instant.values_mut() {
        ids.sort_unstable();
    }
    by_instant
}

/// Runs `ops` on a fake clock and on the model, checking after each; `Err` names the first
/// difference.
fn check(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut world = World::new();
    let mut model = Model::default();
    for (step, op) in ops.iter().enumerate() {
        let ctx = format!("op {step}: {op:?}");
        apply(&mut world, &mut model, op, &ctx)?;
        compare(&world, &mut model, &ctx)?;
    }
    // Drop every handle; whatever is still pending fires as predicted.
    for (id, real) in world.live.drain(..) {
        model.drop_handle(id);
        drop(real);
    }
    let mut left = model.timers.len() + 1;
    loop {
        let got = world.fake.advance_to_next();
        let want = model.advance_to_next();
        prop_assert_eq!(
            got,
            want.map(Duration::from_nanos),
            "drain: advance_to_next"
        );
        compare(&world, &mut model, "drain")?;
        if got.is_none() {
            break;
        }
        left -= 1;
        prop_assert!(left > 0, "still pending after one step per timer");
    }
    prop_assert_eq!(world.clock.stats().pending, 0);
    Ok(())
}

fn apply(world: &mut World, model: &mut Model, op: &Op, ctx: &str) -> Result<(), TestCaseError> {
    let clock = world.clock.clone();
    // The live handle an index picks, if any.
    let pick = |world: &World, i: usize| (!world.live.is_empty()).then(|| i % world.live.len());
    match *op {
        Op::Timer(d) => {
            let id = model.create(Kind::Timer, d);
            world.live.push((id, Real::Timer(clock.timer(d.get()))));
        }
        Op::After(ns) => {
            let id = model.create(Kind::After, Dur::Ns(ns));
            let rx = clock.after(Duration::from_nanos(ns));
            world.live.push((id, Real::After(rx)));
        }
        Op::AfterFunc(d) => {
            let id = model.create(Kind::Func, d);
            world
                .live
                .push((id, Real::Func(world.after_func(id, d.get()))));
        }
        Op::Ticker(p) => {
            let id = model.create(Kind::Ticker, p);
            world.live.push((id, Real::Ticker(clock.ticker(p.get()))));
        }
        Op::Tick(p) => {
            let id = model.create(Kind::Tick, p);
            world.live.push((id, Real::Tick(clock.tick(p.get()))));
        }
        Op::Stop(i) => {
            let Some(i) = pick(world, i) else {
                return Ok(());
            };
            let (id, real) = &world.live[i];
            match real {
                Real::Timer(t) | Real::Func(t) => {
                    prop_assert_eq!(t.stop(), model.stop(*id), "{}: stop", ctx);
                }
                Real::Ticker(t) => {
                    t.stop();
                    model.stop(*id);
                }
                Real::After(_) | Real::Tick(_) => {}
            }
        }
        Op::Reset(i, d, p) => {
            let Some(i) = pick(world, i) else {
                return Ok(());
            };
            let (id, real) = &world.live[i];
            match real {
                Real::Timer(t) | Real::Func(t) => {
                    let got = t.reset(d.get());
                    prop_assert_eq!(got, model.schedule(*id, d), "{}: reset", ctx);
                }
                Real::Ticker(t) => {
                    t.reset(p.get());
                    model.reset_ticker(*id, p);
                }
                Real::After(_) | Real::Tick(_) => {}
            }
        }
        Op::Drop(i) => {
            if let Some(i) = pick(world, i) {
                let (id, real) = world.live.swap_remove(i);
                drop(real);
                model.drop_handle(id);
            }
        }
        Op::TryRecv(i) => {
            let Some(i) = pick(world, i) else {
                return Ok(());
            };
            let (id, real) = &world.live[i];
            if let Some(rx) = real.rx() {
                let got = rx.try_recv().ok();
                let want = model.try_recv(*id).map(|ns| world.at(ns));
                prop_assert_eq!(got, want, "{}: try_recv of {:?}", ctx, model.timers[*id]);
            }
        }
        Op::Advance(ns) => {
            world.fake.advance(Duration::from_nanos(ns));
            model.advance(ns);
        }
        Op::AdvanceToNext => {
            let got = world.fake.advance_to_next();
            let want = model.advance_to_next().map(Duration::from_nanos);
            prop_assert_eq!(got, want, "{}: advance_to_next", ctx);
        }
    }
    Ok(())
}

/// The clock's observable state and the callbacks that ran, against the model's.
fn compare(world: &World, model: &mut Model, ctx: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(world.fake.now(), world.at(model.now), "{}: now", ctx);
    prop_assert_eq!(world.fake.waiters(), model.waiters(), "{}: waiters", ctx);
    let want = model.next_deadline().map(|ns| world.at(ns));
    prop_assert_eq!(world.fake.next_deadline(), want, "{}: next_deadline", ctx);
    let want = group(std::mem::take(&mut model.runs));
    prop_assert_eq!(world.take_runs(), want, "{}: callback runs by instant", ctx);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(debug_assertions) { 300 } else { 2000 }))]

    #[test]
    fn fake_clock_matches_the_model(ops in prop::collection::vec(op(), 1..80)) {
        check(&ops)?;
    }
}

/// The model itself is checked on a schedule worked out by hand, so that a model that agrees with
/// a broken clock by sharing its mistake would fail here.
#[test]
fn model_on_a_schedule_worked_out_by_hand() {
    let ms = 1_000_000;
    let ops = [
        Op::Ticker(Dur::Ns(ms)),        // 0: ticks at 1, 2, 3 ms
        Op::AfterFunc(Dur::Ns(2 * ms)), // 1: runs at 2 ms
        Op::AfterFunc(Dur::Ns(2 * ms)), // 2: runs at 2 ms too
        Op::Timer(Dur::Ns(ms + 1)),     // 3: fires 1 ns after the first tick
        Op::AfterFunc(Dur::Ns(0)),      // 4: runs at 0, in the next advance
        Op::Advance(3 * ms),
    ];
    let mut world = World::new();
    let mut model = Model::default();
    for op in &ops {
        apply(&mut world, &mut model, op, "by hand").unwrap();
    }
    assert_eq!(model.now, 3 * ms);
    let runs = group(model.runs.clone());
    assert_eq!(runs, BTreeMap::from([(0, vec![4]), (2 * ms, vec![1, 2])]));
    assert_eq!(world.take_runs(), runs);
    // The ticker's first tick waits; the two after it were dropped. The timer's value is its
    // deadline.
    assert_eq!(model.timers[0].buf, Some(ms));
    assert_eq!(model.timers[3].buf, Some(ms + 1));
    let rx = |i: usize| world.live[i].1.rx().unwrap().try_recv().unwrap();
    assert_eq!(rx(0), world.at(ms));
    assert_eq!(rx(3), world.at(ms + 1));
    assert_eq!(model.next_deadline(), Some(4 * ms));
    assert_eq!(world.fake.next_deadline(), Some(world.at(4 * ms)));
}

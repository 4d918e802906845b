//! A model check of the futures on a fake clock: random schedules of `Sleep`s, `Interval`s, and
//! `recv_async` futures on `Timer`s and `Ticker`s, polled by hand with wakers that count their
//! wakes, with resets, stops, drops and advances, all from one thread, must do exactly what a
//! simple reference model predicts. `fake_model.rs` does the same for the thread API.
//!
//! The model keeps, for each timer (a sleep's, an interval's ticker, a `Timer`, a `Ticker`), its
//! schedule (idle, never, or due at a nanosecond), a ticker's period, the value waiting (a channel
//! of capacity 1; for a sleep, its deadline once it fired and before a poll saw it), and the wakers
//! that its next value wakes; and for each future whether it is alive and done. Every poll gets a
//! fresh waker, so a wake says which poll it answers. Checked against the model after every step:
//! each poll's result (`Pending`, or `Ready` with the exact instant), each reset's and stop's
//! result (Go's), `now()`, `waiters()` and `next_deadline()`, and the exact set of wakers woken by
//! the step. A waker the model expects must be woken at least once; any other must not be woken:
//! not a dropped future's, not a completed one's, not one a later poll replaced, and not a pending
//! one's that nothing came for. The rules the model encodes, from the futures' contracts:
//! - a `Sleep` is filed when made on a fake clock (fired at once if due), completes with its
//!   deadline, and keeps returning it until a reset; `reset` returns true unless it had returned
//!   `Ready`. It stores the waker of its latest poll, and keeps it once woken: a reset that
//!   makes it pending again wakes that waker at the new deadline with no new poll;
//! - an `Interval` and a `recv_async` future take a value if one waits, and otherwise wait, the
//!   latest poll's waker replacing the one before. Each value sent wakes every future waiting on
//!   that timer, once: those woken wait again only when polled again. Values are taken only by the
//!   poll that returns them, so a dropped future loses none;
//! - the values are Go's: a timer's is its deadline, a ticker's each tick due, with at most one
//!   waiting and the later ones dropped, and a stop or reset discards the value waiting.
//!
//! At the end every future and timer is dropped: nothing is pending, and nothing is woken.

mod common;
mod ports;

use common::model::{dur, nanos, period, Dur};
use gotimer::future::{Interval, Sleep};
use gotimer::{Clock, FakeClock, Ticker, Timer};
use ports::Wakes;
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
enum Op {
    Sleep(Dur),
    Interval(Dur),
    Timer(Dur),
    Ticker(Dur),
    /// A `recv_async` future on a `Timer` or `Ticker`. Indices pick among the live ones of their
    /// sort, modulo their number.
    Recv(usize),
    SleepReset(usize, Dur),
    IntervalReset(usize, Dur),
    IntervalStop(usize),
    /// The duration for a `Timer`, the period for a `Ticker`.
    TimerReset(usize, Dur, Dur),
    TimerStop(usize),
    /// Polls a future (a sleep, an interval, a receive) with a fresh waker.
    Poll(usize),
    Drop(usize),
    Advance(u64),
    AdvanceToNext,
}

fn op() -> impl Strategy<Value = Op> {
    let ix = any::<usize>();
    prop_oneof![
        3 => dur().prop_map(Op::Sleep),
        2 => period().prop_map(Op::Interval),
        2 => dur().prop_map(Op::Timer),
        2 => period().prop_map(Op::Ticker),
        3 => ix.prop_map(Op::Recv),
        3 => (ix, dur()).prop_map(|(i, d)| Op::SleepReset(i, d)),
        1 => (ix, period()).prop_map(|(i, p)| Op::IntervalReset(i, p)),
        1 => ix.prop_map(Op::IntervalStop),
        2 => (ix, dur(), period()).prop_map(|(i, d, p)| Op::TimerReset(i, d, p)),
        1 => ix.prop_map(Op::TimerStop),
        10 => ix.prop_map(Op::Poll),
        2 => ix.prop_map(Op::Drop),
        5 => nanos().prop_map(Op::Advance),
        2 => Just(Op::AdvanceToNext),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Sleep,
    /// A `Timer`'s channel, or its tasks' slot: the same values.
    Timer,
    /// A `Ticker`, or an `Interval`'s.
    Ticker,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Sched {
    Idle,
    /// Pending with a deadline out of range: never fires, not counted by `waiters`.
    Never,
    At(u64),
}

/// One timer of the model. Times are nanoseconds since the clock's start.
#[derive(Debug)]
struct MTimer {
    kind: Kind,
    sched: Sched,
    period: u64,
    /// The value waiting: a `Timer`'s or `Ticker`'s (capacity 1), or a sleep's deadline once it
    /// fired, until a poll sees it.
    value: Option<u64>,
    /// A sleep that returned `Ready`: its deadline, which every poll returns until a reset.
    done: Option<u64>,
    /// The wakers the next value wakes, by future: a sleep's one (its latest pending poll's, kept
    /// once woken), or those of the futures waiting on a `Timer`'s or `Ticker`'s values (each
    /// taken by the wake).
    wakers: Vec<(usize, usize)>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum FutKind {
    Sleep,
    Interval,
    Recv,
}

/// One future of the model: on its timer; alive until dropped; a receive is done once `Ready`
/// (polling it again is not allowed, and the schedules skip it).
#[derive(Debug)]
struct MFut {
    kind: FutKind,
    timer: usize,
    done: bool,
}

#[derive(Default)]
struct Model {
    now: u64,
    timers: Vec<MTimer>,
    futs: Vec<MFut>,
    /// The wakers woken since the last check.
    woken: BTreeSet<usize>,
}

impl Model {
    fn timer(&mut self, kind: Kind) -> usize {
        self.timers.push(MTimer {
            kind,
            sched: Sched::Idle,
            period: 0,
            value: None,
            done: None,
            wakers: Vec::new(),
        });
        self.timers.len() - 1
    }

    fn fut(&mut self, kind: FutKind, timer: usize) -> usize {
        self.futs.push(MFut {
            kind,
            timer,
            done: false,
        });
        self.futs.len() - 1
    }

    /// A sleep made with `d`: one future on its own timer.
    fn sleep(&mut self, d: Dur) -> usize {
        let t = self.timer(Kind::Sleep);
        self.schedule(t, d);
        self.fut(FutKind::Sleep, t)
    }

    fn interval(&mut self, p: Dur) -> usize {
        let t = self.timer(Kind::Ticker);
        self.reset_ticker(t, p);
        self.fut(FutKind::Interval, t)
    }

    /// A `Timer` or `Ticker`, made with `d`.
    fn source(&mut self, kind: Kind, d: Dur) -> usize {
        let t = self.timer(kind);
        match kind {
            Kind::Ticker => self.reset_ticker(t, d),
            _ => {
                self.schedule(t, d);
            }
        }
        t
    }

    /// Sends `at` from timer `t`: the value waits (a ticker's later ones are dropped while one
    /// waits), and the wakers waiting are woken, those of a receive or interval once.
    fn send(&mut self, t: usize, at: u64) {
        let timer = &mut self.timers[t];
        timer.value.get_or_insert(at);
        let wakers: Vec<usize> = match timer.kind {
            Kind::Sleep => timer.wakers.iter().map(|&(_, w)| w).collect(),
            _ => timer.wakers.drain(..).map(|(_, w)| w).collect(),
        };
        self.woken.extend(wakers);
    }

    /// Go's `Reset(d)` of a `Timer` or a sleep (and its first schedule): returns Go's result, true
    /// if it kept a value from being received (a sleep: it had not returned `Ready`). Due at once,
    /// it fires now.
    fn schedule(&mut self, t: usize, d: Dur) -> bool {
        let now = self.now;
        let timer = &mut self.timers[t];
        let kept = match timer.kind {
            Kind::Sleep => timer.done.is_none(),
            _ => timer.sched != Sched::Idle || timer.value.is_some(),
        };
        timer.value = None;
        timer.done = None;
        timer.sched = match d {
            Dur::Max => Sched::Never,
            Dur::Ns(0) => Sched::Idle,
            Dur::Ns(ns) => Sched::At(now + ns),
        };
        if let Dur::Ns(0) = d {
            self.send(t, now);
        }
        kept
    }

    /// A ticker's start or reset with period `p`: the value waiting is discarded.
    fn reset_ticker(&mut self, t: usize, p: Dur) {
        let now = self.now;
        let timer = &mut self.timers[t];
        timer.value = None;
        (timer.sched, timer.period) = match p {
            Dur::Max => (Sched::Never, 0),
            Dur::Ns(ns) => (Sched::At(now + ns), ns),
        };
    }

    /// Go's `Stop`: true if it kept a value from being received (a ticker's result is not checked).
    fn stop(&mut self, t: usize) -> bool {
        let timer = &mut self.timers[t];
        let kept = timer.value.take().is_some() || timer.sched != Sched::Idle;
        timer.sched = Sched::Idle;
        kept
    }

    /// Polls future `f` with waker `w`: takes the value waiting, or waits with `w` in place of the
    /// future's waker before.
    fn poll(&mut self, f: usize, w: usize) -> Poll<u64> {
        let fut = &mut self.futs[f];
        let timer = &mut self.timers[fut.timer];
        let ready = match fut.kind {
            FutKind::Sleep => {
                if let Some(at) = timer.value.take() {
                    timer.done = Some(at);
                }
                timer.done
            }
            FutKind::Interval | FutKind::Recv => timer.value.take(),
        };
        if let Some(at) = ready {
            if fut.kind == FutKind::Sleep {
                // A sleep keeps the waker of its latest poll, `Ready` or not.
                timer.wakers.retain(|&(g, _)| g != f);
                timer.wakers.push((f, w));
            }
            // A receive or interval that finds a value is not waiting: the send of that value woke
            // every future waiting and took them off.
            assert!(fut.kind == FutKind::Sleep || timer.wakers.iter().all(|&(g, _)| g != f));
            fut.done = fut.kind == FutKind::Recv;
            return Poll::Ready(at);
        }
        timer.wakers.retain(|&(g, _)| g != f);
        timer.wakers.push((f, w));
        Poll::Pending
    }

    /// Drops future `f`: its waker is forgotten, and a sleep's or interval's timer stopped.
    fn drop_fut(&mut self, f: usize) {
        let fut = &self.futs[f];
        let timer = &mut self.timers[fut.timer];
        timer.wakers.retain(|&(g, _)| g != f);
        if fut.kind != FutKind::Recv {
            timer.sched = Sched::Idle;
            timer.value = None;
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
        let pending = |t: &&MTimer| matches!(t.sched, Sched::At(_));
        self.timers.iter().filter(pending).count()
    }

    /// Moves to `at` and fires everything due then.
    fn fire_at(&mut self, at: u64) {
        self.now = at;
        for t in 0..self.timers.len() {
            let timer = &mut self.timers[t];
            if timer.sched != Sched::At(at) {
                continue;
            }
            timer.sched = match timer.kind {
                Kind::Ticker => Sched::At(at + timer.period),
                _ => Sched::Idle,
            };
            self.send(t, at);
        }
    }

    fn advance(&mut self, d: u64) {
        let target = self.now + d;
        while let Some(at) = self.next_deadline().filter(|&at| at <= target) {
            self.fire_at(at);
        }
        self.now = target;
    }

    fn advance_to_next(&mut self) -> Option<u64> {
        let from = self.now;
        let at = self.next_deadline()?;
        self.fire_at(at);
        Some(at - from)
    }
}

/// The real side of a `Timer` or `Ticker`, shared with the futures receiving from it.
#[derive(Clone)]
enum Source {
    Timer(Arc<Timer>),
    Ticker(Arc<Ticker>),
}

/// The real side of a future.
enum Fut {
    Sleep(Sleep),
    Interval(Interval),
    /// A `recv_async` future, in a block that owns its timer's handle.
    Recv(Pin<Box<dyn Future<Output = Instant>>>),
}

impl Fut {
    fn recv(source: &Source) -> Fut {
        Fut::Recv(match source.clone() {
            Source::Timer(t) => Box::pin(async move { t.recv_async().await }),
            Source::Ticker(t) => Box::pin(async move { t.recv_async().await }),
        })
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        match self {
            Fut::Sleep(s) => Pin::new(s).poll(cx),
            Fut::Interval(i) => i.poll_tick(cx),
            Fut::Recv(r) => r.as_mut().poll(cx),
        }
    }
}

/// The clock under test, its live futures and sources with their model ids, and every waker made
/// (by id) with its wakes as last checked.
struct World {
    fake: FakeClock,
    clock: Clock,
    base: Instant,
    futs: Vec<(usize, Fut)>,
    sources: Vec<(usize, Source)>,
    wakers: Vec<(Arc<Wakes>, usize)>,
}

impl World {
    fn new() -> World {
        let fake = FakeClock::new();
        World {
            clock: fake.clock(),
            base: fake.now(),
            fake,
            futs: Vec::new(),
            sources: Vec::new(),
            wakers: Vec::new(),
        }
    }

    fn at(&self, ns: u64) -> Instant {
        self.base + Duration::from_nanos(ns)
    }

    /// A fresh counting waker, and its id.
    fn waker(&mut self) -> (usize, Waker) {
        let wakes = Arc::new(Wakes::default());
        self.wakers.push((wakes.clone(), 0));
        (self.wakers.len() - 1, Waker::from(wakes))
    }

    /// The wakers woken since the last call.
    fn woken(&mut self) -> BTreeSet<usize> {
        let mut woken = BTreeSet::new();
        for (id, (wakes, seen)) in self.wakers.iter_mut().enumerate() {
            let now = wakes.count();
            if now > *seen {
                woken.insert(id);
                *seen = now;
            }
        }
        woken
    }

    /// The position in `futs` of the live future of kind `kind` (any, if `None`) that `i` picks.
    fn pick(&self, model: &Model, kind: Option<FutKind>, i: usize) -> Option<usize> {
        let fits: Vec<usize> = (0..self.futs.len())
            .filter(|&p| kind.is_none_or(|k| model.futs[self.futs[p].0].kind == k))
            .collect();
        (!fits.is_empty()).then(|| fits[i % fits.len()])
    }
}

/// Runs `ops` on a fake clock and on the model, checking after each; `Err` names the first
/// difference.
fn check(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut world = World::new();
    let mut model = Model::default();
    for (step, op) in ops.iter().enumerate() {
        let ctx = format!("op {step}: {op:?}");
        apply(&mut world, &mut model, op, &ctx)?;
        compare(&mut world, &mut model, &ctx)?;
    }
    // Drop everything: nothing stays pending, and no waker is woken.
    for (f, fut) in world.futs.drain(..) {
        model.drop_fut(f);
        drop(fut);
    }
    world.sources.clear();
    prop_assert_eq!(world.fake.waiters(), 0, "waiters once all is dropped");
    prop_assert_eq!(world.fake.next_deadline(), None);
    prop_assert_eq!(world.clock.stats().pending, 0);
    prop_assert_eq!(world.fake.advance_to_next(), None);
    prop_assert_eq!(world.woken(), BTreeSet::new(), "woken by the drops");
    Ok(())
}

fn apply(world: &mut World, model: &mut Model, op: &Op, ctx: &str) -> Result<(), TestCaseError> {
    let clock = world.clock.clone();
    match *op {
        Op::Sleep(d) => {
            let f = model.sleep(d);
            world.futs.push((f, Fut::Sleep(clock.sleep_async(d.get()))));
        }
        Op::Interval(p) => {
            let f = model.interval(p);
            world.futs.push((f, Fut::Interval(clock.interval(p.get()))));
        }
        Op::Timer(d) => {
            let t = model.source(Kind::Timer, d);
            let timer = Arc::new(clock.timer(d.get()));
            world.sources.push((t, Source::Timer(timer)));
        }
        Op::Ticker(p) => {
            let t = model.source(Kind::Ticker, p);
            let ticker = Arc::new(clock.ticker(p.get()));
            world.sources.push((t, Source::Ticker(ticker)));
        }
        Op::Recv(i) => {
            if !world.sources.is_empty() {
                let (t, source) = &world.sources[i % world.sources.len()];
                let f = model.fut(FutKind::Recv, *t);
                let fut = Fut::recv(source);
                world.futs.push((f, fut));
            }
        }
        Op::SleepReset(i, d) => {
            if let Some(p) = world.pick(model, Some(FutKind::Sleep), i) {
                let (f, Fut::Sleep(s)) = &mut world.futs[p] else {
                    unreachable!()
                };
                let want = model.schedule(model.futs[*f].timer, d);
                prop_assert_eq!(s.reset(d.get()), want, "{}: reset", ctx);
            }
        }
        Op::IntervalReset(i, period) => {
            if let Some(p) = world.pick(model, Some(FutKind::Interval), i) {
                let (f, Fut::Interval(iv)) = &mut world.futs[p] else {
                    unreachable!()
                };
                iv.reset(period.get());
                model.reset_ticker(model.futs[*f].timer, period);
            }
        }
        Op::IntervalStop(i) => {
            if let Some(p) = world.pick(model, Some(FutKind::Interval), i) {
                let (f, Fut::Interval(iv)) = &mut world.futs[p] else {
                    unreachable!()
                };
                iv.stop();
                model.stop(model.futs[*f].timer);
            }
        }
        Op::TimerReset(i, d, p) => {
            if !world.sources.is_empty() {
                let (t, source) = &world.sources[i % world.sources.len()];
                match source {
                    Source::Timer(timer) => {
                        let got = timer.reset(d.get());
                        prop_assert_eq!(got, model.schedule(*t, d), "{}: reset", ctx);
                    }
                    Source::Ticker(ticker) => {
                        ticker.reset(p.get());
                        model.reset_ticker(*t, p);
                    }
                }
            }
        }
        Op::TimerStop(i) => {
            if !world.sources.is_empty() {
                let (t, source) = &world.sources[i % world.sources.len()];
                match source {
                    Source::Timer(timer) => {
                        prop_assert_eq!(timer.stop(), model.stop(*t), "{}: stop", ctx);
                    }
                    Source::Ticker(ticker) => {
                        ticker.stop();
                        model.stop(*t);
                    }
                }
            }
        }
        Op::Poll(i) => {
            if let Some(p) = world.pick(model, None, i) {
                let f = world.futs[p].0;
                if model.futs[f].done {
                    return Ok(()); // a completed receive: polling it again is not allowed
                }
                let (w, waker) = world.waker();
                let got = world.futs[p].1.poll(&mut Context::from_waker(&waker));
                let want = model.poll(f, w).map(|ns| world.at(ns));
                let about = &model.timers[model.futs[f].timer];
                prop_assert_eq!(got, want, "{}: poll of {:?}", ctx, about);
            }
        }
        Op::Drop(i) => {
            if let Some(p) = world.pick(model, None, i) {
                let (f, fut) = world.futs.swap_remove(p);
                drop(fut);
                model.drop_fut(f);
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

/// The clock's observable state and the wakers woken, against the model's.
fn compare(world: &mut World, model: &mut Model, ctx: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(world.fake.now(), world.at(model.now), "{}: now", ctx);
    prop_assert_eq!(world.fake.waiters(), model.waiters(), "{}: waiters", ctx);
    let want = model.next_deadline().map(|ns| world.at(ns));
    prop_assert_eq!(world.fake.next_deadline(), want, "{}: next_deadline", ctx);
    let want = std::mem::take(&mut model.woken);
    prop_assert_eq!(world.woken(), want, "{}: wakers woken", ctx);
    Ok(())
}

proptest! {
    // proptest's default, 256 cases (`PROPTEST_CASES` sets more), runs in a second or two.
    #[test]
    fn futures_on_a_fake_clock_match_the_model(ops in prop::collection::vec(op(), 1..60)) {
        check(&ops)?;
    }
}

/// The model itself is checked on a schedule worked out by hand, so that a model that agrees with
/// a broken clock by sharing its mistake would fail here.
#[test]
fn model_on_a_schedule_worked_out_by_hand() {
    let ms = 1_000_000;
    let ops = [
        Op::Sleep(Dur::Ns(2 * ms)), // future 0, waker ids from 0: sleep due at 2 ms
        Op::Interval(Dur::Ns(ms)),  // future 1: ticks at 1, 2, 3 ms
        Op::Timer(Dur::Ns(ms + 1)), // source 0: fires 1 ns after the first tick
        Op::Recv(0),                // future 2, on the timer
        Op::Recv(0),                // future 3, on the timer
        Op::Poll(0),                // sleep pending: waker 0
        Op::Poll(1),                // interval pending: waker 1
        Op::Poll(2),                // receive pending: waker 2
        Op::Poll(3),                // receive pending: waker 3
        Op::Poll(3),                // again: waker 4 replaces waker 3
        Op::Advance(3 * ms),        // sleep fires, 1 tick waits (2 and 3 ms dropped), timer fires
        Op::Drop(2),                // a woken receive dropped: the value stays
        Op::Poll(2),                // (swap_remove put future 3 there) takes the timer's value
        Op::SleepReset(0, Dur::Ns(ms)), // not polled since it fired: true, due at 4 ms
    ];
    let mut world = World::new();
    let mut model = Model::default();
    for (step, op) in ops.iter().enumerate() {
        apply(&mut world, &mut model, op, "by hand").unwrap();
        if step == 10 {
            assert_eq!(model.woken, BTreeSet::from([0, 1, 2, 4]), "3 was replaced");
            assert_eq!(
                model.timers[1].value,
                Some(ms),
                "the first tick, the others dropped"
            );
            assert_eq!(model.timers[2].value, Some(ms + 1));
        }
        compare(&mut world, &mut model, "by hand").unwrap();
    }
    assert!(
        model.futs[3].done,
        "the receive that took the timer's value"
    );
    assert_eq!(model.timers[0].sched, Sched::At(4 * ms));
    assert_eq!(
        model.timers[0].wakers,
        [(0, 0)],
        "the sleep keeps its waker"
    );
    assert_eq!(model.next_deadline(), Some(4 * ms));
    // The sleep's kept waker is woken at its new deadline, with no new poll.
    world.fake.advance(Duration::from_nanos(ms));
    model.advance(ms);
    assert_eq!(
        model.woken,
        BTreeSet::from([0]),
        "the interval's tick wakes nobody: one waits"
    );
    compare(&mut world, &mut model, "by hand").unwrap();
}

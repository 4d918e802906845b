//! What a new user meets in the first hour (issue 11), pinned: the channel of a dropped `Timer`, what
//! `stats()` and the profile can and cannot see, the deadline constructors on both clocks, a
//! stopped `after_func`, and when a panicking callback is counted.
//!
//! This file names no `crossbeam_channel` path of its own: everything comes through `gotimer`,
//! which is the point of its re-exports.
//!
//! The tests run one at a time (`SERIAL`): several read process-wide counters (`stats()`, the
//! profile, the counting allocator's live bytes).

mod common;
mod expected_panics;

use common::counting::{live, Counting};
use gotimer::crossbeam_channel::{unbounded, RecvTimeoutError, TryRecvError};
use gotimer::{
    after, after_func, after_func_at, after_func_stopped, at, select, stats, Clock, FakeClock,
    Ticker, Timer,
};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

const HOUR: Duration = Duration::from_secs(3600);
/// A wait that a passing test never sits out: only a broken one does.
const PATIENCE: Duration = Duration::from_secs(30);
/// Far enough that a deadline cannot be represented (the wheels reach 146 years).
const CENTURIES: Duration = Duration::from_secs(300 * 365 * 86_400);

/// The profile's row for `line` of this file, if that line created a timer.
#[cfg(feature = "profile")]
fn site_at(line: u32) -> Option<gotimer::profile::Site> {
    gotimer::profile::snapshot()
        .into_iter()
        .find(|s| s.line == line && s.file.ends_with("first_hour.rs"))
}

// Item 1: the channel belongs to its Timer.

#[test]
fn a_clone_of_a_dropped_timers_channel_is_disconnected_and_select_takes_it_at_once() {
    let _serial = serial();
    let fake = FakeClock::new();
    for clock in [Clock::system(), fake.clock()] {
        // Go's `time.NewTimer(d).C`, written the way that compiles: the Timer drops here.
        let timeout = clock.timer(HOUR).c().clone();
        let taken = select! {
            recv(timeout) -> v => v,
            default(PATIENCE) => panic!("{clock:?}: the arm of a disconnected channel is ready"),
        };
        assert!(taken.is_err(), "{clock:?}: taken with Err, not a deadline");
        assert_eq!(timeout.try_recv(), Err(TryRecvError::Disconnected));

        let ticks = clock.ticker(HOUR).c().clone();
        assert_eq!(ticks.try_recv(), Err(TryRecvError::Disconnected));
    }
    // The two forms the docs prescribe instead: keep the Timer, or take `after`'s channel.
    let kept = Timer::new(Duration::from_millis(1));
    assert!(kept.c().recv_timeout(PATIENCE).is_ok());
    assert!(after(Duration::from_millis(1))
        .recv_timeout(PATIENCE)
        .is_ok());
}

#[test]
fn an_after_func_channel_never_delivers_and_never_disconnects() {
    let _serial = serial();
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let rx = after_func(Duration::from_millis(1), move || {
        r.fetch_add(1, SeqCst);
    })
    .c()
    .clone();
    let deadline = Instant::now() + PATIENCE;
    while ran.load(SeqCst) == 0 && Instant::now() < deadline {
        std::thread::yield_now();
    }
    assert_eq!(
        ran.load(SeqCst),
        1,
        "dropping an after_func's Timer lets it run"
    );
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(5)),
        Err(RecvTimeoutError::Timeout)
    );
}

// Item 2: what `stats()` and the profile see.

#[test]
fn the_system_clocks_after_is_heap_that_stats_and_the_profile_cannot_see() {
    let _serial = serial();
    drop(after(HOUR)); // warm up crossbeam's `at` flavour
    let (pending, heap) = (stats().pending, live());
    let make = || after(HOUR);
    let line = line!() - 1;
    let held: Vec<_> = (0..1000).map(|_| make()).collect();
    assert!(live() - heap >= 1000 * 32, "the receivers are on the heap");
    assert_eq!(
        stats().pending,
        pending,
        "but no timer is pending in gotimer"
    );
    #[cfg(feature = "profile")]
    assert!(site_at(line).is_none(), "and no site recorded them");
    let _ = line;
    drop(held);
    assert!(live() - heap < 1000, "dropping them frees them");

    // On a fake clock `after` must register a timer, and then both see it.
    let fake = FakeClock::new();
    let rx = fake.clock().after(HOUR);
    let line = line!() - 1;
    assert_eq!(fake.clock().stats().pending, 1);
    #[cfg(feature = "profile")]
    {
        let site = site_at(line).expect("a fake clock's after has a site");
        assert_eq!((site.kind, site.live), (gotimer::profile::Kind::After, 1));
    }
    let _ = line;
    drop(rx);
    assert_eq!(
        fake.clock().stats().pending,
        1,
        "a receiver's drop is invisible: pending until its deadline"
    );
}

#[test]
fn a_cloned_channel_outliving_its_timer_keeps_the_channel_but_is_counted_nowhere() {
    let _serial = serial();
    drop(Timer::new(HOUR)); // warm up this thread's shard
    let (pending, heap) = (stats().pending, live());
    let make = || Timer::new(HOUR).c().clone();
    let line = line!() - 1;
    let clones: Vec<_> = (0..1000).map(|_| make()).collect();
    let per_clone = (live() - heap) / 1000;
    assert!(
        per_clone >= 600,
        "each clone keeps its channel: {per_clone} B"
    );
    assert_eq!(stats().pending, pending, "no timer is pending");
    #[cfg(feature = "profile")]
    {
        let site = site_at(line).expect("the site created them");
        assert_eq!((site.created, site.live, site.live_bytes), (1000, 0, 0));
    }
    let _ = line;
    drop(clones);
}

// Item 4: docs.rs.

#[test]
fn docs_rs_documents_every_feature_and_gated_modules_name_their_feature() {
    let _serial = serial();
    let dir = env!("CARGO_MANIFEST_DIR");
    let manifest = std::fs::read_to_string(format!("{dir}/Cargo.toml")).unwrap();
    let section = manifest
        .split("[package.metadata.docs.rs]")
        .nth(1)
        .expect("Cargo.toml has [package.metadata.docs.rs]");
    let section = section.split("\n[").next().unwrap();
    assert!(
        section.lines().any(|l| l.trim() == "all-features = true"),
        "docs.rs builds with every feature: {section}"
    );
    // Stable rustdoc cannot badge gated items, so each gated module's own docs name its feature
    // (outer docs on the `mod` line would resolve the module's intra-doc links in the wrong scope).
    for (feature, module) in [("http", "src/debug.rs"), ("profile", "src/profile/mod.rs")] {
        let source = std::fs::read_to_string(format!("{dir}/{module}")).unwrap();
        let docs: String = source
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .collect();
        assert!(
            docs.contains(&format!("(feature `{feature}`")),
            "the docs of {module} name the `{feature}` feature"
        );
    }
}

// Item 5: deadlines, on both clocks.

#[test]
fn deadline_timers_deliver_their_deadline_on_both_clocks() {
    let _serial = serial();
    let deadline = Instant::now() + Duration::from_millis(5);
    let t = Timer::at(deadline);
    assert_eq!(t.c().recv_timeout(PATIENCE), Ok(deadline));
    assert!(Instant::now() >= deadline);
    assert_eq!(at(deadline).recv_timeout(PATIENCE), Ok(deadline));

    let fake = FakeClock::new();
    let clock = fake.clock();
    let deadline = fake.now() + Duration::from_secs(90);
    let t = clock.timer_at(deadline);
    let rx = clock.at(deadline);
    assert_eq!(fake.waiters(), 2);
    fake.advance(Duration::from_secs(89));
    assert!(t.c().try_recv().is_err() && rx.try_recv().is_err());
    assert_eq!(fake.advance_to_next(), Some(Duration::from_secs(1)));
    assert_eq!(t.c().try_recv(), Ok(deadline));
    assert_eq!(rx.try_recv(), Ok(deadline));
}

#[test]
fn past_deadlines_fire_at_once_and_unrepresentable_ones_never() {
    let _serial = serial();
    let fake = FakeClock::new();
    let clock = fake.clock();
    fake.advance(Duration::from_secs(10));
    let past = fake.now() - Duration::from_secs(3);
    assert_eq!(clock.timer_at(past).c().try_recv(), Ok(past));
    assert_eq!(clock.at(past).try_recv(), Ok(past));
    stats(); // the system clock has started: `past` is not before its start
    let past = Instant::now();
    assert_eq!(Timer::at(past).c().recv_timeout(PATIENCE), Ok(past));

    let never = clock.timer_at(fake.now() + CENTURIES);
    assert_eq!(fake.waiters(), 0, "not in the wheel");
    fake.advance(HOUR);
    assert!(never.c().try_recv().is_err());
    assert!(never.stop(), "pending forever, so stop kept it from firing");
    let never = Timer::at(Instant::now() + CENTURIES);
    assert_eq!(
        never.c().recv_timeout(Duration::from_millis(5)),
        Err(RecvTimeoutError::Timeout)
    );
}

#[test]
fn a_deadline_from_before_the_clock_started_is_delivered_exactly_by_the_constructors() {
    let _serial = serial();
    let before = Instant::now();
    let fake = FakeClock::new();
    let clock = fake.clock();
    let start = fake.now();
    assert!(before < start);
    assert_eq!(clock.timer_at(before).c().try_recv(), Ok(before));
    assert_eq!(clock.at(before).try_recv(), Ok(before));
    // The one inexact case, documented on `Timer::reset_at`: its time line reads it as its start.
    let t = clock.timer(HOUR);
    assert!(t.reset_at(before));
    assert_eq!(t.c().try_recv(), Ok(start));
}

#[test]
fn reset_at_keeps_go_1_23s_guarantee() {
    let _serial = serial();
    let fake = FakeClock::new();
    let clock = fake.clock();
    let t = clock.timer_at(fake.now());
    assert!(
        !t.c().is_empty(),
        "due at once: the value waits in the channel"
    );
    let later = fake.now() + Duration::from_secs(5);
    assert!(
        t.reset_at(later),
        "the waiting value was kept from being received"
    );
    assert!(t.c().is_empty(), "and it is gone");
    fake.advance(Duration::from_secs(5));
    assert_eq!(t.c().try_recv(), Ok(later));
}

#[test]
fn after_func_at_runs_at_its_deadline_on_both_clocks() {
    let _serial = serial();
    let (tx, rx) = unbounded();
    let deadline = Instant::now() + Duration::from_millis(3);
    after_func_at(deadline, move || tx.send(Instant::now()).unwrap());
    assert!(rx.recv_timeout(PATIENCE).unwrap() >= deadline);

    let fake = FakeClock::new();
    let (clock, (tx, rx)) = (fake.clock(), unbounded());
    let deadline = fake.now() + Duration::from_secs(7);
    let c = clock.clone();
    let t = clock.after_func_at(deadline, move || tx.send(c.now()).unwrap());
    fake.advance(Duration::from_secs(6));
    assert!(rx.try_recv().is_err());
    fake.advance(Duration::from_secs(6));
    assert_eq!(
        rx.try_recv(),
        Ok(deadline),
        "it ran when the clock read its deadline"
    );
    assert!(!t.stop());
}

#[test]
fn ticker_at_aligns_to_its_start_and_skips_ticks_already_past() {
    let _serial = serial();
    let fake = FakeClock::new();
    let clock = fake.clock();
    let ms = Duration::from_millis;
    let t0 = fake.now();
    fake.advance(ms(2500));
    let ticker = clock.ticker_at(t0, ms(1000));
    assert!(ticker.c().try_recv().is_err(), "the past ticks are skipped");
    assert_eq!(fake.next_deadline(), Some(t0 + ms(3000)));
    fake.advance(ms(500));
    assert_eq!(ticker.c().try_recv(), Ok(t0 + ms(3000)));
    fake.advance(ms(1000));
    assert_eq!(
        ticker.c().try_recv(),
        Ok(t0 + ms(4000)),
        "phase-aligned to t0"
    );

    let on_a_tick = clock.ticker_at(fake.now() - ms(2000), ms(1000));
    assert_eq!(
        on_a_tick.c().try_recv(),
        Ok(fake.now()),
        "a tick due now comes at once"
    );

    let start = Instant::now() + ms(2);
    let ticker = Ticker::at(start, ms(3));
    let first = ticker.c().recv_timeout(PATIENCE).unwrap();
    let second = ticker.c().recv_timeout(PATIENCE).unwrap();
    assert_eq!(first, start);
    assert_eq!((second - start).as_nanos() % ms(3).as_nanos(), 0);
}

#[test]
fn ticker_at_with_a_zero_period_panics_with_its_own_name() {
    let _serial = serial();
    let err = std::panic::catch_unwind(|| Ticker::at(Instant::now(), Duration::ZERO)).unwrap_err();
    assert_eq!(
        err.downcast_ref::<&str>(),
        Some(&"non-positive interval for Ticker::at")
    );
}

// Item 7: a stopped after_func.

#[test]
fn a_stopped_after_func_runs_only_once_reset_on_both_clocks() {
    let _serial = serial();
    let (tx, rx) = unbounded();
    let t = after_func_stopped(move || tx.send(()).unwrap());
    assert!(!t.stop(), "nothing was pending");
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(20)),
        Err(RecvTimeoutError::Timeout)
    );
    assert!(!t.reset(Duration::from_millis(1)), "nothing was pending");
    assert!(rx.recv_timeout(PATIENCE).is_ok());

    let fake = FakeClock::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let t = fake.clock().after_func_stopped(move || {
        r.fetch_add(1, SeqCst);
    });
    assert_eq!(fake.waiters(), 0, "a stopped timer waits for nothing");
    fake.advance(HOUR);
    assert_eq!(runs.load(SeqCst), 0);
    t.reset(Duration::from_secs(1));
    assert!(t.reset(Duration::from_secs(1)), "pending now");
    fake.advance(Duration::from_secs(1));
    assert_eq!(runs.load(SeqCst), 1, "the overtaken schedule did not run");
}

// Item 6: a panicking callback is counted before its captures are dropped.

/// A capture that reports, as it is dropped, the panic count that `clock` shows at that moment.
struct Probe {
    clock: Clock,
    tx: gotimer::crossbeam_channel::Sender<usize>,
}

impl Drop for Probe {
    fn drop(&mut self) {
        let _ = self.tx.send(self.clock.stats().callback_panics);
    }
}

/// Starts a callback on `clock` that panics with `probe` captured; returns the count before.
fn panic_with_probe(clock: &Clock) -> (usize, gotimer::Receiver<usize>) {
    expected_panics::quiet();
    let (tx, rx) = unbounded();
    let probe = Probe {
        clock: clock.clone(),
        tx,
    };
    let before = clock.stats().callback_panics;
    clock.after_func(Duration::ZERO, move || {
        let _probe = &probe;
        panic!("first_hour: a callback that panics on purpose (expected by this test)");
    });
    (before, rx)
}

#[test]
fn a_panicking_callback_is_counted_before_its_captures_drop() {
    let _serial = serial();
    let (before, seen) = panic_with_probe(&Clock::system());
    let at_drop = seen.recv_timeout(PATIENCE).unwrap();
    assert_eq!(at_drop, before + 1, "counted before the captures dropped");
    assert!(
        stats().callback_panics > before,
        "a read right after sees it"
    );

    let fake = FakeClock::new();
    let (before, seen) = panic_with_probe(&fake.clock());
    fake.advance(Duration::ZERO);
    assert_eq!(seen.try_recv(), Ok(before + 1));
    assert_eq!(fake.clock().stats().callback_panics, before + 1);
}

#[test]
fn a_panicking_callback_is_counted_first_with_rust_backtrace_1() {
    // The same test, in a child process that prints a backtrace for every panic: the slow part of
    // the report comes before the count, and must not be mistaken for it.
    let _serial = serial();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_panicking_callback_is_counted_before_its_captures_drop",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("RUST_BACKTRACE", "1")
        .env("GOTIMER_TEST_SHOW_EXPECTED_PANICS", "1") // what this test reads
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    assert!(
        stderr.contains("stack backtrace"),
        "backtraces were on: {stderr}"
    );
    assert!(stderr.contains("gotimer: the after_func callback created at"));
}

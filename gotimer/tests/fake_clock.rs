//! `FakeClock` and `Clock`: one test per promise of the virtual-time design (issue 8), each on a fake
//! clock that only the test moves, so none of them waits on real time except where it checks that
//! real time changes nothing.

mod expected_panics;

use gotimer::{Clock, FakeClock, Timer};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const MS: Duration = Duration::from_millis(1);
const SEC: Duration = Duration::from_secs(1);
/// How long a test waits (in real time) for another thread to block on the fake clock.
const PATIENCE: Duration = Duration::from_secs(20);

/// A log of what callbacks saw, shared with them.
type Log<T> = Arc<Mutex<Vec<T>>>;

fn log<T>() -> Log<T> {
    Arc::new(Mutex::new(Vec::new()))
}

#[test]
fn free_functions_use_the_system_clock_unless_the_thread_entered_another() {
    assert!(!Clock::current().is_fake());
    assert_eq!(Clock::current(), Clock::system());
    let fake = FakeClock::new();
    let t = {
        let _guard = fake.clock().enter();
        assert_eq!(Clock::current(), fake.clock());
        Timer::new(SEC)
    };
    assert_eq!(fake.waiters(), 1, "Timer::new on the entered fake clock");
    let real = Timer::new(MS);
    real.c()
        .recv_timeout(PATIENCE)
        .expect("a system timer fires on real time");
    assert!(t.c().try_recv().is_err());
    fake.advance(SEC);
    assert_eq!(t.c().try_recv().unwrap(), fake.now());
}

#[test]
fn fake_time_stands_still_and_nothing_fires_on_real_time() {
    let fake = FakeClock::new();
    let clock = fake.clock();
    let t0 = fake.now();
    let t = clock.timer(Duration::from_nanos(1));
    let tk = clock.ticker(Duration::from_nanos(1));
    let after = clock.after(Duration::ZERO + Duration::from_nanos(1));
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let _f = clock.after_func(Duration::from_nanos(1), move || {
        r.fetch_add(1, SeqCst);
    });
    std::thread::sleep(20 * MS);
    assert_eq!(fake.now(), t0);
    assert!(t.c().try_recv().is_err() && tk.c().try_recv().is_err() && after.try_recv().is_err());
    assert_eq!(ran.load(SeqCst), 0);
    fake.advance(Duration::from_nanos(1));
    assert_eq!(ran.load(SeqCst), 1);
    assert_eq!(t.c().try_recv().unwrap(), t0 + Duration::from_nanos(1));
    assert_eq!(after.try_recv().unwrap(), t0 + Duration::from_nanos(1));
}

/// Deadlines within one tick of the wheel (1.024 µs) still fire in order, each at exactly its
/// nanosecond, and every callback reads its own deadline.
#[test]
fn advance_stops_at_every_deadline_to_the_nanosecond_in_order() {
    let fake = FakeClock::new();
    let clock = fake.clock();
    let t0 = fake.now();
    let seen: Log<(u64, Duration)> = log();
    let offsets = [1_500u64, 1_001, 1_000, 3_000_000, 1_023, 2_048, 999];
    for &ns in &offsets {
        let (c, seen) = (clock.clone(), seen.clone());
        clock.after_func(Duration::from_nanos(ns), move || {
            seen.lock().unwrap().push((ns, c.now() - t0));
        });
    }
    let timers: Vec<(u64, Timer)> = offsets
        .iter()
        .map(|&ns| (ns, clock.timer(Duration::from_nanos(ns))))
        .collect();
    fake.advance(Duration::from_millis(5));
    let mut sorted = offsets.to_vec();
    sorted.sort();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen.iter().map(|&(ns, _)| ns).collect::<Vec<_>>(),
        sorted,
        "callbacks in deadline order"
    );
    for (ns, at) in seen {
        assert_eq!(
            at,
            Duration::from_nanos(ns),
            "callback read its own deadline"
        );
    }
    for (ns, t) in timers {
        assert_eq!(t.c().try_recv().unwrap(), t0 + Duration::from_nanos(ns));
    }
    assert_eq!(fake.now(), t0 + Duration::from_millis(5));
}

#[test]
fn tickers_are_phase_aligned_and_drop_ticks_not_taken() {
    let fake = FakeClock::new();
    let t0 = fake.now();
    let tk = fake.clock().ticker(3 * MS);
    fake.advance(MS);
    assert!(tk.c().try_recv().is_err());
    fake.advance(2 * MS);
    assert_eq!(tk.c().try_recv().unwrap(), t0 + 3 * MS);
    // Ten periods with nobody receiving: one tick waits (the first), the rest were dropped.
    fake.advance(30 * MS);
    assert_eq!(tk.c().try_recv().unwrap(), t0 + 6 * MS);
    assert!(tk.c().try_recv().is_err());
    fake.advance(MS);
    assert!(
        tk.c().try_recv().is_err(),
        "next tick is at 36 ms, on the phase"
    );
    fake.advance(2 * MS);
    assert_eq!(tk.c().try_recv().unwrap(), t0 + 36 * MS);
    // Reset: a new phase from now; no tick of the old one is received after it.
    fake.advance(2 * MS); // 38 ms
    tk.reset(5 * MS);
    fake.advance(4 * MS); // 42 ms: the old phase's 39 ms tick is gone
    assert!(tk.c().try_recv().is_err());
    fake.advance(MS);
    assert_eq!(tk.c().try_recv().unwrap(), t0 + 43 * MS);
    tk.stop();
    fake.advance(SEC);
    assert!(tk.c().try_recv().is_err());
}

/// Go 1.23's stop/reset results and no stale value, on the fake clock.
#[test]
fn stop_and_reset_keep_go_1_23_results() {
    let fake = FakeClock::new();
    let clock = fake.clock();
    let t = clock.timer(SEC);
    assert!(t.stop(), "pending");
    assert!(!t.stop(), "already stopped");
    assert!(!t.reset(SEC), "stopped: nothing kept from being received");
    fake.advance(SEC);
    assert!(t.stop(), "fired, value unreceived: stop discards it");
    assert!(t.c().try_recv().is_err(), "no stale value after stop");
    assert!(!t.reset(SEC));
    fake.advance(SEC);
    assert!(t.reset(2 * SEC), "fired, unreceived: reset discards it");
    assert!(t.c().try_recv().is_err(), "no stale value after reset");
    fake.advance(SEC);
    assert!(t.c().try_recv().is_err());
    fake.advance(SEC);
    assert_eq!(t.c().try_recv().unwrap(), fake.now());
    assert!(!t.stop(), "received");
    // A reset to a later deadline while pending moves it (on the system clock this is the
    // lock-free path), and the fake clock reports and fires the new deadline exactly.
    let start = fake.now();
    let idle = clock.timer(10 * SEC);
    for _ in 0..5 {
        fake.advance(SEC);
        assert!(idle.reset(10 * SEC));
    }
    assert_eq!(fake.next_deadline(), Some(start + 15 * SEC));
    assert_eq!(fake.advance_to_next(), Some(10 * SEC));
    assert_eq!(idle.c().try_recv().unwrap(), start + 15 * SEC);
    // reset(0) delivers before it returns.
    assert!(!idle.reset(Duration::ZERO));
    assert_eq!(idle.c().try_recv().unwrap(), fake.now());
}

/// Callbacks due at one step run before time moves past it; timers and callbacks they create up to
/// the target fire in the same advance; a callback due later starts after earlier ones returned.
#[test]
fn callbacks_chain_within_one_advance_in_order() {
    let fake = FakeClock::new();
    let clock = fake.clock();
    let t0 = fake.now();
    let seen: Log<(&'static str, Duration)> = log();
    let running = Arc::new(AtomicUsize::new(0));
    // A chain: each link schedules the next 10 ms later, five links; plus a ZERO callback made
    // inside the first link, and a channel timer made in the second link.
    fn link(
        clock: Clock,
        t0: Instant,
        seen: Log<(&'static str, Duration)>,
        n: u32,
        running: Arc<AtomicUsize>,
    ) {
        let c = clock.clone();
        clock.after_func(10 * MS, move || {
            assert_eq!(running.fetch_add(1, SeqCst), 0, "callbacks overlap");
            seen.lock().unwrap().push(("link", c.now() - t0));
            if n == 0 {
                let (s, c2) = (seen.clone(), c.clone());
                c.after_func(Duration::ZERO, move || {
                    s.lock().unwrap().push(("zero", c2.now() - t0))
                });
            }
            if n == 1 {
                let t = c.timer(5 * MS);
                let s = seen.clone();
                let c2 = c.clone();
                c.after_func(6 * MS, move || {
                    assert!(
                        t.c().try_recv().is_ok(),
                        "the timer made at 20 ms fired at 25 ms"
                    );
                    s.lock().unwrap().push(("checked", c2.now() - t0));
                });
            }
            if n < 4 {
                link(c.clone(), t0, seen.clone(), n + 1, running.clone());
            }
            running.fetch_sub(1, SeqCst);
        });
    }
    link(clock.clone(), t0, seen.clone(), 0, running.clone());
    fake.advance(100 * MS);
    let seen = seen.lock().unwrap().clone();
    let ms = |n| n * MS;
    assert_eq!(
        seen,
        vec![
            ("link", ms(10)),
            ("zero", ms(10)),
            ("link", ms(20)),
            ("checked", ms(26)),
            ("link", ms(30)),
            ("link", ms(40)),
            ("link", ms(50)),
        ]
    );
    assert_eq!(fake.waiters(), 0);
}

/// `advance` returns only after the callbacks due at once, made before it or during it, returned.
#[test]
fn after_func_zero_runs_in_the_next_advance_and_advance_waits_for_it() {
    let fake = FakeClock::new();
    let clock = fake.clock();
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    clock.after_func(Duration::ZERO, move || {
        std::thread::sleep(20 * MS); // a slow callback: advance must still wait for it
        r.fetch_add(1, SeqCst);
    });
    assert_eq!(ran.load(SeqCst), 0, "callbacks run only inside an advance");
    assert_eq!(fake.waiters(), 0, "it is due, not waiting");
    fake.advance(Duration::ZERO);
    assert_eq!(ran.load(SeqCst), 1);
    // Made by another thread while an advance runs, and due within it.
    let (c, r) = (clock.clone(), ran.clone());
    clock.after_func(5 * MS, move || {
        let r = r.clone();
        let other = {
            let c = c.clone();
            std::thread::spawn(move || {
                c.after_func(Duration::ZERO, move || {
                    r.fetch_add(10, SeqCst);
                });
            })
        };
        other.join().unwrap();
    });
    fake.advance(10 * MS);
    assert_eq!(ran.load(SeqCst), 11);
}

#[test]
fn a_panicking_callback_is_counted_and_the_advance_goes_on() {
    expected_panics::quiet();
    let fake = FakeClock::new();
    let clock = fake.clock();
    let ran = Arc::new(AtomicUsize::new(0));
    for i in 0..3 {
        let r = ran.clone();
        clock.after_func((i + 1) * MS, move || {
            if i == 1 {
                panic!("callback {i} panics (expected by this test)");
            }
            r.fetch_add(1, SeqCst);
        });
    }
    fake.advance(SEC);
    assert_eq!(ran.load(SeqCst), 2);
    assert_eq!(clock.stats().callback_panics, 1);
    assert_eq!(fake.now() - (fake.now() - SEC), SEC);
}

/// A callback that advances or sleeps on its own clock would deadlock: it panics instead (caught
/// and counted like any callback panic), and the outer advance finishes.
#[test]
fn advancing_or_sleeping_from_an_own_callback_panics_instead_of_hanging() {
    const ADVANCE: &str = "FakeClock::advance called from a callback of the same fake clock";
    const SLEEP: &str = "Clock::sleep on a fake clock from one of its own callbacks";
    expected_panics::quiet_also(&[ADVANCE, SLEEP]);
    let fake = FakeClock::new();
    let f2 = fake.clone();
    fake.clock().after_func(MS, move || f2.advance(MS));
    let c = fake.clock();
    fake.clock().after_func(2 * MS, move || c.sleep(MS));
    fake.advance(SEC);
    assert_eq!(fake.clock().stats().callback_panics, 2);
    let reports = expected_panics::reports();
    if !reports.is_empty() {
        // Reported with the panic's message (unless shown on stderr instead).
        for part in [ADVANCE, SLEEP] {
            assert!(
                reports.iter().any(|r| r.message.contains(part)),
                "{reports:?}"
            );
        }
    }
    // From a callback of *another* fake clock it is fine.
    let other = FakeClock::new();
    let t = other.clock().timer(MS);
    let o = other.clone();
    fake.clock().after_func(MS, move || o.advance(MS));
    fake.advance(MS);
    assert!(t.c().try_recv().is_ok());
}

#[test]
fn sleep_blocks_until_the_clock_reaches_its_deadline() {
    let fake = FakeClock::new();
    let clock = fake.clock();
    let t0 = fake.now();
    let woke = Arc::new(Mutex::new(None));
    let w = woke.clone();
    let sleeper = std::thread::spawn(move || {
        clock.sleep(90 * SEC);
        *w.lock().unwrap() = Some(clock.now());
    });
    assert!(fake.wait_for_waiters(1, PATIENCE));
    fake.advance(89 * SEC);
    std::thread::sleep(10 * MS);
    assert!(woke.lock().unwrap().is_none(), "woke before its deadline");
    fake.advance(SEC);
    sleeper.join().unwrap();
    assert_eq!(*woke.lock().unwrap(), Some(t0 + 90 * SEC));
    fake.clock().sleep(Duration::ZERO); // returns at once
}

/// `waiters` counts timers with a deadline, each sleeping thread once; `wait_for_waiters` wakes as
/// they come and times out in real time.
#[test]
fn waiters_count_pending_timers_and_sleepers() {
    let fake = FakeClock::new();
    let clock = fake.clock();
    assert_eq!(fake.waiters(), 0);
    let started = Instant::now();
    assert!(!fake.wait_for_waiters(1, 30 * MS));
    assert!(started.elapsed() >= 30 * MS);
    let t = clock.timer(SEC);
    let tk = clock.ticker(SEC);
    let _rx = clock.after(SEC);
    let _tick = clock.tick(SEC);
    let f = clock.after_func(SEC, || {});
    let _never = clock.timer(Duration::MAX);
    assert_eq!(fake.waiters(), 5, "Duration::MAX is not counted");
    let sleepers: Vec<_> = (0..3)
        .map(|_| {
            let c = clock.clone();
            std::thread::spawn(move || c.sleep(SEC))
        })
        .collect();
    assert!(fake.wait_for_waiters(8, PATIENCE));
    assert_eq!(fake.waiters(), 8);
    t.stop();
    tk.stop();
    f.stop();
    assert_eq!(fake.waiters(), 5);
    fake.advance(SEC);
    for s in sleepers {
        s.join().unwrap();
    }
    assert_eq!(fake.waiters(), 1, "the tick is pending again, for 2 s");
}

/// Fake clocks are independent: advancing one moves no other and fires no system timer, from
/// threads running at once.
#[test]
fn fake_clocks_are_independent_of_each_other_and_of_the_system_clock() {
    let results: Vec<_> = (0..4u32)
        .map(|i| {
            std::thread::spawn(move || {
                let fake = FakeClock::new();
                let t0 = fake.now();
                let t = fake.clock().timer(Duration::from_secs(u64::from(i) + 1));
                let real = Timer::new(Duration::from_secs(3600));
                for _ in 0..1000 {
                    fake.advance(MS);
                }
                assert!(real.c().try_recv().is_err());
                (i, fake.now() - t0, t.c().try_recv().is_ok())
            })
        })
        .collect();
    for r in results {
        let (i, moved, fired) = r.join().unwrap();
        assert_eq!(moved, SEC);
        assert_eq!(fired, i == 0, "clock {i}");
    }
}

/// When the last handle of a fake clock goes, what is pending on it is freed: callbacks that never
/// ran are dropped unrun, and leftover receivers disconnect.
#[test]
fn dropping_the_last_handle_frees_what_is_pending() {
    struct Flag(Arc<AtomicUsize>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }
    let dropped = Arc::new(AtomicUsize::new(0));
    let fake = FakeClock::new();
    let clock = fake.clock();
    let flag = Flag(dropped.clone());
    clock.after_func(SEC, move || {
        let _keep = &flag;
        unreachable!("never advanced");
    });
    let after = clock.after(SEC);
    let tick = clock.tick(SEC);
    let timer = clock.timer(SEC);
    drop((fake, clock));
    assert_eq!(dropped.load(SeqCst), 0, "a Timer still holds the clock");
    assert!(after.try_recv().is_err());
    drop(timer);
    assert_eq!(
        dropped.load(SeqCst),
        1,
        "the callback's captures were dropped unrun"
    );
    assert_eq!(after.recv(), Err(crossbeam_channel::RecvError));
    assert_eq!(tick.recv(), Err(crossbeam_channel::RecvError));
}

#[test]
fn entered_clocks_nest_and_do_not_reach_other_threads() {
    let (a, b) = (FakeClock::new(), FakeClock::new());
    assert!(!Clock::current().is_fake());
    {
        let _ga = a.clock().enter();
        assert_eq!(Clock::current(), a.clock());
        {
            let _gb = b.clock().enter();
            assert_eq!(Clock::current(), b.clock());
            let _t = Timer::new(SEC);
            assert_eq!((a.waiters(), b.waiters()), (0, 1));
            // A spawned thread starts on the system clock.
            std::thread::spawn(|| assert!(!Clock::current().is_fake()))
                .join()
                .unwrap();
        }
        assert_eq!(Clock::current(), a.clock(), "dropping b's guard restores a");
    }
    assert_eq!(Clock::current(), Clock::system());
}

#[test]
fn guards_dropped_out_of_order_panic() {
    let (a, b) = (FakeClock::new(), FakeClock::new());
    let ga = a.clock().enter();
    let gb = b.clock().enter();
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(ga))).unwrap_err();
    let msg = err.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(msg.contains("out of order"), "{msg}");
    drop(gb);
}

/// Dropping a `Timer` or `Ticker` frees it at once on a fake clock too.
#[test]
fn dropped_timers_and_tickers_leave_the_fake_clock_at_once() {
    let fake = FakeClock::new();
    let t = fake.clock().timer(SEC);
    let tk = fake.clock().ticker(SEC);
    assert_eq!(fake.waiters(), 2);
    drop((t, tk));
    assert_eq!(fake.waiters(), 0);
    assert_eq!(fake.next_deadline(), None);
}

/// The same scenario gives the same sequence of deliveries and callback runs every time.
#[test]
fn the_same_test_gives_the_same_sequence_every_time() {
    fn run() -> Vec<(String, Duration)> {
        let fake = FakeClock::new();
        let clock = fake.clock();
        let t0 = fake.now();
        let seen = log();
        for i in 0..50u64 {
            let (c, s) = (clock.clone(), seen.clone());
            // Many equal deadlines, to pin their order too.
            clock.after_func(Duration::from_millis(i % 7), move || {
                s.lock().unwrap().push((format!("f{i}"), c.now() - t0));
            });
        }
        let tk = clock.ticker(3 * MS);
        let t = clock.timer(4 * MS);
        for _ in 0..10 {
            fake.advance(MS);
            if let Ok(v) = tk.c().try_recv() {
                seen.lock().unwrap().push(("tick".into(), v - t0));
            }
            if let Ok(v) = t.c().try_recv() {
                seen.lock().unwrap().push(("timer".into(), v - t0));
                t.reset(2 * MS);
            }
        }
        let v = seen.lock().unwrap().clone();
        v
    }
    let first = run();
    assert_eq!(
        first.len(),
        50 + 3 + 4,
        "ticks at 3, 6, 9 ms; the timer at 4, 6, 8, 10 ms"
    );
    for _ in 0..5 {
        assert_eq!(run(), first);
    }
}

/// Fake clocks' timers are counted in the profile at their call sites.
#[cfg(feature = "profile")]
#[test]
fn fake_timers_show_up_in_the_profile_at_their_call_sites() {
    let fake = FakeClock::new();
    let line = line!() + 1;
    let timers: Vec<Timer> = (0..3).map(|_| fake.clock().timer(SEC)).collect();
    let site = gotimer::profile::snapshot()
        .into_iter()
        .find(|s| s.file == file!() && s.line == line)
        .expect("the fake clock's call site is in the profile");
    assert_eq!(site.kind, gotimer::profile::Kind::Timer);
    assert!(site.live >= 3);
    drop(timers);
}

/// A fake clock's `after` (and `at`) channel, once its value is taken, stays connected and empty,
/// as Go's channel and the system clock's `after` do: a `select!` that keeps the receiver takes
/// `default`, and `recv` blocks. Only dropping the clock disconnects it.
#[test]
fn a_fake_after_channel_stays_empty_not_disconnected_once_its_value_is_taken() {
    use crossbeam_channel::{select, RecvTimeoutError, TryRecvError};
    let fake = FakeClock::new();
    let clock = fake.clock();
    let start = fake.now();
    let rx = clock.after(MS);
    let at = clock.at(start + 2 * MS);
    let now = clock.after(Duration::ZERO); // delivered at creation
    let past = clock.at(start); // likewise
    fake.advance(MS);
    assert_eq!(rx.try_recv(), Ok(start + MS), "as in Go");
    select! {
        recv(rx) -> v => panic!("Go takes the default; got {v:?}"),
        default => {}
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(rx.recv_timeout(MS), Err(RecvTimeoutError::Timeout));
    fake.advance(MS);
    for (name, rx, v) in [
        ("at", &at, start + 2 * MS),
        ("after(0)", &now, start),
        ("at(past)", &past, start),
    ] {
        assert_eq!(rx.try_recv(), Ok(v), "{name}");
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "{name}");
    }

    // Taken on another thread (blocked on it, or not yet) while this one advances: still connected
    // afterwards.
    let rx = clock.after(SEC);
    let waiter = std::thread::spawn(move || {
        let v = rx.recv().expect("delivered");
        (v, rx.recv_timeout(MS))
    });
    assert!(fake.wait_for_waiters(1, PATIENCE));
    fake.advance(SEC);
    let (v, again) = waiter.join().unwrap();
    assert_eq!(v, fake.now());
    assert_eq!(
        again,
        Err(RecvTimeoutError::Timeout),
        "empty, not disconnected"
    );

    // The clock's last handle going is what disconnects them.
    let rx = clock.after(MS);
    fake.advance(MS);
    assert!(rx.try_recv().is_ok());
    drop((fake, clock));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

//! The callback queue past `MAX_WORKERS`: how much memory a callback waiting there holds, and that
//! every one of them still runs once workers free up.
//!
//! The queue is unbounded, but it holds only callbacks whose timers fired: a slot of crossbeam's
//! list channel each (the 16-byte entry pointer and a state word), while the fired timer's wheel
//! node (32 bytes) is freed. So its length is bounded by the `after_func` timers the program made
//! (and re-armed) and not run yet, and a queued callback holds no more than it did while pending.
//! This test measures it: it blocks `MAX_WORKERS` callbacks, fires 100,000 more, and reads the heap
//! (counting allocator) while they wait. It starts 4,096 threads, so it is ignored by default:
//!
//! ```text
//! cargo test -p gotimer --release --test pool_queue -- --ignored --nocapture
//! ```

#![cfg(feature = "profile")]

mod common;

use common::counting::{live, Counting};
use gotimer::{after_func, stats, MAX_WORKERS};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOC: Counting = Counting;

const QUEUED: usize = 100_000;

/// Polls `done` every 10 ms for up to `limit`.
fn wait_until(limit: Duration, what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
#[ignore = "starts MAX_WORKERS (4,096) callback threads"]
fn callbacks_queued_past_max_workers_hold_little_and_all_run() {
    let gate = Arc::new((Mutex::new(false), Condvar::new()));
    let blocked = Arc::new(AtomicUsize::new(0));
    for _ in 0..MAX_WORKERS {
        let (gate, blocked) = (gate.clone(), blocked.clone());
        after_func(Duration::ZERO, move || {
            blocked.fetch_add(1, SeqCst);
            let (open, cv) = &*gate;
            let mut open = open.lock().unwrap();
            while !*open {
                open = cv.wait(open).unwrap();
            }
        });
    }
    wait_until(Duration::from_secs(120), "every worker blocked", || {
        blocked.load(SeqCst) == MAX_WORKERS
    });
    assert_eq!(stats().callback_threads, MAX_WORKERS);

    let ran = Arc::new(AtomicUsize::new(0));
    let before = live();
    let site_line = line!() + 3;
    for _ in 0..QUEUED {
        let ran = ran.clone();
        after_func(Duration::ZERO, move || {
            ran.fetch_add(1, SeqCst);
        });
    }
    wait_until(Duration::from_secs(60), "the callbacks to fire", || {
        stats().pending == 0
    });
    let queued = live() - before;
    let per = queued as f64 / QUEUED as f64;
    // The profile's figure for the same timers while they were pending: entry, closure, wheel node.
    let site = gotimer::profile::snapshot()
        .into_iter()
        .find(|s| s.line == site_line && s.file.ends_with("pool_queue.rs"))
        .expect("the queued callbacks' site");
    let pending = site.live_bytes as f64 / site.live as f64;
    println!(
        "{QUEUED} callbacks queued past {MAX_WORKERS} busy workers: {per:.1} heap bytes each \
         (entry, closure and queue slot); the profile's estimate while pending: {pending:.1}"
    );
    assert_eq!(ran.load(SeqCst), 0, "none ran while every worker was busy");
    assert!(
        per <= pending,
        "a queued callback holds {per:.1} bytes, more than pending"
    );

    *gate.0.lock().unwrap() = true;
    gate.1.notify_all();
    wait_until(
        Duration::from_secs(120),
        "every queued callback to run",
        || ran.load(SeqCst) == QUEUED,
    );
    println!("all {QUEUED} ran once the workers were free");
}

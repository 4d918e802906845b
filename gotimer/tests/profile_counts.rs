//! The per-site counters stay exact with more threads than owned stripes, and across thread exits
//! that hand stripes to new threads.

#![cfg(feature = "profile")]

use std::time::Duration;

#[test]
fn counts_are_exact_across_many_threads_and_thread_exits() {
    const PER_THREAD: u64 = 500;
    let make = || {
        for _ in 0..PER_THREAD {
            // One call site for every thread.
            let t = gotimer::Timer::new(Duration::from_secs(3600));
            drop(t);
        }
    };
    // 24 at once (more than the 16 stripes a thread can own), then 3 waves of 8 that each reuse the
    // stripes the previous wave gave back on exit.
    let wide: Vec<_> = (0..24).map(|_| std::thread::spawn(make)).collect();
    wide.into_iter().for_each(|h| h.join().unwrap());
    for _ in 0..3 {
        let wave: Vec<_> = (0..8).map(|_| std::thread::spawn(make)).collect();
        wave.into_iter().for_each(|h| h.join().unwrap());
    }
    let site = gotimer::profile::snapshot()
        .into_iter()
        .find(|s| s.file.ends_with("profile_counts.rs"))
        .expect("the site is in the profile");
    assert_eq!(site.created, 48 * PER_THREAD);
    assert_eq!(site.live, 0);
    assert_eq!(site.live_bytes, 0);
}

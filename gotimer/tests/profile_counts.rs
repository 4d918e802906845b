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
        .find(|s| s.file.ends_with("profile_counts.rs") && s.kind == gotimer::profile::Kind::Timer)
        .expect("the site is in the profile");
    assert_eq!(site.created, 48 * PER_THREAD);
    assert_eq!(site.live, 0);
    assert_eq!(site.live_bytes, 0);
}

/// A thread keeps its dropped sleeps' entries for its next sleeps (`runtime/spare.rs`): each is
/// counted freed as it is dropped, counted at its new site when it is reused, and counted nothing
/// more when the thread exits and frees what it kept.
#[test]
fn reused_sleep_entries_count_at_their_new_site_and_once_freed() {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Waker};
    const PER_THREAD: u64 = 300;
    let make = || {
        let mut cx = Context::from_waker(Waker::noop());
        let mut kept = Vec::new();
        for i in 0..PER_THREAD {
            // Two sites, taking turns with each other's spares; every third sleep stays pending
            // until the thread ends.
            let mut s = if i % 2 == 0 {
                gotimer::future::sleep(Duration::from_secs(3600))
            } else {
                gotimer::future::sleep(Duration::from_secs(7200))
            };
            assert!(Pin::new(&mut s).poll(&mut cx).is_pending());
            if i % 3 == 0 {
                kept.push(s);
            }
        }
        kept
    };
    let threads: Vec<_> = (0..4).map(|_| std::thread::spawn(make)).collect();
    let kept: Vec<_> = threads
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let sites: Vec<_> = gotimer::profile::snapshot()
        .into_iter()
        .filter(|s| {
            s.file.ends_with("profile_counts.rs") && s.kind == gotimer::profile::Kind::Sleep
        })
        .collect();
    assert_eq!(sites.len(), 2, "{sites:?}");
    assert_eq!(sites.iter().map(|s| s.created).sum::<u64>(), 4 * PER_THREAD);
    // Sleeps 0, 3, 6, ...: 100 per thread, half at each site.
    assert_eq!(
        sites.iter().map(|s| s.live).sum::<u64>(),
        4 * PER_THREAD / 3
    );
    for s in &sites {
        assert_eq!(s.live, 4 * PER_THREAD / 6, "{s:?}");
    }
    drop(kept);
    let after: Vec<_> = gotimer::profile::snapshot()
        .into_iter()
        .filter(|s| {
            s.file.ends_with("profile_counts.rs") && s.kind == gotimer::profile::Kind::Sleep
        })
        .collect();
    assert!(
        after.iter().all(|s| s.live == 0 && s.live_bytes == 0),
        "{after:?}"
    );
}

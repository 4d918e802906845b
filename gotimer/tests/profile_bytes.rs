//! The profile's byte figures against a counting allocator, per state: a `Timer` or `Ticker` that
//! nobody has called `c()` on is parked (its entry alone), one that has been waited on is armed (its
//! channel and wheel node too). The profile must show what the allocator measures in each state.
//!
//! One test function on purpose: the allocator counts every thread of this binary.

#![cfg(feature = "profile")]

mod common;

use common::counting::{live, Counting};
use gotimer::profile::{Kind, Site};
use std::time::Duration;

#[global_allocator]
static ALLOC: Counting = Counting;

const N: usize = 20_000;
const HOUR: Duration = Duration::from_secs(3600);

/// Average bytes per item that `make` keeps, with `N` kept at once (the items' own `size_of` is not
/// counted: they live in a vector allocated beforehand), and the items.
fn measure<T>(make: impl Fn() -> T) -> (f64, Vec<T>) {
    let mut keep = Vec::with_capacity(N);
    let before = live();
    for _ in 0..N {
        keep.push(make());
    }
    let after = live();
    ((after - before) as f64 / N as f64, keep)
}

/// The site of this file with `N` live timers of `kind`, and its bytes per timer.
fn per_timer(kind: Kind) -> (Site, f64) {
    let found: Vec<Site> = gotimer::profile::snapshot()
        .into_iter()
        .filter(|s| s.file == file!() && s.kind == kind && s.live == N as u64)
        .collect();
    assert_eq!(found.len(), 1, "{kind:?}: {found:?}");
    let s = found[0].clone();
    let each = s.live_bytes as f64 / N as f64;
    (s, each)
}

fn assert_close(what: &str, profile: f64, allocator: f64) {
    println!("{what}: profile {profile:.1} B, allocator {allocator:.1} B");
    assert!(
        (profile - allocator).abs() <= 8.0,
        "{what}: the profile says {profile:.1} B, the allocator measures {allocator:.1} B"
    );
}

#[test]
fn each_byte_figure_is_what_the_allocator_measures_in_that_state() {
    // Warm up: runtime, driver, this thread's shard and its spare page, the site registry.
    drop(gotimer::Timer::new(HOUR));
    assert!(gotimer::after_func(HOUR, || {}).stop());

    // Parked: made, never waited on.
    let (alloc, tickers) = measure(|| gotimer::Ticker::new(HOUR));
    let (_, profile) = per_timer(Kind::Ticker);
    assert_close("parked Ticker", profile, alloc);
    assert!(alloc <= 96.0, "a parked Ticker is its entry alone: {alloc}");

    // The same tickers armed, one by one: the site's figure moves to the armed size.
    let before = live();
    for t in &tickers {
        let _ = t.c();
    }
    let armed_extra = (live() - before) as f64 / N as f64;
    let (_, profile_armed) = per_timer(Kind::Ticker);
    assert_close("armed Ticker", profile_armed, alloc + armed_extra);
    assert!(
        armed_extra > 600.0,
        "arming makes the channel: {armed_extra}"
    );
    drop(tickers);

    let (alloc, timers) = measure(|| gotimer::Timer::new(HOUR));
    let (_, profile) = per_timer(Kind::Timer);
    assert_close("parked Timer", profile, alloc);
    drop(timers);

    let (alloc, timers) = measure(|| {
        let t = gotimer::Timer::new(HOUR);
        let _ = t.c();
        t
    });
    let (_, profile) = per_timer(Kind::Timer);
    assert_close("armed Timer", profile, alloc);

    // Half of them stopped: a stopped timer still holds its entry and channel, and the wheel keeps
    // its node's slot in the slab, so the allocator sees the same bytes, and so does the profile.
    let before = live();
    for t in timers.iter().step_by(2) {
        assert!(t.stop());
    }
    assert_eq!(live(), before, "stopping frees nothing");
    let (_, after_stop) = per_timer(Kind::Timer);
    assert_close("armed Timer, half stopped", after_stop, alloc);
    drop(timers);

    let (alloc, funcs) = measure(|| gotimer::after_func(HOUR, || {}));
    // The handles (`Timer`) live in the vector allocated beforehand.
    let (_, profile) = per_timer(Kind::AfterFunc);
    assert_close("after_func", profile, alloc);
    funcs.iter().for_each(|f| assert!(f.stop()));
    drop(funcs);
}

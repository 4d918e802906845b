//! Bytes per pending timer, measured with a counting allocator, and the profile's estimate of them.
//!
//! One test function on purpose: the allocator counts every thread of this binary, so the
//! measurements must not overlap with other tests.

mod common;

use common::counting::{live, Counting};
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOC: Counting = Counting;

const N: usize = 200_000;
const HOUR: Duration = Duration::from_secs(3600);

/// Average live bytes per item that `make` keeps, with `N` items kept at once (the items' own
/// `size_of` is not counted: they live in a vector allocated beforehand).
fn per_item<T>(make: impl Fn() -> T) -> f64 {
    let mut keep = Vec::with_capacity(N);
    let before = live();
    for _ in 0..N {
        keep.push(make());
    }
    let after = live();
    drop(keep);
    (after - before) as f64 / N as f64
}

#[test]
fn bytes_per_pending_timer() {
    // Warm up: runtime, driver, this thread's shard and its spare page, site registry.
    drop(gotimer::Timer::new(HOUR));
    assert!(gotimer::after_func(HOUR, || {}).stop());

    let channel = per_item(|| crossbeam_channel::bounded::<Instant>(1));
    // A channel timer nobody has asked the channel of is parked: its entry alone. Asking for it
    // (`c()`) makes the channel and files the timer in the wheel.
    let timer_parked = per_item(|| gotimer::Timer::new(HOUR));
    let ticker_parked = per_item(|| gotimer::Ticker::new(HOUR));
    let timer = per_item(|| {
        let t = gotimer::Timer::new(HOUR);
        let _ = t.c();
        t
    });
    let ticker = per_item(|| {
        let t = gotimer::Ticker::new(HOUR);
        let _ = t.c();
        t
    });
    let after = per_item(|| gotimer::after(HOUR));

    // `after_func` handles are dropped: the pending callback alone must cost at most 64 bytes.
    let before = live();
    let timers: Vec<gotimer::Timer> = (0..N).map(|_| gotimer::after_func(HOUR, || {})).collect();
    let with_handles = live();
    let handles_bytes = N * std::mem::size_of::<gotimer::Timer>();
    for t in &timers {
        assert!(t.stop());
    }
    drop(timers);
    let after_func = (with_handles - before - handles_bytes as isize) as f64 / N as f64;

    // A closure that captures 24 bytes costs 24 more.
    let big = [1u64, 2, 3];
    let before = live();
    let timers: Vec<gotimer::Timer> = (0..N)
        .map(|_| {
            gotimer::after_func(HOUR, move || {
                std::hint::black_box(big);
            })
        })
        .collect();
    let with_closure = (live() - before - handles_bytes as isize) as f64 / N as f64;
    timers.iter().for_each(|t| assert!(t.stop()));
    drop(timers);

    println!("crossbeam bounded::<Instant>(1): {channel:.1} B");
    println!("Timer (pending, c() not called): {timer_parked:.1} B");
    println!("Ticker (pending, c() not called):{ticker_parked:.1} B");
    println!("Timer (pending, c() called):     {timer:.1} B");
    println!("Ticker (pending, c() called):    {ticker:.1} B");
    println!("after_func (pending):            {after_func:.1} B + closure");
    println!("after_func, 24-byte closure:     {with_closure:.1} B");
    println!("after (receiver held):           {after:.1} B");

    assert!(
        (channel - 664.0).abs() < 0.5,
        "BOUNDED_CHANNEL_BYTES in runtime/kinds/chan.rs must match crossbeam: {channel}"
    );
    assert!(
        after_func <= 64.0,
        "after_func costs {after_func} B, budget 64"
    );
    assert!(
        (with_closure - after_func - 24.0).abs() < 1.0,
        "{with_closure} vs {after_func}"
    );
    assert!(timer < channel + 140.0, "Timer costs {timer} B");
    assert!(ticker < channel + 150.0, "Ticker costs {ticker} B");
    assert!(
        timer_parked <= 96.0,
        "a parked Timer costs {timer_parked} B"
    );
    assert!(
        ticker_parked <= 96.0,
        "a parked Ticker costs {ticker_parked} B"
    );

    // Dropped `after` receivers retain nothing, and nothing else was left behind.
    let before = live();
    for _ in 0..N {
        drop(gotimer::after(HOUR));
    }
    assert!(live() - before <= 0);
    assert_eq!(gotimer::stats().pending, 0);

    #[cfg(feature = "profile")]
    profile_estimates_match_the_allocator(timer, after_func);
}

/// The profile's `live_bytes` per timer, against the allocator's figures measured above.
#[cfg(feature = "profile")]
fn profile_estimates_match_the_allocator(timer: f64, after_func: f64) {
    use gotimer::profile::Kind;
    // Waited on (`c()`): in the wheel, with its channel, which the site's estimate counts.
    let timers: Vec<_> = (0..1000)
        .map(|_| {
            let t = gotimer::Timer::new(HOUR);
            let _ = t.c();
            t
        })
        .collect();
    let funcs: Vec<_> = (0..1000)
        .map(|_| gotimer::after_func(HOUR, || {}))
        .collect();
    let snapshot = gotimer::profile::snapshot();
    // The only sites of this file with 1000 live timers are the two lines above.
    let site = |kind: Kind| {
        let found: Vec<_> = snapshot
            .iter()
            .filter(|s| s.kind == kind && s.live == 1000 && s.file.ends_with("memory.rs"))
            .collect();
        assert_eq!(found.len(), 1, "{kind:?}: {found:?}");
        found[0].clone()
    };
    let (t, f) = (site(Kind::Timer), site(Kind::AfterFunc));
    assert!(t.earliest.is_some() && t.latest >= t.earliest);
    let each_timer = t.live_bytes as f64 / 1000.0;
    let each_func = f.live_bytes as f64 / 1000.0;
    println!("profile estimate: Timer {each_timer} B, after_func {each_func} B");
    // `per_item` keeps handles in a vector allocated beforehand: neither figure counts them.
    assert!(
        (each_timer - timer).abs() < 8.0,
        "Timer {each_timer} vs {timer}"
    );
    assert!(
        (each_func - after_func).abs() < 4.0,
        "after_func {each_func} vs {after_func}"
    );
    drop((timers, funcs));
}

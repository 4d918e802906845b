//! Call chains in the profile: `after_func` made through one helper (no `#[track_caller]`) from two
//! callers, 1000 and 300 times, shows both callers above the helper's line, with cumulative counts
//! in that ratio, in the written profile and in `go tool pprof -top -cum` and `-traces` of every Go
//! toolchain found. The site's own count stays exact.
//!
//! Its own test binary: the chains are sampled at the default rate, which no other test here
//! changes.

#![cfg(feature = "profile")]

mod pprof_common;

use gotimer::profile::pprof::Profile;
use gotimer::Timer;
use pprof_common::*;
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);

/// The helper: the call site every timer of this test shares.
#[inline(never)]
fn helper() -> Timer {
    gotimer::after_func(HOUR, || {})
}

#[inline(never)]
fn caller_a(n: usize) -> Vec<Timer> {
    (0..n).map(|_| std::hint::black_box(helper())).collect()
}

#[inline(never)]
fn caller_b(n: usize) -> Vec<Timer> {
    (0..n).map(|_| std::hint::black_box(helper())).collect()
}

fn string(p: &Profile, i: i64) -> &str {
    &p.string_table[usize::try_from(i).unwrap()]
}

/// The summed count of the samples whose stack holds a frame of a function whose name ends with
/// `name`.
fn cumulative(p: &Profile, name: &str) -> i64 {
    let has = |loc: u64| {
        p.location.iter().find(|l| l.id == loc).is_some_and(|l| {
            l.line.iter().any(|line| {
                p.function
                    .iter()
                    .find(|f| f.id == line.function_id)
                    .is_some_and(|f| string(p, f.name).ends_with(name))
            })
        })
    };
    p.sample
        .iter()
        .filter(|s| s.location_id.iter().any(|&l| has(l)))
        .map(|s| s.value[0])
        .sum()
}

/// In `go tool pprof -top -cum` output, the cum value of the row for the function ending in `name`.
fn top_cum(top: &str, name: &str) -> Option<i64> {
    top.lines()
        .find(|l| l.trim_end().ends_with(name))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
}

/// `b / (a + b)` is 300/1300 within `tolerance`.
fn assert_ratio(a: i64, b: i64, tolerance: f64, what: &str) {
    assert_eq!(
        a + b,
        1300,
        "{what}: the site's 1300 are split between the callers"
    );
    let share = b as f64 / (a + b) as f64;
    let want = 300.0 / 1300.0;
    assert!(
        (share - want).abs() <= tolerance,
        "{what}: caller_b has {b} of {}, want about 300 (share {share:.3} vs {want:.3})",
        a + b
    );
}

#[test]
fn two_callers_of_one_helper_show_in_the_ratio_of_their_timers() {
    assert_eq!(
        gotimer::profile::chain_rate(),
        gotimer::profile::DEFAULT_CHAIN_RATE
    );
    let a = caller_a(1000);
    let b = caller_b(300);
    let site = gotimer::profile::snapshot()
        .into_iter()
        .find(|s| s.file == file!())
        .expect("the helper's site, this file's only one");
    assert_eq!(site.live, 1300, "the site's count is exact");

    let mut gz = Vec::new();
    gotimer::profile::write_pprof(&mut gz).unwrap();
    let p = decode(&gz);
    let site_name = format!("{}:{}:{} AfterFunc", site.file, site.line, site.column);
    assert_eq!(cumulative(&p, &site_name), 1300, "the site's flat count");
    assert_eq!(cumulative(&p, "chains::helper"), 1300);
    let (ca, cb) = (
        cumulative(&p, "chains::caller_a"),
        cumulative(&p, "chains::caller_b"),
    );
    // The split errs by at most about one sampling block at each end of a caller's run (32 and
    // 64 timers wide there): well within 0.05 of the 0.23 share.
    assert_ratio(ca, cb, 0.05, "profile");
    // The bytes are split alike and add up to the site's.
    let bytes: i64 = p
        .sample
        .iter()
        .filter(|s| {
            let f = p
                .location
                .iter()
                .find(|l| l.id == s.location_id[0])
                .unwrap();
            let name = p.function.iter().find(|x| x.id == f.line[0].function_id);
            name.is_some_and(|n| string(&p, n.name) == site_name)
        })
        .map(|s| s.value[1])
        .sum();
    assert_eq!(bytes as u64, site.live_bytes);

    let gos = all_go("two_callers_of_one_helper_show_in_the_ratio_of_their_timers");
    let dir = Scratch::new("pprof-chains");
    let file = dir.path().join("timers.pb.gz");
    std::fs::write(&file, &gz).unwrap();
    let file = file.to_str().unwrap();
    for go in &gos {
        let v = &go.version;
        let top = assert_clean(
            "-top -cum",
            &pprof(&go.path, dir.path(), &["-top", "-cum"], file),
        );
        println!("{v} -top -cum:\n{top}");
        let (ta, tb) = (
            top_cum(&top, "chains::caller_a"),
            top_cum(&top, "chains::caller_b"),
        );
        let (ta, tb) = (
            ta.unwrap_or_else(|| panic!("{v}: no caller_a row\n{top}")),
            tb.unwrap_or_else(|| panic!("{v}: no caller_b row\n{top}")),
        );
        assert_eq!(
            (ta, tb),
            (ca, cb),
            "{v}: -top -cum shows the profile's split"
        );
        assert_ratio(ta, tb, 0.05, &format!("{v} -top -cum"));
        assert_eq!(top_cum(&top, "chains::helper"), Some(1300), "{v}\n{top}");

        let traces = assert_clean("-traces", &pprof(&go.path, dir.path(), &["-traces"], file));
        println!("{v} -traces:\n{traces}");
        // Each trace is a block of frames, leaf first, after its count; blocks are separated by
        // dashes. One trace per caller goes site -> helper -> caller.
        for caller in ["chains::caller_a", "chains::caller_b"] {
            let found = traces.split("-----------").any(|block| {
                let frames: Vec<&str> = block
                    .lines()
                    .map(|l| l.split_whitespace().last().unwrap_or(""))
                    .filter(|f| !f.is_empty())
                    .collect();
                let at = |name: &str| frames.iter().position(|f| f.ends_with(name));
                matches!(
                    (at("AfterFunc"), at("chains::helper"), at(caller)),
                    (Some(s), Some(h), Some(c)) if s < h && h < c
                )
            });
            assert!(found, "{v}: no trace site -> helper -> {caller}\n{traces}");
        }
    }
    drop((a, b));
}

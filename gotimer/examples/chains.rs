//! Call chains in the timer profile: `after_func` made through one helper from two callers, 1000
//! and 300 times, then the profile written for `go tool pprof`:
//!
//! ```text
//! cargo run --release -p gotimer --example chains -- /tmp/timers.pb.gz
//! go tool pprof -top -cum /tmp/timers.pb.gz
//! go tool pprof -traces /tmp/timers.pb.gz
//! ```
//!
//! A release build names the functions (from its symbol table); for file names and lines too, build
//! with line tables: `CARGO_PROFILE_RELEASE_DEBUG=line-tables-only`, or in Cargo.toml
//! `[profile.release] debug = "line-tables-only"`.
use gotimer::Timer;
use std::time::Duration;

/// Every timer is made here: one call site for the profile, and the callers above it.
#[inline(never)]
fn arm_timeout() -> Timer {
    gotimer::after_func(Duration::from_secs(3600), || {})
}

#[inline(never)]
fn handle_requests(n: usize, pending: &mut Vec<Timer>) {
    for _ in 0..n {
        pending.push(arm_timeout());
    }
}

#[inline(never)]
fn poll_peers(n: usize, pending: &mut Vec<Timer>) {
    for _ in 0..n {
        pending.push(arm_timeout());
    }
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "timers.pb.gz".to_owned());
    let mut pending = Vec::new();
    handle_requests(1000, &mut pending);
    poll_peers(300, &mut pending);
    #[cfg(feature = "profile")]
    {
        let file = std::fs::File::create(&path).expect("create the profile file");
        gotimer::profile::write_pprof(file).expect("write the profile");
        println!("{} timers live; profile in {path}", pending.len());
    }
    #[cfg(not(feature = "profile"))]
    eprintln!("built without the `profile` feature: no profile to write to {path}");
}

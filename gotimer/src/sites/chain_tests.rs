//! The sampling of call chains (`chain.rs`) seen from the threads that create timers: how many
//! unwinds a site's timers cost on a thread that is new to it. Apart from `chain.rs`, since it
//! drives the whole of a creation (`cache.rs`), which calls into the chains.

use super::cache::create_tag;
use super::chain::RECORDED;
use super::kind::Kind;
use std::cell::Cell;
use std::panic::Location;

/// Creates `n` timers at `site` on a new thread, which keeps its counting stripe until `hold`
/// drops (an exiting thread hands its stripe to the next one); returns how many chains it
/// recorded.
fn unwinds_for(site: &'static Location<'static>, n: u32) -> (u64, impl Drop) {
    let (done_tx, done) = std::sync::mpsc::channel();
    let (hold, held) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        for _ in 0..n {
            create_tag(site, Kind::AfterFunc, 1, None);
        }
        done_tx.send(RECORDED.with(Cell::get)).unwrap();
        let _ = held.recv();
    });
    struct Hold(
        Option<std::sync::mpsc::Sender<()>>,
        Option<std::thread::JoinHandle<()>>,
    );
    impl Drop for Hold {
        fn drop(&mut self) {
            drop(self.0.take());
            self.1.take().unwrap().join().unwrap();
        }
    }
    (done.recv().unwrap(), Hold(Some(hold), Some(thread)))
}

#[test]
fn a_thread_new_to_a_warm_site_samples_at_the_sites_width() {
    let site = Location::caller();
    // A cold site: 16 recorded, then 8 per doubling (16 + 8 × log2(20_000 / 16) ≈ 98).
    let (first, _a) = unwinds_for(site, 20_000);
    assert!(
        (90..=110).contains(&first),
        "{first} chains for a cold site's first 20,000"
    );
    // The same site on a second thread, in a stripe of its own: its blocks widen to the
    // site's (one in 2^11 at 20,000 timers) within about 11 doublings, not another dense start
    // (≈ 72 for 2,000).
    let (second, _b) = unwinds_for(site, 2_000);
    assert!(
        (1..=14).contains(&second),
        "{second} chains on a thread new to a warm site"
    );
}

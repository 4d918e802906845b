//! The site table under test: 8 chunks of 8 ids, so 59 recorded sites and 5 overflow records (one
//! per kind; four kinds are used here), and an index that grows from 16 to 128 slots. One test,
//! in phases, because the table is global and a phase that fills it changes what every later
//! `create` of a new site gets.

use super::cache::{create, on_free};
use super::index::{LEVEL, LEVELS};
use super::kind::Kind;
use super::record::test_counts::{LOCKS, MISSES};
use super::table::{all, stats, MAX_SITES, OVERFLOW_FILE, TAKEN};
use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::panic::Location;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Barrier};

const KINDS: [Kind; 4] = [Kind::Timer, Kind::Ticker, Kind::AfterFunc, Kind::Tick];

fn locks() -> u64 {
    LOCKS.with(Cell::get)
}

fn misses() -> u64 {
    MISSES.with(Cell::get)
}

#[test]
fn the_table_records_sites_counts_them_and_overflows_without_the_lock() {
    let first = Location::caller();
    let (a, b) = (Location::caller(), Location::caller());

    // Phase 1: a new site is recorded (the lock, once), then found in the cache.
    let before = (misses(), locks());
    let id = create(first, Kind::Timer, 100);
    assert!(
        id.index() < MAX_SITES,
        "not yet full: the site gets its own id"
    );
    assert_eq!((misses(), locks()), (before.0 + 1, before.1 + 1));
    for _ in 0..9 {
        assert_eq!(create(first, Kind::Timer, 100), id);
    }
    assert_eq!(misses(), before.0 + 1, "repeats hit the thread's cache");
    let s = stats(id);
    assert_eq!(
        (s.kind(), s.bytes_each(), s.place()),
        (
            Kind::Timer,
            100,
            (first.file(), first.line(), first.column())
        )
    );
    assert_eq!((s.created(), s.live()), (10, 10));

    // The same location with another kind is another site.
    let other = create(first, Kind::AfterFunc, 7);
    assert_ne!(other, id);
    assert_eq!(stats(other).kind(), Kind::AfterFunc);

    // Phase 2: 20 threads at once, more than the 16 that own a stripe, count one site and free its
    // timers, half of them on another thread than the one that created them.
    let site = create(a, Kind::Ticker, 1);
    let start = Arc::new(Barrier::new(20));
    let threads: Vec<_> = (0..20)
        .map(|t| {
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                for _ in 0..1000 {
                    assert_eq!(create(a, Kind::Ticker, 1), site);
                }
                let frees = if t % 2 == 0 { 1000 } else { 500 };
                for _ in 0..frees {
                    on_free(site);
                }
                // A thread that found a recorded site in the index took no lock.
                assert_eq!(locks(), 0);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    for _ in 0..10 * 500 {
        on_free(site);
    }
    // Counts from threads that have exited stay in the sums.
    assert_eq!((stats(site).created(), stats(site).live()), (1 + 20_000, 1));

    // Phase 3: fill the table. 16 locations × 4 kinds are more keys than there are ids.
    // Distinct sites need distinct source positions (a loop or a macro would make one): 16 here.
    #[rustfmt::skip]
    let locations = [
        a, b, Location::caller(), Location::caller(), Location::caller(), Location::caller(),
        Location::caller(), Location::caller(), Location::caller(), Location::caller(),
        Location::caller(), Location::caller(), Location::caller(), Location::caller(),
        Location::caller(), Location::caller(),
    ];
    let mut ids = HashMap::new();
    let mut overflowed = Vec::new();
    for &location in &locations {
        for kind in KINDS {
            let locks_before = locks();
            let full = TAKEN.load(Relaxed) == MAX_SITES;
            let id = create(location, kind, 3);
            if id.index() >= MAX_SITES {
                assert_eq!(
                    id.index(),
                    MAX_SITES + kind as u32,
                    "one overflow record per kind"
                );
                assert_eq!(stats(id).kind(), kind);
                if full {
                    assert_eq!(locks(), locks_before, "past the limit: no lock");
                }
                overflowed.push((location, kind));
            } else {
                assert!(
                    ids.insert(id, (location, kind)).is_none(),
                    "ids are distinct"
                );
            }
        }
    }
    assert_eq!(TAKEN.load(Relaxed), MAX_SITES, "the table is full");
    assert!(
        overflowed.len() >= 4,
        "{} keys overflowed",
        overflowed.len()
    );
    assert_eq!(
        LEVEL.load(Relaxed),
        LEVELS - 1,
        "the index grew to its last table"
    );

    // Past the limit, a site hits the thread's cache after its first create, whatever its kind (the
    // old table gave them all the last id, and a cache check by kind missed on every create). The
    // first of each five may miss: the cache holds one kind per location.
    let m = misses();
    for &(location, kind) in &overflowed {
        for _ in 0..5 {
            assert_eq!(create(location, kind, 3).index(), MAX_SITES + kind as u32);
        }
    }
    assert!(
        misses() - m <= overflowed.len() as u64,
        "overflowed sites are cached like any other"
    );

    // Another thread, with a cold cache, finds every site without the lock: in the index, or past
    // the limit.
    let expect: Vec<_> = ids.iter().map(|(&id, &key)| (id, key)).collect();
    let over = overflowed.clone();
    std::thread::spawn(move || {
        for (id, (location, kind)) in expect {
            assert_eq!(create(location, kind, 3), id);
        }
        for (location, kind) in over {
            assert_eq!(create(location, kind, 3).index(), MAX_SITES + kind as u32);
        }
        assert_eq!(locks(), 0);
    })
    .join()
    .unwrap();

    // `all` lists the recorded sites in id order, then the overflow records in use.
    let all = all();
    assert_eq!(
        all.len() as u32,
        MAX_SITES + {
            let kinds: HashSet<Kind> = overflowed.iter().map(|p| p.1).collect();
            kinds.len() as u32
        }
    );
    for (i, s) in all.iter().enumerate().take(MAX_SITES as usize) {
        assert_eq!(s.id().index(), i as u32);
        assert!(!s.is_overflow());
    }
    for s in &all[MAX_SITES as usize..] {
        assert!(s.is_overflow());
        assert_eq!(s.place(), (OVERFLOW_FILE, 0, 0));
        assert!(s.created() >= 5, "its sites' creations are counted");
    }
    assert_eq!(stats(id).created(), 10, "phase 1's site kept its counts");
}

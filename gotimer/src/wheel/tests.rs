//! The wheel against a `BTreeMap` model, plus unit tests of its edges.

use super::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// What the model says `poll(now)` must return: deadlines whose tick is at or before `now`'s tick.
/// `now + off`, kept within the wheel's range.
fn later(now: u64, off: u64) -> u64 {
    now.saturating_add(off).min(MAX_DEADLINE)
}

fn due(deadline: u64, now: u64) -> bool {
    tick_of(deadline) <= now >> RESOLUTION_SHIFT
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u64),
    Remove(usize),
    Reschedule(usize, u64),
    Advance(u64),
}

/// Offsets that land on every level: tiny, around slot and block edges, and enormous.
fn offset() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..4 * RESOLUTION_NS,
        0u64..(1 << 16),
        (0u32..63).prop_map(|b| 1u64 << b),
        (0u32..62).prop_flat_map(|b| 0..(1u64 << b)),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => offset().prop_map(Op::Insert),
        2 => any::<usize>().prop_map(Op::Remove),
        2 => (any::<usize>(), offset()).prop_map(|(i, d)| Op::Reschedule(i, d)),
        3 => offset().prop_map(Op::Advance),
    ]
}

struct Harness {
    wheel: Wheel<u64>,
    model: BTreeMap<u64, (Key, u64)>,
    now: u64,
    next_id: u64,
}

impl Harness {
    fn new(start: u64) -> Self {
        let mut wheel = Wheel::new();
        wheel.poll(start, &mut Vec::new());
        Harness {
            wheel,
            model: BTreeMap::new(),
            now: start,
            next_id: 0,
        }
    }

    fn pick(&self, i: usize) -> Option<u64> {
        (!self.model.is_empty()).then(|| *self.model.keys().nth(i % self.model.len()).unwrap())
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::Insert(off) => {
                // Past deadlines too: offsets are subtracted half the time.
                let d = if off % 2 == 0 {
                    later(self.now, off)
                } else {
                    self.now.saturating_sub(off)
                };
                let id = self.next_id;
                self.next_id += 1;
                let key = self.wheel.insert(d, id);
                self.model.insert(id, (key, d));
            }
            Op::Remove(i) => {
                if let Some(id) = self.pick(i) {
                    let (key, d) = self.model.remove(&id).unwrap();
                    assert_eq!(self.wheel.remove(key), (d, id));
                }
            }
            Op::Reschedule(i, off) => {
                if let Some(id) = self.pick(i) {
                    let d = later(self.now, off);
                    let entry = self.model.get_mut(&id).unwrap();
                    self.wheel.reschedule(entry.0, d);
                    entry.1 = d;
                    assert_eq!(self.wheel.deadline(entry.0), d);
                    assert_eq!(*self.wheel.get(entry.0), id);
                }
            }
            Op::Advance(off) => {
                self.now = later(self.now, off);
                let mut out = Vec::new();
                self.wheel.poll(self.now, &mut out);
                let mut got: Vec<(u64, u64)> = out.into_iter().map(|(d, id)| (id, d)).collect();
                got.sort_unstable();
                let now = self.now;
                let want: Vec<(u64, u64)> = self
                    .model
                    .iter()
                    .filter(|(_, &(_, d))| due(d, now))
                    .map(|(&id, &(_, d))| (id, d))
                    .collect();
                assert_eq!(got, want, "poll({now}) returned the wrong entries");
                for (id, _) in &want {
                    self.model.remove(id);
                }
            }
        }
        self.check();
    }

    fn check(&self) {
        assert_eq!(self.wheel.len(), self.model.len());
        match self.wheel.next_expiration() {
            None => assert!(self.model.is_empty()),
            Some(t) => {
                let earliest = self.model.values().map(|&(_, d)| tick_of(d)).min().unwrap();
                let earliest = (earliest << RESOLUTION_SHIFT).max(self.wheel.elapsed());
                // A lower bound of every deadline not yet passed, never behind the clock.
                assert!(t <= earliest, "next {t} after earliest {earliest}");
                assert!(t >= self.wheel.elapsed());
            }
        }
    }

    /// Polls until empty, following `next_expiration` as the driver does; every entry must come out
    /// at a time when it is due, and never before.
    fn drain(&mut self) {
        let mut steps = 0;
        while let Some(t) = self.wheel.next_expiration() {
            steps += 1;
            assert!(steps < 100_000, "wheel does not drain");
            self.apply(Op::Advance(t.saturating_sub(self.now)));
        }
        assert!(self.model.is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn wheel_matches_btreemap(start in offset(), ops in prop::collection::vec(op(), 1..200)) {
        let mut h = Harness::new(start);
        for op in ops {
            h.apply(op);
        }
        h.drain();
    }
}

#[test]
fn zero_and_max_deadlines() {
    let mut w = Wheel::new();
    let zero = w.insert(0, 1u32);
    let max = w.insert(MAX_DEADLINE, 2u32);
    assert_eq!(w.next_expiration(), Some(0));
    let mut out = Vec::new();
    w.poll(0, &mut out);
    assert_eq!(out, vec![(0, 1)]);
    let _ = zero;
    w.poll(MAX_DEADLINE - 1, &mut out);
    assert_eq!(out.len(), 1, "MAX_DEADLINE is not due early");
    assert_eq!(w.deadline(max), MAX_DEADLINE);
    w.poll(MAX_DEADLINE, &mut out);
    assert_eq!(out, vec![(0, 1), (MAX_DEADLINE, 2)]);
    assert!(w.is_empty());
    assert_eq!(w.next_expiration(), None);
    let k = w.insert(MAX_DEADLINE, 3);
    assert_eq!(w.remove(k), (MAX_DEADLINE, 3));
}

#[test]
#[should_panic(expected = "after MAX_DEADLINE")]
fn beyond_max_deadline_panics() {
    Wheel::new().insert(MAX_DEADLINE + 1, ());
}

#[test]
fn never_early_within_a_tick() {
    let mut w = Wheel::new();
    w.insert(RESOLUTION_NS + 1, ());
    let mut out = Vec::new();
    w.poll(RESOLUTION_NS + 1, &mut out);
    assert!(
        out.is_empty(),
        "due mid-tick: comes out at the next tick boundary"
    );
    assert_eq!(w.next_expiration(), Some(2 * RESOLUTION_NS));
    w.poll(2 * RESOLUTION_NS, &mut out);
    assert_eq!(out.len(), 1);
}

#[test]
fn later_reschedule_is_lazy_but_exact() {
    let mut w = Wheel::new();
    let k = w.insert(10_000, ());
    for i in 0..1000 {
        w.reschedule(k, 10_000 + i * 1_000_000);
    }
    let mut out = Vec::new();
    w.poll(10_000 + 998 * 1_000_000, &mut out);
    assert!(out.is_empty(), "a stale slot must not fire the entry early");
    w.poll(10_000 + 999 * 1_000_000 + RESOLUTION_NS, &mut out);
    assert_eq!(out.len(), 1);
}

#[test]
fn earlier_reschedule_relinks() {
    let mut w = Wheel::new();
    let k = w.insert(1 << 40, ());
    w.reschedule(k, 5_000);
    assert!(w.next_expiration().unwrap() <= 5_000 + RESOLUTION_NS);
    let mut out = Vec::new();
    w.poll(6_000, &mut out);
    assert_eq!(out.len(), 1);
}

#[test]
fn million_entries_drain_in_order_and_free_everything() {
    let mut w = Wheel::new();
    let n = 1_000_000u64;
    let keys: Vec<Key> = (0..n).map(|i| w.insert(i * 7919 % (1 << 34), i)).collect();
    for k in keys.iter().step_by(2) {
        w.remove(*k);
    }
    let mut out = Vec::new();
    let mut polls = 0;
    while let Some(t) = w.next_expiration() {
        let before = out.len();
        w.poll(t, &mut out);
        for &(d, _) in &out[before..] {
            assert!(d <= t);
        }
        polls += 1;
    }
    assert_eq!(out.len() as u64, n / 2);
    assert!(polls <= n, "polls {polls}");
    assert!(w.is_empty());
}

#[test]
fn a_poll_past_a_whole_slot_takes_its_entries_out_without_cascading() {
    // Deadlines 50 ms ahead sit at level 2 (slots of 4096 ticks). Polled once the whole slot has
    // passed, they are all due: they come out at once instead of moving to level 1 and then 0.
    let mut w = Wheel::new();
    let base = 50_000_000u64;
    for i in 0..100u64 {
        w.insert(base + i * 10 * RESOLUTION_NS, i);
    }
    let mut out = Vec::new();
    w.poll(base + 4096 * 2 * RESOLUTION_NS, &mut out);
    assert_eq!(out.len(), 100);
    assert_eq!(w.relinks, 0, "a wholly past slot's entries were cascaded");
    // Polled as each comes due, the same entries cascade level by level.
    for i in 0..100u64 {
        w.insert(2 * base + i * 10 * RESOLUTION_NS, i);
    }
    let mut out = Vec::new();
    while let Some(t) = w.next_expiration() {
        w.poll(t, &mut out);
    }
    assert_eq!(out.len(), 100);
    assert!(w.relinks >= 100, "relinks {}", w.relinks);
}

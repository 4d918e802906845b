//! A hierarchical timing wheel: a pure data structure, with no threads and no clock.
//!
//! Time is a `u64` count of nanoseconds chosen by the caller. The wheel rounds deadlines *up* to its
//! resolution of [`RESOLUTION_NS`] (1.024 µs), so an entry is never reported before its deadline.
//! Nine levels of 64 slots cover every deadline up to [`MAX_DEADLINE`] (146 years): level `l` has
//! slots of `64^l` ticks.
//! An entry sits at the level of the highest 6-bit group in which its tick differs from the wheel's
//! current tick (`elapsed`); as `elapsed` reaches a slot, the slot's entries move down a level
//! (cascade) or, once due, come out of [`Wheel::poll`].
//!
//! Costs: `insert`, `remove` and `reschedule` are O(1). `next_expiration` is O(levels) bitmap scans.
//! An entry cascades at most once per level per schedule (a lazily rescheduled entry is relinked again
//! when its stale slot comes up), and an entry that is removed before
//! its slot comes up (the usual fate of a timeout) never cascades at all.
//!
//! `reschedule` to a later deadline is lazy, as Go's `timerModifiedLater` is: the node keeps its slot
//! and only its deadline changes. When the slot comes up the entry is not yet due, so it is relinked
//! further on. This makes the common "reset the idle timeout on every message" loop a single store.
//! The price is that `next_expiration` is a lower bound, not always the exact earliest deadline.
//!
//! Invariants (checked by the property tests against a `BTreeMap` model):
//! - every occupied slot starts at or after `elapsed`, within `elapsed`'s block of its level;
//! - every entry's slot starts at or before its deadline's tick.

mod level;
mod slab;

use level::{Level, SLOTS, SLOT_BITS};
use slab::{Node, Slab, MAX_KEYS, NIL};

/// log2 of the wheel's resolution in nanoseconds.
pub const RESOLUTION_SHIFT: u32 = 10;
/// The wheel's resolution: deadlines are rounded up to a multiple of this many nanoseconds.
pub const RESOLUTION_NS: u64 = 1 << RESOLUTION_SHIFT;
/// The latest deadline the wheel accepts: 2^62 ns, about 146 years after time 0.
pub const MAX_DEADLINE: u64 = 1 << 62;
const LEVELS: usize = 9;
/// Marks a node's `prev` as "first in the list of slot `prev & !HEAD`".
const HEAD: u32 = MAX_KEYS;

/// Identifies an entry until it is removed or comes out of `poll`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key(u32);

impl Key {
    /// The key as a `u32` below 2^31, for storing in an atomic.
    pub fn to_bits(self) -> u32 {
        self.0
    }

    /// A key from `to_bits`.
    pub fn from_bits(bits: u32) -> Key {
        Key(bits)
    }
}

/// A hierarchical timing wheel holding values of type `T`, each with a deadline in nanoseconds.
pub struct Wheel<T> {
    /// The current tick: everything due at or before it has been polled out.
    elapsed: u64,
    levels: [Level; LEVELS],
    /// Bit `l` is set when level `l` has an occupied slot.
    nonempty: u16,
    nodes: Slab<T>,
    /// How many times an entry moved to another slot (cascades and earlier reschedules).
    #[cfg(test)]
    relinks: u64,
}

impl<T> Default for Wheel<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Wheel<T> {
    /// An empty wheel whose clock starts at 0.
    pub const fn new() -> Self {
        Wheel {
            elapsed: 0,
            levels: [const { Level::new() }; LEVELS],
            nonempty: 0,
            nodes: Slab::new(),
            #[cfg(test)]
            relinks: 0,
        }
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when the wheel holds no entry.
    #[allow(dead_code)] // for tests and diagnostics
    pub fn is_empty(&self) -> bool {
        self.nodes.len() == 0
    }

    /// The time up to which the wheel has been polled, rounded down to the resolution.
    #[allow(dead_code)] // for tests and diagnostics
    pub fn elapsed(&self) -> u64 {
        self.elapsed << RESOLUTION_SHIFT
    }

    /// Adds `value`, due at `deadline`. A deadline already polled past comes out of the next `poll`.
    ///
    /// Panics if `deadline` is after [`MAX_DEADLINE`].
    pub fn insert(&mut self, deadline: u64, value: T) -> Key {
        check_deadline(deadline);
        // Linked as it is stored: the node is written once.
        let (level, slot) = self.place(tick_of(deadline));
        let old = self.levels[level].head(slot);
        let key = self.nodes.insert(Node {
            prev: head_of(level, slot),
            next: old,
            deadline,
            value,
        });
        self.push_front(level, slot, key, old);
        Key(key)
    }

    /// Removes the entry `key`, returning its deadline and value.
    pub fn remove(&mut self, key: Key) -> (u64, T) {
        // Taken out first, its links read from it: the node is looked up once.
        let node = self.nodes.remove(key.0);
        self.unlink_between(node.prev, node.next);
        (node.deadline, node.value)
    }

    /// Moves the entry `key` to a new deadline. The key stays valid.
    ///
    /// Panics if `deadline` is after [`MAX_DEADLINE`].
    pub fn reschedule(&mut self, key: Key, deadline: u64) {
        check_deadline(deadline);
        let node = self.nodes.get_mut(key.0);
        let later = tick_of(deadline) >= tick_of(node.deadline);
        node.deadline = deadline;
        if !later {
            self.unlink(key.0);
            self.link(key.0, tick_of(deadline));
        }
    }

    /// The deadline of the entry `key`.
    pub fn deadline(&self, key: Key) -> u64 {
        self.nodes.get(key.0).deadline
    }

    /// The value of the entry `key`.
    #[allow(dead_code)] // for tests and diagnostics
    pub fn get(&self, key: Key) -> &T {
        &self.nodes.get(key.0).value
    }

    /// Calls `f(deadline, value)` for every entry, in no particular order.
    pub fn for_each(&self, mut f: impl FnMut(u64, &T)) {
        self.nodes.for_each(|n| f(n.deadline, &n.value));
    }

    /// A time at or after `elapsed()` and at or before every entry's deadline (rounded up to the
    /// resolution; a deadline already passed counts as `elapsed()`); `None` when the wheel is empty.
    /// Polling at this time makes progress.
    pub fn next_expiration(&self) -> Option<u64> {
        self.next_slot()
            .map(|(_, _, start)| start << RESOLUTION_SHIFT)
    }

    /// Removes every entry whose deadline is at or before `now` rounded down to the resolution, and
    /// appends `(deadline, value)` for each to `out`, in no particular order. Time does not go back:
    /// a `now` before `elapsed()` polls nothing.
    pub fn poll(&mut self, now: u64, out: &mut Vec<(u64, T)>) {
        let now = now >> RESOLUTION_SHIFT;
        while let Some((level, slot, start)) = self.next_slot() {
            if start > now {
                break;
            }
            self.elapsed = start;
            self.process(level, slot, now, out);
        }
        self.elapsed = self.elapsed.max(now);
    }

    /// The earliest occupied slot as `(level, slot, start tick)`.
    fn next_slot(&self) -> Option<(usize, usize, u64)> {
        let mut best: Option<(usize, usize, u64)> = None;
        let mut levels = self.nonempty;
        while levels != 0 {
            let level = levels.trailing_zeros() as usize;
            levels &= levels - 1;
            let shift = SLOT_BITS * level as u32;
            let here = ((self.elapsed >> shift) as usize) & (SLOTS - 1);
            let slot = self.levels[level]
                .next_occupied(here)
                .expect("gotimer: wheel slot behind its level's position");
            let block = self.elapsed & !block_mask(level);
            let start = block + ((slot as u64) << shift);
            if best.is_none_or(|(_, _, s)| start < s) {
                best = Some((level, slot, start));
            }
        }
        best
    }

    /// Empties one slot that `elapsed` has reached: entries due by `now` (a tick) go out, the rest
    /// are relinked lower. Due by `now`, not by the slot's start: a poll that comes after a whole
    /// slot has passed (a driver that batches, or one that fell behind) takes its entries out at
    /// once instead of cascading them level by level first.
    fn process(&mut self, level: usize, slot: usize, now: u64, out: &mut Vec<(u64, T)>) {
        let mut key = self.levels[level].head(slot);
        self.levels[level].set_head(slot, NIL);
        self.note_level(level);
        while key != NIL {
            let node = self.nodes.get(key);
            let (next, tick) = (node.next, tick_of(node.deadline));
            if tick <= now {
                let node = self.nodes.remove(key);
                out.push((node.deadline, node.value));
            } else {
                self.link(key, tick);
            }
            key = next;
        }
    }

    /// The level and slot for `tick` (past ticks count as `elapsed`).
    #[inline]
    fn place(&self, tick: u64) -> (usize, usize) {
        let tick = tick.max(self.elapsed);
        let differ = tick ^ self.elapsed;
        let level = if differ == 0 {
            0
        } else {
            ((63 - differ.leading_zeros()) / SLOT_BITS) as usize
        };
        let slot = ((tick >> (SLOT_BITS * level as u32)) as usize) & (SLOTS - 1);
        (level, slot)
    }

    /// Puts node `key` at the front of the slot for `tick` (past ticks count as `elapsed`).
    fn link(&mut self, key: u32, tick: u64) {
        #[cfg(test)]
        {
            self.relinks += 1;
        }
        let (level, slot) = self.place(tick);
        let old = self.levels[level].head(slot);
        {
            let node = self.nodes.get_mut(key);
            node.prev = head_of(level, slot);
            node.next = old;
        }
        self.push_front(level, slot, key, old);
    }

    /// Makes `key`, whose links already say so, the head of `slot` in front of `old`.
    #[inline]
    fn push_front(&mut self, level: usize, slot: usize, key: u32, old: u32) {
        if old != NIL {
            self.nodes.get_mut(old).prev = key;
        }
        self.levels[level].set_head(slot, key);
        self.nonempty |= 1 << level;
    }

    fn unlink(&mut self, key: u32) {
        let (prev, next) = {
            let node = self.nodes.get(key);
            (node.prev, node.next)
        };
        self.unlink_between(prev, next);
    }

    /// Joins `prev` and `next`, the links of a node taken out of its slot's list.
    #[inline]
    fn unlink_between(&mut self, prev: u32, next: u32) {
        if next != NIL {
            self.nodes.get_mut(next).prev = prev;
        }
        if prev & HEAD != 0 {
            let id = (prev & !HEAD) as usize;
            let (level, slot) = (id / SLOTS, id % SLOTS);
            self.levels[level].set_head(slot, next);
            self.note_level(level);
        } else {
            self.nodes.get_mut(prev).next = next;
        }
    }

    fn note_level(&mut self, level: usize) {
        if self.levels[level].is_empty() {
            self.nonempty &= !(1 << level);
        }
    }
}

/// A node's `prev` when it heads the list of `slot` of `level`.
#[inline]
fn head_of(level: usize, slot: usize) -> u32 {
    HEAD | (level * SLOTS + slot) as u32
}

/// Bits of a tick below level `level`'s block: a block spans `64^(level+1)` ticks.
fn block_mask(level: usize) -> u64 {
    (1u64 << (SLOT_BITS * (level as u32 + 1))) - 1
}

fn check_deadline(deadline: u64) {
    assert!(
        deadline <= MAX_DEADLINE,
        "gotimer: wheel deadline {deadline} ns is after MAX_DEADLINE"
    );
}

/// A deadline's tick: the first tick at or after it.
fn tick_of(deadline: u64) -> u64 {
    deadline.div_ceil(RESOLUTION_NS)
}

#[cfg(test)]
mod tests;

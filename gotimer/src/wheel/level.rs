//! One level of the wheel: 64 slot list heads and a bitmap of which slots are occupied.
//!
//! The bitmap is what makes the wheel cheap to search: the next occupied slot at or after a position
//! is one mask and one `trailing_zeros`, whatever the number of timers. The lists themselves are
//! threaded through the slab's nodes; a level only knows where each list starts.

use super::slab::NIL;

pub(super) const SLOT_BITS: u32 = 6;
pub(super) const SLOTS: usize = 1 << SLOT_BITS;

pub(super) struct Level {
    occupied: u64,
    heads: [u32; SLOTS],
}

impl Level {
    pub(super) const fn new() -> Self {
        Level {
            occupied: 0,
            heads: [NIL; SLOTS],
        }
    }

    pub(super) fn head(&self, slot: usize) -> u32 {
        self.heads[slot]
    }

    /// Sets the first node of `slot`'s list (`NIL` empties it) and keeps the bitmap in step.
    pub(super) fn set_head(&mut self, slot: usize, key: u32) {
        self.heads[slot] = key;
        if key == NIL {
            self.occupied &= !(1 << slot);
        } else {
            self.occupied |= 1 << slot;
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.occupied == 0
    }

    /// The first occupied slot at or after `from`, without wrapping around.
    pub(super) fn next_occupied(&self, from: usize) -> Option<usize> {
        let ahead = self.occupied & (u64::MAX << from);
        (ahead != 0).then(|| ahead.trailing_zeros() as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitmap_follows_heads() {
        let mut l = Level::new();
        assert!(l.is_empty());
        assert_eq!(l.next_occupied(0), None);
        l.set_head(5, 1);
        l.set_head(63, 2);
        assert_eq!(l.next_occupied(0), Some(5));
        assert_eq!(l.next_occupied(5), Some(5));
        assert_eq!(l.next_occupied(6), Some(63));
        assert_eq!(l.head(63), 2);
        l.set_head(5, NIL);
        l.set_head(63, NIL);
        assert!(l.is_empty());
        assert_eq!(l.next_occupied(0), None);
    }
}

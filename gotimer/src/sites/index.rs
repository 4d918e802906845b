//! The index of the site table: from a site's key (file, line, column, kind) to its [`SiteId`],
//! read without a lock, so that a thread whose cache misses finds a recorded site without taking
//! `record.rs`'s lock.
//!
//! Keyed by content, not by the `Location`'s address: one source location can have several
//! `Location` statics (one per codegen unit that inlined the call). Open addressing with linear
//! probing, at most half full; it grows by filling a table twice as big and making it current, and
//! the old tables stay, since readers may still be probing them.

use super::kind::Kind;
use super::table::{stats, SiteId, SiteRecord, IDS};
use std::panic::Location;
use std::sync::atomic::{
    AtomicU32, AtomicUsize,
    Ordering::{Acquire, Relaxed, Release},
};
use std::sync::OnceLock;

/// Slots of the smallest index table; each next one is twice as big.
const MIN_SLOTS: usize = 16;
/// Enough tables for every id at a load of at most one half.
pub(super) const LEVELS: usize = (2 * IDS / MIN_SLOTS).ilog2() as usize + 1;

/// Open addressing with linear probing: a slot holds `id + 1`, or 0 when empty. Kept at most half
/// full. When it would pass that, the next table, twice as big, is filled and made current; the old
/// ones stay, since readers may still be probing them, so the index holds at most twice the current
/// table: 2 × 4 bytes × 2 slots per site = 16 bytes per site.
// `std`'s atomics, in a static: each slot is written once, under `record.rs`'s lock, with the
// Release that `find`'s Acquire pairs with, a plain publication the tests' threads check.
static INDEX: [OnceLock<Box<[AtomicU32]>>; LEVELS] = [const { OnceLock::new() }; LEVELS];
/// Which table of `INDEX` is current. Stored (Release) after the table is filled.
// `std`'s atomic, as a static: written under `record.rs`'s lock, Release after the table it names
// is filled, the same publication as a slot's.
pub(super) static LEVEL: AtomicUsize = AtomicUsize::new(0);

/// What a site is looked up by, with its hash.
pub(super) struct Key {
    file: &'static str,
    line: u32,
    column: u32,
    pub(super) kind: Kind,
    hash: usize,
}

impl Key {
    pub(super) fn new(location: &'static Location<'static>, kind: Kind) -> Key {
        Key::of(location.file(), location.line(), location.column(), kind)
    }

    fn of(file: &'static str, line: u32, column: u32, kind: Kind) -> Key {
        // The keys are the program's own source locations, not input, so a fast multiplicative
        // hash will do (SipHash was most of the cost of a cache miss), with a final mix for the low
        // bits the probe uses.
        const K: u64 = 0x9e37_79b9_7f4a_7c15;
        let mix = |h: u64, word: u64| (h ^ word).wrapping_mul(K).rotate_left(31);
        let mut h = mix(u64::from(line) << 32 | u64::from(column), kind as u64);
        let mut words = file.as_bytes().chunks_exact(8);
        for w in &mut words {
            h = mix(h, u64::from_le_bytes(w.try_into().expect("8 bytes")));
        }
        let mut tail = [0u8; 8];
        tail[..words.remainder().len()].copy_from_slice(words.remainder());
        h = mix(h, u64::from_le_bytes(tail) ^ (file.len() as u64) << 56);
        h ^= h >> 32;
        h = h.wrapping_mul(K);
        Key {
            file,
            line,
            column,
            kind,
            hash: (h ^ h >> 29) as usize,
        }
    }

    fn names(&self, s: &SiteRecord) -> bool {
        let l = s.location();
        s.kind() == self.kind
            && l.line() == self.line
            && l.column() == self.column
            && l.file() == self.file
    }
}

/// Index table `level`. Those past the first are set before `LEVEL` names them; the first is made by
/// whoever needs it first.
fn index_table(level: usize) -> &'static [AtomicU32] {
    INDEX[level].get_or_init(|| empty_table(MIN_SLOTS << level))
}

fn empty_table(slots: usize) -> Box<[AtomicU32]> {
    (0..slots).map(|_| AtomicU32::new(0)).collect()
}

fn find(table: &[AtomicU32], key: &Key) -> Option<SiteId> {
    let mask = table.len() - 1;
    let mut i = key.hash & mask;
    loop {
        // Acquire: pairs with the Release store in `insert`, so the record it names is visible.
        match table[i].load(Acquire) {
            0 => return None,
            v => {
                let id = SiteId(v - 1);
                if key.names(stats(id)) {
                    return Some(id);
                }
            }
        }
        i = (i + 1) & mask;
    }
}

/// Puts `id` into `table` (which has an empty slot: it is at most half full). Under `record.rs`'s
/// lock.
fn insert(table: &[AtomicU32], hash: usize, id: SiteId) {
    let mask = table.len() - 1;
    let mut i = hash & mask;
    while table[i].load(Relaxed) != 0 {
        i = (i + 1) & mask;
    }
    table[i].store(id.0 + 1, Release);
}

/// The site of `key`, if it is recorded: lock-free.
pub(super) fn lookup(key: &Key) -> Option<SiteId> {
    find(index_table(LEVEL.load(Acquire)), key)
}

/// [`lookup`] under `record.rs`'s lock, which every writer of the index holds.
pub(super) fn lookup_locked(key: &Key) -> Option<SiteId> {
    find(index_table(LEVEL.load(Relaxed)), key)
}

/// Adds the site `id` of `key`, just published as the `id.0 + 1`th site, to the index. Under
/// `record.rs`'s lock.
pub(super) fn add(key: &Key, id: SiteId) {
    let level = LEVEL.load(Relaxed);
    let table = index_table(level);
    if (id.0 as usize + 1) * 2 > table.len() {
        // Fill the next table with every site, this one included, then make it current.
        let bigger = empty_table(table.len() * 2);
        for old in 0..=id.0 {
            let s = stats(SiteId(old));
            let k = Key::new(s.location(), s.kind());
            insert(&bigger, k.hash, SiteId(old));
        }
        if INDEX[level + 1].set(bigger).is_err() {
            unreachable!("gotimer: index tables are set under the lock, once each");
        }
        LEVEL.store(level + 1, Release);
    } else {
        insert(table, key.hash, id);
    }
}

//! The site table: every recorded site's [`SiteRecord`] and, with the `profile` feature, its
//! counters in every stripe, found by [`SiteId`] with no lock.
//!
//! # Memory, and its bound
//!
//! Sites are stored in chunks of `CHUNK` (64): their records, and for each stripe a row of 24-byte
//! counters (`stripes.rs`: created, freed, armed, and the next timer whose call chain is sampled).
//! The cache-line padding is per row, not per site (a row is written by one thread), so a site
//! costs its 48-byte record, 17 × 24 = 408 bytes of counters and about 16 bytes of index
//! (`index.rs`): about 470 bytes. A chunk is allocated whole when its first site is recorded, so
//! memory does not grow later, when new threads count. At most [`MAX_SITES`] sites are recorded:
//! at most 65,531 × 470 bytes ≈ 31 MB, however many sites the program has; the ids past them are
//! the overflow records, one per kind (`record.rs`). A record is never freed or changed once set
//! (but for its parked size), so a `SiteId` can be looked up without a lock for ever.
//!
//! Under test the table is 8 chunks of 8, so that the tests cross chunk boundaries and fill it:
//! those sizes are `cfg(test)` items, so the build that ships has only its own.

use super::kind::Kind;
#[cfg(feature = "profile")]
use super::stripes::{Counts, OWNED};
#[cfg(feature = "profile")]
use crossbeam_utils::CachePadded;
use std::panic::Location;
use std::sync::atomic::AtomicU32;
#[cfg(feature = "profile")]
use std::sync::atomic::AtomicU64;
#[cfg(feature = "profile")]
use std::sync::atomic::Ordering::{Acquire, Relaxed};
use std::sync::OnceLock;

/// Sites per chunk of the table.
#[cfg(not(test))]
pub(super) const CHUNK: usize = 64;
/// Chunks in the table.
#[cfg(not(test))]
const CHUNKS: usize = 1024;
/// Sites per chunk under test: small, so that the tests cross chunk boundaries.
#[cfg(test)]
pub(super) const CHUNK: usize = 8;
/// Chunks under test: few, so that the tests fill the table.
#[cfg(test)]
const CHUNKS: usize = 8;
/// Ids in all: `TABLE[id / CHUNK]`, item `id % CHUNK`.
pub(super) const IDS: usize = CHUNK * CHUNKS;
/// The sites recorded each on their own; the last `Kind::COUNT` ids are the overflow records, one per
/// kind.
pub(crate) const MAX_SITES: u32 = IDS as u32 - Kind::COUNT;
/// The file name the profile gives the overflow records (line and column 0).
#[cfg(feature = "profile")]
pub(crate) const OVERFLOW_FILE: &str = "(call sites past gotimer's limit, merged)";

/// A recorded site: an index into the table that only `record.rs` makes, after the record is
/// published, so looking one up cannot fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct SiteId(pub(super) u32);

impl SiteId {
    /// The id as an index: dense from 0, in the order sites were first seen, then the overflow
    /// records (`MAX_SITES + kind`).
    #[cfg(feature = "profile")]
    pub(crate) fn index(self) -> u32 {
        self.0
    }
}

/// What the table keeps of one site: its key (location and kind), its id, and the bytes one of its
/// timers holds. Its counters are beside it in its chunk, one row per stripe.
pub(crate) struct SiteRecord {
    location: &'static Location<'static>,
    kind: Kind,
    id: SiteId,
    /// Bytes one armed timer of this site holds (its entry, wheel node, channel, closure). For an
    /// overflow record, those of the first timer past the limit of its kind.
    #[cfg_attr(not(feature = "profile"), allow(dead_code))]
    bytes_each: u64,
    /// Bytes one timer of this site holds as it is created: its entry alone if it is created parked
    /// (by the system clock's `Timer::new` and `Ticker::new`, and `tick`), else `bytes_each`. A site
    /// whose timers are created both ways (a line that makes them on a fake clock and on the system
    /// clock) keeps the parked figure once it has seen one.
    // `std`'s atomic, in the static `TABLE`: a figure read only for reports, `Relaxed`.
    #[cfg(feature = "profile")]
    bytes_parked: AtomicU64,
}

/// `CHUNK` consecutive sites: their records, and their counters in every stripe.
struct Chunk {
    records: [OnceLock<SiteRecord>; CHUNK],
    /// `counts[stripe][id % CHUNK]`. Each stripe's row is padded, so that two stripes' rows never
    /// share a cache line: a row is written by one thread only (or atomically, the shared one).
    #[cfg(feature = "profile")]
    counts: [CachePadded<[Counts; CHUNK]>; OWNED + 1],
}

/// The sites. A chunk is allocated whole when its first site is recorded; neither it nor a record
/// is ever freed or changed once set, so reading one takes no lock.
static TABLE: [OnceLock<Box<Chunk>>; CHUNKS] = [const { OnceLock::new() }; CHUNKS];

/// How many of the ids below `MAX_SITES` are taken. Stored (Release) after the record and its index
/// entry are published.
// `std`'s atomic, as a static: written only under `record.rs`'s lock, and a plain Release/Acquire
// publication of records that never change, which the tests' threads check.
pub(super) static TAKEN: AtomicU32 = AtomicU32::new(0);

/// The chunk of an id that has been published.
fn chunk(id: SiteId) -> &'static Chunk {
    TABLE[id.0 as usize / CHUNK]
        .get()
        .expect("gotimer: a SiteId names a published record")
}

/// The record of site `id`.
pub(crate) fn stats(id: SiteId) -> &'static SiteRecord {
    chunk(id).records[id.0 as usize % CHUNK]
        .get()
        .expect("gotimer: a SiteId names a published record")
}

/// Publishes the record of a new id (under `record.rs`'s lock, or for an overflow record, once):
/// `bytes_parked` is the parked size if the site's first timer was created parked.
pub(super) fn publish(
    id: u32,
    location: &'static Location<'static>,
    kind: Kind,
    bytes_each: u64,
    bytes_parked: Option<u64>,
) -> &'static SiteRecord {
    let chunk = TABLE[id as usize / CHUNK].get_or_init(|| {
        Box::new(Chunk {
            records: [const { OnceLock::new() }; CHUNK],
            #[cfg(feature = "profile")]
            counts: [const { CachePadded::new([const { Counts::zero() }; CHUNK]) }; OWNED + 1],
        })
    });
    #[cfg(not(feature = "profile"))]
    let _ = bytes_parked;
    chunk.records[id as usize % CHUNK].get_or_init(|| SiteRecord {
        location,
        kind,
        id: SiteId(id),
        bytes_each,
        #[cfg(feature = "profile")]
        bytes_parked: AtomicU64::new(bytes_parked.unwrap_or(bytes_each)),
    })
}

/// Every site seen so far, in id order: the recorded ones, then the overflow records in use.
#[cfg(feature = "profile")]
pub(crate) fn all() -> Vec<&'static SiteRecord> {
    let taken = TAKEN.load(Acquire);
    let overflow = (MAX_SITES..IDS as u32).filter_map(|id| {
        TABLE[id as usize / CHUNK]
            .get()
            .and_then(|c| c.records[id as usize % CHUNK].get())
    });
    (0..taken)
        .map(|id| stats(SiteId(id)))
        .chain(overflow)
        .collect()
}

/// The counters of site `id` in stripe `s`.
#[cfg(feature = "profile")]
#[inline]
pub(super) fn counts(s: u8, id: SiteId) -> &'static Counts {
    &chunk(id).counts[s as usize][id.0 as usize % CHUNK]
}

/// The timers created at site `id` so far, in every stripe: a sum of relaxed loads, for the cold
/// path of `chain::sample`.
#[cfg(feature = "profile")]
pub(super) fn created_total(id: SiteId) -> u64 {
    stats(id).sum(|c| &c.created)
}

impl SiteRecord {
    pub(crate) fn location(&self) -> &'static Location<'static> {
        self.location
    }

    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }

    pub(crate) fn id(&self) -> SiteId {
        self.id
    }

    #[cfg(feature = "profile")]
    pub(crate) fn bytes_each(&self) -> u64 {
        self.bytes_each
    }

    /// Bytes a parked timer of this site holds.
    #[cfg(feature = "profile")]
    pub(crate) fn bytes_parked(&self) -> u64 {
        self.bytes_parked.load(Relaxed)
    }

    /// Sets the bytes a parked timer of this site holds: the size its parked timers last gave.
    #[cfg(feature = "profile")]
    pub(super) fn set_bytes_parked(&self, bytes: u64) {
        self.bytes_parked.store(bytes, Relaxed);
    }

    /// Whether this is the shared record of the sites of its kind past [`MAX_SITES`].
    #[cfg(feature = "profile")]
    pub(crate) fn is_overflow(&self) -> bool {
        self.id.0 >= MAX_SITES
    }

    /// The file, line and column the profile shows: the call site's, or for an overflow record,
    /// `OVERFLOW_FILE`, 0, 0.
    #[cfg(feature = "profile")]
    pub(crate) fn place(&self) -> (&'static str, u32, u32) {
        if self.is_overflow() {
            (OVERFLOW_FILE, 0, 0)
        } else {
            let l = self.location;
            (l.file(), l.line(), l.column())
        }
    }

    /// A counter of this site summed over the stripes, wrapping as the counters do.
    #[cfg(feature = "profile")]
    fn sum(&self, field: impl Fn(&Counts) -> &AtomicU64) -> u64 {
        let i = self.id.0 as usize % CHUNK;
        chunk(self.id)
            .counts
            .iter()
            .map(|stripe| field(&stripe[i]).load(Relaxed))
            .fold(0, u64::wrapping_add)
    }

    #[cfg(feature = "profile")]
    pub(crate) fn created(&self) -> u64 {
        self.sum(|c| &c.created)
    }

    /// Timers of this site alive now. `freed` is read first, so a racing creation can only make the
    /// figure higher, never wrap below zero.
    #[cfg(feature = "profile")]
    pub(crate) fn live(&self) -> u64 {
        let freed = self.sum(|c| &c.freed);
        self.created().saturating_sub(freed)
    }

    /// Of `live` timers, how many were armed after being created parked. A racing arm or free can
    /// leave the wrapping sum a little off for one snapshot: it is clamped to `0..=live`.
    #[cfg(feature = "profile")]
    pub(crate) fn armed(&self, live: u64) -> u64 {
        let i = self.id.0 as usize % CHUNK;
        let sum = chunk(self.id).counts.iter().fold(0u32, |a, stripe| {
            a.wrapping_add(stripe[i].armed.load(Relaxed))
        });
        if (sum as i32) < 0 {
            0
        } else {
            u64::from(sum).min(live)
        }
    }
}

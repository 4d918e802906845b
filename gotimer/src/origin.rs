//! Where a timer was created, and the per-site accounting that the profile reads.
//!
//! An `Origin` names its call site in `crate::sites`. With the `profile` feature (the default) the
//! site's counters count the timer's creation here, its arming (a parked timer given its channel)
//! and its freeing when its entry drops, and one timer in so many has its call chain recorded
//! (`sites::chain`); without the feature the site only gives the `#[track_caller]` location for
//! the panic report of `after_func`.
//!
//! The dependency goes one way: an origin is a handle to a site, so this module uses `sites`, and
//! `sites` (which owns [`Kind`], part of a site's key) knows nothing of origins.

use crate::sites::{self, tag};
use std::panic::Location;
// `std`'s atomic, not `crate::sync`'s: the tag is read `Relaxed` for reports and profiles only, and
// no ordering argument rests on it.
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

pub(crate) use crate::sites::Kind;

pub(crate) struct Origin {
    /// The timer's tag in `crate::sites` (`sites::tag`): its site or its sampled chain, and whether
    /// it was armed after being created parked. 4 bytes, not an 8-byte pointer, so an entry stays small. Only `arm` changes
    /// it, under the shard lock, and only `on_free` reads the flag after that, once the entry is
    /// no longer shared: `Relaxed` suffices.
    tag: AtomicU32,
}

impl Origin {
    /// Records the creation of a timer of `kind` at `location` that holds `bytes_each` bytes: one
    /// that can deliver from the start (a callback, or a channel timer of a fake clock).
    #[inline(always)]
    pub(crate) fn new(location: &'static Location<'static>, kind: Kind, bytes_each: u64) -> Self {
        Origin {
            tag: AtomicU32::new(sites::create_tag(location, kind, bytes_each, None)),
        }
    }

    /// Records the creation of a parked channel timer: it holds `parked_bytes` (its entry) until its
    /// channel is made ([`Origin::on_arm`]), and `bytes_each` from then on.
    #[inline(always)]
    pub(crate) fn parked(
        location: &'static Location<'static>,
        kind: Kind,
        bytes_each: u64,
        parked_bytes: u64,
    ) -> Self {
        Origin {
            tag: AtomicU32::new(sites::create_tag(
                location,
                kind,
                bytes_each,
                Some(parked_bytes),
            )),
        }
    }

    /// Where the timer was created. For a site past the site table's limit, a line of `sites/record.rs`
    /// that says so.
    pub(crate) fn location(&self) -> &'static Location<'static> {
        Origin::location_of(self.tag())
    }

    /// The origin's tag, one load: kept by whoever may need the location after the entry is gone
    /// (a callback's panic report), and decoded only then ([`Origin::location_of`]).
    #[inline]
    pub(crate) fn tag(&self) -> u32 {
        self.tag.load(Relaxed)
    }

    /// The location of a tag read by [`Origin::tag`]: sites and chains are never freed, so it
    /// stays valid after its timer is.
    pub(crate) fn location_of(tag: u32) -> &'static Location<'static> {
        sites::stats(sites::site_of(tag)).location()
    }

    /// Records that a parked timer was given its channel (its first `c()`).
    #[inline]
    pub(crate) fn on_arm(&self) {
        let old = self.tag.fetch_or(tag::ARMED, Relaxed);
        #[cfg(feature = "profile")]
        if old & tag::ARMED == 0 {
            sites::on_arm(old);
        }
        #[cfg(not(feature = "profile"))]
        let _ = old;
    }

    /// Records that the timer's entry was freed, before its allocation is kept for reuse
    /// (`runtime/spare.rs`): its `on_free` counts nothing after this.
    #[inline]
    pub(crate) fn retire(&mut self) {
        self.on_free();
        *self.tag.get_mut() = tag::RETIRED;
    }

    /// Moves `fresh`'s tag here, for a spare entry made new in place (`runtime/spare.rs`), and
    /// leaves `fresh` retired.
    #[inline]
    pub(crate) fn take_from(&self, fresh: &mut Origin) {
        let tag = std::mem::replace(fresh.tag.get_mut(), tag::RETIRED);
        self.tag.store(tag, Relaxed);
    }

    /// Records that the timer's entry was freed.
    #[inline]
    pub(crate) fn on_free(&self) {
        #[cfg(feature = "profile")]
        {
            // A retired origin (a spare's, or the fresh one a spare took its tag from, dropped as
            // each sleep is made) counts nothing: looked at here, without the out-of-line call.
            let tag = self.tag.load(Relaxed);
            if tag != tag::RETIRED {
                sites::on_free_tag(tag);
            }
        }
    }

    /// The site's id in `crate::sites`, dense from 0: an index into per-site arrays.
    #[cfg(feature = "profile")]
    pub(crate) fn id(&self) -> u32 {
        sites::site_of(self.tag()).index()
    }
}

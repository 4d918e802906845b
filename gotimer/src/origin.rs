//! Where a timer was created, and the per-site accounting that the profile reads.
//!
//! An `Origin` names its call site in `crate::sites`. With the `profile` feature (the default) the
//! site's counters count the timer's creation here and its freeing when its entry drops; without it
//! the site only gives the `#[track_caller]` location for the panic report of `after_func`.
//!
//! The dependency goes one way: an origin is a handle to a site, so this module uses `sites`, and
//! `sites` (which owns [`Kind`], part of a site's key) knows nothing of origins.

use crate::sites::{self, SiteId};
use std::panic::Location;

pub(crate) use crate::sites::Kind;

#[derive(Clone, Copy)]
pub(crate) struct Origin {
    /// The site's id in `crate::sites`: 4 bytes, not an 8-byte pointer, so an entry stays small.
    site: SiteId,
}

impl Origin {
    /// Records the creation of a timer of `kind` at `location` that holds `bytes_each` bytes.
    #[inline(always)]
    pub(crate) fn new(location: &'static Location<'static>, kind: Kind, bytes_each: u64) -> Self {
        Origin {
            site: sites::create(location, kind, bytes_each),
        }
    }

    /// Where the timer was created. For a site past the site table's limit, a line of `sites.rs`
    /// that says so.
    pub(crate) fn location(self) -> &'static Location<'static> {
        sites::stats(self.site).location()
    }

    /// Records that the timer's entry was freed.
    #[inline]
    pub(crate) fn on_free(self) {
        #[cfg(feature = "profile")]
        sites::on_free(self.site);
    }

    /// The site's id in `crate::sites`, dense from 0: an index into per-site arrays.
    #[cfg(feature = "profile")]
    pub(crate) fn id(self) -> u32 {
        self.site.index()
    }
}

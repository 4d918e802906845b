//! Call sites: one record per (call site, kind), created on the site's first timer and kept for the
//! life of the process, and, with the `profile` feature, its counters. Without the feature a site is
//! only interned, for the panic report of `after_func`.
//!
//! A timer's `Origin` calls in through `cache.rs` and keeps a 4-byte tag (`tag.rs`) that names its
//! site by its `SiteId`, or its sampled call chain (`chain.rs`). The parts, each a file:
//!
//! | file | what |
//! | --- | --- |
//! | `cache.rs` | a thread's cache of sites and its stripe: the hot path of every creation and free |
//! | `chain.rs` | the sampled call chains above a site (feature `profile`) |
//! | `record.rs` | a cache miss: the index probe, the lock that records a new site, the overflow records |
//! | `index.rs` | the lock-free index from a site's key to its id |
//! | `tag.rs` | the bits of a timer's tag |
//! | `table.rs` | the records and their counters, by id, in chunks; the table's bound |
//! | `stripes.rs` | the counters of one stripe, and which thread owns which stripe (feature `profile`) |
//! | `kind.rs` | [`Kind`], what a site creates (public as `gotimer::profile::Kind`) |
//!
//! Each file imports only files below it in this table, so there is no import circle.

mod cache;
#[cfg(feature = "profile")]
pub(crate) mod chain;
mod index;
mod kind;
mod record;
#[cfg(feature = "profile")]
mod stripes;
mod table;
pub(crate) mod tag;

#[cfg(all(test, feature = "profile"))]
mod chain_tests;
#[cfg(all(test, feature = "profile"))]
mod tests;

pub(crate) use cache::{create_tag, site_of};
#[cfg(feature = "profile")]
pub(crate) use cache::{on_arm, on_free_tag};
pub use kind::Kind;
#[cfg(feature = "profile")]
pub(crate) use table::all;
pub(crate) use table::stats;

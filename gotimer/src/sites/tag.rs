//! A timer's tag, as its `Origin` keeps it in 4 bytes: its site's id, or with [`CHAIN`], the id of
//! its sampled call chain (which names the site) and the chain's weight; and [`ARMED`] once it was
//! given its channel after being created parked. 4 bytes, not a pointer, so that with the entry's
//! own `u32` state an `after_func` entry stays at 8 bytes plus its closure.
//!
//! The layout is here, apart from what reads it (`cache.rs`) and what makes a chain's tag
//! (`chain.rs`), so that both name one set of bits.

use super::table::IDS;

/// The timer was created parked (no channel) and has been armed since.
pub(crate) const ARMED: u32 = 1 << 31;
/// The low bits are a chain id (`chain::CHAIN_BITS` of them), and bits `SHIFT..SHIFT + 5` the
/// `log2` of the chain's weight.
pub(crate) const CHAIN: u32 = 1 << 30;
/// Where a chain's weight starts.
#[cfg_attr(not(feature = "profile"), allow(dead_code))]
pub(crate) const SHIFT: u32 = 16;
/// The id bits, of a site or a chain.
#[cfg_attr(not(feature = "profile"), allow(dead_code))]
pub(crate) const ID: u32 = (1 << SHIFT) - 1;

/// The tag of an origin already counted freed, whose entry is kept for reuse: never a timer's (a
/// chain's tag leaves the bits above its weight clear).
pub(crate) const RETIRED: u32 = u32::MAX;

// A site's id is below both flags.
const _: () = assert!((IDS as u32) < CHAIN);

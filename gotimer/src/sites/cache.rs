//! A thread's view of the site table, and the calls a timer makes through it: [`create_tag`] on
//! every timer creation, [`on_arm`], [`on_free_tag`], and [`site_of`] to read a tag back.
//!
//! # The hot path
//!
//! `create_tag` runs on every timer creation, so it goes through a small direct-mapped cache per
//! thread, keyed by the address of the `Location` that `#[track_caller]` hands us. A hit touches
//! the thread-local and the one counter it bumps (in the thread's own stripe, `stripes.rs`),
//! nothing shared. A miss is resolved by `record.rs`: a lock-free probe of the index, and a lock
//! only for a site never seen. The thread-local also keeps which stripe the thread owns, so that
//! the hot path reads one thread-local, not two.

#[cfg(feature = "profile")]
use super::chain;
use super::kind::Kind;
use super::record::resolve;
#[cfg(feature = "profile")]
use super::stripes::{self, add32, bump, Counts, SHARED, UNSET};
#[cfg(feature = "profile")]
use super::table::counts;
use super::table::SiteId;
use super::tag;
use std::cell::Cell;
use std::panic::Location;
#[cfg(feature = "profile")]
use std::sync::atomic::Ordering::Relaxed;

const CACHE_SLOTS: usize = 64;

/// A cached site: what `create_tag` needs, so that a hit reads nothing shared but the counter.
#[derive(Clone, Copy)]
struct Cached {
    /// The `Location`'s address.
    addr: usize,
    kind: Kind,
    id: SiteId,
    /// The site's counters in this thread's stripe.
    #[cfg(feature = "profile")]
    counts: &'static Counts,
}

/// A thread's view of the registry: one thread-local, so the hot path touches one.
struct Local {
    /// This thread's stripe: `UNSET` until its first timer.
    #[cfg(feature = "profile")]
    stripe: Cell<u8>,
    /// Direct-mapped by `Location` address: the sites this thread created timers at lately. Every
    /// entry's `counts` are in the stripe `stripe` names: the cache is cleared when that changes.
    cache: [Cell<Option<Cached>>; CACHE_SLOTS],
}

thread_local! {
    /// No destructor, so it stays readable while other thread-locals (holding timers, say) are
    /// dropped at thread exit.
    static LOCAL: Local = const {
        Local {
            #[cfg(feature = "profile")]
            stripe: Cell::new(UNSET),
            cache: [const { Cell::new(None) }; CACHE_SLOTS],
        }
    };
    /// Gives an owned stripe back when the thread exits.
    #[cfg(feature = "profile")]
    static OWNERSHIP: Ownership = const { Ownership(Cell::new(UNSET)) };
}

#[cfg(feature = "profile")]
struct Ownership(Cell<u8>);

#[cfg(feature = "profile")]
impl Drop for Ownership {
    fn drop(&mut self) {
        // Count in the shared stripe from now on (timers dropped by later destructors): forget the
        // cached counters of ours, then let another thread have it.
        LOCAL.with(|l| {
            l.stripe.set(SHARED);
            l.cache.iter().for_each(|c| c.set(None));
        });
        stripes::release(self.0.get());
    }
}

/// This thread's stripe, taking a free one on first use.
#[cfg(feature = "profile")]
#[inline]
fn stripe(local: &Local) -> u8 {
    let s = local.stripe.get();
    if s != UNSET {
        return s;
    }
    take_stripe(local)
}

#[cfg(feature = "profile")]
#[cold]
fn take_stripe(local: &Local) -> u8 {
    let taken = stripes::claim();
    // Registers the destructor that gives the stripe back. If thread-locals are already being torn
    // down, keep counting in the shared stripe instead.
    if taken != SHARED && OWNERSHIP.try_with(|o| o.0.set(taken)).is_err() {
        stripes::release(taken);
        local.stripe.set(SHARED);
        return SHARED;
    }
    local.stripe.set(taken);
    taken
}

/// Returns the site of a timer of `kind` created at `location`, each holding `bytes_each` bytes,
/// and counts the creation.
#[cfg(all(test, feature = "profile"))]
pub(crate) fn create(location: &'static Location<'static>, kind: Kind, bytes_each: u64) -> SiteId {
    site_of(create_tag(location, kind, bytes_each, None))
}

/// The site a tag names.
#[inline]
pub(crate) fn site_of(tag: u32) -> SiteId {
    #[cfg(feature = "profile")]
    if tag & tag::CHAIN != 0 {
        return chain::get(tag & tag::ID).site;
    }
    SiteId(tag & !(tag::ARMED | tag::CHAIN))
}

/// Records the creation of a timer of `kind` at `location` and returns its tag. Each timer of the
/// site holds `bytes_each` bytes once armed; `parked` gives the bytes of one created parked (no
/// channel), and says that this one is.
#[inline(always)]
pub(crate) fn create_tag(
    location: &'static Location<'static>,
    kind: Kind,
    bytes_each: u64,
    parked: Option<u64>,
) -> u32 {
    let addr = location as *const Location<'static> as usize;
    LOCAL.with(|l| {
        #[cfg(feature = "profile")]
        let s = stripe(l);
        let cell = &l.cache[(addr >> 4) % CACHE_SLOTS];
        let site = match cell.get() {
            Some(c) if c.addr == addr && c.kind == kind => c,
            _ => {
                let id = resolve(location, kind, bytes_each, parked);
                let c = Cached {
                    addr,
                    kind,
                    id,
                    #[cfg(feature = "profile")]
                    counts: counts(s, id),
                };
                cell.set(Some(c));
                c
            }
        };
        #[cfg(feature = "profile")]
        {
            let n = bump(&site.counts.created, s);
            let next = site.counts.next_chain.load(Relaxed);
            if (n as u32 ^ next) & chain::ORDINAL_MASK == 0 {
                return chain::sample(&site.counts.next_chain, site.id, n);
            }
        }
        site.id.0
    })
}

/// Counts a timer of site `id` freed on the calling thread.
#[cfg(all(test, feature = "profile"))]
pub(crate) fn on_free(id: SiteId) {
    on_free_tag(id.0)
}

/// Counts the timer of `tag` freed on the calling thread (and, if it was parked, no longer parked;
/// if its chain was recorded, its weight no longer live).
#[cfg(feature = "profile")]
#[inline]
pub(crate) fn on_free_tag(tag: u32) {
    if tag & (tag::ARMED | tag::CHAIN) != 0 {
        return on_free_cold(tag);
    }
    let id = SiteId(tag);
    LOCAL.with(|l| {
        let s = stripe(l);
        bump(&counts(s, id).freed, s);
    });
}

/// `on_free_tag` for a timer armed after being parked, or whose chain was recorded.
#[cfg(feature = "profile")]
#[cold]
#[inline(never)]
fn on_free_cold(tag: u32) {
    if tag == tag::RETIRED {
        return;
    }
    let id = site_of(tag);
    LOCAL.with(|l| {
        let s = stripe(l);
        let c = counts(s, id);
        bump(&c.freed, s);
        if tag & tag::ARMED != 0 {
            add32(&c.armed, s, u32::MAX);
        }
    });
    if tag & tag::CHAIN != 0 {
        chain::on_free(tag & tag::ID, tag >> tag::SHIFT & 31);
    }
}

/// Counts the parked timer of `tag` armed (given its channel) on the calling thread.
#[cfg(feature = "profile")]
pub(crate) fn on_arm(tag: u32) {
    let id = site_of(tag);
    LOCAL.with(|l| {
        let s = stripe(l);
        add32(&counts(s, id).armed, s, 1);
    });
}

//! `Rt`: a runtime as clocks hold it, the system one or a manual one, and the one place that tells
//! them apart; and `ShardRt`, the same with one of its shards, packed in a word, as a timer's
//! handle holds it.

use super::core::Core;
use super::entry::AfterUnlock;
use super::manual::ManualRuntime;
use super::stats::Stats;
use super::system::SystemRuntime;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::Arc;

/// The system runtime (a static, by its address), or a fake clock's manual runtime (shared by the
/// clock and every handle of it).
#[derive(Clone)]
pub(crate) enum Rt {
    System(&'static SystemRuntime),
    Manual(Arc<ManualRuntime>),
}

impl Rt {
    /// The system runtime, started by the first call.
    #[inline]
    pub(crate) fn system() -> Rt {
        Rt::System(SystemRuntime::get())
    }

    /// The time line and shards, which both runtimes share the code of.
    #[inline]
    pub(crate) fn core(&self) -> &Core {
        match self {
            Rt::System(rt) => rt.core(),
            Rt::Manual(rt) => rt.core(),
        }
    }

    /// True for a fake clock's runtime.
    pub(crate) fn is_fake(&self) -> bool {
        matches!(self, Rt::Manual(..))
    }

    /// Two handles of the same runtime.
    pub(crate) fn same(&self, other: &Rt) -> bool {
        std::ptr::eq(self.core(), other.core())
    }

    pub(crate) fn stats(&self) -> Stats {
        match self {
            Rt::System(rt) => rt.stats(),
            Rt::Manual(rt) => rt.stats(),
        }
    }
}

/// A runtime and one of its shards, in one word, as a timer's handle keeps them, so that a task's
/// `Sleep` is two words: its entry and this.
///
/// The word is a pointer, tagged in its low bits, which both runtimes' alignments leave clear:
/// - the system runtime's (aligned to [`SYSTEM_ALIGN`]), with `shard << 1 | 1` in the bits below
///   the alignment;
/// - or a manual runtime's `Arc` (`Arc::into_raw`), with the lowest bit clear, whose strong count
///   this holds. A manual runtime has one shard, index 0.
pub(crate) struct ShardRt {
    word: NonNull<u8>,
    /// Holds a manual runtime's `Arc` (or borrows the system runtime forever), for drop checking.
    _holds: PhantomData<Arc<ManualRuntime>>,
}

/// The system runtime's alignment (`#[repr(align)]` on `SystemRuntime`): room below it for the
/// tag bit and the index of any of its shards (at most 256).
pub(crate) const SYSTEM_ALIGN: usize = 512;
const SYSTEM_TAG: usize = 1;
const SHARD_MASK: usize = SYSTEM_ALIGN - 2;

const _: () = {
    assert!(std::mem::align_of::<SystemRuntime>() == SYSTEM_ALIGN);
    assert!(SHARD_MASK >> 1 >= super::system::MAX_SHARDS - 1);
    // A manual runtime's pointer has its lowest bit clear, which tells it from the system's.
    assert!(std::mem::align_of::<ManualRuntime>() >= 2);
};

// SAFETY: a `ShardRt` is a `&'static SystemRuntime` or an `Arc<ManualRuntime>`, each `Send` and
// `Sync` (checked below), as a tagged pointer.
unsafe impl Send for ShardRt {}
// SAFETY: as for `Send`: it only gives out `&` to runtimes that are `Sync`.
unsafe impl Sync for ShardRt {}
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<&'static SystemRuntime>();
    send_sync::<Arc<ManualRuntime>>();
};

/// What a `ShardRt`'s word stands for.
enum Unpacked<'a> {
    System(&'static SystemRuntime, u32),
    Manual(&'a ManualRuntime),
}

impl ShardRt {
    /// `rt` with the index of its shard `shard`, which is one of `rt`'s (a manual runtime has only
    /// shard 0): it comes from `Core::local_shard`, so that is checked in debug builds only.
    #[inline]
    pub(crate) fn new(rt: Rt, shard: u32) -> ShardRt {
        debug_assert!(
            (shard as usize) < rt.core().shard_count(),
            "gotimer: shard {shard} out of range"
        );
        let word = match rt {
            Rt::System(rt) => NonNull::from(rt)
                .cast::<u8>()
                .map_addr(|a| a | (shard as usize) << 1 | SYSTEM_TAG),
            // A manual runtime has one shard, so the index (0) need not be kept.
            // SAFETY: `Arc::into_raw` never gives a null pointer.
            Rt::Manual(rt) => {
                unsafe { NonNull::new_unchecked(Arc::into_raw(rt).cast_mut()) }.cast::<u8>()
            }
        };
        ShardRt {
            word,
            _holds: PhantomData,
        }
    }

    #[inline(always)]
    fn manual(&self) -> Option<*const ManualRuntime> {
        let word = self.word.as_ptr();
        (word.addr() & SYSTEM_TAG == 0).then_some(word.cast::<ManualRuntime>().cast_const())
    }

    #[inline(always)]
    fn unpack(&self) -> Unpacked<'_> {
        let word = self.word.as_ptr();
        match self.manual() {
            // SAFETY: the pointer `Arc::into_raw` gave in `new` (or a clone of it), whose strong
            // count this `ShardRt` holds until its drop: the runtime outlives the borrow of
            // `self`.
            Some(manual) => Unpacked::Manual(unsafe { &*manual }),
            None => {
                let shard = (word.addr() & SHARD_MASK) >> 1;
                let rt = word.map_addr(|a| a & !(SYSTEM_ALIGN - 1));
                // SAFETY: with its tag and index cleared, the word is the `&'static SystemRuntime`
                // given to `new`, with its provenance (`map_addr`).
                Unpacked::System(unsafe { &*rt.cast::<SystemRuntime>() }, shard as u32)
            }
        }
    }

    /// The time line and shards.
    #[inline]
    pub(crate) fn core(&self) -> &Core {
        match self.unpack() {
            Unpacked::System(rt, _) => rt.core(),
            Unpacked::Manual(rt) => rt.core(),
        }
    }

    /// The index of the shard, in `core()`.
    #[inline]
    pub(crate) fn shard_index(&self) -> u32 {
        match self.unpack() {
            Unpacked::System(_, shard) => shard,
            Unpacked::Manual(_) => 0,
        }
    }

    /// Hands what a transition left for after the lock to the runtime that owns the shard.
    #[inline(always)]
    pub(crate) fn after_unlock(&self, done: AfterUnlock) {
        if !done.is_empty() {
            self.hand_over(done);
        }
    }

    fn hand_over(&self, done: AfterUnlock) {
        match self.unpack() {
            Unpacked::System(rt, _) => rt.after_unlock(done),
            Unpacked::Manual(rt) => rt.after_unlock(done),
        }
    }
}

impl Clone for ShardRt {
    #[inline]
    fn clone(&self) -> ShardRt {
        if let Some(manual) = self.manual() {
            // SAFETY: a pointer from `Arc::into_raw` whose count `self` holds (see `unpack`), so
            // the `Arc` is alive; the new count is the clone's, given back by its drop.
            unsafe { Arc::increment_strong_count(manual) };
        }
        ShardRt {
            word: self.word,
            _holds: PhantomData,
        }
    }
}

impl Drop for ShardRt {
    #[inline]
    fn drop(&mut self) {
        if let Some(manual) = self.manual() {
            // SAFETY: a pointer from `Arc::into_raw` (or a clone's count, taken by
            // `increment_strong_count`), and this is the one drop of the count it holds.
            drop(unsafe { Arc::from_raw(manual) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Rt, ShardRt};
    use crate::runtime::manual::ManualRuntime;
    use crate::runtime::system::{SystemRuntime, MAX_SHARDS};
    use std::sync::Arc;

    /// A manual runtime's `ShardRt` holds one count of its `Arc` per clone, and gives each back:
    /// the runtime is freed with the last.
    #[test]
    fn a_manual_runtime_is_counted_by_each_clone() {
        let manual = Arc::new(ManualRuntime::new());
        let weak = Arc::downgrade(&manual);
        let a = ShardRt::new(Rt::Manual(manual.clone()), 0);
        assert_eq!(Arc::strong_count(&manual), 2);
        let b = a.clone();
        assert_eq!(Arc::strong_count(&manual), 3);
        assert!(std::ptr::eq(a.core(), manual.core()));
        assert!(std::ptr::eq(b.core(), manual.core()));
        assert_eq!((a.shard_index(), b.shard_index()), (0, 0));
        drop(manual);
        drop(a);
        assert!(weak.upgrade().is_some(), "b still holds it");
        drop(b);
        assert!(weak.upgrade().is_none(), "freed with the last");
    }

    /// The system runtime's word keeps the shard index, for every shard.
    #[test]
    fn the_system_runtime_keeps_its_shard() {
        let count = Rt::system().core().shard_count() as u32;
        for shard in 0..count {
            let rt = ShardRt::new(Rt::system(), shard);
            assert_eq!(rt.clone().shard_index(), shard);
            assert!(std::ptr::eq(rt.core(), Rt::system().core()));
        }
    }

    /// A system runtime that is not the process's (as the loom models make) is found again from
    /// the word, with its shard.
    #[test]
    fn any_system_runtime_is_kept_by_its_address() {
        let leaked: &'static SystemRuntime =
            Box::leak(Box::new(SystemRuntime::unstarted(MAX_SHARDS)));
        for shard in 0..MAX_SHARDS as u32 {
            let rt = ShardRt::new(Rt::System(leaked), shard);
            assert!(std::ptr::eq(rt.core(), leaked.core()));
            assert_eq!(rt.shard_index(), shard);
        }
    }

    #[test]
    #[should_panic(expected = "gotimer: 257 shards, more than 256")]
    fn a_system_runtime_has_at_most_max_shards() {
        let _ = SystemRuntime::unstarted(MAX_SHARDS + 1);
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "gotimer: shard 1 out of range")]
    fn a_manual_runtime_has_one_shard() {
        let _ = ShardRt::new(Rt::Manual(Arc::new(ManualRuntime::new())), 1);
    }
}

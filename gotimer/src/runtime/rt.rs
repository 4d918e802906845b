//! `Rt`: a runtime as handles and clocks hold it, the system one or a manual one, and the one place
//! that tells them apart.

use super::core::Core;
use super::entry::AfterUnlock;
use super::manual::ManualRuntime;
use super::stats::Stats;
use super::system::SystemRuntime;
use std::sync::Arc;

/// The system runtime (a static, by its address, so that `stop`/`reset` need not check that it is
/// started), or a fake clock's manual runtime (shared by the clock and every handle of it).
///
/// With `S`, a small value kept beside it in the same 16 bytes, next to the variant's tag: a
/// handle's shard index (`Rt<u32>`), which makes a task's `Sleep` 24 bytes instead of 32.
#[derive(Clone)]
pub(crate) enum Rt<S = ()> {
    System(&'static SystemRuntime, S),
    Manual(Arc<ManualRuntime>, S),
}

impl Rt {
    /// The system runtime, started by the first call.
    #[inline]
    pub(crate) fn system() -> Rt {
        Rt::System(SystemRuntime::get(), ())
    }

    /// The runtime with `s` beside it.
    #[inline]
    pub(crate) fn with<S>(self, s: S) -> Rt<S> {
        match self {
            Rt::System(rt, ()) => Rt::System(rt, s),
            Rt::Manual(rt, ()) => Rt::Manual(rt, s),
        }
    }
}

impl<S: Copy> Rt<S> {
    /// What is kept beside the runtime.
    #[inline]
    pub(crate) fn beside(&self) -> S {
        match self {
            Rt::System(_, s) | Rt::Manual(_, s) => *s,
        }
    }
}

impl<S> Rt<S> {
    /// The time line and shards, which both runtimes share the code of.
    #[inline]
    pub(crate) fn core(&self) -> &Core {
        match self {
            Rt::System(rt, _) => rt.core(),
            Rt::Manual(rt, _) => rt.core(),
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
        match self {
            Rt::System(rt, _) => rt.after_unlock(done),
            Rt::Manual(rt, _) => rt.after_unlock(done),
        }
    }

    /// True for a fake clock's runtime.
    pub(crate) fn is_fake(&self) -> bool {
        matches!(self, Rt::Manual(..))
    }

    /// Two handles of the same runtime.
    pub(crate) fn same<T>(&self, other: &Rt<T>) -> bool {
        std::ptr::eq(self.core(), other.core())
    }

    pub(crate) fn stats(&self) -> Stats {
        match self {
            Rt::System(rt, _) => rt.stats(),
            Rt::Manual(rt, _) => rt.stats(),
        }
    }
}

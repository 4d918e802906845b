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

    /// Hands what a transition left for after the lock to the runtime that owns the shard.
    #[inline(always)]
    pub(crate) fn after_unlock(&self, done: AfterUnlock) {
        if !done.is_empty() {
            self.hand_over(done);
        }
    }

    fn hand_over(&self, done: AfterUnlock) {
        match self {
            Rt::System(rt) => rt.after_unlock(done),
            Rt::Manual(rt) => rt.after_unlock(done),
        }
    }

    /// True for a fake clock's runtime.
    pub(crate) fn is_fake(&self) -> bool {
        matches!(self, Rt::Manual(_))
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

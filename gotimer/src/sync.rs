//! The synchronisation primitives the crate uses, from `std` or, under `--cfg gotimer_loom`, from gotimer_loom, so
//! that the model checker explores the real code's interleavings, and the one way to lock a mutex.
//!
//! The cfg is `gotimer_loom`, not loom's customary `loom`: the executors among the dev-dependencies
//! (tokio, and smol's `concurrent-queue`) switch on `loom` too, and would then need loom themselves.
//!
//! Every atomic whose ordering a comment argues comes from here, so loom checks the argument. A
//! `static` cannot hold a loom atomic (its constructor is not `const`), so a few stay on `std`'s:
//! each says so where it is declared, and why no ordering argument rests on it (a counter read
//! only for reports, a round-robin cursor, or a flag written once before it is read).

#[cfg(gotimer_loom)]
pub(crate) use loom::sync::{
    atomic::{fence, AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering},
    Mutex, MutexGuard,
};
#[cfg(gotimer_loom)]
#[allow(unused_imports)] // the loom models' driver thread uses these
pub(crate) use loom::thread::{current as current_thread, park, Thread};
#[cfg(not(gotimer_loom))]
pub(crate) use std::sync::{
    atomic::{fence, AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering},
    Mutex, MutexGuard,
};
#[cfg(not(gotimer_loom))]
#[allow(unused_imports)]
pub(crate) use std::thread::{current as current_thread, park, Thread};

/// A mutex that [`lock`] can take: `std`'s, and loom's under `--cfg gotimer_loom` (the crate's statics
/// keep `std`'s, which loom cannot replace, so both kinds are locked the same way).
pub(crate) trait Lock {
    /// What the lock guards.
    type Guard<'a>
    where
        Self: 'a;
    /// Takes the lock, ignoring poisoning (see [`lock`]).
    fn take(&self) -> Self::Guard<'_>;
}

impl<T: ?Sized> Lock for std::sync::Mutex<T> {
    type Guard<'a>
        = std::sync::MutexGuard<'a, T>
    where
        Self: 'a;
    #[inline]
    fn take(&self) -> Self::Guard<'_> {
        self.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(gotimer_loom)]
impl<T> Lock for loom::sync::Mutex<T> {
    type Guard<'a>
        = loom::sync::MutexGuard<'a, T>
    where
        Self: 'a;
    fn take(&self) -> Self::Guard<'_> {
        self.lock().unwrap()
    }
}

/// Locks `m`, ignoring poisoning: the crate's one way to take a lock. A mutex is poisoned only by a
/// panic that starts while it is held. No user code runs under a lock of the runtime but a waker's
/// `clone`, under a timer's leaf lock of its wakers (`kinds/wake.rs`, `kinds/tasks.rs`), taken
/// before anything under that lock changes; a panic of the runtime's own under a shard lock is
/// fatal (`runtime/fatal.rs`: the process aborts before the lock is released); and the other locks
/// guard state that every step leaves consistent (a queue, a table, a slot), so a poisoned one is
/// as good as any. Ignoring it avoids a second, less clear, panic.
#[inline]
pub(crate) fn lock<M: Lock + ?Sized>(m: &M) -> M::Guard<'_> {
    m.take()
}

/// Takes `l` for reading, ignoring poisoning as [`lock`] does. For `std`'s `RwLock` only: the
/// crate's one (`report.rs`'s reporter) is a static, which loom's cannot be, and every write to it
/// replaces a value whole, so a poisoned one is as good as any.
#[inline]
pub(crate) fn read<T: ?Sized>(l: &std::sync::RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Takes `l` for writing, ignoring poisoning as [`read`] does.
#[inline]
pub(crate) fn write<T: ?Sized>(l: &std::sync::RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

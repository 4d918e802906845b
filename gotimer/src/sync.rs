//! The synchronisation primitives the runtime uses, from `std` or, under `--cfg loom`, from loom, so
//! that the model checker explores the real code's interleavings.

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{fence, AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering},
    Mutex, MutexGuard,
};
#[cfg(loom)]
pub(crate) use loom::thread::{current as current_thread, park, Thread};
#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{fence, AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering},
    Mutex, MutexGuard,
};
#[cfg(not(loom))]
#[allow(unused_imports)]
pub(crate) use std::thread::{current as current_thread, park, Thread};

/// Locks `m`, ignoring poisoning. A mutex is poisoned only by a panic that starts while it is held;
/// no user code runs under a runtime lock, and a panic of the runtime's own under a shard lock is
/// fatal (`runtime/fatal.rs`: the process aborts before the lock is released). So no runtime lock is
/// ever seen poisoned, and ignoring it only avoids a second, less clear, panic.
#[cfg(not(loom))]
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(loom)]
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap()
}

//! Where a channel kind (`Timer`, `Ticker`) delivers for the tasks that wait on it through
//! `recv_async`, when nobody asked for its crossbeam channel: a slot that holds one value, as the
//! channel would, and the wakers of the tasks waiting. A timer only ever awaited costs this (made on
//! its first `recv_async` poll) and never the channel's 664 bytes.
//!
//! Once the channel is made (a thread called `c()`), values go to the channel, and the slot's
//! value, if one waited there, is moved into it under the shard lock (`Chan::arm_locked`); the
//! tasks then receive from the channel, racing any thread that receives too. Either way every
//! value goes to exactly one receiver, and all the waiting tasks are woken for each (those that
//! find it taken wait again), so that none is left waiting while values come, whichever of them
//! was dropped meanwhile.

use crate::runtime::entry::Held;
use crate::sync::{lock, Mutex};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::task::Waker;
use std::time::Instant;

pub(crate) struct Tasks {
    /// A leaf lock: taken under the shard lock by the firing thread, and alone by the tasks. No
    /// waker runs under it.
    slot: Mutex<Slot>,
}

#[derive(Default)]
struct Slot {
    /// The value waiting, when there is no channel: capacity 1, as the channel's.
    value: Option<Instant>,
    /// The tasks waiting, by the id their future keeps.
    waiters: Vec<(u64, Waker)>,
    /// The id of the next waiter.
    next_id: u64,
}

impl Tasks {
    pub(crate) fn new() -> Self {
        Tasks {
            slot: Mutex::new(Slot::default()),
        }
    }

    /// Puts `value` in the slot if it is empty; a full slot keeps the older value, as a full
    /// channel does (a ticker's later ticks are dropped until it is taken). Under the shard lock.
    pub(super) fn put(&self, _: &Held, value: Instant) {
        lock(&self.slot).value.get_or_insert(value);
    }

    /// True if a task is waiting: the firing thread then wakes them once the lock is released.
    pub(super) fn has_waiters(&self) -> bool {
        !lock(&self.slot).waiters.is_empty()
    }

    /// Takes the value waiting, if any.
    pub(crate) fn take(&self) -> Option<Instant> {
        lock(&self.slot).value.take()
    }

    /// Empties the slot, under the shard lock (a `stop` or `reset`): true if a value was waiting.
    pub(super) fn drain(&self, held: &Held) -> bool {
        self.drain_value(held).is_some()
    }

    /// Takes the value waiting, under the shard lock (the channel is being made).
    pub(super) fn drain_value(&self, _: &Held) -> Option<Instant> {
        self.take()
    }

    /// Records `waker` as waiting, under the id in `waiter` (a new one if it has none, or if a wake
    /// removed it): the same future polled again replaces its waker.
    pub(crate) fn register(&self, waiter: &mut Option<u64>, waker: &Waker) {
        let mut slot = lock(&self.slot);
        if let Some(id) = *waiter {
            if let Some((_, stored)) = slot.waiters.iter_mut().find(|(w, _)| *w == id) {
                if !stored.will_wake(waker) {
                    *stored = waker.clone();
                }
                return;
            }
        }
        let id = slot.next_id;
        slot.next_id += 1;
        slot.waiters.push((id, waker.clone()));
        *waiter = Some(id);
    }

    /// Removes a waiter (its future completed or was dropped).
    pub(crate) fn forget(&self, waiter: u64) {
        lock(&self.slot).waiters.retain(|(id, _)| *id != waiter);
    }

    /// Wakes every waiting task, outside the slot's lock; they register again if they find nothing.
    pub(crate) fn wake_all(&self) {
        let waiters = std::mem::take(&mut lock(&self.slot).waiters);
        // A waker that panics must not cost the others their wake, since none of them is
        // registered any more: all are woken, then the first panic goes on to the caller's guard
        // (`callback::notify`), which counts and reports it.
        let mut first_panic = None;
        for (_, waker) in waiters {
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| waker.wake())) {
                match first_panic {
                    None => first_panic = Some(payload),
                    // A payload whose drop panics must not stop the others' wakes either.
                    Some(_) => drop(catch_unwind(AssertUnwindSafe(move || drop(payload)))),
                }
            }
        }
        if let Some(payload) = first_panic {
            resume_unwind(payload);
        }
    }
}

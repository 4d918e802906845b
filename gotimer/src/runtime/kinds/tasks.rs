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
//!
//! A task stays registered, with its waker, until its future forgets it; between its polls it is
//! waiting or not. An `Interval` receives tick after tick through one registration, so a tick costs
//! its task one lock of the slot per poll (take the value, or mark itself waiting), no waker clone
//! when the task is the same, and no allocation; the firing thread's side is one lock to put the
//! value and see who waits, and one to clone their wakers, which it wakes after that lock. The slot
//! is what a tick moves between the cores, so it is kept to that.
//!
//! A waker's `clone` is foreign code that runs under the slot's lock (the poll's, and the firing
//! thread's in `wake_all`), and the firing thread takes that lock under the shard lock to put a
//! value: a clone that blocks would hold up that shard's timers until it returns. Executors' clones
//! count a reference; `wake`, the call that schedules, runs after every lock.

use crate::runtime::callback::Panics;
use crate::runtime::entry::Held;
use crate::sync::{lock, Mutex};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::task::Waker;
use std::time::Instant;

pub(crate) struct Tasks {
    /// A leaf lock: taken under the shard lock by the firing thread, and alone by the tasks. No
    /// waker is woken under it; wakers are cloned under it (see the module's doc).
    slot: Mutex<Slot>,
}

#[derive(Default)]
struct Slot {
    /// The value waiting, when there is no channel: capacity 1, as the channel's.
    value: Option<Instant>,
    /// The first task registered, kept in the slot itself: a ticker that one task awaits (an
    /// `Interval`) has the value, the lock and the waker on the firing thread's side of one
    /// allocation, and a tick allocates nothing.
    first: Option<Waiter>,
    /// The others, when several tasks wait on one timer.
    rest: Vec<Waiter>,
    /// The id of the next waiter.
    next_id: u64,
}

/// A task registered by its future (which keeps the id), with the waker of its latest poll. It
/// stays registered, with its waker, until the future forgets it; `waiting` says whether a value
/// would wake it now. Keeping the waker lets the next poll of the same task store nothing.
struct Waiter {
    id: u64,
    waker: Waker,
    waiting: bool,
}

impl Slot {
    fn waiters(&mut self) -> impl Iterator<Item = &mut Waiter> {
        self.first.iter_mut().chain(self.rest.iter_mut())
    }

    fn find(&mut self, id: u64) -> Option<&mut Waiter> {
        self.waiters().find(|w| w.id == id)
    }

    /// Marks the task under `waiter` (a new one if it has none, or if it was forgotten) waiting,
    /// with `waker`.
    fn register(&mut self, waiter: &mut Option<u64>, waker: &Waker) {
        if let Some(found) = waiter.and_then(|id| self.find(id)) {
            if !found.waker.will_wake(waker) {
                found.waker = waker.clone();
            }
            found.waiting = true;
            return;
        }
        let id = self.next_id;
        self.next_id += 1;
        let new = Waiter {
            id,
            waker: waker.clone(),
            waiting: true,
        };
        match self.first {
            None => self.first = Some(new),
            Some(_) => self.rest.push(new),
        }
        *waiter = Some(id);
    }

    /// The task under `waiter` received a value: it stays registered, not waiting, if `keep` (a
    /// future that receives again), else it is forgotten.
    fn received(&mut self, waiter: &mut Option<u64>, keep: bool) {
        if keep {
            if let Some(found) = waiter.and_then(|id| self.find(id)) {
                found.waiting = false;
            }
        } else if let Some(id) = waiter.take() {
            self.remove(id);
        }
    }

    /// The value waiting, if any, which the task under `waiter` then received (`received`).
    fn take(&mut self, waiter: &mut Option<u64>, keep: bool) -> Option<Instant> {
        let value = self.value.take()?;
        self.received(waiter, keep);
        Some(value)
    }

    fn remove(&mut self, id: u64) {
        if self.first.as_ref().is_some_and(|w| w.id == id) {
            self.first = self.rest.pop();
        } else {
            self.rest.retain(|w| w.id != id);
        }
    }

    fn has_waiting(&self) -> bool {
        self.first.iter().chain(&self.rest).any(|w| w.waiting)
    }
}

impl Tasks {
    pub(crate) fn new() -> Self {
        Tasks {
            slot: Mutex::new(Slot::default()),
        }
    }

    /// Puts `value` in the slot if it is empty; a full slot keeps the older value, as a full
    /// channel does (a ticker's later ticks are dropped until it is taken). Under the shard lock.
    /// True if a task is waiting: the firing thread then wakes them once the lock is released.
    pub(super) fn put(&self, _: &Held, value: Instant) -> bool {
        let mut slot = lock(&self.slot);
        slot.value.get_or_insert(value);
        slot.has_waiting()
    }

    /// True if a task is waiting: the firing thread then wakes them once the lock is released.
    pub(super) fn has_waiters(&self) -> bool {
        lock(&self.slot).has_waiting()
    }

    /// A task's poll, in one lock: the value waiting, if any (the task under `waiter` then received
    /// it: see `received`), else `None` with the task registered as waiting, with `waker`.
    pub(crate) fn poll(
        &self,
        waiter: &mut Option<u64>,
        waker: &Waker,
        keep: bool,
    ) -> Option<Instant> {
        let mut slot = lock(&self.slot);
        let taken = slot.take(waiter, keep);
        if taken.is_none() {
            slot.register(waiter, waker);
        }
        taken
    }

    /// The value waiting, if any, for the task under `waiter`, which stays registered, not
    /// waiting (`received` with `keep`); `None`, and nothing changed, if the slot is empty.
    pub(crate) fn take_kept(&self, waiter: &mut Option<u64>) -> Option<Instant> {
        lock(&self.slot).take(waiter, true)
    }

    /// Empties the slot, under the shard lock (a `stop` or `reset`): true if a value was waiting.
    pub(super) fn drain(&self, held: &Held) -> bool {
        self.drain_value(held).is_some()
    }

    /// Takes the value waiting, under the shard lock (the channel is being made).
    pub(super) fn drain_value(&self, _: &Held) -> Option<Instant> {
        lock(&self.slot).value.take()
    }

    /// Records `waker` as waiting, under the id in `waiter` (a new one if it has none, or if it
    /// was forgotten): the same future polled again replaces its waker only if it would wake
    /// another task.
    pub(crate) fn register(&self, waiter: &mut Option<u64>, waker: &Waker) {
        lock(&self.slot).register(waiter, waker);
    }

    /// The task under `waiter` received a value from the channel: see `Slot::received`.
    pub(crate) fn received(&self, waiter: &mut Option<u64>, keep: bool) {
        if waiter.is_some() {
            lock(&self.slot).received(waiter, keep);
        }
    }

    /// Removes a waiter (its future completed or was dropped).
    pub(crate) fn forget(&self, waiter: u64) {
        lock(&self.slot).remove(waiter);
    }

    /// Wakes every waiting task, outside the slot's lock; they are no longer waiting, and register
    /// again if they find nothing. One waiting task allocates nothing.
    pub(crate) fn wake_all(&self) {
        let mut one = None;
        let mut more = Vec::new();
        // A waker that panics, in its clone here or in its wake below, must not cost the others
        // their wake: all are woken, then the panics go on to the caller's guard
        // (`callback::notify`), which counts and reports each. One whose clone panicked stays
        // waiting, for the next value.
        let mut panics = Vec::new();
        for w in lock(&self.slot).waiters().filter(|w| w.waiting) {
            match catch_unwind(AssertUnwindSafe(|| w.waker.clone())) {
                Ok(waker) => {
                    w.waiting = false;
                    match one {
                        None => one = Some(waker),
                        Some(_) => more.push(waker),
                    }
                }
                Err(payload) => panics.push(payload),
            }
        }
        for waker in one.into_iter().chain(more) {
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| waker.wake())) {
                panics.push(payload);
            }
        }
        match panics.len() {
            0 => {}
            1 => resume_unwind(panics.remove(0)),
            _ => resume_unwind(Box::new(Panics(panics))),
        }
    }
}

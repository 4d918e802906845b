//! `Handle`: what an API type (`Timer`, `Ticker`) holds to talk to the runtime: its entry, typed by
//! kind, the shard the entry lives in, and its runtime. Every operation is the same code for every
//! kind and both runtimes: it takes the shard lock, runs the entry's transitions (`entry/`), and
//! hands what they leave for after the lock to the runtime (`ShardRt::after_unlock`). A handle
//! does not cancel on drop; the API types decide that.

use super::entry::{AfterUnlock, Delivery, Entry, Held, Share};
use super::kinds::chan::ChannelKind;
use super::kinds::tasks::Tasks;
use super::rt::{Rt, ShardRt};
use super::shard::Shard;
use super::spare;
use super::time::{Due, Timeline};
use crate::origin::{Kind, Origin};
use crossbeam_channel::{bounded, Receiver};
use std::panic::Location;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

/// Bytes a timer holds besides its `Entry`: the `Arc` counts and its wheel node.
const ENTRY_OVERHEAD: u64 = 16 + 32;

/// A handle on an entry of kind `A`, or of any kind (`Handle`, the default), once the API type no
/// longer needs to know which.
pub(crate) struct Handle<A: ?Sized = dyn Delivery> {
    entry: Arc<Entry<A>>,
    /// The runtime, and the index of the shard the entry lives in, in one word.
    rt: ShardRt,
}

impl<A: Delivery> Handle<A> {
    /// What an entry of kind `A` holds in all (for the profile): the entry, what it keeps besides
    /// (`ENTRY_OVERHEAD`), and the kind's heap (its channel).
    #[inline]
    fn bytes(action: &A) -> u64 {
        ENTRY_OVERHEAD + std::mem::size_of::<Entry<A>>() as u64 + action.heap_bytes()
    }

    /// A new idle entry in the calling thread's shard of `rt`: scheduled by nothing yet.
    pub(crate) fn idle(rt: Rt, site: &'static Location<'static>, kind: Kind, action: A) -> Self {
        let origin = Origin::new(site, kind, Handle::bytes(&action));
        let entry = match A::spares().and_then(spare::take) {
            Some(spare) => spare.revived(Entry::new(origin, action)),
            None => Arc::new(Entry::new(origin, action)),
        };
        let shard = rt.core().local_shard();
        Handle {
            entry,
            rt: ShardRt::new(rt, shard),
        }
    }

    /// Creates an entry in the calling thread's shard of `rt` and schedules it for `due`.
    ///
    /// On a clock read without the lock, the entry is filed directly, reading the clock once, and
    /// one already due is fired at once without the lock: nothing else can reach the new entry
    /// yet. A callback fired so is queued, and pending until the thread that runs it claims it, so
    /// a `stop` that comes first returns true and it never runs, as in Go. A zero duration for a
    /// kind that does not deliver the time (`after_func(0)`) is due whatever the time: no clock
    /// read at all.
    #[inline]
    pub(crate) fn start(
        rt: Rt,
        site: &'static Location<'static>,
        kind: Kind,
        action: A,
        due: Due,
    ) -> Self {
        let at_once = matches!(due, Due::In(d) if d.is_zero()) && !action.uses_time();
        let handle = Handle::idle(rt, site, kind, action);
        let time = &handle.rt.core().time;
        let done = if at_once {
            handle.fire_new(0, 0, time)
        } else if let Some(now) = time.unlocked_now() {
            match time.deadline(now, due) {
                Some(t) if t <= now => handle.fire_new(t, now, time),
                deadline => handle.shard().lock().file_new(&handle.entry, deadline),
            }
        } else {
            // A clock read only under the lock (a fake one, which jumps under it).
            let (_, done) = handle.shard().reset(&handle.entry, due, time, |_, _| false);
            done.unwrap_or_default()
        };
        handle.rt.after_unlock(done);
        handle
    }

    /// Fires the new entry, registered at `registered`, at `now`: without the lock, unless its kind
    /// files it again (in the wheel, which takes the lock).
    #[inline]
    fn fire_new(&self, registered: u64, now: u64, time: &Timeline) -> AfterUnlock {
        match self.entry.fire_unshared(registered, now, time) {
            Ok(done) => done,
            Err(again) => self.shard().lock().file_new(&self.entry, Some(again)),
        }
    }

    /// Creates an entry pending for `due` but parked: in no wheel until it is armed (its first
    /// `c()`), on a clock that can be read without the lock. No lock is taken: nothing else can
    /// reach the new entry yet. `Err` gives the kind back on a clock that is read only under the
    /// lock (a fake one), which parks nothing: it jumps under the lock and promises to stop at
    /// every pending deadline, so its timers are armed and started at once.
    pub(crate) fn start_parked(
        rt: Rt,
        site: &'static Location<'static>,
        kind: Kind,
        action: A,
        due: Due,
    ) -> Result<Self, (Rt, A)> {
        let time = &rt.core().time;
        let Some(now) = time.unlocked_now() else {
            return Err((rt, action));
        };
        let deadline = time.deadline(now, due);
        // Parked, it holds only its `Arc` counts and the entry: no node, no channel yet.
        let parked_bytes = 16 + std::mem::size_of::<Entry<A>>() as u64;
        let origin = Origin::parked(site, kind, Handle::bytes(&action), parked_bytes);
        // Built in place for a kind without spares: through a helper taking the entry by value,
        // this path (every `Timer::new`) measured 30 instructions more.
        let entry = match A::spares().and_then(spare::take) {
            Some(spare) => spare.revived(Entry::parked(origin, action, deadline)),
            None => Arc::new(Entry::parked(origin, action, deadline)),
        };
        let shard = rt.core().local_shard();
        Ok(Handle {
            entry,
            rt: ShardRt::new(rt, shard),
        })
    }

    /// True if the entry's true deadline has passed, on a clock read now.
    pub(crate) fn is_due(&self) -> bool {
        let now = self.rt.core().time.now();
        self.entry
            .action
            .true_when()
            .is_some_and(|when| when <= now)
    }

    /// Lets the handle go, its timer done (stopped, or fired): its entry goes to the thread's
    /// spares if its kind keeps them and nothing else holds it (`runtime/spare.rs`).
    #[inline]
    pub(crate) fn free(self) {
        let mut entry = self.entry;
        #[cfg(gotimer_loom)]
        entry.let_go.store(true, crate::sync::Ordering::SeqCst);
        if let (Some(store), Some(unique)) = (A::spares(), spare::unique(&mut entry)) {
            unique.retire();
            spare::give(store, entry);
        }
    }

    /// Arms the parked entry of a handle that alone holds it (a `Sleep`'s, before its first poll),
    /// counted armed in the profile: fires it on the calling thread if its deadline has passed,
    /// without the lock as a timer made due does (`fire_new`), or else files it in its wheel. An
    /// entry reset to never stays as it is.
    pub(crate) fn arm_unshared(&self) {
        self.entry.origin.on_arm();
        let time = &self.rt.core().time;
        let now = time.unlocked_now();
        let due = now.and_then(|now| Some((self.entry.unpark_if_due(now)?, now)));
        let done = match due {
            Some((due, now)) => self.fire_new(due, now, time),
            None => self.shard().lock().arm(&self.entry, now, time),
        };
        self.rt.after_unlock(done);
    }

    /// The same handle, no longer typed by kind.
    pub(crate) fn erase(self) -> Handle {
        Handle {
            entry: self.entry,
            rt: self.rt,
        }
    }
}

impl<A: Share + ?Sized> Handle<A> {
    /// The time line of the timer's clock.
    #[inline]
    pub(crate) fn time(&self) -> &Timeline {
        &self.rt.core().time
    }

    /// The kind's own state, for the API type that made it.
    #[inline]
    pub(crate) fn action(&self) -> &A {
        &self.entry.action
    }

    /// Where the timer was made.
    pub(crate) fn origin(&self) -> &Origin {
        &self.entry.origin
    }

    #[inline]
    fn shard(&self) -> &Shard {
        self.rt.core().shard(self.rt.shard_index())
    }

    /// Cancels the entry. `under_lock(held, was_pending)` runs while the entry cannot fire, to
    /// drain its channel. Returns true if the entry was pending or `under_lock` returned true.
    #[inline]
    pub(crate) fn stop(&self, under_lock: impl FnOnce(&Held, bool) -> bool) -> bool {
        self.shard().stop(&*self.entry, under_lock)
    }

    /// Reschedules the entry for `due`, replacing its old schedule. On the locked path,
    /// `under_lock(held, was_pending)` runs first, while the entry cannot fire; a pending one-shot
    /// timer moved later takes the lock-free path and skips it (see `Shard::reset`). Returns true
    /// if the entry was pending or `under_lock` returned true.
    #[inline]
    pub(crate) fn reset(&self, due: Due, under_lock: impl FnOnce(&Held, bool) -> bool) -> bool {
        let core = self.rt.core();
        let (active, done) = self.shard().reset(&self.entry, due, &core.time, under_lock);
        if let Some(done) = done {
            self.rt.after_unlock(done);
        }
        active
    }

    /// Fires the entry now if its true deadline has passed and the driver has not fired it yet:
    /// its channel is about to be received from (Go's `maybeRunChan`). The time is read only if the
    /// entry keeps a true deadline (it is parked or in the wheel), and on a fake clock never: its
    /// `advance` leaves nothing due unfired.
    #[inline]
    pub(crate) fn fire_if_due(&self) {
        let Some(when) = self.entry.action.true_when() else {
            return;
        };
        let time = &self.rt.core().time;
        let Some(now) = time.unlocked_now() else {
            return;
        };
        if when > now {
            return;
        }
        let done = self.shard().lock().fire_if_due(&self.entry, now, time);
        self.rt.after_unlock(done);
    }

    /// Arms a parked entry whose kind can now deliver (`Delivery::armed` is true), without counting
    /// it as armed in the profile: under the shard lock, fires it if its deadline has passed (on
    /// the calling thread), or else files it in its wheel. An entry that is stopped, or never due,
    /// stays as it is.
    fn arm_locked(&self) {
        let time = &self.rt.core().time;
        let now = time.unlocked_now();
        let done = self.shard().lock().arm(&self.entry, now, time);
        self.rt.after_unlock(done);
    }

    /// The instant of `ns` on the entry's time line.
    #[inline]
    pub(crate) fn instant(&self, ns: u64) -> Instant {
        self.rt.core().time.instant(ns)
    }

    /// References to the entry: the handle's, and the wheel's while it is filed.
    #[cfg(all(test, gotimer_loom))]
    pub(crate) fn entry_refs(&self) -> usize {
        Arc::strong_count(&self.entry)
    }

    /// A check of whether the entry is still allocated, for after the handle is gone.
    #[cfg(all(test, gotimer_loom))]
    pub(crate) fn entry_probe(&self) -> Box<dyn Fn() -> bool + Send> {
        let weak = Arc::downgrade(&self.entry);
        Box::new(move || weak.upgrade().is_some())
    }
}

impl<A: ChannelKind> Handle<A> {
    /// Creates a channel timer pending for `due`, and the cell its receiver goes in: parked, with
    /// the cell empty until its first `c()` (`channel`), on a clock read without the lock; armed at
    /// once, its receiver in the cell, on one that is not (`start_parked`).
    pub(crate) fn start_channel(
        rt: Rt,
        site: &'static Location<'static>,
        kind: Kind,
        action: A,
        due: Due,
    ) -> (Self, OnceLock<Receiver<Instant>>) {
        match Handle::start_parked(rt, site, kind, action, due) {
            Ok(handle) => (handle, OnceLock::new()),
            Err((rt, mut action)) => {
                let (tx, rx) = bounded(1);
                action.chan_mut().arm_unshared(tx);
                (
                    Handle::start(rt, site, kind, action, due),
                    OnceLock::from(rx),
                )
            }
        }
    }

    /// A channel timer's `c()`: its channel, made and armed on the first call (`arm`); on later
    /// calls, when the channel is empty, the timer fired now if it is due (`fire_if_due`). Either
    /// way, what is due when `c()` reads the clock is in the channel when it returns, sent on the
    /// calling thread rather than left to the driver (Go's `maybeRunChan`), so the receive that
    /// follows sees what Go's would. A value already waiting is the one to receive.
    #[inline]
    pub(crate) fn channel<'a>(
        &self,
        cell: &'a OnceLock<Receiver<Instant>>,
    ) -> &'a Receiver<Instant> {
        if let Some(rx) = cell.get() {
            // Made by an earlier call: look again, since the deadline may have passed since the
            // arming thread read the clock.
            if rx.is_empty() {
                self.fire_if_due();
            }
            return rx;
        }
        match self.arm_channel(cell) {
            // A value the tasks waited for moved to the channel: they are woken as a firing wakes
            // them, a waker's panic counted and reported, not raised here.
            Some(true) => self.rt.after_unlock(AfterUnlock {
                notify: Some(A::share(&self.entry)),
                ..AfterUnlock::default()
            }),
            Some(false) => {}
            // Another thread's first call armed it first.
            None => return self.channel(cell),
        }
        cell.get()
            .expect("gotimer: the channel is published as it is armed")
    }

    /// Makes a channel timer's channel, gives it to the timer and arms it, then publishes its
    /// receiver in `cell`, all under one shard lock: the timer's `c()` was called for the first
    /// time. A parked timer is fired if its deadline has passed, or else filed (`Locked::arm`);
    /// one that tasks armed already keeps its place, and the value waiting in the tasks' slot
    /// moves to the channel (`Chan::arm_locked`), under the lock that every send takes, so that
    /// no value is left in the slot once the channel is there. Published last: a thread that
    /// finds the receiver without the lock finds the timer armed and what was due in the channel,
    /// and a `stop` or `reset` (under the lock) finds the value in the slot before, or in the
    /// channel after, which it can then drain. `None` if another thread's call did it first;
    /// else true if tasks wait, to be woken once the lock is released.
    fn arm_channel(&self, cell: &OnceLock<Receiver<Instant>>) -> Option<bool> {
        let (tx, rx) = bounded(1);
        let time = &self.rt.core().time;
        let now = time.unlocked_now();
        let mut locked = self.shard().lock();
        if cell.get().is_some() {
            return None;
        }
        self.entry.origin.on_arm();
        let moved = self.entry.action.chan().arm_locked(locked.held(), tx);
        let done = locked.arm(&self.entry, now, time);
        let _ = cell.set(rx);
        drop(locked);
        self.rt.after_unlock(done);
        Some(moved)
    }

    /// A task's receive (`recv_async`, `Interval::tick`): the value waiting, if any, else the
    /// task's waker recorded under `waiter` (kept by the caller's future, and given back with
    /// `forget` when it is dropped) and `Pending`. A value is taken only when this returns it, so
    /// a future dropped before that loses nothing. `keep`: the future receives again (an
    /// `Interval`), so it stays registered, with its waker, once it has a value, and its next
    /// poll stores nothing; a future that receives once is forgotten then.
    ///
    /// It receives what a thread's receive through `c()` would: the first poll arms a parked timer
    /// (fired at once if due), later ones fire it if it is due (Go's `maybeRunChan`). With no
    /// channel made, values wait in the tasks' slot, which a poll takes from or registers with
    /// under one lock, the lock a send takes too; once a thread made the channel, in the channel,
    /// and the tasks receive from it too.
    pub(crate) fn poll_recv(
        &self,
        rx: &OnceLock<Receiver<Instant>>,
        cx: &mut Context<'_>,
        waiter: &mut Option<u64>,
        keep: bool,
    ) -> Poll<Instant> {
        let chan = self.entry.action.chan();
        if !chan.has_channel() {
            let (tasks, made) = chan.tasks();
            if made {
                // Counted as parked still in the profile: a timer only tasks wait on has no
                // channel.
                self.arm_locked();
            } else {
                self.fire_if_due();
            }
            if let Some(value) = tasks.poll(waiter, cx.waker(), keep) {
                return Poll::Ready(value);
            }
            // Registered. A thread's first `c()` moves the slot's value to the channel before it
            // looks for waiters to wake, so a poll that registered after that look sees the
            // channel here (the slot's lock orders the two), and receives from it.
            if !chan.has_channel() {
                return Poll::Pending;
            }
        } else if let Ok(value) = self.channel(rx).try_recv() {
            self.received(waiter, keep);
            return Poll::Ready(value);
        } else {
            chan.tasks().0.register(waiter, cx.waker());
        }
        // A value sent to the channel since the first look may have found no waiter to wake.
        match self.channel(rx).try_recv() {
            Ok(value) => {
                self.received(waiter, keep);
                Poll::Ready(value)
            }
            Err(_) => Poll::Pending,
        }
    }

    /// `poll_recv` for a receiver that keeps the tasks' slot (made and armed by its first
    /// `poll_recv`) and a time before which nothing can be due, `next_at_least` (its last tick's
    /// deadline plus the period, or 0): an `Interval` whose ticker has no channel, as on the system
    /// clock (nothing can make it later: the interval's `c()` is not reachable). It does not read
    /// the entry, which the firing thread writes at each fire, unless a tick may be due and none
    /// waits in the slot, and then it fires it if it is (`fire_if_due`).
    pub(crate) fn poll_kept(
        &self,
        tasks: &Tasks,
        cx: &mut Context<'_>,
        waiter: &mut Option<u64>,
        next_at_least: u64,
    ) -> Poll<Instant> {
        debug_assert!(
            !self.entry.action.chan().has_channel(),
            "gotimer: a kept slot of a ticker with a channel, whose ticks go to the channel"
        );
        // `unlocked_now` is `Some`: only a ticker with no channel keeps its slot, and only a clock
        // read without the lock makes one (`Ticker::tasks`).
        if self
            .time()
            .unlocked_now()
            .is_some_and(|now| now >= next_at_least)
        {
            if let Some(value) = tasks.take_kept(waiter) {
                return Poll::Ready(value);
            }
            self.fire_if_due();
        }
        match tasks.poll(waiter, cx.waker(), true) {
            Some(value) => Poll::Ready(value),
            None => Poll::Pending,
        }
    }

    /// The task under `waiter` received a value from the channel (see `poll_recv`'s `keep`).
    fn received(&self, waiter: &mut Option<u64>, keep: bool) {
        if let Some(tasks) = self.entry.action.chan().tasks_if_any() {
            tasks.received(waiter, keep);
        }
    }

    /// Removes a task's waiter (`poll_recv`), if it has one.
    pub(crate) fn forget(&self, waiter: &mut Option<u64>) {
        if let (Some(id), Some(tasks)) = (waiter.take(), self.entry.action.chan().tasks_if_any()) {
            tasks.forget(id);
        }
    }
}

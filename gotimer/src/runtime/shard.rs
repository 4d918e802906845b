//! A shard: one wheel behind one lock, plus the earliest deadline it holds, published for the driver.
//!
//! Timers are spread over several shards (each thread creates in its own) so that threads creating and
//! stopping timers do not queue on one lock (tokio #6504). The driver finds due shards by reading each
//! shard's `next` without locking, and locks only those, so a wakeup does not touch every shard (the
//! cost that made tokio revert its sharded timer). A fake clock's runtime has one shard, so that its
//! timers fire in one reproducible order.
//!
//! Every transition of an entry's state machine (see `entry.rs`) happens here, under the lock, but
//! one: a `Timer` moved to a later deadline takes no lock (`Deliver::reset_later`).

use super::entry::{EntryRef, Fired, State, View};
use super::time::{Due, Timeline};
use crate::sync::{lock, AtomicU64, Mutex, MutexGuard, Ordering::SeqCst};
use crate::wheel::{Wheel, RESOLUTION_NS};
use crossbeam_channel::Sender;
use std::time::Instant;

pub(crate) struct Shard {
    wheel: Mutex<Wheel<EntryRef>>,
    /// A time at or before the earliest deadline in the wheel (`u64::MAX`: empty). Lowered by
    /// whoever inserts, recomputed by the driver after each poll.
    next: AtomicU64,
}

/// What the caller of `schedule` must do once it has released the lock.
#[must_use]
#[derive(Default)]
pub(crate) struct Scheduled {
    /// A callback that came due at once: run it.
    pub(crate) dispatch: Option<EntryRef>,
    /// A deadline that may be earlier than the driver's planned wakeup.
    pub(crate) deadline: Option<u64>,
}

impl Shard {
    pub(crate) fn new() -> Self {
        Shard {
            wheel: Mutex::new(Wheel::new()),
            next: AtomicU64::new(u64::MAX),
        }
    }

    pub(crate) fn lock(&self) -> Locked<'_> {
        Locked {
            unwinding: std::thread::panicking(),
            wheel: lock(&self.wheel),
            next: &self.next,
        }
    }

    /// A handle's `stop`: cancels the entry, then runs `under_lock(was_pending)` (the channel drain)
    /// while the entry cannot fire. True if it was pending or `under_lock` returned true.
    pub(crate) fn stop(
        &self,
        entry: &EntryRef,
        under_lock: impl FnOnce(&Locked<'_>, bool) -> bool,
    ) -> bool {
        let mut locked = self.lock();
        let pending = locked.cancel(entry);
        under_lock(&locked, pending) | pending
    }

    /// A handle's `reset`: gives the entry the deadline of `due` on `time`, replacing its old
    /// schedule, and returns whether it was pending (or `under_lock` returned true) and what the
    /// caller must do once the lock is released (`None` after the lock-free path: nothing).
    ///
    /// On the locked path `under_lock(was_pending)` runs first, while the entry cannot fire (the
    /// channel drain). A pending `Timer` moved later takes the lock-free path instead
    /// (`Deliver::reset_later`), and then `under_lock` does not run: there is nothing to drain, since
    /// a pending one-shot timer has sent nothing.
    pub(crate) fn reset(
        &self,
        entry: &EntryRef,
        due: Due,
        time: &Timeline,
        under_lock: impl FnOnce(&Locked<'_>, bool) -> bool,
    ) -> (bool, Option<Scheduled>) {
        let early = time.unlocked_now();
        if let (Some(now), View::Deliver(deliver)) = (early, entry.action.view()) {
            // It was pending, so the call kept a value from being received.
            if time
                .deadline(now, due)
                .is_some_and(|t| t > now && deliver.reset_later(t))
            {
                return (true, None);
            }
        }
        let mut locked = self.lock();
        let now = early.unwrap_or_else(|| time.now());
        let pending = locked.is_pending(entry);
        let drained = under_lock(&locked, pending);
        let deadline = time.deadline(now, due);
        if deadline.is_some_and(|when| locked.repark(entry, when)) {
            // Nothing filed, nothing fired: nothing to finish. (Before `schedule`, which would do
            // the same, because this is Ticker::reset's hot path.)
            return (true, None);
        }
        let done = locked.schedule(entry, deadline, now, time);
        (pending | drained, Some(done))
    }

    /// The published lower bound of this shard's next deadline.
    pub(crate) fn next(&self) -> u64 {
        self.next.load(SeqCst)
    }

    /// The system driver's step: fires everything due at `now`. Callbacks to run are pushed to
    /// `jobs`.
    pub(crate) fn poll(
        &self,
        now: u64,
        time: &Timeline,
        buf: &mut Vec<(u64, EntryRef)>,
        jobs: &mut Vec<EntryRef>,
    ) {
        let mut locked = self.lock();
        #[cfg(all(test, not(loom)))]
        if PANIC_IN_POLL.load(std::sync::atomic::Ordering::SeqCst) {
            panic!("injected fault: a broken wheel invariant");
        }
        locked.wheel.poll(now, buf);
        for (due, entry) in buf.drain(..) {
            // The driver recomputes `next` below and rescans before it sleeps: no notify needed.
            let _ = locked.fire(due, entry, now, time, jobs);
        }
        locked.publish_next();
    }

    /// A manual clock's step: finds the earliest true deadline in the wheel; if it is at or before
    /// `limit`, moves `time` to exactly that deadline, fires every entry due then (callbacks to
    /// `jobs`) and returns it. Returns `None` if no deadline is at or before `limit`, after moving
    /// `time` to `limit` if `settle`: under the lock, so that no timer can be scheduled between the
    /// check and the move.
    ///
    /// The wheel polls by ticks of 1.024 µs, which is fine for a driver that wakes up late anyway, but
    /// a fake clock promises to stop at each deadline to the nanosecond, in order. So a step polls the
    /// earliest tick, fires the entries whose true deadline is the earliest of the batch, and files
    /// the others back (a later nanosecond of the same tick, or a `Timer` whose true deadline moved
    /// later); they come out again at the next step.
    ///
    /// An `after` (a channel timer with no handle: only the wheel holds its entry, where a
    /// `Timer`'s handle holds its own while it is in the wheel) that delivers to a receiver still
    /// there leaves a sender of its channel in `kept`, for the caller to keep: its entry is freed
    /// now, and without a sender the receiver would find the channel disconnected once it took
    /// the value, where Go's (and the system clock's `after`) stays empty.
    pub(crate) fn step(
        &self,
        limit: u64,
        settle: bool,
        time: &Timeline,
        buf: &mut Vec<(u64, EntryRef)>,
        jobs: &mut Vec<EntryRef>,
        kept: &mut Vec<Sender<Instant>>,
    ) -> Option<u64> {
        let mut locked = self.lock();
        let stepped = loop {
            let Some(start) = locked.wheel.next_expiration() else {
                break None;
            };
            // Deadlines round up to a tick: everything in the earliest slot is due after
            // `start - RESOLUTION_NS`, and nothing elsewhere is due before `start`.
            if start.saturating_sub(RESOLUTION_NS - 1) > limit {
                break None;
            }
            locked.wheel.poll(start, buf);
            let Some(first) = buf.iter().map(|(due, e)| e.true_when(*due)).min() else {
                continue; // only cascaded or lazily moved entries: relinked further on
            };
            // `first <= start` means no entry left in the wheel is due before it: this step fires
            // at `first`. Everything else in the batch is filed back at its true deadline.
            let at = (first <= start && first <= limit).then_some(first);
            if let Some(at) = at {
                time.set(at);
            }
            for (due, entry) in buf.drain(..) {
                match entry.true_when(due) {
                    when if Some(when) == at => {
                        let after = matches!(entry.action.view(), View::Deliver(_))
                            && std::sync::Arc::strong_count(&entry) == 1;
                        let tx = if after {
                            entry.action.view().sender()
                        } else {
                            None
                        };
                        if locked.fire(due, entry, when, time, jobs) {
                            kept.extend(tx);
                        }
                    }
                    when => {
                        let _ = locked.after_fire(entry, Fired::Again(when));
                    }
                }
            }
            if at.is_some() {
                break at;
            }
            if first > start {
                continue; // all moved later: look again from the new earliest slot
            }
            break None;
        };
        if stepped.is_none() && settle && limit > time.now() {
            time.set(limit);
        }
        locked.publish_next();
        stepped
    }

    /// The number of entries in the wheel.
    pub(crate) fn len(&self) -> usize {
        self.lock().wheel.len()
    }

    /// Calls `f(true deadline, entry)` for every pending entry with a deadline, under the lock.
    #[cfg(any(feature = "profile", all(test, loom)))]
    pub(crate) fn for_each(&self, mut f: impl FnMut(u64, &EntryRef)) {
        self.lock()
            .wheel
            .for_each(|registered, entry| f(entry.true_when(registered), entry));
    }
}

/// A locked shard: the operations on one entry that handles need. Functions that must only run
/// under the shard lock take a `&Locked` to say so.
pub(crate) struct Locked<'a> {
    /// Whether the thread was already unwinding when it took the lock (dropping a `Timer` during a
    /// panic, say): only a panic that starts under the lock is a broken invariant.
    unwinding: bool,
    wheel: MutexGuard<'a, Wheel<EntryRef>>,
    next: &'a AtomicU64,
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        if !self.unwinding && std::thread::panicking() {
            super::fatal::fatal(format_args!(
                "a panic while holding a timer shard lock: the timer wheel may be corrupt"
            ));
        }
    }
}

/// Test-only fault injection: while set, the system driver's next poll panics under the shard lock,
/// as a broken wheel invariant would.
#[cfg(all(test, not(loom)))]
pub(crate) static PANIC_IN_POLL: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

impl Locked<'_> {
    /// True if the entry is waiting to fire (including a deadline too far away to ever come), or
    /// is a callback dispatched but not started, which this revokes: the caller (`reset`) replaces
    /// the schedule, so that run must not happen. False if the starting thread claimed it first.
    #[inline]
    pub(crate) fn is_pending(&mut self, entry: &EntryRef) -> bool {
        match entry.state(self) {
            State::Idle => false,
            State::Dispatched => entry.revoke(self),
            _ => true,
        }
    }

    /// Takes the entry out of the wheel, freeing its node at once. True if it was pending.
    #[inline]
    pub(crate) fn cancel(&mut self, entry: &EntryRef) -> bool {
        entry.action.view().set_when(self, None);
        match entry.state(self) {
            State::Idle => false,
            // The starting thread may claim it at any moment: the compare-and-swap decides.
            State::Dispatched => entry.revoke(self),
            State::Never | State::Parked => {
                entry.set_state(self, State::Idle);
                true
            }
            State::InWheel(key) => {
                entry.set_state(self, State::Idle);
                drop(self.wheel.remove(key));
                true
            }
        }
    }

    /// Gives the entry a new deadline (`None`: never), replacing any it had. A deadline at or before
    /// `now` fires here and now. An entry that cannot deliver yet (no channel) is parked instead,
    /// whatever its deadline: `arm` files or fires it once its channel is made.
    pub(crate) fn schedule(
        &mut self,
        entry: &EntryRef,
        deadline: Option<u64>,
        now: u64,
        time: &Timeline,
    ) -> Scheduled {
        let mut done = Scheduled::default();
        let view = entry.action.view();
        match deadline {
            None => {
                self.cancel(entry);
                entry.set_state(self, State::Never);
            }
            Some(due) if !view.armed() => {
                if !self.repark(entry, due) {
                    self.cancel(entry);
                    view.set_when(self, Some(due));
                    entry.set_state(self, State::Parked);
                }
            }
            Some(due) if due <= now => {
                self.cancel(entry);
                view.set_when(self, Some(due));
                let fired = view.fire(due, now, time);
                done = self.after_fire(entry.clone(), fired);
            }
            Some(due) => {
                match entry.state(self) {
                    state @ (State::Idle | State::Never | State::Parked | State::Dispatched) => {
                        if state == State::Dispatched {
                            // Revoked (or claimed, and running): idle either way.
                            self.cancel(entry);
                        }
                        let key = self.wheel.insert(due, entry.clone());
                        entry.set_state(self, State::InWheel(key));
                    }
                    // Later deadlines are a store in the node; earlier ones relink.
                    State::InWheel(key) => self.wheel.reschedule(key, due),
                }
                view.set_when(self, Some(due));
                done.deadline = self.lower_next(due);
            }
        }
        done
    }

    /// Gives a parked entry the deadline `due`: it stays parked (no node, and no channel to deliver
    /// on), only its deadline changes. False if the entry is not parked.
    #[inline]
    fn repark(&mut self, entry: &EntryRef, due: u64) -> bool {
        if entry.state(self) != State::Parked {
            return false;
        }
        entry.action.view().set_when(self, Some(due));
        true
    }

    /// Files an idle entry (a new one, or one being armed) for `deadline` (`None`: never): what
    /// `schedule` does for an idle entry that is not yet due, without looking at its old state.
    pub(crate) fn file_new(&mut self, entry: &EntryRef, deadline: Option<u64>) -> Scheduled {
        debug_assert_eq!(
            entry.state(self),
            State::Idle,
            "gotimer: a new entry is idle"
        );
        let Some(due) = deadline else {
            entry.set_state(self, State::Never);
            return Scheduled::default();
        };
        let key = self.wheel.insert(due, entry.clone());
        entry.set_state(self, State::InWheel(key));
        Scheduled {
            dispatch: None,
            deadline: self.lower_next(due),
        }
    }

    /// Arms an entry whose channel was just made (`View::armed` is now true): a parked entry whose
    /// deadline is at or before `now` fires here (its value sent, a ticker filed at its next tick),
    /// as Go's `maybeRunChan` runs a due timer on the receiving goroutine; one not yet due is filed
    /// in the wheel. `now` is `None` only on a clock that is never read without the lock, which
    /// parks nothing: the entry is then filed, and its owner fires what is due. Any other state
    /// stays as it is (stopped, or never due).
    ///
    /// A parked `Timer`'s `true_when` may be moved later without the lock at any moment
    /// (`Deliver::reset_later`), so it is read once and the node filed under what was read, which is
    /// at or before the true deadline; it is not written back. `fire` re-reads it, and files the
    /// entry again if it moved past `now`.
    pub(crate) fn arm(&mut self, entry: &EntryRef, now: Option<u64>, time: &Timeline) -> Scheduled {
        let view = entry.action.view();
        debug_assert!(view.armed(), "gotimer: armed without a channel");
        if entry.state(self) != State::Parked {
            return Scheduled::default();
        }
        entry.set_state(self, State::Idle);
        let Some(due) = view.when() else {
            unreachable!("gotimer: a parked timer without a deadline")
        };
        match now {
            Some(now) if due <= now => {
                let fired = view.fire(due, now, time);
                self.after_fire(entry.clone(), fired)
            }
            _ => self.file_new(entry, Some(due)),
        }
    }

    /// Fires a channel timer in the wheel whose true deadline is at or before `now`, on the calling
    /// thread, instead of waiting for the driver: what Go's `maybeRunChan` does for a channel that
    /// is about to be received from. Nothing if the driver (or another receiver) got there first.
    pub(crate) fn fire_if_due(&mut self, entry: &EntryRef, now: u64, time: &Timeline) -> Scheduled {
        let State::InWheel(key) = entry.state(self) else {
            return Scheduled::default();
        };
        if entry.action.view().when().is_none_or(|when| when > now) {
            return Scheduled::default();
        }
        match entry
            .action
            .view()
            .fire(self.wheel.deadline(key), now, time)
        {
            // A ticker's next tick is later: its node keeps its slot with the new deadline (a
            // store, see `Wheel::reschedule`), and the driver re-files it when that slot comes up,
            // as it does any entry moved later. Its `next` is already at or before the old slot.
            Fired::Again(next) => {
                self.wheel.reschedule(key, next);
                Scheduled::default()
            }
            fired => {
                let (_, entry) = self.wheel.remove(key);
                entry.set_state(self, State::Idle);
                self.after_fire(entry, fired)
            }
        }
    }

    /// Fires an entry the wheel gave out (registered at `due`) at time `now`; a callback to run is
    /// pushed to `jobs`. True if it sent a value that a receiver was there to take, and is done.
    fn fire(
        &mut self,
        due: u64,
        entry: EntryRef,
        now: u64,
        time: &Timeline,
        jobs: &mut Vec<EntryRef>,
    ) -> bool {
        entry.set_state(self, State::Idle);
        let fired = entry.action.view().fire(due, now, time);
        let sent = matches!(fired, Fired::Sent);
        jobs.extend(self.after_fire(entry, fired).dispatch);
        sent
    }

    /// Applies what `fire` decided: the callback to dispatch, or the entry back in the wheel (and
    /// its deadline, for the caller to notify the driver with).
    fn after_fire(&mut self, entry: EntryRef, fired: Fired) -> Scheduled {
        match fired {
            Fired::Done | Fired::Sent => Scheduled::default(),
            Fired::Dispatch => {
                // Pending until a thread starts it (`Entry::claim`), or `stop` takes it back.
                entry.set_dispatched();
                Scheduled {
                    dispatch: Some(entry),
                    deadline: None,
                }
            }
            Fired::Again(due) => {
                // Not `set_when`: `fire` recorded it (a `Deliver`'s is already `due`, and a
                // lock-free `reset_later` may be moving it on right now).
                let key = self.wheel.insert(due, entry.clone());
                entry.set_state(self, State::InWheel(key));
                Scheduled {
                    dispatch: None,
                    deadline: self.lower_next(due),
                }
            }
        }
    }

    /// Publishes `due` if it is earlier than this shard's `next`; returns it if so.
    fn lower_next(&self, due: u64) -> Option<u64> {
        (due < self.next.load(SeqCst)).then(|| {
            self.next.fetch_min(due, SeqCst);
            due
        })
    }

    /// Recomputes `next` from the wheel, after a poll took entries out.
    fn publish_next(&mut self) {
        let next = self.wheel.next_expiration().unwrap_or(u64::MAX);
        self.next.store(next, SeqCst);
    }

    /// The earliest true deadline in the wheel, exactly: `next_expiration` is only a lower bound
    /// (ticks, and lazily moved entries). Walks the wheel; for a fake clock's `next_deadline`.
    pub(crate) fn earliest_true_when(&self) -> Option<u64> {
        let mut best: Option<u64> = None;
        self.wheel.for_each(|registered, entry| {
            let when = entry.true_when(registered);
            best = Some(best.map_or(when, |b| b.min(when)));
        });
        best
    }
}

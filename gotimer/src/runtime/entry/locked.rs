//! A locked shard and the entry's transitions, each written once: `file`, `unfile`, `repark`,
//! `fire`, and what handles compose from them (`schedule`, `arm`, `fire_if_due`).
//!
//! A `Locked` is the wheel's guard, the shard's published next deadline and the [`Held`] token it
//! lends to whatever must run under the lock. `shard.rs` makes one when it takes its lock; every
//! state change of an entry happens through it, but two made without the lock (a callback's
//! `claim`, and `Delivery::reset_later`). What a transition leaves for after the lock (a callback
//! to run, a deadline for the driver) comes back as one [`AfterUnlock`], which the runtime that
//! owns the shard consumes.

use super::delivery::{Delivery, EntryRef, Fired, Share};
use super::filed::Filed;
use super::state::{Entry, Held, State};
use crate::runtime::time::Timeline;
use crate::sync::{AtomicU64, MutexGuard, Ordering::SeqCst};
use crate::wheel::Wheel;
use std::sync::Arc;

/// What a transition leaves to do once the shard lock is released; the runtime consumes it
/// (`ShardRt::after_unlock`).
#[must_use]
#[derive(Default)]
pub(crate) struct AfterUnlock {
    /// A callback that came due: queued (`State::Queued`) for a thread to claim and run.
    pub(crate) run: Option<EntryRef>,
    /// An entry whose kind asked for `Delivery::notify` on this thread, now that the lock is gone.
    pub(crate) notify: Option<EntryRef>,
    /// A deadline published below the shard's old `next`: whoever fires timers must know of it.
    pub(crate) deadline: Option<u64>,
}

impl AfterUnlock {
    /// Nothing to do: what most transitions leave (a timer filed behind the shard's next deadline,
    /// or taken out).
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.run.is_none() && self.notify.is_none() && self.deadline.is_none()
    }
}

/// What the transitions under one lock left for after it, in a batch: a poll fires many entries
/// and hands them on together once the lock is released, as tokio's `WakeList` does.
#[derive(Default)]
pub(crate) struct Batch {
    /// Callbacks for threads to claim and run (`AfterUnlock::run`).
    pub(crate) run: Vec<EntryRef>,
    /// Entries whose kind asked to be notified on the firing thread (`AfterUnlock::notify`).
    pub(crate) notify: Vec<EntryRef>,
}

impl Batch {
    /// Adds what one transition left. Its deadline is not kept: whoever polls recomputes `next`.
    #[inline]
    pub(crate) fn push(&mut self, done: AfterUnlock) {
        self.run.extend(done.run);
        self.notify.extend(done.notify);
    }

    /// Gives back the room a burst took, past `keep` entries each.
    pub(crate) fn shrink_to(&mut self, keep: usize) {
        self.run.shrink_to(keep);
        self.notify.shrink_to(keep);
    }
}

impl<A: Delivery> Entry<A> {
    /// Fires a new entry that nothing else can reach yet (so it is as good as locked) at `now`, its
    /// deadline `registered` having passed: what a handle does for a timer made already due. `Err`
    /// with the deadline to file it at, if its kind puts it back in the wheel (which needs the
    /// lock).
    pub(crate) fn fire_unshared(
        self: &Arc<Self>,
        registered: u64,
        now: u64,
        time: &Timeline,
    ) -> Result<AfterUnlock, u64> {
        debug_assert_eq!(
            Arc::strong_count(self),
            1,
            "gotimer: a shared entry fired unlocked"
        );
        // Its true deadline, as `schedule` records it before firing.
        self.action.set_true_when(&Held::new(), Some(registered));
        match self.action.fire(&Held::new(), registered, now, time) {
            Fired::Done => Ok(AfterUnlock::default()),
            Fired::Run => {
                // Pending until a thread starts it (`Entry::claim`), or `stop` takes it back.
                self.set_queued();
                Ok(AfterUnlock {
                    run: Some(self.clone()),
                    ..AfterUnlock::default()
                })
            }
            Fired::Notify => Ok(AfterUnlock {
                notify: Some(self.clone()),
                ..AfterUnlock::default()
            }),
            // A new entry has no task waiting on it yet.
            Fired::Again(due) | Fired::NotifyAgain(due) => Err(due),
        }
    }

    /// Takes a parked entry that nothing else can reach (a `Sleep`'s: only its handle holds it,
    /// and no wheel) out of parking if its true deadline has passed at `now`, returning that
    /// deadline: it is then a new entry due, for `fire_unshared`. `None`, the entry untouched, if it
    /// is not due or not parked: it is then armed under the lock (`Locked::arm`).
    pub(crate) fn unpark_if_due(self: &Arc<Self>, now: u64) -> Option<u64> {
        debug_assert_eq!(
            Arc::strong_count(self),
            1,
            "gotimer: a shared entry armed unlocked"
        );
        let held = Held::new();
        // Reset to never before its first poll, it stays as it is (as under the lock).
        if self.state(&held) != State::Parked {
            return None;
        }
        let due = self.action.true_when().filter(|&due| due <= now)?;
        self.set_state(&held, State::Idle);
        Some(due)
    }
}

pub(crate) struct Locked<'a> {
    /// Whether the thread was already unwinding when it took the lock (dropping a `Timer` during a
    /// panic, say): only a panic that starts under the lock is a broken invariant.
    unwinding: bool,
    wheel: MutexGuard<'a, Wheel<Filed>>,
    /// The shard's lower bound of its earliest deadline, read by the driver without the lock.
    next: &'a AtomicU64,
    held: Held,
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        if !self.unwinding && std::thread::panicking() {
            crate::runtime::fatal::fatal(format_args!(
                "a panic while holding a timer shard lock: the timer wheel may be corrupt"
            ));
        }
    }
}

impl<'a> Locked<'a> {
    /// The shard's lock taken: its wheel's guard, and its published `next`.
    #[inline]
    pub(crate) fn new(wheel: MutexGuard<'a, Wheel<Filed>>, next: &'a AtomicU64) -> Self {
        Locked {
            unwinding: std::thread::panicking(),
            wheel,
            next,
            held: Held::new(),
        }
    }

    /// The token of this lock, for the functions that must run under it.
    #[inline]
    pub(crate) fn held(&self) -> &Held {
        &self.held
    }

    // The transitions, each written once.

    /// Files an entry that is in no wheel (idle, never, parked, or a revoked callback) at `due`,
    /// and publishes `due` if it is the shard's earliest. Its true deadline is the caller's to set.
    #[inline]
    fn file<A: Share + ?Sized>(&mut self, entry: &Arc<Entry<A>>, due: u64) -> Option<u64> {
        let key = self.wheel.insert(due, Filed::new(entry));
        entry.set_state(&self.held, State::InWheel(key));
        self.lower_next(due)
    }

    /// Files again at `due` an entry that came out of the wheel (`Wheel::poll`), as `file` does: a
    /// ticker's next tick, a lazily moved one, or a later nanosecond of the polled tick on a
    /// manual step.
    #[inline]
    pub(crate) fn refile_polled(&mut self, filed: Filed, due: u64) -> Option<u64> {
        let key = self.wheel.insert(due, filed);
        self.wheel
            .get(key)
            .set_state(&self.held, State::InWheel(key));
        self.lower_next(due)
    }

    /// Takes the entry out of the wheel, freeing its node at once, or takes back its queued
    /// callback. True if it was pending.
    #[inline]
    pub(crate) fn unfile<A: Delivery + ?Sized>(&mut self, entry: &Entry<A>) -> bool {
        entry.action.set_true_when(&self.held, None);
        match entry.state(&self.held) {
            State::Idle => false,
            // The starting thread may claim it at any moment: the compare-and-swap decides.
            State::Queued => entry.revoke(&self.held),
            State::Never | State::Parked => {
                entry.set_state(&self.held, State::Idle);
                true
            }
            State::InWheel(key) => {
                entry.set_state(&self.held, State::Idle);
                drop(self.wheel.remove(key));
                true
            }
        }
    }

    /// Gives a parked entry the deadline `due`: it stays parked (no node, and no channel to deliver
    /// on), only its deadline changes. False if the entry is not parked.
    #[inline]
    pub(crate) fn repark<A: Delivery + ?Sized>(&mut self, entry: &Entry<A>, due: u64) -> bool {
        if entry.state(&self.held) != State::Parked {
            return false;
        }
        entry.action.set_true_when(&self.held, Some(due));
        true
    }

    /// Fires an idle entry (just taken out of the wheel, or never in it) whose registered deadline
    /// `registered` has passed at `now`, and applies what its kind decided.
    #[inline]
    fn fire<A: Share + ?Sized>(
        &mut self,
        entry: &Arc<Entry<A>>,
        registered: u64,
        now: u64,
        time: &Timeline,
    ) -> AfterUnlock {
        let fired = entry.action.fire(&self.held, registered, now, time);
        self.apply(entry, fired)
    }

    /// Carries out what the kind of a fired, idle entry decided.
    #[inline]
    fn apply<A: Share + ?Sized>(&mut self, entry: &Arc<Entry<A>>, fired: Fired) -> AfterUnlock {
        match fired {
            Fired::Done => AfterUnlock::default(),
            Fired::Run => {
                // Pending until a thread starts it (`Entry::claim`), or `stop` takes it back.
                entry.set_queued();
                AfterUnlock {
                    run: Some(A::share(entry)),
                    ..AfterUnlock::default()
                }
            }
            Fired::Notify => AfterUnlock {
                notify: Some(A::share(entry)),
                ..AfterUnlock::default()
            },
            // Not `set_true_when`: `fire` recorded it (a one-shot timer's is already `due`, and a
            // lock-free `reset_later` may be moving it on right now).
            Fired::Again(due) => AfterUnlock {
                deadline: self.file(entry, due),
                ..AfterUnlock::default()
            },
            Fired::NotifyAgain(due) => AfterUnlock {
                deadline: self.file(entry, due),
                notify: Some(A::share(entry)),
                ..AfterUnlock::default()
            },
        }
    }

    // What handles and runtimes compose from them.

    /// True if the entry is waiting to fire (including a deadline too far away to ever come), or
    /// is a callback queued but not started, which this revokes: the caller (`reset`) replaces the
    /// schedule, so that run must not happen. False if the starting thread claimed it first.
    #[inline]
    pub(crate) fn is_pending<A: Delivery + ?Sized>(&mut self, entry: &Entry<A>) -> bool {
        match entry.state(&self.held) {
            State::Idle => false,
            State::Queued => entry.revoke(&self.held),
            _ => true,
        }
    }

    /// Gives the entry a new deadline (`None`: never), replacing any it had. A deadline at or before
    /// `now` fires here and now. An entry that cannot deliver yet (no channel) is parked instead,
    /// whatever its deadline: `arm` files or fires it once its channel is made.
    pub(crate) fn schedule<A: Share + ?Sized>(
        &mut self,
        entry: &Arc<Entry<A>>,
        deadline: Option<u64>,
        now: u64,
        time: &Timeline,
    ) -> AfterUnlock {
        let Some(due) = deadline else {
            self.unfile(entry);
            entry.set_state(&self.held, State::Never);
            return AfterUnlock::default();
        };
        if !entry.action.armed() {
            if !self.repark(entry, due) {
                self.unfile(entry);
                entry.action.set_true_when(&self.held, Some(due));
                entry.set_state(&self.held, State::Parked);
            }
            return AfterUnlock::default();
        }
        if due <= now {
            self.unfile(entry);
            entry.action.set_true_when(&self.held, Some(due));
            return self.fire(entry, due, now, time);
        }
        let deadline = match entry.state(&self.held) {
            // Later deadlines are a store in the node; earlier ones relink.
            State::InWheel(key) => {
                self.wheel.reschedule(key, due);
                self.lower_next(due)
            }
            State::Queued => {
                // Revoked (or claimed, and running): idle either way.
                self.unfile(entry);
                self.file(entry, due)
            }
            State::Idle | State::Never | State::Parked => self.file(entry, due),
        };
        entry.action.set_true_when(&self.held, Some(due));
        AfterUnlock {
            deadline,
            ..AfterUnlock::default()
        }
    }

    /// Files a new, idle entry for `deadline` (`None`: never), its true deadline recorded: what
    /// `schedule` does for an entry that is not yet due, without looking at its old state.
    pub(crate) fn file_new<A: Share + ?Sized>(
        &mut self,
        entry: &Arc<Entry<A>>,
        deadline: Option<u64>,
    ) -> AfterUnlock {
        debug_assert_eq!(
            entry.state(&self.held),
            State::Idle,
            "gotimer: a new entry is idle"
        );
        let Some(due) = deadline else {
            entry.set_state(&self.held, State::Never);
            return AfterUnlock::default();
        };
        entry.action.set_true_when(&self.held, Some(due));
        AfterUnlock {
            deadline: self.file(entry, due),
            ..AfterUnlock::default()
        }
    }

    /// Arms an entry that can now deliver (`Delivery::armed` is now true: its channel was just
    /// made, or its task polled it for the first time): a parked entry
    /// whose deadline is at or before `now` fires here (its value sent, a ticker filed at its next
    /// tick), as Go's `maybeRunChan` runs a due timer on the receiving goroutine; one not yet due is
    /// filed in the wheel. `now` is `None` only on a clock that is never read without the lock,
    /// which parks nothing. Any other state stays as it is (stopped, or never due).
    ///
    /// A parked one-shot timer's true deadline may be moved later without the lock at any moment
    /// (`Delivery::reset_later`), so it is read once and the node filed under what was read, which
    /// is at or before the true deadline; it is not written back. `fire` re-reads it, and files the
    /// entry again if it moved past `now`.
    pub(crate) fn arm<A: Share + ?Sized>(
        &mut self,
        entry: &Arc<Entry<A>>,
        now: Option<u64>,
        time: &Timeline,
    ) -> AfterUnlock {
        debug_assert!(entry.action.armed(), "gotimer: armed without a channel");
        if entry.state(&self.held) != State::Parked {
            return AfterUnlock::default();
        }
        entry.set_state(&self.held, State::Idle);
        let Some(due) = entry.action.true_when() else {
            unreachable!("gotimer: a parked timer without a deadline")
        };
        match now {
            Some(now) if due <= now => self.fire(entry, due, now, time),
            _ => AfterUnlock {
                deadline: self.file(entry, due),
                ..AfterUnlock::default()
            },
        }
    }

    /// Fires a channel timer in the wheel whose true deadline is at or before `now`, on the calling
    /// thread, instead of waiting for the driver: what Go's `maybeRunChan` does for a channel that
    /// is about to be received from. Nothing if the driver (or another receiver) got there first.
    pub(crate) fn fire_if_due<A: Share + ?Sized>(
        &mut self,
        entry: &Arc<Entry<A>>,
        now: u64,
        time: &Timeline,
    ) -> AfterUnlock {
        let State::InWheel(key) = entry.state(&self.held) else {
            return AfterUnlock::default();
        };
        if entry.action.true_when().is_none_or(|when| when > now) {
            return AfterUnlock::default();
        }
        match entry
            .action
            .fire(&self.held, self.wheel.deadline(key), now, time)
        {
            // A ticker's next tick is later: its node keeps its slot with the new deadline (a
            // store, see `Wheel::reschedule`), and the driver re-files it when that slot comes up,
            // as it does any entry moved later. Its `next` is already at or before the old slot.
            fired @ (Fired::Again(next) | Fired::NotifyAgain(next)) => {
                self.wheel.reschedule(key, next);
                AfterUnlock {
                    notify: matches!(fired, Fired::NotifyAgain(_)).then(|| A::share(entry)),
                    ..AfterUnlock::default()
                }
            }
            fired => {
                drop(self.wheel.remove(key));
                entry.set_state(&self.held, State::Idle);
                self.apply(entry, fired)
            }
        }
    }

    /// The driver's and the manual step's way out of the wheel: fires an entry the wheel gave out
    /// (its node is gone; registered at `registered`) at `now`, and applies what its kind decided
    /// as `apply` does. The entry is counted before it fires (`Filed::into_ref`), so what is handed
    /// on for after the lock holds its own count, and a ticker filed again keeps the node's.
    #[inline]
    pub(crate) fn fire_polled(
        &mut self,
        filed: Filed,
        registered: u64,
        now: u64,
        time: &Timeline,
    ) -> AfterUnlock {
        filed.set_state(&self.held, State::Idle);
        let (entry, borrowed) = filed.into_ref();
        match entry.action.fire(&self.held, registered, now, time) {
            Fired::Done => AfterUnlock::default(),
            Fired::Run => {
                entry.set_queued();
                AfterUnlock {
                    run: Some(entry),
                    ..AfterUnlock::default()
                }
            }
            Fired::Notify => AfterUnlock {
                notify: Some(entry),
                ..AfterUnlock::default()
            },
            Fired::Again(due) => AfterUnlock {
                deadline: self.refile_polled(Filed::refile(entry, borrowed), due),
                ..AfterUnlock::default()
            },
            Fired::NotifyAgain(due) => AfterUnlock {
                deadline: self.refile_polled(Filed::refile(entry.clone(), borrowed), due),
                notify: Some(entry),
                ..AfterUnlock::default()
            },
        }
    }

    // The wheel, for the shard's polls.

    pub(crate) fn wheel(&mut self) -> &mut Wheel<Filed> {
        &mut self.wheel
    }

    /// Publishes `due` if it is earlier than this shard's `next`; returns it if so.
    #[inline]
    fn lower_next(&self, due: u64) -> Option<u64> {
        (due < self.next.load(SeqCst)).then(|| {
            self.next.fetch_min(due, SeqCst);
            due
        })
    }

    /// Recomputes `next` from the wheel, after a poll took entries out.
    pub(crate) fn publish_next(&mut self) {
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

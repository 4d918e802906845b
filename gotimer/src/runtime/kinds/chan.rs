//! What the channel kinds (`Channel`, `After`, `Tick`) share: a channel of capacity 1, made when
//! the timer is armed by a thread (`c()`), or the tasks' slot (`tasks.rs`), made when it is armed
//! by a task (`recv_async`), or both; and its true deadline, kept apart from the wheel node's
//! registered one.

use super::outlets::Outlets;
use super::tasks::Tasks;
use crate::runtime::entry::{Delivery, Held};
use crate::sync::{AtomicU64, Ordering::Release};
use crossbeam_channel::{Sender, TrySendError};
use std::time::Instant;

/// What `crossbeam_channel::bounded::<Instant>(1)` allocates with crossbeam-channel 0.5 on a 64-bit
/// target: an estimate of its layout for the profile's byte counts, not read from crossbeam (which
/// does not say), and checked against the allocator by `tests/memory.rs`, which fails if a new
/// crossbeam changes it.
pub(crate) const BOUNDED_CHANNEL_BYTES: u64 = 664;

/// `Chan::true_when` of an entry that is not parked nor in the wheel.
pub(super) const NOT_IN_WHEEL: u64 = u64::MAX;

/// A kind that delivers on a channel, made when the timer is armed: what a handle's `c()` needs.
pub(crate) trait ChannelKind: Delivery {
    fn chan(&self) -> &Chan;
    /// For arming a timer that is not shared yet (`Chan::arm_unshared`).
    fn chan_mut(&mut self) -> &mut Chan;
}

/// The `Delivery` methods every channel kind answers from its `Chan` (`ChannelKind::chan`): its
/// true deadline, whether its channel was made, and the channel's bytes. Written once, expanded in
/// each kind's `impl Delivery`.
macro_rules! channel_delivery {
    () => {
        #[inline]
        fn true_when(&self) -> Option<u64> {
            $crate::runtime::kinds::chan::ChannelKind::chan(self).when()
        }

        #[inline]
        fn set_true_when(&self, held: &$crate::runtime::entry::Held, when: Option<u64>) {
            $crate::runtime::kinds::chan::ChannelKind::chan(self).set_when(held, when)
        }

        #[inline]
        fn armed(&self) -> bool {
            $crate::runtime::kinds::chan::ChannelKind::chan(self).is_armed()
        }

        fn heap_bytes(&self) -> u64 {
            $crate::runtime::kinds::chan::BOUNDED_CHANNEL_BYTES
        }

        fn notify(&self) {
            $crate::runtime::kinds::chan::ChannelKind::chan(self).wake_tasks()
        }
    };
}
pub(super) use channel_delivery;

/// What a send did (`Chan::send`).
pub(super) struct Sent {
    /// False if every receiver is gone (no handle, and the channel's receivers dropped).
    pub(super) connected: bool,
    /// True if tasks wait: the firing thread wakes them once the lock is released (`Fired::Notify`).
    pub(super) notify: bool,
}

pub(crate) struct Chan {
    /// The sender, set once, when the channel is first asked for (arming), under the shard lock or
    /// before the entry is shared; and the tasks' slot, set once, by the first task's `recv_async`
    /// poll, before it arms the entry.
    outlets: Outlets,
    /// The true deadline (a tick's next tick) while the entry is parked or in the wheel, else
    /// `NOT_IN_WHEEL`. Written under the shard lock, and a one-shot timer's is also moved later
    /// without it (`Channel::reset_later`). Read without the lock by `c()`, to see whether the
    /// timer is due.
    pub(super) true_when: AtomicU64,
}

impl Chan {
    pub(super) fn unarmed() -> Self {
        Chan {
            outlets: Outlets::new(),
            true_when: AtomicU64::new(NOT_IN_WHEEL),
        }
    }

    pub(super) fn armed(tx: Sender<Instant>) -> Self {
        let mut chan = Chan::unarmed();
        chan.arm_unshared(tx);
        chan
    }

    /// Gives a timer that nothing else can reach yet its channel: `&mut` says so.
    pub(crate) fn arm_unshared(&mut self, tx: Sender<Instant>) {
        // SAFETY: `&mut self` excludes every other access to the outlets.
        unsafe { self.outlets.set_sender(tx) };
    }

    /// Gives the timer its channel, under the shard lock, and moves into it the value waiting in the
    /// tasks' slot, if any: from now on values go to the channel. True if a value moved and tasks
    /// wait, to be woken (`wake_tasks`) once the lock is released; tasks waiting for a value not
    /// sent yet are woken by its send, as before.
    pub(crate) fn arm_locked(&self, held: &Held, tx: Sender<Instant>) -> bool {
        let tasks = self.outlets.tasks();
        let moved = tasks.and_then(|t| t.drain_value(held));
        if let Some(value) = moved {
            let _ = tx.try_send(value);
        }
        // SAFETY: `held` is the shard lock of this entry, under which every shared arming is done
        // (the others take `&mut`), so no other `set_sender` runs now.
        unsafe { self.outlets.set_sender(tx) };
        moved.is_some() && tasks.is_some_and(|t| t.has_waiters())
    }

    /// True if the timer can deliver: it has its channel, or tasks wait on it.
    #[inline]
    pub(crate) fn is_armed(&self) -> bool {
        let (sender, tasks) = self.outlets.both();
        sender.is_some() || tasks.is_some()
    }

    /// True if the channel was made (a thread called `c()`).
    #[inline]
    pub(crate) fn has_channel(&self) -> bool {
        self.outlets.sender().is_some()
    }

    /// The tasks' slot, made by the first call, and whether this call made it (and so must arm
    /// the entry).
    pub(crate) fn tasks(&self) -> (&Tasks, bool) {
        self.outlets.tasks_or_make()
    }

    /// The tasks' slot, if a task ever waited.
    pub(crate) fn tasks_if_any(&self) -> Option<&Tasks> {
        self.outlets.tasks()
    }

    /// A count of the tasks' slot, if a task ever waited (`Outlets::tasks_shared`).
    pub(crate) fn tasks_shared(&self) -> Option<std::sync::Arc<Tasks>> {
        self.outlets.tasks_shared()
    }

    /// Empties the tasks' slot under the shard lock (`stop`, `reset`): true if a value waited.
    pub(crate) fn drain_tasks(&self, held: &Held) -> bool {
        self.outlets.tasks().is_some_and(|t| t.drain(held))
    }

    /// Wakes the tasks waiting, after the shard lock (`Delivery::notify`).
    pub(crate) fn wake_tasks(&self) {
        if let Some(tasks) = self.outlets.tasks() {
            tasks.wake_all();
        }
    }

    /// A sender of the channel, if it was made.
    pub(super) fn sender(&self) -> Option<Sender<Instant>> {
        self.outlets.sender().cloned()
    }

    /// The true deadline, if parked or in the wheel.
    #[inline]
    pub(crate) fn when(&self) -> Option<u64> {
        let when = self.true_when.load(crate::sync::Ordering::Acquire);
        (when != NOT_IN_WHEEL).then_some(when)
    }

    #[inline]
    pub(crate) fn set_when(&self, _: &Held, when: Option<u64>) {
        self.true_when.store(when.unwrap_or(NOT_IN_WHEEL), Release)
    }

    /// Sends `value` on the channel if there is one, else puts it in the tasks' slot; either drops
    /// it if a value already waits there (a ticker's). Under the shard lock. Not connected if every
    /// receiver of the channel is gone (or the entry has neither: an unarmed entry is never filed,
    /// so that does not happen).
    #[inline(always)]
    pub(super) fn send(&self, held: &Held, value: Instant) -> Sent {
        match self.outlets.both() {
            (Some(tx), tasks) => Sent {
                connected: !matches!(tx.try_send(value), Err(TrySendError::Disconnected(_))),
                notify: tasks.is_some_and(|t| t.has_waiters()),
            },
            (None, Some(tasks)) => Sent {
                connected: true,
                notify: tasks.put(held, value),
            },
            (None, None) => Sent {
                connected: false,
                notify: false,
            },
        }
    }
}

//! What the channel kinds (`Channel`, `After`, `Tick`) share: a channel of capacity 1, made when
//! the timer is armed, and its true deadline, kept apart from the wheel node's registered one.

use crate::runtime::entry::{Delivery, Held};
use crate::sync::{AtomicU64, Ordering::Release};
use crossbeam_channel::{Sender, TrySendError};
use std::sync::OnceLock;
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
    };
}
pub(super) use channel_delivery;

pub(crate) struct Chan {
    /// Set once, when the channel is first asked for (arming), before the entry leaves `PARKED`.
    tx: OnceLock<Sender<Instant>>,
    /// The true deadline (a tick's next tick) while the entry is parked or in the wheel, else
    /// `NOT_IN_WHEEL`. Written under the shard lock, and a one-shot timer's is also moved later
    /// without it (`Channel::reset_later`). Read without the lock by `c()`, to see whether the
    /// timer is due.
    pub(super) true_when: AtomicU64,
}

impl Chan {
    pub(super) fn unarmed() -> Self {
        Chan {
            tx: OnceLock::new(),
            true_when: AtomicU64::new(NOT_IN_WHEEL),
        }
    }

    pub(super) fn armed(tx: Sender<Instant>) -> Self {
        let chan = Chan::unarmed();
        chan.arm(tx);
        chan
    }

    /// Gives the timer its channel; the entry must then leave `PARKED` under the lock.
    pub(crate) fn arm(&self, tx: Sender<Instant>) {
        assert!(self.tx.set(tx).is_ok(), "gotimer: a timer armed twice");
    }

    #[inline]
    pub(crate) fn is_armed(&self) -> bool {
        self.tx.get().is_some()
    }

    /// A sender of the channel, if it was made.
    pub(super) fn sender(&self) -> Option<Sender<Instant>> {
        self.tx.get().cloned()
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

    /// Sends `value` if the channel has room; false if every receiver is gone (or there is no
    /// channel: an unarmed entry is never filed, so that does not happen). Full cannot happen:
    /// every schedule drains the channel first.
    #[inline]
    pub(super) fn send(&self, value: Instant) -> bool {
        match self.tx.get() {
            Some(tx) => !matches!(tx.try_send(value), Err(TrySendError::Disconnected(_))),
            None => false,
        }
    }
}

//! The one-shot channel timer (`Timer::new`, `Timer::at`): the instant it was due, once, on a
//! channel of capacity 1.
//!
//! Its true deadline makes the idle-timeout loop (`reset` to a later deadline on every message)
//! lock-free, as Go's `timerModifiedLater` does: the true deadline is when the timer will really
//! fire, at or after its wheel node's registered one, and `reset_later` moves it with one
//! compare-and-swap. The firing thread claims the entry with a compare-and-swap of its own before
//! it sends, so exactly one of the two wins: either the reset lands first and the entry goes back in
//! the wheel at the new deadline, or the send comes first and the reset, finding `NOT_IN_WHEEL`,
//! takes the locked path (which drains the value and reports it kept one from being received).

use super::chan::{channel_delivery, Chan, ChannelKind, Sent, NOT_IN_WHEEL};
use crate::runtime::entry::{Delivery, Fired, Held};
use crate::runtime::time::Timeline;
use crate::sync::Ordering::{AcqRel, Acquire};
use crossbeam_channel::Sender;
use std::time::Instant;

pub(crate) struct Channel {
    pub(crate) chan: Chan,
}

impl Channel {
    /// A timer whose channel is made later, when it is armed (its first `c()`).
    pub(crate) fn unarmed() -> Self {
        Channel {
            chan: Chan::unarmed(),
        }
    }

    /// A timer armed at once (on a clock that parks nothing).
    pub(crate) fn new(tx: Sender<Instant>) -> Self {
        Channel {
            chan: Chan::armed(tx),
        }
    }

    /// Claims the entry and sends the instant it was due (its true deadline). `Err` with the new
    /// true deadline if it was moved past `now` (put the entry back in the wheel there).
    #[inline]
    pub(super) fn claim_and_send(
        &self,
        held: &Held,
        registered: u64,
        now: u64,
        time: &Timeline,
    ) -> Result<Sent, u64> {
        // The true deadline is set by every schedule under this same lock, so it is in the wheel;
        // the check only guards the loop.
        let mut when = self.chan.true_when.load(Acquire);
        let mut at = registered;
        while when != NOT_IN_WHEEL {
            if when > now {
                return Err(when);
            }
            match self
                .chan
                .true_when
                .compare_exchange(when, NOT_IN_WHEEL, AcqRel, Acquire)
            {
                Ok(_) => {
                    at = when;
                    break;
                }
                Err(moved) => when = moved,
            }
        }
        Ok(self.chan.send(held, time.instant(at)))
    }
}

impl Delivery for Channel {
    #[inline]
    fn fire(&self, held: &Held, registered: u64, now: u64, time: &Timeline) -> Fired {
        // Disconnected means the handle is gone, and then nobody is left to tell.
        match self.claim_and_send(held, registered, now, time) {
            Ok(Sent { notify: true, .. }) => Fired::Notify,
            Ok(_) => Fired::Done,
            Err(later) => Fired::Again(later),
        }
    }

    /// A parked entry that a concurrent `c()` arms keeps the moved deadline: arming files it under
    /// its old one, at or before the new, and the node is re-filed when it comes up.
    #[inline]
    fn reset_later(&self, deadline: u64) -> bool {
        let mut when = self.chan.true_when.load(Acquire);
        while when != NOT_IN_WHEEL && deadline >= when {
            match self
                .chan
                .true_when
                .compare_exchange(when, deadline, AcqRel, Acquire)
            {
                Ok(_) => return true,
                Err(moved) => when = moved,
            }
        }
        false
    }

    channel_delivery!();
}

impl ChannelKind for Channel {
    #[inline]
    fn chan(&self) -> &Chan {
        &self.chan
    }

    fn chan_mut(&mut self) -> &mut Chan {
        &mut self.chan
    }
}

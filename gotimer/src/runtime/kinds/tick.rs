//! The ticker (`Ticker::new`, `tick`): phase-aligned ticks on a channel of capacity 1, dropped while
//! the receiver is behind, as Go's are.

use super::chan::{channel_delivery, Chan, ChannelKind, NOT_IN_WHEEL};
use crate::runtime::entry::{Delivery, Fired, Held};
use crate::runtime::time::Timeline;
use crate::sync::{
    AtomicU64,
    Ordering::{Relaxed, Release},
};
use crossbeam_channel::Sender;
use std::time::Instant;

pub(crate) struct Tick {
    /// The channel, and the next tick as the true deadline.
    pub(crate) chan: Chan,
    /// Period in nanoseconds, never 0. Changed only under the shard lock, by `Ticker::reset`.
    period: AtomicU64,
}

impl Tick {
    /// A ticker whose channel is made later, when it is armed (its first `c()`).
    pub(crate) fn unarmed(period: u64) -> Self {
        Tick {
            chan: Chan::unarmed(),
            period: AtomicU64::new(period),
        }
    }

    /// A ticker armed at once (`tick`, which has no handle to ask for the channel later).
    pub(crate) fn new(tx: Sender<Instant>, period: u64) -> Self {
        Tick {
            chan: Chan::armed(tx),
            period: AtomicU64::new(period),
        }
    }

    /// The period in nanoseconds.
    pub(crate) fn period(&self) -> u64 {
        self.period.load(Relaxed)
    }

    /// Sets the period (not 0) for the ticks after the next schedule.
    pub(crate) fn set_period(&self, _: &Held, period: u64) {
        self.period.store(period, Relaxed)
    }

    /// The deadline to file the next tick under, given its true one. A period shorter than the
    /// kernel can sleep (`Timeline::driver_floor`, `SPIN_BELOW`) would have the driver wake for
    /// every tick, each time too late, and spin a core doing it: such ticks are filed at least that
    /// far from now, so the driver delivers at most one per `SPIN_BELOW`, while a receiver that asks
    /// for the channel (`c()`) gets each tick as soon as it is due (`fire_if_due`). Only on the
    /// monotonic clock: a fake clock's time jumps exactly to each tick, and has no driver.
    fn registered(&self, next: u64, now: u64, time: &Timeline) -> u64 {
        let floor = time.driver_floor();
        if self.period.load(Relaxed) < floor {
            next.max(now.saturating_add(floor))
                .min(crate::wheel::MAX_DEADLINE)
        } else {
            next
        }
    }

    /// The tick after `due` that is after `now` (ticks missed meanwhile are dropped, as in Go), or
    /// `None` if the ticker is done: its receivers are gone (`connected` false), or the next tick is
    /// out of range.
    fn next_after(&self, due: u64, now: u64, connected: bool) -> Option<u64> {
        if !connected {
            return None; // every receiver is gone: the ticker frees itself
        }
        let period = self.period.load(Relaxed);
        let missed = now.saturating_sub(due) / period;
        (missed + 1)
            .checked_mul(period)
            .and_then(|skip| due.checked_add(skip))
            .filter(|&next| next <= crate::wheel::MAX_DEADLINE)
    }
}

impl Delivery for Tick {
    /// Sends the tick that came due (its true deadline) and says when the next one is, recording
    /// it as the new true deadline.
    #[inline(always)]
    fn fire(&self, held: &Held, registered: u64, now: u64, time: &Timeline) -> Fired {
        let due = match self.chan.true_when.load(Relaxed) {
            NOT_IN_WHEEL => registered,
            when => when,
        };
        let sent = self.chan.send(held, time.instant(due));
        let next = self.next_after(due, now, sent.connected);
        self.chan
            .true_when
            .store(next.unwrap_or(NOT_IN_WHEEL), Release);
        match (next, sent.notify) {
            (Some(next), false) => Fired::Again(self.registered(next, now, time)),
            (Some(next), true) => Fired::NotifyAgain(self.registered(next, now, time)),
            (None, false) => Fired::Done,
            (None, true) => Fired::Notify,
        }
    }

    channel_delivery!();
}

impl ChannelKind for Tick {
    #[inline]
    fn chan(&self) -> &Chan {
        &self.chan
    }

    fn chan_mut(&mut self) -> &mut Chan {
        &mut self.chan
    }
}

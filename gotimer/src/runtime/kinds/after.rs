//! A fake clock's `after` and `at`: a one-shot channel timer with no handle, which lives in the
//! wheel until it fires (or its clock is dropped).
//!
//! Once it has delivered, its clock keeps a sender of its channel (`keep`), so that the receiver
//! finds the channel empty, not disconnected, after taking the value, as Go's and the system
//! clock's `after` do: the entry itself is freed when it fires. The system clock's `after` is
//! crossbeam's, and has no entry.

use super::chan::{channel_delivery, Chan, ChannelKind};
use super::channel::Channel;
use crate::runtime::entry::{Delivery, Fired, Held};
use crate::runtime::time::Timeline;
use crate::sync::lock;
use crossbeam_channel::Sender;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Senders a fake clock keeps while it lives. A leaf lock, taken under the shard lock.
pub(crate) type Kept = Arc<Mutex<Vec<Sender<Instant>>>>;

pub(crate) struct After {
    channel: Channel,
    keep: Kept,
}

impl After {
    pub(crate) fn new(tx: Sender<Instant>, keep: Kept) -> Self {
        After {
            channel: Channel::new(tx),
            keep,
        }
    }
}

impl Delivery for After {
    fn fire(&self, held: &Held, registered: u64, now: u64, time: &Timeline) -> Fired {
        // No handle, so no task can wait on it: nothing to notify.
        match self.channel.claim_and_send(held, registered, now, time) {
            Ok(sent) if sent.connected => {
                // Delivered to a receiver still there.
                lock(&*self.keep).extend(self.channel.chan.sender());
                Fired::Done
            }
            Ok(_) => Fired::Done,
            Err(later) => Fired::Again(later),
        }
    }

    channel_delivery!();
}

impl ChannelKind for After {
    #[inline]
    fn chan(&self) -> &Chan {
        &self.channel.chan
    }

    fn chan_mut(&mut self) -> &mut Chan {
        &mut self.channel.chan
    }
}

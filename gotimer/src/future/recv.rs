//! The future of `Timer::recv_async` and `Ticker::recv_async`: a task's receive on a timer's
//! values, with the same values and Go 1.23 guarantees as a thread's `c().recv()`.
//!
//! It is cancel-safe: a value is taken only by the poll that returns it, so a future dropped in a
//! `select!` that another branch won loses nothing. Several may wait on one timer at once, from
//! several tasks; each value goes to exactly one (see `runtime/kinds/tasks.rs`).

use crate::runtime::kinds::chan::ChannelKind;
use crate::runtime::Handle;
use crossbeam_channel::Receiver;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Instant;

/// A task waiting for a value of a channel timer, or for nothing (an `after_func`'s timer, which
/// never delivers).
pub(crate) struct Recv<'a, A: ChannelKind> {
    source: Option<(&'a Handle<A>, &'a OnceLock<Receiver<Instant>>)>,
    /// The task's place among the timer's waiters, while it has one.
    waiter: Option<u64>,
}

impl<'a, A: ChannelKind> Recv<'a, A> {
    pub(crate) fn new(handle: &'a Handle<A>, rx: &'a OnceLock<Receiver<Instant>>) -> Self {
        Recv {
            source: Some((handle, rx)),
            waiter: None,
        }
    }

    /// A receive that never completes.
    pub(crate) fn never() -> Self {
        Recv {
            source: None,
            waiter: None,
        }
    }
}

impl<A: ChannelKind> Future for Recv<'_, A> {
    type Output = Instant;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Instant> {
        let this = self.get_mut();
        match this.source {
            Some((handle, rx)) => handle.poll_recv(rx, cx, &mut this.waiter, false),
            None => Poll::Pending,
        }
    }
}

impl<A: ChannelKind> Drop for Recv<'_, A> {
    fn drop(&mut self) {
        if let Some((handle, _)) = self.source {
            handle.forget(&mut self.waiter);
        }
    }
}

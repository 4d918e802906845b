//! The callback pool: the threads that run `after_func` callbacks.
//!
//! Go starts a goroutine per callback; threads cost more, so they are reused. The rules that keep a
//! slow callback from delaying others: a worker that takes the last idle slot spawns a replacement
//! *before* it runs the callback, and a dispatch that finds no idle worker (they all idled out while
//! others run long callbacks, say) spawns one. So while fewer than [`MAX_WORKERS`] threads exist,
//! every queued callback has an idle worker or one being started, and a callback that sleeps a
//! second holds up only its own thread. Past the cap, callbacks wait in the queue for a free worker.
//! Workers idle for [`IDLE_EXIT`] exit, so a burst does not leave threads behind.
//!
//! The driver only sends on a channel here and never runs user code; it spawns a thread only when no
//! worker is idle. Nothing a callback does, panicking or panicking in the drop of its captures, can
//! kill a worker or unbalance the counts.

use super::callback::{self, report};
use super::entry::EntryRef;
use crate::sync::{fence, AtomicUsize, Ordering::SeqCst};
use crossbeam_channel::{unbounded, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

/// The most callback threads that run at once; beyond it callbacks queue until one is free.
///
/// ```
/// assert!(gotimer::stats().callback_threads <= gotimer::MAX_WORKERS);
/// ```
pub const MAX_WORKERS: usize = 4096;

/// How long a callback thread with nothing to do waits before it exits.
///
/// ```
/// assert_eq!(gotimer::IDLE_EXIT, std::time::Duration::from_secs(10));
/// ```
pub const IDLE_EXIT: Duration = Duration::from_secs(10);

pub(crate) struct Pool {
    tx: Sender<EntryRef>,
    rx: Receiver<EntryRef>,
    /// Workers alive, and of those, waiting for a job.
    workers: AtomicUsize,
    idle: AtomicUsize,
    /// Callbacks that panicked, for tests and stats.
    panics: AtomicUsize,
}

impl Pool {
    pub(crate) fn new() -> Self {
        let (tx, rx) = unbounded();
        Pool {
            tx,
            rx,
            workers: AtomicUsize::new(0),
            idle: AtomicUsize::new(0),
            panics: AtomicUsize::new(0),
        }
    }

    /// Queues a callback whose timer fired. Never blocks.
    pub(crate) fn dispatch(&'static self, job: EntryRef) {
        self.tx
            .send(job)
            .expect("gotimer: the pool owns its receiver");
        fence(SeqCst);
        // Dekker with the idle exit in `work`: either that worker sees this job and stays, or we
        // see it gone and start another.
        if self.idle.load(SeqCst) == 0 {
            self.spawn();
        }
    }

    pub(crate) fn workers(&self) -> usize {
        self.workers.load(SeqCst)
    }

    pub(crate) fn panics(&self) -> usize {
        self.panics.load(SeqCst)
    }

    fn spawn(&'static self) {
        if self.workers.fetch_add(1, SeqCst) >= MAX_WORKERS {
            self.workers.fetch_sub(1, SeqCst);
            return;
        }
        self.idle.fetch_add(1, SeqCst);
        let started = std::thread::Builder::new()
            .name("gotimer-callback".into())
            .spawn(move || self.work());
        if let Err(e) = started {
            self.idle.fetch_sub(1, SeqCst);
            self.workers.fetch_sub(1, SeqCst);
            report(format_args!(
                "gotimer: cannot start a callback thread ({e}); callbacks wait for a free one"
            ));
        }
    }

    fn work(&'static self) {
        loop {
            match self.rx.recv_timeout(IDLE_EXIT) {
                Ok(job) => {
                    if self.idle.fetch_sub(1, SeqCst) == 1 {
                        self.spawn();
                    }
                    callback::run(job, &self.panics);
                    self.idle.fetch_add(1, SeqCst);
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.idle.fetch_sub(1, SeqCst);
                    self.workers.fetch_sub(1, SeqCst);
                    fence(SeqCst);
                    // A job sent while we were leaving saw us counted as idle and spawned nobody.
                    if self.rx.is_empty() {
                        return;
                    }
                    self.workers.fetch_add(1, SeqCst);
                    self.idle.fetch_add(1, SeqCst);
                }
                Err(RecvTimeoutError::Disconnected) => unreachable!("the pool owns its sender"),
            }
        }
    }
}

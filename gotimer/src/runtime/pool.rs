//! The callback pool: the threads that run `after_func` callbacks.
//!
//! Go starts a goroutine per callback; threads cost more, so they are reused. The rules that keep a
//! slow callback from delaying others: a worker that takes the last idle slot spawns a replacement
//! *before* it runs the callback, and a submission that finds no idle worker (they all idled out while
//! others run long callbacks, say) spawns one. So while fewer than [`MAX_WORKERS`] threads exist,
//! every queued callback has an idle worker or one being started, and a callback that sleeps a
//! second holds up only its own thread. Past the cap, callbacks wait in the queue for a free worker.
//! Workers idle for [`IDLE_EXIT`] exit, so a burst does not leave threads behind.
//!
//! A callback that a running callback makes due at once (`after_func(0)` in a callback) does not go
//! through the queue: it runs next on the same thread, handed to another only if the first has not
//! returned within `HANDOFF_AFTER` (see `handoff.rs`).
//!
//! The driver only sends on a channel here and never runs user code; it spawns a thread only when no
//! worker is idle. If the operating system refuses a thread, nothing is written from the driver (a
//! stderr that blocks would stall every timer): the failure is counted, the driver retries every
//! `driver::RETRY` while callbacks wait, and the first worker that does start reports it. Nothing a
//! callback does, panicking or panicking in the drop of its captures, can kill a worker or unbalance
//! the counts.

use super::callback::{self, report};
use super::entry::EntryRef;
use super::handoff::{RunNext, Slot};
use crate::sync::{fence, lock, AtomicBool, AtomicUsize, Ordering::SeqCst};
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
    /// Threads that could not be started, and the last error, for the next worker to report.
    spawn_failures: AtomicUsize,
    unreported: std::sync::Mutex<Option<String>>,
    /// Set when a start failed; the driver retries while callbacks wait.
    retry: AtomicBool,
    /// Each worker's run-next slot, for callbacks that a callback makes due at once.
    run_next: RunNext,
    /// Under loom no thread is started; the models count the starts instead.
    #[cfg(gotimer_loom)]
    model_starts: AtomicUsize,
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
            spawn_failures: AtomicUsize::new(0),
            unreported: std::sync::Mutex::new(None),
            retry: AtomicBool::new(false),
            run_next: RunNext::new(),
            #[cfg(gotimer_loom)]
            model_starts: AtomicUsize::new(0),
        }
    }

    /// Queues a callback whose timer fired. Never blocks. False if it needed a new thread and none
    /// could be started: the job waits, and the driver must retry (`retry`).
    pub(crate) fn submit(&'static self, job: EntryRef) -> bool {
        self.tx
            .send(job)
            .expect("gotimer: the pool owns its receiver");
        fence(SeqCst);
        // Dekker with the idle exit in `leave_if_idle`: either that worker sees this job and stays, or we
        // see it gone and start another.
        self.idle.load(SeqCst) != 0 || self.spawn()
    }

    /// Puts a callback that came due at once in the run-next slot of the calling thread, if it is
    /// a callback thread with an empty slot (see `handoff.rs`); `Err(job)` otherwise, to
    /// `submit`. `Ok(Some(t))`: the driver must look at the slots at `t` (runtime time, from
    /// `now`, which is read only if the job is kept).
    pub(crate) fn offer(
        &self,
        job: EntryRef,
        now: impl FnOnce() -> u64,
    ) -> Result<Option<u64>, EntryRef> {
        self.run_next.offer(job, now)
    }

    /// When the driver must next look at the run-next slots (`u64::MAX`: never).
    pub(crate) fn watch(&self) -> u64 {
        self.run_next.watch()
    }

    /// The driver's look at the run-next slots: jobs held up by a busy callback go to the queue.
    pub(crate) fn hand_off_stale(&'static self, now: u64) {
        self.run_next.hand_off_stale(now, |job| {
            // A failed start is retried by the driver's loop, like any submission of its own.
            let _ = self.submit(job);
        });
    }

    /// The driver's retry after a failed start: starts a worker if callbacks are still waiting with
    /// none idle. True while the retry must go on (callbacks wait and no thread could be had).
    pub(crate) fn retry(&'static self) -> bool {
        if !self.retry.load(SeqCst) {
            return false;
        }
        self.retry.store(false, SeqCst);
        if self.rx.is_empty() || self.idle.load(SeqCst) != 0 {
            return false;
        }
        !self.spawn()
    }

    pub(crate) fn spawn_failures(&self) -> usize {
        self.spawn_failures.load(SeqCst)
    }

    pub(crate) fn workers(&self) -> usize {
        self.workers.load(SeqCst)
    }

    pub(crate) fn panics(&self) -> usize {
        self.panics.load(SeqCst)
    }

    /// The count of callbacks that panicked, for the runtime's notifications to count theirs in.
    pub(crate) fn panic_count(&self) -> &AtomicUsize {
        &self.panics
    }

    /// Starts a worker, unless `MAX_WORKERS` run (then callbacks queue: true). False if the
    /// operating system refused the thread.
    fn spawn(&'static self) -> bool {
        if self.workers.fetch_add(1, SeqCst) >= MAX_WORKERS {
            self.workers.fetch_sub(1, SeqCst);
            return true;
        }
        self.idle.fetch_add(1, SeqCst);
        let started = self.start_thread();
        match started {
            Ok(_) => true,
            Err(e) => {
                self.idle.fetch_sub(1, SeqCst);
                self.workers.fetch_sub(1, SeqCst);
                self.spawn_failures.fetch_add(1, SeqCst);
                *lock(&self.unreported) = Some(e.to_string());
                self.retry.store(true, SeqCst);
                false
            }
        }
    }

    #[cfg(not(gotimer_loom))]
    fn start_thread(&'static self) -> std::io::Result<()> {
        if let Some(refused) = super::faults::refuse_spawn() {
            return Err(refused);
        }
        std::thread::Builder::new()
            .name("gotimer-callback".into())
            .spawn(move || self.work())
            .map(drop)
    }

    #[cfg(gotimer_loom)]
    fn start_thread(&'static self) -> std::io::Result<()> {
        self.model_starts.fetch_add(1, SeqCst);
        Ok(())
    }

    /// For the loom model of the idle exit: a pool with one idle worker, and the workers started.
    #[cfg(all(test, gotimer_loom))]
    pub(crate) fn with_one_idle_worker() -> Pool {
        let pool = Pool::new();
        pool.workers.store(1, SeqCst);
        pool.idle.store(1, SeqCst);
        pool
    }

    #[cfg(all(test, gotimer_loom))]
    pub(crate) fn model_counts(&self) -> (usize, usize, usize) {
        (
            self.workers.load(SeqCst),
            self.idle.load(SeqCst),
            self.model_starts.load(SeqCst),
        )
    }

    /// A worker that waited `IDLE_EXIT` for a job: true if it leaves. The other half of the
    /// handshake in `submit`: a job sent while it was leaving saw it counted as idle and started
    /// nobody, so it stays for that job.
    pub(crate) fn leave_if_idle(&self) -> bool {
        self.idle.fetch_sub(1, SeqCst);
        self.workers.fetch_sub(1, SeqCst);
        fence(SeqCst);
        if self.rx.is_empty() {
            return true;
        }
        self.workers.fetch_add(1, SeqCst);
        self.idle.fetch_add(1, SeqCst);
        false
    }

    /// Runs one job as a busy worker, then whatever it put in the worker's run-next slot. The last
    /// idle worker to take a job starts a spare first, so the next callback does not wait for this
    /// one.
    #[cfg_attr(gotimer_loom, allow(dead_code))]
    fn run(&'static self, job: EntryRef, slot: &Slot) {
        if self.idle.fetch_sub(1, SeqCst) == 1 {
            self.spawn();
        }
        callback::run(job, &self.panics);
        while let Some(next) = slot.take() {
            callback::run(next, &self.panics);
        }
        self.idle.fetch_add(1, SeqCst);
    }

    #[cfg_attr(gotimer_loom, allow(dead_code))]
    fn work(&'static self) {
        let unreported = lock(&self.unreported).take();
        if let Some(e) = unreported {
            report(format_args!(
                "gotimer: could not start a callback thread ({e}; {} times so far); callbacks \
                 waited for one",
                self.spawn_failures()
            ));
        }
        let slot = self.run_next.register();
        loop {
            match self.rx.recv_timeout(IDLE_EXIT) {
                Ok(job) => self.run(job, &slot),
                Err(RecvTimeoutError::Timeout) => {
                    if self.leave_if_idle() {
                        // Empty: a worker runs its slot before it waits for work.
                        if let Some(job) = self.run_next.unregister(&slot) {
                            let _ = self.submit(job);
                        }
                        return;
                    }
                }
                Err(RecvTimeoutError::Disconnected) => unreachable!("the pool owns its sender"),
            }
        }
    }
}

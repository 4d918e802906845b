//! `Outlets`: where a channel kind's values go, each made once and never replaced: the channel's
//! sender (a thread's first `c()`) and the tasks' slot (the first `recv_async` poll, `tasks.rs`).
//!
//! It is two `OnceLock`s packed into 24 bytes: the sender in place, and the slot's pointer in one
//! word whose lowest bit says whether the sender is set. Two `OnceLock`s (each with a 4-byte state
//! padded to 8) would take 40 bytes, and push a channel timer's entry out of glibc's 64-byte size
//! class, which every `Timer::new` pays for (BENCHMARKS.md, issue 19's table).

use super::tasks::Tasks;
use crate::sync::{
    AtomicUsize,
    Ordering::{AcqRel, Acquire, Release},
};
use crossbeam_channel::Sender;
use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::sync::Arc;
use std::time::Instant;

/// In `Outlets::word`: the sender is set.
const HAS_SENDER: usize = 1;

// The slot's pointer leaves `HAS_SENDER` free.
const _: () = assert!(std::mem::align_of::<Tasks>() > HAS_SENDER);

pub(crate) struct Outlets {
    /// Written once, by `set_sender`, before `HAS_SENDER` is set in `word` (Release); read only
    /// after `HAS_SENDER` is seen (Acquire); dropped only by `drop`.
    sender: UnsafeCell<MaybeUninit<Sender<Instant>>>,
    /// The address of the tasks' slot (from `Arc::into_raw`; 0 until made, then never changed),
    /// or'd with `HAS_SENDER`.
    word: AtomicUsize,
}

// SAFETY: `Outlets` owns a `Sender<Instant>` and one count of an `Arc<Tasks>`, both
// `Send + Sync`. Shared, the sender's cell is written once before it is published and only read
// after (`set_sender`), and the slot is reached only through `&Tasks` or an `Arc<Tasks>`. So
// `&Outlets` on several threads gives them shared references to `Sync` values only.
unsafe impl Sync for Outlets {}
// SAFETY: as above; moving `Outlets` moves the sender and the slot's ownership, both `Send`.
unsafe impl Send for Outlets {}

const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Sender<Instant>>();
    send_sync::<Tasks>();
};

impl Outlets {
    pub(crate) fn new() -> Self {
        Outlets {
            sender: UnsafeCell::new(MaybeUninit::uninit()),
            word: AtomicUsize::new(0),
        }
    }

    /// The channel's sender, if it was made.
    #[inline]
    pub(crate) fn sender(&self) -> Option<&Sender<Instant>> {
        self.both().0
    }

    /// The sender and the tasks' slot, each if it was made, from one load: what a send needs.
    #[inline]
    pub(crate) fn both(&self) -> (Option<&Sender<Instant>>, Option<&Tasks>) {
        let word = self.word.load(Acquire);
        let sender = (word & HAS_SENDER != 0).then(|| {
            // SAFETY: `HAS_SENDER` is set only after the cell was written, with Release, and this
            // load is Acquire, so the write happened before; the cell is never written again, and
            // is dropped only with `&mut self`.
            unsafe { (*self.sender.get()).assume_init_ref() }
        });
        (sender, self.tasks_at(word & !HAS_SENDER))
    }

    /// Sets the sender, once. Panics if it is set.
    ///
    /// # Safety
    /// No other `set_sender` on these outlets may run at the same time: the caller holds the shard
    /// lock of the entry they belong to, or no other thread can reach them yet.
    pub(crate) unsafe fn set_sender(&self, tx: Sender<Instant>) {
        assert!(
            self.word.load(Acquire) & HAS_SENDER == 0,
            "gotimer: a timer armed twice"
        );
        // SAFETY: nothing reads the cell before `HAS_SENDER` is set below, and no other
        // `set_sender` runs at the same time (this function's contract), so this write is the only
        // access.
        unsafe { (*self.sender.get()).write(tx) };
        self.word.fetch_or(HAS_SENDER, Release);
    }

    /// The tasks' slot, if a task ever waited.
    #[inline]
    pub(crate) fn tasks(&self) -> Option<&Tasks> {
        self.tasks_at(self.word.load(Acquire) & !HAS_SENDER)
    }

    /// The slot at `addr`, read from `word` with Acquire (0: none).
    #[inline]
    fn tasks_at(&self, addr: usize) -> Option<&Tasks> {
        if addr == 0 {
            return None;
        }
        // SAFETY: a non-zero address was published (Release, in `tasks_or_make`) from
        // `Arc::into_raw`, with its provenance exposed, and is never replaced; the count it holds
        // is given back only by `drop`, with `&mut self`, so it outlives `&self`.
        Some(unsafe { &*std::ptr::with_exposed_provenance::<Tasks>(addr) })
    }

    /// A count of the tasks' slot, if it was made: for a receiver that keeps it (`Interval`), so
    /// that its polls reach the slot without reading this word, on a cache line the firing thread
    /// writes at each fire.
    pub(crate) fn tasks_shared(&self) -> Option<Arc<Tasks>> {
        let addr = self.word.load(Acquire) & !HAS_SENDER;
        if addr == 0 {
            return None;
        }
        // From the address, not from `tasks()`'s reference: `Arc::from_raw` reaches back to the
        // counts, outside the `Tasks` a reference covers.
        let tasks = std::ptr::with_exposed_provenance::<Tasks>(addr);
        // SAFETY: the address was published (Release, read here with Acquire) from
        // `Arc::into_raw`, with its provenance exposed, and the count it holds is given back only
        // by `drop`, which `&self` excludes: so the allocation is live, and the count taken here
        // is the one the `Arc` made here gives back.
        unsafe {
            Arc::increment_strong_count(tasks);
            Some(Arc::from_raw(tasks))
        }
    }

    /// The tasks' slot, made by the first call, and whether this call made it.
    pub(crate) fn tasks_or_make(&self) -> (&Tasks, bool) {
        if let Some(tasks) = self.tasks() {
            return (tasks, false);
        }
        let made = Arc::into_raw(Arc::new(Tasks::new())).cast_mut();
        let addr = made.expose_provenance();
        let mut word = self.word.load(Acquire);
        loop {
            if word & !HAS_SENDER != 0 {
                // SAFETY: `made` is from `Arc::into_raw` above and was never published.
                drop(unsafe { Arc::from_raw(made) });
                let tasks = self
                    .tasks()
                    .expect("gotimer: a published slot is never removed");
                return (tasks, false);
            }
            // The sender may be set meanwhile: its bit is kept.
            match self
                .word
                .compare_exchange_weak(word, word | addr, AcqRel, Acquire)
            {
                // SAFETY: published just now from a live `Arc`, its count given back only by `drop`.
                Ok(_) => return (unsafe { &*made }, true),
                Err(now) => word = now,
            }
        }
    }
}

impl Drop for Outlets {
    fn drop(&mut self) {
        let word = self.word.load(Acquire);
        if word & HAS_SENDER != 0 {
            // SAFETY: the cell was written (`HAS_SENDER` is set), and `&mut self` excludes every
            // other access; it is not used again.
            unsafe { self.sender.get_mut().assume_init_drop() };
        }
        let addr = word & !HAS_SENDER;
        if addr != 0 {
            // SAFETY: the address came from `Arc::into_raw` (provenance exposed) in
            // `tasks_or_make`, was published once, and its count is given back only here.
            drop(unsafe { Arc::from_raw(std::ptr::with_exposed_provenance::<Tasks>(addr)) });
        }
    }
}

#[cfg(all(test, not(gotimer_loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Each outlet is set once, in either order, and both are freed with it: a sender whose
    /// receiver sees the disconnect, and a slot made by one of several racing threads.
    #[test]
    fn each_outlet_is_made_once_and_freed_with_it() {
        let (tx, rx) = crossbeam_channel::bounded::<Instant>(1);
        let outlets = Arc::new(Outlets::new());
        assert!(outlets.sender().is_none() && outlets.tasks().is_none());
        let racers: Vec<_> = (0..4)
            .map(|_| {
                let outlets = outlets.clone();
                std::thread::spawn(move || {
                    let (tasks, made) = outlets.tasks_or_make();
                    (tasks as *const Tasks as usize, made)
                })
            })
            .collect();
        // SAFETY: the only `set_sender` on these outlets; the racing threads only make the slot.
        unsafe { outlets.set_sender(tx) };
        let made: Vec<_> = racers.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(made.iter().filter(|(_, m)| *m).count(), 1, "{made:?}");
        let slot = outlets.tasks().unwrap() as *const Tasks as usize;
        assert!(made.iter().all(|(addr, _)| *addr == slot));
        let now = Instant::now();
        outlets.sender().unwrap().send(now).unwrap();
        assert_eq!(rx.recv(), Ok(now));
        assert!(
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let (tx2, _rx2) = crossbeam_channel::bounded(1);
                // SAFETY: the racers are joined: no other `set_sender` runs.
                unsafe { outlets.set_sender(tx2) }
            }))
            .is_err(),
            "armed twice"
        );
        drop(outlets);
        assert!(
            rx.recv().is_err(),
            "the sender was dropped with the outlets"
        );
    }

    #[test]
    fn unset_outlets_drop_cleanly_and_are_small() {
        drop(Outlets::new());
        let o = Outlets::new();
        let _ = o.tasks_or_make();
        drop(o);
        assert_eq!(std::mem::size_of::<Outlets>(), 24);
    }
}

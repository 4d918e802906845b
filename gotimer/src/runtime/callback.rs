//! Running an `after_func` callback, on whichever thread runs it (a pool thread on the system clock,
//! the advancing thread on a fake one): a panic is caught, counted and reported with the callback's
//! call site, and never reaches the thread.
//!
//! The count comes first, as early as a library can put it. The panic hook (std's default prints
//! the message and, with `RUST_BACKTRACE=1`, a backtrace) runs when the panic starts, before any
//! unwinding, so nothing short of replacing the process's hook could count before it. The next
//! thing that happens is the unwinding of the callback's frame: a guard counts there, before the
//! captures of the callback are dropped. So whoever learns of the panic by a capture's drop (a
//! `Sender` that disconnects, a value whose `Drop` signals) finds it counted, and so does whoever
//! reads gotimer's report line, which comes last.

use super::entry::EntryRef;
use crate::sync::{AtomicUsize, Ordering::SeqCst};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs the callback of `job`, an entry whose kind's `fire` returned `Fired::Run`, if this thread
/// claims it before a `stop` or `reset` takes it back, and drops the job.
/// A panic in the callback, or in the drop of its captures, is counted in `panics` and reported.
pub(crate) fn run(job: EntryRef, panics: &AtomicUsize) {
    // Not if a `stop` or `reset` took it back first (`Entry::claim`): then only the drop.
    guarded(job, panics, false, |job| {
        if job.claim() {
            job.action.call();
        }
    })
}

/// Makes the notification a kind asked for when its entry fired (`Fired::Notify`: a task's waker),
/// on the firing thread, which may be the driver: a panic is counted and reported as a callback's
/// is, and never reaches the thread.
pub(crate) fn notify(entry: EntryRef, panics: &AtomicUsize) {
    guarded(entry, panics, true, |entry| entry.action.notify())
}

/// Calls `f` on `entry`, then drops the entry, catching a panic in either: counted in `panics`,
/// then reported with the timer's call site, as a waker's (`waker`) or a callback's.
fn guarded(entry: EntryRef, panics: &AtomicUsize, waker: bool, f: impl FnOnce(&EntryRef)) {
    // One load now; the location is looked up only for a report.
    let origin = entry.origin.tag();
    // The entry is dropped inside too: it may hold the last reference to the user's closure,
    // whose captures may panic when dropped.
    let outcome = catch_unwind(AssertUnwindSafe(move || {
        let entry = entry;
        // Declared after `entry`, so that unwinding drops it first: counted, then the captures go.
        let _count = CountIfUnwinding::new(panics);
        f(&entry);
        drop(entry);
    }));
    if let Err(payload) = outcome {
        let payloads = match payload.downcast::<Panics>() {
            Ok(several) => {
                // The unwinding counted one of them.
                panics.fetch_add(several.0.len().saturating_sub(1), SeqCst);
                several.0
            }
            Err(one) => vec![one],
        };
        let site = crate::origin::Origin::location_of(origin);
        for payload in payloads {
            let msg = super::fatal::panic_message(payload.as_ref());
            // To the reporter set by `gotimer::set_callback_panic_reporter`, or stderr.
            crate::report::deliver(&crate::report::CallbackPanic::new(site, msg, waker));
            // A payload whose own drop panics must not take the thread down either.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
        }
    }
}

/// The panics of several wakers woken in one notification (`Tasks::wake_all`), raised as one so
/// that the others are woken first; `guarded` counts and reports each.
pub(crate) struct Panics(pub(crate) Vec<Box<dyn std::any::Any + Send>>);

/// Counts a panic when it is dropped by the unwinding of a panic that started after it was made.
struct CountIfUnwinding<'a> {
    panics: &'a AtomicUsize,
    /// A callback run while the thread was already unwinding (an `advance` in a `Drop`) must not
    /// count its normal return.
    was_panicking: bool,
}

impl<'a> CountIfUnwinding<'a> {
    fn new(panics: &'a AtomicUsize) -> Self {
        CountIfUnwinding {
            panics,
            was_panicking: std::thread::panicking(),
        }
    }
}

impl Drop for CountIfUnwinding<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() && !self.was_panicking {
            self.panics.fetch_add(1, SeqCst);
        }
    }
}

/// Writes a line to stderr, ignoring failure: `eprintln!` panics when stderr is a closed pipe, and
/// a report must never kill the thread that makes it.
pub(crate) fn report(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

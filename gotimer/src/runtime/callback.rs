//! Running an `after_func` callback, on whichever thread runs it (a pool thread on the system clock,
//! the advancing thread on a fake one): a panic is caught, counted and reported with the callback's
//! call site, and never reaches the thread.

use super::entry::{EntryRef, View};
use crate::sync::{AtomicUsize, Ordering::SeqCst};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs the callback of `job`, an entry whose `fire` returned `Fired::Dispatch`, and drops the job.
/// A panic in the callback, or in the drop of its captures, is counted in `panics` and reported.
pub(crate) fn run(job: EntryRef, panics: &AtomicUsize) {
    let site = job.origin.location();
    // The job is dropped inside too: it may hold the last reference to the user's closure,
    // whose captures may panic when dropped.
    let outcome = catch_unwind(AssertUnwindSafe(move || {
        if let View::Func(f) = job.action.view() {
            f();
        }
        drop(job);
    }));
    if let Err(payload) = outcome {
        panics.fetch_add(1, SeqCst);
        let msg = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(non-string panic payload)");
        report(format_args!(
            "gotimer: the after_func callback created at {site} panicked: {msg}; \
             other timers keep running"
        ));
        // A payload whose own drop panics must not take the thread down either.
        let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
    }
}

/// Writes a line to stderr, ignoring failure: `eprintln!` panics when stderr is a closed pipe, and
/// a report must never kill the thread that makes it.
pub(crate) fn report(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

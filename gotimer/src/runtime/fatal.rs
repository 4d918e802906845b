//! A broken invariant of the runtime is fatal, as a corrupt timer heap is in Go (`badTimer` calls
//! `throw`). A panic on the driver thread, or on any thread while it holds a shard lock, means the
//! wheel or a shard's bookkeeping may be inconsistent: going on could deliver a value twice, or
//! never, and no timer of that runtime could be trusted again. Restarting the driver with the shards
//! intact would keep exactly that state, so gotimer aborts the process instead, with a message
//! saying what happened, rather than letting timers silently stop firing.
//!
//! A consequence: no shard lock is ever observed poisoned. A panic under one never returns to
//! user code, which is why `sync::lock` can ignore poisoning.
//!
//! Panics in user code (callbacks) are not fatal: they run outside every lock, and are caught,
//! counted and reported (`callback.rs`).

use std::any::Any;
use std::io::Write;
use std::time::Duration;

/// The message of a panic payload (`&str` or `String`, as `panic!` makes them).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(non-string panic payload)")
}

/// Reports `what` on stderr and aborts the process.
///
/// The report is written by a thread of its own, given a second: a stderr that blocks (a full pipe
/// nobody reads) must not keep the process from aborting.
#[cold]
pub(crate) fn fatal(what: std::fmt::Arguments<'_>) -> ! {
    let line = format!("gotimer: fatal: {what}; aborting\n");
    let (done, wait) = std::sync::mpsc::channel::<()>();
    let writer = {
        let line = line.clone();
        std::thread::Builder::new()
            .name("gotimer-fatal".into())
            .spawn(move || {
                let _ = std::io::stderr().write_all(line.as_bytes());
                let _ = done.send(());
            })
    };
    match writer {
        Ok(_) => {
            let _ = wait.recv_timeout(Duration::from_secs(1));
        }
        // No thread to be had: write it here, and hope stderr is not blocked.
        Err(_) => {
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
    }
    std::process::abort()
}

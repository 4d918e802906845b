//! What bounds the `/debug/pprof/` server: its threads, the bytes of a request head, and how long a
//! client may take. They are one file because together they are the answer to "what can a client
//! that misbehaves cost": a thread pool that does not grow, a head that cannot be longer than
//! [`MAX_HEAD`], and a connection that cannot be held longer than the timeouts.

use std::time::Duration;

/// Worker threads that read requests and write answers.
pub const WORKERS: usize = 4;
/// Accepted connections that may wait for a worker; more are answered `503` by one more
/// thread, so the server runs `WORKERS + 2` threads in all.
pub const QUEUE: usize = 64;
/// The longest request line plus headers read; a longer head is answered `431`.
pub const MAX_HEAD: usize = 64 * 1024;
/// How long a client has to send its whole request head; a slower one is answered `408`.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long writing an answer may take before the connection is dropped.
pub(super) const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// After an answer to a request that was not read whole (too long, say), how much more of it is read
/// and thrown away, and for how long, so that the client sees the answer rather than a reset.
pub(super) const DRAIN_BYTES: usize = 4 << 20;
pub(super) const DRAIN_TIME: Duration = Duration::from_secs(2);
/// The same for a connection answered `503`, by the one thread that answers those.
pub(super) const REJECT_DRAIN_TIME: Duration = Duration::from_millis(200);
/// How long writing a `503` may take: that thread answers every rejected connection in turn.
pub(super) const REJECT_WRITE_TIMEOUT: Duration = Duration::from_secs(1);

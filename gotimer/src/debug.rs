//! `/debug/pprof/` for gotimer's timer profile, like Go's `net/http/pprof` (feature `http`).
//!
//! [`serve`] binds a TCP address and answers, on background threads:
//!
//! | path | answer |
//! | --- | --- |
//! | `/debug/pprof/` | an HTML index |
//! | `/debug/pprof/timers` | the profile of [`write_pprof`](crate::profile::write_pprof), as a download |
//! | `/debug/pprof/timers?debug=1` | the same as a text table, one row per call site |
//! | anything else | 404 with a message; 405 for a method other than GET or HEAD |
//! | a head that is not HTTP/1.1's grammar | 400 saying what is wrong; 505 for another HTTP version |
//!
//! so that `go tool pprof -top http://127.0.0.1:6060/debug/pprof/timers` works against a running
//! program.
//!
//! # Loopback only, unless asked
//!
//! Like Go's handlers the endpoint has no authentication, and a profile tells whoever reads it
//! where the program's code is and what it is doing. So [`serve`] binds loopback addresses only: it
//! resolves the address it is given and refuses, with an error that says why, if any of the
//! results is not loopback (`0.0.0.0` and `[::]`, every interface, count as not loopback).
//! [`serve_public`] is the explicit opt-in, for a host whose network is private or firewalled: it
//! binds whatever it is given.
//!
//! ```
//! let server = gotimer::debug::serve("127.0.0.1:0").unwrap();
//! println!("go tool pprof -top http://{}/debug/pprof/timers", server.local_addr());
//!
//! let refused = gotimer::debug::serve("0.0.0.0:0").unwrap_err();
//! assert_eq!(refused.kind(), std::io::ErrorKind::PermissionDenied);
//! ```
//!
//! # Why std and not an HTTP crate
//!
//! The endpoint is three GET routes that each answer once and close the connection: a few hundred
//! lines of `std::net`. The small blocking server crates considered would have needed guarding
//! anyway: `tiny_http` 0.12 reads a header line with no length limit, has no read timeout, and
//! starts a new thread for each connection while its pool is busy, so a client that connects and
//! sends nothing holds a thread forever and a thousand of them hold a thousand. The async servers
//! bring a runtime, which a timer library should not. So this module has a fixed set of threads
//! (one acceptor, [`WORKERS`] workers and a queue of [`QUEUE`] connections; past that one more
//! thread answers `503`), a limit on the request head ([`MAX_HEAD`] bytes, else `431`), and a deadline for
//! reading it ([`READ_TIMEOUT`], else `408`). Nothing a client sends can panic a thread: a worker
//! that panicked anyway would be replaced. The head is parsed by pure functions of the bytes read,
//! checked by a coverage-guided fuzzer (`gotimer/fuzz`) whose corpus `cargo test` replays.
//!
//! The threads are detached: they never keep the process alive, and dropping the [`Server`] leaves
//! them serving. [`Server::shutdown`] stops them.

// The parts, each a file: `limits.rs` (what bounds threads, bytes and time), `server.rs` (the
// listener and its threads), `http.rs` (reading a request head off a socket and writing an
// answer), `head.rs` (the head's grammar, pure, for the fuzzer), `routes.rs` (which answer a head
// gets) and `render.rs` (the index and the text table).

mod head;
#[cfg(test)]
mod head_check;
mod http;
mod limits;
mod render;
mod routes;
mod server;

pub use limits::{MAX_HEAD, QUEUE, READ_TIMEOUT, WORKERS};
pub use server::{serve, serve_public, Server};

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

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

mod head;
#[cfg(test)]
mod head_check;

use head::{head_end, parse_head, Head, HeadError};

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
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// After an answer to a request that was not read whole (too long, say), how much more of it is read
/// and thrown away, and for how long, so that the client sees the answer rather than a reset.
const DRAIN_BYTES: usize = 4 << 20;
const DRAIN_TIME: Duration = Duration::from_secs(2);
/// The same for a connection answered `503`, by the one thread that answers those.
const REJECT_DRAIN_TIME: Duration = Duration::from_millis(200);

/// A running `/debug/pprof/` server, from [`serve`].
///
/// ```
/// let server = gotimer::debug::serve("127.0.0.1:0").unwrap();
/// assert!(server.local_addr().ip().is_loopback());
/// server.shutdown();
/// ```
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("addr", &self.addr).finish()
    }
}

impl Server {
    /// The address the server is bound to: with port 0 asked for, the port the system chose.
    ///
    /// ```
    /// let server = gotimer::debug::serve("127.0.0.1:0").unwrap();
    /// assert_ne!(server.local_addr().port(), 0);
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The profile's URL: `http://ADDR/debug/pprof/timers`, for `go tool pprof`.
    ///
    /// ```
    /// let server = gotimer::debug::serve("127.0.0.1:0").unwrap();
    /// assert!(server.url().ends_with("/debug/pprof/timers"));
    /// ```
    pub fn url(&self) -> String {
        format!("http://{}/debug/pprof/timers", self.addr)
    }

    /// Stops accepting, lets the workers finish the requests they hold, and waits for every thread to
    /// end. Connections already queued for a worker are still answered first.
    ///
    /// ```
    /// let server = gotimer::debug::serve("127.0.0.1:0").unwrap();
    /// let addr = server.local_addr();
    /// server.shutdown();
    /// assert!(std::net::TcpStream::connect(addr).is_err());
    /// ```
    pub fn shutdown(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor out of accept(): connect to ourselves (on loopback if bound to any).
        let mut wake = self.addr;
        if wake.ip().is_unspecified() {
            wake.set_ip(match wake {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// Serves `/debug/pprof/` on `addr`, which must be loopback, from background threads, and returns
/// once the address is bound. Port 0 picks a free port: see [`Server::local_addr`]. See the
/// [module docs](self) for the routes and the limits.
///
/// `addr` is resolved (`"localhost:6060"` is fine), and every address it resolves to must be a
/// loopback one (`127.0.0.0/8`, `::1`, or `::ffff:127.x.x.x`); else nothing is bound and the error
/// (`ErrorKind::PermissionDenied`) names the address and [`serve_public`], which serves on any.
/// An address that does not resolve is the resolver's error, and one that resolves to nothing is
/// `ErrorKind::InvalidInput`.
///
/// ```
/// use std::io::{Read, Write};
///
/// let server = gotimer::debug::serve("127.0.0.1:0").unwrap();
/// let mut conn = std::net::TcpStream::connect(server.local_addr()).unwrap();
/// conn.write_all(b"GET /debug/pprof/timers?debug=1 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
/// let mut answer = String::new();
/// conn.read_to_string(&mut answer).unwrap();
/// assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"));
/// ```
pub fn serve(addr: impl ToSocketAddrs) -> io::Result<Server> {
    let addrs = resolve(addr)?;
    if let Some(open) = addrs.iter().find(|a| !a.ip().to_canonical().is_loopback()) {
        let what = if open.ip().is_unspecified() {
            "every interface, not a loopback address"
        } else {
            "not a loopback address"
        };
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "gotimer::debug::serve refuses {open}: {what}. The /debug/pprof/ endpoint has no \
                 authentication, so serve binds loopback only (127.0.0.1, [::1], localhost); to \
                 serve on {open} anyway, call gotimer::debug::serve_public"
            ),
        ));
    }
    start(&addrs)
}

/// Serves `/debug/pprof/` on `addr` as [`serve`] does, but on any address, loopback or not:
/// anyone who can reach it can read the profile, without authentication. For a host whose network
/// is private (a container's, say, reached through a port forward) or firewalled.
///
/// ```
/// // Every interface, so loopback as well.
/// let server = gotimer::debug::serve_public("0.0.0.0:0").unwrap();
/// assert!(server.local_addr().ip().is_unspecified());
/// let port = server.local_addr().port();
/// assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
/// server.shutdown();
/// ```
pub fn serve_public(addr: impl ToSocketAddrs) -> io::Result<Server> {
    start(&resolve(addr)?)
}

/// Every address `addr` resolves to; at least one.
fn resolve(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "gotimer::debug::serve: the address resolves to no address to bind",
        ));
    }
    Ok(addrs)
}

/// Binds the first of `addrs` that can be bound and starts serving on it.
fn start(addrs: &[SocketAddr]) -> io::Result<Server> {
    let listener = TcpListener::bind(addrs)?;
    let addr = listener.local_addr()?;
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = sync_channel::<TcpStream>(QUEUE);
    let rx = Arc::new(Mutex::new(rx));
    let mut workers = Vec::with_capacity(WORKERS);
    for i in 0..WORKERS {
        workers.push(spawn_worker(i, rx.clone())?);
    }
    let stop2 = stop.clone();
    let acceptor = thread::Builder::new()
        .name("gotimer-pprof-accept".into())
        .spawn(move || accept_loop(listener, tx, rx, workers, stop2))?;
    Ok(Server {
        addr,
        stop,
        acceptor: Some(acceptor),
    })
}

type Queue = Arc<Mutex<Receiver<TcpStream>>>;

fn spawn_worker(i: usize, rx: Queue) -> io::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name(format!("gotimer-pprof-{i}"))
        .spawn(move || loop {
            // The lock is held only while waiting for the next connection.
            let next = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
            match next {
                Ok(conn) => handle(conn),
                Err(_) => return, // the acceptor is gone
            }
        })
}

fn accept_loop(
    listener: TcpListener,
    tx: SyncSender<TcpStream>,
    rx: Queue,
    mut workers: Vec<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
) {
    // Connections that find the queue full are answered 503 by one more thread, which also reads what
    // they sent, briefly, so that they get the answer rather than a reset. Past its own queue they
    // are closed.
    let (reject_tx, reject_rx) = sync_channel::<TcpStream>(QUEUE);
    let rejecter = thread::Builder::new()
        .name("gotimer-pprof-busy".into())
        .spawn(move || {
            for conn in reject_rx {
                reject(conn);
            }
        })
        .ok();
    let mut failures = 0u32;
    while !stop.load(Ordering::SeqCst) {
        let conn = match listener.accept() {
            Ok((conn, _)) => {
                failures = 0;
                conn
            }
            Err(_) => {
                // Out of file descriptors, say: back off rather than spin.
                failures = (failures + 1).min(10);
                thread::sleep(Duration::from_millis(1 << failures));
                continue;
            }
        };
        if stop.load(Ordering::SeqCst) {
            break;
        }
        // A worker that died (it cannot panic on input, but be safe) is replaced.
        for (i, w) in workers.iter_mut().enumerate() {
            if w.is_finished() {
                if let Ok(fresh) = spawn_worker(i, rx.clone()) {
                    *w = fresh;
                }
            }
        }
        if let Err(TrySendError::Full(conn) | TrySendError::Disconnected(conn)) = tx.try_send(conn)
        {
            if rejecter.is_some() {
                let _ = reject_tx.try_send(conn);
            }
        }
    }
    drop(tx);
    drop(reject_tx);
    for w in workers.into_iter().chain(rejecter) {
        let _ = w.join();
    }
}

/// Answers 503 to a connection that found every worker busy and the queue full.
fn reject(conn: TcpStream) {
    let _ = conn.set_write_timeout(Some(Duration::from_secs(1)));
    let _ = respond(
        &conn,
        503,
        "text/plain; charset=utf-8",
        &[("Retry-After", "1")],
        b"503 busy: too many connections waiting, try again\n",
        true,
    );
    finish(conn, false, REJECT_DRAIN_TIME);
}

/// Reads one request from `conn`, answers it, and closes the connection.
fn handle(conn: TcpStream) {
    let _ = conn.set_write_timeout(Some(WRITE_TIMEOUT));
    let (status, body) = match read_head(&conn) {
        Ok(head) => {
            answer(&conn, &head);
            // A GET or HEAD has no body; another method's body was not read.
            let read_whole = head.method == "GET" || head.method == "HEAD";
            finish(conn, read_whole, DRAIN_TIME);
            return;
        }
        Err(HeadError::Closed) => return,
        Err(HeadError::TooLong) => (
            431,
            format!("431 request head longer than {MAX_HEAD} bytes\n"),
        ),
        Err(HeadError::Timeout) => (
            408,
            format!("408 no complete request within {READ_TIMEOUT:?}\n"),
        ),
        Err(HeadError::Malformed(why)) => (400, format!("400 malformed request: {why}\n")),
        Err(HeadError::Version) => (505, "505 only HTTP/1.x is served here\n".to_owned()),
    };
    let _ = respond(
        &conn,
        status,
        "text/plain; charset=utf-8",
        &[],
        body.as_bytes(),
        true,
    );
    finish(conn, false, DRAIN_TIME);
}

/// Closes the connection after an answer: shuts down writing, and, if the request was not read whole,
/// reads and discards the rest for a while, so that the client is not sent a reset before it has read
/// the answer.
fn finish(mut conn: TcpStream, read_whole: bool, drain_time: Duration) {
    let _ = conn.shutdown(Shutdown::Write);
    if read_whole {
        return;
    }
    let start = Instant::now();
    let mut buf = [0u8; 16 * 1024];
    let mut drained = 0;
    while drained < DRAIN_BYTES {
        let left = drain_time.saturating_sub(start.elapsed());
        if left.is_zero() || conn.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => drained += n,
        }
    }
}

/// Reads the request line and headers (up to the empty line), within [`MAX_HEAD`] bytes and
/// [`READ_TIMEOUT`] in all, and parses them (`head.rs`). There is no body to read for a GET.
fn read_head(mut conn: &TcpStream) -> Result<Head, HeadError> {
    let start = Instant::now();
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let mut scanned = 0;
    let end = loop {
        if let Some(end) = head_end(&buf, scanned) {
            break end;
        }
        scanned = buf.len();
        if buf.len() >= MAX_HEAD {
            return Err(HeadError::TooLong);
        }
        let left = READ_TIMEOUT.saturating_sub(start.elapsed());
        if left.is_zero() || conn.set_read_timeout(Some(left)).is_err() {
            return Err(HeadError::Timeout);
        }
        let want = chunk.len().min(MAX_HEAD - buf.len());
        match conn.read(&mut chunk[..want]) {
            Ok(0) if buf.is_empty() => return Err(HeadError::Closed),
            Ok(0) => {
                return Err(HeadError::Malformed(
                    "the connection closed inside the head",
                ))
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut =>
            {
                return Err(HeadError::Timeout)
            }
            Err(_) => return Err(HeadError::Closed),
        }
    };
    parse_head(&buf[..end])
}

fn answer(conn: &TcpStream, head: &Head) {
    let body_wanted = head.method != "HEAD";
    if head.method != "GET" && head.method != "HEAD" {
        let body = format!("405 method {} not allowed: only GET\n", head.method);
        let _ = respond(
            conn,
            405,
            "text/plain; charset=utf-8",
            &[("Allow", "GET, HEAD")],
            body.as_bytes(),
            body_wanted,
        );
        return;
    }
    let debug = head
        .query
        .split('&')
        .find_map(|kv| kv.strip_prefix("debug="))
        .map(|v| v != "0")
        .unwrap_or(false);
    let _ = match head.path.as_str() {
        "/debug/pprof/" | "/debug/pprof" => respond(
            conn,
            200,
            "text/html; charset=utf-8",
            &[],
            index().as_bytes(),
            body_wanted,
        ),
        "/debug/pprof/timers" if debug => respond(
            conn,
            200,
            "text/plain; charset=utf-8",
            &[],
            table().as_bytes(),
            body_wanted,
        ),
        "/debug/pprof/timers" => {
            let mut body = Vec::new();
            match crate::profile::write_pprof(&mut body) {
                Ok(()) => respond(
                    conn,
                    200,
                    "application/octet-stream",
                    &[
                        ("Content-Disposition", "attachment; filename=\"timers\""),
                        ("X-Content-Type-Options", "nosniff"),
                    ],
                    &body,
                    body_wanted,
                ),
                Err(e) => respond(
                    conn,
                    500,
                    "text/plain; charset=utf-8",
                    &[],
                    format!("500 could not write the profile: {e}\n").as_bytes(),
                    body_wanted,
                ),
            }
        }
        other => {
            let shown: String = other.chars().take(200).collect();
            let body = format!(
                "404 page not found: {shown}\nThe timer profile is at /debug/pprof/timers \
                 (?debug=1 for text); the index is at /debug/pprof/\n"
            );
            respond(
                conn,
                404,
                "text/plain; charset=utf-8",
                &[],
                body.as_bytes(),
                body_wanted,
            )
        }
    };
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

fn respond(
    mut conn: &TcpStream,
    status: u16,
    content_type: &str,
    extra: &[(&str, &str)],
    body: &[u8],
    with_body: bool,
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\nCache-Control: no-store\r\n",
        reason(status),
        body.len()
    );
    for (k, v) in extra {
        let _ = write!(head, "{k}: {v}\r\n");
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes())?;
    if with_body {
        conn.write_all(body)?;
    }
    conn.flush()
}

fn index() -> String {
    let sites = crate::profile::snapshot();
    let live: u64 = sites.iter().map(|s| s.live).sum();
    let bytes: u64 = sites.iter().map(|s| s.live_bytes).sum();
    format!(
        "<!DOCTYPE html>\n<html><head><title>/debug/pprof/</title></head><body>\n\
         <h1>/debug/pprof/</h1>\n\
         <p>gotimer's timer profile. Types of profiles available:</p>\n\
         <table><thead><tr><th>Count</th><th>Profile</th></tr></thead>\n\
         <tr><td>{live}</td><td><a href=\"timers?debug=1\">timers</a></td></tr>\n\
         </table>\n\
         <p><a href=\"timers\">full timer profile</a> (pprof format, {live} live timers holding \
         {bytes} bytes, from {sites} call sites)</p>\n\
         <p>Profile descriptions:</p>\n<ul>\n\
         <li><div class=\"profile-name\">timers: </div>live timers (pending, or held by a handle) \
         per call site, with the bytes they hold. Read it with \
         <code>go tool pprof -top http://HOST/debug/pprof/timers</code>; \
         <code>-sample_index=space</code> shows bytes.</li>\n\
         </ul>\n</body></html>\n",
        sites = sites.iter().filter(|s| s.live > 0).count(),
    )
}

fn table() -> String {
    let sites = crate::profile::snapshot();
    let now = Instant::now();
    let live: u64 = sites.iter().map(|s| s.live).sum();
    let bytes: u64 = sites.iter().map(|s| s.live_bytes).sum();
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut out = format!(
        "timer profile: {}, {}, {}\n\
         live: timers from the site that are pending or held by a handle; live_bytes: what they \
         hold, as an allocator counts it (a Timer or Ticker whose c() was never called: its entry \
         alone; once called: its channel and wheel slot too); created: timers the site made since \
         the process started\n\
         next_due, last_due: seconds from now to the earliest and the latest deadline among the \
         site's pending timers on the system clock (\"-\": none pending, or only on fake clocks)\n\
         not here: the system clock's after(), at() and sleep(), which register no timer\n\n",
        plural(live, "live timer", "live timers"),
        plural(bytes, "byte", "bytes"),
        plural(sites.len() as u64, "call site", "call sites"),
    );
    let _ = writeln!(
        out,
        "{:>10} {:>12} {:>10} {:<9} {:>12} {:>12}  site",
        "live", "live_bytes", "created", "kind", "next_due", "last_due"
    );
    let due = |d: Option<Instant>| match d {
        Some(d) => format!("{:.3}s", d.saturating_duration_since(now).as_secs_f64()),
        None => "-".to_owned(),
    };
    for s in &sites {
        let _ = writeln!(
            out,
            "{:>10} {:>12} {:>10} {:<9} {:>12} {:>12}  {}:{}:{}",
            s.live,
            s.live_bytes,
            s.created,
            s.kind.name(),
            due(s.earliest),
            due(s.latest),
            s.file,
            s.line,
            s.column
        );
    }
    out
}

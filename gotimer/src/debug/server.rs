//! The `/debug/pprof/` server's lifecycle: binding (loopback only, unless asked), the acceptor, the
//! fixed pool of workers and the one thread that answers `503`, and stopping them all.
//!
//! Each worker takes a connection from the queue and answers it whole (`handle`): read the head
//! (`http.rs`), route it (`routes.rs`), write the answer and close. The threads are fixed in number
//! (`limits.rs`), so that clients that connect and send nothing cannot make the server grow.

use super::http::{self, Response};
use super::limits::{
    DRAIN_TIME, QUEUE, REJECT_DRAIN_TIME, REJECT_WRITE_TIMEOUT, WORKERS, WRITE_TIMEOUT,
};
use super::routes::route;
use crate::sync::lock;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
// `std`'s atomic: the server's stop flag is outside the timer runtime and its loom models; the
// acceptor that reads it is woken by a connection and joined, which orders what follows.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

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
/// [module docs](crate::debug) for the routes and the limits.
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

/// The accepted connections waiting for a worker; a worker holds the lock only while it waits for
/// the next one.
type Queue = Arc<Mutex<Receiver<TcpStream>>>;

fn spawn_worker(i: usize, rx: Queue) -> io::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name(format!("gotimer-pprof-{i}"))
        .spawn(move || loop {
            let next = lock(&*rx).recv();
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
    let _ = conn.set_write_timeout(Some(REJECT_WRITE_TIMEOUT));
    let busy = Response::text(503, "503 busy: too many connections waiting, try again\n")
        .with_headers(&[("Retry-After", "1")]);
    let _ = http::send(&conn, &busy, true);
    http::finish(conn, false, REJECT_DRAIN_TIME);
}

/// Reads one request from `conn`, answers it, and closes the connection.
fn handle(conn: TcpStream) {
    let _ = conn.set_write_timeout(Some(WRITE_TIMEOUT));
    match http::read_head(&conn) {
        Ok(head) => {
            let _ = http::send(&conn, &route(&head), head.method != "HEAD");
            // A GET or HEAD has no body; another method's body was not read.
            let read_whole = head.method == "GET" || head.method == "HEAD";
            http::finish(conn, read_whole, DRAIN_TIME);
        }
        Err(error) => {
            if let Some(refusal) = http::refusal(error) {
                let _ = http::send(&conn, &refusal, true);
                http::finish(conn, false, DRAIN_TIME);
            }
        }
    }
}

//! HTTP/1.1 on one connection of the `/debug/pprof/` server: reading the request head off the
//! socket within the limits, the answer to a head that could not be read, writing an answer, and
//! closing so that the client reads the answer rather than a reset.
//!
//! The socket side lives here and the grammar in `head.rs`, so that the parser stays a pure
//! function of bytes that the fuzzer can call; the answer to a head that was read is `routes.rs`'s,
//! as a [`Response`] value, so that routing needs no socket either.

use super::head::{head_end, parse_head, Head, HeadError};
use super::limits::{DRAIN_BYTES, MAX_HEAD, READ_TIMEOUT};
use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

/// What the server answers: a status, its content, and any headers beyond the ones every answer
/// has (`Content-Type`, `Content-Length`, `Connection: close`, `Cache-Control: no-store`).
pub(super) struct Response {
    pub(super) status: u16,
    pub(super) content_type: &'static str,
    pub(super) extra: &'static [(&'static str, &'static str)],
    pub(super) body: Vec<u8>,
}

impl Response {
    /// An answer of `content_type` with no extra headers.
    pub(super) fn new(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status,
            content_type,
            extra: &[],
            body: body.into(),
        }
    }

    /// A plain-text answer: every error, and the text table.
    pub(super) fn text(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Response::new(status, "text/plain; charset=utf-8", body)
    }

    /// The same answer with `extra` headers.
    pub(super) fn with_headers(self, extra: &'static [(&'static str, &'static str)]) -> Self {
        Response { extra, ..self }
    }
}

/// Reads the request line and headers (up to the empty line), within [`MAX_HEAD`] bytes and
/// [`READ_TIMEOUT`] in all, and parses them (`head.rs`). There is no body to read for a GET.
pub(super) fn read_head(mut conn: &TcpStream) -> Result<Head, HeadError> {
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

/// The answer to a head that could not be read, saying why; `None` for a client that closed
/// before sending anything, which is answered by closing.
pub(super) fn refusal(error: HeadError) -> Option<Response> {
    let (status, body) = match error {
        HeadError::Closed => return None,
        HeadError::TooLong => (
            431,
            format!("431 request head longer than {MAX_HEAD} bytes\n"),
        ),
        HeadError::Timeout => (
            408,
            format!("408 no complete request within {READ_TIMEOUT:?}\n"),
        ),
        HeadError::Malformed(why) => (400, format!("400 malformed request: {why}\n")),
        HeadError::Version => (505, "505 only HTTP/1.x is served here\n".to_owned()),
    };
    Some(Response::text(status, body))
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

/// Writes `answer`: its head, and its body unless `with_body` is false (the answer to a HEAD, whose
/// `Content-Length` still gives the body's length).
pub(super) fn send(mut conn: &TcpStream, answer: &Response, with_body: bool) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
         Connection: close\r\nCache-Control: no-store\r\n",
        answer.status,
        reason(answer.status),
        answer.content_type,
        answer.body.len()
    );
    for (k, v) in answer.extra {
        let _ = write!(head, "{k}: {v}\r\n");
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes())?;
    if with_body {
        conn.write_all(&answer.body)?;
    }
    conn.flush()
}

/// Closes the connection after an answer: shuts down writing, and, if the request was not read whole,
/// reads and discards the rest for a while, so that the client is not sent a reset before it has read
/// the answer.
pub(super) fn finish(mut conn: TcpStream, read_whole: bool, drain_time: Duration) {
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

//! The request head of the `/debug/pprof/` endpoint, as pure functions of the bytes read so far:
//! where the head ends ([`head_end`]) and what it asks for ([`parse_head`]). No socket, no clock, so
//! that the fuzzer and the tests can call them on any bytes (`head_check.rs`).
//!
//! The grammar is HTTP/1.1's (RFC 9112), as a server that answers three GET routes needs it:
//! - A line ends at LF, and a CR just before that LF is dropped (§2.2 lets a recipient take a bare
//!   LF as a line end). A CR anywhere else is an error.
//! - The head ends at its first empty line.
//! - The request line is `method SP target SP HTTP/1.d`. The method is uppercase letters; the target
//!   is a path (`/…`) or an absolute URL (`http://host/…`, §3.2.2), of visible ASCII; another HTTP
//!   major version is [`HeadError::Version`] (505).
//! - Every header line is `name: value` with a token name right before the colon, and a value of
//!   visible characters, spaces and tabs; a folded line (one starting with a space) is an error
//!   (§5.2). Headers are checked, not kept: no route reads one.

/// What the request line asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Head {
    pub(crate) method: String,
    pub(crate) path: String,
    /// The part of the target after `?`, without it; empty if there is none.
    pub(crate) query: String,
}

/// Why a request head is not answered with its route.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum HeadError {
    /// No empty line within `MAX_HEAD` bytes: 431.
    TooLong,
    /// No whole head within the read timeout: 408.
    Timeout,
    /// The client closed before sending anything: no answer.
    Closed,
    /// Not HTTP/1.1's grammar, and why: 400.
    Malformed(&'static str),
    /// `HTTP/d.d` with a major version other than 1: 505.
    Version,
}

/// The length of the head at the start of `buf`, up to and including the LF of its first empty line,
/// or `None` if `buf` holds no empty line yet. Bytes before `from` were scanned by an earlier call
/// that returned `None` (pass 0 the first time): reading a head in small pieces costs linear time,
/// not quadratic.
pub(crate) fn head_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(lf) = buf.get(i..)?.iter().position(|&b| b == b'\n') {
        let at = i + lf;
        // The line this LF ends is empty: it starts at 0 or after an LF, and holds nothing or a CR.
        let empty = match at {
            0 => true,
            1 => buf[0] == b'\r',
            _ => buf[at - 1] == b'\n' || (buf[at - 1] == b'\r' && buf[at - 2] == b'\n'),
        };
        if empty {
            return Some(at + 1);
        }
        i = at + 1;
    }
    None
}

/// Parses a whole head, as [`head_end`] delimits it: its last line is the empty one.
pub(crate) fn parse_head(head: &[u8]) -> Result<Head, HeadError> {
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let request = lines.next().unwrap_or_default();
    if head.iter().filter(|&&b| b == b'\r').count() > head.iter().filter(|&&b| b == b'\n').count()
        || request.contains(&b'\r')
    {
        return Err(HeadError::Malformed("a CR that does not end a line"));
    }
    let head = parse_request_line(request)?;
    for line in lines {
        if line.is_empty() {
            // The empty line that ends the head (`split` yields one more, empty, after its LF).
            continue;
        }
        check_header(line)?;
    }
    Ok(head)
}

fn parse_request_line(line: &[u8]) -> Result<Head, HeadError> {
    let mut parts = line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::Malformed(
            "the request line is not `METHOD TARGET HTTP/1.1`",
        ));
    };
    if method.is_empty() || !method.iter().all(u8::is_ascii_uppercase) {
        return Err(HeadError::Malformed("the method is not uppercase letters"));
    }
    match version {
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', d] if d.is_ascii_digit() => {}
        [b'H', b'T', b'T', b'P', b'/', a, b'.', b] if a.is_ascii_digit() && b.is_ascii_digit() => {
            return Err(HeadError::Version)
        }
        _ => return Err(HeadError::Malformed("the version is not HTTP/1.x")),
    }
    if !target.iter().all(|&b| b.is_ascii_graphic()) {
        return Err(HeadError::Malformed(
            "the target has a byte that is not visible ASCII",
        ));
    }
    let target = std::str::from_utf8(target).expect("visible ASCII is UTF-8");
    let origin = origin_form(target).ok_or(HeadError::Malformed(
        "the target is neither a path nor an http URL",
    ))?;
    let (path, query) = origin.split_once('?').unwrap_or((origin, ""));
    Ok(Head {
        method: String::from_utf8(method.to_vec()).expect("ASCII letters are UTF-8"),
        path: path.to_owned(),
        query: query.to_owned(),
    })
}

/// The path and query of a target: itself if it is a path, what follows the host in an absolute
/// `http(s)://host…` URL (`/` if nothing does).
fn origin_form(target: &str) -> Option<&str> {
    if target.starts_with('/') {
        return Some(target);
    }
    let (scheme, rest) = target.split_once("://")?;
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return None;
    }
    let host_end = rest.find(['/', '?']).unwrap_or(rest.len());
    if host_end == 0 {
        return None;
    }
    match &rest[host_end..] {
        "" => Some("/"),
        tail if tail.starts_with('?') => None,
        tail => Some(tail),
    }
}

fn check_header(line: &[u8]) -> Result<(), HeadError> {
    if line[0] == b' ' || line[0] == b'\t' {
        return Err(HeadError::Malformed("a folded header line"));
    }
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or(HeadError::Malformed("a header line without a colon"))?;
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
        return Err(HeadError::Malformed("a header name that is not a token"));
    }
    if !value
        .iter()
        .all(|&b| b == b' ' || b == b'\t' || b.is_ascii_graphic() || b >= 0x80)
    {
        return Err(HeadError::Malformed(
            "a control character in a header value",
        ));
    }
    Ok(())
}

/// RFC 9110's `tchar`: the bytes of a token.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8]) -> Result<Head, HeadError> {
        let end = head_end(raw, 0).expect("a whole head");
        parse_head(&raw[..end])
    }

    fn head(method: &str, path: &str, query: &str) -> Result<Head, HeadError> {
        Ok(Head {
            method: method.into(),
            path: path.into(),
            query: query.into(),
        })
    }

    #[test]
    fn requests_go_tool_pprof_curl_and_browsers_send() {
        assert_eq!(
            parse(b"GET /debug/pprof/timers HTTP/1.1\r\nHost: 127.0.0.1:6060\r\nUser-Agent: Go-http-client/1.1\r\nAccept-Encoding: gzip\r\n\r\n"),
            head("GET", "/debug/pprof/timers", "")
        );
        assert_eq!(
            parse(b"HEAD /debug/pprof/timers?debug=1&x= HTTP/1.0\r\n\r\n"),
            head("HEAD", "/debug/pprof/timers", "debug=1&x=")
        );
        assert_eq!(
            parse(b"GET http://localhost:6060/debug/pprof/ HTTP/1.1\r\nHost: localhost\r\n\r\n"),
            head("GET", "/debug/pprof/", "")
        );
        assert_eq!(parse(b"GET http://h HTTP/1.1\n\n"), head("GET", "/", ""));
        assert_eq!(
            parse(b"POST / HTTP/1.1\nA:\tb c\n\n"),
            head("POST", "/", "")
        );
    }

    #[test]
    fn the_head_ends_at_its_first_empty_line_however_lines_end() {
        for (raw, end) in [
            (&b"GET / HTTP/1.1\r\n\r\nbody"[..], 18),
            (b"GET / HTTP/1.1\n\nbody", 16),
            // Found by the fuzzer: an LF line followed by a CRLF empty line was never seen as the
            // end, so the request waited out the read timeout.
            (b"GET / HTTP/1.1\n\r\n", 17),
            (b"GET / HTTP/1.1\r\nHost: x\n\r\n", 26),
            (b"\r\n", 2),
            (b"\n", 1),
        ] {
            assert_eq!(head_end(raw, 0), Some(end), "{raw:?}");
        }
        for raw in [
            &b"GET / HTTP/1.1\r\n"[..],
            b"GET / HTTP/1.1\r\n\r",
            b"a\r\r\n",
            b"",
        ] {
            assert_eq!(head_end(raw, 0), None, "{raw:?}");
        }
        // Scanning on from where the last call stopped finds the same end.
        let raw = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let mut from = 0;
        for len in 0..=raw.len() {
            match head_end(&raw[..len], from) {
                None => from = len,
                Some(end) => {
                    assert_eq!((len, end), (raw.len(), raw.len()));
                }
            }
        }
    }

    #[test]
    fn malformed_heads_say_why() {
        let cases: [(&[u8], &str); 14] = [
            (b"\r\n", "the request line"),
            (b"GET\r\n\r\n", "the request line"),
            (b"GET  / HTTP/1.1\r\n\r\n", "the request line"),
            (b"GET / HTTP/1.1 x\r\n\r\n", "the request line"),
            (b"get / HTTP/1.1\r\n\r\n", "uppercase"),
            (b"GET / HTTP/1.1x\r\n\r\n", "HTTP/1.x"),
            (b"GET / SPDY/3\r\n\r\n", "HTTP/1.x"),
            (b"GET noslash HTTP/1.1\r\n\r\n", "neither a path"),
            (b"GET ftp://h/ HTTP/1.1\r\n\r\n", "neither a path"),
            (b"GET /\xc3\x28 HTTP/1.1\r\n\r\n", "visible ASCII"),
            (b"GET /a\rb HTTP/1.1\r\n\r\n", "a CR"),
            (b"GET / HTTP/1.1\r\nHost x\r\n\r\n", "without a colon"),
            (b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", "not a token"),
            (b"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", "folded"),
        ];
        for (raw, why) in cases {
            match parse(raw) {
                Err(HeadError::Malformed(reason)) => {
                    assert!(reason.contains(why), "{raw:?}: {reason}")
                }
                other => panic!("{raw:?}: {other:?}"),
            }
        }
        assert_eq!(parse(b"GET / HTTP/2.0\r\n\r\n"), Err(HeadError::Version));
        assert_eq!(
            parse(b"GET / HTTP/1.1\r\nA: b\x00\r\n\r\n"),
            Err(HeadError::Malformed(
                "a control character in a header value"
            ))
        );
    }
}

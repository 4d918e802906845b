//! The `/debug/pprof/` endpoint: its routes, `go tool pprof` against it, and bad input (unknown
//! paths, POST, a 1 MB header, a client that sends nothing, garbage), after each of which it must
//! still serve.

#![cfg(feature = "http")]

mod pprof_common;

use gotimer::debug::{serve, serve_public, Server, MAX_HEAD, READ_TIMEOUT};
use gotimer::profile::Kind;
use pprof_common::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const HOUR: Duration = Duration::from_secs(3600);

/// The tests run one at a time: two of them count the process's threads.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Sends `raw` and reads the answer until the server closes, within `timeout`.
fn exchange(addr: SocketAddr, raw: &[u8], timeout: Duration) -> std::io::Result<Answer> {
    let mut conn = TcpStream::connect_timeout(&addr, timeout)?;
    conn.set_read_timeout(Some(timeout))?;
    conn.set_write_timeout(Some(timeout))?;
    conn.write_all(raw)?;
    read_answer(conn)
}

fn read_answer(mut conn: TcpStream) -> std::io::Result<Answer> {
    let mut all = Vec::new();
    conn.read_to_end(&mut all)?;
    let split = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("no head in {all:?}")))?;
    let head = String::from_utf8(all[..split].to_vec()).unwrap();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    Ok(Answer {
        status,
        head,
        body: all[split + 4..].to_vec(),
    })
}

fn get(addr: SocketAddr, target: &str) -> Answer {
    let raw = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: test\r\n\r\n");
    exchange(addr, raw.as_bytes(), Duration::from_secs(20)).unwrap()
}

/// The server still answers a plain request correctly.
fn assert_serving(server: &Server, after: &str) {
    let a = get(server.local_addr(), "/debug/pprof/timers");
    assert_eq!(a.status, 200, "not serving after {after}: {}", a.head);
    assert_eq!(&a.body[..2], &[0x1f, 0x8b], "after {after}");
}

/// The server's threads in this process (`gotimer-pprof-*`; the kernel keeps 15 bytes of a name).
#[cfg(target_os = "linux")]
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("gotimer-pprof"))
        .count()
}

/// [`threads`], once it has been `n` (a new thread names itself once it runs) or after 5 s.
#[cfg(target_os = "linux")]
fn threads_settled(n: usize) -> usize {
    let start = Instant::now();
    loop {
        let now = threads();
        if now == n || start.elapsed() > Duration::from_secs(5) {
            return now;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn routes() {
    let _serial = serial();
    let server = serve("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    let timers: Vec<_> = (0..4).map(|_| gotimer::Timer::new(HOUR)).collect();
    let line = line!() - 1;

    let index = get(addr, "/debug/pprof/");
    assert_eq!(index.status, 200);
    assert!(index
        .header("Content-Type")
        .unwrap()
        .starts_with("text/html"));
    assert!(index
        .text()
        .contains("<a href=\"timers?debug=1\">timers</a>"));
    assert_eq!(get(addr, "/debug/pprof").status, 200);

    let profile = get(addr, "/debug/pprof/timers");
    assert_eq!(profile.status, 200);
    assert_eq!(
        profile.header("Content-Type"),
        Some("application/octet-stream")
    );
    assert!(profile
        .header("Content-Disposition")
        .unwrap()
        .starts_with("attachment"));
    assert_eq!(
        profile.header("Content-Length").unwrap(),
        profile.body.len().to_string()
    );
    let p = decode(&profile.body);
    let name_of = |f: &gotimer::profile::pprof::Function| p.string_table[f.name as usize].clone();
    let f = p
        .function
        .iter()
        .find(|f| name_of(f).starts_with(&format!("{}:{line}:", file!())))
        .expect("the test's call site is in the served profile");
    assert!(name_of(f).ends_with(" Timer"));
    assert_eq!(get(addr, "/debug/pprof/timers?debug=0").status, 200);

    let text = get(addr, "/debug/pprof/timers?debug=1");
    assert_eq!(text.status, 200);
    assert!(text
        .header("Content-Type")
        .unwrap()
        .starts_with("text/plain"));
    let body = text.text();
    let row = body
        .lines()
        .find(|l| l.contains(&format!("{}:{line}:", file!())))
        .unwrap_or_else(|| panic!("no row for line {line}:\n{body}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!((cols[0], cols[2], cols[3]), ("4", "4", "Timer"), "{row}");

    // HEAD: the head of a GET, no body.
    let head = exchange(
        addr,
        b"HEAD /debug/pprof/timers HTTP/1.1\r\nHost: x\r\n\r\n",
        Duration::from_secs(20),
    )
    .unwrap();
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_ne!(head.header("Content-Length"), Some("0"));

    drop(timers);
    server.shutdown();
}

#[test]
fn unknown_paths_are_404_with_a_message() {
    let _serial = serial();
    let server = serve("127.0.0.1:0").unwrap();
    for path in [
        "/",
        "/debug/pprof/heap",
        "/debug/pprof/timers/x",
        "/x?debug=1",
    ] {
        let a = get(server.local_addr(), path);
        assert_eq!(a.status, 404, "{path}");
        let text = a.text();
        assert!(text.contains("404 page not found"), "{path}: {text}");
        assert!(text.contains("/debug/pprof/timers"), "{path}: {text}");
    }
    assert_serving(&server, "404s");
    server.shutdown();
}

#[test]
fn post_and_other_methods_are_405() {
    let _serial = serial();
    let server = serve("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    let post = exchange(
        addr,
        b"POST /debug/pprof/timers HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        Duration::from_secs(20),
    )
    .unwrap();
    assert_eq!(post.status, 405);
    assert_eq!(post.header("Allow"), Some("GET, HEAD"));
    assert!(post.text().contains("not allowed"));
    // A POST with a 1 MB body still gets its 405, not a reset.
    let mut big =
        b"POST /debug/pprof/timers HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n".to_vec();
    big.extend(std::iter::repeat_n(b'z', 1 << 20));
    let a = exchange(addr, &big, Duration::from_secs(20)).expect("an answer, not a reset");
    assert_eq!(a.status, 405);
    for method in ["PUT", "DELETE", "OPTIONS", "PATCH"] {
        let raw = format!("{method} /debug/pprof/ HTTP/1.1\r\nHost: x\r\n\r\n");
        let a = exchange(addr, raw.as_bytes(), Duration::from_secs(20)).unwrap();
        assert_eq!(a.status, 405, "{method}");
    }
    assert_serving(&server, "POST");
    server.shutdown();
}

#[test]
fn a_1mb_header_gets_431_and_the_server_goes_on() {
    let _serial = serial();
    let server = serve("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    let mut raw = b"GET /debug/pprof/timers HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    raw.extend(std::iter::repeat_n(b'a', 1 << 20));
    raw.extend_from_slice(b"\r\n\r\n");
    assert!(raw.len() > MAX_HEAD);
    let start = Instant::now();
    let a = exchange(addr, &raw, Duration::from_secs(20)).expect("an answer, not a reset");
    assert_eq!(a.status, 431, "{}", a.head);
    assert!(start.elapsed() < Duration::from_secs(15));
    assert_serving(&server, "a 1 MB header");

    // A 1 MB request line, and a header that never ends, from a client that stops writing.
    let mut line = b"GET /".to_vec();
    line.extend(std::iter::repeat_n(b'x', 1 << 20));
    line.extend_from_slice(b" HTTP/1.1\r\n\r\n");
    let a = exchange(addr, &line, Duration::from_secs(20)).unwrap();
    assert_eq!(a.status, 431);
    assert_serving(&server, "a 1 MB request line");
    server.shutdown();
}

#[test]
fn a_silent_client_gets_408_and_others_are_served_meanwhile() {
    let _serial = serial();
    let server = serve("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    let start = Instant::now();
    let silent = TcpStream::connect(addr).unwrap();
    silent
        .set_read_timeout(Some(READ_TIMEOUT + Duration::from_secs(10)))
        .unwrap();
    // One that sends half a request line and stops.
    let mut half = TcpStream::connect(addr).unwrap();
    half.write_all(b"GET /debug/pp").unwrap();
    half.set_read_timeout(Some(READ_TIMEOUT + Duration::from_secs(10)))
        .unwrap();

    // While they wait, the server answers others at once.
    std::thread::sleep(Duration::from_millis(100));
    let t = Instant::now();
    assert_serving(&server, "two silent clients connected");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());

    for (what, conn) in [("silent", silent), ("half", half)] {
        let a = read_answer(conn).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(a.status, 408, "{what}");
        let waited = start.elapsed();
        assert!(
            waited >= READ_TIMEOUT - Duration::from_millis(200)
                && waited < READ_TIMEOUT + Duration::from_secs(5),
            "{what}: answered after {waited:?}"
        );
    }
    assert_serving(&server, "two silent clients timed out");
    server.shutdown();
}

/// What the fuzzer of the head parser (`gotimer/fuzz`) found, end to end: each is answered at once,
/// with the route or a 400 that says what is wrong.
#[test]
fn heads_the_fuzzer_found_get_a_clear_answer() {
    let _serial = serial();
    let server = serve("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    let ask = |raw: &[u8]| exchange(addr, raw, Duration::from_secs(20)).unwrap();
    // LF-terminated lines, then a CRLF empty line: the head was never seen to end, so the request
    // waited out READ_TIMEOUT and got 408.
    let a = ask(b"GET /debug/pprof/timers?debug=1 HTTP/1.1\nHost: x\n\r\n");
    assert_eq!(a.status, 200, "{}", a.head);
    assert!(a.text().starts_with("timer profile:"));
    // Malformed heads were answered as if well-formed; now they are 400s with the reason.
    for (raw, why) in [
        (
            &b"GET /debug/pprof/ HTTP/1.1\r\nUser-Age\r\n\r\n"[..],
            "without a colon",
        ),
        (
            b"GET /debug/pprof/ HTTP/1.1\r\nHost: x\x00y\r\n\r\n",
            "control character",
        ),
        (b"GET /debug/\x00pprof/ HTTP/1.1\r\n\r\n", "visible ASCII"),
        (b"GET /debug/pprof/ HTTP/1.1garbage\r\n\r\n", "HTTP/1.x"),
        (
            b"GET /debug/pprof/ HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
            "folded",
        ),
    ] {
        let a = ask(raw);
        assert_eq!(a.status, 400, "{raw:?}: {}", a.head);
        assert!(a.text().contains(why), "{raw:?}: {}", a.text());
    }
    assert_eq!(ask(b"GET /debug/pprof/ HTTP/2.0\r\n\r\n").status, 505);
    // An absolute URL as the target (RFC 9112 3.2.2: a server must accept it).
    let a =
        ask(b"GET http://localhost/debug/pprof/timers?debug=1 HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(a.status, 200, "{}", a.head);
    assert_serving(&server, "malformed heads");
    server.shutdown();
}

#[test]
fn garbage_neither_panics_nor_leaks_threads() {
    let _serial = serial();
    let server = serve("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    assert_serving(&server, "start");
    #[cfg(target_os = "linux")]
    let before = threads_settled(2 + gotimer::debug::WORKERS);
    assert_eq!(before, 2 + gotimer::debug::WORKERS);
    let garbage: &[&[u8]] = &[
        b"\x00\x01\x02\x03\r\n\r\n",
        b"\xff\xfe\xfd GET / HTTP/1.1\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET / HTTP/1.1 extra\r\n\r\n",
        b"GET noslash HTTP/1.1\r\n\r\n",
        b"get /debug/pprof/ HTTP/1.1\r\n\r\n",
        b"GET /debug/pprof/ SPDY/3\r\n\r\n",
        b"GET /debug/pprof/\xc3\x28 HTTP/1.1\r\n\r\n",
        b"\r\n\r\n",
        b"\n\n",
    ];
    for _ in 0..5 {
        for g in garbage {
            let a =
                exchange(addr, g, Duration::from_secs(20)).unwrap_or_else(|e| panic!("{g:?}: {e}"));
            assert!(a.status == 400 || a.status == 404, "{g:?}: {}", a.head);
        }
    }
    // Clients that hang up mid-request, or right after connecting.
    for i in 0..20 {
        let mut c = TcpStream::connect(addr).unwrap();
        if i % 2 == 0 {
            c.write_all(b"GET /debug/pprof/timers HTT").unwrap();
        }
        drop(c);
    }
    // More connections at once than there are workers and queue slots: every one is answered, some
    // with 503, none hangs.
    let many: Vec<_> = (0..100)
        .map(|_| std::thread::spawn(move || get(addr, "/debug/pprof/timers?debug=1").status))
        .collect();
    for h in many {
        let status = h.join().unwrap();
        assert!(status == 200 || status == 503, "{status}");
    }
    assert_serving(&server, "garbage");
    #[cfg(target_os = "linux")]
    {
        // The server's threads are a fixed set.
        let after = threads_settled(before);
        assert_eq!(
            after, before,
            "server threads before {before}, after {after}: the server leaked threads"
        );
    }
    server.shutdown();
}

#[test]
fn shutdown_stops_every_thread() {
    let _serial = serial();
    #[cfg(target_os = "linux")]
    let before = threads();
    let server = serve("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    assert_serving(&server, "start");
    #[cfg(target_os = "linux")]
    let n = before + 2 + gotimer::debug::WORKERS;
    assert_eq!(threads_settled(n), n);
    server.shutdown();
    #[cfg(target_os = "linux")]
    assert_eq!(threads_settled(before), before);
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn go_tool_pprof_reads_the_live_endpoint() {
    let _serial = serial();
    let Some(go) = find_go("go_tool_pprof_reads_the_live_endpoint") else {
        return;
    };
    let server = serve("127.0.0.1:0").unwrap();
    let leaked: Vec<_> = (0..11).map(|_| gotimer::after_func(HOUR, || {})).collect();
    let line = line!() - 1;
    let site = gotimer::profile::snapshot()
        .into_iter()
        .find(|s| s.file == file!() && s.line == line && s.kind == Kind::AfterFunc)
        .unwrap();
    let name = format!("{}:{}:{} AfterFunc", site.file, line, site.column);
    let home = Scratch::new("pprof-http");

    let top = assert_clean("-top", &pprof(&go, home.path(), &["-top"], &server.url()));
    assert!(top.contains("Type: timers"), "{top}");
    assert_eq!(top_flat(&top, &name).as_deref(), Some("11"), "{top}");

    let raw = assert_clean("-raw", &pprof(&go, home.path(), &["-raw"], &server.url()));
    assert!(raw.contains(&name), "{raw}");
    assert!(
        raw.lines().any(|l| l
            .split_whitespace()
            .take(2)
            .eq(["11", &format!("{}:", site.live_bytes)])),
        "no sample of 11 timers, {} bytes:\n{raw}",
        site.live_bytes
    );
    // pprof kept its copy under PPROF_TMPDIR, not in the real home.
    assert!(
        std::fs::read_dir(home.path().join("pprof"))
            .unwrap()
            .count()
            >= 2
    );
    drop(leaked);
    server.shutdown();
}

#[test]
fn serve_refuses_every_address_but_loopback() {
    let _serial = serial();
    let refused = |addr: &[SocketAddr], shown: &str| {
        let e = serve(addr).expect_err("not loopback: refused");
        let msg = e.to_string();
        assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied, "{msg}");
        assert!(
            msg.contains(&format!("refuses {shown}"))
                && msg.contains("loopback only")
                && msg.contains("gotimer::debug::serve_public"),
            "the refusal says what, why and how to opt in: {msg}"
        );
        msg
    };
    let any4: SocketAddr = "0.0.0.0:0".parse().unwrap();
    let any6: SocketAddr = "[::]:0".parse().unwrap();
    let public: SocketAddr = "192.0.2.7:6060".parse().unwrap();
    let lo: SocketAddr = "127.0.0.1:0".parse().unwrap();
    assert!(refused(&[any4], "0.0.0.0:0").contains("every interface"));
    assert!(refused(&[any6], "[::]:0").contains("every interface"));
    refused(&[public], "192.0.2.7:6060");
    // Every address is checked, not only the first one that would be bound.
    refused(&[lo, public], "192.0.2.7:6060");
    // Strings are resolved the same way.
    let e = serve("0.0.0.0:6060").unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied);

    // Names are resolved: localhost is loopback (127.0.0.1, and ::1 where it resolves to it).
    let server = serve("localhost:0").expect("localhost is loopback");
    assert!(server.local_addr().ip().is_loopback());
    assert_serving(&server, "serve(localhost:0)");
    server.shutdown();
    // An IPv4 address in IPv6 form is judged by its IPv4 address.
    // (Binding it may fail where IPv6 is off; then only the kind of error is checked.)
    match serve("[::ffff:127.0.0.1]:0") {
        Ok(server) => server.shutdown(),
        Err(e) => assert_ne!(e.kind(), std::io::ErrorKind::PermissionDenied, "{e}"),
    }
}

#[test]
fn serve_public_on_every_interface_answers_on_loopback() {
    let _serial = serial();
    let keep = gotimer::after_func(HOUR, || {});
    let server = serve_public("0.0.0.0:0").expect("the opt-in serves on every interface");
    assert!(server.local_addr().ip().is_unspecified());
    let lo = SocketAddr::from(([127, 0, 0, 1], server.local_addr().port()));
    let answer = get(lo, "/debug/pprof/timers?debug=1");
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(
        answer.text().starts_with("timer profile: "),
        "{}",
        answer.text()
    );
    server.shutdown();
    assert!(keep.stop());
}

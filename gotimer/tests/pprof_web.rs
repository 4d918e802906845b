//! `go tool pprof -http` against this test program's live `/debug/pprof/timers`, once for every Go
//! toolchain found (`pprof_common::all_go`: `$GO`, `/usr/lib/go-1.19/bin/go`, `go` on PATH and each
//! path in `$GOTIMER_GO_EXTRA`). Each pprof must serve every view of its web UI (graph, top, flame
//! graph, peek, source) with 200, name the call site that created the timers with its live count,
//! show that line's Rust source in the source view, show the function that called it (the sampled
//! call chain above the site) in the graph, peek and source views, and log nothing but its three
//! progress lines: no panic, no warning.
//!
//! pprof is started the way the README says, from the repository root and without `-source_path`.
//! The graph needs graphviz's `dot`: without it the graph is skipped, loudly (CI installs it and
//! fails without it).
//!
//! Go 1.19 ships `pprof` prebuilt in GOROOT/pkg/tool; Go 1.25 and later build it on first use into
//! the Go build cache (about a minute and a half on two cores, once per cache), so the test asks
//! `go tool -n pprof` for the binary and runs that binary itself: one process, killed on every path.

#![cfg(feature = "http")]

mod pprof_common;

use pprof_common::{all_go, skip_or_fail, Go, Scratch};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const HOUR: Duration = Duration::from_secs(3600);
/// How long pprof may take to fetch the profile and listen.
const STARTUP: Duration = Duration::from_secs(60);
/// How long one page may take (the graph runs `dot`).
const PAGE: Duration = Duration::from_secs(60);
/// The timers the test program keeps alive at its call site.
const LIVE: usize = 17;

/// The lines pprof prints while it starts; any other line is a warning or an error.
const PROGRESS: [&str; 3] = [
    "Fetching profile over HTTP from ",
    "Saved profile in ",
    "Serving web UI on ",
];

/// The function that creates the timers: the caller the views must show above the call site.
const CALLER: &str = "pprof_web::every_view_of_the_web_ui_shows_the_call_site";

/// The call site the views must show.
struct Site {
    /// `gotimer/tests/pprof_web.rs:LINE:COL Timer`: pprof's function name.
    function: String,
    /// `gotimer/tests/pprof_web.rs:LINE`.
    file_line: String,
    line: usize,
    /// The source lines around it, from line - 2 to line + 2.
    around: Vec<(usize, String)>,
}

#[test]
fn every_view_of_the_web_ui_shows_the_call_site() {
    let toolchains = all_go("every_view_of_the_web_ui_shows_the_call_site");
    if toolchains.is_empty() {
        return;
    }
    let graphviz = Command::new("dot")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !graphviz {
        skip_or_fail(
            "pprof's graph view: no graphviz `dot` (apt-get install graphviz)",
            "the graph check (the other views are still checked)",
        );
    }

    // The test program: timers created at one line, served live.
    let timers: Vec<_> = (0..LIVE).map(|_| gotimer::Timer::new(HOUR)).collect();
    let line = line!() - 1;
    let site = site_at(line);
    let server = gotimer::debug::serve("127.0.0.1:0").unwrap();

    for go in &toolchains {
        let started = Instant::now();
        check_web_ui(go, &server.url(), &site, graphviz);
        eprintln!(
            "pprof -http of {} ({}): {} checked in {:.1?}",
            go.version,
            go.path.display(),
            if graphviz {
                "every view"
            } else {
                "every view but the graph"
            },
            started.elapsed()
        );
    }
    drop(timers);
    server.shutdown();
}

fn site_at(line: u32) -> Site {
    let s = gotimer::profile::snapshot()
        .into_iter()
        .find(|s| s.file == file!() && s.line == line)
        .expect("the profile has the test's call site");
    assert_eq!(s.live, LIVE as u64);
    let source: Vec<&str> = include_str!("pprof_web.rs").lines().collect();
    let line = line as usize;
    Site {
        function: format!("{}:{}:{} {}", s.file, s.line, s.column, s.kind.name()),
        file_line: format!("{}:{}", s.file, s.line),
        line,
        around: (line - 2..=line + 2)
            .map(|n| (n, source[n - 1].trim().to_owned()))
            .collect(),
    }
}

/// Starts pprof's web UI on `url` with `go`'s pprof and checks every view.
fn check_web_ui(go: &Go, url: &str, site: &Site, graphviz: bool) {
    let home = Scratch::new("pprof-web");
    let bin = pprof_binary(go);
    let mut ui = WebUi::start(&bin, url, home.path());
    let what = |view: &str| format!("{} {view}", go.version);

    // `/ui/` is the graph in Go 1.19's pprof, which has no `/ui/graph` (404); newer ones redirect
    // `/ui/` to the flame graph and serve the graph at `/ui/graph`.
    let root = ui.get("/ui/");
    let graph_page = ui.get("/ui/graph");
    let root_is_graph = graph_page.status == 404;
    let graph = if root_is_graph { &root } else { &graph_page };
    if graphviz || !root_is_graph {
        assert_eq!(root.status, 200, "{}: {}", what("/ui/"), ui.log());
    }
    if graphviz {
        assert_eq!(graph.status, 200, "{}: {}", what("graph"), graph.body);
        assert!(graph.body.contains("<svg"), "{}: no SVG", what("graph"));
        assert!(
            graph.body.contains(&site.file_line),
            "{}: no node for {}",
            what("graph"),
            site.file_line
        );
        assert!(
            graph.body.contains(CALLER),
            "{}: no node for the caller {CALLER}",
            what("graph"),
        );
    }

    let top = ui.get("/ui/top");
    assert_eq!(top.status, 200, "{}: {}", what("top"), ui.log());
    assert_eq!(
        top_flat(&top.body, &site.function),
        Some(LIVE as u64),
        "{}: no row for {} with {LIVE} live timers",
        what("top"),
        site.function
    );

    for view in ["/ui/flamegraph", "/ui/peek", "/ui/top?si=space"] {
        let page = ui.get(view);
        assert_eq!(page.status, 200, "{}: {}", what(view), ui.log());
        assert!(
            page.body.contains(&site.function),
            "{}: no {}",
            what(view),
            site.function
        );
    }
    // Peek at the call site lists its callers above it: the caller's chain leads to it.
    let peek = ui.get(&format!(
        "/ui/peek?f={}",
        url_escape(&regex_quote(&site.function))
    ));
    assert_eq!(peek.status, 200, "{}: {}", what("peek"), ui.log());
    let peek_text = peek.body.replace("&lt;", "<").replace("&gt;", ">");
    let at_site = peek_text
        .find(&site.function)
        .unwrap_or_else(|| panic!("{}: no {}", what("peek"), site.function));
    assert!(
        peek_text[..at_site].contains("::{{closure}}") || peek_text[..at_site].contains(CALLER),
        "{}: no caller listed above {}:\n{peek_text}",
        what("peek"),
        site.function
    );
    let peek_caller = ui.get(&format!("/ui/peek?f={}", url_escape(CALLER)));
    assert!(
        peek_caller.body.contains(CALLER),
        "{}: no {CALLER}",
        what("peek")
    );
    // The caller's own source listing, with the line that made the timers.
    // Anchored: the closure inside it, on the same line, is another function.
    let only_caller = format!("^{}$", regex_quote(CALLER));
    let caller_source = ui.get(&format!("/ui/source?f={}", url_escape(&only_caller)));
    assert_eq!(
        caller_source.status,
        200,
        "{}: {}",
        what("source"),
        ui.log()
    );
    assert!(
        caller_source.body.contains(CALLER),
        "{}: no listing of {CALLER}",
        what("source")
    );
    let listed = source_lines(&caller_source.body);
    let made = listed
        .iter()
        .find(|(num, _)| *num == site.line)
        .unwrap_or_else(|| panic!("{}: no line {} in\n{listed:#?}", what("source"), site.line));
    let counts: Vec<&str> = made.1.split_whitespace().take(2).collect();
    assert_eq!(
        counts[1],
        LIVE.to_string(),
        "{}: the caller's line carries the live count, cumulatively: {made:?}",
        what("source")
    );

    let source = ui.get("/ui/source");
    assert_eq!(source.status, 200, "{}: {}", what("source"), ui.log());
    let listing = source_lines(&source.body);
    assert!(
        source.body.contains(&site.function),
        "{}: no heading for {}",
        what("source"),
        site.function
    );
    for (n, text) in &site.around {
        let row = listing
            .iter()
            .find(|(num, _)| num == n)
            .unwrap_or_else(|| panic!("{}: no line {n} in\n{listing:#?}", what("source")));
        assert!(
            row.1.ends_with(text.as_str()),
            "{}: {row:?}",
            what("source")
        );
        // The call's line carries the live count twice (flat and cumulative), the others a dot.
        let counts: Vec<&str> = row.1.split_whitespace().take(2).collect();
        let want = if *n == site.line {
            [LIVE.to_string(), LIVE.to_string()]
        } else {
            [".".to_owned(), ".".to_owned()]
        };
        assert_eq!(counts, want, "{}: line {n}: {row:?}", what("source"));
    }

    assert!(ui.alive(), "{}: pprof exited: {}", go.version, ui.log());
    let log = ui.log();
    for l in log.lines() {
        // Without graphviz, pprof says so when asked for the graph.
        let no_dot = !graphviz && (l.contains("Is Graphviz installed?") || l.contains("\"dot\""));
        assert!(
            PROGRESS.iter().any(|p| l.starts_with(p)) || l.trim().is_empty() || no_dot,
            "{}: pprof logged {l:?}:\n{log}",
            go.version
        );
    }
}

/// The pprof binary of `go`: `go tool -n pprof` prints it, building it first where the toolchain
/// does not ship it (Go 1.25 and later), into the Go build cache, which is kept across runs.
fn pprof_binary(go: &Go) -> PathBuf {
    let mut cmd = Command::new(&go.path);
    cmd.args(["tool", "-n", "pprof"])
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env_remove("GOFLAGS");
    let has = |v: &str| std::env::var_os(v).is_some_and(|s| !s.is_empty());
    if !has("GOCACHE") && !has("HOME") && !has("XDG_CACHE_HOME") {
        cmd.env(
            "GOCACHE",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("gocache"),
        );
    }
    let out = cmd.output().expect("go tool -n pprof");
    assert!(
        out.status.success(),
        "{}: go tool -n pprof: {}",
        go.version,
        String::from_utf8_lossy(&out.stderr)
    );
    let bin = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(
        bin.is_file(),
        "{}: no pprof at {}",
        go.version,
        bin.display()
    );
    bin
}

/// A running `pprof -http`, killed when dropped.
struct WebUi {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl WebUi {
    /// Starts `pprof -http=127.0.0.1:PORT -no_browser URL` from the repository root on a free port,
    /// and returns once it accepts connections. A port taken between choosing and binding it is
    /// retried with another.
    fn start(bin: &Path, url: &str, home: &Path) -> WebUi {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        for _attempt in 0..3 {
            let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .and_then(|l| l.local_addr())
                .unwrap()
                .port();
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            let mut child = Command::new(bin)
                .arg(format!("-http={addr}"))
                .arg("-no_browser")
                .arg(url)
                .current_dir(root)
                .env("HOME", home)
                .env("PPROF_TMPDIR", home.join("pprof"))
                .env("XDG_CONFIG_HOME", home.join("config"))
                .env_remove("PPROF_BINARY_PATH")
                .env_remove("PPROF_TOOLS")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("starting pprof");
            let log = Arc::new(Mutex::new(String::new()));
            collect(child.stdout.take().unwrap(), &log);
            collect(child.stderr.take().unwrap(), &log);
            let mut ui = WebUi { child, addr, log };
            if ui.wait_listening() {
                return ui;
            }
            let log = ui.log();
            drop(ui);
            assert!(
                log.contains("address already in use"),
                "pprof did not serve on {addr} within {STARTUP:?}:\n{log}"
            );
        }
        panic!("pprof found no free port in three tries");
    }

    /// Polls the port until it accepts, pprof exits, or [`STARTUP`] passes.
    fn wait_listening(&mut self) -> bool {
        let start = Instant::now();
        while start.elapsed() < STARTUP {
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return true;
            }
            if !self.alive() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// GETs `path`, following redirects within the UI.
    fn get(&self, path: &str) -> Page {
        let mut path = path.to_owned();
        for _ in 0..5 {
            let page = http_get(self.addr, &path)
                .unwrap_or_else(|e| panic!("GET {path}: {e}\npprof's log:\n{}", self.log()));
            match page.location.as_deref() {
                Some(to) if (300..400).contains(&page.status) => path = resolve(&path, to),
                _ => return page,
            }
        }
        panic!("too many redirects from {path}");
    }
}

impl Drop for WebUi {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Appends what `from` prints to `log`, on a thread of its own, until it closes.
fn collect(from: impl Read + Send + 'static, log: &Arc<Mutex<String>>) {
    let log = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines().map_while(Result::ok) {
            let mut log = log.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
    });
}

/// One answer of pprof's web server.
struct Page {
    status: u16,
    location: Option<String>,
    body: String,
}

/// An HTTP/1.0 GET: the server closes the connection after the body, with no chunked encoding.
fn http_get(addr: SocketAddr, path: &str) -> Result<Page, String> {
    let mut conn = TcpStream::connect_timeout(&addr, PAGE).map_err(|e| e.to_string())?;
    conn.set_read_timeout(Some(PAGE))
        .map_err(|e| e.to_string())?;
    conn.set_write_timeout(Some(PAGE))
        .map_err(|e| e.to_string())?;
    write!(conn, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no HTTP answer: {raw:?}"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status in {head:?}"))?;
    let location = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("location")
            .then(|| v.trim().to_owned())
    });
    Ok(Page {
        status,
        location,
        body: body.to_owned(),
    })
}

/// A redirect's target `to`, relative to `from`'s directory unless absolute.
fn resolve(from: &str, to: &str) -> String {
    if to.starts_with('/') {
        return to.to_owned();
    }
    let dir = &from[..=from.rfind('/').unwrap_or(0)];
    format!("{dir}{to}")
}

/// In the top view's table data (`{"Name":"…","Flat":N,…}`), the flat value of `function`.
fn top_flat(page: &str, function: &str) -> Option<u64> {
    let row = &page[page.find(&format!("\"Name\":\"{function}\""))?..];
    let flat = &row[row.find("\"Flat\":")? + "\"Flat\":".len()..];
    let digits: String = flat.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The source view's listing as text: each line (`<span class=line>  63</span> …`) with its tags
/// removed and its entities decoded, and its number (`63`, `4104  4104  let _timeout = …`).
fn source_lines(page: &str) -> Vec<(usize, String)> {
    page.lines()
        .filter(|l| l.contains("<span class=line>"))
        .filter_map(|l| {
            let text = unescape(&strip_tags(l));
            let t = text.trim_start();
            let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
            Some((digits.parse().ok()?, t[digits.len()..].trim().to_owned()))
        })
        .collect()
}

fn strip_tags(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut in_tag = false;
    for c in line.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Decodes the entities Go's `html/template` writes: `&lt;`, `&gt;`, `&amp;`, `&quot;` and `&#NN;`.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let decoded = match entity {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            _ => entity
                .strip_prefix('#')
                .and_then(|n| n.parse().ok())
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn helpers_read_what_pprof_writes() {
    assert_eq!(
        unescape("Receiver&lt;u64&gt; &#43;= 1 &amp;x &#34;s&#34; & y;"),
        "Receiver<u64> += 1 &x \"s\" & y;"
    );
    assert_eq!(
        source_lines("<span class=line>  63</span> <span>   7  7  let a = 1;</span>"),
        [(63, "7  7  let a = 1;".to_owned())]
    );
    assert_eq!(
        top_flat(
            r#"[{"Name":"a.rs:1:2 Timer","Flat":42,"Cum":42}]"#,
            "a.rs:1:2 Timer"
        ),
        Some(42)
    );
    assert_eq!(resolve("/ui/", "flamegraph"), "/ui/flamegraph");
    assert_eq!(resolve("/ui/x", "/ui"), "/ui");
}

/// `s` with the characters a regex gives a meaning to escaped, for pprof's `f=` (a regex).
fn regex_quote(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `s` percent-encoded for a query string.
fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

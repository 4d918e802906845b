//! Helpers shared by the lab's integration tests (each test file is its own crate and uses only
//! some of them).
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// A fresh, empty directory `gotimer-lab-NAME-PID` under the system's temporary directory.
pub fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gotimer-lab-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Whether the lab will find Go, looked up as the lab documents it (and independently of its
/// code): `$GO` if set (and then only there), else `go` on `PATH`, else Debian's
/// `/usr/lib/go-1.19/bin/go`.
pub fn go_available() -> bool {
    let candidates: Vec<PathBuf> = match std::env::var_os("GO") {
        Some(g) if !g.is_empty() => vec![PathBuf::from(g)],
        _ => vec!["go".into(), "/usr/lib/go-1.19/bin/go".into()],
    };
    candidates.iter().any(|g| {
        Command::new(g)
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

//! The README gives a newcomer the test command; CI must run exactly that command.

use std::path::Path;

/// CI runs the test command that the README gives a newcomer, exactly.
#[test]
fn ci_runs_the_readmes_test_command() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let (Ok(readme), Ok(ci)) = (
        std::fs::read_to_string(root.join("README.md")),
        std::fs::read_to_string(root.join(".ci/run")),
    ) else {
        return; // the packaged crate, outside the repository
    };
    let command = readme
        .lines()
        .find(|l| l.starts_with("cargo test "))
        .map(|l| l.split(" #").next().unwrap().trim())
        .expect("a `cargo test` command in README.md");
    assert!(
        ci.lines().any(|l| l.trim() == command),
        "`.ci/run` does not run the README's `{command}`"
    );
}

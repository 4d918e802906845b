//! The repository's README (the newcomer's page) and the crate's README (its page on crates.io)
//! show the same Rust examples; the crate's are run as doctests (`src/lib.rs`), so every example
//! of the repository's README must be one of them, word for word.

use std::path::Path;

/// The Rust code blocks of a Markdown text: each with its info string (`rust`, `rust,ignore`, …).
fn rust_blocks(md: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in md.lines() {
        let fence = line.trim_start();
        match &mut current {
            None if fence.starts_with("```rust") => current = Some(format!("{fence}\n")),
            Some(block) if fence.starts_with("```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    blocks
}

#[test]
fn the_repository_readme_shows_only_examples_that_run_as_doctests() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let crate_readme = std::fs::read_to_string(crate_dir.join("README.md")).unwrap();
    let Ok(repo_readme) = std::fs::read_to_string(crate_dir.join("../README.md")) else {
        return; // the packaged crate, outside the repository
    };
    let doctested = rust_blocks(&crate_readme);
    let shown = rust_blocks(&repo_readme);
    assert!(shown.len() >= 3, "{} Rust blocks in README.md", shown.len());
    for block in &shown {
        // A block indented in a list is the same code: compare without the indent.
        let plain = |b: &str| b.lines().map(str::trim).collect::<Vec<_>>().join("\n");
        assert!(
            doctested.iter().any(|d| plain(d) == plain(block)),
            "README.md shows an example that gotimer/README.md (doctested) lacks:\n{block}"
        );
    }
}

#[test]
fn finds_rust_blocks() {
    let md = "text\n```rust\nlet a = 1;\n```\n```sh\nls\n```\n   ```rust,ignore\n   x();\n   ```\n";
    assert_eq!(
        rust_blocks(md),
        ["```rust\nlet a = 1;\n", "```rust,ignore\n   x();\n"]
    );
}

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

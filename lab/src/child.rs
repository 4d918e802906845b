//! Running one measured program in its own process (the lab itself, re-executed with a hidden
//! subcommand, or a Go program), reading its CSV stdout line by line under a progress bar.

use crate::report;
use anyhow::{bail, Context as _};
use indicatif::ProgressBar;
use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Command, Stdio};

/// A command that re-runs this executable with `args` (a hidden child subcommand).
pub fn lab(args: &[String]) -> anyhow::Result<Command> {
    let exe = std::env::current_exe().context("finding the lab's own executable")?;
    let mut cmd = Command::new(exe);
    cmd.args(args);
    Ok(cmd)
}

/// Runs `cmd` to completion with a progress bar of `len` steps labelled `label`, calling `on_line`
/// for every line of its stdout (it may move the bar). Fails, with the child's stderr, if the child
/// fails or `on_line` fails on any line (the first such error is returned once the child is done).
pub fn run(
    mut cmd: Command,
    label: &str,
    len: u64,
    mut on_line: impl FnMut(&str, &ProgressBar) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let pb = report::progress(len, label.to_string());
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {label}"))?;
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut first_error = None;
    for line in BufReader::new(child.stdout.take().expect("stdout is piped")).lines() {
        let line = line.with_context(|| format!("reading {label}'s output"))?;
        if let Err(e) = on_line(&line, &pb) {
            first_error.get_or_insert(e);
        }
    }
    let status = child.wait()?;
    let err = err_reader.join().unwrap_or_default();
    pb.finish_and_clear();
    if !status.success() {
        bail!("{label} exited with {status}: {}", err.trim());
    }
    if let Some(e) = first_error {
        return Err(e.context(format!("reading {label}'s output")));
    }
    Ok(())
}

//! Running one measured program in its own process (the lab itself, re-executed with a hidden
//! subcommand, or a Go program), reading its CSV stdout line by line under a progress bar.

use crate::report;
use anyhow::{bail, Context as _};
use indicatif::ProgressBar;
use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Command, Stdio};
use std::str::FromStr;

/// A command that re-runs this executable with `args` (a hidden child subcommand).
pub fn lab(args: &[String]) -> anyhow::Result<Command> {
    let exe = std::env::current_exe().context("finding the lab's own executable")?;
    let mut cmd = Command::new(exe);
    cmd.args(args);
    Ok(cmd)
}

/// [`run`], parsing every line of stdout with `parse` (which gives `Ok(None)` for lines that are not
/// data) and moving the bar with `progress` for each item. Returns the items in order.
pub fn collect<T>(
    cmd: Command,
    label: &str,
    len: u64,
    parse: impl Fn(&str) -> anyhow::Result<Option<T>>,
    progress: impl Fn(&T, &ProgressBar),
) -> anyhow::Result<Vec<T>> {
    let mut items = Vec::new();
    run(cmd, label, len, |line, pb| {
        if let Some(item) = parse(line)? {
            progress(&item, pb);
            items.push(item);
        }
        Ok(())
    })?;
    Ok(items)
}

/// One line of a child's CSV output, split into the fields that its header names.
pub struct Fields<'a> {
    line: &'a str,
    names: Vec<&'a str>,
    values: Vec<&'a str>,
}

impl<'a> Fields<'a> {
    /// Splits `line`: `Ok(None)` for `header` itself or a blank line, Err unless it has as many
    /// fields as `header`.
    pub fn split(line: &'a str, header: &'a str) -> anyhow::Result<Option<Self>> {
        let line = line.trim();
        if line.is_empty() || line == header {
            return Ok(None);
        }
        let names: Vec<&str> = header.split(',').collect();
        let values: Vec<&str> = line.split(',').collect();
        if values.len() != names.len() {
            bail!("expected {} fields ({header}), got {line:?}", names.len());
        }
        Ok(Some(Fields {
            line,
            names,
            values,
        }))
    }

    /// The text of field `i`.
    pub fn str(&self, i: usize) -> &'a str {
        self.values[i]
    }

    /// Field `i`, parsed; Err names the field and the line.
    pub fn get<T: FromStr>(&self, i: usize) -> anyhow::Result<T>
    where
        T::Err: std::error::Error + Send + Sync + 'static,
    {
        self.values[i]
            .parse()
            .with_context(|| format!("bad {} in {:?}", self.names[i], self.line))
    }

    /// Field `i`, parsed, or None when it is empty.
    pub fn opt<T: FromStr>(&self, i: usize) -> anyhow::Result<Option<T>>
    where
        T::Err: std::error::Error + Send + Sync + 'static,
    {
        if self.values[i].is_empty() {
            Ok(None)
        } else {
            self.get(i).map(Some)
        }
    }
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

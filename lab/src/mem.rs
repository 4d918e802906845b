//! `mem` subcommand (being written).

use std::path::Path;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: &Args, _out: &Path) -> anyhow::Result<()> {
    anyhow::bail!("`mem` is not written yet")
}

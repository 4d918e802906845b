//! `bench` subcommand (being written).

use std::path::Path;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: &Args, _out: &Path) -> anyhow::Result<()> {
    anyhow::bail!("`bench` is not written yet")
}

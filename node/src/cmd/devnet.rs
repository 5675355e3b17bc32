//! `vigil devnet`.

use clap::Subcommand;
use std::process::ExitCode;

/// `vigil devnet` subcommands.
#[derive(Debug, Subcommand)]
pub enum DevnetCommand {}

/// Runs a `vigil devnet` subcommand.
pub fn run(command: DevnetCommand) -> anyhow::Result<ExitCode> {
    match command {}
}

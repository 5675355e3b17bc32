//! `vigil gate`.

use clap::Subcommand;
use std::process::ExitCode;

/// `vigil gate` subcommands.
#[derive(Debug, Subcommand)]
pub enum GateCommand {}

/// Runs a `vigil gate` subcommand.
pub fn run(command: GateCommand) -> anyhow::Result<ExitCode> {
    match command {}
}

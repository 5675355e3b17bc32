//! Command implementations.

use crate::cli::Command;
use std::process::ExitCode;

pub mod bench;
mod cert;
pub mod devnet;
mod eval;
mod files;
pub mod gate;
mod keys;
pub mod node;
pub mod quarantine;
pub mod settlement;
pub mod testnet;
mod vote;

/// Runs a command; `Err` is printed as `error: …` with exit status 1.
pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Keys(c) => keys::run(c),
        Command::Vote(c) => vote::run(c),
        Command::Cert(c) => cert::run(c),
        Command::Eval(a) => eval::run(a),
        Command::Devnet(c) => devnet::run(c),
        Command::Gate(c) => gate::run(c),
        Command::Node(c) => node::run(c),
        Command::Testnet(c) => testnet::run(c),
        Command::Bench(a) => bench::run(a),
        Command::Contracts(c) => settlement::run_contracts(c),
        Command::Register(a) => settlement::run_register(a),
        Command::Committee(c) => settlement::run_committee(c),
        Command::Dispute(c) => settlement::run_dispute(c),
        Command::Quarantine(c) => quarantine::run(c),
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

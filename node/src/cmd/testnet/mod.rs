//! `vigil testnet up | down`: the whole system on one machine, every part a
//! separate process: the settlement chain (a second devnet with the
//! registry and the court; the nodes registered there, the committee read
//! from it), the devnet, N inspector nodes over libp2p, the gate (watching
//! the court); with `--demo`, the attack-stopping demo.

mod demo;
mod layout;
mod procs;
mod settlement;

use std::{path::PathBuf, process::ExitCode, time::Duration};

use anyhow::Context;
use clap::{Args, Subcommand};

pub use demo::call as call_tx;
pub use layout::{bench_account, Layout, BENCH_ACCOUNTS, WORLD};
pub use procs::Processes;

/// `vigil testnet` subcommands.
#[derive(Debug, Subcommand)]
pub enum TestnetCommand {
    /// Start the local testnet (creating it on first use): the settlement
    /// chain with the contracts (the nodes registered there, the committee
    /// read from the registry), the devnet, the inspector nodes and the gate
    /// (watching the court), as separate processes. Prints where everything
    /// is and writes DATA/testnet.json. Ctrl-C stops it all.
    Up(UpArgs),
    /// Stop a testnet started with `up` (from another terminal).
    Down {
        /// Data directory of the testnet.
        #[arg(long, default_value = "testnet-data")]
        data: PathBuf,
    },
}

/// `vigil testnet up`
#[derive(Debug, Args)]
pub struct UpArgs {
    /// Inspector nodes (on first start; a second `up` reuses the data
    /// directory's).
    #[arg(long, default_value_t = 4)]
    pub nodes: usize,
    /// Play the demo: the DeFi world built through the network, steady
    /// benign traffic, and the 13 corpus attacks, each quarantined.
    #[arg(long)]
    pub demo: bool,
    /// Play only the first N scenarios of the demo world (default: all 13).
    #[arg(long, requires = "demo")]
    pub demo_scenarios: Option<usize>,
    /// Stop everything when the demo ends (for scripts and tests) instead of
    /// keeping the testnet up until Ctrl-C.
    #[arg(long, requires = "demo")]
    pub exit_after_demo: bool,
    /// Data directory (keys, chain, stores, logs).
    #[arg(long, default_value = "testnet-data")]
    pub data: PathBuf,
    /// First port: devnet RPC = P, gate = P+1, settlement chain = P+2, node i RPC = P+10+i,
    /// node 0's dashboard = P+50,
    /// metrics = P+100+i, p2p = P+200+i.
    #[arg(long, default_value_t = 8545)]
    pub base_port: u16,
    /// Devnet block time in milliseconds.
    #[arg(long, default_value_t = 100)]
    pub block_time: u64,
}

/// Runs a `vigil testnet` subcommand.
pub fn run(command: TestnetCommand) -> anyhow::Result<ExitCode> {
    match command {
        TestnetCommand::Up(args) => up(args),
        TestnetCommand::Down { data } => {
            let stopped = procs::stop_recorded(&data)?;
            eprintln!("stopped {stopped} processes of the testnet in {}", data.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn up(args: UpArgs) -> anyhow::Result<ExitCode> {
    let layout = Layout::prepare(&args.data, args.nodes, args.base_port).context("preparing the testnet")?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let mut procs = procs::Processes::start(&layout, args.block_time, &[]).await?;
        layout.write_testnet_json()?;
        print_summary(&layout);
        let outcome = if args.demo {
            tokio::select! {
                result = demo::run(&layout, args.demo_scenarios) => Some(result),
                _ = crate::cmd::shutdown_signal() => None,
            }
        } else {
            None
        };
        let code = match &outcome {
            Some(Ok(report)) if report.passed() => ExitCode::SUCCESS,
            Some(Ok(_)) => ExitCode::FAILURE,
            Some(Err(e)) => {
                eprintln!("demo failed: {e:#}");
                ExitCode::FAILURE
            }
            None => ExitCode::SUCCESS,
        };
        // Stay up unless the demo was asked to exit after it, or was interrupted.
        let stay = !args.demo || (!args.exit_after_demo && outcome.is_some());
        if stay {
            eprintln!("\ntestnet running; Ctrl-C (or `vigil testnet down --data {}`) stops it", layout.root.display());
            tokio::select! {
                _ = crate::cmd::shutdown_signal() => {}
                dead = procs.watch() => eprintln!("{dead}; stopping the testnet"),
            }
        }
        eprintln!("stopping the testnet…");
        procs.stop(Duration::from_secs(10)).await;
        anyhow::Ok(code)
    })
}

fn print_summary(layout: &Layout) {
    println!("\nVigil local testnet (chain {}), data in {}", layout.chain_id, layout.root.display());
    println!("  devnet  JSON-RPC  {}   (ws {})", layout.devnet_url(), layout.devnet_url().replace("http", "ws"));
    println!("  gate    JSON-RPC  {}   <- send transactions here", layout.gate_url());
    println!(
        "  settlement chain  {}   (registry, court: {})",
        layout.settlement_url(),
        layout.root.join("contracts.json").display()
    );
    for i in 0..layout.nodes {
        println!(
            "  node {i}  JSON-RPC  {}   metrics {}   p2p {}",
            layout.node_url(i),
            layout.metrics_url(i),
            layout.p2p_addr(i)
        );
    }
    println!("  dashboard         {}   <- quarantine queue, reviews, network", layout.dashboard_url());
    println!("  logs    {}", layout.root.join("logs").display());
    println!("  operator token (reviews, releases): {}", layout.root.join("operator.token").display());
    println!("  operator key (signs releases; the gate accepts it): {}", layout.root.join("operator.key").display());
    println!("\nFunded accounts (10000 ETH each; development keys, never use them elsewhere):");
    for (address, key) in layout.accounts() {
        println!("  {address}  {key}");
    }
    println!();
}

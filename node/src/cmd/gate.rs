//! `vigil gate`: the admission gate (crate `vigil-gate`).

use std::{net::SocketAddr, path::PathBuf, process::ExitCode, time::Duration};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use vigil_gate::{load_committees, GateConfig};

/// `vigil gate` subcommands.
#[derive(Debug, Subcommand)]
pub enum GateCommand {
    /// Run the gate: a JSON-RPC proxy in front of --upstream that forwards
    /// `eth_sendRawTransaction` only once a valid clean certificate for the
    /// transaction has arrived (`vigil_submitCertificate`). Every other
    /// method passes through untouched. Stops cleanly on SIGINT/SIGTERM.
    Run(RunArgs),
}

/// `vigil gate run`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// JSON-RPC URL of the node behind the gate (op-geth, reth, hardhat…).
    /// Its `eth_chainId` must match the committee's chain.
    #[arg(long)]
    pub upstream: String,
    /// Committee JSON file (DESIGN §4): one committee or an array of them;
    /// the highest epoch is the current one, the one before it still counts.
    /// Alternatively --registry.rpc and --registry.address.
    #[arg(long, required_unless_present = "registry_rpc", conflicts_with = "registry_rpc")]
    pub committee: Option<PathBuf>,
    #[command(flatten)]
    pub registry: crate::cmd::settlement::RegistryArgs,
    /// Directory of the gate's store (created if missing). Everything the
    /// gate acknowledged is there; restart on the same directory to resume.
    #[arg(long)]
    pub data: PathBuf,
    /// JSON-RPC listen address for wallets and inspectors.
    #[arg(long = "rpc.addr", default_value = "127.0.0.1:8547")]
    pub rpc_addr: SocketAddr,
    /// Prometheus listen address (`/metrics`); none when absent.
    #[arg(long = "metrics.addr")]
    pub metrics_addr: Option<SocketAddr>,
    /// Inspector JSON-RPC URL each accepted transaction is relayed to
    /// (repeatable; best effort).
    #[arg(long = "inspector")]
    pub inspectors: Vec<String>,
    /// A transaction without certificate this long after receipt is
    /// quarantined (held until the court releases it).
    #[arg(long, default_value_t = 5000)]
    pub quarantine_after_ms: u64,
    /// Target time from acknowledging a transaction to its certificate. The
    /// bound on transactions acknowledged and still without a certificate
    /// adapts to keep certificates within it; beyond the bound a wallet
    /// hears busy (-32005) at once instead of an acknowledgement and a
    /// quarantine for lateness. Default: 1500, or half of
    /// --quarantine-after-ms when that is less.
    #[arg(long)]
    pub max_certify_lag_ms: Option<u64>,
    /// Operator key (ed25519 public key, 0x + 64 hex digits; repeatable)
    /// whose signed releases free a quarantined transaction
    /// (`vigil_releaseQuarantined`; `vigil quarantine release`). None: the
    /// chain allows no operator override; only the court releases.
    #[arg(long = "operator-key")]
    pub operator_keys: Vec<alloy_primitives::B256>,
    /// Fail open: when no certificate at all has arrived for this long,
    /// forward transactions that waited this long WITHOUT a certificate
    /// (marked, counted, logged). Absent: fail-closed, the default.
    #[arg(long)]
    pub fail_open_after_ms: Option<u64>,
    /// How often to apply deadlines, forward and poll receipts.
    #[arg(long, default_value_t = 200)]
    pub poll_ms: u64,
    /// JSON-RPC URL of the settlement chain holding the quarantine court.
    /// With --court.address, the gate follows the court's `Released` events
    /// and forwards the transactions the arbiter released.
    #[arg(long = "court.rpc", requires = "court_address")]
    pub court_rpc: Option<String>,
    /// Address of the QuarantineCourt contract (`vigil contracts deploy`
    /// prints it).
    #[arg(long = "court.address", requires = "court_rpc")]
    pub court_address: Option<alloy_primitives::Address>,
    /// How often to ask the settlement chain for new court events.
    #[arg(long = "court.poll-ms", default_value_t = 1000)]
    pub court_poll_ms: u64,
    /// Blocks a `Released` event must be deep before the gate acts on it
    /// (0 for a chain with instant finality, like the devnet).
    #[arg(long = "court.confirmations", default_value_t = 0)]
    pub court_confirmations: u64,
    /// First settlement-chain block to read when the gate's store has no
    /// cursor for this court yet (the court's deployment block).
    #[arg(long = "court.from-block", default_value_t = 0)]
    pub court_from_block: u64,
}

/// Runs a `vigil gate` subcommand.
pub fn run(command: GateCommand) -> anyhow::Result<ExitCode> {
    match command {
        GateCommand::Run(args) => run_gate(args),
    }
}

fn run_gate(args: RunArgs) -> anyhow::Result<ExitCode> {
    let committees = match (&args.committee, &args.registry.registry_rpc, args.registry.registry_address) {
        (Some(path), _, _) => load_committees(path)?,
        (None, Some(rpc), Some(address)) => {
            crate::cmd::settlement::committees_from_registry(rpc, address, args.registry.registry_from_block, true)?
        }
        _ => anyhow::bail!("give --committee FILE, or --registry.rpc URL with --registry.address ADDR"),
    };
    let mut config = GateConfig::new(args.upstream, committees, args.data, args.rpc_addr);
    config.metrics_addr = args.metrics_addr;
    config.inspectors = args.inspectors;
    config.operator_keys = args.operator_keys;
    config.quarantine_after = Duration::from_millis(args.quarantine_after_ms);
    config.max_certify_lag = Duration::from_millis(
        args.max_certify_lag_ms.unwrap_or_else(|| (args.quarantine_after_ms / 2).min(1500)).max(1),
    );
    config.fail_open_after = args.fail_open_after_ms.map(Duration::from_millis);
    config.poll_interval = Duration::from_millis(args.poll_ms.max(1));
    if let (Some(rpc), Some(address)) = (args.registry.registry_rpc, args.registry.registry_address) {
        config.registry = Some(vigil_gate::RegistryConfig {
            rpc,
            address,
            from_block: args.registry.registry_from_block,
            poll: Duration::from_millis(args.registry.registry_poll_ms.max(1)),
        });
    }
    if let (Some(rpc), Some(address)) = (args.court_rpc, args.court_address) {
        config.court = Some(vigil_gate::court::CourtConfig {
            rpc,
            address,
            poll: Duration::from_millis(args.court_poll_ms.max(1)),
            confirmations: args.court_confirmations,
            from_block: args.court_from_block,
        });
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("tokio runtime")?;
    runtime.block_on(vigil_gate::run(config, shutdown_signal()))?;
    Ok(ExitCode::SUCCESS)
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
    tracing::info!(target: "vigil_gate", "shutdown signal received");
}

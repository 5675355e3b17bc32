//! `vigil devnet`: run the Vigil devnet.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode, sync::Arc, time::Duration};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use vigil_devnet::{
    node::{AdmissionMode, Devnet, DevnetConfig},
    pool::PoolLimits,
};
use vigil_fixture::Genesis;
use vigil_types::Committee;

/// `vigil devnet` subcommands.
#[derive(Debug, Subcommand)]
pub enum DevnetCommand {
    /// Run the devnet: an EVM chain (revm, prague) behind the standard
    /// JSON-RPC, over HTTP and WebSocket on one port, that includes a
    /// transaction only with a clean certificate of the current committee.
    Run(RunArgs),
}

/// Admission policy.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AdmissionChoice {
    /// Only certified transactions are included (the default).
    Certified,
    /// Every valid transaction is included: development without inspectors.
    Open,
}

/// `vigil devnet run`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Genesis file: a JSON object with the fixture format's `chain_id`,
    /// `fork`, `genesis` and `alloc` fields.
    #[arg(long)]
    pub genesis: PathBuf,
    /// Committee file (DESIGN §4 JSON): one committee or an array of them;
    /// the highest epoch is current. `--admission certified` needs it or
    /// --registry.rpc with --registry.address.
    #[arg(long, conflicts_with = "registry_rpc")]
    pub committee: Option<PathBuf>,
    #[command(flatten)]
    pub registry: crate::cmd::settlement::RegistryArgs,
    /// Data directory (RocksDB); a restart on the same directory continues
    /// the chain.
    #[arg(long)]
    pub data: PathBuf,
    /// JSON-RPC listen address (HTTP and WebSocket).
    #[arg(long = "rpc.addr", default_value = "127.0.0.1:8545")]
    pub rpc_addr: SocketAddr,
    /// Block interval in milliseconds (a block is sealed only when it has
    /// transactions, unless --empty-blocks).
    #[arg(long, default_value_t = 1000)]
    pub block_time: u64,
    /// Seal a block every interval even without transactions.
    #[arg(long)]
    pub empty_blocks: bool,
    /// Admission policy.
    #[arg(long, value_enum, default_value_t = AdmissionChoice::Certified)]
    pub admission: AdmissionChoice,
    /// Inspector JSON-RPC URL every accepted transaction is relayed to
    /// (repeatable).
    #[arg(long = "inspector")]
    pub inspectors: Vec<String>,
    /// Operator key (ed25519 public key, 0x + 64 hex digits; repeatable)
    /// whose signed releases (`vigil_releaseQuarantined`) admit a
    /// quarantined transaction without a certificate (DESIGN §7).
    #[arg(long = "operator-key")]
    pub operator_keys: Vec<alloy_primitives::B256>,
    /// Most transactions the pool holds.
    #[arg(long = "pool.max-txs", default_value_t = PoolLimits::default().max_txs)]
    pub pool_max_txs: usize,
}

/// Runs a `vigil devnet` subcommand.
pub fn run(command: DevnetCommand) -> anyhow::Result<ExitCode> {
    match command {
        DevnetCommand::Run(args) => run_devnet(args),
    }
}

/// Reads a committee file: one committee object or an array of them.
pub fn read_committees(path: &std::path::Path) -> anyhow::Result<Vec<Committee>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading committee file {}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("committee file {} is not JSON", path.display()))?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        one => vec![one],
    };
    items
        .into_iter()
        .map(|v| Committee::from_json(&v.to_string()).map_err(|e| anyhow::anyhow!("{}: {e}", path.display())))
        .collect()
}

fn run_devnet(args: RunArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.genesis)
        .with_context(|| format!("reading genesis {}", args.genesis.display()))?;
    let genesis = Genesis::from_json_str(&text).with_context(|| format!("genesis {}", args.genesis.display()))?;
    let committees = match (&args.committee, &args.registry.registry_rpc, args.registry.registry_address) {
        (Some(path), _, _) => read_committees(path)?,
        (None, Some(rpc), Some(address)) => {
            crate::cmd::settlement::committees_from_registry(rpc, address, args.registry.registry_from_block, true)?
        }
        _ => vec![],
    };
    let admission = match args.admission {
        AdmissionChoice::Certified => AdmissionMode::Certified,
        AdmissionChoice::Open => AdmissionMode::Open,
    };
    if admission == AdmissionMode::Certified && committees.is_empty() {
        anyhow::bail!(
            "--admission certified needs --committee FILE or --registry.rpc with --registry.address (or run with \
             --admission open for plain development)"
        );
    }
    let config = DevnetConfig {
        genesis,
        committees,
        data_dir: args.data.clone(),
        block_time: Duration::from_millis(args.block_time.max(1)),
        empty_blocks: args.empty_blocks,
        admission,
        pool: PoolLimits { max_txs: args.pool_max_txs, ..PoolLimits::default() },
        inspectors: args.inspectors.clone(),
        operator_keys: args.operator_keys.clone(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let devnet = Devnet::open(config).context("opening the devnet")?;
        if admission == AdmissionMode::Open {
            tracing::warn!("ADMISSION IS OPEN: every valid transaction is included without a certificate; Vigil protects nothing in this mode");
            eprintln!("WARNING: --admission open: transactions are included WITHOUT certificates (development only)");
        }
        let (addr, handle) = vigil_devnet::rpc::serve(devnet.clone(), args.rpc_addr)
            .await
            .with_context(|| format!("starting JSON-RPC on {}", args.rpc_addr))?;
        let head = devnet.chain().head().header.number;
        tracing::info!(%addr, chain_id = devnet.chain_id(), head, "devnet JSON-RPC listening (HTTP and WebSocket)");
        eprintln!(
            "vigil devnet: chain {} at block {head}, JSON-RPC http://{addr} ws://{addr}, admission {}, data {}",
            devnet.chain_id(),
            match admission {
                AdmissionMode::Certified => "certified",
                AdmissionMode::Open => "open",
            },
            args.data.display()
        );
        if let (Some(url), Some(address)) = (&args.registry.registry_rpc, args.registry.registry_address) {
            follow_registry(
                devnet.clone(),
                url.clone(),
                address,
                args.registry.registry_from_block,
                Duration::from_millis(args.registry.registry_poll_ms.max(1)),
            );
        }
        let shutdown = Arc::new(tokio::sync::Notify::new());
        let producer = tokio::spawn(devnet.clone().run_producer(shutdown.clone()));
        crate::cmd::shutdown_signal().await;
        tracing::info!("shutting down");
        shutdown.notify_waiters();
        let _ = producer.await;
        let _ = handle.stop();
        handle.stopped().await;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Follows the registry's epochs: every newer committee the watcher reads
/// (verified) moves the devnet's certified admission forward.
fn follow_registry(
    devnet: Arc<Devnet>,
    url: String,
    address: alloy_primitives::Address,
    from_block: u64,
    poll: Duration,
) {
    use vigil_settlement::{registry::Registry, rpc::Client, watch::CommitteeWatcher};
    let held = devnet.admission().current_committee().map(|c| c.epoch());
    let watcher = CommitteeWatcher::new(Registry::new(Client::new(url), address), from_block, poll, held);
    let (updates, mut committees) = tokio::sync::mpsc::channel(4);
    tokio::spawn(watcher.run(updates));
    tokio::spawn(async move {
        while let Some(committee) = committees.recv().await {
            let epoch = committee.epoch();
            match devnet.set_committee(committee) {
                Ok(true) => tracing::info!(
                    epoch,
                    "new epoch: certificates of epochs {}..={epoch} admitted",
                    epoch.saturating_sub(1)
                ),
                Ok(false) => {}
                Err(e) => {
                    tracing::error!(epoch, error = %e, "the registry's committee cannot be used; keeping the current ones")
                }
            }
        }
    });
}

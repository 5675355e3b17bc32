//! `vigil node init | run`: the inspector node.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::ExitCode,
    sync::Arc,
    time::Duration,
};

use anyhow::Context;
use clap::{Args, Subcommand};
use serde::Deserialize;
use vigil_consensus::VerifiedCommittee;
use vigil_crypto::NodeIdentity;
use vigil_detect::{Engine, Policies};
use vigil_fixture::Genesis;
use vigil_inspector::{
    follower::{ChainRpc, ChainView},
    metrics::Metrics,
    pipeline::{Inspector, PipelineConfig, Signer, VoteRoute},
    rpc::OperatorToken,
    rpc_view::{RpcStateView, RpcViewConfig},
    store::NodeStore,
    view::View,
};
use vigil_sim::Budget;

use crate::cli::{KdfChoice, PasswordArgs};

/// `vigil node` subcommands.
#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// Create a node directory: BLS keystore, libp2p key, member.json (what
    /// the registry needs) and a commented config.toml to edit.
    Init {
        /// Node directory (created).
        #[arg(long)]
        dir: PathBuf,
        /// Keystore password.
        #[command(flatten)]
        password: PasswordArgs,
        /// Key derivation function of the keystore.
        #[arg(long, value_enum, default_value_t = KdfChoice::Scrypt)]
        kdf: KdfChoice,
        /// KDF cost (scrypt: log2 n; pbkdf2: rounds).
        #[arg(long)]
        kdf_cost: Option<u32>,
    },
    /// Run the inspector: follow the chain, inspect every pending
    /// transaction, vote, aggregate, serve JSON-RPC and metrics.
    Run {
        /// Config file (TOML; `vigil node init` writes one). Every key is
        /// also a flag, and flags win.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Settings.
        #[command(flatten)]
        settings: Box<NodeSettings>,
        /// Keystore password.
        #[command(flatten)]
        password: PasswordArgs,
    },
}

/// How the node keeps the chain's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ChainMode {
    /// Follow the Vigil devnet by executing its blocks.
    #[default]
    Devnet,
    /// Read any EVM chain through JSON-RPC (cached across blocks).
    Rpc,
}

fn parse_vote_route(s: &str) -> Result<VoteRoute, String> {
    match s {
        "gossip" => Ok(VoteRoute::Gossip),
        "proposer" => Ok(VoteRoute::Proposer),
        other => Err(format!("`{other}`: expected `gossip` or `proposer`")),
    }
}

/// Every setting of a node, from the config file or flags.
#[derive(Debug, Args, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct NodeSettings {
    /// Key directory (`vigil node init` / `vigil keys generate`).
    #[arg(long)]
    pub keys: Option<PathBuf>,
    /// Data directory (RocksDB).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Genesis of the chain inspected (the devnet's genesis file).
    #[arg(long)]
    pub genesis: Option<PathBuf>,
    /// Committee file (DESIGN §4 JSON) of the current epoch. Alternatively
    /// --registry.rpc and --registry.address read it from the registry.
    #[arg(long)]
    pub committee: Option<PathBuf>,
    /// JSON-RPC URL of the settlement chain: with --registry.address, the
    /// committee is read from the registry's snapshot of the current epoch
    /// instead of a file, and followed while the node runs: each new
    /// epoch's committee replaces it (the node signs with its index there,
    /// or stops voting when it is not a member).
    #[arg(long = "registry.rpc")]
    #[serde(rename = "registry_rpc")]
    pub registry_rpc: Option<String>,
    /// Address of the InspectorRegistry.
    #[arg(long = "registry.address")]
    #[serde(rename = "registry_address")]
    pub registry_address: Option<alloy_primitives::Address>,
    /// The registry's deployment block: where the stakes' event history
    /// starts (default 0).
    #[arg(long = "registry.from-block")]
    #[serde(rename = "registry_from_block")]
    pub registry_from_block: Option<u64>,
    /// How often to ask the registry for a new epoch's committee, in
    /// milliseconds (default 3000).
    #[arg(long = "registry.poll-ms")]
    #[serde(rename = "registry_poll_ms")]
    pub registry_poll_ms: Option<u64>,
    /// JSON-RPC of the chain to follow (the devnet).
    #[arg(long = "chain.rpc")]
    #[serde(rename = "chain_rpc")]
    pub chain_rpc: Option<String>,
    /// How the node keeps the chain's state: `devnet` (execute its blocks
    /// locally; needs `genesis`) or `rpc` (any EVM chain, read through
    /// standard JSON-RPC with a cache kept across blocks).
    #[arg(long = "chain.mode")]
    #[serde(rename = "chain_mode")]
    pub chain_mode: Option<ChainMode>,
    /// JSON-RPC listen address (HTTP and WebSocket).
    #[arg(long = "rpc.addr")]
    #[serde(rename = "rpc_addr")]
    pub rpc_addr: Option<SocketAddr>,
    /// Prometheus `/metrics` listen address.
    #[arg(long = "metrics.addr")]
    #[serde(rename = "metrics_addr")]
    pub metrics_addr: Option<SocketAddr>,
    /// Operator dashboard listen address (off unless given): the quarantine
    /// queue, transaction views, reviews, alerts, history and the network
    /// (docs/operator.md). It reads the node's JSON-RPC over WebSocket, so
    /// `rpc.addr` must be reachable from the operator's browser too.
    #[arg(long = "dashboard.addr")]
    #[serde(rename = "dashboard_addr")]
    pub dashboard_addr: Option<SocketAddr>,
    /// JSON-RPC URL of the settlement chain holding the quarantine court,
    /// whose disputes the dashboard shows (with `court.address`).
    #[arg(long = "court.rpc", requires = "court_address")]
    #[serde(rename = "court_rpc")]
    pub court_rpc: Option<String>,
    /// The `QuarantineCourt` contract.
    #[arg(long = "court.address", requires = "court_rpc")]
    #[serde(rename = "court_address")]
    pub court_address: Option<alloy_primitives::Address>,
    /// The court's deployment block (where its dispute logs start;
    /// default 0).
    #[arg(long = "court.from-block")]
    #[serde(rename = "court_from_block")]
    pub court_from_block: Option<u64>,
    /// The gate in front of the sequencer (JSON-RPC URL): the dashboard
    /// shows its status of each transaction, and operator releases
    /// (`vigil_quarantineRelease`) are sent to it.
    #[arg(long = "gate.rpc")]
    #[serde(rename = "gate_rpc")]
    pub gate_rpc: Option<String>,
    /// libp2p listen multiaddr (repeatable), e.g. /ip4/0.0.0.0/tcp/9000.
    #[arg(long = "p2p.listen")]
    #[serde(rename = "p2p_listen", default)]
    pub p2p_listen: Vec<String>,
    /// Bootstrap peer multiaddr with /p2p/<peer id> (repeatable).
    #[arg(long = "p2p.bootstrap")]
    #[serde(rename = "p2p_bootstrap", default)]
    pub p2p_bootstrap: Vec<String>,
    /// Sequencer or gate JSON-RPC that certificates are pushed to
    /// (repeatable).
    #[arg(long = "sequencer")]
    #[serde(default)]
    pub sequencers: Vec<String>,
    /// File holding the operator token that `vigil_quarantineReview` needs
    /// and `vigil_quarantineRelease` need (both are disabled without it).
    #[arg(long)]
    pub operator_token_file: Option<PathBuf>,
    /// File holding the operator key (ed25519, `vigil keys operator`) that
    /// signs releases of quarantined transactions for
    /// `vigil_quarantineRelease`; the gate must list its public key in
    /// `--operator-key`. Releases are disabled without it.
    #[arg(long)]
    pub operator_key_file: Option<PathBuf>,
    /// Protection policy file (docs/policies.md).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Milliseconds after the first vote by which a certificate must exist.
    #[arg(long)]
    pub deadline_ms: Option<u64>,
    /// Simulation workers.
    #[arg(long)]
    pub workers: Option<usize>,
    /// Refuse clients' transactions ("busy, retry later") while
    /// transactions take longer than this (ms, a moving average) from
    /// arrival to certificate.
    #[arg(long)]
    pub max_certify_lag_ms: Option<u64>,
    /// Time a batch has to gather its certificate before its transactions
    /// are voted on one by one (ms; DESIGN §4b).
    #[arg(long)]
    pub batch_timeout_ms: Option<u64>,
    /// Propose and sign clients' transactions in batches (DESIGN §4b);
    /// `false`: every transaction gossiped and voted on alone (§4).
    #[arg(long)]
    pub batches: Option<bool>,
    /// Where this node's batch votes go: `gossip` (every node aggregates;
    /// fewest hops) or `proposer` (to the batch's proposer alone, which
    /// gossips the certificate; gossip per node does not grow with the
    /// committee).
    #[arg(long, value_parser = parse_vote_route)]
    pub batch_votes: Option<VoteRoute>,
    /// Wall-time budget per simulation (ms).
    #[arg(long = "sim.budget-ms")]
    #[serde(rename = "sim_budget_ms")]
    pub sim_budget_ms: Option<u64>,
    /// Chain polling interval (ms).
    #[arg(long)]
    pub poll_ms: Option<u64>,
    /// Keep records of transactions judged within this many blocks of the
    /// head; older ones are deleted (default: keep everything).
    #[arg(long)]
    pub retention_blocks: Option<u64>,
}

impl NodeSettings {
    /// `self` where set, else `file`.
    fn over(self, file: NodeSettings) -> NodeSettings {
        fn pick<T>(flag: Option<T>, file: Option<T>) -> Option<T> {
            flag.or(file)
        }
        fn list(flag: Vec<String>, file: Vec<String>) -> Vec<String> {
            if flag.is_empty() {
                file
            } else {
                flag
            }
        }
        NodeSettings {
            keys: pick(self.keys, file.keys),
            data: pick(self.data, file.data),
            genesis: pick(self.genesis, file.genesis),
            committee: pick(self.committee, file.committee),
            registry_rpc: pick(self.registry_rpc, file.registry_rpc),
            registry_address: pick(self.registry_address, file.registry_address),
            registry_from_block: pick(self.registry_from_block, file.registry_from_block),
            registry_poll_ms: pick(self.registry_poll_ms, file.registry_poll_ms),
            chain_rpc: pick(self.chain_rpc, file.chain_rpc),
            chain_mode: pick(self.chain_mode, file.chain_mode),
            rpc_addr: pick(self.rpc_addr, file.rpc_addr),
            metrics_addr: pick(self.metrics_addr, file.metrics_addr),
            dashboard_addr: pick(self.dashboard_addr, file.dashboard_addr),
            gate_rpc: pick(self.gate_rpc, file.gate_rpc),
            court_rpc: pick(self.court_rpc, file.court_rpc),
            court_address: pick(self.court_address, file.court_address),
            court_from_block: pick(self.court_from_block, file.court_from_block),
            operator_key_file: pick(self.operator_key_file, file.operator_key_file),
            p2p_listen: list(self.p2p_listen, file.p2p_listen),
            p2p_bootstrap: list(self.p2p_bootstrap, file.p2p_bootstrap),
            sequencers: list(self.sequencers, file.sequencers),
            operator_token_file: pick(self.operator_token_file, file.operator_token_file),
            policy: pick(self.policy, file.policy),
            deadline_ms: pick(self.deadline_ms, file.deadline_ms),
            workers: pick(self.workers, file.workers),
            max_certify_lag_ms: pick(self.max_certify_lag_ms, file.max_certify_lag_ms),
            batch_timeout_ms: pick(self.batch_timeout_ms, file.batch_timeout_ms),
            batches: pick(self.batches, file.batches),
            batch_votes: pick(self.batch_votes, file.batch_votes),
            sim_budget_ms: pick(self.sim_budget_ms, file.sim_budget_ms),
            poll_ms: pick(self.poll_ms, file.poll_ms),
            retention_blocks: pick(self.retention_blocks, file.retention_blocks),
        }
    }
}

/// How far back a restarted node takes up the clients' transactions it
/// acknowledged and nothing decided (longer than any deadline).
const RESUME_WINDOW: Duration = Duration::from_secs(600);

const CONFIG_TEMPLATE: &str = r#"# Vigil inspector node configuration (`vigil node run --config config.toml`).
# Every key is also a command-line flag (`--rpc.addr`, `--chain.rpc`, …); flags win.
# Relative paths are relative to this file's directory.

# Keys written by `vigil node init` (BLS keystore, libp2p key). The keystore
# password comes from --password-file or VIGIL_KEYSTORE_PASSWORD.
keys = "."
# RocksDB directory: verdicts, votes, certificates, quarantine, history.
data = "data"

# The chain inspected: its genesis file and a JSON-RPC endpoint of it (the
# devnet). The node executes its blocks locally. With chain_mode = "rpc" it
# reads any other EVM chain through standard JSON-RPC instead (cached across
# blocks; no genesis needed).
genesis = "genesis.json"
chain_rpc = "http://127.0.0.1:8545"
# chain_mode = "devnet"
# The committee of the current epoch (DESIGN §4 JSON); this node must be in it.
committee = "committee.json"
# Or read it from the registry on the settlement chain (then drop
# `committee`); the node follows the registry's epochs while it runs:
# registry_rpc = "http://127.0.0.1:8546"
# registry_address = "0x…"
# registry_from_block = 0
# registry_poll_ms = 3000

# JSON-RPC (HTTP and WebSocket) and Prometheus metrics.
rpc_addr = "127.0.0.1:8645"
metrics_addr = "127.0.0.1:9645"
# The operator dashboard (off unless set), and the gate: its status of each
# transaction is shown there, and operator releases are sent to it.
# dashboard_addr = "127.0.0.1:8650"
# gate_rpc = "http://127.0.0.1:8547"
# The quarantine court whose disputes the dashboard shows.
# court_rpc = "http://127.0.0.1:8546"
# court_address = "0x…"
# court_from_block = 0

# libp2p: where to listen, and one or more peers to find the rest from.
p2p_listen = ["/ip4/0.0.0.0/tcp/9000"]
p2p_bootstrap = []

# Where certificates this node forms are pushed (the gate or the devnet).
sequencers = []

# A file with the operator token that quarantine reviews need.
# operator_token_file = "operator.token"
# The operator key that signs releases of quarantined transactions (the gate
# must accept its public key: `vigil gate run --operator-key 0x…`).
# operator_key_file = "operator.key"

# Milliseconds after the first vote by which a certificate must exist.
deadline_ms = 2000
# Simulation workers and the wall-time budget of one simulation.
workers = 4
sim_budget_ms = 1000
# Refuse clients' transactions (JSON-RPC error -32005, "retry later") while
# transactions take longer than this (ms, a moving average) from arrival to
# certificate: accepted, they would wait in queues and risk quarantine.
max_certify_lag_ms = 1500
# Clients' transactions go out in batch proposals and are signed in batches
# (DESIGN §4b); a batch without a certificate after batch_timeout_ms goes
# the per-transaction way.
batches = true
batch_timeout_ms = 1500
# Where batch votes go: "gossip" (every node aggregates them) or "proposer"
# (sent to the batch's proposer, which gossips the certificate; less
# gossip in large committees, one more hop).
batch_votes = "gossip"

# Keep records of transactions judged within this many blocks of the head
# (default: keep everything).
# retention_blocks = 1000000
"#;

/// Runs a `vigil node` subcommand.
pub fn run(command: NodeCommand) -> anyhow::Result<ExitCode> {
    match command {
        NodeCommand::Init { dir, password, kdf, kdf_cost } => {
            crate::cmd::keys::generate(&dir, &password, kdf, kdf_cost)?;
            let path = dir.join("config.toml");
            anyhow::ensure!(!path.exists(), "{} already exists; refusing to overwrite it", path.display());
            std::fs::write(&path, CONFIG_TEMPLATE).with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "wrote {}: set genesis, chain_rpc, committee and p2p_bootstrap, then `vigil node run --config {}`",
                path.display(),
                path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        NodeCommand::Run { config, settings, password } => run_node(config, *settings, password),
    }
}

/// Reads the config file; relative paths become relative to its folder.
fn read_config(path: &Path) -> anyhow::Result<NodeSettings> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading config {}", path.display()))?;
    let mut s: NodeSettings = toml::from_str(&text).with_context(|| format!("config {}", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    for p in [
        &mut s.keys,
        &mut s.data,
        &mut s.genesis,
        &mut s.committee,
        &mut s.operator_token_file,
        &mut s.operator_key_file,
        &mut s.policy,
    ]
    .into_iter()
    .flatten()
    {
        if p.is_relative() {
            *p = base.join(&*p);
        }
    }
    Ok(s)
}

fn required<T>(v: Option<T>, name: &str) -> anyhow::Result<T> {
    v.with_context(|| format!("missing setting `{name}` (config key or --{})", name.replace('_', "-")))
}

fn run_node(config: Option<PathBuf>, flags: NodeSettings, password: PasswordArgs) -> anyhow::Result<ExitCode> {
    let file = match &config {
        Some(p) => read_config(p)?,
        None => NodeSettings::default(),
    };
    let s = flags.over(file);
    let keys = required(s.keys.clone(), "keys")?;
    let data = required(s.data.clone(), "data")?;
    let mode = s.chain_mode.unwrap_or_default();
    let chain_rpc = required(s.chain_rpc.clone(), "chain_rpc")?;
    let rpc_addr = s.rpc_addr.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8645)));

    let genesis = match mode {
        ChainMode::Devnet => {
            let path = required(s.genesis.clone(), "genesis")?;
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            let genesis = Genesis::from_json_str(&text).with_context(|| format!("genesis {}", path.display()))?;
            Some(genesis)
        }
        ChainMode::Rpc => None,
    };
    let committees = match (&s.committee, &s.registry_rpc, &s.registry_address) {
        (Some(path), None, None) => crate::cmd::devnet::read_committees(path)?,
        (None, Some(rpc), Some(address)) => {
            crate::cmd::settlement::committees_from_registry(rpc, *address, s.registry_from_block.unwrap_or(0), false)?
        }
        (Some(_), _, _) => anyhow::bail!("give either `committee` or `registry_rpc` + `registry_address`, not both"),
        (None, None, None) => anyhow::bail!(
            "missing setting `committee` (config key or --committee), or `registry_rpc` + `registry_address` \
             (--registry.rpc, --registry.address) to read it from the registry"
        ),
        (None, _, _) => anyhow::bail!("`registry_rpc` and `registry_address` go together"),
    };
    let committee = committees.into_iter().max_by_key(|c| c.epoch).context("the committee file is empty")?;
    if let Some(genesis) = &genesis {
        anyhow::ensure!(
            committee.chain_id == genesis.chain_id,
            "the committee serves chain {}, the genesis is chain {}",
            committee.chain_id,
            genesis.chain_id
        );
    }
    let committee_chain = committee.chain_id;
    let committee = Arc::new(VerifiedCommittee::new(committee).context("committee")?);
    let key = crate::cmd::keys::load_secret(&keys, &password)?;
    let pk = key.public_key().to_bytes();
    let index =
        committee.committee().members.iter().find(|m| m.bls_pubkey == pk).map(|m| m.index).with_context(|| {
            format!("this node's BLS key {pk} is not in the committee of epoch {}", committee.epoch())
        })?;
    let identity = NodeIdentity::read(&keys.join("p2p.key")).context("reading the libp2p key")?;
    let token = match &s.operator_token_file {
        Some(p) => Some(OperatorToken(
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?.trim().to_string(),
        )),
        None => None,
    };
    let release_key = match &s.operator_key_file {
        Some(p) => Some(vigil_crypto::OperatorKey::read(p).context("reading the operator key")?),
        None => None,
    };
    let operator = vigil_inspector::rpc::Operator {
        token,
        release_key,
        gate: s.gate_rpc.clone(),
        sequencers: s.sequencers.clone(),
    };
    let policies = match &s.policy {
        Some(p) => {
            Policies::from_json(&std::fs::read_to_string(p).with_context(|| format!("reading policy {}", p.display()))?)
                .with_context(|| format!("policy {}", p.display()))?
        }
        None => Policies::default(),
    };
    let mut pipeline = PipelineConfig { sequencers: s.sequencers.clone(), ..PipelineConfig::default() };
    if let Some(d) = s.deadline_ms {
        pipeline.deadline_ms = d;
    }
    if let Some(w) = s.workers {
        pipeline.workers = w.max(1);
    }
    if let Some(ms) = s.max_certify_lag_ms {
        pipeline.max_certify_lag_ms = ms;
    }
    if let Some(ms) = s.batch_timeout_ms {
        pipeline.batch_timeout_ms = ms.max(1);
    }
    if let Some(on) = s.batches {
        pipeline.batches = on;
    }
    if let Some(route) = s.batch_votes {
        pipeline.batch_votes = route;
    }
    if let Some(ms) = s.sim_budget_ms {
        pipeline.budget = Budget { max_wall_time: Duration::from_millis(ms), ..pipeline.budget };
    }
    let poll = Duration::from_millis(s.poll_ms.unwrap_or(100));

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let store = NodeStore::open(&data).with_context(|| format!("opening the store in {}", data.display()))?;
        let mut net_config = vigil_net::NetConfig::new(identity.to_libp2p()?, committee_chain);
        let listen =
            if s.p2p_listen.is_empty() { vec!["/ip4/127.0.0.1/tcp/0".to_string()] } else { s.p2p_listen.clone() };
        net_config.listen = listen
            .iter()
            .map(|a| a.parse().with_context(|| format!("bad p2p listen address {a}")))
            .collect::<anyhow::Result<_>>()?;
        net_config.bootstrap = s
            .p2p_bootstrap
            .iter()
            .map(|a| a.parse().with_context(|| format!("bad bootstrap address {a}")))
            .collect::<anyhow::Result<_>>()?;
        let (net, net_events) = vigil_net::start(net_config).await.context("starting libp2p")?;
        let metrics = Metrics::new();
        let rpc = ChainRpc::new(chain_rpc.clone());
        let chain_id = rpc.chain_id().await.with_context(|| format!("asking {chain_rpc} for its chain id"))?;
        anyhow::ensure!(
            chain_id == committee_chain,
            "{chain_rpc} is chain {chain_id}, the committee serves chain {committee_chain}"
        );
        let view = match genesis {
            Some(genesis) => View::Local(Box::new(ChainView::new(genesis)?)),
            None => {
                let config = RpcViewConfig::new(chain_rpc.clone());
                let handle = tokio::runtime::Handle::current();
                let rpc_view = tokio::task::spawn_blocking(move || RpcStateView::at(config, handle, None))
                    .await?
                    .with_context(|| format!("reading {chain_rpc}"))?;
                View::Remote { rpc: Box::new(rpc_view), history: vigil_detect::History::new() }
            }
        };
        let node = Inspector::start(
            pipeline,
            view,
            Engine::new(policies),
            committee,
            Signer { key, index },
            store,
            net.clone(),
            metrics.clone(),
            Some(rpc.clone()),
        );
        // Catch up before voting on anything: verdicts need the current state.
        vigil_inspector::sync_once(&node, &rpc).await.context("catching up with the chain")?;
        tokio::spawn(vigil_inspector::follow(node.clone(), rpc, poll));
        tokio::spawn(node.clone().run_gossip(net_events));
        // What this node acknowledged to clients before a restart and
        // nothing decided yet: judged (if need be) and proposed again.
        node.resume_acknowledged(RESUME_WINDOW);
        if let (Some(url), Some(address)) = (&s.registry_rpc, s.registry_address) {
            follow_registry(
                node.clone(),
                url.clone(),
                address,
                s.registry_from_block.unwrap_or(0),
                Duration::from_millis(s.registry_poll_ms.unwrap_or(DEFAULT_REGISTRY_POLL_MS).max(1)),
            );
        }
        if let Some(keep) = s.retention_blocks {
            tokio::spawn(vigil_inspector::retain(node.clone(), keep, Duration::from_secs(60)));
        }
        let (addr, handle) = vigil_inspector::rpc::serve(node.clone(), operator, rpc_addr)
            .await
            .with_context(|| format!("starting JSON-RPC on {rpc_addr}"))?;
        let dashboard_addr = match s.dashboard_addr {
            Some(a) => {
                let court = match (&s.court_rpc, s.court_address) {
                    (Some(rpc), Some(address)) => Some(vigil_inspector::dashboard::CourtConfig {
                        rpc: rpc.clone(),
                        address,
                        from_block: s.court_from_block.unwrap_or(0),
                    }),
                    _ => None,
                };
                let config = vigil_inspector::dashboard::DashboardConfig {
                    rpc_port: addr.port(),
                    gate: s.gate_rpc.clone(),
                    court,
                };
                let bound = vigil_inspector::dashboard::serve(a, config, metrics.clone())
                    .await
                    .with_context(|| format!("dashboard on {a}"))?;
                Some(bound)
            }
            None => None,
        };
        let metrics_addr = match s.metrics_addr {
            Some(a) => {
                Some(vigil_inspector::metrics::serve(metrics, a).await.with_context(|| format!("metrics on {a}"))?)
            }
            None => None,
        };
        let listen = net.listen_addrs().await;
        tracing::info!(%addr, peer_id = %net.local_peer_id(), signer = index, "inspector running");
        eprintln!(
            "vigil node: member {index} of epoch {}, JSON-RPC http://{addr}, metrics {}, dashboard {}, peer id {}, p2p {}",
            node.committee().epoch(),
            metrics_addr.map_or("off".to_string(), |a| format!("http://{a}/metrics")),
            dashboard_addr.map_or("off".to_string(), |a| format!("http://{a}/")),
            net.local_peer_id(),
            listen.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(" ")
        );
        crate::cmd::shutdown_signal().await;
        tracing::info!("shutting down");
        let _ = handle.stop();
        handle.stopped().await;
        net.shutdown().await;
        tracing::info!("node stopped");
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// How often nodes and gates ask the registry for a new epoch by default.
pub const DEFAULT_REGISTRY_POLL_MS: u64 = 3000;

/// Follows the registry's epochs: every newer committee the watcher reads
/// (verified) replaces the node's.
fn follow_registry(
    node: Arc<Inspector>,
    url: String,
    address: alloy_primitives::Address,
    from_block: u64,
    poll: Duration,
) {
    use vigil_settlement::{registry::Registry, rpc::Client, watch::CommitteeWatcher};
    let registry = Registry::new(Client::new(url), address);
    let watcher = CommitteeWatcher::new(registry, from_block, poll, Some(node.committee().epoch()));
    let (updates, mut committees) = tokio::sync::mpsc::channel(4);
    tokio::spawn(watcher.run(updates));
    tokio::spawn(async move {
        while let Some(committee) = committees.recv().await {
            let epoch = committee.epoch();
            if let Err(e) = node.set_committee(committee) {
                tracing::error!(epoch, error = %e, "the registry's committee cannot be used; keeping the current one");
            }
        }
    });
}

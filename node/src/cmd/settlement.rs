//! The commands that act on the settlement chain through
//! `vigil-settlement`: `vigil contracts deploy`, `vigil register`,
//! `vigil committee fetch | snapshot`, `vigil dispute open | rule | show`.
//! Each parses its flags, loads keys, runs one operation and prints its
//! result; the chain logic is in the library.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use alloy_primitives::{Address, B256, U256};
use anyhow::Context as _;
use clap::{Args, Subcommand};
use vigil_contracts::onchain::Params;
use vigil_settlement::{
    court::Court,
    deploy::{deploy, CourtParams},
    registry::Registry,
    rpc::Client,
    wallet::{load_key, Inclusion, Wallet},
};
use vigil_types::Threshold;

use crate::cli::PasswordArgs;

/// The settlement chain's endpoint and how long to wait for inclusion.
#[derive(Debug, Args)]
pub struct ChainArgs {
    /// JSON-RPC URL (HTTP) of the settlement chain: the chain that holds the
    /// registry and the court (in the local testnet, a second devnet).
    #[arg(long)]
    pub rpc: String,
    /// Fail unless the settlement chain's `eth_chainId` is this (guards
    /// against sending to the wrong chain).
    #[arg(long = "settlement-chain-id")]
    pub settlement_chain_id: Option<u64>,
    /// Give up waiting for a transaction's receipt after this many
    /// milliseconds.
    #[arg(long, default_value_t = 60_000)]
    pub timeout_ms: u64,
}

impl ChainArgs {
    async fn client(&self) -> anyhow::Result<Client> {
        let client = Client::new(self.rpc.clone());
        if let Some(id) = self.settlement_chain_id {
            client.expect_chain(id).await?;
        }
        Ok(client)
    }

    async fn wallet(&self, key_file: &std::path::Path) -> anyhow::Result<Wallet> {
        let signer = load_key(key_file)?;
        let inclusion = Inclusion { timeout: Duration::from_millis(self.timeout_ms), poll: Duration::from_millis(100) };
        Ok(Wallet::connect(self.client().await?, signer).await?.with_inclusion(inclusion))
    }
}

/// Parses an amount of wei: a decimal integer, or a decimal number followed
/// by `ether` / `gwei` (`32ether`, `0.5ether`).
pub fn parse_wei(s: &str) -> Result<U256, String> {
    let s = s.trim();
    let (digits, decimals) = if let Some(n) = s.strip_suffix("ether") {
        (n.trim(), 18)
    } else if let Some(n) = s.strip_suffix("gwei") {
        (n.trim(), 9)
    } else {
        (s, 0)
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        || frac.len() > decimals
    {
        return Err(format!("{s:?} is not an amount of wei (a decimal integer, or a number with `ether` or `gwei`)"));
    }
    let joined = format!("{int}{frac:0<decimals$}");
    U256::from_str_radix(if joined.is_empty() { "0" } else { &joined }, 10).map_err(|e| format!("{s:?}: {e}"))
}

fn parse_threshold(s: &str) -> Result<Threshold, String> {
    let (num, den) = s.split_once('/').ok_or_else(|| format!("{s:?} is not a fraction like 2/3"))?;
    let t = Threshold {
        num: num.trim().parse().map_err(|_| format!("{s:?}: numerator is not an integer"))?,
        den: den.trim().parse().map_err(|_| format!("{s:?}: denominator is not an integer"))?,
    };
    t.check().map_err(|e| e.to_string())?;
    Ok(t)
}

fn parse_b256(s: &str) -> Result<B256, String> {
    vigil_types::bytes::parse_hex_fixed::<32>(s).map(B256::from).map_err(|e| format!("{s:?}: {e}"))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().context("tokio runtime")
}

// ---------------------------------------------------------------- contracts

/// `vigil contracts …`
#[derive(Debug, Subcommand)]
pub enum ContractsCommand {
    /// Deploy InspectorRegistry, Slasher, CertificateVerifier and
    /// QuarantineCourt (the committed artifacts) on the settlement chain
    /// from the account of --key-file, which becomes their governance, and
    /// write their addresses as JSON.
    Deploy(DeployArgs),
}

/// `vigil contracts deploy`
#[derive(Debug, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub chain: ChainArgs,
    /// File holding the deployer's secp256k1 private key (64 hex digits).
    #[arg(long)]
    pub key_file: PathBuf,
    /// Chain id of the chain the committees screen (the rollup behind the
    /// gate); certificates and votes name it.
    #[arg(long)]
    pub chain_id_inspected: u64,
    /// Settlement-chain blocks per epoch.
    #[arg(long, default_value_t = 100)]
    pub epoch_length: u64,
    /// Least stake to register, in wei (or `32ether`).
    #[arg(long, default_value = "1ether", value_parser = parse_wei)]
    pub min_stake: U256,
    /// Certificate threshold: clean stake must exceed this fraction of the
    /// committee's stake; at least 1/2 and below 1.
    #[arg(long, default_value = "2/3", value_parser = parse_threshold)]
    pub threshold: Threshold,
    /// Blocks the arbiter has to rule on a dispute (the court's window; the
    /// registry's unbonding period must exceed it).
    #[arg(long, default_value_t = 50)]
    pub dispute_window: u64,
    /// Blocks between an operator's exit and its withdrawal (must exceed
    /// --dispute-window, so stake stays slashable for what it signed).
    #[arg(long, default_value_t = 200)]
    pub unbonding: u64,
    /// Detection ruleset version from epoch 0.
    #[arg(long, default_value = vigil_contracts::onchain::RULESET)]
    pub ruleset: String,
    /// Share of a slashed stake paid to the reporter, in basis points.
    #[arg(long, default_value_t = 1000)]
    pub reward_bps: u64,
    /// Who rules on disputes; default: the deployer.
    #[arg(long)]
    pub arbiter: Option<Address>,
    /// Who receives the bonds of upheld disputes; default: the deployer.
    #[arg(long)]
    pub treasury: Option<Address>,
    /// Least dispute bond, in wei (or `0.1ether`).
    #[arg(long, default_value = "0.1ether", value_parser = parse_wei)]
    pub min_bond: U256,
    /// Where to write the addresses (JSON); `-` prints them.
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs a `vigil contracts` subcommand.
pub fn run_contracts(command: ContractsCommand) -> anyhow::Result<ExitCode> {
    let ContractsCommand::Deploy(a) = command;
    anyhow::ensure!(a.epoch_length > 0, "--epoch-length must be at least 1");
    anyhow::ensure!(a.dispute_window > 0, "--dispute-window must be at least 1");
    anyhow::ensure!(
        a.unbonding > a.dispute_window,
        "--unbonding ({}) must exceed --dispute-window ({}): stake must stay slashable while a dispute can run",
        a.unbonding,
        a.dispute_window
    );
    anyhow::ensure!(a.reward_bps <= 10_000, "--reward-bps is at most 10000 (100%)");
    runtime()?.block_on(async {
        let wallet = a.chain.wallet(&a.key_file).await?;
        let params = Params {
            min_stake: a.min_stake,
            chain_id: a.chain_id_inspected,
            reward_bps: a.reward_bps,
            threshold: a.threshold,
            epoch_length: a.epoch_length,
            unbonding_period: a.unbonding,
            dispute_window: a.dispute_window,
            ruleset: a.ruleset.clone(),
        };
        let court = CourtParams {
            arbiter: a.arbiter.unwrap_or(wallet.address()),
            treasury: a.treasury.unwrap_or(wallet.address()),
            min_bond: a.min_bond,
        };
        let deployment = deploy(&wallet, &params, &court).await?;
        let json = serde_json::to_string_pretty(&deployment)?;
        if a.out == std::path::Path::new("-") {
            println!("{json}");
        } else {
            std::fs::write(&a.out, format!("{json}\n")).with_context(|| format!("cannot write {}", a.out.display()))?;
            println!("{json}");
        }
        Ok(ExitCode::SUCCESS)
    })
}

// ---------------------------------------------------------------- register

/// `vigil register`
#[derive(Debug, Args)]
pub struct RegisterArgs {
    #[command(flatten)]
    pub chain: ChainArgs,
    /// The InspectorRegistry's address.
    #[arg(long)]
    pub registry: Address,
    /// The node's key directory (`vigil keys generate`): the BLS keystore is
    /// decrypted to prove possession of the key, p2p.key gives the peer id.
    #[arg(long)]
    pub keys: PathBuf,
    #[command(flatten)]
    pub password: PasswordArgs,
    /// File holding the operator account's secp256k1 private key: it pays
    /// the stake and owns the registration (one operator per account).
    #[arg(long, visible_alias = "funder-key-file")]
    pub key_file: PathBuf,
    /// Stake in wei (or `32ether`), sent with the registration; at least the
    /// registry's minimum.
    #[arg(long, value_parser = parse_wei)]
    pub stake: U256,
}

/// Registers the node of key directory `keys` in `registry` from `wallet`'s
/// account with `stake`: the keystore is decrypted to prove possession of
/// the BLS key, p2p.key gives the peer id. What `vigil register` prints.
pub async fn register_node(
    registry: &Registry,
    wallet: &Wallet,
    keys: &std::path::Path,
    password: &PasswordArgs,
    stake: U256,
) -> anyhow::Result<serde_json::Value> {
    let secret = super::keys::load_secret(keys, password)?;
    let peer_id = super::keys::peer_id(keys)?;
    let pubkey = secret.public_key().to_bytes();
    let pop = secret.prove_possession().to_bytes();
    let r = registry.register(wallet, &pubkey.0, &pop.0, &peer_id, stake).await?;
    Ok(serde_json::json!({
        "index": r.index,
        "owner": r.owner,
        "tx": r.tx,
        "block": r.block,
        "first_epoch": r.first_epoch,
        "peer_id": peer_id,
        "bls_pubkey": pubkey,
    }))
}

/// `vigil register`: prints the operator index and the first epoch that can
/// include it.
pub fn run_register(a: RegisterArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let wallet = a.chain.wallet(&a.key_file).await?;
        let registry = Registry::new(wallet.client().clone(), a.registry);
        let done = register_node(&registry, &wallet, &a.keys, &a.password, a.stake).await?;
        println!("{done}");
        Ok(ExitCode::SUCCESS)
    })
}

// ---------------------------------------------------------------- committee

/// `vigil committee …`
#[derive(Debug, Subcommand)]
pub enum CommitteeCommand {
    /// Read an epoch's committee from the registry's snapshot and write it
    /// as the DESIGN §4 committee JSON that `vigil gate run --committee` and
    /// `vigil node run --committee` take.
    Fetch(FetchArgs),
    /// Send `snapshot()`: record the current epoch's committee if nothing
    /// has yet (anyone may; any register / topUp / exit also does).
    Snapshot(SnapshotArgs),
}

/// `vigil committee fetch`
#[derive(Debug, Args)]
pub struct FetchArgs {
    #[command(flatten)]
    pub chain: ChainArgs,
    /// The InspectorRegistry's address.
    #[arg(long)]
    pub registry: Address,
    /// The epoch; default: the settlement chain's current epoch.
    #[arg(long)]
    pub epoch: Option<u64>,
    /// First block of the registry's history (its deployment block; the
    /// addresses file's `deployed_at_block`): the members' stakes at the
    /// snapshot are replayed from its events from there.
    #[arg(long, default_value_t = 0)]
    pub from_block: u64,
    /// Where to write the committee; `-` prints it.
    #[arg(long)]
    pub out: PathBuf,
}

/// `vigil committee snapshot`
#[derive(Debug, Args)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub chain: ChainArgs,
    /// The InspectorRegistry's address.
    #[arg(long)]
    pub registry: Address,
    /// File holding the sending account's secp256k1 private key.
    #[arg(long)]
    pub key_file: PathBuf,
}

/// Runs a `vigil committee` subcommand.
pub fn run_committee(command: CommitteeCommand) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        match command {
            CommitteeCommand::Fetch(a) => {
                let registry = Registry::new(a.chain.client().await?, a.registry);
                let epoch = match a.epoch {
                    Some(e) => e,
                    None => registry.current_epoch().await?,
                };
                let committee = registry.committee(epoch, a.from_block).await?;
                let json = serde_json::to_string_pretty(&committee)?;
                if a.out != std::path::Path::new("-") {
                    std::fs::write(&a.out, format!("{json}\n"))
                        .with_context(|| format!("cannot write {}", a.out.display()))?;
                    eprintln!(
                        "committee of epoch {epoch}: {} members, chain {}, written to {}",
                        committee.members.len(),
                        committee.chain_id,
                        a.out.display()
                    );
                } else {
                    println!("{json}");
                }
            }
            CommitteeCommand::Snapshot(a) => {
                let wallet = a.chain.wallet(&a.key_file).await?;
                let registry = Registry::new(wallet.client().clone(), a.registry);
                let (epoch, taken) = registry.snapshot(&wallet).await?;
                println!("{}", serde_json::json!({ "epoch": epoch, "taken": taken }));
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The committees a node or gate starts with, read from the registry at
/// `address`: the current epoch's snapshot, or when the current epoch has
/// none yet (snapshots are taken by the first registry write of an epoch)
/// the newest one, with a warning; and when `with_previous`, the epoch
/// before it if it has a snapshot (a gate accepts certificates of both).
/// For `vigil node run` / `vigil gate run --registry.*`.
pub fn committees_from_registry(
    rpc: &str,
    address: Address,
    from_block: u64,
    with_previous: bool,
) -> anyhow::Result<Vec<vigil_types::Committee>> {
    use vigil_settlement::SettlementError;
    let no_snapshot = |e: &SettlementError| matches!(e, SettlementError::NoCommittee { .. });
    runtime()?.block_on(async {
        let registry = Registry::new(Client::new(rpc), address);
        let current = registry.current_epoch().await?;
        let (epoch, committee) = match registry.committee(current, from_block).await {
            Ok(c) => (current, c),
            Err(e) if no_snapshot(&e) => {
                let latest = registry.latest_snapshot_epoch(from_block).await?.with_context(|| {
                    format!(
                        "the registry at {address} has no committee yet: register nodes, then take a snapshot in a \
                         later epoch (`vigil committee snapshot`)"
                    )
                })?;
                tracing::warn!(target: "vigil", current, latest, "the current epoch has no snapshot yet; using the newest committee");
                (latest, registry.committee(latest, from_block).await?)
            }
            Err(e) => return Err(anyhow::Error::new(e).context(format!("reading the committee of epoch {current}"))),
        };
        let mut committees = Vec::new();
        if with_previous && epoch > 0 {
            match registry.committee(epoch - 1, from_block).await {
                Ok(previous) => committees.push(previous),
                // No committee there (none taken, or taken empty): none to add.
                Err(SettlementError::NoCommittee { .. }) => {}
                Err(e) => {
                    return Err(anyhow::Error::new(e).context(format!("reading the committee of epoch {}", epoch - 1)))
                }
            }
        }
        tracing::info!(target: "vigil", epoch, members = committee.members.len(), chain_id = committee.chain_id, %address, "committee read from the registry");
        committees.push(committee);
        Ok(committees)
    })
}

// ---------------------------------------------------------------- dispute

/// `vigil dispute …`
#[derive(Debug, Subcommand)]
pub enum DisputeCommand {
    /// Open a dispute on a quarantined transaction with a bond; prints the
    /// dispute id and the last block at which the arbiter may rule.
    Open(OpenArgs),
    /// The arbiter's ruling: --release (the gate then forwards the
    /// transaction; the bond goes back to the opener) or --uphold (it stays
    /// out; the bond goes to the treasury).
    Rule(RuleArgs),
    /// Show the latest dispute on a transaction.
    Show(ShowArgs),
}

/// `vigil dispute open`
#[derive(Debug, Args)]
pub struct OpenArgs {
    #[command(flatten)]
    pub chain: ChainArgs,
    /// The QuarantineCourt's address.
    #[arg(long)]
    pub court: Address,
    /// Hash of the quarantined transaction (0x + 64 hex digits).
    #[arg(long, value_parser = parse_b256)]
    pub tx: B256,
    /// Reference to the quarantine evidence: 32 bytes (0x + 64 hex digits),
    /// e.g. the hash or content id of the quarantine record; not zero.
    #[arg(long, value_parser = parse_b256)]
    pub evidence: B256,
    /// Bond in wei (or `0.1ether`), at least the court's minimum.
    #[arg(long, value_parser = parse_wei)]
    pub bond: U256,
    /// File holding the opener's secp256k1 private key.
    #[arg(long)]
    pub key_file: PathBuf,
}

/// `vigil dispute rule`
#[derive(Debug, Args)]
pub struct RuleArgs {
    #[command(flatten)]
    pub chain: ChainArgs,
    /// The QuarantineCourt's address.
    #[arg(long)]
    pub court: Address,
    /// The dispute id (`vigil dispute open` printed it).
    #[arg(long)]
    pub id: u64,
    /// Release the transaction.
    #[arg(long, conflicts_with = "uphold", required_unless_present = "uphold")]
    pub release: bool,
    /// Uphold the quarantine.
    #[arg(long)]
    pub uphold: bool,
    /// File holding the arbiter's secp256k1 private key.
    #[arg(long)]
    pub key_file: PathBuf,
}

/// `vigil dispute show`
#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub chain: ChainArgs,
    /// The QuarantineCourt's address.
    #[arg(long)]
    pub court: Address,
    /// Hash of the disputed transaction.
    #[arg(long, value_parser = parse_b256)]
    pub tx: B256,
    /// First block to search for the dispute (the court's deployment block).
    #[arg(long, default_value_t = 0)]
    pub from_block: u64,
}

/// Runs a `vigil dispute` subcommand.
pub fn run_dispute(command: DisputeCommand) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        match command {
            DisputeCommand::Open(a) => {
                anyhow::ensure!(a.evidence != B256::ZERO, "--evidence must not be zero: name the quarantine record");
                let wallet = a.chain.wallet(&a.key_file).await?;
                let court = Court::new(wallet.client().clone(), a.court);
                let opened = court.open(&wallet, a.tx, a.evidence, a.bond).await?;
                println!(
                    "{}",
                    serde_json::json!({ "id": opened.id, "deadline_block": opened.deadline, "tx": opened.tx })
                );
            }
            DisputeCommand::Rule(a) => {
                let wallet = a.chain.wallet(&a.key_file).await?;
                let court = Court::new(wallet.client().clone(), a.court);
                let tx = court.rule(&wallet, a.id, a.release).await?;
                let d = court.dispute(a.id).await?;
                println!("{}", serde_json::json!({ "id": a.id, "state": d.state, "tx_hash": d.tx_hash, "tx": tx }));
            }
            DisputeCommand::Show(a) => {
                let court = Court::new(a.chain.client().await?, a.court);
                match court.latest_dispute(a.tx, a.from_block).await? {
                    Some(d) => println!(
                        "{}",
                        serde_json::json!({
                            "id": d.id, "tx_hash": d.tx_hash, "state": d.state, "opener": d.opener,
                            "bond": d.bond.to_string(), "evidence": d.evidence,
                            "opened_at_block": d.opened_at, "deadline_block": d.deadline,
                        })
                    ),
                    None => anyhow::bail!("no dispute on {} in the court at {}", a.tx, a.court),
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_amounts_of_wei() {
        assert_eq!(parse_wei("123").unwrap(), U256::from(123));
        assert_eq!(parse_wei("1ether").unwrap(), U256::from(10u64).pow(U256::from(18)));
        assert_eq!(parse_wei("0.5 ether").unwrap(), U256::from(5u64) * U256::from(10u64).pow(U256::from(17)));
        assert_eq!(parse_wei("2gwei").unwrap(), U256::from(2_000_000_000u64));
        for bad in ["", "ether", "1.5", "-1", "0x10", "1e18", "0.0000000001gwei"] {
            assert!(parse_wei(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn parses_thresholds() {
        assert_eq!(parse_threshold("2/3").unwrap(), Threshold { num: 2, den: 3 });
        assert!(parse_threshold("1/3").is_err());
        assert!(parse_threshold("3/3").is_err());
        assert!(parse_threshold("two thirds").is_err());
    }
}

/// Where a gate or a devnet reads its committees from, instead of a file:
/// the registry on the settlement chain, followed epoch by epoch.
#[derive(Debug, Args)]
pub struct RegistryArgs {
    /// JSON-RPC URL of the settlement chain: with --registry.address, the
    /// committees of the current epoch and (when it has one) the previous
    /// epoch are read at start from the registry's snapshots, and each new
    /// epoch's committee while the process runs (certificates of the new
    /// epoch and the one before it are accepted from then on).
    #[arg(long = "registry.rpc", requires = "registry_address")]
    pub registry_rpc: Option<String>,
    /// Address of the InspectorRegistry.
    #[arg(long = "registry.address", requires = "registry_rpc")]
    pub registry_address: Option<Address>,
    /// The registry's deployment block: where the stakes' event history
    /// starts.
    #[arg(long = "registry.from-block", default_value_t = 0)]
    pub registry_from_block: u64,
    /// How often to ask the registry for a new epoch's committee.
    #[arg(long = "registry.poll-ms", default_value_t = crate::cmd::node::DEFAULT_REGISTRY_POLL_MS)]
    pub registry_poll_ms: u64,
}

//! Command-line arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Vigil: a staked network of inspectors that screens rollup transactions
/// before the sequencer includes them.
#[derive(Debug, Parser)]
#[command(name = "vigil", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Logging options.
    #[command(flatten)]
    pub log: LogArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Logging flags shared by every command.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info,vigil_consensus=debug`.
    /// The default silences gossipsub's warning about not publishing a
    /// message it has already seen: nodes forming the same certificate is
    /// expected, and gossip deduplicates it.
    #[arg(
        long = "log.filter",
        env = "VIGIL_LOG",
        default_value = "warn,libp2p_gossipsub::behaviour=error",
        global = true
    )]
    pub filter: String,
    /// Log as JSON lines instead of human-readable text.
    #[arg(long = "log.json", global = true)]
    pub json: bool,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create and inspect an inspector's keys (BLS keystore, libp2p identity).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Sign votes.
    #[command(subcommand)]
    Vote(VoteCommand),
    /// Aggregate and verify certificates.
    #[command(subcommand)]
    Cert(CertCommand),
    /// Replay chain fixtures and judge every benign and attack transaction.
    Eval(EvalArgs),
    /// The Vigil devnet: an EVM chain that includes certified transactions only.
    #[command(subcommand)]
    Devnet(crate::cmd::devnet::DevnetCommand),
    /// The inspector node: follows the chain, inspects every pending
    /// transaction, votes, aggregates certificates, serves JSON-RPC.
    #[command(subcommand)]
    Node(crate::cmd::node::NodeCommand),
    /// The local testnet: settlement chain with the contracts, devnet,
    /// inspector nodes and gate as separate processes, and the
    /// attack-stopping demo.
    #[command(subcommand)]
    Testnet(crate::cmd::testnet::TestnetCommand),
    /// Drive a local testnet with real transactions at an offered rate and
    /// report latency, throughput and resource use.
    Bench(crate::cmd::bench::BenchArgs),
    /// The admission gate: a JSON-RPC proxy in front of any Ethereum node that
    /// forwards a transaction only once it is certified.
    #[command(subcommand)]
    Gate(crate::cmd::gate::GateCommand),
    /// Vigil's contracts on the settlement chain (registry, slasher,
    /// verifier, quarantine court).
    #[command(subcommand)]
    Contracts(crate::cmd::settlement::ContractsCommand),
    /// Stake and register a node's BLS key (with its proof of possession)
    /// and libp2p peer id in the registry on the settlement chain.
    Register(crate::cmd::settlement::RegisterArgs),
    /// An epoch's committee as the registry's snapshot recorded it.
    #[command(subcommand)]
    Committee(crate::cmd::settlement::CommitteeCommand),
    /// Disputes over quarantined transactions in the quarantine court.
    #[command(subcommand)]
    Dispute(crate::cmd::settlement::DisputeCommand),
    /// An operator's quarantine queue, reviews and releases (the
    /// dashboard's flow on the command line).
    #[command(subcommand)]
    Quarantine(crate::cmd::quarantine::QuarantineCommand),
}

/// `vigil eval`
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Fixture files (vigil-fixture/1) or folders searched for `*.json`.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    pub json: bool,
    /// List only the transactions that need a look (false quarantines,
    /// missed attacks, alerts, notes) instead of every judged one: for
    /// large runs.
    #[arg(long)]
    pub summary: bool,
    /// Exit with status 1 when a benign transaction is quarantined, an
    /// attack admitted, or a fixture cannot be replayed.
    #[arg(long)]
    pub strict: bool,
    /// Fixtures judged at once (each on its own thread); default: the
    /// machine's cores.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Protection policy file (docs/policies.md) applied with the built-in detectors.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Wall-time budget per simulation, in milliseconds.
    #[arg(long = "sim.budget-ms", default_value_t = 1000)]
    pub budget_ms: u64,
    /// Gas budget per simulation.
    #[arg(long = "sim.budget-gas", default_value_t = 30_000_000)]
    pub budget_gas: u64,
}

/// Where the keystore password comes from.
#[derive(Debug, Args)]
pub struct PasswordArgs {
    /// File holding the keystore password (one line). Without it, the
    /// password is read from the environment variable VIGIL_KEYSTORE_PASSWORD.
    #[arg(long)]
    pub password_file: Option<PathBuf>,
}

/// Key derivation function for new keystores.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KdfChoice {
    /// scrypt (EIP-2335 default, n = 2^18).
    Scrypt,
    /// PBKDF2-HMAC-SHA256 (262144 rounds by default).
    Pbkdf2,
}

/// `vigil keys …`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a BLS key (EIP-2335 keystore) and a libp2p identity key in DIR.
    ///
    /// Writes DIR/bls-keystore.json, DIR/p2p.key (mode 0600) and
    /// DIR/member.json (public key, proof of possession, peer id: what the
    /// registry needs). Never overwrites existing keys.
    Generate {
        /// Key directory (created if missing).
        #[arg(long)]
        dir: PathBuf,
        #[command(flatten)]
        password: PasswordArgs,
        /// Key derivation function.
        #[arg(long, value_enum, default_value = "scrypt")]
        kdf: KdfChoice,
        /// KDF cost: log2(n) for scrypt (default 18), rounds for pbkdf2
        /// (default 262144). Lower values are for throwaway test keys only.
        #[arg(long)]
        kdf_cost: Option<u32>,
    },
    /// Print the public registration data of DIR (no password needed).
    Show {
        /// Key directory.
        #[arg(long)]
        dir: PathBuf,
    },
    /// Generate an operator key (ed25519) that signs releases of
    /// quarantined transactions; prints its public key, which the gate
    /// accepts with `--operator-key`. Never overwrites an existing file.
    Operator {
        /// Key file to write (mode 0600).
        #[arg(long)]
        out: PathBuf,
    },
    /// Decrypt the keystore in DIR and print its proof of possession.
    Pop {
        /// Key directory.
        #[arg(long)]
        dir: PathBuf,
        #[command(flatten)]
        password: PasswordArgs,
    },
}

/// Verdict kinds on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    /// The transaction may be included.
    Clean,
    /// The transaction is an attack.
    Malicious,
}

/// `vigil vote …`
#[derive(Debug, Subcommand)]
pub enum VoteCommand {
    /// Sign a vote and print it as JSON (DESIGN §4).
    Sign {
        /// Key directory holding bls-keystore.json.
        #[arg(long)]
        keys: PathBuf,
        #[command(flatten)]
        password: PasswordArgs,
        /// Chain id of the transaction.
        #[arg(long)]
        chain_id: u64,
        /// Committee epoch.
        #[arg(long)]
        epoch: u64,
        /// Transaction hash (0x + 64 hex digits).
        #[arg(long)]
        tx_hash: String,
        /// The verdict.
        #[arg(long, value_enum)]
        kind: KindArg,
        /// Signer's committee index. Alternatively give --committee and the
        /// index is looked up by public key.
        #[arg(long, conflicts_with = "committee", required_unless_present = "committee")]
        signer: Option<u32>,
        /// Committee JSON to find the signer's index in.
        #[arg(long)]
        committee: Option<PathBuf>,
    },
}

/// `vigil cert …`
#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Aggregate votes into a certificate (JSON on stdout). Every vote is
    /// verified; the signers must pass the committee's threshold.
    Aggregate {
        /// Committee JSON.
        #[arg(long)]
        committee: PathBuf,
        /// Vote files: each a vote object or an array of votes. `-` reads stdin.
        #[arg(required = true)]
        votes: Vec<PathBuf>,
    },
    /// Verify a certificate or a batch inclusion proof against a committee:
    /// prints `valid` (exit 0) or `invalid: <reason>` (exit 1); with
    /// `--onchain`, also `gas: N`.
    Verify {
        /// Committee JSON.
        #[arg(long)]
        committee: PathBuf,
        /// Certificate JSON (DESIGN §4) or inclusion proof JSON (§4b: the
        /// batch certificate, index, transaction, kind and audit path).
        #[arg(long)]
        cert: PathBuf,
        /// Expected transaction hash; a certificate for another is rejected.
        #[arg(long)]
        tx_hash: Option<String>,
        /// Check with the contracts instead, inside an in-memory revm
        /// (Prague): deploy the registry and the verifier, register every
        /// member with its proof of possession, publish the committee, call
        /// `verify` (`verifyInclusion` for a proof). Prints the same verdict,
        /// then `gas: N` (that transaction's gas).
        #[arg(long)]
        onchain: bool,
    },
}

/// Sets up `tracing` for the process.
pub fn init_tracing(args: &LogArgs) {
    let filter = tracing_subscriber::EnvFilter::try_new(&args.filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if args.json {
        builder.json().init();
    } else {
        builder.init();
    }
}

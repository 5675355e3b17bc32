//! The testnet's data directory: keys, genesis, committee, ports, and
//! `testnet.json`.
//!
//! ```text
//! DATA/layout.json     nodes, base port (what a second `up` reuses)
//! DATA/testnet.json    where everything is, for scripts
//! DATA/genesis.json    the demo world's accounts and contracts + funded dev accounts
//! DATA/settlement-genesis.json  the settlement chain: funded governance and operator accounts
//! DATA/contracts.json  the contracts' addresses on the settlement chain
//! DATA/committee.json  the nodes, 32 ether each, as the registry's snapshot has them
//! DATA/password        the keystores' password (development only)
//! DATA/operator.token  the token quarantine reviews and releases need
//! DATA/operator.key    the operator key that signs releases (the gate accepts its public key)
//! DATA/policy.json     the nodes' protection policy: the treasury account's per-transaction cap
//! DATA/node<i>/        keys, config, store
//! DATA/devnet/ DATA/settlement/ DATA/gate/ DATA/pids.json
//! DATA/logs/NAME.log   each process's log, appended across runs (a header line per start)
//! ```

use std::path::{Path, PathBuf};

use alloy_primitives::{keccak256, Address};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::cli::{KdfChoice, PasswordArgs};

/// The demo world (`vigil-corpus demo-world`), compiled in.
pub const WORLD: &str = include_str!("../../../../testnet/demo/world.json");

/// Funded development accounts (printed, and listed in `testnet.json`).
pub const ACCOUNTS: usize = 10;
/// The settlement chain's id.
pub const SETTLEMENT_CHAIN_ID: u64 = 900_001;

/// Funded accounts that `vigil bench` sends from: many senders, as on a
/// real chain, so no sender's nonce sequence paces the load.
pub const BENCH_ACCOUNTS: usize = 1000;

/// What a second `up` must reuse.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Saved {
    nodes: usize,
    base_port: u16,
}

/// A prepared testnet directory.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The data directory.
    pub root: PathBuf,
    /// Inspector nodes.
    pub nodes: usize,
    /// First port.
    pub base_port: u16,
    /// Chain id.
    pub chain_id: u64,
    /// libp2p peer ids, by node.
    pub peer_ids: Vec<String>,
}

/// Development account `i`: its key and address.
pub fn dev_account(i: usize) -> (alloy_signer_local::PrivateKeySigner, Address) {
    account_from_seed(&format!("vigil-testnet/account/{i}"))
}

/// The testnet's treasury: a funded account whose protection policy
/// (`DATA/policy.json`) caps what it may send in one transaction at
/// [`TREASURY_CAP_WEI`]. A larger transfer is legitimate but held, the
/// kind of transaction an operator reviews and releases (docs/operator.md).
pub fn treasury_account() -> (alloy_signer_local::PrivateKeySigner, Address) {
    account_from_seed("vigil-testnet/treasury")
}

/// The treasury's per-transaction cap: 1 ether.
pub const TREASURY_CAP_WEI: &str = "1000000000000000000";

/// Benchmark account `i`: its key and address.
pub fn bench_account(i: usize) -> (alloy_signer_local::PrivateKeySigner, Address) {
    account_from_seed(&format!("vigil-testnet/bench-account/{i}"))
}

fn account_from_seed(label: &str) -> (alloy_signer_local::PrivateKeySigner, Address) {
    let seed = keccak256(label);
    #[allow(clippy::expect_used)]
    let signer = alloy_signer_local::PrivateKeySigner::from_bytes(&seed).expect("a hash is a valid key");
    let address = signer.address();
    (signer, address)
}

/// Settlement-chain account `i`: 0 is governance (deployer, arbiter), `1 + n`
/// the operator account of node `n`.
pub fn settlement_account(i: usize) -> (alloy_signer_local::PrivateKeySigner, Address) {
    let seed = keccak256(format!("vigil-testnet/settlement/{i}"));
    #[allow(clippy::expect_used)]
    let signer = alloy_signer_local::PrivateKeySigner::from_bytes(&seed).expect("a hash is a valid key");
    let address = signer.address();
    (signer, address)
}

impl Layout {
    /// Opens `root`, creating keys, genesis and committee on first use.
    pub fn prepare(root: &Path, nodes: usize, base_port: u16) -> anyhow::Result<Self> {
        anyhow::ensure!(nodes >= 1, "--nodes must be at least 1");
        std::fs::create_dir_all(root.join("logs")).with_context(|| format!("creating {}", root.display()))?;
        let saved_path = root.join("layout.json");
        let saved: Saved = if saved_path.exists() {
            let saved: Saved = crate::cmd::files::read_json(&saved_path, "testnet layout")?;
            if saved.nodes != nodes || saved.base_port != base_port {
                eprintln!(
                    "reusing {} as created: {} nodes, base port {} (--nodes/--base-port apply to a new directory)",
                    root.display(),
                    saved.nodes,
                    saved.base_port
                );
            }
            saved
        } else {
            Self::create(root, nodes)?;
            let saved = Saved { nodes, base_port };
            std::fs::write(&saved_path, serde_json::to_string_pretty(&saved)?)?;
            saved
        };
        // Directories made before operator releases existed get these now.
        let operator_key = root.join("operator.key");
        if !operator_key.exists() {
            vigil_crypto::OperatorKey::generate().write(&operator_key)?;
        }
        let policy = root.join("policy.json");
        if !policy.exists() {
            let rules = json!({
                "version": 1,
                "protocol": "Testnet treasury",
                "rules": [{
                    "type": "max-outflow",
                    "contract": treasury_account().1,
                    "asset": "native",
                    "max": TREASURY_CAP_WEI,
                }],
            });
            std::fs::write(&policy, serde_json::to_string_pretty(&rules)?)?;
        }
        let mut peer_ids = Vec::new();
        for i in 0..saved.nodes {
            let m: Value = crate::cmd::files::read_json(&root.join(format!("node{i}/member.json")), "member file")?;
            peer_ids.push(m["peer_id"].as_str().context("member.json without peer_id")?.to_string());
        }
        let world: Value = serde_json::from_str(WORLD)?;
        let chain_id = world["chain_id"].as_u64().context("world chain id")?;
        Ok(Self { root: root.to_path_buf(), nodes: saved.nodes, base_port: saved.base_port, chain_id, peer_ids })
    }

    fn create(root: &Path, nodes: usize) -> anyhow::Result<()> {
        let password = root.join("password");
        std::fs::write(&password, "vigil-testnet-development-password\n")?;
        let token: [u8; 16] = rand::random();
        std::fs::write(root.join("operator.token"), format!("{}\n", alloy_primitives::hex::encode(token)))?;
        let pw = PasswordArgs { password_file: Some(password) };
        for i in 0..nodes {
            crate::cmd::keys::create(&root.join(format!("node{i}")), &pw, KdfChoice::Pbkdf2, Some(10_000))?;
        }
        let mut world: Value = serde_json::from_str(WORLD)?;
        let mut settlement_alloc = serde_json::Map::new();
        for i in 0..=nodes {
            let (_, address) = settlement_account(i);
            settlement_alloc.insert(address.to_string(), json!({ "balance": "0x21e19e0c9bab2400000" }));
        }
        let settlement = json!({
            "chain_id": SETTLEMENT_CHAIN_ID, "fork": "prague", "genesis": world["genesis"], "alloc": settlement_alloc,
        });
        std::fs::write(root.join("settlement-genesis.json"), serde_json::to_string_pretty(&settlement)?)?;
        for i in 0..ACCOUNTS {
            let (_, address) = dev_account(i);
            world["alloc"][address.to_string()] = json!({ "balance": "0x21e19e0c9bab2400000" });
        }
        for i in 0..BENCH_ACCOUNTS {
            let (_, address) = bench_account(i);
            world["alloc"][address.to_string()] = json!({ "balance": "0x3635c9adc5dea00000" });
        }
        world["alloc"][treasury_account().1.to_string()] = json!({ "balance": "0x3635c9adc5dea00000" });
        let genesis = json!({
            "chain_id": world["chain_id"], "fork": world["fork"], "genesis": world["genesis"], "alloc": world["alloc"],
        });
        std::fs::write(root.join("genesis.json"), serde_json::to_string_pretty(&genesis)?)?;
        Ok(())
    }

    /// Devnet RPC port.
    pub fn devnet_port(&self) -> u16 {
        self.base_port
    }

    /// Settlement chain RPC port.
    pub fn settlement_port(&self) -> u16 {
        self.base_port + 2
    }

    /// Settlement chain URL.
    pub fn settlement_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.settlement_port())
    }

    /// Gate RPC port.
    pub fn gate_port(&self) -> u16 {
        self.base_port + 1
    }

    /// Gate metrics port.
    pub fn gate_metrics_port(&self) -> u16 {
        self.base_port + 99
    }

    /// The operator key's public half (the gate's `--operator-key`).
    pub fn operator_public_key(&self) -> anyhow::Result<alloy_primitives::B256> {
        Ok(vigil_crypto::OperatorKey::read(&self.root.join("operator.key"))
            .context("reading the operator key")?
            .public())
    }

    /// Port of node 0's dashboard.
    pub fn dashboard_port(&self) -> u16 {
        self.base_port + 50
    }

    /// Node 0's dashboard.
    pub fn dashboard_url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.dashboard_port())
    }

    /// Node RPC port.
    pub fn node_port(&self, i: usize) -> u16 {
        self.base_port + 10 + i as u16
    }

    /// Node metrics port.
    pub fn metrics_port(&self, i: usize) -> u16 {
        self.base_port + 100 + i as u16
    }

    /// Node p2p port.
    pub fn p2p_port(&self, i: usize) -> u16 {
        self.base_port + 200 + i as u16
    }

    /// Devnet URL.
    pub fn devnet_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.devnet_port())
    }

    /// Gate URL.
    pub fn gate_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.gate_port())
    }

    /// Node RPC URL.
    pub fn node_url(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.node_port(i))
    }

    /// Node metrics URL.
    pub fn metrics_url(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}/metrics", self.metrics_port(i))
    }

    /// Node libp2p multiaddr with its peer id.
    pub fn p2p_addr(&self, i: usize) -> String {
        format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", self.p2p_port(i), self.peer_ids[i])
    }

    /// Every port the testnet listens on.
    pub fn ports(&self) -> Vec<u16> {
        let mut p = vec![
            self.devnet_port(),
            self.gate_port(),
            self.gate_metrics_port(),
            self.settlement_port(),
            self.dashboard_port(),
        ];
        for i in 0..self.nodes {
            p.extend([self.node_port(i), self.metrics_port(i), self.p2p_port(i)]);
        }
        p
    }

    /// The funded development accounts: address and `0x` private key.
    pub fn accounts(&self) -> Vec<(Address, String)> {
        (0..ACCOUNTS)
            .map(|i| {
                let (signer, address) = dev_account(i);
                (address, format!("0x{}", alloy_primitives::hex::encode(signer.to_bytes())))
            })
            .collect()
    }

    /// Writes `testnet.json` (where everything is).
    pub fn write_testnet_json(&self) -> anyhow::Result<()> {
        let nodes: Vec<Value> = (0..self.nodes)
            .map(|i| json!({ "rpc": self.node_url(i), "metrics": self.metrics_url(i), "p2p": self.p2p_addr(i) }))
            .collect();
        let (treasury, _) = treasury_account();
        let accounts: Vec<Value> =
            self.accounts().into_iter().map(|(a, k)| json!({ "address": a, "private_key": k })).collect();
        let doc = json!({
            "chain_id": self.chain_id,
            "gate": { "rpc": self.gate_url() },
            "dashboard": self.dashboard_url(),
            "devnet": { "rpc": self.devnet_url() },
            "settlement": {
                "rpc": self.settlement_url(),
                "chain_id": SETTLEMENT_CHAIN_ID,
                "contracts": crate::cmd::files::read_json::<Value>(&self.root.join("contracts.json"), "addresses file")
                    .unwrap_or(Value::Null),
            },
            "nodes": nodes,
            "accounts": accounts,
            "operator_token_file": self.root.join("operator.token"),
            "operator_key_file": self.root.join("operator.key"),
            "treasury": {
                "address": treasury.address(),
                "private_key": format!("0x{}", alloy_primitives::hex::encode(treasury.to_bytes())),
                "policy": self.root.join("policy.json"),
                "cap_wei": TREASURY_CAP_WEI,
            },
        });
        let path = self.root.join("testnet.json");
        std::fs::write(&path, serde_json::to_string_pretty(&doc)?)
            .with_context(|| format!("writing {}", path.display()))
    }
}

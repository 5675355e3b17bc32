//! The node's view of the chain: it follows the devnet by executing its
//! blocks locally (DESIGN §5), so simulation reads state from memory, never
//! from the network, and the detection history (who deployed what, which
//! signatures were used) is built from the same blocks on every node.
//!
//! Blocks are fetched with `eth_getBlockByNumber(n, true)`, each transaction
//! executed with the tracing simulator (unbounded budget: the block is
//! final) and committed, the history updated, and the block's gas used
//! compared with the header's: a mismatch means this node's execution
//! diverges from the sequencer's, and the node stops following (and voting
//! on stale state) rather than judge on a state it cannot trust.
//!
//! The view lives in memory and is rebuilt at start by replaying the chain
//! from genesis (a devnet executes tens of thousands of transactions per
//! second: `docs/performance.md`).

use std::time::Duration;

use alloy_eips::{eip1559::BaseFeeParams, eip2718::Encodable2718};
use alloy_primitives::{Address, B256};
use alloy_rpc_types_eth::{Block, BlockTransactions};
use serde_json::{json, Value};
use vigil_detect::History;
use vigil_fixture::Genesis;
use vigil_sim::{BlockSpec, Budget, InMemoryState};
use vigil_types::tx::Transaction;

/// Why following failed.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// The chain's RPC could not be reached or answered garbage.
    #[error("chain RPC {url}: {reason}")]
    Rpc {
        /// Endpoint.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The chain is another chain than the node's genesis.
    #[error("the chain at {url} is chain {got}, the node's genesis is chain {want}")]
    WrongChain {
        /// Endpoint.
        url: String,
        /// Its chain id.
        got: u64,
        /// The genesis chain id.
        want: u64,
    },
    /// Local execution disagrees with the chain.
    #[error("block {number}: local execution diverges from the chain ({reason}); not following further")]
    Diverged {
        /// Block number.
        number: u64,
        /// What differed.
        reason: String,
    },
    /// The genesis cannot be loaded.
    #[error("genesis: {0}")]
    Genesis(String),
}

/// The head the view is at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// Number.
    pub number: u64,
    /// Hash.
    pub hash: B256,
    /// Timestamp.
    pub timestamp: u64,
    /// Gas limit.
    pub gas_limit: u64,
    /// Base fee of this block.
    pub base_fee: u64,
    /// Gas used.
    pub gas_used: u64,
    /// Fee recipient.
    pub coinbase: Address,
}

impl Head {
    /// The environment of the block after this one, derived from the head
    /// alone so that every honest node simulates in the same environment
    /// (verdicts must agree): number + 1, timestamp + 1 s, the EIP-1559 base
    /// fee, the same gas limit and coinbase.
    pub fn next_block(&self, genesis: &Genesis) -> BlockSpec {
        let base_fee = alloy_eips::eip1559::calc_next_block_base_fee(
            self.gas_used,
            self.gas_limit,
            self.base_fee,
            BaseFeeParams::ethereum(),
        );
        BlockSpec {
            chain_id: genesis.chain_id,
            fork: genesis.fork,
            number: self.number + 1,
            timestamp: self.timestamp + 1,
            gas_limit: self.gas_limit,
            base_fee,
            coinbase: self.coinbase,
            prevrandao: B256::ZERO,
        }
    }
}

/// State, history and head, advanced block by block.
#[derive(Debug, Clone)]
pub struct ChainView {
    genesis: Genesis,
    state: InMemoryState,
    history: History,
    head: Head,
}

impl ChainView {
    /// The view at genesis (block 0's hash is learned from the chain).
    pub fn new(genesis: Genesis) -> Result<Self, FollowError> {
        let state = InMemoryState::from_genesis(&genesis).map_err(|e| FollowError::Genesis(e.to_string()))?;
        let g = &genesis.block;
        let head = Head {
            number: 0,
            hash: B256::ZERO,
            timestamp: g.timestamp,
            gas_limit: g.gas_limit,
            base_fee: g.base_fee,
            gas_used: 0,
            coinbase: g.coinbase,
        };
        Ok(Self { genesis, state, history: History::new(), head })
    }

    /// The genesis.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// The state at the head.
    pub fn state(&self) -> &InMemoryState {
        &self.state
    }

    /// The detection history up to the head.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The head.
    pub fn head(&self) -> Head {
        self.head
    }

    /// The environment transactions are simulated in.
    pub fn next_block(&self) -> BlockSpec {
        self.head.next_block(&self.genesis)
    }

    /// Executes block `block` (which must be the head's successor, or block
    /// 0 to learn its hash) on the view.
    pub fn apply(&mut self, block: &Block) -> Result<(), FollowError> {
        let h = &block.header;
        let number = h.number;
        if number == 0 {
            self.head.hash = h.hash;
            return Ok(());
        }
        if number != self.head.number + 1 || h.parent_hash != self.head.hash {
            return Err(FollowError::Diverged {
                number,
                reason: format!("block does not extend the local head {} {}", self.head.number, self.head.hash),
            });
        }
        let spec = BlockSpec {
            chain_id: self.genesis.chain_id,
            fork: self.genesis.fork,
            number,
            timestamp: h.timestamp,
            gas_limit: h.gas_limit,
            base_fee: h.base_fee_per_gas.unwrap_or(0),
            coinbase: h.beneficiary,
            prevrandao: h.mix_hash,
        };
        let BlockTransactions::Full(txs) = &block.transactions else {
            return Err(FollowError::Diverged { number, reason: "block fetched without its transactions".into() });
        };
        let budget = Budget { max_gas: u64::MAX, max_wall_time: Duration::from_secs(3600) };
        let mut next = self.state.clone();
        let mut history = self.history.clone();
        let mut gas_used = 0u64;
        for rpc_tx in txs {
            let raw = rpc_tx.inner.inner().encoded_2718();
            let tx = Transaction::decode(&raw)
                .map_err(|e| FollowError::Diverged { number, reason: format!("undecodable transaction: {e}") })?;
            let outcome = vigil_sim::simulate(&next, &spec, &tx, &budget).map_err(|e| FollowError::Diverged {
                number,
                reason: format!("transaction {} does not execute locally: {e}", tx.hash()),
            })?;
            next.commit(&outcome.changes);
            history.record(&outcome.trace, number);
            gas_used += outcome.result.gas_used();
        }
        if gas_used != h.gas_used {
            return Err(FollowError::Diverged {
                number,
                reason: format!("gas used {gas_used} locally, {} in the header", h.gas_used),
            });
        }
        next.set_block_hash(number, h.hash);
        self.state = next;
        self.history = history;
        self.head = Head {
            number,
            hash: h.hash,
            timestamp: h.timestamp,
            gas_limit: h.gas_limit,
            base_fee: h.base_fee_per_gas.unwrap_or(0),
            gas_used: h.gas_used,
            coinbase: h.beneficiary,
        };
        Ok(())
    }
}

/// A minimal JSON-RPC client for the chain being followed.
#[derive(Debug, Clone)]
pub struct ChainRpc {
    url: String,
    http: reqwest::Client,
}

impl ChainRpc {
    /// A client of `url`.
    pub fn new(url: impl Into<String>) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default();
        Self { url: url.into(), http }
    }

    /// The endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Calls `method` and returns its result.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, FollowError> {
        let err = |reason: String| FollowError::Rpc { url: self.url.clone(), reason };
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        let answer: Value = self
            .http
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .map_err(|e| err(format!("{method}: {e}")))?
            .json()
            .await
            .map_err(|e| err(format!("{method}: {e}")))?;
        if let Some(e) = answer.get("error") {
            return Err(err(format!("{method}: {e}")));
        }
        Ok(answer.get("result").cloned().unwrap_or(Value::Null))
    }

    /// The chain id.
    pub async fn chain_id(&self) -> Result<u64, FollowError> {
        let v = self.call("eth_chainId", json!([])).await?;
        parse_quantity(&v)
            .ok_or_else(|| FollowError::Rpc { url: self.url.clone(), reason: format!("eth_chainId: {v}") })
    }

    /// The head number.
    pub async fn block_number(&self) -> Result<u64, FollowError> {
        let v = self.call("eth_blockNumber", json!([])).await?;
        parse_quantity(&v)
            .ok_or_else(|| FollowError::Rpc { url: self.url.clone(), reason: format!("eth_blockNumber: {v}") })
    }

    /// Block `n` with its transactions.
    pub async fn block(&self, n: u64) -> Result<Option<Block>, FollowError> {
        let v = self.call("eth_getBlockByNumber", json!([format!("0x{n:x}"), true])).await?;
        if v.is_null() {
            return Ok(None);
        }
        serde_json::from_value(v)
            .map(Some)
            .map_err(|e| FollowError::Rpc { url: self.url.clone(), reason: format!("block {n}: {e}") })
    }
}

/// A `0x` quantity.
pub fn parse_quantity(v: &Value) -> Option<u64> {
    u64::from_str_radix(v.as_str()?.strip_prefix("0x")?, 16).ok()
}

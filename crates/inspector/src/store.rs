//! The inspector node's store (DESIGN §5, §7, §9): raw transactions, the
//! node's own verdicts with a trace summary, every vote seen, certificates,
//! the pool's outcome, quarantine records with their review state, and the
//! indexes behind `vigil_history` and `vigil_quarantine*`.
//!
//! Writes that belong together go in one [`Batch`] (verdict + own vote +
//! index entries + counters; certificate + outcome; quarantine record +
//! outcome + queue entries), so a kill at any instant leaves all of them or
//! none. Every write is synced to the write-ahead log before the method
//! returns ([`Store::write`]). Writes are serialised by a lock inside
//! [`NodeStore`] (they read before they write, to keep the indexes and the
//! counters exact); reads take no lock.
//!
//! # Layout
//!
//! `inv(n)` is `u64::MAX - n` big-endian, so that newer blocks and times sort
//! first. Hashes are 32 bytes, addresses 20. JSON values are the serde forms
//! of the record types below.
//!
//! | column family | key | value |
//! | --- | --- | --- |
//! | `meta` | `count/<name>` for `txs`, `verdicts`, `votes`, `certificates`, `quarantined` | u64 BE, exact counts |
//! | `txs` | tx hash | [`TxRecord`] JSON |
//! | `verdicts` | tx hash | [`VerdictRecord`] JSON |
//! | `votes` | tx hash ‖ epoch (u64 BE) ‖ signer (u32 BE) | [`Vote`] JSON |
//! | `certs` | tx hash | [`Certificate`] JSON |
//! | `outcomes` | tx hash | [`Outcome`] JSON |
//! | `quarantine` | tx hash | [`QuarantineRecord`] JSON |
//! | `quarantine_idx` | tag (1) ‖ inv(since_ms) ‖ tx hash; tag 0 = all, 1 open, 2 confirmed malicious, 3 false positive | empty |
//! | `history_block` | inv(block) ‖ tx hash | sender (20) |
//! | `history_addr` | address ‖ inv(block) ‖ tx hash, for the sender, `to`, and every touched and created contract (deduplicated) | sender (20) |
//! | `alerts` | inv(block) ‖ tx hash, for verdicts that are alerts (DESIGN §5) | sender (20) |
//!
//! The two history indexes hold one entry per verdict (`alerts` one per
//! alert); the block is the
//! verdict's [`VerdictRecord::block_number`], the sender comes from the
//! transaction's [`TxRecord`], which must be stored before its verdict. Re-judging a transaction
//! replaces its entries. [`NodeStore::prune`] walks `history_block` from the
//! bound down, so it only reaches transactions this node judged.
//!
//! # Cursors
//!
//! A page's `next_cursor` is the hex of the last index key the call
//! examined; the next call starts strictly after it. Keys are fixed-length
//! and ordered, so paging neither skips nor repeats an entry, whatever is
//! written between pages (entries written above the cursor are simply not
//! seen by that walk). A filtered walk examines at most [`MAX_SCAN`] keys per
//! call and may return a short (even empty) page with a cursor; only
//! `next_cursor: None` means the end.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use alloy_primitives::{hex, Bytes};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use vigil_store::{Batch, Store, StoreError};
use vigil_types::{Address, Attestation, Certificate, InclusionProof, Vote, VoteKind, B256};

#[cfg(test)]
mod tests;

/// Largest page any list or history call returns.
pub const MAX_PAGE: usize = 1000;

/// Most index keys one filtered list or history call examines.
pub const MAX_SCAN: usize = 10_000;

/// Index keys read from RocksDB at a time.
const CHUNK: usize = 256;

/// Transactions removed per batch by [`NodeStore::prune`].
const PRUNE_BATCH: usize = 128;

/// Column family names.
pub mod cf {
    /// Counters.
    pub const META: &str = "meta";
    /// Raw transactions.
    pub const TXS: &str = "txs";
    /// This node's verdicts.
    pub const VERDICTS: &str = "verdicts";
    /// Every vote seen, this node's included.
    pub const VOTES: &str = "votes";
    /// Certificates.
    pub const CERTS: &str = "certs";
    /// The pool's decision per transaction.
    pub const OUTCOMES: &str = "outcomes";
    /// Quarantine records.
    pub const QUARANTINE: &str = "quarantine";
    /// Quarantine queue, newest first, all and per review state.
    pub const QUARANTINE_IDX: &str = "quarantine_idx";
    /// History by block, newest first.
    pub const HISTORY_BLOCK: &str = "history_block";
    /// History by address (sender or touched contract), newest first.
    pub const HISTORY_ADDR: &str = "history_addr";
    /// Alerts (clean verdicts with findings that weigh), newest block first.
    pub const ALERTS: &str = "alerts";

    /// Every column family of the node store.
    pub const ALL: &[&str] =
        &[META, TXS, VERDICTS, VOTES, CERTS, OUTCOMES, QUARANTINE, QUARANTINE_IDX, HISTORY_BLOCK, HISTORY_ADDR, ALERTS];
}

/// What can go wrong with the node store.
#[derive(Debug, thiserror::Error)]
pub enum NodeStoreError {
    /// RocksDB failed, or a record does not decode.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The group's disk sync failed: the write may not survive a power
    /// loss, so it is not acknowledged.
    #[error("the disk sync after the write failed: {0}")]
    NotSynced(String),
    /// `review` of a transaction that has no quarantine record.
    #[error("transaction {0} is not quarantined")]
    NotQuarantined(B256),
    /// The vote given with a verdict is about another transaction or says
    /// another kind.
    #[error("own vote ({vote_tx}, {vote_kind}) does not match the verdict ({verdict_tx}, {verdict_kind})")]
    VoteMismatch {
        /// The verdict's transaction.
        verdict_tx: B256,
        /// The verdict's kind.
        verdict_kind: VoteKind,
        /// The vote's transaction.
        vote_tx: B256,
        /// The vote's kind.
        vote_kind: VoteKind,
    },
    /// A verdict for a transaction whose raw form was never stored (its
    /// sender, needed for the history indexes, comes from there).
    #[error("verdict for {0} before its transaction was stored: put_tx first")]
    UnknownTx(B256),
    /// A certificate given with a quarantine record is about another
    /// transaction.
    #[error("certificate for {cert_tx} given with the quarantine record of {record_tx}")]
    CertificateMismatch {
        /// The quarantine record's transaction.
        record_tx: B256,
        /// The certificate's transaction.
        cert_tx: B256,
    },
    /// A cursor that this store did not hand out for this query.
    #[error("invalid cursor {cursor:?}: {reason}; pass back a next_cursor from the same query")]
    InvalidCursor {
        /// The cursor given.
        cursor: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Result of node store calls.
pub type Result<T, E = NodeStoreError> = std::result::Result<T, E>;

/// Where a transaction came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TxSource {
    /// Submitted to this node's JSON-RPC.
    Rpc,
    /// Announced by a peer.
    Gossip,
}

/// A raw transaction as received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxRecord {
    /// Transaction hash.
    pub hash: B256,
    /// The signed transaction, as sent to `eth_sendRawTransaction`.
    pub raw: Bytes,
    /// Recovered sender.
    pub sender: Address,
    /// Sender nonce.
    pub nonce: u64,
    /// When this node received it (Unix ms).
    pub received_ms: u64,
    /// How it arrived.
    pub source: TxSource,
}

/// One detector finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingRecord {
    /// Rule id.
    pub rule: String,
    /// Severity as the detector names it.
    pub severity: String,
    /// Addresses the finding is about.
    pub addresses: Vec<Address>,
    /// A sentence a human can check.
    pub message: String,
}

/// What the simulation did, in short.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceSummary {
    /// The transaction's `to` (none for a creation).
    pub to: Option<Address>,
    /// Contracts called or created, sorted and deduplicated.
    pub touched: Vec<Address>,
    /// Number of call frames.
    pub calls: u32,
    /// Number of logs.
    pub logs: u32,
    /// Gas used.
    pub gas_used: u64,
    /// Whether the top frame succeeded.
    pub success: bool,
    /// Decoded revert reason, if it reverted with one.
    pub revert_reason: Option<String>,
    /// Contracts created.
    pub created: Vec<Address>,
    /// Whether the call tree, flows and storage changes below were kept:
    /// only for verdicts an operator reviews (malicious, an alert, or any
    /// finding). Kept for every verdict they would cost each node a
    /// larger record per transaction, which measurably slowed the whole
    /// network (decision 0016). Records written before the flag had them.
    #[serde(default = "kept")]
    pub detail: bool,
    /// The call tree, in the order calls started (at most
    /// [`TraceSummary::MAX_FRAMES`]; what an analyst reads on the
    /// dashboard).
    #[serde(default)]
    pub frames: Vec<FrameRecord>,
    /// Frames beyond [`TraceSummary::MAX_FRAMES`], not kept.
    #[serde(default)]
    pub frames_omitted: u32,
    /// Net flows per address and asset, losers first (at most
    /// [`TraceSummary::MAX_FLOWS`]).
    #[serde(default)]
    pub flows: Vec<FlowRecord>,
    /// Storage changed in the accounts that lost value (at most
    /// [`TraceSummary::MAX_STORAGE`]).
    #[serde(default)]
    pub storage: Vec<StorageChangeRecord>,
}

fn kept() -> bool {
    true
}

impl TraceSummary {
    /// Call frames kept.
    pub const MAX_FRAMES: usize = 128;
    /// Flows kept.
    pub const MAX_FLOWS: usize = 48;
    /// Storage changes kept.
    pub const MAX_STORAGE: usize = 64;
}

/// One call of the call tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameRecord {
    /// 0 for the transaction's own call.
    pub depth: u32,
    /// `call`, `staticcall`, `delegatecall`, `callcode`, `create`, `create2`.
    pub kind: String,
    /// `msg.sender`.
    pub caller: Address,
    /// Whose storage and balance the frame uses.
    pub callee: Address,
    /// Wei moved (decimal).
    pub value: String,
    /// The function selector (`0x` + 8 hex digits), if any.
    pub selector: Option<String>,
    /// Gas used, children included.
    pub gas_used: u64,
    /// Its effects were undone.
    pub reverted: bool,
}

/// What an address gained or lost of an asset in the transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowRecord {
    /// The holder.
    pub address: Address,
    /// `native`, or the token contract.
    pub asset: String,
    /// Signed net amount in base units (decimal; negative: lost).
    pub net: String,
}

/// A storage slot the transaction changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageChangeRecord {
    /// The account.
    pub address: Address,
    /// The slot.
    pub slot: B256,
    /// Before the transaction.
    pub before: B256,
    /// After it.
    pub after: B256,
}

/// This node's verdict on a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictRecord {
    /// Transaction hash.
    pub tx_hash: B256,
    /// Clean or malicious.
    pub kind: VoteKind,
    /// Detector score.
    pub score: u32,
    /// Clean, but with findings that reach the alert score: admitted,
    /// and shown to operators (DESIGN §5).
    #[serde(default)]
    pub alert: bool,
    /// Ruleset version.
    pub ruleset: String,
    /// Findings.
    pub findings: Vec<FindingRecord>,
    /// Trace summary.
    pub summary: TraceSummary,
    /// The block simulated (the next block at the time).
    pub block_number: u64,
    /// When the verdict was reached (Unix ms).
    pub judged_ms: u64,
    /// Time spent judging (µs).
    pub elapsed_us: u64,
}

/// The decision the pool reached about a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// A clean certificate exists.
    Certified,
    /// Held out.
    Quarantined {
        /// Why.
        reason: String,
    },
}

/// Review state of a quarantine record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    /// Not reviewed yet.
    Open,
    /// An operator confirmed the attack.
    ConfirmedMalicious,
    /// An operator judged it benign.
    FalsePositive,
}

impl ReviewState {
    fn tag(self) -> u8 {
        match self {
            Self::Open => 1,
            Self::ConfirmedMalicious => 2,
            Self::FalsePositive => 3,
        }
    }
}

/// The review of a quarantine record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// Current state.
    pub state: ReviewState,
    /// Who reviewed it last.
    pub reviewer: Option<String>,
    /// Their note.
    pub note: Option<String>,
    /// When (Unix ms).
    pub at_ms: Option<u64>,
}

impl Default for Review {
    /// Not reviewed yet.
    fn default() -> Self {
        Self { state: ReviewState::Open, reviewer: None, note: None, at_ms: None }
    }
}

/// A quarantined transaction (its raw form, votes and verdict are in their
/// own column families under the same hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineRecord {
    /// Transaction hash.
    pub tx_hash: B256,
    /// Why it is held.
    pub reason: String,
    /// Since when (Unix ms); orders the queue.
    pub since_ms: u64,
    /// Block it was judged against.
    pub block_number: u64,
    /// Review state.
    pub review: Review,
}

/// Filter of [`NodeStore::quarantine_list`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineFilter {
    /// Only records in this review state.
    pub state: Option<ReviewState>,
}

/// Which verdicts a history query returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HistoryKind {
    /// This node judged it clean.
    Clean,
    /// This node judged it malicious.
    Malicious,
    /// The pool certified it.
    Certified,
    /// The pool quarantined it.
    Quarantined,
    /// This node judged it clean with an alert.
    Alert,
}

/// A `vigil_history` query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryQuery {
    /// Sender or touched contract.
    pub address: Option<Address>,
    /// Lowest block, inclusive.
    pub from_block: Option<u64>,
    /// Highest block, inclusive.
    pub to_block: Option<u64>,
    /// Kind filter.
    pub kind: Option<HistoryKind>,
}

/// One line of history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Transaction hash.
    pub tx_hash: B256,
    /// Sender.
    pub sender: Address,
    /// Block judged against.
    pub block_number: u64,
    /// This node's verdict.
    pub verdict: VoteKind,
    /// Its score.
    pub score: u32,
    /// Whether the verdict is an alert.
    #[serde(default)]
    pub alert: bool,
    /// Rules that fired, in finding order, deduplicated.
    pub rules: Vec<String>,
    /// The pool's decision, if any yet.
    pub outcome: Option<Outcome>,
    /// When judged (Unix ms).
    pub judged_ms: u64,
}

/// A page of results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items, newest first.
    pub items: Vec<T>,
    /// Pass back for the next page; `None` at the end.
    pub next_cursor: Option<String>,
}

/// Record counts (exact: counters in `meta`, updated in the batches that
/// add or remove records).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreStats {
    /// Raw transactions.
    pub txs: u64,
    /// Own verdicts.
    pub verdicts: u64,
    /// Votes seen.
    pub votes: u64,
    /// Certificates.
    pub certificates: u64,
    /// Quarantine records (any review state).
    pub quarantined: u64,
}

/// Counter keys in `meta`.
mod counter {
    pub const TXS: &[u8] = b"count/txs";
    pub const VERDICTS: &[u8] = b"count/verdicts";
    pub const VOTES: &[u8] = b"count/votes";
    pub const CERTIFICATES: &[u8] = b"count/certificates";
    pub const QUARANTINED: &[u8] = b"count/quarantined";
}

/// Counter changes carried by one batch.
#[derive(Debug, Default)]
struct Deltas {
    txs: i64,
    verdicts: i64,
    votes: i64,
    certificates: i64,
    quarantined: i64,
}

/// Key builders.
mod keys {
    use super::{Address, B256};

    /// `u64::MAX - n`, big-endian: newest first.
    pub fn inv(n: u64) -> [u8; 8] {
        (u64::MAX - n).to_be_bytes()
    }

    pub fn vote(tx: B256, epoch: u64, signer: u32) -> Vec<u8> {
        let mut k = Vec::with_capacity(44);
        k.extend_from_slice(tx.as_slice());
        k.extend_from_slice(&epoch.to_be_bytes());
        k.extend_from_slice(&signer.to_be_bytes());
        k
    }

    pub fn by_block(block: u64, tx: B256) -> Vec<u8> {
        let mut k = Vec::with_capacity(40);
        k.extend_from_slice(&inv(block));
        k.extend_from_slice(tx.as_slice());
        k
    }

    pub fn by_addr(addr: Address, block: u64, tx: B256) -> Vec<u8> {
        let mut k = Vec::with_capacity(60);
        k.extend_from_slice(addr.as_slice());
        k.extend_from_slice(&inv(block));
        k.extend_from_slice(tx.as_slice());
        k
    }

    /// Tag 0: the whole queue.
    pub const QUEUE_ALL: u8 = 0;

    pub fn queue(tag: u8, since_ms: u64, tx: B256) -> Vec<u8> {
        let mut k = Vec::with_capacity(41);
        k.push(tag);
        k.extend_from_slice(&inv(since_ms));
        k.extend_from_slice(tx.as_slice());
        k
    }

    /// The block and hash at the end of a history index key.
    pub fn split_tail(key: &[u8]) -> Option<(u64, B256)> {
        let tail = key.len().checked_sub(40).map(|at| &key[at..])?;
        let inv = u64::from_be_bytes(tail[..8].try_into().ok()?);
        Some((u64::MAX - inv, B256::from_slice(&tail[8..])))
    }
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing these plain structs (string keys, no maps) cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

fn decode<T: DeserializeOwned>(cf: &'static str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt { cf, reason: e.to_string() }.into())
}

/// The addresses a verdict is indexed under: sender, `to`, touched and
/// created contracts, deduplicated.
fn indexed_addresses(v: &VerdictRecord, sender: Address) -> BTreeSet<Address> {
    let mut set = BTreeSet::new();
    set.insert(sender);
    set.extend(v.summary.to);
    set.extend(v.summary.touched.iter().copied());
    set.extend(v.summary.created.iter().copied());
    set
}

/// The inspector node's store. Cheap to share behind an `Arc`; every method
/// blocks on RocksDB (call from `spawn_blocking` or the store's own task).
#[derive(Debug)]
pub struct NodeStore {
    store: Arc<Store>,
    write: Mutex<()>,
}

impl NodeStore {
    /// Opens (creating if needed) the node store at `path` with the column
    /// families of [`cf::ALL`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Ok(Self::from_store(Arc::new(Store::open(path, cf::ALL)?)))
    }

    /// Wraps a store opened by the caller; it must declare every name in
    /// [`cf::ALL`] (it may declare more, for other parts of the node).
    pub fn from_store(store: Arc<Store>) -> Self {
        Self { store, write: Mutex::new(()) }
    }

    /// The underlying store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    fn lock(&self) -> MutexGuard<'_, ()> {
        // The guarded data is `()`: a panic in another writer leaves nothing
        // half-updated in memory, and RocksDB batches are atomic.
        self.write.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get<T: DeserializeOwned>(&self, cf: &'static str, key: &[u8]) -> Result<Option<T>> {
        self.store.get(cf, key)?.map(|bytes| decode(cf, &bytes)).transpose()
    }

    fn exists(&self, cf: &'static str, key: &[u8]) -> Result<bool> {
        Ok(self.store.get(cf, key)?.is_some())
    }

    fn counter(&self, key: &[u8]) -> Result<u64> {
        match self.store.get(cf::META, key)? {
            None => Ok(0),
            Some(bytes) => {
                let arr: [u8; 8] = bytes.as_slice().try_into().map_err(|_| StoreError::Corrupt {
                    cf: cf::META,
                    reason: format!("counter {} is {} bytes, not 8", String::from_utf8_lossy(key), bytes.len()),
                })?;
                Ok(u64::from_be_bytes(arr))
            }
        }
    }

    /// Adds the counter updates to `batch`, writes it under the write lock
    /// `guard`, releases the lock, then waits for the disk: writers are not
    /// serialized behind each other's syncs, and concurrent ones share one.
    fn commit(&self, guard: MutexGuard<'_, ()>, batch: Batch, d: Deltas) -> Result<()> {
        self.commit_with(batch, d, false)?;
        drop(guard);
        self.store.sync_wal()?;
        Ok(())
    }

    /// Adds the counter updates to `batch` and writes it. Call with the
    /// write lock held. `sync: false` leaves the write in the OS's page
    /// cache (it survives the process being killed, not a power loss).
    fn commit_with(&self, mut batch: Batch, d: Deltas, sync: bool) -> Result<()> {
        for (key, delta) in [
            (counter::TXS, d.txs),
            (counter::VERDICTS, d.verdicts),
            (counter::VOTES, d.votes),
            (counter::CERTIFICATES, d.certificates),
            (counter::QUARANTINED, d.quarantined),
        ] {
            if delta != 0 {
                let now = self.counter(key)?;
                let next = now.saturating_add_signed(delta);
                batch.put(cf::META, key.to_vec(), next.to_be_bytes().to_vec());
            }
        }
        if batch.is_empty() {
            return Ok(());
        }
        if sync {
            self.store.write(batch)?;
        } else {
            self.store.write_unsynced(batch)?;
        }
        Ok(())
    }

    /// Stores a raw transaction. Idempotent: the first record for a hash
    /// stays. Returns whether it was new.
    ///
    /// A transaction from a client is synced before this returns (the
    /// client is told its hash); one relayed by a peer is not (nothing is
    /// acknowledged on it, and a killed process still keeps it).
    pub fn put_tx(&self, tx: &TxRecord) -> Result<bool> {
        let guard = self.lock();
        if self.exists(cf::TXS, tx.hash.as_slice())? {
            return Ok(false);
        }
        let mut batch = Batch::new();
        batch.put(cf::TXS, tx.hash.to_vec(), encode(tx));
        let deltas = Deltas { txs: 1, ..Deltas::default() };
        if tx.source == TxSource::Rpc {
            self.commit(guard, batch, deltas)?;
        } else {
            self.commit_with(batch, deltas, false)?;
        }
        Ok(true)
    }

    /// Stores peers' transactions in one write, not synced (nothing is
    /// acknowledged on them; a killed process keeps them). Those stored
    /// before stay as they were. Returns how many were new.
    pub fn put_txs(&self, txs: &[TxRecord]) -> Result<usize> {
        let _guard = self.lock();
        let mut batch = Batch::new();
        let mut n = 0;
        for tx in txs {
            if self.exists(cf::TXS, tx.hash.as_slice())? {
                continue;
            }
            batch.put(cf::TXS, tx.hash.to_vec(), encode(tx));
            n += 1;
        }
        if n > 0 {
            self.commit_with(batch, Deltas { txs: n as i64, ..Deltas::default() }, false)?;
        }
        Ok(n)
    }

    /// Clients' transactions received here since `since_ms` that nothing
    /// decided yet (no certificate, no quarantine), oldest first: what a
    /// restarted node must take up again, having acknowledged them.
    pub fn undecided_client_txs(&self, since_ms: u64) -> Result<Vec<TxRecord>> {
        let mut found = Vec::new();
        self.store.for_each(cf::TXS, |_, v| {
            let tx: TxRecord =
                serde_json::from_slice(v).map_err(|e| StoreError::Corrupt { cf: cf::TXS, reason: e.to_string() })?;
            if tx.source == TxSource::Rpc && tx.received_ms >= since_ms {
                found.push(tx);
            }
            Ok(())
        })?;
        let mut undecided = Vec::new();
        for tx in found {
            if self.outcome(tx.hash)?.is_none() && self.certificate(tx.hash)?.is_none() {
                undecided.push(tx);
            }
        }
        undecided.sort_by_key(|t| (t.received_ms, t.sender, t.nonce));
        Ok(undecided)
    }

    /// A raw transaction.
    pub fn tx(&self, hash: B256) -> Result<Option<TxRecord>> {
        self.get(cf::TXS, hash.as_slice())
    }

    /// Stores this node's verdict, its own vote and the history index
    /// entries in one batch. The transaction must have been stored
    /// ([`NodeStore::put_tx`]): its sender is indexed. Re-judging a
    /// transaction replaces the verdict and moves its index entries.
    pub fn put_verdict(&self, verdict: &VerdictRecord, own_vote: &Vote) -> Result<()> {
        let guard = self.lock();
        self.stage_verdict(verdict, Some(own_vote))?;
        drop(guard);
        self.store.sync_wal()?;
        Ok(())
    }

    /// [`Self::put_verdict`] for a group, with one disk sync for all of
    /// them (group commit). A verdict without a vote is one this node
    /// signs in a batch (DESIGN §4b): the batch vote is derived from the
    /// stored verdicts, so they are what must be on disk first. Each verdict is stored or refused on its own;
    /// the results are in the order given.
    pub fn put_verdicts(&self, items: &[(VerdictRecord, Option<Vote>)]) -> Vec<Result<()>> {
        let guard = self.lock();
        let mut results: Vec<Result<()>> = items.iter().map(|(v, own)| self.stage_verdict(v, own.as_ref())).collect();
        drop(guard);
        if results.iter().any(Result::is_ok) {
            if let Err(e) = self.store.sync_wal() {
                let message = e.to_string();
                for r in results.iter_mut().filter(|r| r.is_ok()) {
                    *r = Err(NodeStoreError::NotSynced(message.clone()));
                }
            }
        }
        results
    }

    /// Writes one verdict with its vote and index entries, not yet synced.
    /// Call with the write lock held.
    fn stage_verdict(&self, verdict: &VerdictRecord, own_vote: Option<&Vote>) -> Result<()> {
        if let Some(own_vote) = own_vote.filter(|v| v.tx_hash != verdict.tx_hash || v.kind != verdict.kind) {
            return Err(NodeStoreError::VoteMismatch {
                verdict_tx: verdict.tx_hash,
                verdict_kind: verdict.kind,
                vote_tx: own_vote.tx_hash,
                vote_kind: own_vote.kind,
            });
        }
        let hash = verdict.tx_hash;
        let sender = self.tx(hash)?.ok_or(NodeStoreError::UnknownTx(hash))?.sender;
        let mut batch = Batch::new();
        let mut deltas = Deltas::default();
        match self.get::<VerdictRecord>(cf::VERDICTS, hash.as_slice())? {
            Some(old) => unindex(&mut batch, &old, sender),
            None => deltas.verdicts = 1,
        }
        batch.put(cf::VERDICTS, hash.to_vec(), encode(verdict));
        if let Some(own_vote) = own_vote {
            let vote_key = keys::vote(hash, own_vote.epoch, own_vote.signer);
            if !self.exists(cf::VOTES, &vote_key)? {
                deltas.votes = 1;
            }
            batch.put(cf::VOTES, vote_key, encode(own_vote));
        }
        batch.put(cf::HISTORY_BLOCK, keys::by_block(verdict.block_number, hash), sender.to_vec());
        if verdict.alert {
            batch.put(cf::ALERTS, keys::by_block(verdict.block_number, hash), sender.to_vec());
        }
        for addr in indexed_addresses(verdict, sender) {
            batch.put(cf::HISTORY_ADDR, keys::by_addr(addr, verdict.block_number, hash), sender.to_vec());
        }
        self.commit_with(batch, deltas, false)
    }

    /// This node's verdict.
    pub fn verdict(&self, hash: B256) -> Result<Option<VerdictRecord>> {
        self.get(cf::VERDICTS, hash.as_slice())
    }

    /// Stores a vote seen, keyed (tx hash, epoch, signer). Idempotent: the
    /// first vote under a key stays (equivocation is the caller's to
    /// detect). Returns whether it was new.
    ///
    /// Other members' votes are written without waiting for the disk sync:
    /// nothing is acknowledged on them, a killed process keeps them (the
    /// write-ahead log is in the OS's page cache), and only a power loss can
    /// take the last ones, which the certificate already summarizes. The
    /// node's own vote is stored, synced, by [`Self::put_verdict`].
    pub fn put_vote(&self, vote: &Vote) -> Result<bool> {
        let _guard = self.lock();
        let key = keys::vote(vote.tx_hash, vote.epoch, vote.signer);
        if self.exists(cf::VOTES, &key)? {
            return Ok(false);
        }
        let mut batch = Batch::new();
        batch.put(cf::VOTES, key, encode(vote));
        self.commit_with(batch, Deltas { votes: 1, ..Deltas::default() }, false)?;
        Ok(true)
    }

    /// Every vote stored for a transaction, by (epoch, signer).
    pub fn votes(&self, hash: B256) -> Result<Vec<Vote>> {
        let mut out = Vec::new();
        let mut from: Option<Vec<u8>> = None;
        loop {
            let chunk = self.store.scan_prefix(cf::VOTES, hash.as_slice(), from.as_deref(), CHUNK)?;
            let done = chunk.len() < CHUNK;
            for (key, value) in &chunk {
                out.push(decode(cf::VOTES, value)?);
                from = Some(after(key));
            }
            if done {
                return Ok(out);
            }
        }
    }

    /// Stores a certificate. A clean one also sets the outcome to
    /// [`Outcome::Certified`] in the same batch; a malicious one leaves the
    /// outcome alone (use [`NodeStore::quarantine_certified`] to store it
    /// with its quarantine record).
    ///
    /// Not synced: a killed process keeps it, and after a power loss the
    /// votes it aggregates, the peers and the sequencer still have it.
    pub fn put_certificate(&self, cert: &Certificate) -> Result<()> {
        let _guard = self.lock();
        let mut batch = Batch::new();
        let deltas = self.stage_certificate(&mut batch, cert)?;
        if cert.kind == VoteKind::Clean {
            batch.put(cf::OUTCOMES, cert.tx_hash.to_vec(), encode(&Outcome::Certified));
        }
        self.commit_with(batch, deltas, false)
    }

    fn stage_certificate(&self, batch: &mut Batch, cert: &Certificate) -> Result<Deltas> {
        let mut deltas = Deltas::default();
        if !self.exists(cf::CERTS, cert.tx_hash.as_slice())? {
            deltas.certificates = 1;
        }
        batch.put(cf::CERTS, cert.tx_hash.to_vec(), encode(cert));
        Ok(deltas)
    }

    /// What decided a transaction: its certificate or its inclusion proof.
    pub fn certificate(&self, hash: B256) -> Result<Option<Attestation>> {
        self.get(cf::CERTS, hash.as_slice())
    }

    /// Stores the inclusion proofs of a certified batch's transactions in
    /// one write; a clean one sets the outcome to [`Outcome::Certified`]
    /// (a malicious one is stored with its quarantine record by
    /// [`Self::quarantine`]). Not synced, as [`Self::put_certificate`].
    pub fn put_inclusions(&self, proofs: &[InclusionProof]) -> Result<()> {
        let _guard = self.lock();
        let mut batch = Batch::new();
        let mut deltas = Deltas::default();
        for proof in proofs {
            if !self.exists(cf::CERTS, proof.tx_hash.as_slice())? {
                deltas.certificates += 1;
            }
            batch.put(cf::CERTS, proof.tx_hash.to_vec(), encode(proof));
            if proof.kind == VoteKind::Clean {
                batch.put(cf::OUTCOMES, proof.tx_hash.to_vec(), encode(&Outcome::Certified));
            }
        }
        self.commit_with(batch, deltas, false)
    }

    /// Stores a quarantine record with the outcome
    /// [`Outcome::Quarantined`] in one batch. Idempotent: if the
    /// transaction is already quarantined, the stored record (and its
    /// review) stays.
    pub fn quarantine(&self, record: &QuarantineRecord) -> Result<()> {
        let guard = self.lock();
        let mut batch = Batch::new();
        let Some(deltas) = self.stage_quarantine(&mut batch, record)? else {
            return Ok(());
        };
        self.commit(guard, batch, deltas)
    }

    /// [`NodeStore::quarantine`] together with the (malicious) certificate
    /// that caused it, in one batch. The certificate is stored even if the
    /// transaction was already quarantined. Returns whether the quarantine
    /// record was new.
    pub fn quarantine_certified(&self, record: &QuarantineRecord, cert: &Certificate) -> Result<bool> {
        if cert.tx_hash != record.tx_hash {
            return Err(NodeStoreError::CertificateMismatch { record_tx: record.tx_hash, cert_tx: cert.tx_hash });
        }
        let guard = self.lock();
        let mut batch = Batch::new();
        let mut deltas = self.stage_certificate(&mut batch, cert)?;
        let new = match self.stage_quarantine(&mut batch, record)? {
            Some(d) => {
                deltas.quarantined = d.quarantined;
                true
            }
            None => false,
        };
        self.commit(guard, batch, deltas)?;
        Ok(new)
    }

    fn stage_quarantine(&self, batch: &mut Batch, record: &QuarantineRecord) -> Result<Option<Deltas>> {
        let hash = record.tx_hash;
        if self.exists(cf::QUARANTINE, hash.as_slice())? {
            return Ok(None);
        }
        batch.put(cf::QUARANTINE, hash.to_vec(), encode(record));
        batch.put(cf::QUARANTINE_IDX, keys::queue(keys::QUEUE_ALL, record.since_ms, hash), Vec::new());
        batch.put(cf::QUARANTINE_IDX, keys::queue(record.review.state.tag(), record.since_ms, hash), Vec::new());
        batch.put(cf::OUTCOMES, hash.to_vec(), encode(&Outcome::Quarantined { reason: record.reason.clone() }));
        Ok(Some(Deltas { quarantined: 1, ..Deltas::default() }))
    }

    /// A quarantine record.
    pub fn quarantine_record(&self, hash: B256) -> Result<Option<QuarantineRecord>> {
        self.get(cf::QUARANTINE, hash.as_slice())
    }

    /// The quarantine queue, newest first (by `since_ms`, then hash), at
    /// most `limit` (capped at [`MAX_PAGE`]) records from `cursor`.
    pub fn quarantine_list(
        &self,
        filter: QuarantineFilter,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Page<QuarantineRecord>> {
        let tag = filter.state.map_or(keys::QUEUE_ALL, ReviewState::tag);
        let prefix = [tag];
        let start = match cursor {
            Some(c) => Some(parse_cursor(c, &prefix, 41)?),
            None => None,
        };
        let limit = limit.clamp(1, MAX_PAGE);
        let mut items = Vec::new();
        let mut from = start;
        loop {
            let want = limit - items.len();
            let chunk = self.store.scan_prefix(cf::QUARANTINE_IDX, &prefix, from.as_deref(), want)?;
            let done = chunk.len() < want;
            for (key, _) in &chunk {
                from = Some(after(key));
                let Some((_, hash)) = keys::split_tail(key) else { continue };
                // Absent only if pruned since the scan.
                if let Some(record) = self.quarantine_record(hash)? {
                    items.push(record);
                }
            }
            if done {
                return Ok(Page { items, next_cursor: None });
            }
            if items.len() >= limit {
                let next_cursor = chunk.last().map(|(k, _)| hex::encode(k));
                return Ok(Page { items, next_cursor });
            }
        }
    }

    /// Records an operator's review. Any state may follow any other (a
    /// review can be corrected); the queue entries move in the same batch.
    /// Fails with [`NodeStoreError::NotQuarantined`] if there is no record.
    pub fn review(
        &self,
        hash: B256,
        state: ReviewState,
        reviewer: Option<String>,
        note: Option<String>,
        now_ms: u64,
    ) -> Result<QuarantineRecord> {
        let guard = self.lock();
        let mut record = self.quarantine_record(hash)?.ok_or(NodeStoreError::NotQuarantined(hash))?;
        let mut batch = Batch::new();
        batch.delete(cf::QUARANTINE_IDX, keys::queue(record.review.state.tag(), record.since_ms, hash));
        record.review = Review { state, reviewer, note, at_ms: Some(now_ms) };
        batch.put(cf::QUARANTINE_IDX, keys::queue(state.tag(), record.since_ms, hash), Vec::new());
        batch.put(cf::QUARANTINE, hash.to_vec(), encode(&record));
        self.commit(guard, batch, Deltas::default())?;
        Ok(record)
    }

    /// The pool's decision about a transaction, if known.
    pub fn outcome(&self, hash: B256) -> Result<Option<Outcome>> {
        self.get(cf::OUTCOMES, hash.as_slice())
    }

    /// Verdict history, newest block first (then by hash), at most `limit`
    /// (capped at [`MAX_PAGE`]) entries from `cursor`. See the module docs
    /// for the cursor's guarantees.
    pub fn history(&self, query: &HistoryQuery, cursor: Option<&str>, limit: usize) -> Result<Page<HistoryEntry>> {
        let (index, prefix) = match (query.address, query.kind) {
            (Some(a), _) => (cf::HISTORY_ADDR, a.to_vec()),
            (None, Some(HistoryKind::Alert)) => (cf::ALERTS, Vec::new()),
            (None, _) => (cf::HISTORY_BLOCK, Vec::new()),
        };
        let key_len = prefix.len() + 40;
        let limit = limit.clamp(1, MAX_PAGE);
        let from_block = query.from_block.unwrap_or(0);
        // The first key at or below `to_block`.
        let mut from = query.to_block.map(|b| [prefix.as_slice(), &keys::inv(b)].concat());
        if let Some(c) = cursor {
            let after_cursor = parse_cursor(c, &prefix, key_len)?;
            from = Some(match from {
                Some(f) if f > after_cursor => f,
                _ => after_cursor,
            });
        }
        if query.to_block.is_some_and(|to| to < from_block) {
            return Ok(Page { items: Vec::new(), next_cursor: None });
        }
        let mut items = Vec::new();
        let mut scanned = 0usize;
        loop {
            let chunk = self.store.scan_prefix(index, &prefix, from.as_deref(), CHUNK)?;
            let done = chunk.len() < CHUNK;
            for (key, value) in &chunk {
                let (Some((block, hash)), Ok(sender)) = (keys::split_tail(key), Address::try_from(value.as_slice()))
                else {
                    return Err(StoreError::Corrupt {
                        cf: index,
                        reason: format!("entry of {} + {} bytes", key.len(), value.len()),
                    }
                    .into());
                };
                if block < from_block {
                    return Ok(Page { items, next_cursor: None });
                }
                scanned += 1;
                from = Some(after(key));
                if let Some(entry) = self.history_entry(hash, sender, query.kind)? {
                    items.push(entry);
                }
                if items.len() >= limit || scanned >= MAX_SCAN {
                    return Ok(Page { items, next_cursor: Some(hex::encode(key)) });
                }
            }
            if done {
                return Ok(Page { items, next_cursor: None });
            }
        }
    }

    /// The history entry of `hash` if it passes the kind filter (`None`
    /// also when the verdict was pruned since the index was read).
    fn history_entry(&self, hash: B256, sender: Address, kind: Option<HistoryKind>) -> Result<Option<HistoryEntry>> {
        let Some(v) = self.verdict(hash)? else { return Ok(None) };
        let outcome = self.outcome(hash)?;
        let keep = match kind {
            None => true,
            Some(HistoryKind::Clean) => v.kind == VoteKind::Clean,
            Some(HistoryKind::Malicious) => v.kind == VoteKind::Malicious,
            Some(HistoryKind::Certified) => matches!(outcome, Some(Outcome::Certified)),
            Some(HistoryKind::Quarantined) => matches!(outcome, Some(Outcome::Quarantined { .. })),
            Some(HistoryKind::Alert) => v.alert,
        };
        if !keep {
            return Ok(None);
        }
        let mut rules: Vec<String> = Vec::new();
        for f in &v.findings {
            if !rules.contains(&f.rule) {
                rules.push(f.rule.clone());
            }
        }
        Ok(Some(HistoryEntry {
            tx_hash: v.tx_hash,
            sender,
            block_number: v.block_number,
            verdict: v.kind,
            score: v.score,
            alert: v.alert,
            rules,
            outcome,
            judged_ms: v.judged_ms,
        }))
    }

    /// Retention: deletes everything about transactions this node judged at
    /// a block below `keep_blocks_below` (raw transaction, verdict, votes,
    /// certificate, outcome, quarantine record, index entries), in batches of
    /// whole transactions. A quarantine not reviewed yet is kept whole, with
    /// its history entry: operators and disputing senders still need it.
    /// Returns how many transactions were removed.
    pub fn prune(&self, keep_blocks_below: u64) -> Result<u64> {
        let Some(newest_pruned) = keep_blocks_below.checked_sub(1) else { return Ok(0) };
        let mut from = keys::inv(newest_pruned).to_vec();
        let mut removed = 0u64;
        loop {
            let guard = self.lock();
            let chunk = self.store.scan_prefix(cf::HISTORY_BLOCK, &[], Some(&from), PRUNE_BATCH)?;
            let Some((last, _)) = chunk.last() else { return Ok(removed) };
            from = after(last);
            let mut batch = Batch::new();
            let mut deltas = Deltas::default();
            let mut n = 0u64;
            for (key, value) in &chunk {
                let (Some((_, hash)), Ok(sender)) = (keys::split_tail(key), Address::try_from(value.as_slice())) else {
                    batch.delete(cf::HISTORY_BLOCK, key.clone());
                    continue;
                };
                if self.quarantine_record(hash)?.is_some_and(|q| q.review.state == ReviewState::Open) {
                    continue;
                }
                batch.delete(cf::HISTORY_BLOCK, key.clone());
                self.stage_removal(&mut batch, &mut deltas, hash, sender)?;
                n += 1;
            }
            self.commit(guard, batch, deltas)?;
            removed += n;
            tracing::debug!(target: "vigil_inspector::store", removed, keep_blocks_below, "pruned");
            if chunk.len() < PRUNE_BATCH {
                return Ok(removed);
            }
        }
    }

    fn stage_removal(&self, batch: &mut Batch, d: &mut Deltas, hash: B256, sender: Address) -> Result<()> {
        let key = hash.as_slice();
        if self.exists(cf::TXS, key)? {
            batch.delete(cf::TXS, key.to_vec());
            d.txs -= 1;
        }
        if let Some(v) = self.get::<VerdictRecord>(cf::VERDICTS, key)? {
            unindex(batch, &v, sender);
            batch.delete(cf::VERDICTS, key.to_vec());
            d.verdicts -= 1;
        }
        let mut from: Option<Vec<u8>> = None;
        loop {
            let votes = self.store.scan_prefix(cf::VOTES, key, from.as_deref(), CHUNK)?;
            for (k, _) in &votes {
                batch.delete(cf::VOTES, k.clone());
                d.votes -= 1;
                from = Some(after(k));
            }
            if votes.len() < CHUNK {
                break;
            }
        }
        if self.exists(cf::CERTS, key)? {
            batch.delete(cf::CERTS, key.to_vec());
            d.certificates -= 1;
        }
        batch.delete(cf::OUTCOMES, key.to_vec());
        if let Some(q) = self.quarantine_record(hash)? {
            batch.delete(cf::QUARANTINE_IDX, keys::queue(keys::QUEUE_ALL, q.since_ms, hash));
            batch.delete(cf::QUARANTINE_IDX, keys::queue(q.review.state.tag(), q.since_ms, hash));
            batch.delete(cf::QUARANTINE, key.to_vec());
            d.quarantined -= 1;
        }
        Ok(())
    }

    /// Record counts, from the counters in `meta` (exact).
    pub fn stats(&self) -> Result<StoreStats> {
        Ok(StoreStats {
            txs: self.counter(counter::TXS)?,
            verdicts: self.counter(counter::VERDICTS)?,
            votes: self.counter(counter::VOTES)?,
            certificates: self.counter(counter::CERTIFICATES)?,
            quarantined: self.counter(counter::QUARANTINED)?,
        })
    }
}

/// Deletes a verdict's history index entries.
fn unindex(batch: &mut Batch, v: &VerdictRecord, sender: Address) {
    batch.delete(cf::HISTORY_BLOCK, keys::by_block(v.block_number, v.tx_hash));
    if v.alert {
        batch.delete(cf::ALERTS, keys::by_block(v.block_number, v.tx_hash));
    }
    for addr in indexed_addresses(v, sender) {
        batch.delete(cf::HISTORY_ADDR, keys::by_addr(addr, v.block_number, v.tx_hash));
    }
}

/// The smallest key strictly after `key` (keys of one index have one
/// length, so this is also the next possible key).
fn after(key: &[u8]) -> Vec<u8> {
    let mut next = Vec::with_capacity(key.len() + 1);
    next.extend_from_slice(key);
    next.push(0);
    next
}

/// Decodes a cursor into the key to resume from (strictly after it).
fn parse_cursor(cursor: &str, prefix: &[u8], key_len: usize) -> Result<Vec<u8>> {
    let invalid = |reason| NodeStoreError::InvalidCursor { cursor: cursor.chars().take(200).collect(), reason };
    let key = hex::decode(cursor).map_err(|_| invalid("not hex"))?;
    if key.len() != key_len {
        return Err(invalid("wrong length"));
    }
    if !key.starts_with(prefix) {
        return Err(invalid("from another query"));
    }
    Ok(after(&key))
}

//! The inspection pipeline (DESIGN §2, §5):
//!
//! ```text
//! RPC / gossip tx --admit (decode, chain id, size, nonce & balance plausibility, per-sender limit)-->
//!   store + gossip --bounded queue--> workers: simulate + detect (blocking pool) --> verdict
//!   --> sign vote --> store (verdict + vote + indexes, one batch) --> gossip vote --> aggregation pool
//! gossip votes --check (membership, epoch) --> aggregation pool (verify, optimistic)
//! aggregation pool --> certificate (store, gossip, push to the sequencer) | quarantine at the deadline
//! registry watcher --set_committee--> epoch state (committee, previous, own index) + pool (add, set epoch)
//! ```
//!
//! The same flow by module (each adds its own `impl Inspector` block to the
//! [`Inspector`] defined here, whose state they share):
//!
//! ```text
//! rpc, gossip --tx--> admission --Job--> judge --ballot--> committer --vote--> aggregation
//! gossip --vote--> aggregation --certificate--> push (store, gossip, sequencers)
//!                              \--quarantine, evidence--> store, gossip
//! gossip --cert--> push
//! epochs (set_committee; revote --ballot--> committer): read by judge, aggregation, gossip, push
//! ```
//!
//! - `admission`: decode, chain id, plausibility, per-sender and in-flight
//!   bounds, store, gossip, queue;
//! - `judge`: the workers; simulate, detect, sign;
//! - `committer`: verdicts stored in groups (one disk sync), then cast;
//! - `aggregation`: the pool, its deadlines, and what its events lead to;
//! - `push`: a certificate stored, gossiped and pushed to the sequencers,
//!   by the member whose turn it is first;
//! - `gossip`: validation of every gossip message;
//! - `epochs`: the current and previous committee, the move to a new one.
//!
//! The committee is replaceable while the node runs ([`Inspector::set_committee`]):
//! votes are signed with the epoch and this node's index of the committee
//! current when the vote is signed; a node outside the current committee
//! judges nothing and signs nothing, and keeps serving RPC and gossip.
//!
//! Every queue is bounded; a full queue refuses with a clear error instead of
//! growing. Time-consuming work (simulation, BLS verification) runs off the
//! async executor.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::{Arc, Mutex, RwLock},
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256};
use tokio::sync::{broadcast, mpsc};
use vigil_consensus::{AggregationPool, BatchPool, PoolConfig, VerifiedCommittee};
use vigil_crypto::{BatchVerifier, SecretKey};

use vigil_consensus::limit::InflightLimit;
use vigil_detect::Engine;
use vigil_net::NetHandle;
use vigil_sim::Budget;
use vigil_types::{tx::Transaction, Attestation, Vote};

use crate::{
    metrics::Metrics,
    store::{NodeStore, QuarantineRecord, VerdictRecord},
    view::View,
};

mod admission;
mod aggregation;
mod batch;
mod committer;
mod epochs;
mod gossip;
mod judge;
mod push;
#[cfg(test)]
mod testutil;

pub use epochs::CommitteeSwitch;
use epochs::EpochState;

/// Pipeline settings.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Simulation budget per transaction.
    pub budget: Budget,
    /// Time after the first vote by which a certificate must exist.
    pub deadline_ms: u64,
    /// Transactions waiting for simulation, at most.
    pub queue: usize,
    /// Transactions of one sender waiting for simulation, at most.
    pub per_sender: usize,
    /// Simulation workers.
    pub workers: usize,
    /// Target time from a client's transaction arriving to its decision.
    /// The bound on clients' transactions in flight ([`crate::limit`])
    /// shrinks when decisions come later and grows while they come in
    /// time; beyond it clients are answered "busy, retry later".
    /// Transactions from peers are always taken (admitted elsewhere).
    pub max_certify_lag_ms: u64,
    /// Sequencer / gate endpoints certificates are pushed to
    /// (`vigil_submitCertificate`, `vigil_submitBatch`).
    pub sequencers: Vec<String>,
    /// Clients' transactions are proposed and signed in batches (DESIGN
    /// §4b); off, every transaction is gossiped and voted on alone (§4).
    pub batches: bool,
    /// Time a batch has to gather its certificate before its transactions
    /// go the §4 way (per-transaction votes).
    pub batch_timeout_ms: u64,
    /// Where a member's batch votes go.
    pub batch_votes: VoteRoute,
}

/// Where a member's batch vote goes (decision 0015, "Vote routes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VoteRoute {
    /// Gossiped: every node aggregates the votes itself. The fewest hops
    /// to a decision; each node receives every member's vote, so gossip
    /// per node grows with the committee.
    #[default]
    Gossip,
    /// Sent to the batch's proposer alone, which aggregates them and
    /// gossips the certificate: gossip per node does not grow with the
    /// committee, at the cost of one more hop and pairing in sequence.
    Proposer,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            budget: Budget { max_gas: 30_000_000, max_wall_time: Duration::from_millis(1000) },
            deadline_ms: 2_000,
            queue: 10_000,
            per_sender: 64,
            workers: 4,
            max_certify_lag_ms: 1500,
            sequencers: vec![],
            batches: true,
            batch_timeout_ms: 1_500,
            batch_votes: VoteRoute::Gossip,
        }
    }
}

/// Why a transaction is refused at admission.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmitError {
    /// Not a transaction.
    #[error("invalid transaction: {0}")]
    Malformed(String),
    /// Another chain, or no replay protection.
    #[error("{0}")]
    WrongChain(String),
    /// Implausible on the current state (nonce, funds, gas).
    #[error("{0}")]
    Implausible(String),
    /// A queue is full.
    #[error("{0}")]
    Busy(String),
    /// The store failed; nothing was acknowledged.
    #[error("storage failure, nothing was accepted: {0}")]
    Store(String),
}

impl AdmitError {
    /// Whether a gossip peer relaying this deserves a lower score (it could
    /// have known), as opposed to a refusal that depends on local state or
    /// load.
    pub fn is_peer_fault(&self) -> bool {
        matches!(self, Self::Malformed(_) | Self::WrongChain(_))
    }
}

/// What the node tells subscribers.
#[derive(Debug, Clone)]
pub enum NodeEvent {
    /// This node judged a transaction.
    Verdict(Arc<VerdictRecord>),
    /// A certificate or a batch's inclusion proof decided a transaction.
    Certificate(Arc<Attestation>),
    /// A transaction was quarantined.
    Quarantine(Arc<QuarantineRecord>),
}

struct Job {
    tx: Transaction,
    received: Instant,
    /// Judged for a batch (DESIGN §4b): no per-transaction vote is
    /// signed; the verdict goes into a batch vote.
    batched: bool,
    /// A client's transaction received here: this node proposes it.
    propose: bool,
}

/// A judged transaction on its way to the committer.
struct Ballot {
    record: VerdictRecord,
    /// The per-transaction vote; `None` for a verdict signed in a batch.
    vote: Option<Vote>,
    /// When it was judged (`None`: a verdict re-signed for a new epoch or
    /// after a batch fell back).
    judged: Option<Instant>,
    /// Raw bytes of a client's transaction this node proposes in a batch.
    propose: Option<alloy_primitives::Bytes>,
}

/// The node's identity in the committee.
#[derive(Debug)]
pub struct Signer {
    /// BLS secret key.
    pub key: SecretKey,
    /// Index in the committee.
    pub index: u32,
}

/// The inspector.
pub struct Inspector {
    config: PipelineConfig,
    chain_id: u64,
    view: RwLock<View>,
    engine: Engine,
    /// This node's BLS key.
    key: SecretKey,
    /// The current committee and this node's place in it (replaced on an
    /// epoch change; read briefly, never held across an `.await`).
    epoch: RwLock<EpochState>,
    pool: Mutex<AggregationPool>,
    /// Pairing checks of vote aggregates and peers' certificates, batched
    /// across transactions on one thread.
    verifier: BatchVerifier,
    store: NodeStore,
    net: NetHandle,
    events: broadcast::Sender<NodeEvent>,
    metrics: Metrics,
    queue: mpsc::Sender<Job>,
    /// Judged transactions on their way to the committer, with when they
    /// were judged (`None`: a verdict re-signed for a new epoch).
    ballots: mpsc::Sender<Ballot>,
    /// Batches proposed, being judged or waiting for their certificate.
    batches: Mutex<batch::Batches>,
    /// Batch votes by batch, until a certificate forms.
    batch_pool: Mutex<BatchPool>,
    /// Wakes the proposer (a transaction ready, a proposal decided).
    proposer: tokio::sync::Notify,
    /// Transactions waiting for their sender's earlier nonces to be
    /// included.
    gapped: Mutex<Vec<Job>>,
    per_sender: Mutex<HashMap<Address, usize>>,
    recent: Mutex<(HashSet<B256>, VecDeque<B256>)>,
    http: reqwest::Client,
    started: Instant,
    /// The chain followed, when the node judges only on its current head.
    chain: Option<crate::follower::ChainRpc>,
    sync_lock: tokio::sync::Mutex<()>,
    /// When the view last matched the chain's head (ms since the epoch).
    synced_ms: std::sync::atomic::AtomicU64,
    /// Whether the follower is woken by the chain's new-head notifications.
    heads_pushed: std::sync::atomic::AtomicBool,
    /// Clients' transactions admitted here and not yet decided, bounded.
    inflight: Mutex<InflightLimit>,
    /// This inspector, for the catch-up a `&self` method needs.
    this: std::sync::Weak<Inspector>,
}

impl std::fmt::Debug for Inspector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inspector").field("chain_id", &self.chain_id).field("signer", &self.signer_index()).finish()
    }
}

/// Most pairing checks verified in one batch (a batch of 64 costs about
/// 0.4 ms per check, against 1.1 ms alone: docs/performance.md).
const VERIFY_BATCH: usize = 64;

/// Pairing checks waiting for the verifier before callers wait for room.
const VERIFY_QUEUE: usize = 4096;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl Inspector {
    /// Builds the pipeline and starts its workers and timers (inside a
    /// tokio runtime). `view` is the chain view the follower keeps current.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        config: PipelineConfig,
        view: View,
        engine: Engine,
        committee: Arc<VerifiedCommittee>,
        signer: Signer,
        store: NodeStore,
        net: NetHandle,
        metrics: Metrics,
        chain: Option<crate::follower::ChainRpc>,
    ) -> Arc<Self> {
        let mut pool = AggregationPool::new(PoolConfig { deadline_ms: config.deadline_ms, ..PoolConfig::default() });
        pool.add_committee(committee.clone());
        pool.set_current_epoch(committee.epoch());
        let (queue, jobs) = mpsc::channel(config.queue.max(1));
        let (ballots, judged) = mpsc::channel(config.queue.max(1));
        let (events, _) = broadcast::channel(4096);
        let target = Duration::from_millis(config.max_certify_lag_ms);
        let me = Arc::new_cyclic(|weak| Self {
            this: weak.clone(),
            chain_id: view.chain_id(),
            config,
            view: RwLock::new(view),
            engine,
            key: signer.key,
            epoch: RwLock::new(EpochState { committee, previous: None, index: Some(signer.index) }),
            pool: Mutex::new(pool),
            verifier: BatchVerifier::start("bls-verifier", VERIFY_BATCH, VERIFY_QUEUE),
            store,
            net,
            events,
            metrics,
            queue,
            ballots,
            per_sender: Mutex::new(HashMap::new()),
            recent: Mutex::new((HashSet::new(), VecDeque::new())),
            http: reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap_or_default(),
            started: Instant::now(),
            chain,
            sync_lock: tokio::sync::Mutex::new(()),
            synced_ms: std::sync::atomic::AtomicU64::new(0),
            heads_pushed: std::sync::atomic::AtomicBool::new(false),
            inflight: Mutex::new(InflightLimit::new(target)),
            batches: Mutex::new(batch::Batches::default()),
            batch_pool: Mutex::new(BatchPool::new(batch::POOLED_BATCHES)),
            proposer: tokio::sync::Notify::new(),
            gapped: Mutex::new(Vec::new()),
        });
        me.metrics.epoch.set(i64::try_from(me.committee().epoch()).unwrap_or(i64::MAX));
        me.metrics.member_index.set(me.signer_index().map_or(-1, i64::from));
        let jobs = Arc::new(tokio::sync::Mutex::new(jobs));
        for _ in 0..me.config.workers.max(1) {
            tokio::spawn(me.clone().worker(jobs.clone()));
        }
        tokio::spawn(me.clone().ticker());
        tokio::spawn(me.clone().committer(judged));
        tokio::spawn(me.clone().proposer());
        me
    }

    /// Chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The store.
    pub fn store(&self) -> &NodeStore {
        &self.store
    }

    /// The network.
    pub fn net(&self) -> &NetHandle {
        &self.net
    }

    /// Metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Node events.
    pub fn subscribe(&self) -> broadcast::Receiver<NodeEvent> {
        self.events.subscribe()
    }

    /// Serializes catching up with the chain.
    pub fn sync_lock(&self) -> &tokio::sync::Mutex<()> {
        &self.sync_lock
    }

    /// Records that the view has just matched the chain's head.
    pub fn mark_synced(&self) {
        self.synced_ms.store(now_ms(), std::sync::atomic::Ordering::Relaxed);
    }

    /// Records whether the chain announces its new heads to the follower.
    pub fn set_heads_pushed(&self, pushed: bool) {
        self.heads_pushed.store(pushed, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether the view matched the chain's head within the last `within`.
    fn synced_within(&self, within: Duration) -> bool {
        let last = self.synced_ms.load(std::sync::atomic::Ordering::Relaxed);
        now_ms().saturating_sub(last) < within.as_millis() as u64
    }

    /// Uptime.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Read access to the chain view.
    pub fn view(&self) -> std::sync::RwLockReadGuard<'_, View> {
        self.view.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Write access to the chain view (the follower).
    pub fn view_mut(&self) -> std::sync::RwLockWriteGuard<'_, View> {
        self.view.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Runs a store call (which may wait for a disk sync) without stalling the
/// async executor's other tasks.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_a_peer_could_have_checked_is_its_fault() {
        let cases = [
            (AdmitError::Malformed("x".into()), true),
            (AdmitError::WrongChain("x".into()), true),
            (AdmitError::Implausible("x".into()), false),
            (AdmitError::Busy("x".into()), false),
            (AdmitError::Store("x".into()), false),
        ];
        for (error, fault) in cases {
            assert_eq!(error.is_peer_fault(), fault, "{error:?}");
        }
    }

    #[test]
    fn admit_errors_read_as_their_reason() {
        assert_eq!(AdmitError::Malformed("rlp".into()).to_string(), "invalid transaction: rlp");
        assert_eq!(AdmitError::Busy("queue full".into()).to_string(), "queue full");
        assert_eq!(AdmitError::Store("disk".into()).to_string(), "storage failure, nothing was accepted: disk");
    }
}

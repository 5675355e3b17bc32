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

use alloy_consensus::Transaction as _;
use alloy_primitives::{Address, B256, U256};
use tokio::sync::{broadcast, mpsc};
use vigil_consensus::{
    prepare_certificate, verify_evidence, AggregationPool, Decision, Inserted, PoolConfig, PoolEvent,
    VerifiedCommittee, VoteRejection,
};
use vigil_crypto::{BatchVerifier, SecretKey};

use crate::limit::{Full, InflightLimit};
use vigil_detect::{Engine, VerdictKind};
use vigil_net::{Inbound, NetEvent, NetHandle, Validation};
use vigil_sim::{Budget, ExecResult};
use vigil_types::{
    codec::Wire, gossip::TxAnnouncement, tx::Transaction, Certificate, EquivocationEvidence, Topic, Vote, VoteKind,
    VoteMessage,
};

use crate::{
    metrics::Metrics,
    store::{FindingRecord, NodeStore, QuarantineRecord, Review, TraceSummary, TxRecord, TxSource, VerdictRecord},
    view::View,
};

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
    /// (`vigil_submitCertificate`).
    pub sequencers: Vec<String>,
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
    /// A certificate was formed or received.
    Certificate(Arc<Certificate>),
    /// A transaction was quarantined.
    Quarantine(Arc<QuarantineRecord>),
}

struct Job {
    tx: Transaction,
    received: Instant,
}

/// How long a transaction waits for its sender's earlier nonces to be
/// included before this node gives up on it (and abstains).
const NONCE_GAP_WAIT: Duration = Duration::from_secs(30);

/// Most verdicts stored under one disk sync.
const MAX_VOTE_GROUP: usize = 256;

/// How long a view counts as current after it last matched the chain's head.
const FRESH_VIEW: Duration = Duration::from_millis(25);

/// The node's identity in the committee.
#[derive(Debug)]
pub struct Signer {
    /// BLS secret key.
    pub key: SecretKey,
    /// Index in the committee.
    pub index: u32,
}

/// The committee the node is in now, the one before it (its certificates
/// are still good for a while), and this node's index in the current one.
#[derive(Debug, Clone)]
struct EpochState {
    committee: Arc<VerifiedCommittee>,
    previous: Option<Arc<VerifiedCommittee>>,
    /// `None`: this node's key is not in the current committee; it does
    /// not vote.
    index: Option<u32>,
}

impl EpochState {
    /// The committee of `epoch`, if it is the current or the previous one.
    fn committee_of(&self, epoch: u64) -> Option<&Arc<VerifiedCommittee>> {
        if self.committee.epoch() == epoch {
            return Some(&self.committee);
        }
        self.previous.as_ref().filter(|c| c.epoch() == epoch)
    }
}

/// What [`Inspector::set_committee`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitteeSwitch {
    /// The node moved to the new epoch; its index there, `None` when its key
    /// is not a member (it stops voting).
    Moved {
        /// The new epoch.
        epoch: u64,
        /// This node's index in it.
        index: Option<u32>,
    },
    /// The committee is not newer than the current one: nothing changed.
    NotNewer {
        /// The node's current epoch.
        current: u64,
    },
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
    ballots: mpsc::Sender<(VerdictRecord, Vote, Option<Instant>)>,
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

/// Transactions remembered as seen (beyond the store), to drop gossip
/// duplicates cheaply.
const RECENT: usize = 100_000;

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
        });
        me.metrics.epoch.set(i64::try_from(me.committee().epoch()).unwrap_or(i64::MAX));
        me.metrics.member_index.set(me.signer_index().map_or(-1, i64::from));
        let jobs = Arc::new(tokio::sync::Mutex::new(jobs));
        for _ in 0..me.config.workers.max(1) {
            tokio::spawn(me.clone().worker(jobs.clone()));
        }
        tokio::spawn(me.clone().ticker());
        tokio::spawn(me.clone().committer(judged));
        me
    }

    /// Chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    fn epoch_state(&self) -> EpochState {
        self.epoch.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// The current committee.
    pub fn committee(&self) -> Arc<VerifiedCommittee> {
        self.epoch.read().unwrap_or_else(std::sync::PoisonError::into_inner).committee.clone()
    }

    /// This node's index in the current committee; `None` when it is not a
    /// member (it does not vote).
    pub fn signer_index(&self) -> Option<u32> {
        self.epoch.read().unwrap_or_else(std::sync::PoisonError::into_inner).index
    }

    /// Moves the node to a newer epoch's committee (the registry watcher
    /// calls it): votes of that epoch are taken from now on and older
    /// epochs' aggregations dropped (DESIGN §3), this node's verdicts on
    /// the old epoch's undecided transactions are signed again in the new
    /// one, it signs with its index there (found by its BLS key) or, when
    /// it is not a member, stops voting, and the previous committee is kept
    /// to verify the certificates still in flight. A committee of another chain is
    /// refused; one not newer than the current changes nothing.
    pub fn set_committee(&self, committee: Arc<VerifiedCommittee>) -> Result<CommitteeSwitch, String> {
        if committee.chain_id() != self.chain_id {
            return Err(format!(
                "the committee of epoch {} serves chain {}, this node inspects chain {}",
                committee.epoch(),
                committee.chain_id(),
                self.chain_id
            ));
        }
        let epoch = committee.epoch();
        let current = self.committee().epoch();
        if epoch <= current {
            return Ok(CommitteeSwitch::NotNewer { current });
        }
        let pk = self.key.public_key().to_bytes();
        let index = committee.committee().members.iter().find(|m| m.bls_pubkey == pk).map(|m| m.index);
        // The pool and the epoch state move together (the state's lock is
        // only ever taken inside the pool's, never the other way), so an
        // own vote the pool refuses as of another epoch is always older
        // than the state's epoch, and is re-signed (`cast`).
        let carried = {
            let mut pool = self.pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let carried = pool.undecided(current);
            pool.add_committee(committee.clone());
            pool.set_current_epoch(epoch);
            let mut state = self.epoch.write().unwrap_or_else(std::sync::PoisonError::into_inner);
            let old = std::mem::replace(&mut state.committee, committee.clone());
            state.previous = Some(old);
            state.index = index;
            carried
        };
        // The old epoch's undecided transactions lose their votes with it:
        // this node's verdicts on them are signed again for the new epoch
        // (the other members do the same when they move), so they can
        // still be certified.
        if index.is_some() && !carried.is_empty() {
            if let (Some(me), Ok(rt)) = (self.this.upgrade(), tokio::runtime::Handle::try_current()) {
                rt.spawn(me.revote(carried));
            }
        }
        self.metrics.epoch.set(i64::try_from(epoch).unwrap_or(i64::MAX));
        self.metrics.member_index.set(index.map_or(-1, i64::from));
        match index {
            Some(i) => tracing::info!(epoch, previous = current, index = i, members = committee.len(), "new epoch: voting as member {i}"),
            None => tracing::warn!(
                epoch,
                previous = current,
                members = committee.len(),
                "new epoch: this node's BLS key is NOT in the committee; it stops voting (still serving RPC and gossip) until a committee includes it"
            ),
        }
        Ok(CommitteeSwitch::Moved { epoch, index })
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

    fn remember(&self, hash: B256) -> bool {
        let mut r = self.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !r.0.insert(hash) {
            return false;
        }
        r.1.push_back(hash);
        if r.1.len() > RECENT {
            if let Some(old) = r.1.pop_front() {
                r.0.remove(&old);
            }
        }
        true
    }

    /// Takes a transaction from a client or a peer: checks it, stores it,
    /// gossips it (when it came from a client) and queues it for
    /// inspection. A transaction seen before answers its hash again.
    pub async fn submit(&self, raw: &[u8], source: TxSource) -> Result<B256, AdmitError> {
        // A client's transaction beyond the in-flight bound is refused
        // before any work (the hash of the raw envelope is the
        // transaction's hash).
        let client = source == TxSource::Rpc;
        if client {
            let hash = alloy_primitives::keccak256(raw);
            let admitted = {
                let mut limit = self.lock_inflight();
                let admitted = limit.try_admit(hash, Instant::now());
                self.metrics.client_inflight.set(limit.inflight() as i64);
                self.metrics.client_limit.set(limit.limit() as i64);
                admitted
            };
            if let Err(Full { inflight, limit }) = admitted {
                self.metrics.refused.with_label_values(&["busy"]).inc();
                return Err(AdmitError::Busy(format!(
                    "busy: {inflight} transactions from clients wait for a decision here (the bound now is {limit}); retry later"
                )));
            }
        }
        let submitted = self.submit_inner(raw, source).await;
        // Refused, or known already (in flight or decided): no slot held.
        if client && !matches!(submitted, Ok((_, true))) {
            self.lock_inflight().release(&alloy_primitives::keccak256(raw));
        }
        submitted.map(|(hash, _)| hash)
    }

    /// The hash, and whether the transaction was new here.
    async fn submit_inner(&self, raw: &[u8], source: TxSource) -> Result<(B256, bool), AdmitError> {
        let tx = Transaction::decode(raw).map_err(|e| AdmitError::Malformed(e.to_string()))?;
        let hash = tx.hash();
        match tx.chain_id() {
            Some(id) if id == self.chain_id => {}
            Some(id) => {
                return Err(AdmitError::WrongChain(format!(
                    "invalid chain id: transaction is for chain {id}, this network inspects chain {}",
                    self.chain_id
                )))
            }
            None => {
                return Err(AdmitError::WrongChain(
                    "only replay-protected (EIP-155) transactions are accepted: sign with the chain id".into(),
                ))
            }
        }
        if !self.remember(hash) {
            return Ok((hash, false));
        }
        let admitted = self.admit(&tx, source).await;
        if admitted.is_err() {
            // Let it be tried again (the state may change, a queue may drain).
            let mut r = self.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            r.0.remove(&hash);
        }
        admitted.map(|fresh| (hash, fresh))
    }

    /// Checks, stores and queues `tx`; whether it was new to the store.
    async fn admit(&self, tx: &Transaction, source: TxSource) -> Result<bool, AdmitError> {
        let hash = tx.hash();
        if blocking(|| self.store.tx(hash)).map_err(|e| AdmitError::Store(e.to_string()))?.is_some() {
            return Ok(false);
        }
        if let Err(e) = self.plausible(tx) {
            // Implausible on this view may only mean the view is behind (a
            // funding transfer just included): catch up once and look again.
            let (Some(chain), Some(me)) = (&self.chain, self.this.upgrade()) else { return Err(e) };
            if crate::sync_once(&me, chain).await.is_err() {
                return Err(e);
            }
            self.plausible(tx)?;
        }
        {
            let mut per = self.per_sender.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let n = per.entry(tx.sender()).or_default();
            if *n >= self.config.per_sender {
                self.metrics.refused.with_label_values(&["sender_limit"]).inc();
                return Err(AdmitError::Busy(format!(
                    "sender {} has {} transactions waiting for inspection, the limit",
                    tx.sender(),
                    *n
                )));
            }
            *n += 1;
        }
        let record = TxRecord {
            hash,
            raw: tx.raw().clone(),
            sender: tx.sender(),
            nonce: tx.nonce(),
            received_ms: now_ms(),
            source,
        };
        let release = |me: &Self| me.release_sender(tx.sender());
        if let Err(e) = blocking(|| self.store.put_tx(&record)) {
            release(self);
            return Err(AdmitError::Store(e.to_string()));
        }
        if let Err(e) = self.queue.try_send(Job { tx: tx.clone(), received: Instant::now() }) {
            release(self);
            self.metrics.refused.with_label_values(&["queue_full"]).inc();
            return Err(AdmitError::Busy(format!("inspection queue is full ({e}); retry later")));
        }
        self.metrics.queue_depth.set(self.queue_depth() as i64);
        self.metrics.txs.with_label_values(&[source_label(source)]).inc();
        tracing::debug!(tx = %hash, source = source_label(source), "admitted");
        if source == TxSource::Rpc {
            let announcement = TxAnnouncement { raw: tx.raw().clone() }.encode();
            if let Err(e) = self.net.publish(Topic::Tx, announcement).await {
                tracing::debug!(tx = %hash, error = %e, "transaction not gossiped");
            }
        }
        Ok(true)
    }

    fn lock_inflight(&self) -> std::sync::MutexGuard<'_, InflightLimit> {
        self.inflight.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn release_sender(&self, sender: Address) {
        let mut per = self.per_sender.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = per.get_mut(&sender) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                per.remove(&sender);
            }
        }
    }

    fn queue_depth(&self) -> usize {
        self.config.queue.saturating_sub(self.queue.capacity())
    }

    /// Nonce and balance plausibility on the view.
    fn plausible(&self, tx: &Transaction) -> Result<(), AdmitError> {
        // A remote view may read through the network: not on an executor thread.
        blocking(|| self.plausible_on_view(tx))
    }

    fn plausible_on_view(&self, tx: &Transaction) -> Result<(), AdmitError> {
        let view = self.view();
        let env = tx.envelope();
        let (next, balance) = view
            .nonce_and_balance(tx.sender())
            .map_err(|e| AdmitError::Busy(format!("the node cannot read the chain state: {e}")))?;
        if tx.nonce() < next {
            return Err(AdmitError::Implausible(format!("nonce too low: next nonce {next}, tx nonce {}", tx.nonce())));
        }
        let limit = view.head().gas_limit;
        if env.gas_limit() > limit {
            return Err(AdmitError::Implausible(format!(
                "exceeds block gas limit: transaction gas limit {}, block gas limit {limit}",
                env.gas_limit()
            )));
        }
        let cost =
            U256::from(env.gas_limit()).saturating_mul(U256::from(env.max_fee_per_gas())).saturating_add(env.value());
        if balance < cost {
            return Err(AdmitError::Implausible(format!(
                "insufficient funds for gas * price + value: address {} have {balance} want {cost}",
                tx.sender()
            )));
        }
        Ok(())
    }

    async fn worker(self: Arc<Self>, jobs: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>) {
        loop {
            let job = { jobs.lock().await.recv().await };
            let Some(job) = job else { return };
            self.metrics.queue_depth.set(self.queue_depth() as i64);
            self.metrics.stage_seconds.with_label_values(&["queue"]).observe(job.received.elapsed().as_secs_f64());
            let sender = job.tx.sender();
            if self.signer_index().is_none() {
                // Outside the committee: no vote to sign, no simulation to spend.
                self.release_sender(sender);
                tracing::debug!(tx = %job.tx.hash(), "not a committee member: not judging");
                continue;
            }
            // Judge on the chain's current head: a block the follower has not
            // applied yet would make this node judge on older state than its
            // peers, and honest votes would disagree. A follower woken by
            // the chain's new-head notifications keeps the view current;
            // one that polls is helped here, at most once per FRESH_VIEW, so
            // a busy node does not ask the chain per transaction.
            let polled = !self.heads_pushed.load(std::sync::atomic::Ordering::Relaxed);
            if let Some(chain) = self.chain.as_ref().filter(|_| polled && !self.synced_within(FRESH_VIEW)) {
                let start = Instant::now();
                if let Err(e) = crate::sync_once(&self, chain).await {
                    tracing::warn!(error = %e, "could not catch up before judging; judging on the current view");
                }
                self.metrics.stage_seconds.with_label_values(&["catch_up"]).observe(start.elapsed().as_secs_f64());
            }
            // A transaction after a gap in its sender's nonces is judged once
            // its predecessors are in the chain, on the state they leave:
            // simulating it on a state without them would judge something
            // that will not run (a contract not deployed yet, a balance not
            // there yet).
            let next = blocking(|| self.view().nonce_and_balance(sender).map(|(n, _)| n)).unwrap_or(0);
            if job.tx.nonce() > next {
                // Waiting costs the pipeline nothing: its client's slot is
                // freed, or the earlier nonces it waits for could be
                // refused for want of slots that such waiters hold.
                self.lock_inflight().release(&job.tx.hash());
                if job.received.elapsed() < NONCE_GAP_WAIT {
                    let queue = self.queue.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        let _ = queue.send(job).await;
                    });
                } else {
                    self.release_sender(sender);
                    tracing::info!(tx = %job.tx.hash(), nonce = job.tx.nonce(), next, "earlier nonces never came; abstaining");
                }
                continue;
            }
            let me = self.clone();
            let hash = job.tx.hash();
            let judged = tokio::task::spawn_blocking(move || me.inspect(&job.tx)).await;
            self.release_sender(sender);
            match judged {
                Ok(Ok((record, vote))) => {
                    if self.ballots.send((record, vote, Some(Instant::now()))).await.is_err() {
                        tracing::error!("the vote committer stopped; not voting");
                    }
                }
                Ok(Err(e)) => {
                    self.lock_inflight().release(&hash);
                    tracing::info!(reason = %e, "no vote")
                }
                Err(e) => tracing::error!(error = %e, "inspection task panicked"),
            }
        }
    }

    /// Simulates and judges on the current view; signs the vote.
    fn inspect(&self, tx: &Transaction) -> Result<(VerdictRecord, Vote), String> {
        let start = Instant::now();
        let view = self.view();
        let block = view.next_block();
        let hash = tx.hash();
        let (verdict, summary) = match vigil_sim::simulate(view.state(), &block, tx, &self.config.budget) {
            Ok(outcome) => {
                let verdict = self.engine.judge(view.state(), &block, tx, &outcome, view.history());
                (verdict, summarize(tx, &outcome))
            }
            // Not executable on this state (funds missing, nonce used): this
            // node abstains. A clean vote here would certify a transaction no
            // one has seen run, which could become valid later and execute
            // unjudged (DESIGN §11, simulation evasion).
            Err(e) => {
                self.metrics.refused.with_label_values(&["not_executable"]).inc();
                return Err(format!("{hash} is not executable on the head state, abstaining: {e}"));
            }
        };
        drop(view);
        let elapsed = start.elapsed();
        self.metrics.stage_seconds.with_label_values(&["inspect"]).observe(elapsed.as_secs_f64());
        let kind = match verdict.kind {
            VerdictKind::Clean => VoteKind::Clean,
            VerdictKind::Malicious => VoteKind::Malicious,
        };
        let vote = self
            .sign(hash, kind)
            .ok_or_else(|| format!("{hash}: not a member of the current committee, not voting"))?;
        let record = VerdictRecord {
            tx_hash: hash,
            kind,
            score: verdict.score,
            alert: verdict.is_alert(),
            ruleset: verdict.ruleset.to_string(),
            findings: verdict
                .findings
                .iter()
                .map(|f| FindingRecord {
                    rule: f.rule.to_string(),
                    severity: format!("{:?}", f.severity).to_lowercase(),
                    addresses: f.addresses.clone(),
                    message: f.message.clone(),
                })
                .collect(),
            summary,
            block_number: block.number,
            judged_ms: now_ms(),
            elapsed_us: elapsed.as_micros() as u64,
        };
        Ok((record, vote))
    }

    /// This node's vote on `tx_hash`, signed with the epoch and index of the
    /// committee current now (an epoch change during a simulation signs
    /// with the new committee's); `None` outside the committee.
    fn sign(&self, tx_hash: B256, kind: VoteKind) -> Option<Vote> {
        let (epoch, signer) = {
            let state = self.epoch.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            (state.committee.epoch(), state.index?)
        };
        let msg = VoteMessage { chain_id: self.chain_id, epoch, tx_hash, kind };
        let signature = self.key.sign_vote(&msg).to_bytes();
        Some(Vote { chain_id: self.chain_id, epoch, tx_hash, kind, signer, signature })
    }

    /// Signs this node's stored verdicts on `hashes` again for the current
    /// epoch and casts them through the committer (stored, then gossiped).
    /// The same verdict under another epoch is no equivocation.
    async fn revote(self: Arc<Self>, hashes: Vec<B256>) {
        let mut n = 0usize;
        for hash in hashes {
            let record = match blocking(|| self.store.verdict(hash)) {
                Ok(Some(r)) => r,
                // Not judged here (abstained, or still being simulated: that
                // one will be signed for the new epoch anyway).
                Ok(None) => continue,
                Err(e) => {
                    tracing::error!(tx = %hash, error = %e, "store read failed; not re-voting");
                    continue;
                }
            };
            let Some(vote) = self.sign(hash, record.kind) else { return };
            if self.ballots.send((record, vote, None)).await.is_err() {
                return;
            }
            n += 1;
        }
        if n > 0 {
            tracing::info!(
                epoch = self.committee().epoch(),
                transactions = n,
                "re-voted undecided transactions in the new epoch"
            );
        }
    }

    /// Stores this node's verdicts in groups, one disk sync per group
    /// (votes that wait for one sync go together into the next), then
    /// gossips each vote and hands it to the pool. A vote is never gossiped
    /// before it is on disk: a restarted node must not sign the other way.
    async fn committer(self: Arc<Self>, mut ballots: mpsc::Receiver<(VerdictRecord, Vote, Option<Instant>)>) {
        while let Some(first) = ballots.recv().await {
            let mut group = vec![first];
            while group.len() < MAX_VOTE_GROUP {
                match ballots.try_recv() {
                    Ok(b) => group.push(b),
                    Err(_) => break,
                }
            }
            let start = Instant::now();
            let me = self.clone();
            let stored = tokio::task::spawn_blocking(move || {
                let items: Vec<(VerdictRecord, Vote)> = group.iter().map(|(r, v, _)| (r.clone(), v.clone())).collect();
                let results = me.store.put_verdicts(&items);
                (group, results)
            })
            .await;
            let Ok((group, results)) = stored else {
                tracing::error!("verdict store task panicked; those votes are not cast");
                continue;
            };
            self.metrics.stage_seconds.with_label_values(&["store_vote"]).observe(start.elapsed().as_secs_f64());
            for ((record, vote, judged), result) in group.into_iter().zip(results) {
                match result {
                    Ok(()) => {
                        let me = self.clone();
                        tokio::spawn(async move { me.cast(record, vote, judged).await });
                    }
                    Err(e) => {
                        tracing::error!(tx = %record.tx_hash, error = %e, "could not store the verdict; not voting");
                    }
                }
            }
        }
    }

    /// Gossips a stored vote and adds it to the pool. `judged` is `None`
    /// for a verdict re-signed for a new epoch (announced once already).
    async fn cast(&self, record: VerdictRecord, vote: Vote, judged: Option<Instant>) {
        let tx_hash = record.tx_hash;
        match judged {
            Some(_) => {
                self.metrics.verdicts.with_label_values(&[vote.kind.to_string().as_str()]).inc();
                tracing::debug!(tx = %tx_hash, kind = %vote.kind, score = record.score, us = record.elapsed_us, "voted");
                if vote.kind == VoteKind::Malicious {
                    let rules: Vec<&str> = record.findings.iter().map(|f| f.rule.as_str()).collect();
                    tracing::warn!(tx = %tx_hash, score = record.score, ?rules, "voted malicious");
                } else if record.alert {
                    let mut rules: Vec<&str> =
                        record.findings.iter().filter(|f| f.severity != "info").map(|f| f.rule.as_str()).collect();
                    rules.dedup();
                    for rule in &rules {
                        self.metrics.alerts.with_label_values(&[rule]).inc();
                    }
                    tracing::info!(tx = %tx_hash, score = record.score, ?rules, "voted clean with an alert");
                }
                let _ = self.events.send(NodeEvent::Verdict(Arc::new(record)));
            }
            None => {
                tracing::debug!(tx = %tx_hash, kind = %vote.kind, epoch = vote.epoch, "voted again in the new epoch")
            }
        }
        if let Err(e) = self.net.publish(Topic::Vote, vote.encode()).await {
            tracing::debug!(error = %e, "vote not gossiped");
        }
        if let Some(judged) = judged {
            self.metrics.stage_seconds.with_label_values(&["vote"]).observe(judged.elapsed().as_secs_f64());
        }
        let epoch = vote.epoch;
        let events = self.pool_insert(vote).await;
        match events {
            Ok(events) => self.handle(events).await,
            // Signed just before an epoch change: the pool moved on. Sign
            // it again for the new epoch.
            Err(VoteRejection::EpochOutsideWindow { .. }) if epoch < self.committee().epoch() => {
                if let Some(me) = self.this.upgrade() {
                    tokio::spawn(me.revote(vec![tx_hash]));
                }
            }
            // Re-signed twice across one epoch change (signatures are
            // deterministic): the pool has it.
            Err(e @ VoteRejection::Duplicate { .. }) => {
                tracing::debug!(tx = %tx_hash, error = %e, "own vote already in the pool")
            }
            Err(e) => tracing::error!(error = %e, "own vote refused by the pool"),
        }
    }

    /// Adds a vote to the pool. An aggregate of pending votes ready to
    /// pass the threshold is verified by the batch verifier, outside the
    /// pool's lock, then handed back to the pool.
    async fn pool_insert(&self, vote: Vote) -> Result<Vec<PoolEvent>, VoteRejection> {
        let Inserted { mut events, mut claim } = self.lock_pool().insert_deferred(vote, now_ms())?;
        while let Some(c) = claim.take() {
            let outcome = self.verifier.verify(c.check().clone()).await;
            let more = self.lock_pool().complete(c, outcome, now_ms());
            events.extend(more.events);
            claim = more.claim;
        }
        Ok(events)
    }

    fn lock_pool(&self) -> std::sync::MutexGuard<'_, AggregationPool> {
        self.pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn ticker(self: Arc<Self>) {
        let mut interval = tokio::time::interval(Duration::from_millis(50));
        loop {
            interval.tick().await;
            let events = {
                let mut pool = self.pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                pool.tick(now_ms())
            };
            if !events.is_empty() {
                self.handle(events).await;
            }
        }
    }

    async fn handle(&self, events: Vec<PoolEvent>) {
        for event in events {
            match event {
                PoolEvent::Decided { tx_hash, decision: Decision::Certified(cert), .. } => {
                    let cert = cert.into_inner();
                    self.on_certificate(cert, true).await;
                    let _ = tx_hash;
                }
                PoolEvent::Decided { tx_hash, decision: Decision::Quarantined(reason), .. } => {
                    let record = QuarantineRecord {
                        tx_hash,
                        reason: reason.to_string(),
                        since_ms: now_ms(),
                        block_number: self.view().head().number + 1,
                        review: Review::default(),
                    };
                    self.lock_inflight().decided(&tx_hash, Instant::now());
                    match blocking(|| self.store.quarantine(&record)) {
                        Ok(()) => {
                            self.metrics.quarantined.inc();
                            tracing::warn!(tx = %tx_hash, reason = %record.reason, "quarantined");
                            let _ = self.events.send(NodeEvent::Quarantine(Arc::new(record)));
                        }
                        Err(e) => tracing::error!(tx = %tx_hash, error = %e, "could not store the quarantine"),
                    }
                }
                PoolEvent::Equivocation(evidence) => {
                    let evidence = evidence.evidence().clone();
                    tracing::warn!(signer = evidence.clean().signer, tx = %evidence.clean().tx_hash, "equivocation");
                    self.metrics.equivocations.inc();
                    if let Err(e) = self.net.publish(Topic::Evidence, evidence.encode()).await {
                        tracing::debug!(error = %e, "evidence not gossiped");
                    }
                }
                PoolEvent::BadVote { signer, tx_hash } => {
                    tracing::warn!(signer, tx = %tx_hash, "a relayed vote failed verification");
                }
                PoolEvent::Evicted { tx_hash, .. } => {
                    tracing::warn!(tx = %tx_hash, "pool full: oldest transaction evicted");
                }
            }
        }
    }

    /// A verified certificate: stored; gossiped when this node formed it;
    /// pushed to the sequencers by the node whose turn it is.
    async fn on_certificate(&self, cert: Certificate, formed_here: bool) {
        let hash = cert.tx_hash;
        match self.store.certificate(hash) {
            Ok(Some(_)) => return,
            Ok(None) => {}
            Err(e) => {
                tracing::error!(tx = %hash, error = %e, "store read failed");
                return;
            }
        }
        if let Err(e) = blocking(|| self.store.put_certificate(&cert)) {
            tracing::error!(tx = %hash, error = %e, "could not store the certificate");
            return;
        }
        self.metrics.certificates.with_label_values(&[if formed_here { "formed" } else { "received" }]).inc();
        tracing::debug!(tx = %hash, signers = cert.signers.count(), formed_here, "certificate");
        if let Ok(Some(tx)) = self.store.tx(hash) {
            let waited = now_ms().saturating_sub(tx.received_ms);
            self.metrics.stage_seconds.with_label_values(&["certify"]).observe(waited as f64 / 1000.0);
        }
        self.lock_inflight().decided(&hash, Instant::now());
        let _ = self.events.send(NodeEvent::Certificate(Arc::new(cert.clone())));
        // One node gossips the certificate and pushes it to the sequencers
        // at once: the member the hash designates. Every member forms its
        // own from the votes, so copies from all of them would only cost
        // each peer a signature check and, often, a pairing. The others, in turn, a
        // little later and only if the chain has not moved past the
        // transaction's nonce (a stopped node does not strand it; a running
        // one costs no extra message).
        let stored = blocking(|| self.store.tx(hash)).ok().flatten();
        let rank = self.turn(hash);
        let gossip = formed_here.then(|| cert.encode());
        if rank == 0 {
            if let Some(bytes) = gossip.clone() {
                self.publish_certificate(hash, bytes).await;
            }
        }
        if rank > 0 && gossip.is_none() && self.config.sequencers.is_empty() {
            return;
        }
        // The sequencer gets the certificate, then the transaction itself (a
        // wallet may have sent it to an inspector only). A fallback pusher
        // asks each sequencer first whether it still lacks them.
        let delay = Duration::from_millis(1500 * u64::from(rank));
        let cert_body = serde_json::json!({
            "jsonrpc": "2.0", "id": 1, "method": "vigil_submitCertificate", "params": [cert],
        });
        let sender_nonce = stored.as_ref().map(|t| (t.sender, t.nonce));
        let tx_body = stored.map(|tx| {
            serde_json::json!({
                "jsonrpc": "2.0", "id": 2, "method": "eth_sendRawTransaction",
                "params": [format!("0x{}", alloy_primitives::hex::encode(&tx.raw))],
            })
        });
        let Some(me) = self.this.upgrade() else { return };
        tokio::spawn(async move {
            if rank > 0 {
                tokio::time::sleep(delay).await;
                let included = sender_nonce.is_some_and(|(sender, nonce)| {
                    blocking(|| me.view().nonce_and_balance(sender)).is_ok_and(|(next, _)| next > nonce)
                });
                if included {
                    return;
                }
                if let Some(bytes) = gossip {
                    me.publish_certificate(hash, bytes).await;
                }
            }
            // Each sequencer on its own task: one that is down and retried
            // does not hold up the others.
            for url in me.config.sequencers.clone() {
                let (http, cert_body, tx_body) = (me.http.clone(), cert_body.clone(), tx_body.clone());
                tokio::spawn(async move {
                    if rank > 0 && !sequencer_lacks(&http, &url, hash).await {
                        return;
                    }
                    if push(&http, &url, &cert_body).await {
                        if let Some(body) = tx_body {
                            push(&http, &url, &body).await;
                        }
                    }
                });
            }
        });
    }

    /// This node's turn to gossip and push the certificate of `hash`: 0 for
    /// the member the hash designates, then the other members in index
    /// order after it; a node outside the committee comes after every
    /// member. (Not the node a client sent the transaction to: the gate
    /// relays every transaction to every inspector.)
    fn turn(&self, hash: B256) -> u32 {
        let state = self.epoch_state();
        let n = state.committee.len().max(1) as u32;
        let designated = (u64::from_be_bytes(hash[24..32].try_into().unwrap_or_default()) % u64::from(n)) as u32;
        state.index.map_or(n, |i| (i + n - designated) % n)
    }

    async fn publish_certificate(&self, hash: B256, bytes: Vec<u8>) {
        if let Err(e) = self.net.publish(Topic::Cert, bytes).await {
            tracing::debug!(tx = %hash, error = %e, "certificate not gossiped");
        }
    }

    /// Validates one gossip message and acts on it; the answer tells
    /// gossipsub whether to forward it and how to score its sender.
    pub async fn on_gossip(&self, msg: &Inbound) -> Validation {
        if msg.data.len() > msg.topic.max_message_size() {
            self.metrics.gossip.with_label_values(&[topic_label(msg.topic), "oversized"]).inc();
            return Validation::Reject;
        }
        let (validation, label) = match msg.topic {
            Topic::Tx => match TxAnnouncement::decode(&msg.data) {
                Err(_) => (Validation::Reject, "malformed"),
                Ok(a) => match self.submit(&a.raw, TxSource::Gossip).await {
                    Ok(_) => (Validation::Accept, "accepted"),
                    Err(e) if e.is_peer_fault() => (Validation::Reject, "invalid"),
                    Err(_) => (Validation::Ignore, "ignored"),
                },
            },
            Topic::Vote => match Vote::decode(&msg.data) {
                Err(_) => (Validation::Reject, "malformed"),
                Ok(vote) => self.on_vote(vote).await,
            },
            Topic::Cert => match Certificate::decode(&msg.data) {
                Err(_) => (Validation::Reject, "malformed"),
                // Certified here already, or a certificate stored: no
                // pairing spent, nothing to forward.
                Ok(cert)
                    if matches!(self.lock_pool().decision(cert.epoch, &cert.tx_hash), Some(Decision::Certified(_)))
                        || matches!(blocking(|| self.store.certificate(cert.tx_hash)), Ok(Some(_))) =>
                {
                    (Validation::Ignore, "known")
                }
                Ok(cert) => {
                    // Verified against its own epoch's committee (the
                    // current or the previous one); another epoch's is not
                    // checkable here, which is no fault of the peer.
                    let Some(committee) = self.epoch_state().committee_of(cert.epoch).cloned() else {
                        self.metrics.gossip.with_label_values(&[topic_label(msg.topic), "other_epoch"]).inc();
                        return Validation::Ignore;
                    };
                    let verified = match prepare_certificate(&committee, &cert) {
                        Ok(pending) => {
                            let outcome = self.verifier.verify(pending.check().clone()).await;
                            pending.complete(outcome)
                        }
                        Err(e) => Err(e),
                    };
                    match verified {
                        Ok(verified) => {
                            // The pool need not verify this transaction's
                            // votes again.
                            self.lock_pool().record_certificate(verified, now_ms());
                            self.on_certificate(cert, false).await;
                            (Validation::Accept, "accepted")
                        }
                        Err(_) => (Validation::Reject, "invalid"),
                    }
                }
            },
            Topic::Evidence => match EquivocationEvidence::decode(&msg.data) {
                Err(_) => (Validation::Reject, "malformed"),
                Ok(evidence) => match self.epoch_state().committee_of(evidence.clean().epoch).cloned() {
                    None => (Validation::Ignore, "other_epoch"),
                    Some(committee) => match verify_evidence(&committee, &evidence) {
                        Ok(_) => (Validation::Accept, "accepted"),
                        Err(_) => (Validation::Reject, "invalid"),
                    },
                },
            },
        };
        self.metrics.gossip.with_label_values(&[topic_label(msg.topic), label]).inc();
        validation
    }

    async fn on_vote(&self, vote: Vote) -> (Validation, &'static str) {
        let state = self.epoch_state();
        if state.index == Some(vote.signer) && vote.epoch == state.committee.epoch() {
            // Our own vote echoed back (or a copy claiming to be it): the
            // pool has ours already.
            return (Validation::Ignore, "own");
        }
        // The pool checks chain, epoch, membership and the signature's
        // encoding before it spends a pairing on the vote.
        let result = self.pool_insert(vote.clone()).await;
        match result {
            Ok(events) => {
                if let Err(e) = blocking(|| self.store.put_vote(&vote)) {
                    tracing::error!(error = %e, "could not store a vote");
                }
                self.metrics.votes_seen.inc();
                tracing::debug!(tx = %vote.tx_hash, signer = vote.signer, "peer vote");
                self.handle(events).await;
                (Validation::Accept, "accepted")
            }
            Err(VoteRejection::Duplicate { .. }) => (Validation::Ignore, "duplicate"),
            Err(VoteRejection::EpochOutsideWindow { .. }) => (Validation::Ignore, "other_epoch"),
            Err(_) => (Validation::Reject, "invalid"),
        }
    }

    /// Reads gossip until the network stops, validating every message.
    pub async fn run_gossip(self: Arc<Self>, mut events: mpsc::Receiver<NetEvent>) {
        while let Some(event) = events.recv().await {
            match event {
                NetEvent::Message(msg) => {
                    let me = self.clone();
                    tokio::spawn(async move {
                        let v = me.on_gossip(&msg).await;
                        me.net.report(&msg.id, &msg.source, v);
                    });
                }
                NetEvent::PeerConnected(peer) => {
                    tracing::info!(%peer, "peer connected");
                    self.metrics.peers.inc();
                }
                NetEvent::PeerDisconnected(peer) => {
                    tracing::info!(%peer, "peer disconnected");
                    self.metrics.peers.dec();
                }
                NetEvent::PeerBanned { peer, score } => {
                    tracing::warn!(%peer, score, "peer banned for invalid gossip");
                    self.metrics.banned.inc();
                }
            }
        }
    }
}

/// Runs a store call (which may wait for a disk sync) without stalling the
/// async executor's other tasks.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

/// Whether the sequencer at `url` still needs the certificate or the
/// transaction `hash` (unknown to it, or held without a certificate).
async fn sequencer_lacks(http: &reqwest::Client, url: &str, hash: B256) -> bool {
    let body = serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": "vigil_getTxStatus", "params": [hash] });
    let Ok(r) = http.post(url).json(&body).send().await else { return true };
    let Ok(v) = r.json::<serde_json::Value>().await else { return true };
    match v["result"]["status"].as_str() {
        None => true,
        Some(status) => matches!(status, "pending" | "awaiting_transaction"),
    }
}

/// Posts a JSON-RPC call, retrying transport failures with backoff;
/// whether the endpoint answered (an error answer counts: it was heard).
async fn push(http: &reqwest::Client, url: &str, body: &serde_json::Value) -> bool {
    for attempt in 0..5u32 {
        match http.post(url).json(body).send().await {
            Ok(r) => {
                if let Ok(v) = r.json::<serde_json::Value>().await {
                    if let Some(e) = v.get("error") {
                        tracing::debug!(%url, error = %e, method = %body["method"], "sequencer refused");
                    }
                }
                return true;
            }
            Err(e) => tracing::warn!(%url, error = %e, attempt, "push to the sequencer failed"),
        }
        tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
    }
    false
}

fn source_label(s: TxSource) -> &'static str {
    match s {
        TxSource::Rpc => "rpc",
        TxSource::Gossip => "gossip",
    }
}

fn topic_label(t: Topic) -> &'static str {
    match t {
        Topic::Tx => "tx",
        Topic::Vote => "vote",
        Topic::Cert => "cert",
        Topic::Evidence => "evidence",
    }
}

/// What a verdict keeps of the trace.
fn summarize(tx: &Transaction, outcome: &vigil_sim::SimOutcome) -> TraceSummary {
    let trace = &outcome.trace;
    let mut touched: Vec<Address> = trace.frames.iter().map(|f| f.callee).collect();
    let created: Vec<Address> = trace.creations().filter(|f| !f.reverted).map(|f| f.callee).collect();
    touched.sort();
    touched.dedup();
    let to = {
        use alloy_consensus::Transaction as _;
        tx.envelope().to()
    };
    TraceSummary {
        to,
        touched,
        calls: trace.frames.len() as u32,
        logs: trace.logs.len() as u32,
        gas_used: outcome.result.gas_used(),
        success: outcome.result.is_success(),
        revert_reason: match &outcome.result {
            ExecResult::Revert { .. } => outcome.result.revert_reason().or(Some("reverted".into())),
            ExecResult::Halt { reason, .. } => Some(format!("halted: {reason:?}")),
            ExecResult::BudgetExceeded { kind, .. } => Some(format!("stopped by the {kind:?} budget")),
            ExecResult::Success { .. } => None,
        },
        created,
    }
}

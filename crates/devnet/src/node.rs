//! The running devnet: chain, pool, admission, block production, and the
//! events the RPC's subscriptions read.
//!
//! Lock order: `chain` before `pool`. Nothing holds a lock across an
//! `.await`.

use std::{
    collections::{HashMap, VecDeque},
    path::PathBuf,
    sync::{Arc, Mutex, RwLock},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use alloy_consensus::Transaction as _;
use alloy_primitives::B256;
use tokio::sync::{broadcast, Notify};
use vigil_consensus::{batch_inclusions, Admission, AdmissionError, VerifiedCommittee, VerifiedRoots};
use vigil_crypto::verify_release;
use vigil_crypto::BatchVerifier;
use vigil_fixture::Genesis;
use vigil_sim::plausible::ChainFacts;
use vigil_store::{Batch, Store, StoreError};
use vigil_types::{tx::Transaction, Attestation, BatchPush, Committee, OperatorRelease, VoteKind};

use crate::{
    chain::{Chain, ChainError, Dropped, StoredBlock, StoredReceipt},
    pool::{Inserted, Pool, PoolError, PoolLimits},
    store::{cf, decode_json, encode_json},
};

/// Whether the devnet demands certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdmissionMode {
    /// Include a transaction only with a valid clean certificate of the
    /// current committee (the default; what Vigil is for).
    Certified,
    /// Include every valid transaction: plain development without
    /// inspectors. Logged loudly at start.
    Open,
}

/// Everything `vigil devnet run` configures.
#[derive(Debug, Clone)]
pub struct DevnetConfig {
    /// Genesis (the fixture format's `chain_id`, `fork`, `genesis`, `alloc`).
    pub genesis: Genesis,
    /// Committees of the epochs the devnet accepts (the highest epoch is
    /// current). May be empty only in open mode.
    pub committees: Vec<Committee>,
    /// RocksDB directory.
    pub data_dir: PathBuf,
    /// Interval between blocks (a block is sealed only when it has
    /// transactions, unless `empty_blocks`).
    pub block_time: Duration,
    /// Seal empty blocks too.
    pub empty_blocks: bool,
    /// Certified or open admission.
    pub admission: AdmissionMode,
    /// Pool limits.
    pub pool: PoolLimits,
    /// Inspector RPC endpoints every accepted transaction is relayed to.
    pub inspectors: Vec<String>,
    /// Operator keys (ed25519) whose signed releases admit a quarantined
    /// transaction without a certificate (DESIGN §7); none: no override.
    pub operator_keys: Vec<B256>,
}

/// Why a transaction or certificate is refused, or a query fails.
#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    /// Bytes that are not a transaction Vigil accepts.
    #[error("invalid transaction: {0}")]
    Decode(String),
    /// Transaction for another chain, or without replay protection.
    #[error("{0}")]
    WrongChain(String),
    /// The pool refused it.
    #[error(transparent)]
    Pool(#[from] PoolError),
    /// Fails a stateless or state check (funds, gas, fee).
    #[error("{0}")]
    Invalid(String),
    /// The certificate does not admit anything.
    #[error(transparent)]
    Certificate(#[from] AdmissionError),
    /// An operator release this devnet does not accept.
    #[error("{0}")]
    Release(String),
    /// Storage failure: nothing was acknowledged.
    #[error("storage failure, nothing was accepted: {0}")]
    Store(#[from] StoreError),
    /// Chain failure.
    #[error(transparent)]
    Chain(#[from] ChainError),
}

/// A committed block, for subscribers.
#[derive(Debug, Clone)]
pub struct BlockEvent {
    /// The block.
    pub block: StoredBlock,
    /// Its receipts, in order.
    pub receipts: Vec<(B256, StoredReceipt)>,
}

/// Where a transaction the devnet knows stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxStatus {
    /// Pooled, waiting for its certificate.
    Pending,
    /// Pooled with a valid certificate, waiting for its block (or for
    /// lower nonces).
    Certified,
    /// In a block.
    Included {
        /// Block number.
        block_number: u64,
    },
    /// Dropped by the block builder (invalid on the state by then).
    Rejected {
        /// Why.
        reason: String,
    },
}

/// Pool-wide counters for metrics and `vigil_devnetInfo`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counters {
    /// Transactions accepted into the pool.
    pub accepted: u64,
    /// Transactions refused at submission.
    pub refused: u64,
    /// Certificates accepted.
    pub certificates: u64,
    /// Certificates refused.
    pub certificates_refused: u64,
    /// Transactions included.
    pub included: u64,
    /// Transactions dropped by the block builder.
    pub dropped: u64,
}

/// How many dropped-transaction reasons are remembered.
const DROPPED_MEMORY: usize = 10_000;

/// The devnet.
#[derive(Debug)]
pub struct Devnet {
    chain: RwLock<Chain>,
    pool: Mutex<Pool>,
    admission: RwLock<Admission>,
    mode: AdmissionMode,
    store: Arc<Store>,
    config: DevnetConfig,
    blocks: broadcast::Sender<Arc<BlockEvent>>,
    mine: Notify,
    dropped: Mutex<(HashMap<B256, String>, VecDeque<B256>)>,
    counters: Mutex<Counters>,
    relay: Option<tokio::sync::mpsc::Sender<alloy_primitives::Bytes>>,
    /// Certificate pairings, batched across requests on one thread.
    verifier: BatchVerifier,
    /// Batch certificates verified, by epoch and root (DESIGN §4b).
    roots: Mutex<VerifiedRoots>,
}

/// Verified batch certificates the devnet remembers by root.
const ROOTS_CACHED: usize = 4096;

/// Whether `cert` admits its transaction: a clean certificate, or a clean
/// inclusion proof (its batch looked up in `roots` first).
fn admit(admission: &Admission, cert: &Attestation, roots: &mut VerifiedRoots) -> Result<(), AdmissionError> {
    match cert {
        Attestation::Certificate(c) => admission.admit(c.tx_hash, c).map(|_| ()),
        Attestation::Inclusion(p) => admission.admit_inclusion(p.tx_hash, p, roots).map(|_| ()),
    }
}

fn first_status(statuses: Vec<TxStatus>) -> TxStatus {
    statuses.into_iter().next().unwrap_or(TxStatus::Pending)
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl Devnet {
    /// Opens the chain in `config.data_dir` (continuing from the last
    /// committed block), reloads the acknowledged pool and certificates.
    /// Call from inside a tokio runtime (the relay task is spawned).
    pub fn open(config: DevnetConfig) -> Result<Arc<Self>, DevnetError> {
        let chain_id = config.genesis.chain_id;
        let mut admission = Admission::new(chain_id);
        for c in &config.committees {
            admission
                .insert_committee(c.clone())
                .map_err(|e| DevnetError::Invalid(format!("committee of epoch {}: {e}", c.epoch)))?;
        }
        if config.admission == AdmissionMode::Certified && config.committees.is_empty() {
            return Err(DevnetError::Invalid("certified admission needs a committee (--committee FILE)".into()));
        }
        let store = Arc::new(Store::open(&config.data_dir, cf::ALL)?);
        let chain = Chain::open(store.clone(), config.genesis.clone())?;
        let (blocks, _) = broadcast::channel(1024);
        let relay = if config.inspectors.is_empty() { None } else { Some(spawn_relay(config.inspectors.clone())) };
        let devnet = Self {
            chain: RwLock::new(chain),
            pool: Mutex::new(Pool::new(config.pool)),
            admission: RwLock::new(admission),
            mode: config.admission,
            store,
            config,
            blocks,
            mine: Notify::new(),
            dropped: Mutex::new((HashMap::new(), VecDeque::new())),
            counters: Mutex::new(Counters::default()),
            relay,
            verifier: BatchVerifier::start("devnet-verifier", 64, 4096),
            roots: Mutex::new(VerifiedRoots::new(ROOTS_CACHED)),
        };
        devnet.reload()?;
        Ok(Arc::new(devnet))
    }

    /// Puts the acknowledged pool and certificates back in memory.
    fn reload(&self) -> Result<(), DevnetError> {
        let chain = read(&self.chain);
        let mut pool = lock(&self.pool);
        let mut stale = Batch::new();
        let admission = read(&self.admission);
        self.store.for_each(cf::CERTS, |k, v| {
            let cert: Attestation = decode_json(cf::CERTS, v)?;
            // A certificate of an epoch no longer accepted is dropped.
            if admit(&admission, &cert, &mut lock(&self.roots)).is_ok() {
                pool.attach(cert);
            } else {
                stale.delete(cf::CERTS, k.to_vec());
            }
            Ok(())
        })?;
        self.store.for_each(cf::RELEASES, |k, v| {
            let release: OperatorRelease = decode_json(cf::RELEASES, v)?;
            // A release by a key no longer configured is dropped.
            if verify_release(&release, self.chain_id(), &self.config.operator_keys).is_ok() {
                pool.release(release.tx_hash);
            } else {
                stale.delete(cf::RELEASES, k.to_vec());
            }
            Ok(())
        })?;
        let mut raws = Vec::new();
        self.store.for_each(cf::POOL, |k, v| {
            raws.push((k.to_vec(), v.to_vec()));
            Ok(())
        })?;
        for (k, raw) in raws {
            let keep = Transaction::decode(&raw).ok().filter(|tx| {
                let next = chain.state().nonce(tx.sender());
                pool.insert(tx.clone(), next, now_ms()).is_ok()
            });
            if keep.is_none() {
                stale.delete(cf::POOL, k);
            }
        }
        drop((pool, chain, admission));
        if !stale.is_empty() {
            self.store.write(stale)?;
        }
        Ok(())
    }

    /// Chain id.
    pub fn chain_id(&self) -> u64 {
        self.config.genesis.chain_id
    }

    /// The configuration.
    pub fn config(&self) -> &DevnetConfig {
        &self.config
    }

    /// Admission mode.
    pub fn mode(&self) -> AdmissionMode {
        self.mode
    }

    /// Read access to the chain.
    pub fn chain(&self) -> std::sync::RwLockReadGuard<'_, Chain> {
        read(&self.chain)
    }

    /// Read access to the pool.
    pub fn pool(&self) -> std::sync::MutexGuard<'_, Pool> {
        lock(&self.pool)
    }

    /// The admission check.
    pub fn admission(&self) -> std::sync::RwLockReadGuard<'_, Admission> {
        read(&self.admission)
    }

    /// Moves admission to a newer epoch's committee (the registry watcher
    /// of `vigil devnet run --registry.*` calls it): certificates of that
    /// epoch and the one before are accepted from now on, older ones
    /// refused (DESIGN §3). Certificates already attached to pooled
    /// transactions stay attached. Returns whether the epoch moved.
    pub fn set_committee(&self, committee: Arc<VerifiedCommittee>) -> Result<bool, DevnetError> {
        let mut admission = write(&self.admission);
        if committee.chain_id() != admission.chain_id() {
            return Err(DevnetError::Invalid(format!(
                "the committee of epoch {} serves chain {}, this devnet is chain {}",
                committee.epoch(),
                committee.chain_id(),
                admission.chain_id()
            )));
        }
        let epoch = committee.epoch();
        if epoch <= admission.current_epoch() && admission.current_committee().is_some() {
            return Ok(false);
        }
        admission.insert_verified(committee);
        admission.set_current_epoch(epoch);
        Ok(true)
    }

    /// Counters.
    pub fn counters(&self) -> Counters {
        *lock(&self.counters)
    }

    /// New blocks, as they are committed.
    pub fn subscribe_blocks(&self) -> broadcast::Receiver<Arc<BlockEvent>> {
        self.blocks.subscribe()
    }

    /// Validates a raw transaction and, if it passes, acknowledges it: it
    /// is in the store (synced) when this returns its hash.
    pub fn submit_transaction(&self, raw: &[u8]) -> Result<B256, DevnetError> {
        let result = self.submit_inner(raw);
        let mut c = lock(&self.counters);
        match &result {
            Ok(_) => c.accepted += 1,
            Err(_) => c.refused += 1,
        }
        result
    }

    fn submit_inner(&self, raw: &[u8]) -> Result<B256, DevnetError> {
        let tx = Transaction::decode(raw).map_err(|e| DevnetError::Decode(e.to_string()))?;
        let hash = tx.hash();
        match tx.chain_id() {
            None => {
                return Err(DevnetError::WrongChain(
                    "only replay-protected (EIP-155) transactions are accepted: sign with the chain id".into(),
                ))
            }
            Some(id) if id != self.chain_id() => {
                return Err(DevnetError::WrongChain(format!(
                    "invalid chain id: transaction is for chain {id}, this devnet is chain {}",
                    self.chain_id()
                )))
            }
            Some(_) => {}
        }
        let (inserted, replaced_cert) = {
            let chain = read(&self.chain);
            if self.store.get(cf::TXS, hash.as_slice())?.is_some() {
                return Ok(hash);
            }
            check_against_state(&chain, &tx)?;
            let next = chain.state().nonce(tx.sender());
            let mut pool = lock(&self.pool);
            let inserted = pool.insert(tx.clone(), next, now_ms())?;
            (inserted, pool.get(&hash).and_then(|e| e.certificate.is_some().then_some(())))
        };
        if inserted != Inserted::Known {
            let mut batch = Batch::new();
            batch.put(cf::POOL, hash.to_vec(), raw.to_vec());
            if let Inserted::Replaced(old) = inserted {
                batch.delete(cf::POOL, old.to_vec());
                batch.delete(cf::CERTS, old.to_vec());
            }
            if let Err(e) = self.store.write(batch) {
                lock(&self.pool).remove(&hash);
                return Err(e.into());
            }
            if let Some(relay) = &self.relay {
                // Best effort: a full relay queue does not refuse the transaction.
                let _ = relay.try_send(tx.raw().clone());
            }
        }
        if replaced_cert.is_some() || self.mode == AdmissionMode::Open {
            self.mine.notify_one();
        }
        Ok(hash)
    }

    /// Verifies a certificate or an inclusion proof and acknowledges it
    /// (stored, synced). It may arrive before or after its transaction.
    pub fn submit_certificate(&self, cert: impl Into<Attestation>) -> Result<TxStatus, DevnetError> {
        let cert = cert.into();
        let result = admit(&read(&self.admission), &cert, &mut lock(&self.roots)).map_err(DevnetError::from);
        self.count_certificate(result.and_then(|_| self.acknowledge_certificates(vec![cert]).map(first_status)))
    }

    /// [`Self::submit_certificate`], with a certificate's pairing done on
    /// the devnet's verifier thread, batched with other requests'
    /// certificates (an inclusion proof of a batch verified before costs a
    /// path check).
    pub async fn submit_certificate_batched(self: &Arc<Self>, cert: Attestation) -> Result<TxStatus, DevnetError> {
        // This very certificate verified and kept already (resent by a
        // fallback pusher, or replayed): no pairing spent on it.
        if lock(&self.pool).certificate(&cert.tx_hash()) == Some(&cert) {
            if let Some(status) = self.status(&cert.tx_hash())? {
                return self.count_certificate(Ok(status));
            }
        }
        let verified = match &cert {
            Attestation::Certificate(c) => {
                let prepared = read(&self.admission).prepare(c.tx_hash, c);
                match prepared {
                    Ok(pending) => {
                        let outcome = self.verifier.verify(pending.check().clone()).await;
                        pending.complete(outcome).map(|_| ()).map_err(|e| DevnetError::from(AdmissionError::from(e)))
                    }
                    Err(e) => Err(e.into()),
                }
            }
            Attestation::Inclusion(_) => {
                let me = self.clone();
                let probe = cert.clone();
                tokio::task::spawn_blocking(move || {
                    admit(&read(&me.admission), &probe, &mut lock(&me.roots)).map(|_| ()).map_err(DevnetError::from)
                })
                .await
                .unwrap_or_else(|e| Err(DevnetError::Invalid(format!("certificate task failed: {e}"))))
            }
        };
        let result = match verified {
            // The acknowledgement is a synced write: off the executor.
            Ok(()) => {
                let me = self.clone();
                tokio::task::spawn_blocking(move || me.acknowledge_certificates(vec![cert]).map(first_status))
                    .await
                    .unwrap_or_else(|e| Err(DevnetError::Invalid(format!("certificate task failed: {e}"))))
            }
            Err(e) => Err(e),
        };
        self.count_certificate(result)
    }

    /// Takes a certified batch (`vigil_submitBatch`, DESIGN §4b): one
    /// check of the batch certificate, then each clean transaction is
    /// pooled (as `eth_sendRawTransaction` would) and its inclusion proof
    /// acknowledged, all proofs in one synced write. Malicious leaves admit
    /// nothing here. One status (or refusal) per transaction, in order.
    pub fn submit_batch(&self, push: &BatchPush) -> Result<Vec<Result<TxStatus, DevnetError>>, DevnetError> {
        let (txs, tree) = push.decode().map_err(|e| DevnetError::Invalid(e.to_string()))?;
        let checked = read(&self.admission).check_batch(&push.certificate, &mut lock(&self.roots));
        let verified = match checked {
            Ok(v) => v,
            Err(e) => {
                lock(&self.counters).certificates_refused += 1;
                return Err(e.into());
            }
        };
        let proofs = batch_inclusions(&verified, &tree).map_err(|e| DevnetError::from(AdmissionError::from(e)))?;
        let mut clean = Vec::new();
        let mut results = Vec::with_capacity(txs.len());
        for (tx, proof) in txs.iter().zip(proofs) {
            if proof.kind() != VoteKind::Clean {
                results.push(Err(DevnetError::from(AdmissionError::from(
                    vigil_consensus::CertificateError::NotClean(proof.kind()),
                ))));
                continue;
            }
            results.push(self.submit_transaction(tx.raw()).map(|_| TxStatus::Pending));
            clean.push((results.len() - 1, Attestation::from(proof.proof().clone())));
        }
        let statuses = self.acknowledge_certificates(clean.iter().map(|(_, a)| a.clone()).collect())?;
        lock(&self.counters).certificates += statuses.len() as u64;
        for ((i, _), status) in clean.into_iter().zip(statuses) {
            if results[i].is_ok() {
                results[i] = Ok(status);
            }
        }
        Ok(results)
    }

    fn count_certificate(&self, result: Result<TxStatus, DevnetError>) -> Result<TxStatus, DevnetError> {
        let mut c = lock(&self.counters);
        match &result {
            Ok(_) => c.certificates += 1,
            Err(_) => c.certificates_refused += 1,
        }
        result
    }

    /// Stores verified certificates (one synced write) and attaches each to
    /// its transaction; each one's status after.
    fn acknowledge_certificates(&self, certs: Vec<Attestation>) -> Result<Vec<TxStatus>, DevnetError> {
        let mut statuses = vec![TxStatus::Pending; certs.len()];
        let mut batch = Batch::new();
        let mut fresh = Vec::new();
        for (i, cert) in certs.into_iter().enumerate() {
            let hash = cert.tx_hash();
            if let Some(status @ TxStatus::Included { .. }) = self.status(&hash)? {
                statuses[i] = status;
                continue;
            }
            batch.put(cf::CERTS, hash.to_vec(), encode_json(&cert));
            fresh.push((i, cert));
        }
        if fresh.is_empty() {
            return Ok(statuses);
        }
        self.store.write(batch)?;
        let mut pool = lock(&self.pool);
        let mut pooled_any = false;
        for (i, cert) in fresh {
            if pool.attach(cert) {
                pooled_any = true;
                statuses[i] = TxStatus::Certified;
            }
        }
        drop(pool);
        if pooled_any {
            self.mine.notify_one();
        }
        Ok(statuses)
    }

    /// An operator's signed release (DESIGN §7): checked against
    /// `operator_keys`, stored (synced), and its transaction admitted
    /// without a certificate, now or when it arrives.
    pub fn submit_release(&self, release: &OperatorRelease) -> Result<TxStatus, DevnetError> {
        if self.config.operator_keys.is_empty() {
            return Err(DevnetError::Release(
                "operator releases are disabled on this devnet (no --operator-key)".into(),
            ));
        }
        verify_release(release, self.chain_id(), &self.config.operator_keys)
            .map_err(|e| DevnetError::Release(e.to_string()))?;
        let hash = release.tx_hash;
        if let Some(status @ TxStatus::Included { .. }) = self.status(&hash)? {
            return Ok(status);
        }
        let mut batch = Batch::new();
        batch.put(cf::RELEASES, hash.to_vec(), encode_json(release));
        self.store.write(batch)?;
        let pooled = lock(&self.pool).release(hash);
        tracing::warn!(%hash, operator = %release.operator, "transaction released by an operator");
        if pooled {
            self.mine.notify_one();
            return Ok(TxStatus::Certified);
        }
        Ok(TxStatus::Pending)
    }

    /// Where `hash` stands; `None` if the devnet never acknowledged it.
    pub fn status(&self, hash: &B256) -> Result<Option<TxStatus>, DevnetError> {
        if let Some(v) = self.store.get(cf::TXS, hash.as_slice())? {
            let stored: crate::chain::StoredTx = decode_json(cf::TXS, &v)?;
            return Ok(Some(TxStatus::Included { block_number: stored.block_number }));
        }
        let pooled = {
            let pool = lock(&self.pool);
            pool.get(hash).map(|_| pool.admitted(hash))
        };
        if let Some(admitted) = pooled {
            return Ok(Some(if admitted || self.mode == AdmissionMode::Open {
                TxStatus::Certified
            } else {
                TxStatus::Pending
            }));
        }
        Ok(lock(&self.dropped).0.get(hash).map(|r| TxStatus::Rejected { reason: r.clone() }))
    }

    /// Asks the producer to seal a block now (`evm_mine`).
    pub fn mine_now(&self) -> Result<Option<StoredBlock>, DevnetError> {
        self.produce(true)
    }

    /// Seals one block from the pool's executable transactions, if there
    /// are any (or always when `force`).
    pub fn produce(&self, force: bool) -> Result<Option<StoredBlock>, DevnetError> {
        let need_certificate = self.mode == AdmissionMode::Certified;
        let mut chain = write(&self.chain);
        let base_fee = chain.next_base_fee();
        let gas_limit = chain.head().header.gas_limit;
        let candidates = {
            let pool = lock(&self.pool);
            let state = chain.state();
            // Enough candidates to fill the block with the cheapest transfers.
            let max = (gas_limit / 21_000) as usize;
            pool.candidates(need_certificate, base_fee, |a| state.nonce(a), max)
        };
        if candidates.is_empty() && !(force || self.config.empty_blocks) {
            return Ok(None);
        }
        let built = chain.build_block(&candidates, now_ms() / 1000, |included, dropped, batch| {
            for hash in included.iter().chain(dropped.iter().map(|d| &d.hash)) {
                batch.delete(cf::POOL, hash.to_vec());
                batch.delete(cf::CERTS, hash.to_vec());
                batch.delete(cf::RELEASES, hash.to_vec());
            }
        })?;
        let mut pool = lock(&self.pool);
        for hash in &built.block.transactions {
            pool.remove(hash);
        }
        for Dropped { hash, reason } in &built.dropped {
            pool.remove(hash);
            tracing::info!(%hash, %reason, "dropped a transaction invalid on the state");
            let mut d = lock(&self.dropped);
            d.0.insert(*hash, reason.clone());
            d.1.push_back(*hash);
            if d.1.len() > DROPPED_MEMORY {
                if let Some(old) = d.1.pop_front() {
                    d.0.remove(&old);
                }
            }
        }
        let state = chain.state();
        let stale = pool.prune(|a| state.nonce(a));
        drop(pool);
        if !stale.is_empty() {
            let mut batch = Batch::new();
            for h in stale {
                batch.delete(cf::POOL, h.to_vec());
                batch.delete(cf::CERTS, h.to_vec());
                batch.delete(cf::RELEASES, h.to_vec());
            }
            self.store.write(batch)?;
        }
        {
            let mut c = lock(&self.counters);
            c.included += built.block.transactions.len() as u64;
            c.dropped += built.dropped.len() as u64;
        }
        let block = built.block.clone();
        drop(chain);
        tracing::info!(number = block.header.number, txs = block.transactions.len(), hash = %block.hash, "sealed block");
        let _ = self.blocks.send(Arc::new(BlockEvent { block: built.block, receipts: built.receipts }));
        Ok(Some(block))
    }

    /// Seals blocks every `block_time`, and sooner when a transaction
    /// becomes executable, until `shutdown` fires.
    pub async fn run_producer(self: Arc<Self>, shutdown: Arc<Notify>) {
        let block_time = self.config.block_time;
        let mut last = tokio::time::Instant::now();
        loop {
            let deadline = last + block_time;
            tokio::select! {
                _ = shutdown.notified() => return,
                _ = tokio::time::sleep_until(deadline) => {}
                _ = self.mine.notified() => {
                    // Batch what arrives during the rest of the interval.
                    tokio::select! {
                        _ = shutdown.notified() => return,
                        _ = tokio::time::sleep_until(deadline) => {}
                    }
                }
            }
            last = tokio::time::Instant::now();
            let me = self.clone();
            match tokio::task::spawn_blocking(move || me.produce(false)).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "block production failed; retrying next interval"),
                Err(e) => tracing::error!(error = %e, "block production task panicked"),
            }
        }
    }
}

/// Stateless and state checks a node makes before pooling a transaction:
/// the fee against the next block's base fee, then what every entry point
/// checks (`vigil_sim::plausible`; the nonce gap is the pool's).
fn check_against_state(chain: &Chain, tx: &Transaction) -> Result<(), DevnetError> {
    let env = tx.envelope();
    let base_fee = chain.next_base_fee();
    if env.max_fee_per_gas() < u128::from(base_fee) {
        return Err(DevnetError::Invalid(format!(
            "max fee per gas less than block base fee: address {}, maxFeePerGas: {}, baseFee: {base_fee}",
            tx.sender(),
            env.max_fee_per_gas()
        )));
    }
    let state = chain.state();
    let facts = ChainFacts {
        next_nonce: state.nonce(tx.sender()),
        balance: state.balance(tx.sender()),
        block_gas_limit: chain.head().header.gas_limit,
    };
    vigil_sim::plausible::check(tx, &facts, None).map_err(|e| DevnetError::Invalid(e.to_string()))
}

/// Relays accepted transactions to inspectors, best effort.
fn spawn_relay(inspectors: Vec<String>) -> tokio::sync::mpsc::Sender<alloy_primitives::Bytes> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<alloy_primitives::Bytes>(10_000);
    tokio::spawn(async move {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap_or_default();
        while let Some(raw) = rx.recv().await {
            let body = serde_json::json!({
                "jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction",
                "params": [format!("0x{}", alloy_primitives::hex::encode(&raw))],
            });
            for url in &inspectors {
                if let Err(e) = client.post(url).json(&body).send().await {
                    tracing::warn!(inspector = %url, error = %e, "could not relay a transaction to an inspector");
                }
            }
        }
    });
    tx
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn lock<T>(l: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    l.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

//! The gate's state machine: every transaction it holds, its status, the
//! certificates that decide it, and the order in which certified
//! transactions may leave. Synchronous, no network, no clock (time is passed
//! in as Unix milliseconds): the HTTP layer and the forwarder drive it.
//!
//! ```text
//!            certificate(clean)              forwarded, receipt
//! pending ──────────────────────> certified ───────────────────> included
//!    │  └─ certificate(malicious) ─┐    │  upstream refuses
//!    │                             v    └────────────────────────> rejected
//!    └─ no certificate by the ──> quarantined ──release()──> released ──> included
//!       deadline                  (a clean certificate does not release)
//! ```
//!
//! Fail-open (when configured) forwards a `pending` transaction, or one
//! quarantined only for lack of a certificate, with `admitted_unchecked`
//! set; it stays `pending` until a receipt makes it `included` (or a late
//! clean certificate makes it `certified`).
//!
//! Every change is written to the [`Store`] (synced) before memory changes
//! and before the caller learns of it, so whatever the gate acknowledged
//! survives a kill. Final records (`included`, `rejected`) live in the store
//! only; memory holds the active ones.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use alloy_primitives::{Address, Bytes, B256};
use serde::{Deserialize, Serialize};
use vigil_consensus::{VerifiedAttestation, VerifiedInclusion};
use vigil_store::{Batch, Store, StoreError};
use vigil_types::{Attestation, Transaction, VoteKind};

/// Column family of transaction records, keyed by the 32-byte hash.
pub const CF_TXS: &str = "gate_txs";
/// Column family of certificates that arrived before their transaction.
pub const CF_EARLY_CERTS: &str = "gate_early_certs";
/// Column family of the gate's own bookkeeping: the court watcher's cursor
/// (key [`KEY_COURT_CURSOR`]).
pub const CF_META: &str = "gate_meta";
/// Key of the court cursor in [`CF_META`]: JSON [`CourtCursor`].
pub const KEY_COURT_CURSOR: &[u8] = b"court_cursor";
/// Every column family the gate's store uses.
pub const COLUMN_FAMILIES: &[&str] = &[CF_TXS, CF_EARLY_CERTS, CF_META];

/// How far the gate has read the quarantine court's `Released` events:
/// every block below `next_block` of the court at `court` is applied.
/// Stored in the same batch as the releases it covers, so a restart
/// neither misses nor repeats one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourtCursor {
    /// The court contract (a cursor of another court does not apply).
    pub court: Address,
    /// The first settlement-chain block not yet read.
    pub next_block: u64,
}

/// Where a transaction stands (DESIGN §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TxStatus {
    /// Received, waiting for a certificate.
    Pending,
    /// A clean certificate arrived; forwarded upstream in nonce order.
    Certified,
    /// Held: a malicious certificate, or none by the deadline.
    Quarantined,
    /// Upstream put it in a block.
    Included,
    /// Released from quarantine by the court; forwarded like a certified one.
    Released,
    /// Upstream refused it for good.
    Rejected,
}

impl TxStatus {
    /// Every status, in a fixed order (for counts).
    pub const ALL: [TxStatus; 6] = [
        TxStatus::Pending,
        TxStatus::Certified,
        TxStatus::Quarantined,
        TxStatus::Included,
        TxStatus::Released,
        TxStatus::Rejected,
    ];

    /// The name used in JSON and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            TxStatus::Pending => "pending",
            TxStatus::Certified => "certified",
            TxStatus::Quarantined => "quarantined",
            TxStatus::Included => "included",
            TxStatus::Released => "released",
            TxStatus::Rejected => "rejected",
        }
    }

    /// No transition leaves this status.
    pub fn is_final(self) -> bool {
        matches!(self, TxStatus::Included | TxStatus::Rejected)
    }
}

/// Why a transaction is quarantined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuarantineCause {
    /// No certificate arrived by the deadline.
    NoCertificate,
    /// A valid certificate says malicious.
    Malicious,
}

/// Everything the gate knows about one transaction; stored as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxRecord {
    /// Transaction hash.
    pub hash: B256,
    /// EIP-2718 bytes as the wallet sent them.
    pub raw: Bytes,
    /// Recovered sender.
    pub sender: Address,
    /// Sender nonce.
    pub nonce: u64,
    /// When the gate accepted it.
    pub received_at_ms: u64,
    /// Where it stands.
    pub status: TxStatus,
    /// The certificate or inclusion proof that decided it (clean or
    /// malicious), verified when it arrived.
    pub certificate: Option<Attestation>,
    /// Set while (or after) it was quarantined.
    pub quarantine: Option<QuarantineCause>,
    /// A sentence for people: why it is held, rejected or admitted unchecked.
    pub reason: Option<String>,
    /// When upstream accepted it.
    pub forwarded_at_ms: Option<u64>,
    /// Block that included it.
    pub block_number: Option<u64>,
    /// Forwarded by fail-open without a certificate.
    pub admitted_unchecked: bool,
}

impl TxRecord {
    fn new(tx: &Transaction, now_ms: u64) -> Self {
        Self {
            hash: tx.hash(),
            raw: tx.raw().clone(),
            sender: tx.sender(),
            nonce: tx.nonce(),
            received_at_ms: now_ms,
            status: TxStatus::Pending,
            certificate: None,
            quarantine: None,
            reason: None,
            forwarded_at_ms: None,
            block_number: None,
            admitted_unchecked: false,
        }
    }

    /// Upstream has it (or had it, for final records).
    pub fn forwarded(&self) -> bool {
        self.forwarded_at_ms.is_some()
    }

    /// Waiting in the gate: not forwarded and not final.
    pub fn held(&self) -> bool {
        !self.forwarded() && !self.status.is_final()
    }

    /// May be sent upstream once its lower nonces have gone.
    fn cleared(&self) -> bool {
        matches!(self.status, TxStatus::Certified | TxStatus::Released) || self.admitted_unchecked
    }

    fn encode(&self) -> Vec<u8> {
        // A struct of plain fields always serializes.
        serde_json::to_vec(self).unwrap_or_default()
    }

    fn decode(bytes: &[u8]) -> Result<Self, StoreError> {
        serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt { cf: CF_TXS, reason: e.to_string() })
    }

    /// This record after a verified certificate arrives, or `None` when the
    /// certificate changes nothing.
    fn with_certificate(&self, cert: &Attestation) -> Option<TxRecord> {
        let mut next = self.clone();
        match cert.kind() {
            VoteKind::Clean => match self.status {
                // Also a fail-open transaction: inspected after the fact.
                TxStatus::Pending => {
                    next.status = TxStatus::Certified;
                    next.certificate = Some(cert.clone());
                }
                // DESIGN §7: only the court releases; keep the certificate
                // as evidence for the dispute.
                TxStatus::Quarantined if self.certificate.is_none() => next.certificate = Some(cert.clone()),
                _ => return None,
            },
            VoteKind::Malicious => {
                let held_by_us = matches!(self.status, TxStatus::Pending | TxStatus::Certified)
                    || self.quarantine == Some(QuarantineCause::NoCertificate);
                if held_by_us && !self.forwarded() {
                    next.status = TxStatus::Quarantined;
                    next.quarantine = Some(QuarantineCause::Malicious);
                    next.reason = Some(format!("a certificate of epoch {} says malicious", cert.epoch()));
                    next.certificate = Some(cert.clone());
                } else if self.forwarded() && self.certificate.is_none() {
                    next.certificate = Some(cert.clone());
                    next.reason = Some(format!(
                        "admitted unchecked, then a certificate of epoch {} said malicious",
                        cert.epoch()
                    ));
                } else {
                    return None;
                }
            }
        }
        Some(next)
    }
}

/// Limits and deadlines of the ledger.
#[derive(Debug, Clone)]
pub struct LedgerConfig {
    /// Chain the gate admits for.
    pub chain_id: u64,
    /// A transaction without certificate this long after receipt is
    /// quarantined.
    pub quarantine_after_ms: u64,
    /// Fail-open delay; `None` is fail-closed.
    pub fail_open_after_ms: Option<u64>,
    /// Most transactions held at once.
    pub max_held: usize,
    /// Most certificates kept for transactions not seen yet.
    pub max_early_certificates: usize,
}

/// Why a transaction is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxRefusal {
    /// Signed for another chain.
    #[error("transaction is for chain {got}, this gate admits chain {want}")]
    WrongChain {
        /// Transaction's chain id.
        got: u64,
        /// The gate's chain.
        want: u64,
    },
    /// Pre-EIP-155 legacy transaction: replayable on any chain.
    #[error("transaction has no chain id (pre-EIP-155); sign it with chain id {want}")]
    NoChainId {
        /// The gate's chain.
        want: u64,
    },
    /// The gate holds as many transactions as it may.
    #[error("the gate holds {0} transactions, its limit; retry later")]
    Full(usize),
}

/// Answer to a new transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// Stored; `fresh` is false when the same transaction was already known.
    Accepted {
        /// Its hash.
        hash: B256,
        /// First time the gate sees it.
        fresh: bool,
        /// Its status now (a certificate may have been waiting for it).
        status: TxStatus,
    },
    /// Not accepted.
    Refused(TxRefusal),
}

/// Answer to a verified certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertificateOutcome {
    /// Applied to a known transaction (or changed nothing); its status now.
    Applied {
        /// Status after the certificate.
        status: TxStatus,
        /// The certificate changed the record.
        changed: bool,
        /// A malicious verdict on a transaction already forwarded unchecked.
        late_malicious: bool,
    },
    /// The transaction is not known yet: the certificate is kept for it.
    AwaitingTransaction,
    /// Too many certificates wait for unknown transactions.
    Full(usize),
}

/// What [`Ledger::attested_batch`] did with one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchItemOutcome {
    /// Stored or updated; its status now.
    Applied {
        /// Its hash.
        hash: B256,
        /// Status after the proof.
        status: TxStatus,
        /// First time the gate sees the transaction.
        fresh: bool,
        /// The record changed.
        changed: bool,
    },
    /// Not accepted.
    Refused {
        /// Its hash.
        hash: B256,
        /// Why.
        refusal: TxRefusal,
    },
}

/// A transaction the forwarder may send now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardJob {
    /// Its hash.
    pub hash: B256,
    /// Bytes to send.
    pub raw: Bytes,
    /// Sender.
    pub sender: Address,
    /// Nonce.
    pub nonce: u64,
}

/// What a [`Ledger::tick`] changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TickReport {
    /// Newly quarantined for lack of a certificate.
    pub quarantined: Vec<B256>,
    /// Newly admitted unchecked by fail-open.
    pub admitted_unchecked: Vec<B256>,
}

/// What a court release did to one transaction: `Ok` released, or why not.
pub type ReleaseOutcome = (B256, Result<(), ReleaseRefusal>);

/// Why [`Ledger::release`] did nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseRefusal {
    /// No such transaction.
    #[error("unknown transaction {0}")]
    Unknown(B256),
    /// Only a quarantined transaction can be released.
    #[error("transaction {hash} is {status}, not quarantined", status = .status.as_str())]
    NotQuarantined {
        /// The transaction.
        hash: B256,
        /// Its status.
        status: TxStatus,
    },
}

/// The gate's transactions: active ones in memory, all of them in the store.
#[derive(Debug)]
pub struct Ledger {
    store: Store,
    config: LedgerConfig,
    /// Records that are not final, by hash.
    active: HashMap<B256, TxRecord>,
    /// Active records by sender, in nonce order.
    by_sender: HashMap<Address, BTreeSet<(u64, B256)>>,
    /// Certificates for transactions not seen yet.
    early: HashMap<B256, Attestation>,
    /// Every record by status, final ones included.
    counts: BTreeMap<TxStatus, u64>,
    /// Last time a valid certificate arrived (or the ledger opened).
    last_certificate_at_ms: u64,
}

impl Ledger {
    /// Loads every record from `store` (opened with [`COLUMN_FAMILIES`]).
    /// The fail-open clock starts at `now_ms`: a restart gives the
    /// inspectors a full delay again.
    pub fn open(store: Store, config: LedgerConfig, now_ms: u64) -> Result<Self, StoreError> {
        let mut ledger = Self {
            store,
            config,
            active: HashMap::new(),
            by_sender: HashMap::new(),
            early: HashMap::new(),
            counts: BTreeMap::new(),
            last_certificate_at_ms: now_ms,
        };
        let mut records = Vec::new();
        ledger.store.for_each(CF_TXS, |_, v| {
            records.push(TxRecord::decode(v)?);
            Ok(())
        })?;
        for record in records {
            *ledger.counts.entry(record.status).or_default() += 1;
            if !record.status.is_final() {
                ledger.index(record);
            }
        }
        let mut early = Vec::new();
        ledger.store.for_each(CF_EARLY_CERTS, |k, v| {
            let cert: Attestation = serde_json::from_slice(v)
                .map_err(|e| StoreError::Corrupt { cf: CF_EARLY_CERTS, reason: e.to_string() })?;
            let hash = B256::try_from(k)
                .map_err(|_| StoreError::Corrupt { cf: CF_EARLY_CERTS, reason: format!("key of {} bytes", k.len()) })?;
            early.push((hash, cert));
            Ok(())
        })?;
        ledger.early.extend(early);
        Ok(ledger)
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &LedgerConfig {
        &self.config
    }

    fn index(&mut self, record: TxRecord) {
        self.by_sender.entry(record.sender).or_default().insert((record.nonce, record.hash));
        self.active.insert(record.hash, record);
    }

    fn unindex(&mut self, hash: &B256) {
        if let Some(record) = self.active.remove(hash) {
            if let Some(set) = self.by_sender.get_mut(&record.sender) {
                set.remove(&(record.nonce, record.hash));
                if set.is_empty() {
                    self.by_sender.remove(&record.sender);
                }
            }
        }
    }

    /// Writes `records` (and whatever `extra` adds) in one synced batch, then
    /// updates memory.
    fn commit(&mut self, records: Vec<TxRecord>, extra: impl FnOnce(&mut Batch)) -> Result<(), StoreError> {
        let mut batch = Batch::new();
        for r in &records {
            batch.put(CF_TXS, r.hash.to_vec(), r.encode());
        }
        extra(&mut batch);
        if batch.is_empty() {
            return Ok(());
        }
        self.store.write(batch)?;
        for record in records {
            if let Some(old) = self.active.get(&record.hash) {
                if let Some(n) = self.counts.get_mut(&old.status) {
                    *n = n.saturating_sub(1);
                }
            }
            *self.counts.entry(record.status).or_default() += 1;
            self.unindex(&record.hash);
            if !record.status.is_final() {
                self.index(record);
            }
        }
        Ok(())
    }

    /// Number of transactions waiting in the gate.
    pub fn held_count(&self) -> usize {
        self.active.values().filter(|r| r.held()).count()
    }

    /// Accepts a decoded transaction: checks its chain, stores it as
    /// `pending` (or decided at once by a certificate that came first).
    /// Sending the same transaction again changes nothing.
    pub fn receive(&mut self, tx: &Transaction, now_ms: u64) -> Result<Received, StoreError> {
        let want = self.config.chain_id;
        match tx.chain_id() {
            None => return Ok(Received::Refused(TxRefusal::NoChainId { want })),
            Some(got) if got != want => return Ok(Received::Refused(TxRefusal::WrongChain { got, want })),
            Some(_) => {}
        }
        let hash = tx.hash();
        if let Some(known) = self.lookup(&hash)? {
            return Ok(Received::Accepted { hash, fresh: false, status: known.status });
        }
        let held = self.held_count();
        if held >= self.config.max_held {
            return Ok(Received::Refused(TxRefusal::Full(held)));
        }
        let mut record = TxRecord::new(tx, now_ms);
        let early = self.early.get(&hash).cloned();
        if let Some(next) = early.as_ref().and_then(|cert| record.with_certificate(cert)) {
            record = next;
        }
        let status = record.status;
        self.commit(vec![record], |batch| {
            if early.is_some() {
                batch.delete(CF_EARLY_CERTS, hash.to_vec());
            }
        })?;
        self.early.remove(&hash);
        Ok(Received::Accepted { hash, fresh: true, status })
    }

    /// Applies a verified certificate (clean or malicious) to its
    /// transaction, or keeps it until the transaction arrives.
    pub fn certificate(
        &mut self,
        cert: impl Into<VerifiedAttestation>,
        now_ms: u64,
    ) -> Result<CertificateOutcome, StoreError> {
        let cert = cert.into().into_inner();
        self.last_certificate_at_ms = self.last_certificate_at_ms.max(now_ms);
        let hash = cert.tx_hash();
        if let Some(record) = self.lookup(&hash)? {
            let Some(next) = record.with_certificate(&cert) else {
                return Ok(CertificateOutcome::Applied {
                    status: record.status,
                    changed: false,
                    late_malicious: false,
                });
            };
            let late_malicious = cert.kind() == VoteKind::Malicious && next.forwarded();
            let status = next.status;
            self.commit(vec![next], |_| {})?;
            return Ok(CertificateOutcome::Applied { status, changed: true, late_malicious });
        }
        // A malicious verdict wins over a clean one waiting for the same
        // transaction; otherwise the first certificate stays.
        match self.early.get(&hash) {
            Some(kept) if kept.kind() == VoteKind::Malicious || kept.kind() == cert.kind() => {
                return Ok(CertificateOutcome::AwaitingTransaction)
            }
            Some(_) => {}
            None if self.early.len() >= self.config.max_early_certificates => {
                return Ok(CertificateOutcome::Full(self.early.len()))
            }
            None => {}
        }
        let mut batch = Batch::new();
        batch.put(CF_EARLY_CERTS, hash.to_vec(), serde_json::to_vec(&cert).unwrap_or_default());
        self.store.write(batch)?;
        self.early.insert(hash, cert);
        Ok(CertificateOutcome::AwaitingTransaction)
    }

    /// What [`Self::certificate`] would answer for `cert` if this very
    /// certificate was verified and kept already (attached to its
    /// transaction, or waiting for it); `None` otherwise. Lets the gate
    /// answer a resent certificate without another pairing.
    pub fn known_certificate(&self, cert: &Attestation) -> Result<Option<CertificateOutcome>, StoreError> {
        if let Some(record) = self.lookup(&cert.tx_hash())? {
            return Ok((record.certificate.as_ref() == Some(cert)).then_some(CertificateOutcome::Applied {
                status: record.status,
                changed: false,
                late_malicious: false,
            }));
        }
        Ok((self.early.get(&cert.tx_hash()) == Some(cert)).then_some(CertificateOutcome::AwaitingTransaction))
    }

    /// Takes a certified batch's transactions with their inclusion proofs
    /// (DESIGN §4b), in one synced write: each is stored decided (certified
    /// or quarantined by its leaf), or, when known already, gets the proof
    /// as [`Self::certificate`] would apply it. One outcome per item, in
    /// order.
    pub fn attested_batch(
        &mut self,
        items: Vec<(Transaction, VerifiedInclusion)>,
        now_ms: u64,
    ) -> Result<Vec<BatchItemOutcome>, StoreError> {
        self.last_certificate_at_ms = self.last_certificate_at_ms.max(now_ms);
        let want = self.config.chain_id;
        let mut held = self.held_count();
        let mut records: Vec<TxRecord> = Vec::new();
        let mut outcomes = Vec::with_capacity(items.len());
        for (tx, inclusion) in items {
            let hash = tx.hash();
            let proof = VerifiedAttestation::from(inclusion).into_inner();
            if tx.chain_id() != Some(want) {
                let refusal = match tx.chain_id() {
                    None => TxRefusal::NoChainId { want },
                    Some(got) => TxRefusal::WrongChain { got, want },
                };
                outcomes.push(BatchItemOutcome::Refused { hash, refusal });
                continue;
            }
            let known = match records.iter().find(|r| r.hash == hash) {
                Some(r) => Some(r.clone()),
                None => self.lookup(&hash)?,
            };
            let (record, fresh) = match known {
                Some(record) => (record, false),
                None if held >= self.config.max_held => {
                    outcomes.push(BatchItemOutcome::Refused { hash, refusal: TxRefusal::Full(held) });
                    continue;
                }
                None => {
                    held += 1;
                    (TxRecord::new(&tx, now_ms), true)
                }
            };
            let (status, changed) = match record.with_certificate(&proof) {
                Some(next) => {
                    let status = next.status;
                    records.retain(|r| r.hash != hash);
                    records.push(next);
                    (status, true)
                }
                None if fresh => {
                    let status = record.status;
                    records.push(record);
                    (status, true)
                }
                None => (record.status, false),
            };
            outcomes.push(BatchItemOutcome::Applied { hash, status, fresh, changed });
        }
        let resolved: Vec<B256> = records.iter().map(|r| r.hash).filter(|h| self.early.contains_key(h)).collect();
        self.commit(records, |batch| {
            for h in &resolved {
                batch.delete(CF_EARLY_CERTS, h.to_vec());
            }
        })?;
        for h in resolved {
            self.early.remove(&h);
        }
        Ok(outcomes)
    }

    /// Applies the deadlines at `now_ms`: quarantine for lack of a
    /// certificate, then fail-open admission when configured and no
    /// certificate at all has arrived for the fail-open delay.
    pub fn tick(&mut self, now_ms: u64) -> Result<TickReport, StoreError> {
        let mut report = TickReport::default();
        let mut changed = Vec::new();
        let quarantine_after = self.config.quarantine_after_ms;
        let fail_open =
            self.config.fail_open_after_ms.filter(|f| now_ms.saturating_sub(self.last_certificate_at_ms) >= *f);
        for record in self.active.values() {
            if !record.held() {
                continue;
            }
            let waited = now_ms.saturating_sub(record.received_at_ms);
            let uncertified = record.certificate.is_none()
                && (record.status == TxStatus::Pending || record.quarantine == Some(QuarantineCause::NoCertificate));
            if let Some(after) = fail_open.filter(|f| uncertified && !record.admitted_unchecked && waited >= *f) {
                let mut next = record.clone();
                next.status = TxStatus::Pending;
                next.quarantine = None;
                next.admitted_unchecked = true;
                next.reason =
                    Some(format!("admitted unchecked by fail-open: no certificate for any transaction for {after} ms"));
                report.admitted_unchecked.push(next.hash);
                changed.push(next);
            } else if record.status == TxStatus::Pending && !record.admitted_unchecked && waited >= quarantine_after {
                let mut next = record.clone();
                next.status = TxStatus::Quarantined;
                next.quarantine = Some(QuarantineCause::NoCertificate);
                next.reason = Some(format!("no certificate within {quarantine_after} ms of receipt"));
                report.quarantined.push(next.hash);
                changed.push(next);
            }
        }
        self.commit(changed, |_| {})?;
        Ok(report)
    }

    /// Transactions that may go upstream now, at most one per sender: the
    /// lowest not-forwarded nonce the gate holds for that sender, if it is
    /// cleared. A higher nonce waits until the lower one is forwarded.
    pub fn forwardable(&self) -> Vec<ForwardJob> {
        let mut jobs = Vec::new();
        for set in self.by_sender.values() {
            let mut waiting = set.iter().filter_map(|(_, h)| self.active.get(h)).filter(|r| !r.forwarded()).peekable();
            let Some(lowest) = waiting.peek().map(|r| r.nonce) else { continue };
            if let Some(r) = waiting.take_while(|r| r.nonce == lowest).find(|r| r.cleared()) {
                jobs.push(ForwardJob { hash: r.hash, raw: r.raw.clone(), sender: r.sender, nonce: r.nonce });
            }
        }
        jobs.sort_by_key(|j| (j.sender, j.nonce));
        jobs
    }

    /// Upstream accepted the transaction. Returns the time it waited in the
    /// gate (received → forwarded), in milliseconds.
    pub fn mark_forwarded(&mut self, hash: &B256, now_ms: u64) -> Result<Option<u64>, StoreError> {
        Ok(self.mark_forwarded_all(&[*hash], now_ms)?.first().map(|(_, waited)| *waited))
    }

    /// [`Self::mark_forwarded`] for many, in one write: each transaction
    /// that was not forwarded yet, with the time it waited.
    pub fn mark_forwarded_all(&mut self, hashes: &[B256], now_ms: u64) -> Result<Vec<(B256, u64)>, StoreError> {
        let mut records = Vec::new();
        let mut waited = Vec::new();
        for hash in hashes {
            let Some(record) = self.active.get(hash).filter(|r| !r.forwarded()) else { continue };
            if waited.iter().any(|(h, _)| h == hash) {
                continue;
            }
            let mut next = record.clone();
            next.forwarded_at_ms = Some(now_ms);
            waited.push((*hash, now_ms.saturating_sub(next.received_at_ms)));
            records.push(next);
        }
        self.commit(records, |_| {})?;
        Ok(waited)
    }

    /// Upstream refused the transaction for good.
    pub fn mark_rejected(&mut self, hash: &B256, reason: String) -> Result<bool, StoreError> {
        let Some(record) = self.active.get(hash) else { return Ok(false) };
        let mut next = record.clone();
        next.status = TxStatus::Rejected;
        next.reason = Some(format!("upstream refused it: {reason}"));
        self.commit(vec![next], |_| {})?;
        Ok(true)
    }

    /// Upstream included the transaction in `block`.
    pub fn mark_included(&mut self, hash: &B256, block: u64) -> Result<bool, StoreError> {
        Ok(!self.mark_included_all(&[(*hash, block)])?.is_empty())
    }

    /// [`Self::mark_included`] for many, in one write; returns the ones
    /// that were waiting for inclusion.
    pub fn mark_included_all(&mut self, seen: &[(B256, u64)]) -> Result<Vec<B256>, StoreError> {
        let changed: Vec<TxRecord> = seen
            .iter()
            .filter_map(|(hash, block)| {
                let mut next = self.active.get(hash)?.clone();
                next.status = TxStatus::Included;
                next.block_number = Some(*block);
                Some(next)
            })
            .collect();
        let hashes = changed.iter().map(|r| r.hash).collect();
        if !changed.is_empty() {
            self.commit(changed, |_| {})?;
        }
        Ok(hashes)
    }

    /// Releases a quarantined transaction (the court ruled for the sender):
    /// it is forwarded like a certified one.
    pub fn release(&mut self, hash: &B256) -> Result<Result<(), ReleaseRefusal>, StoreError> {
        self.release_because(hash, "released from quarantine by the court".into())
    }

    /// Releases a quarantined transaction, recording why (the court's
    /// ruling, or an operator's signed release): it is forwarded like a
    /// certified one.
    pub fn release_because(&mut self, hash: &B256, reason: String) -> Result<Result<(), ReleaseRefusal>, StoreError> {
        let Some(record) = self.lookup(hash)? else { return Ok(Err(ReleaseRefusal::Unknown(*hash))) };
        if record.status != TxStatus::Quarantined {
            return Ok(Err(ReleaseRefusal::NotQuarantined { hash: *hash, status: record.status }));
        }
        let mut next = record;
        next.status = TxStatus::Released;
        next.reason = Some(reason);
        self.commit(vec![next], |_| {})?;
        Ok(Ok(()))
    }

    /// The court watcher's stored cursor.
    pub fn court_cursor(&self) -> Result<Option<CourtCursor>, StoreError> {
        self.store
            .get(CF_META, KEY_COURT_CURSOR)?
            .map(|v| serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt { cf: CF_META, reason: e.to_string() }))
            .transpose()
    }

    /// Applies the court's `Released` events of a range of blocks and moves
    /// the cursor past it, in one synced batch: each released transaction
    /// that is quarantined becomes `released` (forwarded like a certified
    /// one); the others are refused as [`Ledger::release`] refuses them.
    /// A hash listed twice is applied once.
    pub fn apply_court_releases(
        &mut self,
        hashes: &[B256],
        cursor: CourtCursor,
    ) -> Result<Vec<ReleaseOutcome>, StoreError> {
        let mut outcomes = Vec::with_capacity(hashes.len());
        let mut changed: Vec<TxRecord> = Vec::new();
        for hash in hashes {
            if let Some(next) = changed.iter().find(|r| r.hash == *hash) {
                outcomes.push((*hash, Err(ReleaseRefusal::NotQuarantined { hash: *hash, status: next.status })));
                continue;
            }
            let Some(record) = self.lookup(hash)? else {
                outcomes.push((*hash, Err(ReleaseRefusal::Unknown(*hash))));
                continue;
            };
            if record.status != TxStatus::Quarantined {
                outcomes.push((*hash, Err(ReleaseRefusal::NotQuarantined { hash: *hash, status: record.status })));
                continue;
            }
            let mut next = record;
            next.status = TxStatus::Released;
            next.reason = Some("released from quarantine by the court".into());
            changed.push(next);
            outcomes.push((*hash, Ok(())));
        }
        let cursor_json = serde_json::to_vec(&cursor).unwrap_or_default();
        self.commit(changed, |batch| batch.put(CF_META, KEY_COURT_CURSOR.to_vec(), cursor_json))?;
        Ok(outcomes)
    }

    /// Forwarded transactions whose receipt is not known yet.
    pub fn awaiting_receipt(&self) -> Vec<B256> {
        self.active.values().filter(|r| r.forwarded()).map(|r| r.hash).collect()
    }

    /// The record of `hash`, active or final.
    pub fn lookup(&self, hash: &B256) -> Result<Option<TxRecord>, StoreError> {
        if let Some(r) = self.active.get(hash) {
            return Ok(Some(r.clone()));
        }
        self.store.get(CF_TXS, hash.as_slice())?.map(|v| TxRecord::decode(&v)).transpose()
    }

    /// Transactions held (pending or quarantined, not forwarded), oldest
    /// first.
    pub fn held(&self) -> Vec<TxRecord> {
        let mut held: Vec<TxRecord> = self
            .active
            .values()
            .filter(|r| r.held() && matches!(r.status, TxStatus::Pending | TxStatus::Quarantined))
            .cloned()
            .collect();
        held.sort_by_key(|r| (r.received_at_ms, r.sender, r.nonce));
        held
    }

    /// The nonce after the highest one the gate holds for `sender` and has
    /// not forwarded: what `eth_getTransactionCount(…, "pending")` must be
    /// at least.
    pub fn next_nonce(&self, sender: &Address) -> Option<u64> {
        let set = self.by_sender.get(sender)?;
        set.iter()
            .rev()
            .filter_map(|(_, h)| self.active.get(h))
            .find(|r| !r.forwarded())
            .map(|r| r.nonce.saturating_add(1))
    }

    /// Number of records by status (final ones included).
    pub fn counts(&self) -> BTreeMap<TxStatus, u64> {
        self.counts.clone()
    }

    /// Certificates waiting for their transaction.
    pub fn early_certificate_count(&self) -> usize {
        self.early.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
    use alloy_eips::eip2718::Encodable2718;
    use alloy_primitives::{TxKind, U256};
    use alloy_signer::SignerSync;
    use alloy_signer_local::PrivateKeySigner;
    use vigil_consensus::{testkit::DevCommittee, verify_certificate, VerifiedCertificate};

    const CHAIN: u64 = 31337;
    const Q: u64 = 5_000;

    fn signer(seed: u8) -> PrivateKeySigner {
        PrivateKeySigner::from_bytes(&B256::repeat_byte(seed)).unwrap()
    }

    fn tx_on(chain_id: u64, key: &PrivateKeySigner, nonce: u64) -> Transaction {
        let tx = TxEip1559 {
            chain_id,
            nonce,
            gas_limit: 21_000,
            max_fee_per_gas: 2_000_000_000,
            max_priority_fee_per_gas: 1_000_000_000,
            to: TxKind::Call(Address::repeat_byte(0x42)),
            value: U256::from(1u64),
            ..Default::default()
        };
        let sig = key.sign_hash_sync(&tx.signature_hash()).unwrap();
        let envelope = TxEnvelope::from(tx.into_signed(sig));
        Transaction::decode(&envelope.encoded_2718()).unwrap()
    }

    struct Fixture {
        dir: tempfile::TempDir,
        dev: DevCommittee,
    }

    impl Fixture {
        fn new() -> Self {
            Self { dir: tempfile::tempdir().unwrap(), dev: DevCommittee::generate(CHAIN, 1, 4, 7) }
        }

        fn open(&self, fail_open: Option<u64>, now: u64) -> Ledger {
            let store = Store::open(self.dir.path(), COLUMN_FAMILIES).unwrap();
            let config = LedgerConfig {
                chain_id: CHAIN,
                quarantine_after_ms: Q,
                fail_open_after_ms: fail_open,
                max_held: 100,
                max_early_certificates: 100,
            };
            Ledger::open(store, config, now).unwrap()
        }

        fn cert(&self, hash: B256, kind: VoteKind) -> VerifiedCertificate {
            let cert = self.dev.certify_with(hash, kind, &[0, 1, 2, 3]);
            verify_certificate(&self.dev.committee, &cert).unwrap()
        }
    }

    fn accepted(r: Received) -> (B256, bool, TxStatus) {
        match r {
            Received::Accepted { hash, fresh, status } => (hash, fresh, status),
            other => panic!("refused: {other:?}"),
        }
    }

    fn status(l: &Ledger, h: B256) -> TxStatus {
        l.lookup(&h).unwrap().unwrap().status
    }

    fn hashes(jobs: Vec<ForwardJob>) -> Vec<B256> {
        jobs.into_iter().map(|j| j.hash).collect()
    }

    #[test]
    fn a_certified_batch_is_taken_in_one_write_each_transaction_by_its_leaf() {
        let f = Fixture::new();
        let mut l = f.open(None, 0);
        let key = signer(3);
        let (t0, t1, t2) = (tx_on(CHAIN, &key, 0), tx_on(CHAIN, &key, 1), tx_on(CHAIN, &key, 2));
        let other_chain = tx_on(CHAIN + 1, &key, 3);
        // t1 arrived alone before its batch.
        accepted(l.receive(&t1, 5).unwrap());
        let leaves = vec![
            vigil_types::BatchLeaf { tx_hash: t0.hash(), kind: VoteKind::Clean },
            vigil_types::BatchLeaf { tx_hash: t1.hash(), kind: VoteKind::Clean },
            vigil_types::BatchLeaf { tx_hash: t2.hash(), kind: VoteKind::Malicious },
            vigil_types::BatchLeaf { tx_hash: other_chain.hash(), kind: VoteKind::Clean },
        ];
        let (tree, cert) = f.dev.certify_leaves(leaves, &[0, 1, 2]);
        let verified = vigil_consensus::verify_batch_certificate(&f.dev.committee, &cert).unwrap();
        let proofs = vigil_consensus::batch_inclusions(&verified, &tree).unwrap();
        let items: Vec<_> = [t0.clone(), t1.clone(), t2.clone(), other_chain.clone()].into_iter().zip(proofs).collect();
        let outcomes = l.attested_batch(items, 10).unwrap();
        let summary: Vec<_> = outcomes
            .iter()
            .map(|o| match o {
                BatchItemOutcome::Applied { status, fresh, .. } => (Some(*status), *fresh),
                BatchItemOutcome::Refused { .. } => (None, false),
            })
            .collect();
        assert_eq!(
            summary,
            [
                (Some(TxStatus::Certified), true),
                (Some(TxStatus::Certified), false),
                (Some(TxStatus::Quarantined), true),
                (None, false)
            ]
        );
        let kept = l.lookup(&t1.hash()).unwrap().unwrap().certificate.unwrap();
        assert!(matches!(&kept, Attestation::Inclusion(p) if p.index == 1 && p.certificate.root == tree.root()));
        // The same push again changes nothing; the records survive a reopen.
        let again = l
            .attested_batch(
                vec![(t0.clone(), vigil_consensus::batch_inclusions(&verified, &tree).unwrap()[0].clone())],
                20,
            )
            .unwrap();
        assert!(matches!(again[0], BatchItemOutcome::Applied { changed: false, fresh: false, .. }));
        drop(l);
        let l = f.open(None, 30);
        assert_eq!(status(&l, t0.hash()), TxStatus::Certified);
        assert_eq!(status(&l, t2.hash()), TxStatus::Quarantined);
        assert_eq!(hashes(l.forwardable()), vec![t0.hash()], "t1 follows t0 in nonce order");
    }

    #[test]
    fn forwards_in_nonce_order_per_sender() {
        let f = Fixture::new();
        let mut l = f.open(None, 0);
        let (a, b) = (signer(1), signer(2));
        let a0 = tx_on(CHAIN, &a, 0);
        let a1 = tx_on(CHAIN, &a, 1);
        let b5 = tx_on(CHAIN, &b, 5);
        for tx in [&a1, &a0, &b5] {
            accepted(l.receive(tx, 10).unwrap());
        }
        assert!(l.forwardable().is_empty(), "nothing certified yet");
        l.certificate(f.cert(a1.hash(), VoteKind::Clean), 20).unwrap();
        assert!(l.forwardable().is_empty(), "nonce 1 waits for nonce 0, which the gate holds");
        // b's nonce 5 has no lower nonce in the gate: it may go alone.
        l.certificate(f.cert(b5.hash(), VoteKind::Clean), 20).unwrap();
        assert_eq!(hashes(l.forwardable()), vec![b5.hash()]);
        l.certificate(f.cert(a0.hash(), VoteKind::Clean), 30).unwrap();
        let jobs = l.forwardable();
        assert!(jobs.iter().any(|j| j.hash == a0.hash()) && !jobs.iter().any(|j| j.hash == a1.hash()));
        // Marked in one write with b's, twice named: counted once, and a
        // transaction forwarded already is not marked again.
        let marked = l.mark_forwarded_all(&[a0.hash(), b5.hash(), a0.hash()], 40).unwrap();
        assert_eq!(marked, vec![(a0.hash(), 30), (b5.hash(), 30)]);
        assert_eq!(l.mark_forwarded(&a0.hash(), 45).unwrap(), None);
        assert!(hashes(l.forwardable()).contains(&a1.hash()), "nonce 0 forwarded, nonce 1 may go");
        // A rejected lower nonce does not block the next one either.
        l.mark_forwarded(&a1.hash(), 41).unwrap();
        l.mark_included(&a0.hash(), 7).unwrap();
        assert_eq!(status(&l, a0.hash()), TxStatus::Included);
        assert_eq!(l.lookup(&a0.hash()).unwrap().unwrap().block_number, Some(7));
        let mut awaiting = l.awaiting_receipt();
        awaiting.sort();
        let mut want = vec![a1.hash(), b5.hash()];
        want.sort();
        assert_eq!(awaiting, want, "forwarded and not seen in a block yet");
    }

    #[test]
    fn court_releases_and_the_cursor_land_together_and_survive_a_reopen() {
        let f = Fixture::new();
        let court = Address::repeat_byte(0xc0);
        let (q, p) = (tx_on(CHAIN, &signer(9), 0), tx_on(CHAIN, &signer(10), 0));
        {
            let mut l = f.open(None, 0);
            assert_eq!(l.court_cursor().unwrap(), None);
            accepted(l.receive(&q, 0).unwrap());
            accepted(l.receive(&p, Q).unwrap());
            assert_eq!(l.tick(Q).unwrap().quarantined, vec![q.hash()]);
            let cursor = CourtCursor { court, next_block: 11 };
            let out = l.apply_court_releases(&[q.hash(), p.hash(), B256::ZERO, q.hash()], cursor).unwrap();
            assert_eq!(out[0], (q.hash(), Ok(())));
            assert!(matches!(out[1].1, Err(ReleaseRefusal::NotQuarantined { status: TxStatus::Pending, .. })));
            assert!(matches!(out[2].1, Err(ReleaseRefusal::Unknown(_))));
            assert!(matches!(out[3].1, Err(ReleaseRefusal::NotQuarantined { status: TxStatus::Released, .. })));
            assert_eq!(hashes(l.forwardable()), vec![q.hash()]);
        }
        let mut l = f.open(None, 0);
        assert_eq!(l.court_cursor().unwrap(), Some(CourtCursor { court, next_block: 11 }));
        assert_eq!(status(&l, q.hash()), TxStatus::Released);
        assert_eq!(hashes(l.forwardable()), vec![q.hash()]);
        // Applying the same range again (a replay) changes no record.
        let again = l.apply_court_releases(&[q.hash()], CourtCursor { court, next_block: 11 }).unwrap();
        assert!(matches!(again[0].1, Err(ReleaseRefusal::NotQuarantined { status: TxStatus::Released, .. })));
    }

    #[test]
    fn rejected_lower_nonce_unblocks_the_next() {
        let f = Fixture::new();
        let mut l = f.open(None, 0);
        let a = signer(1);
        let (t0, t1) = (tx_on(CHAIN, &a, 0), tx_on(CHAIN, &a, 1));
        accepted(l.receive(&t0, 0).unwrap());
        accepted(l.receive(&t1, 0).unwrap());
        l.certificate(f.cert(t1.hash(), VoteKind::Clean), 1).unwrap();
        assert!(l.forwardable().is_empty());
        l.certificate(f.cert(t0.hash(), VoteKind::Clean), 1).unwrap();
        assert!(l.mark_rejected(&t0.hash(), "insufficient funds".into()).unwrap());
        assert_eq!(hashes(l.forwardable()), vec![t1.hash()]);
        let r = l.lookup(&t0.hash()).unwrap().unwrap();
        assert_eq!(r.status, TxStatus::Rejected);
        assert!(r.reason.unwrap().contains("insufficient funds"));
    }

    #[test]
    fn certificate_before_transaction() {
        let f = Fixture::new();
        let mut l = f.open(None, 0);
        let t = tx_on(CHAIN, &signer(3), 0);
        assert_eq!(
            l.certificate(f.cert(t.hash(), VoteKind::Clean), 5).unwrap(),
            CertificateOutcome::AwaitingTransaction
        );
        assert_eq!(l.early_certificate_count(), 1);
        let (_, fresh, st) = accepted(l.receive(&t, 6).unwrap());
        assert!(fresh);
        assert_eq!(st, TxStatus::Certified);
        assert_eq!(l.early_certificate_count(), 0);
        assert_eq!(hashes(l.forwardable()), vec![t.hash()]);

        // A malicious verdict waiting for its transaction quarantines it on arrival.
        let m = tx_on(CHAIN, &signer(3), 1);
        l.certificate(f.cert(m.hash(), VoteKind::Malicious), 7).unwrap();
        let (_, _, st) = accepted(l.receive(&m, 8).unwrap());
        assert_eq!(st, TxStatus::Quarantined);
    }

    #[test]
    fn a_certificate_held_already_is_known_without_another_check() {
        let f = Fixture::new();
        let mut l = f.open(None, 0);
        let t = tx_on(CHAIN, &signer(5), 0);
        let early = f.cert(t.hash(), VoteKind::Clean);
        assert_eq!(l.known_certificate(&early.certificate().clone().into()).unwrap(), None, "nothing held yet");
        l.certificate(early.clone(), 1).unwrap();
        assert_eq!(
            l.known_certificate(&early.certificate().clone().into()).unwrap(),
            Some(CertificateOutcome::AwaitingTransaction),
            "the same certificate, waiting for its transaction"
        );
        accepted(l.receive(&t, 2).unwrap());
        assert_eq!(
            l.known_certificate(&early.certificate().clone().into()).unwrap(),
            Some(CertificateOutcome::Applied { status: TxStatus::Certified, changed: false, late_malicious: false })
        );
        // Another certificate for the same transaction (other signers, or
        // forged): not known, so it gets the full check.
        let mut other = early.certificate().clone();
        other.signature.0[10] ^= 1;
        assert_eq!(l.known_certificate(&other.clone().into()).unwrap(), None);
    }

    #[test]
    fn malicious_certificate_quarantines_and_clean_does_not_release() {
        let f = Fixture::new();
        let mut l = f.open(None, 0);
        let t = tx_on(CHAIN, &signer(4), 0);
        accepted(l.receive(&t, 0).unwrap());
        let out = l.certificate(f.cert(t.hash(), VoteKind::Malicious), 1).unwrap();
        assert_eq!(
            out,
            CertificateOutcome::Applied { status: TxStatus::Quarantined, changed: true, late_malicious: false }
        );
        let r = l.lookup(&t.hash()).unwrap().unwrap();
        assert_eq!(r.quarantine, Some(QuarantineCause::Malicious));
        assert_eq!(r.certificate.as_ref().unwrap().kind(), VoteKind::Malicious);
        // DESIGN §7: a later clean certificate does not release it.
        l.certificate(f.cert(t.hash(), VoteKind::Clean), 2).unwrap();
        assert_eq!(status(&l, t.hash()), TxStatus::Quarantined);
        assert!(l.forwardable().is_empty());
        assert_eq!(l.next_nonce(&t.sender()), Some(1));
        // The court's release does.
        l.release(&t.hash()).unwrap().unwrap();
        assert_eq!(status(&l, t.hash()), TxStatus::Released);
        assert_eq!(hashes(l.forwardable()), vec![t.hash()]);
        assert!(matches!(l.release(&t.hash()).unwrap(), Err(ReleaseRefusal::NotQuarantined { .. })));
        assert!(matches!(l.release(&B256::ZERO).unwrap(), Err(ReleaseRefusal::Unknown(_))));
    }

    #[test]
    fn quarantine_deadline() {
        let f = Fixture::new();
        let mut l = f.open(None, 0);
        let (t, u) = (tx_on(CHAIN, &signer(5), 0), tx_on(CHAIN, &signer(6), 0));
        accepted(l.receive(&t, 1_000).unwrap());
        accepted(l.receive(&u, 1_000).unwrap());
        l.certificate(f.cert(u.hash(), VoteKind::Clean), 1_100).unwrap();
        assert_eq!(l.tick(1_000 + Q - 1).unwrap(), TickReport::default());
        assert_eq!(status(&l, t.hash()), TxStatus::Pending);
        let report = l.tick(1_000 + Q).unwrap();
        assert_eq!(report.quarantined, vec![t.hash()]);
        let r = l.lookup(&t.hash()).unwrap().unwrap();
        assert_eq!((r.status, r.quarantine), (TxStatus::Quarantined, Some(QuarantineCause::NoCertificate)));
        assert_eq!(status(&l, u.hash()), TxStatus::Certified, "a certified transaction has no deadline");
        assert_eq!(l.held().iter().map(|r| r.hash).collect::<Vec<_>>(), vec![t.hash()]);
        // Fail-closed: nothing more happens, however long it waits.
        assert_eq!(l.tick(1_000_000).unwrap(), TickReport::default());
    }

    #[test]
    fn fail_open_admits_after_the_delay_only_without_any_certificate() {
        let f = Fixture::new();
        let fail_open = 10_000;
        let mut l = f.open(Some(fail_open), 0);
        let t = tx_on(CHAIN, &signer(7), 0);
        let m = tx_on(CHAIN, &signer(8), 0);
        accepted(l.receive(&t, 0).unwrap());
        accepted(l.receive(&m, 0).unwrap());
        l.certificate(f.cert(m.hash(), VoteKind::Malicious), 100).unwrap();
        assert_eq!(l.tick(Q).unwrap().quarantined, vec![t.hash()]);
        // A certificate arrived at 100: the network is alive until 10 100.
        assert!(l.tick(fail_open + 99).unwrap().admitted_unchecked.is_empty());
        let report = l.tick(fail_open + 100).unwrap();
        assert_eq!(report.admitted_unchecked, vec![t.hash()], "the malicious one stays out");
        let r = l.lookup(&t.hash()).unwrap().unwrap();
        assert!(r.admitted_unchecked && r.status == TxStatus::Pending);
        assert_eq!(hashes(l.forwardable()), vec![t.hash()]);
        assert!(l.tick(fail_open * 5).unwrap().admitted_unchecked.is_empty(), "admitted once");
        // Inspected after the fact.
        l.mark_forwarded(&t.hash(), fail_open + 200).unwrap();
        let late = l.certificate(f.cert(t.hash(), VoteKind::Malicious), fail_open + 300).unwrap();
        assert!(matches!(late, CertificateOutcome::Applied { late_malicious: true, .. }));
    }

    #[test]
    fn resubmission_is_idempotent_and_chain_is_checked() {
        let f = Fixture::new();
        let mut l = f.open(None, 0);
        let t = tx_on(CHAIN, &signer(9), 3);
        let (h1, fresh1, _) = accepted(l.receive(&t, 0).unwrap());
        let (h2, fresh2, _) = accepted(l.receive(&t, 50).unwrap());
        assert_eq!((h1, fresh1, fresh2), (h2, true, false));
        assert_eq!(l.lookup(&t.hash()).unwrap().unwrap().received_at_ms, 0);
        assert_eq!(l.counts().get(&TxStatus::Pending), Some(&1));
        assert_eq!(
            l.receive(&tx_on(1, &signer(9), 4), 0).unwrap(),
            Received::Refused(TxRefusal::WrongChain { got: 1, want: CHAIN })
        );
        assert_eq!(l.next_nonce(&t.sender()), Some(4));
        assert_eq!(l.next_nonce(&Address::ZERO), None);
    }

    #[test]
    fn restart_reloads_everything() {
        let f = Fixture::new();
        let t = tx_on(CHAIN, &signer(10), 0);
        let u = tx_on(CHAIN, &signer(10), 1);
        let done = tx_on(CHAIN, &signer(11), 0);
        let early = tx_on(CHAIN, &signer(12), 0);
        {
            let mut l = f.open(None, 0);
            accepted(l.receive(&t, 0).unwrap());
            accepted(l.receive(&u, 0).unwrap());
            accepted(l.receive(&done, 0).unwrap());
            l.certificate(f.cert(t.hash(), VoteKind::Clean), 1).unwrap();
            l.certificate(f.cert(done.hash(), VoteKind::Clean), 1).unwrap();
            l.mark_forwarded(&done.hash(), 2).unwrap();
            l.mark_included(&done.hash(), 9).unwrap();
            l.certificate(f.cert(early.hash(), VoteKind::Clean), 3).unwrap();
        } // dropped without any shutdown step, as a kill would
        let mut l = f.open(None, 10);
        assert_eq!(status(&l, t.hash()), TxStatus::Certified);
        assert_eq!(status(&l, u.hash()), TxStatus::Pending);
        assert_eq!(status(&l, done.hash()), TxStatus::Included);
        assert_eq!(hashes(l.forwardable()), vec![t.hash()]);
        assert_eq!(l.next_nonce(&t.sender()), Some(2));
        let counts = l.counts();
        assert_eq!((counts[&TxStatus::Certified], counts[&TxStatus::Pending], counts[&TxStatus::Included]), (1, 1, 1));
        let (_, _, st) = accepted(l.receive(&early, 11).unwrap());
        assert_eq!(st, TxStatus::Certified, "the early certificate survived the restart");
    }
}

//! The aggregation pool: votes in, certificates and quarantines out.
//!
//! ```text
//! vote --check--> pending clean votes ----(pending + verified clean stake > q)----+
//!   |                                                                             v
//!   |                              aggregate pending signatures, verify ONCE ---- ok --> all verified
//!   |                                                                             | fail
//!   |                                           verify one by one, drop and name the bad signers
//!   |                                                                             v
//!   |                                  verified clean stake > q  --> Certified(certificate)
//!   `--malicious--> verify alone --> malicious stake makes q unreachable --> Quarantined
//! deadline passes without a certificate ------------------------------------> Quarantined
//! a signer with verified clean and malicious votes -------------------------> Equivocation(evidence)
//! ```
//!
//! Pure and deterministic: time is the caller's `now_ms`, nothing is random,
//! iteration is in index order. Memory is bounded: at most
//! `max_transactions` entries (oldest evicted first), each holding at most
//! two votes per committee member.

use crate::{
    certificate::VerifiedCertificate,
    committee::VerifiedCommittee,
    error::VoteRejection,
    evidence::VerifiedEvidence,
    vote::{CheckedVote, VerifiedVote},
};
use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};
use vigil_crypto::{PublicKey, Signature};
use vigil_types::{Certificate, SignerBitmap, Vote, VoteKind, B256, U256};

/// Limits of the pool.
#[derive(Debug, Clone, Copy)]
pub struct PoolConfig {
    /// Most transactions tracked at once.
    pub max_transactions: usize,
    /// Time after the first vote on a transaction by which a certificate
    /// must exist, else the transaction is quarantined.
    pub deadline_ms: u64,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self { max_transactions: 100_000, deadline_ms: 2_000 }
    }
}

/// Why a transaction was quarantined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuarantineReason {
    /// Verified malicious votes hold so much stake that the clean threshold
    /// can no longer be passed.
    MaliciousStake {
        /// Stake that voted malicious.
        malicious: U256,
        /// Committee total.
        total: U256,
    },
    /// No certificate by the deadline.
    Deadline {
        /// Verified clean stake at the deadline.
        clean: U256,
        /// Committee total.
        total: U256,
    },
}

impl std::fmt::Display for QuarantineReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MaliciousStake { malicious, total } => {
                write!(f, "stake {malicious} of {total} voted malicious; a clean certificate is impossible")
            }
            Self::Deadline { clean, total } => {
                write!(f, "no certificate by the deadline (clean stake {clean} of {total})")
            }
        }
    }
}

/// The final decision on a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Clean stake passed the threshold.
    Certified(VerifiedCertificate),
    /// No clean certificate is possible or came in time.
    Quarantined(QuarantineReason),
}

/// Something the pool concluded while taking a vote or a tick.
#[derive(Debug, Clone)]
pub enum PoolEvent {
    /// A decision on `(epoch, tx_hash)`.
    Decided {
        /// Epoch.
        epoch: u64,
        /// Transaction.
        tx_hash: B256,
        /// The decision.
        decision: Decision,
    },
    /// A member signed both ways: slashable evidence.
    Equivocation(VerifiedEvidence),
    /// A vote that failed verification inside an aggregate; the signer index
    /// it claims and the peer that relayed it are to blame.
    BadVote {
        /// Claimed signer.
        signer: u32,
        /// Transaction.
        tx_hash: B256,
    },
    /// A transaction dropped to keep memory bounded.
    Evicted {
        /// Epoch.
        epoch: u64,
        /// Transaction.
        tx_hash: B256,
    },
}

#[derive(Debug)]
struct Entry {
    seq: u64,
    first_seen_ms: u64,
    pending_clean: BTreeMap<u32, CheckedVote>,
    clean: BTreeMap<u32, VerifiedVote>,
    malicious: BTreeMap<u32, VerifiedVote>,
    decision: Option<Decision>,
}

/// Aggregates votes per `(epoch, tx_hash)` for the committees it is given.
#[derive(Debug)]
pub struct AggregationPool {
    config: PoolConfig,
    committees: BTreeMap<u64, Arc<VerifiedCommittee>>,
    entries: HashMap<(u64, B256), Entry>,
    by_age: BTreeMap<u64, (u64, B256)>,
    next_seq: u64,
    current_epoch: Option<u64>,
}

impl AggregationPool {
    /// An empty pool.
    pub fn new(config: PoolConfig) -> Self {
        Self {
            config,
            committees: BTreeMap::new(),
            entries: HashMap::new(),
            by_age: BTreeMap::new(),
            next_seq: 0,
            current_epoch: None,
        }
    }

    /// Moves the node to epoch `e`: from now on only votes of epochs `e`
    /// and `e + 1` are taken (DESIGN §3), and state of older epochs is
    /// dropped.
    pub fn set_current_epoch(&mut self, e: u64) {
        self.current_epoch = Some(e);
        self.prune_epochs_below(e);
    }

    /// Accepts votes of this committee's epoch from now on.
    pub fn add_committee(&mut self, committee: Arc<VerifiedCommittee>) {
        self.committees.insert(committee.epoch(), committee);
    }

    /// Forgets committees (and their transactions) of epochs below `epoch`.
    pub fn prune_epochs_below(&mut self, epoch: u64) {
        self.committees.retain(|&e, _| e >= epoch);
        let gone: Vec<(u64, u64, B256)> =
            self.entries.iter().filter(|((e, _), _)| *e < epoch).map(|((e, h), en)| (en.seq, *e, *h)).collect();
        for (seq, e, h) in gone {
            self.entries.remove(&(e, h));
            self.by_age.remove(&seq);
        }
    }

    /// Transactions of `epoch` still undecided, oldest first (at most the
    /// pool's bound). A node moving to a new epoch re-votes them there:
    /// [`Self::set_current_epoch`] drops them.
    pub fn undecided(&self, epoch: u64) -> Vec<B256> {
        self.by_age
            .values()
            .filter(|key| key.0 == epoch && self.entries.get(key).is_some_and(|e| e.decision.is_none()))
            .map(|key| key.1)
            .collect()
    }

    /// Number of transactions tracked.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no transaction is tracked.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The decision on a transaction, if any.
    pub fn decision(&self, epoch: u64, tx_hash: &B256) -> Option<&Decision> {
        self.entries.get(&(epoch, *tx_hash)).and_then(|e| e.decision.as_ref())
    }

    /// Earliest deadline among undecided transactions.
    pub fn next_deadline(&self) -> Option<u64> {
        self.entries
            .values()
            .filter(|e| e.decision.is_none())
            .map(|e| e.first_seen_ms.saturating_add(self.config.deadline_ms))
            .min()
    }

    /// Takes one vote. `Err` says why the vote itself is refused (a peer
    /// fault unless it is a duplicate or out of the epoch window); the
    /// events say what the pool concluded.
    pub fn insert(&mut self, vote: Vote, now_ms: u64) -> Result<Vec<PoolEvent>, VoteRejection> {
        let committee =
            self.committees.get(&vote.epoch).cloned().ok_or(VoteRejection::EpochOutsideWindow { epoch: vote.epoch })?;
        let checked = CheckedVote::check(&committee, vote)?;
        let key = (checked.vote().epoch, checked.vote().tx_hash);
        let mut events = Vec::new();
        self.track(key, now_ms, &mut events);
        let Some(entry) = self.entries.get_mut(&key) else { return Ok(events) };
        let signer = checked.vote().signer;
        match checked.vote().kind {
            VoteKind::Malicious => {
                if entry.malicious.contains_key(&signer) {
                    return Err(VoteRejection::Duplicate { index: signer, kind: VoteKind::Malicious });
                }
                let verified = checked.verify(&committee)?;
                // A pending clean vote of the same signer must be settled now
                // to tell equivocation from a forged vote.
                if let Some(pending) = entry.pending_clean.remove(&signer) {
                    match pending.verify(&committee) {
                        Ok(v) => {
                            entry.clean.insert(signer, v);
                        }
                        Err(_) => events.push(PoolEvent::BadVote { signer, tx_hash: key.1 }),
                    }
                }
                if let Some(clean) = entry.clean.get(&signer) {
                    events.extend(VerifiedEvidence::from_verified(clean, &verified).map(PoolEvent::Equivocation));
                }
                entry.malicious.insert(signer, verified);
            }
            VoteKind::Clean => {
                if entry.clean.contains_key(&signer) {
                    return Err(VoteRejection::Duplicate { index: signer, kind: VoteKind::Clean });
                }
                if let Some(p) = entry.pending_clean.get(&signer) {
                    if p.signature() == checked.signature() {
                        return Err(VoteRejection::Duplicate { index: signer, kind: VoteKind::Clean });
                    }
                    // Two different signatures for one message: at most one
                    // is genuine. Settle the newcomer alone.
                    let verified = checked.verify(&committee)?;
                    entry.pending_clean.remove(&signer);
                    entry.clean.insert(signer, verified);
                } else if let Some(mal) = entry.malicious.get(&signer) {
                    let verified = checked.verify(&committee)?;
                    events.extend(VerifiedEvidence::from_verified(&verified, mal).map(PoolEvent::Equivocation));
                    entry.clean.insert(signer, verified);
                } else {
                    entry.pending_clean.insert(signer, checked);
                }
            }
        }
        if entry.decision.is_none() {
            if let Some(decision) = decide(entry, &committee, &mut events, key.1) {
                entry.decision = Some(decision.clone());
                events.push(PoolEvent::Decided { epoch: key.0, tx_hash: key.1, decision });
            }
        }
        Ok(events)
    }

    /// Takes a certificate verified elsewhere (a peer's, checked on
    /// arrival) as the decision on its transaction, so that votes arriving
    /// later are kept without spending another verification on them.
    /// Returns whether it decided the transaction: false if the pool had
    /// already decided it (certified or quarantined), or does not know the
    /// certificate's epoch.
    pub fn record_certificate(&mut self, cert: VerifiedCertificate, now_ms: u64) -> bool {
        let key = (cert.certificate().epoch, cert.certificate().tx_hash);
        if cert.certificate().kind != VoteKind::Clean || !self.committees.contains_key(&key.0) {
            return false;
        }
        // An eviction here concerns an older transaction the caller no
        // longer waits on more than the pool does: nothing to report.
        self.track(key, now_ms, &mut Vec::new());
        match self.entries.get_mut(&key) {
            Some(entry) if entry.decision.is_none() => {
                entry.decision = Some(Decision::Certified(cert));
                true
            }
            _ => false,
        }
    }

    /// Quarantines every undecided transaction whose deadline has passed.
    pub fn tick(&mut self, now_ms: u64) -> Vec<PoolEvent> {
        let deadline = self.config.deadline_ms;
        let mut due: Vec<(u64, (u64, B256))> = self
            .entries
            .iter()
            .filter(|(_, e)| e.decision.is_none() && now_ms >= e.first_seen_ms.saturating_add(deadline))
            .map(|(k, e)| (e.seq, *k))
            .collect();
        due.sort_unstable();
        let mut events = Vec::new();
        for (_, key) in due {
            let Some(committee) = self.committees.get(&key.0) else { continue };
            let Some(entry) = self.entries.get_mut(&key) else { continue };
            let clean = committee.stake_of(entry.clean.keys().map(|&i| i as usize));
            let decision = Decision::Quarantined(QuarantineReason::Deadline { clean, total: committee.total_stake() });
            entry.decision = Some(decision.clone());
            events.push(PoolEvent::Decided { epoch: key.0, tx_hash: key.1, decision });
        }
        events
    }

    /// Starts tracking `key` (first seen `now_ms`) unless it is tracked,
    /// evicting the oldest entries to stay within bounds.
    fn track(&mut self, key: (u64, B256), now_ms: u64, events: &mut Vec<PoolEvent>) {
        if self.entries.contains_key(&key) {
            return;
        }
        self.make_room(events);
        let seq = self.next_seq;
        self.next_seq = self.next_seq.saturating_add(1);
        self.by_age.insert(seq, key);
        self.entries.insert(
            key,
            Entry {
                seq,
                first_seen_ms: now_ms,
                pending_clean: BTreeMap::new(),
                clean: BTreeMap::new(),
                malicious: BTreeMap::new(),
                decision: None,
            },
        );
    }

    fn make_room(&mut self, events: &mut Vec<PoolEvent>) {
        while self.entries.len() >= self.config.max_transactions.max(1) {
            let Some((_, key)) = self.by_age.pop_first() else { break };
            self.entries.remove(&key);
            events.push(PoolEvent::Evicted { epoch: key.0, tx_hash: key.1 });
        }
    }
}

/// Settles pending votes when they could pass the threshold and returns a
/// decision if one is reached.
fn decide(entry: &mut Entry, committee: &VerifiedCommittee, events: &mut Vec<PoolEvent>, tx: B256) -> Option<Decision> {
    let stake = |m: &BTreeMap<u32, VerifiedVote>| m.values().fold(U256::ZERO, |a, v| a.saturating_add(v.stake()));
    let verified_clean = stake(&entry.clean);
    let pending = entry.pending_clean.values().fold(U256::ZERO, |a, v| a.saturating_add(v.stake()));
    if !entry.pending_clean.is_empty() && committee.passes_threshold(verified_clean.saturating_add(pending)) {
        settle_pending(entry, committee, events, tx);
    }
    if committee.passes_threshold(stake(&entry.clean)) {
        return certificate(entry, committee).map(Decision::Certified);
    }
    let malicious = stake(&entry.malicious);
    if !committee.passes_threshold(committee.total_stake().saturating_sub(malicious)) {
        return Some(Decision::Quarantined(QuarantineReason::MaliciousStake {
            malicious,
            total: committee.total_stake(),
        }));
    }
    None
}

/// Optimistic aggregation: one verification for all pending votes; only if
/// it fails, one per vote, dropping and naming the bad ones.
fn settle_pending(entry: &mut Entry, committee: &VerifiedCommittee, events: &mut Vec<PoolEvent>, tx: B256) {
    let pending = std::mem::take(&mut entry.pending_clean);
    let Some((_, first)) = pending.first_key_value() else { return };
    let digest = first.message().digest();
    let keys: Vec<&PublicKey> = pending.keys().filter_map(|&i| committee.key(i)).collect();
    let agg_ok = match (PublicKey::aggregate(keys), Signature::aggregate(pending.values().map(CheckedVote::signature)))
    {
        (Some(pk), Some(sig)) => sig.verify(&pk, &digest),
        _ => false,
    };
    for (signer, vote) in pending {
        if agg_ok {
            entry.clean.insert(signer, vote.verified_in_aggregate());
        } else {
            match vote.verify(committee) {
                Ok(v) => {
                    entry.clean.insert(signer, v);
                }
                Err(_) => events.push(PoolEvent::BadVote { signer, tx_hash: tx }),
            }
        }
    }
}

fn certificate(entry: &Entry, committee: &VerifiedCommittee) -> Option<VerifiedCertificate> {
    let first = entry.clean.values().next()?.vote();
    let signers = SignerBitmap::from_indexes(committee.len(), entry.clean.keys().map(|&i| i as usize)).ok()?;
    let signature = Signature::aggregate(entry.clean.values().map(VerifiedVote::signature))?;
    let cert = Certificate {
        chain_id: first.chain_id,
        epoch: first.epoch,
        tx_hash: first.tx_hash,
        kind: VoteKind::Clean,
        signers,
        signature: signature.to_bytes(),
    };
    let stake = committee.stake_of(entry.clean.keys().map(|&i| i as usize));
    Some(VerifiedCertificate::from_verified_parts(cert, stake))
}

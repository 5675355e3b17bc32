//! The aggregation pool: votes in, certificates and quarantines out.
//!
//! ```text
//! vote --check--> pending clean votes ----(pending + verified clean stake > q)----+
//!   |                                                                             v
//!   |                              aggregate pending signatures, verify ONCE ---- ok --> all verified
//!   |                              (here, or by the caller: insert_deferred -> AggregateClaim -> complete)
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
use vigil_crypto::{InvalidSignature, PublicKey, Signature, SignatureCheck, ValidSignature};
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

/// Pending clean votes on one transaction whose aggregate signature must
/// verify before they count. [`AggregationPool::insert_deferred`] hands it
/// out instead of spending the pairing under the caller's lock; the caller
/// verifies [`Self::check`] (batched with other transactions' claims, by a
/// [`vigil_crypto::BatchVerifier`]) and gives the outcome to
/// [`AggregationPool::complete`].
#[derive(Debug, Clone)]
pub struct AggregateClaim {
    epoch: u64,
    tx_hash: B256,
    signers: Vec<u32>,
    check: SignatureCheck,
}

impl AggregateClaim {
    /// The pairing check: the signers' aggregate key, the vote digest, the
    /// aggregate signature.
    pub fn check(&self) -> &SignatureCheck {
        &self.check
    }

    /// The transaction.
    pub fn tx_hash(&self) -> B256 {
        self.tx_hash
    }
}

/// What [`AggregationPool::insert_deferred`] and
/// [`AggregationPool::complete`] concluded.
#[derive(Debug, Default)]
pub struct Inserted {
    /// Decisions and findings, as from [`AggregationPool::insert`].
    pub events: Vec<PoolEvent>,
    /// An aggregate to verify before the transaction can be certified.
    pub claim: Option<AggregateClaim>,
}

#[derive(Debug)]
struct Entry {
    seq: u64,
    first_seen_ms: u64,
    pending_clean: BTreeMap<u32, CheckedVote>,
    /// Pending votes handed out in an [`AggregateClaim`], until it comes
    /// back.
    in_flight: BTreeMap<u32, CheckedVote>,
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
    /// events say what the pool concluded. Pairings are done here.
    pub fn insert(&mut self, vote: Vote, now_ms: u64) -> Result<Vec<PoolEvent>, VoteRejection> {
        let Inserted { mut events, mut claim } = self.insert_deferred(vote, now_ms)?;
        while let Some(c) = claim.take() {
            let outcome = c.check.clone().verify();
            let more = self.complete(c, outcome, now_ms);
            events.extend(more.events);
            claim = more.claim;
        }
        Ok(events)
    }

    /// [`Self::insert`], except that pending clean votes ready to pass the
    /// threshold come back as an [`AggregateClaim`] for the caller to
    /// verify, rather than verified here. Votes on the transaction that
    /// arrive meanwhile wait; a malicious vote (rare, and needed at once to
    /// tell equivocation from forgery) is still verified here.
    pub fn insert_deferred(&mut self, vote: Vote, now_ms: u64) -> Result<Inserted, VoteRejection> {
        let committee =
            self.committees.get(&vote.epoch).cloned().ok_or(VoteRejection::EpochOutsideWindow { epoch: vote.epoch })?;
        let checked = CheckedVote::check(&committee, vote)?;
        let key = (checked.vote().epoch, checked.vote().tx_hash);
        let mut events = Vec::new();
        self.track(key, now_ms, &mut events);
        let Some(entry) = self.entries.get_mut(&key) else { return Ok(Inserted { events, claim: None }) };
        let signer = checked.vote().signer;
        match checked.vote().kind {
            VoteKind::Malicious => {
                if entry.malicious.contains_key(&signer) {
                    return Err(VoteRejection::Duplicate { index: signer, kind: VoteKind::Malicious });
                }
                let verified = checked.verify(&committee)?;
                // A pending clean vote of the same signer must be settled now
                // to tell equivocation from a forged vote.
                if let Some(pending) = entry.pending_clean.remove(&signer).or_else(|| entry.in_flight.remove(&signer)) {
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
                let waiting = entry.pending_clean.get(&signer).or_else(|| entry.in_flight.get(&signer));
                if let Some(p) = waiting {
                    if p.signature() == checked.signature() {
                        return Err(VoteRejection::Duplicate { index: signer, kind: VoteKind::Clean });
                    }
                    // Two different signatures for one message: at most one
                    // is genuine. Settle the newcomer alone.
                    let verified = checked.verify(&committee)?;
                    entry.pending_clean.remove(&signer);
                    entry.in_flight.remove(&signer);
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
        let claim = conclude(entry, &committee, &mut events, key);
        Ok(Inserted { events, claim })
    }

    /// Takes back an [`AggregateClaim`] with the outcome of verifying its
    /// check. On a valid aggregate its votes count; otherwise each is
    /// verified alone and the bad ones are named. A claim on a transaction
    /// the pool no longer tracks is dropped.
    pub fn complete(
        &mut self,
        claim: AggregateClaim,
        outcome: Result<ValidSignature, InvalidSignature>,
        _now_ms: u64,
    ) -> Inserted {
        let key = (claim.epoch, claim.tx_hash);
        let mut events = Vec::new();
        let (Some(committee), Some(entry)) = (self.committees.get(&key.0).cloned(), self.entries.get_mut(&key)) else {
            return Inserted::default();
        };
        let votes = std::mem::take(&mut entry.in_flight);
        // The aggregate speaks for these votes only if none was taken out
        // meanwhile (by a second signature or a malicious vote of a signer).
        let valid = votes.keys().eq(claim.signers.iter()) && matches!(&outcome, Ok(v) if *v.check() == claim.check);
        settle(entry, votes, valid, &committee, &mut events, key.1);
        let claim = conclude(entry, &committee, &mut events, key);
        Inserted { events, claim }
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
                in_flight: BTreeMap::new(),
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

/// Decides the entry if it can be; hands out a claim when pending clean
/// votes could pass the threshold (none is out already).
fn conclude(
    entry: &mut Entry,
    committee: &VerifiedCommittee,
    events: &mut Vec<PoolEvent>,
    key: (u64, B256),
) -> Option<AggregateClaim> {
    if entry.decision.is_some() {
        return None;
    }
    let claim = claim_pending(entry, committee, events, key);
    if let Some(decision) = decide(entry, committee) {
        entry.decision = Some(decision.clone());
        events.push(PoolEvent::Decided { epoch: key.0, tx_hash: key.1, decision });
    }
    claim
}

/// Optimistic aggregation: one verification for all pending votes, once
/// they could pass the threshold; only if it fails, one per vote.
fn claim_pending(
    entry: &mut Entry,
    committee: &VerifiedCommittee,
    events: &mut Vec<PoolEvent>,
    key: (u64, B256),
) -> Option<AggregateClaim> {
    let stake = |m: &BTreeMap<u32, CheckedVote>| m.values().fold(U256::ZERO, |a, v| a.saturating_add(v.stake()));
    let verified = entry.clean.values().fold(U256::ZERO, |a, v| a.saturating_add(v.stake()));
    // Verified votes already enough (the certificate needs no more), or
    // verified and pending together not enough: nothing to verify yet.
    if entry.pending_clean.is_empty()
        || !entry.in_flight.is_empty()
        || committee.passes_threshold(verified)
        || !committee.passes_threshold(verified.saturating_add(stake(&entry.pending_clean)))
    {
        return None;
    }
    let pending = std::mem::take(&mut entry.pending_clean);
    let digest = pending.values().next().map(|v| v.message().digest());
    let keys: Vec<&PublicKey> = pending.keys().filter_map(|&i| committee.key(i)).collect();
    let aggregate =
        (PublicKey::aggregate(keys), Signature::aggregate(pending.values().map(CheckedVote::signature)), digest);
    match aggregate {
        (Some(public_key), Some(signature), Some(digest)) => {
            let signers = pending.keys().copied().collect();
            entry.in_flight = pending;
            Some(AggregateClaim {
                epoch: key.0,
                tx_hash: key.1,
                signers,
                check: SignatureCheck { public_key, digest, signature },
            })
        }
        // Not aggregable (a key missing): each alone.
        _ => {
            settle(entry, pending, false, committee, events, key.1);
            None
        }
    }
}

/// Counts `votes` as verified when their aggregate was; otherwise verifies
/// each alone, dropping and naming the bad ones.
fn settle(
    entry: &mut Entry,
    votes: BTreeMap<u32, CheckedVote>,
    aggregate_valid: bool,
    committee: &VerifiedCommittee,
    events: &mut Vec<PoolEvent>,
    tx: B256,
) {
    for (signer, vote) in votes {
        if aggregate_valid {
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

/// The decision verified votes support, if any.
fn decide(entry: &Entry, committee: &VerifiedCommittee) -> Option<Decision> {
    let stake = |m: &BTreeMap<u32, VerifiedVote>| m.values().fold(U256::ZERO, |a, v| a.saturating_add(v.stake()));
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

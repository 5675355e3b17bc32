//! Batch attestations, the fast path (DESIGN §4b):
//!
//! ```text
//! client tx --judge--> ready --propose (when this node's previous batch is decided)--> gossip batch
//! gossip batch --admit + judge each--> all judged --sign root--> batch vote:
//!   route gossip:   gossiped --> every node's batch pool --one aggregate check--> batch certificate
//!   route proposer: sent to the proposer alone (gossiped if it does not take it) --> its batch pool
//!                   --one aggregate check--> batch certificate --gossip--> every node checks it once
//! batch certificate --> inclusion proofs stored, one push per batch
//! no certificate in batch_timeout_ms --> each judged transaction voted on alone (§4)
//! ```
//!
//! Gossiped votes reach every node once per mesh peer that has them, so
//! gossip per transaction grows with the committee times the mesh degree,
//! but every node decides a batch as soon as it holds the votes. Sent to
//! the proposer, a batch costs one proposal and one certificate through
//! the mesh plus one vote per member, and a decision waits for one more
//! hop and one more pairing in sequence ([`VoteRoute`]).
//!
//! A node proposes the clients' transactions it received, in batches that
//! adapt to load: a batch goes out as soon as the previous one is decided,
//! so at low load it holds one transaction and waits for nothing, and
//! under load it holds what arrived meanwhile. Every member judges each
//! transaction of a batch and signs the root over its own verdicts, so
//! honest members' votes aggregate; a member signs only once it has judged
//! every transaction of the batch.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::{Duration, Instant},
};

use alloy_primitives::{keccak256, Bytes, B256};
use vigil_consensus::{
    batch_inclusions, prepare_batch_certificate, BatchCompletion, BatchKey, VerifiedBatchCertificate, VoteRejection,
};
use vigil_net::{PeerId, Validation};
use vigil_types::{
    codec::Wire,
    gossip::{MAX_PROPOSAL_BYTES, MAX_PROPOSAL_TXS},
    Attestation, BatchCertificate, BatchLeaf, BatchMessage, BatchProposal, BatchPush, BatchTree, BatchVote, Topic,
    Transaction, VoteKind,
};

use super::{blocking, now_ms, push::push, Ballot, Inspector, NodeEvent, VoteRoute};
use crate::store::{QuarantineRecord, Review};

/// Batches whose votes the pool keeps at most.
pub(super) const POOLED_BATCHES: usize = 4096;

/// Proposal ids remembered to drop gossip duplicates.
const SEEN_PROPOSALS: usize = 65_536;

/// Open batches (being judged or waiting for a certificate) at most; the
/// oldest falls back to §4 beyond it.
const OPEN_BATCHES: usize = 4096;

/// A batch this node works on: its own proposal or a peer's.
#[derive(Debug)]
struct Open {
    txs: Vec<B256>,
    raws: Vec<Bytes>,
    /// This node's verdict on each, once judged.
    kinds: Vec<Option<VoteKind>>,
    created: Instant,
    /// Set once this node signed the batch.
    key: Option<BatchKey>,
    /// This node proposed it.
    own: bool,
    /// The peer that proposed it (its gossip message's author), where this
    /// node's vote goes.
    proposer: Option<PeerId>,
    /// Some member sent its vote on it here directly (its own batch): the
    /// certificate is gossiped whatever this node's route, since that
    /// member's peers never saw its vote.
    direct_votes: bool,
}

impl Open {
    fn complete(&self) -> bool {
        self.kinds.iter().all(Option::is_some)
    }

    fn leaves(&self) -> Vec<BatchLeaf> {
        self.txs
            .iter()
            .zip(&self.kinds)
            .map(|(t, k)| BatchLeaf { tx_hash: *t, kind: k.unwrap_or(VoteKind::Clean) })
            .collect()
    }
}

/// The batches of a node.
#[derive(Debug, Default)]
pub(super) struct Batches {
    /// Clients' transactions judged here, waiting for this node's next
    /// proposal, with the verdict.
    ready: Vec<(B256, Bytes, VoteKind)>,
    /// This node's proposal not decided yet.
    outstanding: Option<B256>,
    open: HashMap<B256, Open>,
    by_tx: HashMap<B256, Vec<B256>>,
    by_key: HashMap<BatchKey, B256>,
    /// Proposals seen, so a gossiped one is taken once (the newest
    /// [`SEEN_PROPOSALS`]).
    seen: (HashSet<B256>, std::collections::VecDeque<B256>),
}

impl Batches {
    /// Records a proposal as seen; whether it was new.
    fn see(&mut self, id: B256) -> bool {
        if !self.seen.0.insert(id) {
            return false;
        }
        self.seen.1.push_back(id);
        if self.seen.1.len() > SEEN_PROPOSALS {
            if let Some(old) = self.seen.1.pop_front() {
                self.seen.0.remove(&old);
            }
        }
        true
    }

    /// Registers a batch; its id.
    fn open(&mut self, id: B256, batch: Open) {
        for tx in &batch.txs {
            self.by_tx.entry(*tx).or_default().push(id);
        }
        self.open.insert(id, batch);
    }

    /// A batch this node has not signed (a transaction it could not
    /// judge: included meanwhile, say) whose leaves are `key`'s root when
    /// the verdicts it lacks are clean: certified by the others, it is
    /// decided here too.
    fn unsigned_with_root(&self, key: &BatchKey) -> Option<B256> {
        self.open.iter().find_map(|(id, o)| {
            let fits = o.key.is_none() && o.txs.len() == key.count as usize;
            let root = fits.then(|| BatchTree::new(o.leaves()).ok()).flatten()?.root();
            (root == key.root).then_some(*id)
        })
    }

    /// Forgets a batch.
    fn close(&mut self, id: &B256) -> Option<Open> {
        let batch = self.open.remove(id)?;
        for tx in &batch.txs {
            if let Some(ids) = self.by_tx.get_mut(tx) {
                ids.retain(|i| i != id);
                if ids.is_empty() {
                    self.by_tx.remove(tx);
                }
            }
        }
        if let Some(key) = batch.key {
            self.by_key.remove(&key);
        }
        if self.outstanding == Some(*id) {
            self.outstanding = None;
        }
        Some(batch)
    }

    /// Takes the next proposal from `ready` if none of this node's is
    /// outstanding: at most [`MAX_PROPOSAL_TXS`] transactions and
    /// [`MAX_PROPOSAL_BYTES`] bytes, oldest first.
    fn take_proposal(&mut self) -> Option<Vec<(B256, Bytes, VoteKind)>> {
        if self.outstanding.is_some() || self.ready.is_empty() {
            return None;
        }
        let (mut n, mut bytes) = (0, 0);
        for (_, raw, _) in &self.ready {
            if n == MAX_PROPOSAL_TXS || bytes + raw.len() > MAX_PROPOSAL_BYTES {
                break;
            }
            n += 1;
            bytes += raw.len();
        }
        Some(self.ready.drain(..n.max(1)).collect())
    }
}

impl Inspector {
    fn lock_batches(&self) -> std::sync::MutexGuard<'_, Batches> {
        self.batches.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Verdicts stored without a vote: each fills its batches' leaves (and
    /// signs those now complete), or, for a client's transaction received
    /// here and in no batch yet, waits for this node's next proposal.
    pub(super) async fn batched_verdicts(&self, verdicts: Vec<(B256, VoteKind, Option<Bytes>)>) {
        let mut complete = Vec::new();
        {
            let mut b = self.lock_batches();
            for (tx, kind, propose) in verdicts {
                let ids = b.by_tx.get(&tx).cloned().unwrap_or_default();
                if ids.is_empty() {
                    if let Some(raw) = propose {
                        b.ready.push((tx, raw, kind));
                    }
                    continue;
                }
                for id in ids {
                    if let Some(open) = b.open.get_mut(&id) {
                        for (i, t) in open.txs.iter().enumerate() {
                            if *t == tx {
                                open.kinds[i] = Some(kind);
                            }
                        }
                        if open.key.is_none() && open.complete() {
                            complete.push(id);
                        }
                    }
                }
            }
        }
        for id in complete {
            self.sign_batch(id).await;
        }
        self.proposer.notify_one();
    }

    /// The proposer: sends this node's next proposal whenever woken.
    pub(super) async fn proposer(self: Arc<Self>) {
        loop {
            self.proposer.notified().await;
            self.propose().await;
        }
    }

    /// Sends this node's next proposal, if it has transactions ready and
    /// its previous proposal is decided; signs it at once (it judged them).
    async fn propose(&self) {
        let (id, proposal) = {
            let mut b = self.lock_batches();
            let Some(items) = b.take_proposal() else { return };
            let proposal = BatchProposal { chain_id: self.chain_id, txs: items.iter().map(|i| i.1.clone()).collect() };
            let bytes = proposal.encode();
            let id = keccak256(&bytes);
            b.see(id);
            b.outstanding = Some(id);
            b.open(
                id,
                Open {
                    txs: items.iter().map(|i| i.0).collect(),
                    raws: items.iter().map(|i| i.1.clone()).collect(),
                    kinds: items.iter().map(|i| Some(i.2)).collect(),
                    created: Instant::now(),
                    key: None,
                    own: true,
                    proposer: None,
                    direct_votes: false,
                },
            );
            (id, bytes)
        };
        self.metrics.batch_size.observe(self.lock_batches().open.get(&id).map_or(0, |o| o.txs.len()) as f64);
        if let Err(e) = self.net.publish(Topic::Batch, proposal).await {
            tracing::debug!(batch = %id, error = %e, "batch proposal not gossiped");
        }
        self.sign_batch(id).await;
    }

    /// A peer's proposal (`author` published it): each transaction
    /// admitted and judged here (or its stored verdict taken), then the
    /// batch signed.
    pub(super) async fn on_proposal(
        &self,
        proposal: BatchProposal,
        author: Option<PeerId>,
    ) -> (Validation, &'static str) {
        if proposal.chain_id != self.chain_id {
            return (Validation::Reject, "invalid");
        }
        let id = keccak256(proposal.encode());
        let mut txs = Vec::with_capacity(proposal.txs.len());
        for raw in &proposal.txs {
            match Transaction::decode(raw) {
                Ok(tx) => txs.push(tx),
                Err(_) => return (Validation::Reject, "malformed"),
            }
        }
        let hashes: Vec<B256> = txs.iter().map(Transaction::hash).collect();
        if hashes.iter().collect::<HashSet<_>>().len() != hashes.len() {
            return (Validation::Reject, "invalid");
        }
        if self.signer_index().is_none() {
            return (Validation::Accept, "accepted");
        }
        {
            let mut b = self.lock_batches();
            if !b.see(id) {
                return (Validation::Ignore, "duplicate");
            }
            // Another node proposes them: this node does not as well.
            let proposed: HashSet<&B256> = hashes.iter().collect();
            b.ready.retain(|(t, _, _)| !proposed.contains(t));
            if b.open.len() >= OPEN_BATCHES {
                return (Validation::Ignore, "busy");
            }
            b.open(
                id,
                Open {
                    txs: hashes.clone(),
                    raws: proposal.txs.clone(),
                    kinds: vec![None; hashes.len()],
                    created: Instant::now(),
                    key: None,
                    own: false,
                    proposer: author,
                    direct_votes: false,
                },
            );
        }
        // Judged on its own task: gossipsub forwards the proposal now.
        if let Some(me) = self.this.upgrade() {
            tokio::spawn(async move { me.judge_proposed(txs, hashes).await });
        }
        (Validation::Accept, "accepted")
    }

    /// A proposal's transactions: verdicts this node has already (the
    /// transaction came another way) taken, the others admitted and judged.
    async fn judge_proposed(&self, txs: Vec<Transaction>, hashes: Vec<B256>) {
        let taken = self.admit_proposed(&txs);
        let known: Vec<(B256, VoteKind, Option<Bytes>)> = blocking(|| {
            hashes
                .iter()
                .filter(|h| !taken.contains(h))
                .filter_map(|h| self.store.verdict(*h).ok().flatten().map(|v| (*h, v.kind, None)))
                .collect()
        });
        if !known.is_empty() {
            self.batched_verdicts(known).await;
        }
    }

    /// Signs this node's verdicts on batch `id` (every one judged) and
    /// casts the batch vote: pooled here, and sent to the batch's proposer
    /// (gossiped when it cannot be reached).
    async fn sign_batch(&self, id: B256) {
        let (epoch, signer) = {
            let state = self.epoch_state();
            let Some(index) = state.index else { return };
            (state.committee.epoch(), index)
        };
        let Some(tree) = ({
            let b = self.lock_batches();
            b.open.get(&id).filter(|o| o.key.is_none() && o.complete()).map(|o| BatchTree::new(o.leaves()))
        }) else {
            return;
        };
        let tree = match tree {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(batch = %id, error = %e, "batch not signable");
                return;
            }
        };
        let msg = BatchMessage { chain_id: self.chain_id, epoch, count: tree.count(), root: tree.root() };
        let signature = self.key.sign(&msg.digest()).to_bytes();
        let vote = BatchVote { chain_id: self.chain_id, epoch, count: msg.count, root: msg.root, signer, signature };
        let key = BatchKey::of(&vote);
        let (own, proposer) = {
            let mut b = self.lock_batches();
            let Some(open) = b.open.get_mut(&id) else { return };
            open.key = Some(key);
            let route = (open.own, open.proposer);
            b.by_key.insert(key, id);
            route
        };
        if own {
            self.metrics.batch_votes.with_label_values(&["own"]).inc();
            // Gossiped too when every node aggregates for itself.
            if self.config.batch_votes == VoteRoute::Gossip {
                self.gossip_batch_vote(id, vote.encode()).await;
            }
        } else {
            let proposer = proposer.filter(|_| self.config.batch_votes == VoteRoute::Proposer);
            self.cast_batch_vote(id, &vote, proposer);
        }
        if let Err(e) = self.pool_batch_vote(vote, true).await {
            tracing::error!(batch = %id, error = %e, "own batch vote refused by the pool");
        }
        // The batch may be decided before this node signed it (with three
        // of four members, the last one always finds it so): the
        // proposer's certificate arrived first, or votes gossiped as a
        // fallback formed it here without its leaves.
        let formed =
            self.batch_pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner).certificate(&key).cloned();
        if let Some(cert) = formed {
            self.on_batch_certificate(cert).await;
        }
    }

    /// Casts this node's vote on a peer's batch: sent to `proposer` on its
    /// own task (route `proposer`), gossiped when there is none or it does
    /// not take the vote.
    fn cast_batch_vote(&self, id: B256, vote: &BatchVote, proposer: Option<PeerId>) {
        let Some(me) = self.this.upgrade() else { return };
        let bytes = vote.encode();
        tokio::spawn(async move {
            if let Some(peer) = proposer.filter(|p| *p != me.net.local_peer_id()) {
                match me.net.send(peer, Topic::BatchVote, bytes.clone()).await {
                    Ok(()) => {
                        me.metrics.batch_votes.with_label_values(&["direct"]).inc();
                        return;
                    }
                    Err(e) => tracing::debug!(batch = %id, %peer, error = %e, "batch vote not taken by its proposer"),
                }
            }
            me.metrics.batch_votes.with_label_values(&["gossip"]).inc();
            me.gossip_batch_vote(id, bytes).await;
        });
    }

    async fn gossip_batch_vote(&self, id: B256, bytes: Vec<u8>) {
        if let Err(e) = self.net.publish(Topic::BatchVote, bytes).await {
            tracing::debug!(batch = %id, error = %e, "batch vote not gossiped");
        }
    }

    /// A peer sent `vote` here directly: notes it on this node's batch of
    /// that root, whose certificate the voter's peers then need.
    pub(super) fn note_direct_vote(&self, vote: &BatchVote) {
        let mut b = self.lock_batches();
        if let Some(id) = b.by_key.get(&BatchKey::of(vote)).copied() {
            if let Some(open) = b.open.get_mut(&id) {
                open.direct_votes = true;
            }
        }
    }

    /// A batch certificate a peer gossiped (its batch's proposer, which
    /// aggregated the votes): checked once (one pairing, on the verifier),
    /// recorded, and acted on. One already known costs nothing.
    pub(super) async fn on_gossiped_batch_certificate(&self, cert: BatchCertificate) -> (Validation, &'static str) {
        if cert.chain_id != self.chain_id {
            return (Validation::Reject, "invalid");
        }
        let key = BatchKey { epoch: cert.epoch, count: cert.count, root: cert.root };
        if self.batch_pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner).certificate(&key).is_some() {
            return (Validation::Ignore, "known");
        }
        let Some(committee) = self.epoch_state().committee_of(cert.epoch).cloned() else {
            return (Validation::Ignore, "other_epoch");
        };
        let pending = match prepare_batch_certificate(&committee, &cert) {
            Ok(p) => p,
            Err(_) => return (Validation::Reject, "invalid"),
        };
        let outcome = self.verifier.verify(pending.check().clone()).await;
        let Ok(verified) = pending.complete(outcome) else { return (Validation::Reject, "invalid") };
        let new = self
            .batch_pool
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .record_certificate(verified.clone());
        if new {
            self.on_batch_certificate(verified).await;
        }
        (Validation::Accept, "accepted")
    }

    /// A peer's batch vote: checked (member, epoch, signature encoding)
    /// and pooled here, so gossipsub can forward it at once; the pairing of
    /// an aggregate it completes runs after, on its own task (a slow check
    /// must not hold a vote back from the rest of the mesh).
    pub(super) async fn on_batch_vote(&self, vote: BatchVote) -> (Validation, &'static str) {
        let state = self.epoch_state();
        if state.index == Some(vote.signer) && vote.epoch == state.committee.epoch() {
            return (Validation::Ignore, "own");
        }
        match self.insert_batch_vote(&vote, false) {
            Ok(claim) => {
                if let (Some((committee, claim)), Some(me)) = (claim, self.this.upgrade()) {
                    tokio::spawn(async move { me.resolve_batch_claim(committee, claim).await });
                }
                (Validation::Accept, "accepted")
            }
            Err(VoteRejection::DuplicateBatch { .. }) => (Validation::Ignore, "duplicate"),
            Err(VoteRejection::EpochOutsideWindow { .. }) => (Validation::Ignore, "other_epoch"),
            Err(_) => (Validation::Reject, "invalid"),
        }
    }

    /// Adds a batch vote to the pool; a claim is checked on the verifier
    /// (one pairing for the batch) and a certificate acted on.
    async fn pool_batch_vote(&self, vote: BatchVote, own: bool) -> Result<(), VoteRejection> {
        if let Some((committee, claim)) = self.insert_batch_vote(&vote, own)? {
            self.resolve_batch_claim(committee, claim).await;
        }
        Ok(())
    }

    /// Pools a batch vote against its epoch's committee: the claim (and that
    /// committee) when the batch's pending stake first passes the threshold.
    fn insert_batch_vote(
        &self,
        vote: &BatchVote,
        own: bool,
    ) -> Result<Option<(Arc<vigil_consensus::VerifiedCommittee>, vigil_consensus::BatchClaim)>, VoteRejection> {
        let Some(committee) = self.epoch_state().committee_of(vote.epoch).cloned() else {
            return Err(VoteRejection::EpochOutsideWindow { epoch: vote.epoch });
        };
        let claim =
            self.batch_pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(&committee, vote, own)?;
        Ok(claim.map(|c| (committee, c)))
    }

    /// Checks a claim's aggregate (one pairing on the verifier) and acts on
    /// the certificate it makes.
    async fn resolve_batch_claim(
        &self,
        committee: Arc<vigil_consensus::VerifiedCommittee>,
        claim: vigil_consensus::BatchClaim,
    ) {
        let outcome = self.verifier.verify(claim.check().clone()).await;
        let completion = {
            let mut pool = self.batch_pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            pool.complete(&committee, claim, outcome)
        };
        match completion {
            BatchCompletion::Certified(cert) => self.on_batch_certificate(cert).await,
            BatchCompletion::Dropped { bad } => {
                tracing::warn!(?bad, "batch votes that do not verify, dropped");
            }
            BatchCompletion::Stale => {}
        }
    }

    /// A batch certificate: when this node signed the same root it holds
    /// the leaves, so each transaction gets its inclusion proof (stored in
    /// one write), clean ones are certified and malicious ones quarantined,
    /// and the batch is pushed to the sequencers in one call per sequencer.
    async fn on_batch_certificate(&self, cert: VerifiedBatchCertificate) {
        let key = BatchKey {
            epoch: cert.certificate().epoch,
            count: cert.certificate().count,
            root: cert.certificate().root,
        };
        let Some((id, open)) = ({
            let mut b = self.lock_batches();
            let id = b.by_key.get(&key).copied().or_else(|| b.unsigned_with_root(&key));
            id.and_then(|id| b.close(&id).map(|o| (id, o)))
        }) else {
            return;
        };
        let tree = match BatchTree::new(open.leaves()) {
            Ok(t) => t,
            Err(_) => return,
        };
        let Ok(proofs) = batch_inclusions(&cert, &tree) else { return };
        let proofs: Vec<_> = proofs.into_iter().map(|p| p.proof().clone()).collect();
        if let Err(e) = blocking(|| self.store.put_inclusions(&proofs)) {
            tracing::error!(batch = %id, error = %e, "could not store the batch's inclusion proofs");
        }
        let now = Instant::now();
        let formed = self.metrics.certificates.with_label_values(&["batch"]);
        for proof in &proofs {
            self.lock_inflight().decided(&proof.tx_hash, now);
            if proof.kind == VoteKind::Malicious {
                let record = QuarantineRecord {
                    tx_hash: proof.tx_hash,
                    reason: format!("batch certificate of epoch {} says malicious", key.epoch),
                    since_ms: now_ms(),
                    block_number: self.view().head().number + 1,
                    review: Review::default(),
                };
                if blocking(|| self.store.quarantine(&record)).is_ok() {
                    self.metrics.quarantined.inc();
                    tracing::warn!(tx = %proof.tx_hash, "quarantined: its batch says malicious");
                    let _ = self.events.send(NodeEvent::Quarantine(Arc::new(record)));
                }
            }
            formed.inc();
            let _ = self.events.send(NodeEvent::Certificate(Arc::new(Attestation::Inclusion(proof.clone()))));
        }
        if let Some(first) = blocking(|| self.store.tx(open.txs[0])).ok().flatten() {
            let waited = now_ms().saturating_sub(first.received_ms);
            self.metrics.stage_seconds.with_label_values(&["certify"]).observe(waited as f64 / 1000.0);
        }
        tracing::debug!(batch = %id, root = %key.root, txs = open.txs.len(), own = open.own, "batch certified");
        if open.own {
            // With votes sent here, the others learn the batch is decided
            // from this certificate.
            if self.config.batch_votes == VoteRoute::Proposer || open.direct_votes {
                if let Err(e) = self.net.publish(Topic::BatchCert, cert.certificate().encode()).await {
                    tracing::debug!(batch = %id, error = %e, "batch certificate not gossiped");
                }
            }
            self.proposer.notify_one();
        }
        self.push_batch(cert, open).await;
    }

    /// Pushes a certified batch to the sequencers: at once by the member
    /// whose turn the root designates, by the others later and only if
    /// some of its transactions are still not included.
    async fn push_batch(&self, cert: VerifiedBatchCertificate, open: Open) {
        if self.config.sequencers.is_empty() {
            return;
        }
        let rank = self.turn(cert.certificate().root);
        let push_body = BatchPush {
            certificate: cert.certificate().clone(),
            transactions: open.raws.clone(),
            kinds: open.kinds.iter().map(|k| k.unwrap_or(VoteKind::Clean)).collect(),
        };
        let body =
            serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": "vigil_submitBatch", "params": [push_body] });
        let Some(me) = self.this.upgrade() else { return };
        tokio::spawn(async move {
            if rank > 0 {
                tokio::time::sleep(Duration::from_millis(1500 * u64::from(rank))).await;
                let pending = open.raws.iter().any(|raw| {
                    let Ok(tx) = Transaction::decode(raw) else { return false };
                    !blocking(|| me.view().nonce_and_balance(tx.sender())).is_ok_and(|(next, _)| next > tx.nonce())
                });
                if !pending {
                    return;
                }
            }
            for url in me.config.sequencers.clone() {
                let (http, body) = (me.http.clone(), body.clone());
                tokio::spawn(async move { push(&http, &url, &body).await });
            }
        });
    }

    /// Batches without a certificate after `batch_timeout_ms` go the §4
    /// way: this node votes alone on each transaction it judged, and
    /// abstains on the others.
    pub(super) async fn expire_batches(&self) {
        let timeout = Duration::from_millis(self.config.batch_timeout_ms);
        // A root whose votes already pass the threshold is only waiting for
        // its aggregate check (a loaded machine): not abandoned for the
        // costlier §4 path, unless it waits four times as long.
        let certifying = |key: &Option<BatchKey>| {
            let Some(key) = key else { return false };
            let Some(committee) = self.epoch_state().committee_of(key.epoch).cloned() else { return false };
            let signers = self.batch_pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner).signers(key);
            committee.passes_threshold(committee.stake_of(signers.into_iter().map(|i| i as usize)))
        };
        let expired: Vec<Open> = {
            let mut b = self.lock_batches();
            let ids: Vec<B256> = b
                .open
                .iter()
                .filter(|(_, o)| {
                    let age = o.created.elapsed();
                    age >= timeout && (age >= 4 * timeout || !certifying(&o.key))
                })
                .map(|(id, _)| *id)
                .collect();
            ids.iter().filter_map(|id| b.close(id)).collect()
        };
        if expired.is_empty() {
            return;
        }
        let mut n = 0usize;
        for open in expired {
            self.metrics.batch_fallbacks.inc();
            let signers =
                open.key.map(|k| self.batch_pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner).signers(&k));
            tracing::debug!(
                txs = open.txs.len(),
                judged = open.kinds.iter().filter(|k| k.is_some()).count(),
                signed = open.key.is_some(),
                ?signers,
                own = open.own,
                "batch expired"
            );
            for (tx, kind) in open.txs.iter().zip(&open.kinds) {
                let Some(kind) = kind else { continue };
                if matches!(blocking(|| self.store.certificate(*tx)), Ok(Some(_))) {
                    continue;
                }
                let Ok(Some(record)) = blocking(|| self.store.verdict(*tx)) else { continue };
                let Some(vote) = self.sign(*tx, *kind) else { return };
                if self.ballots.send(Ballot { record, vote: Some(vote), judged: None, propose: None }).await.is_err() {
                    return;
                }
                n += 1;
            }
        }
        tracing::info!(transactions = n, "batches without a certificate in time: voting on their transactions alone");
        self.proposer.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(i: u8, len: usize) -> (B256, Bytes, VoteKind) {
        (B256::repeat_byte(i), Bytes::from(vec![i; len]), VoteKind::Clean)
    }

    #[test]
    fn a_proposal_takes_what_is_ready_only_when_none_is_outstanding() {
        let mut b = Batches::default();
        assert!(b.take_proposal().is_none(), "nothing ready");
        b.ready.extend((1..=3).map(|i| item(i, 100)));
        b.outstanding = Some(B256::ZERO);
        assert!(b.take_proposal().is_none(), "the previous proposal is not decided");
        b.outstanding = None;
        let p = b.take_proposal().unwrap();
        assert_eq!(p.iter().map(|i| i.0).collect::<Vec<_>>(), (1..=3).map(B256::repeat_byte).collect::<Vec<_>>());
        assert!(b.ready.is_empty());
    }

    #[test]
    fn a_proposal_stops_at_the_count_and_byte_bounds() {
        let mut b = Batches::default();
        b.ready.extend((0..(MAX_PROPOSAL_TXS + 10)).map(|i| item((i % 250) as u8, 10)));
        assert_eq!(b.take_proposal().unwrap().len(), MAX_PROPOSAL_TXS);
        assert_eq!(b.ready.len(), 10);
        let mut b = Batches::default();
        b.ready.extend((0..5).map(|i| item(i, MAX_PROPOSAL_BYTES / 2)));
        assert_eq!(b.take_proposal().unwrap().len(), 2, "two halves fill the bytes");
        // One transaction alone always goes, whatever its size.
        let mut b = Batches::default();
        b.ready.push(item(1, MAX_PROPOSAL_BYTES + 1));
        assert_eq!(b.take_proposal().unwrap().len(), 1);
    }

    #[test]
    fn proposals_seen_are_remembered_up_to_the_bound() {
        let mut b = Batches::default();
        let id = |i: usize| B256::from(alloy_primitives::U256::from(i));
        assert!(b.see(id(0)) && !b.see(id(0)));
        for i in 1..=SEEN_PROPOSALS {
            assert!(b.see(id(i)));
        }
        assert_eq!(b.seen.0.len(), SEEN_PROPOSALS);
        assert!(b.see(id(0)), "the oldest is forgotten");
        assert!(!b.see(id(SEEN_PROPOSALS)));
    }

    #[test]
    fn closing_a_batch_forgets_its_indexes_and_frees_the_proposer() {
        let mut b = Batches::default();
        let id = B256::repeat_byte(9);
        let tx = B256::repeat_byte(1);
        b.open(
            id,
            Open {
                txs: vec![tx],
                raws: vec![Bytes::from_static(b"x")],
                kinds: vec![Some(VoteKind::Clean)],
                created: Instant::now(),
                key: Some(BatchKey { epoch: 1, count: 1, root: B256::ZERO }),
                own: true,
                proposer: None,
                direct_votes: false,
            },
        );
        b.by_key.insert(BatchKey { epoch: 1, count: 1, root: B256::ZERO }, id);
        b.outstanding = Some(id);
        assert!(b.open.get(&id).unwrap().complete());
        assert!(b.close(&id).is_some());
        assert!(b.by_tx.is_empty() && b.by_key.is_empty() && b.outstanding.is_none());
        assert!(b.close(&id).is_none());
    }
}

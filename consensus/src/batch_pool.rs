//! Aggregation of batch votes (DESIGN §4b): votes on the same
//! `(epoch, count, root)` add up until their stake passes the threshold;
//! then their aggregate is checked with one pairing (optimistically, as
//! [`crate::AggregationPool`] does for votes). A failed aggregate is
//! resolved by checking each vote alone, dropping the bad ones; the good
//! ones still certify if their stake suffices.
//!
//! Members that disagree on one verdict compute different roots, so their
//! votes never mix: each root gathers its own stake, and a batch whose
//! members disagree gets no certificate (the node then takes its
//! transactions the §4 way).

use std::collections::{BTreeMap, HashMap, VecDeque};

use vigil_crypto::{InvalidSignature, Signature, SignatureCheck, ValidSignature};
use vigil_types::{BatchCertificate, BatchVote, SignerBitmap, B256, U256};

use crate::{
    certificate::VerifiedBatchCertificate, committee::VerifiedCommittee, error::VoteRejection, vote::check_signer,
};

/// What batch votes are pooled by: the signed statement but the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BatchKey {
    /// Committee epoch.
    pub epoch: u64,
    /// Number of leaves.
    pub count: u32,
    /// Merkle root.
    pub root: B256,
}

impl BatchKey {
    /// The key of `vote`.
    pub fn of(vote: &BatchVote) -> Self {
        Self { epoch: vote.epoch, count: vote.count, root: vote.root }
    }
}

#[derive(Debug)]
struct Entry {
    chain_id: u64,
    /// Signer -> (signature, stake, verified alone or in a valid aggregate).
    votes: BTreeMap<u32, (Signature, U256, bool)>,
    /// A claim is out (its aggregate is being checked).
    claimed: bool,
    certificate: Option<VerifiedBatchCertificate>,
}

impl Entry {
    fn stake(&self) -> U256 {
        self.votes.values().map(|(_, s, _)| *s).fold(U256::ZERO, |a, b| a.saturating_add(b))
    }
}

/// An aggregate of pending batch votes whose stake passes the threshold:
/// check [`BatchClaim::check`] (one pairing) and hand the outcome to
/// [`BatchPool::complete`].
#[derive(Debug, Clone)]
pub struct BatchClaim {
    key: BatchKey,
    signers: SignerBitmap,
    check: SignatureCheck,
}

impl BatchClaim {
    /// The pairing check to run.
    pub fn check(&self) -> &SignatureCheck {
        &self.check
    }

    /// The batch.
    pub fn key(&self) -> BatchKey {
        self.key
    }
}

/// What [`BatchPool::complete`] found.
#[derive(Debug)]
pub enum BatchCompletion {
    /// The batch is certified.
    Certified(VerifiedBatchCertificate),
    /// The aggregate failed: the signers whose votes did not verify were
    /// dropped; the rest does not pass the threshold yet.
    Dropped {
        /// Signers of bad votes.
        bad: Vec<u32>,
    },
    /// The batch was certified already or forgotten meanwhile.
    Stale,
}

/// Batch votes by batch, bounded: the oldest batch is forgotten first.
#[derive(Debug)]
pub struct BatchPool {
    entries: HashMap<BatchKey, Entry>,
    order: VecDeque<BatchKey>,
    capacity: usize,
}

impl BatchPool {
    /// A pool remembering at most `capacity` batches.
    pub fn new(capacity: usize) -> Self {
        Self { entries: HashMap::new(), order: VecDeque::new(), capacity: capacity.max(1) }
    }

    /// Batches remembered.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no batch is remembered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The certificate of `key`, once formed.
    pub fn certificate(&self, key: &BatchKey) -> Option<&VerifiedBatchCertificate> {
        self.entries.get(key).and_then(|e| e.certificate.as_ref())
    }

    /// Signers who voted for `key` so far.
    pub fn signers(&self, key: &BatchKey) -> Vec<u32> {
        self.entries.get(key).map(|e| e.votes.keys().copied().collect()).unwrap_or_default()
    }

    /// Records a certificate checked elsewhere (gossiped by the batch's
    /// proposer), so a member that signs the same root later finds its
    /// batch decided; whether it was new here.
    pub fn record_certificate(&mut self, cert: VerifiedBatchCertificate) -> bool {
        let c = cert.certificate();
        let key = BatchKey { epoch: c.epoch, count: c.count, root: c.root };
        let chain_id = c.chain_id;
        let entry = self.entry(key, chain_id);
        if entry.certificate.is_some() {
            return false;
        }
        entry.certificate = Some(cert);
        true
    }

    /// The entry of `key`, made (the oldest forgotten beyond the capacity)
    /// if there is none.
    fn entry(&mut self, key: BatchKey, chain_id: u64) -> &mut Entry {
        if !self.entries.contains_key(&key) {
            while self.entries.len() >= self.capacity {
                match self.order.pop_front() {
                    Some(old) => {
                        self.entries.remove(&old);
                    }
                    None => break,
                }
            }
            self.order.push_back(key);
        }
        self.entries.entry(key).or_insert_with(|| Entry {
            chain_id,
            votes: BTreeMap::new(),
            claimed: false,
            certificate: None,
        })
    }

    /// Adds `vote`, checked against `committee` (its epoch's: chain,
    /// membership, signature encoding; `verified` when the caller checked
    /// the signature itself, its own vote say). A claim comes back when
    /// the batch's pending stake first passes the threshold.
    pub fn insert(
        &mut self,
        committee: &VerifiedCommittee,
        vote: &BatchVote,
        verified: bool,
    ) -> Result<Option<BatchClaim>, VoteRejection> {
        let (signature, stake) =
            check_signer(committee, vote.chain_id, vote.epoch, vote.signer, vote.signature.as_bytes())?;
        let key = BatchKey::of(vote);
        let entry = self.entry(key, vote.chain_id);
        if entry.votes.contains_key(&vote.signer) {
            return Err(VoteRejection::DuplicateBatch { index: vote.signer });
        }
        entry.votes.insert(vote.signer, (signature, stake, verified));
        Ok(Self::claim(committee, key, entry))
    }

    /// A claim on `entry` if it is undecided, unclaimed and its stake passes.
    fn claim(committee: &VerifiedCommittee, key: BatchKey, entry: &mut Entry) -> Option<BatchClaim> {
        if entry.certificate.is_some() || entry.claimed || !committee.passes_threshold(entry.stake()) {
            return None;
        }
        let signers = SignerBitmap::from_indexes(committee.len(), entry.votes.keys().map(|i| *i as usize)).ok()?;
        let signature = Signature::aggregate(entry.votes.values().map(|(s, _, _)| s))?;
        let public_key = committee.aggregate_key(&signers)?;
        let digest =
            vigil_types::BatchMessage { chain_id: entry.chain_id, epoch: key.epoch, count: key.count, root: key.root }
                .digest();
        entry.claimed = true;
        Some(BatchClaim { key, signers, check: SignatureCheck { public_key, digest, signature } })
    }

    /// Takes the outcome of a claim's pairing check. On failure every vote
    /// not verified yet is checked alone and the bad ones are dropped; the
    /// good ones certify at once if their stake passes.
    pub fn complete(
        &mut self,
        committee: &VerifiedCommittee,
        claim: BatchClaim,
        outcome: Result<ValidSignature, InvalidSignature>,
    ) -> BatchCompletion {
        let key = claim.key;
        let Some(entry) = self.entries.get_mut(&key) else { return BatchCompletion::Stale };
        entry.claimed = false;
        if entry.certificate.is_some() {
            return BatchCompletion::Stale;
        }
        let certify = |entry: &mut Entry, signers: SignerBitmap, signature: &Signature| {
            let cert = BatchCertificate {
                chain_id: entry.chain_id,
                epoch: key.epoch,
                count: key.count,
                root: key.root,
                signers,
                signature: signature.to_bytes(),
            };
            let verified = VerifiedBatchCertificate::new(cert, entry.stake());
            entry.certificate = Some(verified.clone());
            verified
        };
        if outcome.is_ok() {
            // Votes that arrived while the check ran are not in it: the
            // certificate is the claim's signers exactly.
            entry.votes.retain(|i, _| claim.signers.contains(*i as usize));
            for v in entry.votes.values_mut() {
                v.2 = true;
            }
            return BatchCompletion::Certified(certify(entry, claim.signers, &claim.check.signature));
        }
        let digest = claim.check.digest;
        let mut bad = Vec::new();
        for (signer, (signature, _, verified)) in entry.votes.iter_mut() {
            if *verified {
                continue;
            }
            if committee.key(*signer).is_some_and(|pk| signature.verify(pk, &digest)) {
                *verified = true;
            } else {
                bad.push(*signer);
            }
        }
        entry.votes.retain(|i, _| !bad.contains(i));
        if !committee.passes_threshold(entry.stake()) {
            return BatchCompletion::Dropped { bad };
        }
        let Ok(signers) = SignerBitmap::from_indexes(committee.len(), entry.votes.keys().map(|i| *i as usize)) else {
            return BatchCompletion::Dropped { bad };
        };
        match Signature::aggregate(entry.votes.values().map(|(s, _, _)| s)) {
            Some(signature) => BatchCompletion::Certified(certify(entry, signers, &signature)),
            None => BatchCompletion::Dropped { bad },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::DevCommittee;
    use vigil_types::{BatchLeaf, BatchTree, VoteKind};

    fn tree(n: u8, malicious: Option<u8>) -> BatchTree {
        let leaves = (0..n)
            .map(|i| BatchLeaf {
                tx_hash: B256::repeat_byte(i + 1),
                kind: if Some(i) == malicious { VoteKind::Malicious } else { VoteKind::Clean },
            })
            .collect();
        BatchTree::new(leaves).unwrap()
    }

    #[test]
    fn a_gossiped_certificate_decides_its_root_before_and_after_votes() {
        let t = DevCommittee::generate(31337, 7, 4, 1);
        let committee = t.committee.clone();
        let tree = tree(3, None);
        // Formed elsewhere, from three of the four members.
        let mut elsewhere = BatchPool::new(16);
        let mut claim = None;
        for i in 0..3 {
            claim = claim.or(elsewhere.insert(&committee, &t.batch_vote(i, &tree), false).unwrap());
        }
        let claim = claim.unwrap();
        let outcome = claim.check().clone().verify();
        let BatchCompletion::Certified(cert) = elsewhere.complete(&committee, claim, outcome) else { panic!() };

        // Checked with the pairing left to a verifier, then recorded.
        let pending = crate::prepare_batch_certificate(&committee, cert.certificate()).unwrap();
        let outcome = pending.check().clone().verify();
        let verified = pending.complete(outcome).unwrap();
        let mut pool = BatchPool::new(2);
        let key = BatchKey::of(&t.batch_vote(3, &tree));
        assert!(pool.certificate(&key).is_none());
        assert!(pool.record_certificate(verified.clone()));
        assert!(!pool.record_certificate(verified.clone()), "recorded once");
        assert_eq!(pool.certificate(&key), Some(&verified));
        // The fourth member signs later: its vote claims nothing more.
        assert!(pool.insert(&committee, &t.batch_vote(3, &tree), false).unwrap().is_none());
        // Bounded like votes: two more batches push it out.
        for n in [4, 5] {
            pool.insert(&committee, &t.batch_vote(0, &super::tests::tree(n, None)), false).unwrap();
        }
        assert!(pool.certificate(&key).is_none() && pool.len() == 2);
        // A valid signature of another check (one member's vote on the
        // same root) does not complete it.
        let other = crate::prepare_batch_certificate(&committee, cert.certificate()).unwrap();
        let vote = t.batch_vote(0, &tree);
        let single = vigil_crypto::SignatureCheck {
            public_key: *committee.key(0).unwrap(),
            digest: other.check().digest,
            signature: vigil_crypto::Signature::from_bytes(vote.signature.as_bytes()).unwrap(),
        };
        let valid_elsewhere = single.verify();
        assert!(valid_elsewhere.is_ok());
        assert!(matches!(other.complete(valid_elsewhere), Err(crate::CertificateError::BadSignature)));
    }

    #[test]
    fn votes_above_the_threshold_certify_with_one_check() {
        let t = DevCommittee::generate(31337, 7, 4, 1);
        let committee = t.committee.clone();
        let tree = tree(5, None);
        let mut pool = BatchPool::new(16);
        let mut claim = None;
        for i in 0..3 {
            let got = pool.insert(&committee, &t.batch_vote(i, &tree), false).unwrap();
            assert_eq!(got.is_some(), i == 2, "a claim once 3 of 4 equal stakes signed, not before (vote {i})");
            claim = claim.or(got);
        }
        let claim = claim.unwrap();
        let outcome = claim.check().clone().verify();
        let BatchCompletion::Certified(cert) = pool.complete(&committee, claim, outcome) else {
            panic!("not certified")
        };
        assert_eq!(cert.certificate().signers.count(), 3);
        assert_eq!(cert.certificate().root, tree.root());
        crate::verify_batch_certificate(&committee, cert.certificate()).expect("the pool's certificate verifies");
        // A late vote is pooled but changes nothing.
        assert!(pool.insert(&committee, &t.batch_vote(3, &tree), false).unwrap().is_none());
        assert!(matches!(
            pool.insert(&committee, &t.batch_vote(0, &tree), false),
            Err(VoteRejection::DuplicateBatch { index: 0 })
        ));
    }

    #[test]
    fn disagreeing_members_make_different_roots_and_no_certificate() {
        let t = DevCommittee::generate(31337, 7, 4, 1);
        let committee = t.committee.clone();
        let (a, b) = (tree(5, None), tree(5, Some(2)));
        assert_ne!(a.root(), b.root());
        let mut pool = BatchPool::new(16);
        for (i, tr) in [(0, &a), (1, &a), (2, &b), (3, &b)] {
            assert!(pool.insert(&committee, &t.batch_vote(i, tr), false).unwrap().is_none());
        }
        assert_eq!(pool.len(), 2);
    }

    #[test]
    fn a_bad_signature_is_dropped_and_the_good_votes_still_certify() {
        let t = DevCommittee::generate(31337, 7, 4, 1);
        let committee = t.committee.clone();
        let tree = tree(3, None);
        let mut pool = BatchPool::new(16);
        // Member 1's vote signed by member 2's key.
        let mut forged = t.batch_vote(2, &tree);
        forged.signer = 1;
        assert!(pool.insert(&committee, &t.batch_vote(0, &tree), false).unwrap().is_none());
        assert!(pool.insert(&committee, &forged, false).unwrap().is_none());
        let claim = pool.insert(&committee, &t.batch_vote(2, &tree), false).unwrap().unwrap();
        let outcome = claim.check().clone().verify();
        assert!(outcome.is_err());
        let BatchCompletion::Dropped { bad } = pool.complete(&committee, claim, outcome) else { panic!("certified") };
        assert_eq!(bad, vec![1]);
        let claim = pool.insert(&committee, &t.batch_vote(3, &tree), false).unwrap().expect("a new claim");
        let outcome = claim.check().clone().verify();
        let BatchCompletion::Certified(cert) = pool.complete(&committee, claim, outcome) else {
            panic!("not certified")
        };
        assert_eq!(cert.certificate().signers.indexes().collect::<Vec<_>>(), vec![0, 2, 3]);
    }

    #[test]
    fn wrong_chain_epoch_and_signer_are_refused() {
        let t = DevCommittee::generate(31337, 7, 4, 1);
        let committee = t.committee.clone();
        let tree = tree(2, None);
        let mut pool = BatchPool::new(16);
        let v = t.batch_vote(0, &tree);
        let chain = BatchVote { chain_id: v.chain_id + 1, ..v.clone() };
        assert!(matches!(pool.insert(&committee, &chain, false), Err(VoteRejection::WrongChain { .. })));
        let epoch = BatchVote { epoch: v.epoch + 1, ..v.clone() };
        assert!(matches!(pool.insert(&committee, &epoch, false), Err(VoteRejection::EpochOutsideWindow { .. })));
        let signer = BatchVote { signer: 9, ..v };
        assert!(matches!(pool.insert(&committee, &signer, false), Err(VoteRejection::UnknownSigner { index: 9, .. })));
        assert!(pool.is_empty());
    }

    #[test]
    fn the_oldest_batch_is_forgotten_first() {
        let t = DevCommittee::generate(31337, 7, 4, 1);
        let committee = t.committee.clone();
        let mut pool = BatchPool::new(2);
        let trees: Vec<BatchTree> = (1..=3).map(|n| tree(n, None)).collect();
        for tr in &trees {
            pool.insert(&committee, &t.batch_vote(0, tr), false).unwrap();
        }
        assert_eq!(pool.len(), 2);
        let key = |tr: &BatchTree| BatchKey { epoch: committee.epoch(), count: tr.count(), root: tr.root() };
        assert!(pool.signers(&key(&trees[0])).is_empty());
        assert_eq!(pool.signers(&key(&trees[2])), vec![0]);
    }
}

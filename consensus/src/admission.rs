//! The gate's decision as a library: "may this transaction enter the chain?"
//!
//! A sequencer that validates its own transaction pool embeds an
//! [`Admission`] and asks it about each transaction and the certificate that
//! came with it. It holds the committees of the epochs the gate may accept
//! (DESIGN §3: during epoch `e`, certificates of `e - 1` and `e`), and checks
//! chain, epoch window, transaction hash, verdict, stake and the aggregate
//! signature.
//!
//! ```
//! use vigil_consensus::{Admission, AdmissionError};
//! use vigil_crypto::{SecretKey, Signature};
//! use vigil_types::{Certificate, Committee, Member, SignerBitmap, Stake, Threshold, VoteKind, VoteMessage, B256, U256};
//!
//! /// What a transaction pool's validation hook does with a transaction and
//! /// the certificate that came with it.
//! fn validate(admission: &Admission, tx_hash: B256, cert: Option<&Certificate>) -> Result<(), String> {
//!     let Some(cert) = cert else {
//!         return Err("held: no certificate yet".into());
//!     };
//!     match admission.admit(tx_hash, cert) {
//!         Ok(_verified) => Ok(()),
//!         // Each refusal says why, in words an operator can act on.
//!         Err(e @ AdmissionError::NoCommittee { .. }) => Err(format!("held: {e}")),
//!         Err(e) => Err(format!("rejected: {e}")),
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A committee of three (in production: read from the registry each epoch).
//! let keys: Vec<SecretKey> = (1u8..=3).map(|i| SecretKey::from_ikm(&[i; 32]).unwrap()).collect();
//! let committee = Committee {
//!     chain_id: 10,
//!     epoch: 4,
//!     ruleset: "vigil-rules/1".into(),
//!     threshold: Threshold::TWO_THIRDS,
//!     members: keys.iter().enumerate().map(|(i, k)| Member {
//!         index: i as u32,
//!         bls_pubkey: k.public_key().to_bytes(),
//!         pop: k.prove_possession().to_bytes(),
//!         stake: Stake(U256::from(100u64)),
//!         peer_id: format!("12D3KooWMember{i}"),
//!     }).collect(),
//! };
//! let mut admission = Admission::new(10);
//! admission.insert_committee(committee)?;
//!
//! // All three sign "clean" for one transaction.
//! let tx_hash = B256::repeat_byte(0xab);
//! let msg = VoteMessage { chain_id: 10, epoch: 4, tx_hash, kind: VoteKind::Clean };
//! let sigs: Vec<_> = keys.iter().map(|k| k.sign_vote(&msg)).collect();
//! let cert = Certificate {
//!     chain_id: 10,
//!     epoch: 4,
//!     tx_hash,
//!     kind: VoteKind::Clean,
//!     signers: SignerBitmap::from_indexes(3, [0, 1, 2])?,
//!     signature: Signature::aggregate(&sigs).unwrap().to_bytes(),
//! };
//! assert_eq!(validate(&admission, tx_hash, Some(&cert)), Ok(()));
//! assert!(validate(&admission, B256::repeat_byte(0xcd), Some(&cert)).unwrap_err().starts_with("rejected"));
//! assert!(validate(&admission, tx_hash, None).is_err());
//! # Ok(())
//! # }
//! ```

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    sync::Arc,
};

use vigil_types::{BatchCertificate, Certificate, Committee, InclusionProof, B256};

use crate::{
    certificate::{
        prepare_admission, verify_batch_certificate, verify_inclusion, verify_inclusion_admission, PendingCertificate,
    },
    window::certificate_epoch_accepted,
    CertificateError, CommitteeError, VerifiedBatchCertificate, VerifiedCertificate, VerifiedCommittee,
    VerifiedInclusion,
};

/// Why a certificate does not admit a transaction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmissionError {
    /// The certificate names another chain.
    #[error("certificate is for chain {got}, this sequencer runs chain {want}")]
    WrongChain {
        /// Certificate's chain.
        got: u64,
        /// This chain.
        want: u64,
    },
    /// The certificate's epoch is outside the accepted window.
    #[error("certificate epoch {got} is not accepted in epoch {current}: only epochs {min}..={current} are")]
    EpochNotAccepted {
        /// Certificate's epoch.
        got: u64,
        /// The gate's epoch.
        current: u64,
        /// Oldest accepted epoch.
        min: u64,
    },
    /// The epoch is accepted but its committee is not known here (yet).
    #[error("no committee known for epoch {epoch}; load it from the registry before admitting its certificates")]
    NoCommittee {
        /// Certificate's epoch.
        epoch: u64,
    },
    /// The certificate fails verification against its committee.
    #[error(transparent)]
    Certificate(#[from] CertificateError),
}

/// Committees by epoch and the current epoch: everything an admission
/// decision needs. Cheap to clone (committees are shared).
#[derive(Debug, Clone)]
pub struct Admission {
    chain_id: u64,
    current_epoch: u64,
    committees: BTreeMap<u64, Arc<VerifiedCommittee>>,
}

impl Admission {
    /// An admission check for `chain_id` with no committee yet: it admits
    /// nothing until one is inserted.
    pub fn new(chain_id: u64) -> Self {
        Self { chain_id, current_epoch: 0, committees: BTreeMap::new() }
    }

    /// The chain it admits for.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The epoch whose window applies.
    pub fn current_epoch(&self) -> u64 {
        self.current_epoch
    }

    /// Verifies and adds the committee of one epoch (replacing a committee
    /// already held for that epoch). The newest epoch inserted becomes the
    /// current one if it is ahead.
    pub fn insert_committee(&mut self, committee: Committee) -> Result<Arc<VerifiedCommittee>, CommitteeError> {
        if committee.chain_id != self.chain_id {
            return Err(CommitteeError::Structure(format!(
                "committee serves chain {}, this sequencer runs chain {}",
                committee.chain_id, self.chain_id
            )));
        }
        let verified = Arc::new(VerifiedCommittee::new(committee)?);
        self.insert_verified(verified.clone());
        Ok(verified)
    }

    /// Adds a committee verified elsewhere.
    pub fn insert_verified(&mut self, committee: Arc<VerifiedCommittee>) {
        let epoch = committee.epoch();
        self.committees.insert(epoch, committee);
        if epoch > self.current_epoch {
            self.current_epoch = epoch;
        }
    }

    /// Moves to epoch `epoch` and forgets committees that can no longer be
    /// used (older than `epoch - 1`).
    pub fn set_current_epoch(&mut self, epoch: u64) {
        self.current_epoch = epoch;
        let keep_from = epoch.saturating_sub(1);
        self.committees.retain(|e, _| *e >= keep_from);
    }

    /// The committee of `epoch`, if held.
    pub fn committee(&self, epoch: u64) -> Option<&Arc<VerifiedCommittee>> {
        self.committees.get(&epoch)
    }

    /// The committee of the current epoch, if held.
    pub fn current_committee(&self) -> Option<&Arc<VerifiedCommittee>> {
        self.committee(self.current_epoch)
    }

    /// Whether `cert` admits the transaction `tx_hash`: right chain, epoch
    /// inside the window, committee known, a clean verdict for this very
    /// transaction, stake above the threshold, signature valid.
    pub fn admit(&self, tx_hash: B256, cert: &Certificate) -> Result<VerifiedCertificate, AdmissionError> {
        Ok(self.prepare(tx_hash, cert)?.verify()?)
    }

    /// [`Self::admit`] but the pairing, left to the caller (a
    /// [`vigil_crypto::BatchVerifier`]).
    pub fn prepare(&self, tx_hash: B256, cert: &Certificate) -> Result<PendingCertificate, AdmissionError> {
        let committee = self.committee_for(cert.chain_id, cert.epoch)?;
        Ok(prepare_admission(committee, cert, tx_hash)?)
    }

    /// Whether the inclusion proof `proof` admits the transaction `tx_hash`
    /// (DESIGN §4b): chain, epoch window and committee as for a
    /// certificate, then the audit path, then the batch certificate, whose
    /// verification `roots` remembers so that the batch's other
    /// transactions cost one path check each.
    pub fn admit_inclusion(
        &self,
        tx_hash: B256,
        proof: &InclusionProof,
        roots: &mut VerifiedRoots,
    ) -> Result<VerifiedInclusion, AdmissionError> {
        let cert = &proof.certificate;
        let committee = self.committee_for(cert.chain_id, cert.epoch)?;
        let cached = roots.get(cert.epoch, &cert.root);
        let verified = verify_inclusion_admission(committee, proof, tx_hash, cached)?;
        if cached.is_none_or(|c| c.certificate() != cert) {
            roots.insert(VerifiedBatchCertificate::from_inclusion(&verified));
        } else {
            roots.hits += 1;
        }
        Ok(verified)
    }

    /// Verifies a batch certificate whatever its leaves say (DESIGN §4b):
    /// chain, epoch window and committee as for a certificate, then stake
    /// and signature, unless `roots` holds it verified already. Clean
    /// leaves of a verified batch admit; malicious ones are quarantine
    /// evidence ([`crate::batch_inclusions`] gives each leaf's proof).
    pub fn check_batch(
        &self,
        cert: &BatchCertificate,
        roots: &mut VerifiedRoots,
    ) -> Result<VerifiedBatchCertificate, AdmissionError> {
        let committee = self.committee_for(cert.chain_id, cert.epoch)?;
        if let Some(held) = roots.get(cert.epoch, &cert.root).filter(|c| c.certificate() == cert).cloned() {
            roots.hits += 1;
            return Ok(held);
        }
        let verified = verify_batch_certificate(committee, cert)?;
        roots.insert(verified.clone());
        Ok(verified)
    }

    /// Verifies an inclusion proof whatever its verdict (a malicious one
    /// quarantines): chain, window, committee, the audit path, then the
    /// batch certificate or its verified copy in `roots`.
    pub fn check_inclusion(
        &self,
        proof: &InclusionProof,
        roots: &mut VerifiedRoots,
    ) -> Result<VerifiedInclusion, AdmissionError> {
        let cert = &proof.certificate;
        let committee = self.committee_for(cert.chain_id, cert.epoch)?;
        let cached = roots.get(cert.epoch, &cert.root).filter(|c| c.certificate() == cert).cloned();
        let hit = cached.is_some();
        let verified = verify_inclusion(committee, proof, cached.as_ref())?;
        if hit {
            roots.hits += 1;
        } else {
            roots.insert(VerifiedBatchCertificate::from_inclusion(&verified));
        }
        Ok(verified)
    }

    /// The committee that judges statements of `chain_id` and `epoch`, if
    /// that chain is this one and the epoch is in the window.
    fn committee_for(&self, chain_id: u64, epoch: u64) -> Result<&Arc<VerifiedCommittee>, AdmissionError> {
        if chain_id != self.chain_id {
            return Err(AdmissionError::WrongChain { got: chain_id, want: self.chain_id });
        }
        if !certificate_epoch_accepted(self.current_epoch, epoch) {
            return Err(AdmissionError::EpochNotAccepted {
                got: epoch,
                current: self.current_epoch,
                min: self.current_epoch.saturating_sub(1),
            });
        }
        self.committees.get(&epoch).ok_or(AdmissionError::NoCommittee { epoch })
    }
}

/// Batch certificates already verified, by epoch and root, oldest dropped
/// first beyond the capacity (DESIGN §4b: "a verifier caches verified batch
/// certificates by root").
#[derive(Debug, Clone)]
pub struct VerifiedRoots {
    by_root: HashMap<(u64, B256), VerifiedBatchCertificate>,
    order: VecDeque<(u64, B256)>,
    capacity: usize,
    hits: u64,
}

impl VerifiedRoots {
    /// A cache of at most `capacity` roots.
    pub fn new(capacity: usize) -> Self {
        Self { by_root: HashMap::new(), order: VecDeque::new(), capacity: capacity.max(1), hits: 0 }
    }

    /// The verified certificate of `root` in `epoch`, if held.
    pub fn get(&self, epoch: u64, root: &B256) -> Option<&VerifiedBatchCertificate> {
        self.by_root.get(&(epoch, *root))
    }

    /// Remembers a verified certificate (replacing one of the same root).
    pub fn insert(&mut self, cert: VerifiedBatchCertificate) {
        let key = (cert.certificate().epoch, cert.certificate().root);
        if self.by_root.insert(key, cert).is_none() {
            self.order.push_back(key);
            while self.order.len() > self.capacity {
                if let Some(old) = self.order.pop_front() {
                    self.by_root.remove(&old);
                }
            }
        }
    }

    /// Roots held.
    pub fn len(&self) -> usize {
        self.by_root.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.by_root.is_empty()
    }

    /// Admissions that used a held certificate instead of a pairing.
    pub fn hits(&self) -> u64 {
        self.hits
    }
}

#[cfg(all(test, feature = "testkit"))]
mod tests {
    use super::*;
    use crate::testkit::DevCommittee;

    #[test]
    fn window_and_known_committees() {
        let e4 = DevCommittee::generate(7, 4, 3, 1);
        let e5 = DevCommittee::generate(7, 5, 3, 2);
        let mut admission = Admission::new(7);
        admission.insert_committee(e4.committee().clone()).unwrap();
        let tx = B256::repeat_byte(1);
        assert!(admission.admit(tx, &e4.certify(tx)).is_ok());
        // Epoch 5 is current once its committee is in: 4 is still accepted.
        admission.insert_committee(e5.committee().clone()).unwrap();
        assert_eq!(admission.current_epoch(), 5);
        assert!(admission.admit(tx, &e4.certify(tx)).is_ok());
        assert!(admission.admit(tx, &e5.certify(tx)).is_ok());
        // Epoch 6 without its committee: epoch 5 still good, 4 is stale.
        admission.set_current_epoch(6);
        assert!(admission.committee(4).is_none(), "committees older than e-1 are forgotten");
        assert!(admission.admit(tx, &e5.certify(tx)).is_ok());
        assert!(matches!(admission.admit(tx, &e4.certify(tx)), Err(AdmissionError::EpochNotAccepted { got: 4, .. })));
        let e6 = DevCommittee::generate(7, 6, 3, 3);
        assert_eq!(admission.admit(tx, &e6.certify(tx)), Err(AdmissionError::NoCommittee { epoch: 6 }));
        // A committee of another chain is refused outright.
        let other = DevCommittee::generate(8, 6, 3, 3);
        assert!(admission.insert_committee(other.committee().clone()).is_err());
        assert_eq!(admission.admit(tx, &other.certify(tx)), Err(AdmissionError::WrongChain { got: 8, want: 7 }));
    }

    #[test]
    fn inclusion_proofs_pay_one_pairing_per_batch() {
        let dev = DevCommittee::generate(7, 4, 4, 9);
        let mut admission = Admission::new(7);
        admission.insert_committee(dev.committee().clone()).unwrap();
        let txs: Vec<B256> = (1..=6u8).map(B256::repeat_byte).collect();
        let (tree, cert) = dev.certify_batch(&txs, &[0, 1, 2]);
        let proof = |i: u32| dev.inclusion(&tree, &cert, i);
        let mut roots = VerifiedRoots::new(2);
        for (i, tx) in txs.iter().enumerate() {
            let v = admission.admit_inclusion(*tx, &proof(i as u32), &mut roots).unwrap();
            assert_eq!(v.tx_hash(), *tx);
        }
        assert_eq!((roots.len(), roots.hits()), (1, 5), "one pairing, five path checks");
        // A proof for another transaction, or with a flipped kind, is refused even from the cache.
        assert!(admission.admit_inclusion(txs[1], &proof(0), &mut roots).is_err());
        let mut flipped = proof(2);
        flipped.kind = vigil_types::VoteKind::Malicious;
        assert!(matches!(
            admission.admit_inclusion(txs[2], &flipped, &mut roots),
            Err(AdmissionError::Certificate(CertificateError::Inclusion(_)))
        ));
        // A whole batch: one check (from the cache here), every leaf's
        // proof; a tree that is not the certified one is refused.
        let batch = admission.check_batch(&cert, &mut roots).unwrap();
        assert_eq!(roots.hits(), 6);
        let proofs = crate::batch_inclusions(&batch, &tree).unwrap();
        assert_eq!(proofs.len(), 6);
        for p in &proofs {
            admission.check_inclusion(p.proof(), &mut roots).unwrap();
        }
        let (other_tree, _) = dev.certify_batch(&txs[..5], &[0, 1, 2]);
        assert!(matches!(
            crate::batch_inclusions(&batch, &other_tree),
            Err(CertificateError::Inclusion(m)) if m.contains("over 5 leaves")
        ));
        // Not enough stake: refused whatever the cache holds.
        let (_, weak) = dev.certify_batch(&txs, &[0, 1]);
        assert!(matches!(
            admission.check_batch(&weak, &mut roots),
            Err(AdmissionError::Certificate(CertificateError::InsufficientStake { .. }))
        ));
        // The window applies to batches as to certificates.
        admission.set_current_epoch(6);
        assert!(matches!(
            admission.admit_inclusion(txs[0], &proof(0), &mut roots),
            Err(AdmissionError::EpochNotAccepted { got: 4, .. })
        ));
    }
}

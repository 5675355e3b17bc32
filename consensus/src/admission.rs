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

use std::{collections::BTreeMap, sync::Arc};

use vigil_types::{Certificate, Committee, B256};

use crate::{
    certificate::{prepare_admission, PendingCertificate},
    window::certificate_epoch_accepted,
    CertificateError, CommitteeError, VerifiedCertificate, VerifiedCommittee,
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
        if cert.chain_id != self.chain_id {
            return Err(AdmissionError::WrongChain { got: cert.chain_id, want: self.chain_id });
        }
        if !certificate_epoch_accepted(self.current_epoch, cert.epoch) {
            return Err(AdmissionError::EpochNotAccepted {
                got: cert.epoch,
                current: self.current_epoch,
                min: self.current_epoch.saturating_sub(1),
            });
        }
        let committee = self.committees.get(&cert.epoch).ok_or(AdmissionError::NoCommittee { epoch: cert.epoch })?;
        Ok(prepare_admission(committee, cert, tx_hash)?)
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
}

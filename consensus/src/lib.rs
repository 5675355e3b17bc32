//! Vigil's attestation core: pure, deterministic logic that turns committee
//! votes into a certificate or a quarantine.
//!
//! ```text
//! Committee JSON --VerifiedCommittee::new (keys, proofs of possession)--> VerifiedCommittee
//! Vote --CheckedVote::check--> CheckedVote --verify / optimistic aggregate--> VerifiedVote
//! VerifiedVotes --AggregationPool--> Decision::Certified(VerifiedCertificate)
//!                                  | Decision::Quarantined(reason)
//!                                  | PoolEvent::Equivocation(VerifiedEvidence)
//! Certificate --verify_certificate--> VerifiedCertificate
//! BatchVotes --BatchPool (by epoch, count, root; one aggregate check)--> VerifiedBatchCertificate
//! InclusionProof --verify_inclusion (audit path, then the batch certificate)--> VerifiedInclusion
//! ```
//!
//! Owns the rules of DESIGN §3–4: membership, the epoch window, the
//! threshold `signed * den > total * num`, quarantine, equivocation.
//! Does no I/O, reads no clock (time is passed in), uses no randomness except
//! the batch verifier's blinding scalars inside `vigil-crypto`.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod admission;
mod batch_pool;
mod certificate;
mod committee;
mod error;
mod evidence;
pub mod limit;
mod pool;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
mod vote;
pub mod window;

pub use admission::{Admission, AdmissionError, VerifiedRoots};
pub use batch_pool::{BatchClaim, BatchCompletion, BatchKey, BatchPool};
pub use certificate::{
    batch_inclusions, prepare_admission, prepare_batch_certificate, prepare_certificate, verify_admission,
    verify_batch_certificate, verify_certificate, verify_certificates_batch, verify_inclusion,
    verify_inclusion_admission, PendingBatchCertificate, PendingCertificate, VerifiedAttestation,
    VerifiedBatchCertificate, VerifiedCertificate, VerifiedInclusion,
};
pub use committee::VerifiedCommittee;
pub use error::{CertificateError, CommitteeError, EvidenceError, VoteRejection};
pub use evidence::{verify_evidence, verify_statement_evidence, VerifiedEvidence, VerifiedStatementEvidence};
pub use pool::{AggregateClaim, AggregationPool, Decision, Inserted, PoolConfig, PoolEvent, QuarantineReason};
pub use vote::{CheckedVote, VerifiedVote};

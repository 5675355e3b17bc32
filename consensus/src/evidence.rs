//! Checking equivocation evidence.

use crate::{committee::VerifiedCommittee, error::EvidenceError, vote::VerifiedVote};
use vigil_types::EquivocationEvidence;

/// Equivocation evidence whose two votes both verify for the named member:
/// proof that the member signed both ways.
#[derive(Debug, Clone)]
pub struct VerifiedEvidence {
    evidence: EquivocationEvidence,
}

impl VerifiedEvidence {
    /// The evidence.
    pub fn evidence(&self) -> &EquivocationEvidence {
        &self.evidence
    }

    /// Built by the pool from two votes it verified.
    pub(crate) fn from_verified(clean: &VerifiedVote, malicious: &VerifiedVote) -> Option<Self> {
        EquivocationEvidence::new(clean.vote().clone(), malicious.vote().clone()).ok().map(|evidence| Self { evidence })
    }
}

/// Verifies evidence against the committee of its epoch.
pub fn verify_evidence(
    committee: &VerifiedCommittee,
    evidence: &EquivocationEvidence,
) -> Result<VerifiedEvidence, EvidenceError> {
    let c = evidence.clean();
    if c.chain_id != committee.chain_id() || c.epoch != committee.epoch() {
        return Err(EvidenceError::WrongCommittee {
            chain_id: c.chain_id,
            epoch: c.epoch,
            want_chain: committee.chain_id(),
            want_epoch: committee.epoch(),
        });
    }
    VerifiedVote::new(committee, c.clone()).map_err(|reason| EvidenceError::BadVote { which: "clean", reason })?;
    VerifiedVote::new(committee, evidence.malicious().clone())
        .map_err(|reason| EvidenceError::BadVote { which: "malicious", reason })?;
    Ok(VerifiedEvidence { evidence: evidence.clone() })
}

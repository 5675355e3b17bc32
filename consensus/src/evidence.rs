//! Checking equivocation evidence.

use crate::{
    committee::VerifiedCommittee,
    error::{EvidenceError, VoteRejection},
    vote::VerifiedVote,
};
use vigil_crypto::Signature;
use vigil_types::{batch::verify_path, EquivocationEvidence, Statement, StatementEvidence};

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

/// Statement evidence (DESIGN §4b) whose two statements both hold for the
/// named member: proof that it said both clean and malicious about one
/// transaction, through votes or batches.
#[derive(Debug, Clone)]
pub struct VerifiedStatementEvidence {
    evidence: StatementEvidence,
}

impl VerifiedStatementEvidence {
    /// The evidence.
    pub fn evidence(&self) -> &StatementEvidence {
        &self.evidence
    }
}

/// Why one statement does not hold.
fn check_statement(committee: &VerifiedCommittee, s: &Statement) -> Result<(), String> {
    match s {
        Statement::Vote(v) => VerifiedVote::new(committee, v.clone()).map(|_| ()).map_err(|e| e.to_string()),
        Statement::Batch(b) => {
            let v = &b.batch_vote;
            let leaf = vigil_types::BatchLeaf { tx_hash: b.tx_hash, kind: b.kind };
            verify_path(&leaf, b.index, v.count, &b.path, v.root).map_err(|e| e.to_string())?;
            let key = committee.key(v.signer).ok_or_else(|| {
                VoteRejection::UnknownSigner { index: v.signer, epoch: v.epoch, size: committee.len() }.to_string()
            })?;
            let signature = Signature::from_bytes(v.signature.as_bytes()).map_err(|e| {
                VoteRejection::MalformedSignature { index: v.signer, reason: e.to_string() }.to_string()
            })?;
            if signature.verify(key, &v.message().digest()) {
                Ok(())
            } else {
                Err(format!("batch vote signature of member {} does not verify over its batch", v.signer))
            }
        }
    }
}

/// Verifies statement evidence against the committee of its epoch: each
/// statement is a vote that verifies, or a batch vote that verifies with a
/// path from the transaction's leaf to its root.
pub fn verify_statement_evidence(
    committee: &VerifiedCommittee,
    evidence: &StatementEvidence,
) -> Result<VerifiedStatementEvidence, EvidenceError> {
    let c = evidence.clean();
    if c.chain_id() != committee.chain_id() || c.epoch() != committee.epoch() {
        return Err(EvidenceError::WrongCommittee {
            chain_id: c.chain_id(),
            epoch: c.epoch(),
            want_chain: committee.chain_id(),
            want_epoch: committee.epoch(),
        });
    }
    check_statement(committee, c).map_err(|reason| EvidenceError::BadStatement { which: "clean", reason })?;
    check_statement(committee, evidence.malicious())
        .map_err(|reason| EvidenceError::BadStatement { which: "malicious", reason })?;
    Ok(VerifiedStatementEvidence { evidence: evidence.clone() })
}

//! Vote validation in typed stages:
//!
//! ```text
//! Vote (from the wire) --check()--> CheckedVote --verify()/aggregate--> VerifiedVote
//!   member of the epoch's committee,   the signature verifies for the
//!   right chain, signature decodes     member's key
//! ```
//!
//! Only a [`VerifiedVote`] counts toward a certificate or a quarantine.

use crate::{committee::VerifiedCommittee, error::VoteRejection};
use vigil_crypto::Signature;
use vigil_types::{Vote, VoteMessage, U256};

/// A vote whose signer is a committee member and whose signature decodes,
/// not yet known to verify.
#[derive(Debug, Clone)]
pub struct CheckedVote {
    vote: Vote,
    signature: Signature,
    stake: U256,
}

impl CheckedVote {
    /// Checks chain, membership and signature encoding against the vote's
    /// epoch committee (the caller picks it by epoch window).
    pub fn check(committee: &VerifiedCommittee, vote: Vote) -> Result<Self, VoteRejection> {
        let (signature, stake) =
            check_signer(committee, vote.chain_id, vote.epoch, vote.signer, vote.signature.as_bytes())?;
        Ok(Self { vote, signature, stake })
    }

    /// Verifies the signature alone.
    pub fn verify(self, committee: &VerifiedCommittee) -> Result<VerifiedVote, VoteRejection> {
        let ok = committee.key(self.vote.signer).is_some_and(|pk| self.signature.verify_vote(pk, &self.vote.message()));
        if ok {
            Ok(VerifiedVote(self))
        } else {
            Err(VoteRejection::BadSignature { index: self.vote.signer })
        }
    }

    /// Marks the vote verified because an aggregate containing it verified.
    pub(crate) fn verified_in_aggregate(self) -> VerifiedVote {
        VerifiedVote(self)
    }

    /// The vote.
    pub fn vote(&self) -> &Vote {
        &self.vote
    }

    /// The decoded signature.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// Signer's stake.
    pub fn stake(&self) -> U256 {
        self.stake
    }

    /// The signed statement.
    pub fn message(&self) -> VoteMessage {
        self.vote.message()
    }
}

/// A vote whose signature is known to verify for its member.
#[derive(Debug, Clone)]
pub struct VerifiedVote(CheckedVote);

impl VerifiedVote {
    /// Full check and verification in one step.
    pub fn new(committee: &VerifiedCommittee, vote: Vote) -> Result<Self, VoteRejection> {
        CheckedVote::check(committee, vote)?.verify(committee)
    }

    /// The vote.
    pub fn vote(&self) -> &Vote {
        &self.0.vote
    }

    /// The decoded signature.
    pub fn signature(&self) -> &Signature {
        &self.0.signature
    }

    /// Signer's stake.
    pub fn stake(&self) -> U256 {
        self.0.stake
    }

    /// Signer's index.
    pub fn signer(&self) -> u32 {
        self.0.vote.signer
    }
}

/// What every vote (a §4 vote or a §4b batch vote) must be before its
/// signature is worth a pairing: of `committee`'s chain and epoch, by one
/// of its members, with a signature that decodes. The signature and the
/// signer's stake.
pub(crate) fn check_signer(
    committee: &VerifiedCommittee,
    chain_id: u64,
    epoch: u64,
    signer: u32,
    signature: &[u8],
) -> Result<(Signature, U256), VoteRejection> {
    if chain_id != committee.chain_id() {
        return Err(VoteRejection::WrongChain { got: chain_id, want: committee.chain_id() });
    }
    if epoch != committee.epoch() {
        return Err(VoteRejection::EpochOutsideWindow { epoch });
    }
    let stake =
        committee.stake(signer).ok_or(VoteRejection::UnknownSigner { index: signer, epoch, size: committee.len() })?;
    let signature = Signature::from_bytes(signature)
        .map_err(|e| VoteRejection::MalformedSignature { index: signer, reason: e.to_string() })?;
    Ok((signature, stake))
}

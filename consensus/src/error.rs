//! Why a committee, vote, certificate or piece of evidence is refused.

use vigil_types::U256;

/// A committee that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommitteeError {
    /// Structural rule broken (see `Committee::check`).
    #[error("{0}")]
    Structure(String),
    /// A member's public key fails KeyValidate.
    #[error("committee member {index}: invalid BLS public key: {reason}")]
    InvalidKey {
        /// Member index.
        index: u32,
        /// Why.
        reason: String,
    },
    /// A member's proof of possession does not verify.
    #[error("committee member {index}: proof of possession does not verify for its public key")]
    InvalidPop {
        /// Member index.
        index: u32,
    },
}

/// Why a vote is not counted. Each variant is a peer fault except
/// [`VoteRejection::EpochOutsideWindow`] and [`VoteRejection::Duplicate`],
/// which honest peers can cause by timing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VoteRejection {
    /// Vote for another chain.
    #[error("vote is for chain {got}, this committee serves chain {want}")]
    WrongChain {
        /// Vote's chain.
        got: u64,
        /// Committee's chain.
        want: u64,
    },
    /// No committee is known for the vote's epoch in the accepted window.
    #[error("vote epoch {epoch} is outside the accepted window")]
    EpochOutsideWindow {
        /// Vote's epoch.
        epoch: u64,
    },
    /// The signer index names nobody.
    #[error("signer index {index} is not a member of the epoch {epoch} committee ({size} members)")]
    UnknownSigner {
        /// Claimed index.
        index: u32,
        /// Epoch.
        epoch: u64,
        /// Committee size.
        size: usize,
    },
    /// Signature bytes that are not a G2 point in the subgroup.
    #[error("signature of member {index} is not a valid G2 point: {reason}")]
    MalformedSignature {
        /// Signer.
        index: u32,
        /// Why.
        reason: String,
    },
    /// The signature does not verify for the member's key.
    #[error("signature of member {index} does not verify")]
    BadSignature {
        /// Signer.
        index: u32,
    },
    /// The same signer already voted this kind on this transaction.
    #[error("member {index} already voted {kind} on this transaction")]
    Duplicate {
        /// Signer.
        index: u32,
        /// Kind.
        kind: vigil_types::VoteKind,
    },
    /// The same signer already signed this batch root.
    #[error("member {index} already signed this batch")]
    DuplicateBatch {
        /// Signer.
        index: u32,
    },
}

/// Why a certificate is not valid for a committee. Each variant has its own
/// message so an operator can tell the failures apart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// Certificate for another chain.
    #[error("certificate is for chain {got}, the committee serves chain {want}")]
    WrongChain {
        /// Certificate's chain.
        got: u64,
        /// Committee's chain.
        want: u64,
    },
    /// Certificate for another epoch than the committee's.
    #[error("certificate is for epoch {got}, the committee is for epoch {want}")]
    WrongEpoch {
        /// Certificate's epoch.
        got: u64,
        /// Committee's epoch.
        want: u64,
    },
    /// Certificate's epoch outside the window the gate accepts.
    #[error("certificate epoch {got} is stale or early: accepted epochs are {min}..={max}")]
    EpochOutsideWindow {
        /// Certificate's epoch.
        got: u64,
        /// Lowest accepted.
        min: u64,
        /// Highest accepted.
        max: u64,
    },
    /// Certificate for another transaction than the one being admitted.
    #[error("certificate is for transaction {got}, expected {want}")]
    WrongTransaction {
        /// Certificate's hash.
        got: vigil_types::B256,
        /// Expected hash.
        want: vigil_types::B256,
    },
    /// The bitmap does not fit the committee.
    #[error("{0}")]
    Bitmap(String),
    /// Signed stake at or below the threshold.
    #[error("signed stake {signed} of {total} does not exceed the threshold {num}/{den}")]
    InsufficientStake {
        /// Stake of the signers.
        signed: U256,
        /// Committee total.
        total: U256,
        /// Threshold numerator.
        num: u64,
        /// Threshold denominator.
        den: u64,
    },
    /// Signature bytes that are not a G2 point in the subgroup.
    #[error("aggregate signature is not a valid G2 point: {0}")]
    MalformedSignature(String),
    /// The aggregate signature does not verify.
    #[error("aggregate signature does not verify for the signers' keys and the vote digest (tampered signature or certificate field)")]
    BadSignature,
    /// A valid certificate whose verdict is not clean, where admission was asked.
    #[error("certificate says {0}, admission needs clean")]
    NotClean(vigil_types::VoteKind),
    /// An inclusion proof whose audit path does not lead to its batch root.
    #[error("{0}")]
    Inclusion(String),
}

/// Why equivocation evidence does not prove anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    /// The committee does not match the evidence's chain or epoch.
    #[error("evidence is for chain {chain_id} epoch {epoch}, the committee is chain {want_chain} epoch {want_epoch}")]
    WrongCommittee {
        /// Evidence chain.
        chain_id: u64,
        /// Evidence epoch.
        epoch: u64,
        /// Committee chain.
        want_chain: u64,
        /// Committee epoch.
        want_epoch: u64,
    },
    /// One of the two votes is not validly signed by the named member.
    #[error("{which} vote: {reason}")]
    BadVote {
        /// `clean` or `malicious`.
        which: &'static str,
        /// Why.
        reason: VoteRejection,
    },
    /// One of two statements (a vote, or a batch leaf) does not hold.
    #[error("{which} statement: {reason}")]
    BadStatement {
        /// `clean` or `malicious`.
        which: &'static str,
        /// Why.
        reason: String,
    },
}

//! Vigil's wire types: what nodes, the gate, the contracts and outside tools
//! exchange.
//!
//! Owns the data shapes and their two fixed encodings: the canonical binary
//! form ([`Wire`]: versioned, size-bounded, one encoding per value) and the
//! JSON form of DESIGN §4. Checks structure only (lengths, indexes, bounds);
//! signatures and stake arithmetic belong to `vigil-crypto` and
//! `vigil-consensus`. Does no I/O.

pub mod batch;
pub mod bytes;
pub mod cert;
pub mod codec;
pub mod committee;
pub mod error;
pub mod evidence;
pub mod gossip;
pub mod release;
pub mod rpc;
pub mod tx;
pub mod vote;

pub use batch::{
    Attestation, BatchCertificate, BatchLeaf, BatchMessage, BatchPush, BatchTree, BatchVote, InclusionProof,
};
pub use bytes::{PublicKeyBytes, SignatureBytes};
pub use cert::{Certificate, SignerBitmap};
pub use codec::Wire;
pub use committee::{Committee, Member, Stake, Threshold};
pub use error::{DecodeError, InvalidError};
pub use evidence::{BatchStatement, EquivocationEvidence, Statement, StatementEvidence};
pub use gossip::{BatchProposal, Topic, TxAnnouncement};
pub use release::OperatorRelease;
pub use tx::{Transaction, TxDecodeError};
pub use vote::{Vote, VoteKind, VoteMessage};

pub use alloy_primitives::{Address, B256, U256};

#[cfg(feature = "arbitrary")]
pub(crate) fn arb_b256(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<B256> {
    Ok(B256::from(u.arbitrary::<[u8; 32]>()?))
}

#[cfg(feature = "arbitrary")]
pub(crate) fn arb_bytes(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<alloy_primitives::Bytes> {
    Ok(alloy_primitives::Bytes::from(u.arbitrary::<Vec<u8>>()?))
}

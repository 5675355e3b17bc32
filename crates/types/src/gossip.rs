//! Gossip topics and the envelopes published on them (DESIGN §2).

use crate::{
    codec::{put_u32_prefixed, Reader, Wire},
    error::DecodeError,
    tx::MAX_TX_SIZE,
    BatchCertificate, BatchVote, Certificate, EquivocationEvidence, Vote,
};
use alloy_primitives::Bytes;

/// The gossip topics of one chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Pending transactions: `vigil/<chain>/tx/1`.
    Tx,
    /// Signed votes: `vigil/<chain>/vote/1`.
    Vote,
    /// Certificates: `vigil/<chain>/cert/1`.
    Cert,
    /// Equivocation evidence: `vigil/<chain>/evidence/1`.
    Evidence,
    /// Batch proposals, transactions gossiped together (DESIGN §4b):
    /// `vigil/<chain>/batch/1`.
    Batch,
    /// Batch votes: `vigil/<chain>/batchvote/1`. A member sends its vote
    /// to the batch's proposer directly; this topic is the fallback when
    /// the proposer cannot be reached.
    BatchVote,
    /// Batch certificates, gossiped by the proposer that aggregated the
    /// votes: `vigil/<chain>/batchcert/1`.
    BatchCert,
}

impl Topic {
    /// Every topic.
    pub const ALL: [Topic; 7] =
        [Topic::Tx, Topic::Vote, Topic::Cert, Topic::Evidence, Topic::Batch, Topic::BatchVote, Topic::BatchCert];

    /// The topic string for `chain_id`.
    pub fn name(self, chain_id: u64) -> String {
        let kind = match self {
            Self::Tx => "tx",
            Self::Vote => "vote",
            Self::Cert => "cert",
            Self::Evidence => "evidence",
            Self::Batch => "batch",
            Self::BatchVote => "batchvote",
            Self::BatchCert => "batchcert",
        };
        format!("vigil/{chain_id}/{kind}/1")
    }

    /// Largest message accepted on the topic.
    pub fn max_message_size(self) -> usize {
        match self {
            Self::Tx => TxAnnouncement::MAX_SIZE,
            Self::Vote => Vote::MAX_SIZE,
            Self::Cert => Certificate::MAX_SIZE,
            Self::Evidence => EquivocationEvidence::MAX_SIZE,
            Self::Batch => BatchProposal::MAX_SIZE,
            Self::BatchVote => BatchVote::MAX_SIZE,
            Self::BatchCert => BatchCertificate::MAX_SIZE,
        }
    }
}

/// A pending transaction as gossiped: the raw EIP-2718 bytes. Whether they
/// form a valid transaction is checked by `Transaction::decode`, separately,
/// so a peer's malformed transaction is rejected with that reason.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct TxAnnouncement {
    /// The transaction bytes a wallet sent.
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arb_bytes))]
    pub raw: Bytes,
}

impl Wire for TxAnnouncement {
    const VERSION: u8 = 1;
    const MAX_SIZE: usize = 1 + 4 + MAX_TX_SIZE;
    const NAME: &'static str = "transaction announcement";

    fn encode_fields(&self, out: &mut Vec<u8>) {
        put_u32_prefixed(out, &self.raw);
    }

    fn decode_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let raw = r.bytes_u32("raw", MAX_TX_SIZE)?;
        if raw.is_empty() {
            return Err(DecodeError::Invalid { what: Self::NAME, reason: "empty transaction".into() });
        }
        Ok(Self { raw: Bytes::copy_from_slice(raw) })
    }
}

/// Most transactions in one batch proposal.
pub const MAX_PROPOSAL_TXS: usize = 1024;
/// Most transaction bytes in one batch proposal (a proposer closes a batch
/// before it would pass this).
pub const MAX_PROPOSAL_BYTES: usize = 1 << 20;

/// Transactions gossiped together as one batch (DESIGN §4b): every member
/// judges each, in this order, and signs the root over its verdicts. The
/// order is the leaves' order, so honest members compute the same root.
/// Whether each entry is a valid, distinct transaction is checked by the
/// receiver (`Transaction::decode`), so a bad one is refused with that
/// reason.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct BatchProposal {
    /// Chain the transactions are for.
    pub chain_id: u64,
    /// The transactions' raw EIP-2718 bytes, 1 to [`MAX_PROPOSAL_TXS`].
    #[cfg_attr(feature = "arbitrary", arbitrary(with = arb_txs))]
    pub txs: Vec<Bytes>,
}

#[cfg(feature = "arbitrary")]
fn arb_txs(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<Vec<Bytes>> {
    let n = u.int_in_range(1..=8)?;
    (0..n).map(|_| crate::arb_bytes(u)).collect()
}

impl Wire for BatchProposal {
    const VERSION: u8 = 1;
    const MAX_SIZE: usize = 1 + 8 + 2 + 4 * MAX_PROPOSAL_TXS + MAX_PROPOSAL_BYTES;
    const NAME: &'static str = "batch proposal";

    fn encode_fields(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.chain_id.to_be_bytes());
        out.extend_from_slice(&(self.txs.len() as u16).to_be_bytes());
        for raw in &self.txs {
            put_u32_prefixed(out, raw);
        }
    }

    fn decode_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let chain_id = r.u64("chain_id")?;
        let count = usize::from(r.u16("count")?);
        if count == 0 || count > MAX_PROPOSAL_TXS {
            return Err(DecodeError::Invalid {
                what: Self::NAME,
                reason: format!("{count} transactions, outside 1 to {MAX_PROPOSAL_TXS}"),
            });
        }
        let mut txs = Vec::with_capacity(count);
        for _ in 0..count {
            let raw = r.bytes_u32("txs", MAX_TX_SIZE)?;
            if raw.is_empty() {
                return Err(DecodeError::Invalid { what: Self::NAME, reason: "empty transaction".into() });
            }
            txs.push(Bytes::copy_from_slice(raw));
        }
        Ok(Self { chain_id, txs })
    }
}

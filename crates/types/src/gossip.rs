//! Gossip topics and the envelopes published on them (DESIGN §2).

use crate::{
    codec::{put_u32_prefixed, Reader, Wire},
    error::DecodeError,
    tx::MAX_TX_SIZE,
    Certificate, EquivocationEvidence, Vote,
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
}

impl Topic {
    /// Every topic.
    pub const ALL: [Topic; 4] = [Topic::Tx, Topic::Vote, Topic::Cert, Topic::Evidence];

    /// The topic string for `chain_id`.
    pub fn name(self, chain_id: u64) -> String {
        let kind = match self {
            Self::Tx => "tx",
            Self::Vote => "vote",
            Self::Cert => "cert",
            Self::Evidence => "evidence",
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

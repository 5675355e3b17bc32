//! Votes and the digest they sign.

use crate::{
    codec::{Reader, Wire},
    error::DecodeError,
    SignatureBytes,
};
use alloy_primitives::B256;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Domain tag that starts every vote digest (DESIGN §4).
pub const VOTE_DOMAIN: &[u8] = b"vigil/vote/v1";

/// What a vote says about a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(rename_all = "lowercase")]
pub enum VoteKind {
    /// The transaction may be included (digest byte 0).
    Clean,
    /// The transaction is an attack (digest byte 1).
    Malicious,
}

impl VoteKind {
    /// The byte used in the digest and on the wire.
    pub fn as_byte(self) -> u8 {
        match self {
            Self::Clean => 0,
            Self::Malicious => 1,
        }
    }

    /// The kind of a digest/wire byte.
    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            0 => Some(Self::Clean),
            1 => Some(Self::Malicious),
            _ => None,
        }
    }

    /// The other kind.
    pub fn opposite(self) -> Self {
        match self {
            Self::Clean => Self::Malicious,
            Self::Malicious => Self::Clean,
        }
    }

    pub(crate) fn read(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        let b = r.u8("kind")?;
        Self::from_byte(b).ok_or_else(|| DecodeError::Invalid {
            what,
            reason: format!("kind byte {b} is neither 0 (clean) nor 1 (malicious)"),
        })
    }
}

impl std::fmt::Display for VoteKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Clean => "clean",
            Self::Malicious => "malicious",
        })
    }
}

/// The statement a vote or certificate signs: `kind` about `tx_hash` on
/// `chain_id` in `epoch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VoteMessage {
    /// Chain the transaction is for.
    pub chain_id: u64,
    /// Committee epoch.
    pub epoch: u64,
    /// Transaction hash.
    pub tx_hash: B256,
    /// The verdict.
    pub kind: VoteKind,
}

impl VoteMessage {
    /// `sha256("vigil/vote/v1" || chain_id:u64be || epoch:u64be || tx_hash:32 || kind:u8)`.
    pub fn digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(VOTE_DOMAIN);
        h.update(self.chain_id.to_be_bytes());
        h.update(self.epoch.to_be_bytes());
        h.update(self.tx_hash.as_slice());
        h.update([self.kind.as_byte()]);
        h.finalize().into()
    }

    /// The same statement about the same transaction with the other kind.
    pub fn opposite(&self) -> Self {
        Self { kind: self.kind.opposite(), ..*self }
    }
}

/// One inspector's signed verdict (DESIGN §4 JSON form).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(deny_unknown_fields)]
pub struct Vote {
    /// Chain the transaction is for.
    pub chain_id: u64,
    /// Committee epoch.
    pub epoch: u64,
    /// Transaction hash.
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arb_b256))]
    pub tx_hash: B256,
    /// The verdict.
    pub kind: VoteKind,
    /// Signer's committee index.
    pub signer: u32,
    /// BLS signature over [`VoteMessage::digest`].
    pub signature: SignatureBytes,
}

impl Vote {
    /// Encoded size: version, chain id, epoch, hash, kind, signer, signature.
    pub const ENCODED_LEN: usize = 1 + 8 + 8 + 32 + 1 + 4 + 96;

    /// The signed statement.
    pub fn message(&self) -> VoteMessage {
        VoteMessage { chain_id: self.chain_id, epoch: self.epoch, tx_hash: self.tx_hash, kind: self.kind }
    }
}

impl Wire for Vote {
    const VERSION: u8 = 1;
    const MAX_SIZE: usize = Self::ENCODED_LEN;
    const NAME: &'static str = "vote";

    fn encode_fields(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.chain_id.to_be_bytes());
        out.extend_from_slice(&self.epoch.to_be_bytes());
        out.extend_from_slice(self.tx_hash.as_slice());
        out.push(self.kind.as_byte());
        out.extend_from_slice(&self.signer.to_be_bytes());
        out.extend_from_slice(&self.signature.0);
    }

    fn decode_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            chain_id: r.u64("chain_id")?,
            epoch: r.u64("epoch")?,
            tx_hash: B256::from(r.array::<32>("tx_hash")?),
            kind: VoteKind::read(r, Self::NAME)?,
            signer: r.u32("signer")?,
            signature: SignatureBytes(r.array("signature")?),
        })
    }
}

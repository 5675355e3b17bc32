//! Equivocation evidence: one signer's clean and malicious votes on the same
//! transaction.

use crate::{
    codec::{Reader, Wire},
    error::{DecodeError, InvalidError},
    vote::{Vote, VoteKind},
};
use serde::{Deserialize, Serialize};

/// Two votes of one signer on the same `(chain_id, epoch, tx_hash)` with
/// different kinds. Canonical order: the clean vote first.
///
/// The constructor checks the shape; whether both signatures verify is for
/// `vigil-consensus`, which holds the committee.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct EquivocationEvidence {
    clean: Vote,
    malicious: Vote,
}

impl EquivocationEvidence {
    /// Pairs two votes, in either order, if they conflict.
    pub fn new(a: Vote, b: Vote) -> Result<Self, InvalidError> {
        let bad = |s: &str| Err(InvalidError::Evidence(s.into()));
        if a.signer != b.signer {
            return bad("the votes have different signers");
        }
        if (a.chain_id, a.epoch, a.tx_hash) != (b.chain_id, b.epoch, b.tx_hash) {
            return bad("the votes are not about the same (chain id, epoch, transaction)");
        }
        match (a.kind, b.kind) {
            (VoteKind::Clean, VoteKind::Malicious) => Ok(Self { clean: a, malicious: b }),
            (VoteKind::Malicious, VoteKind::Clean) => Ok(Self { clean: b, malicious: a }),
            _ => bad("the votes have the same kind, so they do not conflict"),
        }
    }

    /// The clean vote.
    pub fn clean(&self) -> &Vote {
        &self.clean
    }

    /// The malicious vote.
    pub fn malicious(&self) -> &Vote {
        &self.malicious
    }

    /// The signer's committee index.
    pub fn signer(&self) -> u32 {
        self.clean.signer
    }
}

impl<'de> Deserialize<'de> for EquivocationEvidence {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            clean: Vote,
            malicious: Vote,
        }
        let raw = Raw::deserialize(d)?;
        if raw.clean.kind != VoteKind::Clean || raw.malicious.kind != VoteKind::Malicious {
            return Err(serde::de::Error::custom(
                "evidence needs a clean vote under `clean` and a malicious one under `malicious`",
            ));
        }
        Self::new(raw.clean, raw.malicious).map_err(serde::de::Error::custom)
    }
}

impl Wire for EquivocationEvidence {
    const VERSION: u8 = 1;
    const MAX_SIZE: usize = 1 + 2 * Vote::ENCODED_LEN;
    const NAME: &'static str = "equivocation evidence";

    fn encode_fields(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.clean.encode());
        out.extend_from_slice(&self.malicious.encode());
    }

    fn decode_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let clean = Vote::decode(r.take(Vote::ENCODED_LEN, "clean vote")?)?;
        let malicious = Vote::decode(r.take(Vote::ENCODED_LEN, "malicious vote")?)?;
        if clean.kind != VoteKind::Clean || malicious.kind != VoteKind::Malicious {
            return Err(DecodeError::Invalid {
                what: Self::NAME,
                reason: "votes out of canonical order (clean first)".into(),
            });
        }
        Self::new(clean, malicious).map_err(|e| DecodeError::Invalid { what: Self::NAME, reason: e.to_string() })
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for EquivocationEvidence {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let clean = Vote { kind: VoteKind::Clean, ..u.arbitrary()? };
        let malicious = Vote { kind: VoteKind::Malicious, signature: u.arbitrary()?, ..clean.clone() };
        Self::new(clean, malicious).map_err(|_| arbitrary::Error::IncorrectFormat)
    }
}

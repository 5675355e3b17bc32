//! Equivocation evidence: one signer's clean and malicious votes on the same
//! transaction (DESIGN §4), and its generalisation to statements that are
//! votes or batch leaves (§4b).

use crate::{
    batch::{BatchVote, MAX_PATH},
    codec::{Reader, Wire},
    error::{DecodeError, InvalidError},
    vote::{Vote, VoteKind},
};
use alloy_primitives::B256;
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

/// One signer's statement about one transaction (DESIGN §4b): a §4 vote,
/// or a batch vote with the inclusion path of that transaction's leaf.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Statement {
    /// A per-transaction vote.
    Vote(Vote),
    /// A leaf of a signed batch.
    Batch(BatchStatement),
}

/// A batch vote and the path of one of its leaves: what the signer said
/// about that leaf's transaction.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchStatement {
    /// The signed batch vote.
    pub batch_vote: BatchVote,
    /// The leaf's index.
    pub index: u32,
    /// The transaction.
    pub tx_hash: B256,
    /// The verdict the batch gives it.
    pub kind: VoteKind,
    /// Siblings from the leaf upwards.
    pub path: Vec<B256>,
}

impl Statement {
    /// Chain.
    pub fn chain_id(&self) -> u64 {
        match self {
            Self::Vote(v) => v.chain_id,
            Self::Batch(b) => b.batch_vote.chain_id,
        }
    }

    /// Epoch.
    pub fn epoch(&self) -> u64 {
        match self {
            Self::Vote(v) => v.epoch,
            Self::Batch(b) => b.batch_vote.epoch,
        }
    }

    /// The transaction it is about.
    pub fn tx_hash(&self) -> B256 {
        match self {
            Self::Vote(v) => v.tx_hash,
            Self::Batch(b) => b.tx_hash,
        }
    }

    /// What it says.
    pub fn kind(&self) -> VoteKind {
        match self {
            Self::Vote(v) => v.kind,
            Self::Batch(b) => b.kind,
        }
    }

    /// Who signed it.
    pub fn signer(&self) -> u32 {
        match self {
            Self::Vote(v) => v.signer,
            Self::Batch(b) => b.batch_vote.signer,
        }
    }

    fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Self::Vote(v) => {
                out.push(0);
                out.extend_from_slice(&v.encode());
            }
            Self::Batch(b) => {
                out.push(1);
                out.extend_from_slice(&b.batch_vote.encode());
                out.extend_from_slice(&b.index.to_be_bytes());
                out.extend_from_slice(b.tx_hash.as_slice());
                out.push(b.kind.as_byte());
                out.push(b.path.len().min(u8::MAX as usize) as u8);
                for h in &b.path {
                    out.extend_from_slice(h.as_slice());
                }
            }
        }
    }

    fn read(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        match r.u8("statement form")? {
            0 => Ok(Self::Vote(Vote::decode(r.take(Vote::ENCODED_LEN, "vote")?)?)),
            1 => {
                let batch_vote = BatchVote::decode(r.take(BatchVote::MAX_SIZE, "batch vote")?)?;
                let index = r.u32("index")?;
                let tx_hash = B256::from(r.array::<32>("tx_hash")?);
                let kind = VoteKind::read(r, what)?;
                let n = r.u8("path length")? as usize;
                if n > MAX_PATH {
                    return Err(DecodeError::Invalid {
                        what,
                        reason: format!("an audit path of {n} hashes; at most {MAX_PATH}"),
                    });
                }
                let path = (0..n).map(|_| r.array::<32>("path").map(B256::from)).collect::<Result<_, _>>()?;
                Ok(Self::Batch(BatchStatement { batch_vote, index, tx_hash, kind, path }))
            }
            other => Err(DecodeError::Invalid {
                what,
                reason: format!("statement form {other} is neither 0 (vote) nor 1 (batch)"),
            }),
        }
    }
}

/// Equivocation across per-transaction votes and batches (DESIGN §4b): two
/// statements of one signer on the same `(chain_id, epoch, tx_hash)` with
/// different kinds, each a vote or a batch leaf. Canonical order: the clean
/// statement first. Whether the signatures and paths hold is for
/// `vigil-consensus`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct StatementEvidence {
    clean: Statement,
    malicious: Statement,
}

impl StatementEvidence {
    /// Pairs two statements, in either order, if they conflict.
    pub fn new(a: Statement, b: Statement) -> Result<Self, InvalidError> {
        let bad = |s: &str| Err(InvalidError::Evidence(s.into()));
        if a.signer() != b.signer() {
            return bad("the statements have different signers");
        }
        if (a.chain_id(), a.epoch(), a.tx_hash()) != (b.chain_id(), b.epoch(), b.tx_hash()) {
            return bad("the statements are not about the same (chain id, epoch, transaction)");
        }
        match (a.kind(), b.kind()) {
            (VoteKind::Clean, VoteKind::Malicious) => Ok(Self { clean: a, malicious: b }),
            (VoteKind::Malicious, VoteKind::Clean) => Ok(Self { clean: b, malicious: a }),
            _ => bad("the statements have the same kind, so they do not conflict"),
        }
    }

    /// The clean statement.
    pub fn clean(&self) -> &Statement {
        &self.clean
    }

    /// The malicious statement.
    pub fn malicious(&self) -> &Statement {
        &self.malicious
    }

    /// The signer's committee index.
    pub fn signer(&self) -> u32 {
        self.clean.signer()
    }
}

impl<'de> Deserialize<'de> for StatementEvidence {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            clean: Statement,
            malicious: Statement,
        }
        let raw = Raw::deserialize(d)?;
        if raw.clean.kind() != VoteKind::Clean || raw.malicious.kind() != VoteKind::Malicious {
            return Err(serde::de::Error::custom(
                "evidence needs a clean statement under `clean` and a malicious one under `malicious`",
            ));
        }
        Self::new(raw.clean, raw.malicious).map_err(serde::de::Error::custom)
    }
}

/// Largest encoded statement: a batch leaf with the longest path.
const MAX_STATEMENT: usize = 1 + BatchVote::MAX_SIZE + 4 + 32 + 1 + 1 + 32 * MAX_PATH;

impl Wire for StatementEvidence {
    const VERSION: u8 = 1;
    const MAX_SIZE: usize = 1 + 2 * MAX_STATEMENT;
    const NAME: &'static str = "statement evidence";

    fn encode_fields(&self, out: &mut Vec<u8>) {
        self.clean.encode_into(out);
        self.malicious.encode_into(out);
    }

    fn decode_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let clean = Statement::read(r, Self::NAME)?;
        let malicious = Statement::read(r, Self::NAME)?;
        if clean.kind() != VoteKind::Clean || malicious.kind() != VoteKind::Malicious {
            return Err(DecodeError::Invalid {
                what: Self::NAME,
                reason: "statements out of canonical order (clean first)".into(),
            });
        }
        Self::new(clean, malicious).map_err(|e| DecodeError::Invalid { what: Self::NAME, reason: e.to_string() })
    }
}

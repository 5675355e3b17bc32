//! Batch attestations (DESIGN §4b): a member signs its verdicts on up to
//! [`MAX_BATCH`] transactions at once, as the RFC 6962 Merkle root over
//! `tx_hash || kind` leaves; one transaction is admitted by the batch
//! certificate and its audit path.
//!
//! The tree is `ct-merkle`'s RFC 6962 implementation with SHA-256 (leaf
//! prefix `0x00`, node prefix `0x01`); audit paths list the siblings from
//! the leaf upwards.

use crate::{
    cert::{SignerBitmap, MAX_BITMAP_LEN},
    codec::{put_u16_prefixed, Reader, Wire},
    error::{DecodeError, InvalidError},
    vote::VoteKind,
    SignatureBytes,
};
use alloy_primitives::B256;
use ct_merkle::{mem_backed_tree::MemoryBackedTree, InclusionProof as CtProof, RootHash};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sha2_011::Sha256 as TreeHash;

/// Most transactions in one batch.
pub const MAX_BATCH: usize = 4096;
/// Longest audit path: the depth of a tree of [`MAX_BATCH`] leaves.
pub const MAX_PATH: usize = 12;
/// Domain of the batch vote digest.
pub const BATCH_DOMAIN: &[u8] = b"vigil/batch/v1";

/// One leaf: a transaction and the verdict on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BatchLeaf {
    /// The transaction.
    pub tx_hash: B256,
    /// The verdict.
    pub kind: VoteKind,
}

impl BatchLeaf {
    /// The 33 leaf bytes `tx_hash || kind`.
    pub fn bytes(&self) -> [u8; 33] {
        let mut out = [0u8; 33];
        out[..32].copy_from_slice(self.tx_hash.as_slice());
        out[32] = self.kind.as_byte();
        out
    }
}

/// A batch's leaves and their Merkle tree.
#[derive(Debug, Clone)]
pub struct BatchTree {
    leaves: Vec<BatchLeaf>,
    tree: MemoryBackedTree<TreeHash, [u8; 33]>,
}

impl BatchTree {
    /// Builds the tree of 1 to [`MAX_BATCH`] leaves with distinct
    /// transaction hashes, in the order given.
    pub fn new(leaves: Vec<BatchLeaf>) -> Result<Self, InvalidError> {
        if leaves.is_empty() || leaves.len() > MAX_BATCH {
            return Err(InvalidError::Batch(format!("{} transactions; a batch holds 1 to {MAX_BATCH}", leaves.len())));
        }
        let mut seen = std::collections::HashSet::with_capacity(leaves.len());
        if let Some(dup) = leaves.iter().find(|l| !seen.insert(l.tx_hash)) {
            return Err(InvalidError::Batch(format!("transaction {} appears twice", dup.tx_hash)));
        }
        let mut tree = MemoryBackedTree::new();
        for leaf in &leaves {
            tree.push(leaf.bytes());
        }
        Ok(Self { leaves, tree })
    }

    /// The leaves, in order.
    pub fn leaves(&self) -> &[BatchLeaf] {
        &self.leaves
    }

    /// Number of leaves (at most [`MAX_BATCH`], so it fits the `u32` count).
    pub fn count(&self) -> u32 {
        self.leaves.len() as u32
    }

    /// The Merkle Tree Hash of the leaves.
    pub fn root(&self) -> B256 {
        B256::from_slice(self.tree.root().as_bytes().as_slice())
    }

    /// The audit path of leaf `index`, siblings from the leaf upwards.
    pub fn path(&self, index: u32) -> Option<Vec<B256>> {
        if index as usize >= self.leaves.len() {
            return None;
        }
        let proof = self.tree.prove_inclusion(index as usize);
        Some(proof.as_bytes().chunks(32).map(B256::from_slice).collect())
    }
}

/// Whether `path` leads from `leaf` at `index` to `root` in a tree of
/// `count` leaves (RFC 9162 §2.1.3.2: the path's length must be the one
/// that index and count give). A path can fit more than one count (the
/// first leaves of 3 and of 4 share their paths); the count is bound by the
/// signature over [`BatchMessage`], not by the path.
pub fn verify_path(leaf: &BatchLeaf, index: u32, count: u32, path: &[B256], root: B256) -> Result<(), InvalidError> {
    if count == 0 || count as usize > MAX_BATCH {
        return Err(InvalidError::Inclusion(format!("count {count} is outside 1 to {MAX_BATCH}")));
    }
    if index >= count {
        return Err(InvalidError::Inclusion(format!("index {index} is outside a batch of {count}")));
    }
    let mut digest = [0u8; 32];
    digest.copy_from_slice(root.as_slice());
    let root = RootHash::<TreeHash>::new(digest.into(), u64::from(count));
    let bytes: Vec<u8> = path.iter().flat_map(|h| h.0).collect();
    let fingerprint = Sha256::digest(&bytes);
    root.verify_inclusion(&leaf.bytes(), u64::from(index), &CtProof::from_bytes(bytes)).map_err(|e| {
        InvalidError::Inclusion(format!(
            "the audit path of {} hashes (digest 0x{}…) does not lead from leaf {index} ({}, {}) to the root of a \
             batch of {count} ({e:?})",
            path.len(),
            hex::encode(&fingerprint[..4]),
            leaf.tx_hash,
            leaf.kind
        ))
    })
}

/// The statement a batch vote and a batch certificate sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BatchMessage {
    /// Chain the transactions are for.
    pub chain_id: u64,
    /// Committee epoch.
    pub epoch: u64,
    /// Number of leaves.
    pub count: u32,
    /// Merkle root of the leaves.
    pub root: B256,
}

impl BatchMessage {
    /// `sha256("vigil/batch/v1" || chain_id:u64be || epoch:u64be || count:u32be || root:32)`.
    pub fn digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(BATCH_DOMAIN);
        h.update(self.chain_id.to_be_bytes());
        h.update(self.epoch.to_be_bytes());
        h.update(self.count.to_be_bytes());
        h.update(self.root.as_slice());
        h.finalize().into()
    }
}

/// One member's signed verdict list over a batch.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchVote {
    /// Chain the transactions are for.
    pub chain_id: u64,
    /// Committee epoch.
    pub epoch: u64,
    /// Number of leaves.
    pub count: u32,
    /// Merkle root of the member's leaves.
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arb_b256))]
    pub root: B256,
    /// Signer's committee index.
    pub signer: u32,
    /// BLS signature over [`BatchMessage::digest`].
    pub signature: SignatureBytes,
}

impl BatchVote {
    /// The signed statement.
    pub fn message(&self) -> BatchMessage {
        BatchMessage { chain_id: self.chain_id, epoch: self.epoch, count: self.count, root: self.root }
    }
}

impl Wire for BatchVote {
    const VERSION: u8 = 1;
    const MAX_SIZE: usize = 1 + 8 + 8 + 4 + 32 + 4 + 96;
    const NAME: &'static str = "batch vote";

    fn encode_fields(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.chain_id.to_be_bytes());
        out.extend_from_slice(&self.epoch.to_be_bytes());
        out.extend_from_slice(&self.count.to_be_bytes());
        out.extend_from_slice(self.root.as_slice());
        out.extend_from_slice(&self.signer.to_be_bytes());
        out.extend_from_slice(&self.signature.0);
    }

    fn decode_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            chain_id: r.u64("chain_id")?,
            epoch: r.u64("epoch")?,
            count: read_count(r, Self::NAME)?,
            root: B256::from(r.array::<32>("root")?),
            signer: r.u32("signer")?,
            signature: SignatureBytes(r.array("signature")?),
        })
    }
}

fn read_count(r: &mut Reader<'_>, what: &'static str) -> Result<u32, DecodeError> {
    let count = r.u32("count")?;
    if count == 0 || count as usize > MAX_BATCH {
        return Err(DecodeError::Invalid { what, reason: format!("count {count} is outside 1 to {MAX_BATCH}") });
    }
    Ok(count)
}

/// The aggregated batch votes of a set of committee members (DESIGN §4b
/// JSON form). Only data: `vigil-consensus` decides whether it is valid.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchCertificate {
    /// Chain the transactions are for.
    pub chain_id: u64,
    /// Committee epoch.
    pub epoch: u64,
    /// Number of leaves.
    pub count: u32,
    /// Merkle root of the leaves.
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arb_b256))]
    pub root: B256,
    /// Who signed.
    pub signers: SignerBitmap,
    /// Aggregate BLS signature over [`BatchMessage::digest`].
    pub signature: SignatureBytes,
}

impl BatchCertificate {
    /// The statement every signer signed.
    pub fn message(&self) -> BatchMessage {
        BatchMessage { chain_id: self.chain_id, epoch: self.epoch, count: self.count, root: self.root }
    }
}

impl Wire for BatchCertificate {
    const VERSION: u8 = 1;
    const MAX_SIZE: usize = 1 + 8 + 8 + 4 + 32 + 2 + MAX_BITMAP_LEN + 96;
    const NAME: &'static str = "batch certificate";

    fn encode_fields(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.chain_id.to_be_bytes());
        out.extend_from_slice(&self.epoch.to_be_bytes());
        out.extend_from_slice(&self.count.to_be_bytes());
        out.extend_from_slice(self.root.as_slice());
        put_u16_prefixed(out, self.signers.as_bytes());
        out.extend_from_slice(&self.signature.0);
    }

    fn decode_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            chain_id: r.u64("chain_id")?,
            epoch: r.u64("epoch")?,
            count: read_count(r, Self::NAME)?,
            root: B256::from(r.array::<32>("root")?),
            signers: SignerBitmap::from_bytes(r.bytes_u16("signers", MAX_BITMAP_LEN)?.to_vec()),
            signature: SignatureBytes(r.array("signature")?),
        })
    }
}

/// What decides one transaction: a §4 certificate or a §4b inclusion
/// proof. Its JSON is either form as it is (they share no field set, so
/// each reads back as what it was); only data, `vigil-consensus` checks it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Attestation {
    /// A certificate on the transaction alone.
    Certificate(crate::Certificate),
    /// A leaf of a certified batch.
    Inclusion(InclusionProof),
}

impl Attestation {
    /// The transaction decided.
    pub fn tx_hash(&self) -> B256 {
        match self {
            Self::Certificate(c) => c.tx_hash,
            Self::Inclusion(p) => p.tx_hash,
        }
    }

    /// The verdict.
    pub fn kind(&self) -> VoteKind {
        match self {
            Self::Certificate(c) => c.kind,
            Self::Inclusion(p) => p.kind,
        }
    }

    /// The committee epoch that signed it.
    pub fn epoch(&self) -> u64 {
        match self {
            Self::Certificate(c) => c.epoch,
            Self::Inclusion(p) => p.certificate.epoch,
        }
    }
}

impl From<crate::Certificate> for Attestation {
    fn from(c: crate::Certificate) -> Self {
        Self::Certificate(c)
    }
}

impl From<InclusionProof> for Attestation {
    fn from(p: InclusionProof) -> Self {
        Self::Inclusion(p)
    }
}

/// A certified batch as an inspector pushes it to a sequencer in one call
/// (`vigil_submitBatch`): the batch certificate, the raw transactions in
/// leaf order and the verdict on each. The receiver rebuilds the tree from
/// them ([`BatchPush::decode`]), so the push carries no paths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchPush {
    /// The batch certificate.
    pub certificate: BatchCertificate,
    /// Raw EIP-2718 transactions, `0x` hex, in leaf order.
    pub transactions: Vec<alloy_primitives::Bytes>,
    /// The verdict on each transaction, in the same order.
    pub kinds: Vec<VoteKind>,
}

impl BatchPush {
    /// The transactions decoded and the tree of their leaves (not yet
    /// compared with the certificate: `vigil_consensus::batch_inclusions`
    /// does that).
    pub fn decode(&self) -> Result<(Vec<crate::Transaction>, BatchTree), InvalidError> {
        if self.transactions.len() != self.kinds.len() {
            return Err(InvalidError::Batch(format!(
                "{} transactions but {} kinds",
                self.transactions.len(),
                self.kinds.len()
            )));
        }
        let txs = self
            .transactions
            .iter()
            .enumerate()
            .map(|(i, raw)| {
                crate::Transaction::decode(raw).map_err(|e| InvalidError::Batch(format!("transaction {i}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let leaves =
            txs.iter().zip(&self.kinds).map(|(tx, kind)| BatchLeaf { tx_hash: tx.hash(), kind: *kind }).collect();
        Ok((txs, BatchTree::new(leaves)?))
    }
}

/// What admits one transaction through a batch: the batch certificate, the
/// leaf's index, transaction and kind, and its audit path (DESIGN §4b).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    /// The batch certificate.
    pub certificate: BatchCertificate,
    /// The leaf's index in the batch.
    pub index: u32,
    /// The transaction.
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arb_b256))]
    pub tx_hash: B256,
    /// The batch's verdict on it.
    pub kind: VoteKind,
    /// Siblings from the leaf upwards.
    #[cfg_attr(feature = "arbitrary", arbitrary(with = arb_path))]
    pub path: Vec<B256>,
}

impl InclusionProof {
    /// The leaf this proof is about.
    pub fn leaf(&self) -> BatchLeaf {
        BatchLeaf { tx_hash: self.tx_hash, kind: self.kind }
    }

    /// Whether the path leads from the leaf to the certificate's root (the
    /// certificate itself is checked by `vigil-consensus`).
    pub fn check_path(&self) -> Result<(), InvalidError> {
        if self.path.len() > MAX_PATH {
            return Err(InvalidError::Inclusion(format!(
                "an audit path of {} hashes; a batch of {MAX_BATCH} needs at most {MAX_PATH}",
                self.path.len()
            )));
        }
        verify_path(&self.leaf(), self.index, self.certificate.count, &self.path, self.certificate.root)
    }
}

impl Wire for InclusionProof {
    const VERSION: u8 = 1;
    const MAX_SIZE: usize = BatchCertificate::MAX_SIZE + 4 + 32 + 1 + 1 + 32 * MAX_PATH;
    const NAME: &'static str = "inclusion proof";

    fn encode_fields(&self, out: &mut Vec<u8>) {
        self.certificate.encode_fields(out);
        out.extend_from_slice(&self.index.to_be_bytes());
        out.extend_from_slice(self.tx_hash.as_slice());
        out.push(self.kind.as_byte());
        // At most MAX_PATH entries in anything that decoded or was built
        // from a tree; a longer path is written as read and rejected by
        // `check_path`.
        out.push(self.path.len().min(u8::MAX as usize) as u8);
        for h in &self.path {
            out.extend_from_slice(h.as_slice());
        }
    }

    fn decode_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let certificate = BatchCertificate::decode_fields(r)?;
        let index = r.u32("index")?;
        let tx_hash = B256::from(r.array::<32>("tx_hash")?);
        let kind = VoteKind::read(r, Self::NAME)?;
        let n = r.u8("path length")? as usize;
        if n > MAX_PATH {
            return Err(DecodeError::Invalid {
                what: Self::NAME,
                reason: format!("an audit path of {n} hashes; at most {MAX_PATH}"),
            });
        }
        let path = (0..n).map(|_| r.array::<32>("path").map(B256::from)).collect::<Result<_, _>>()?;
        Ok(Self { certificate, index, tx_hash, kind, path })
    }
}

#[cfg(feature = "arbitrary")]
fn arb_path(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<Vec<B256>> {
    let n = u.int_in_range(0..=MAX_PATH)?;
    (0..n).map(|_| crate::arb_b256(u)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<BatchLeaf> {
        (0..n)
            .map(|i| BatchLeaf {
                tx_hash: B256::from_slice(&Sha256::digest((i as u64).to_be_bytes())),
                kind: if i % 5 == 3 { VoteKind::Malicious } else { VoteKind::Clean },
            })
            .collect()
    }

    /// RFC 6962 §2.1 written out directly: MTH of one leaf and the split at
    /// the largest power of two below n.
    fn mth(leaves: &[[u8; 33]]) -> [u8; 32] {
        if leaves.len() == 1 {
            return Sha256::new().chain_update([0u8]).chain_update(leaves[0]).finalize().into();
        }
        let k = leaves.len().next_power_of_two() / 2;
        Sha256::new()
            .chain_update([1u8])
            .chain_update(mth(&leaves[..k]))
            .chain_update(mth(&leaves[k..]))
            .finalize()
            .into()
    }

    #[test]
    fn the_root_is_rfc_6962_and_every_path_verifies_only_for_its_leaf() {
        for n in [1, 2, 3, 5, 7, 8, 13, 64, 100] {
            let ls = leaves(n);
            let tree = BatchTree::new(ls.clone()).unwrap();
            let bytes: Vec<[u8; 33]> = ls.iter().map(BatchLeaf::bytes).collect();
            assert_eq!(tree.root(), B256::from(mth(&bytes)), "n = {n}");
            for i in 0..n as u32 {
                let path = tree.path(i).unwrap();
                let leaf = ls[i as usize];
                verify_path(&leaf, i, n as u32, &path, tree.root()).unwrap();
                let flipped = BatchLeaf { kind: leaf.kind.opposite(), ..leaf };
                assert!(verify_path(&flipped, i, n as u32, &path, tree.root()).is_err());
                if n > 1 {
                    assert!(verify_path(&leaf, (i + 1) % n as u32, n as u32, &path, tree.root()).is_err());
                }
            }
            assert!(tree.path(n as u32).is_none());
        }
    }

    #[test]
    fn a_batch_is_one_to_4096_distinct_transactions() {
        assert!(BatchTree::new(Vec::new()).is_err());
        assert!(BatchTree::new(leaves(MAX_BATCH)).is_ok());
        assert!(BatchTree::new(leaves(MAX_BATCH + 1)).is_err());
        let mut dup = leaves(3);
        dup[2].tx_hash = dup[0].tx_hash;
        assert!(BatchTree::new(dup).is_err());
        assert_eq!(BatchTree::new(leaves(MAX_BATCH)).unwrap().path(0).unwrap().len(), MAX_PATH);
    }

    #[test]
    fn proofs_round_trip_in_both_encodings_and_reject_long_paths() {
        let ls = leaves(9);
        let tree = BatchTree::new(ls.clone()).unwrap();
        let cert = BatchCertificate {
            chain_id: 31337,
            epoch: 7,
            count: tree.count(),
            root: tree.root(),
            signers: SignerBitmap::from_bytes(vec![0b1011]),
            signature: SignatureBytes([7; 96]),
        };
        let proof = InclusionProof {
            certificate: cert,
            index: 4,
            tx_hash: ls[4].tx_hash,
            kind: ls[4].kind,
            path: tree.path(4).unwrap(),
        };
        proof.check_path().unwrap();
        let bytes = proof.encode();
        assert_eq!(InclusionProof::decode(&bytes).unwrap(), proof);
        let json = serde_json::to_string(&proof).unwrap();
        assert_eq!(serde_json::from_str::<InclusionProof>(&json).unwrap(), proof);
        let mut long = proof.clone();
        long.path = vec![B256::ZERO; MAX_PATH + 1];
        assert!(long.check_path().is_err());
        assert!(InclusionProof::decode(&long.encode()).is_err());
        let mut zero = proof.certificate.clone();
        zero.count = 0;
        assert!(BatchCertificate::decode(&zero.encode()).is_err());
    }
}

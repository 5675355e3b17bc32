//! Merkle trees as the corpus contracts verify them (`utils/MerkleProof.sol`):
//! an inner node is `keccak256(min(a, b) ‖ max(a, b))` of its two children
//! compared as 32-byte numbers, so a proof is just the siblings from the leaf
//! up. A node without a sibling on its level is carried up unchanged (and
//! adds nothing to the proofs through it), as in Uniswap's merkle-distributor
//! tree.

use alloy_primitives::{keccak256, B256};

/// `keccak256(min(a, b) ‖ max(a, b))`.
pub(crate) fn hash_pair(a: B256, b: B256) -> B256 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(lo.as_slice());
    buf[32..].copy_from_slice(hi.as_slice());
    keccak256(buf)
}

/// The root `proof` leads to from `leaf` (`MerkleProof.processProof`).
#[cfg(test)]
pub(crate) fn process_proof(proof: &[B256], leaf: B256) -> B256 {
    proof.iter().fold(leaf, |node, sibling| hash_pair(node, *sibling))
}

/// Every level of a tree, leaves first, root last.
#[derive(Debug, Clone)]
pub(crate) struct MerkleTree {
    levels: Vec<Vec<B256>>,
}

impl MerkleTree {
    /// The tree over `leaves` in their order. An empty list has the zero root.
    pub(crate) fn new(leaves: Vec<B256>) -> Self {
        let mut levels = vec![leaves];
        while levels.last().is_some_and(|l| l.len() > 1) {
            let below = levels.last().map(Vec::as_slice).unwrap_or_default();
            let up = below.chunks(2).map(|c| if let [a, b] = c { hash_pair(*a, *b) } else { c[0] }).collect();
            levels.push(up);
        }
        Self { levels }
    }

    /// The root.
    pub(crate) fn root(&self) -> B256 {
        self.levels.last().and_then(|l| l.first()).copied().unwrap_or_default()
    }

    /// Number of leaves.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.levels.first().map_or(0, Vec::len)
    }

    /// The siblings of leaf `index`, from the bottom up; empty for an index
    /// past the leaves.
    pub(crate) fn proof(&self, index: usize) -> Vec<B256> {
        let mut out = Vec::new();
        let mut i = index;
        for level in &self.levels[..self.levels.len().saturating_sub(1)] {
            if i >= level.len() {
                return Vec::new();
            }
            if let Some(sibling) = level.get(i ^ 1) {
                out.push(*sibling);
            }
            i /= 2;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<B256> {
        (0..n).map(|i| keccak256(format!("leaf {i}"))).collect()
    }

    #[test]
    fn every_proof_leads_to_the_root() {
        for n in [1, 2, 3, 5, 8, 13, 100, 4097] {
            let tree = MerkleTree::new(leaves(n));
            assert_eq!(tree.len(), n);
            for (i, leaf) in leaves(n).into_iter().enumerate() {
                assert_eq!(process_proof(&tree.proof(i), leaf), tree.root(), "{n} leaves, leaf {i}");
            }
        }
    }

    #[test]
    fn a_wrong_leaf_or_sibling_does_not() {
        let tree = MerkleTree::new(leaves(10));
        let mut proof = tree.proof(3);
        assert_ne!(process_proof(&proof, leaves(10)[4]), tree.root());
        proof[1] = B256::ZERO;
        assert_ne!(process_proof(&proof, leaves(10)[3]), tree.root());
    }

    #[test]
    fn sorted_pair_hash() {
        let (a, b) = (B256::with_last_byte(1), B256::with_last_byte(2));
        assert_eq!(hash_pair(a, b), hash_pair(b, a));
        let mut buf = [0u8; 64];
        buf[31] = 1;
        buf[63] = 2;
        assert_eq!(hash_pair(b, a), keccak256(buf));
        // One leaf: the root is the leaf and the proof is empty.
        let tree = MerkleTree::new(vec![a]);
        assert_eq!(tree.root(), a);
        assert!(tree.proof(0).is_empty());
    }
}

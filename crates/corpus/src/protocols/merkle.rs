//! The Merkle tree of Uniswap's merkle-distributor: leaves
//! `keccak256(abi.encodePacked(uint256 index, address account, uint256
//! amount))`, each inner node the hash of its two children in ascending
//! order (OpenZeppelin's `MerkleProof`, which the distributor verifies
//! with), a node without a sibling carried up unchanged (the distributor's
//! own `merkle-tree.ts`).

use alloy_primitives::{keccak256, Address, B256, U256};

/// One claim of the airdrop.
#[derive(Debug, Clone)]
pub(crate) struct Claim {
    pub(crate) index: U256,
    pub(crate) account: Address,
    pub(crate) amount: U256,
}

/// The leaf of a claim.
pub(crate) fn leaf(c: &Claim) -> B256 {
    let mut buf = Vec::with_capacity(84);
    buf.extend_from_slice(&c.index.to_be_bytes::<32>());
    buf.extend_from_slice(c.account.as_slice());
    buf.extend_from_slice(&c.amount.to_be_bytes::<32>());
    keccak256(buf)
}

fn combine(a: B256, b: B256) -> B256 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(lo.as_slice());
    buf[32..].copy_from_slice(hi.as_slice());
    keccak256(buf)
}

/// A tree over the leaves, kept layer by layer.
#[derive(Debug, Clone)]
pub(crate) struct Tree {
    layers: Vec<Vec<B256>>,
}

impl Tree {
    pub(crate) fn new(leaves: Vec<B256>) -> Self {
        let mut layers = vec![leaves];
        while layers.last().is_some_and(|l| l.len() > 1) {
            let prev = layers.last().map(Vec::as_slice).unwrap_or_default();
            let next = prev.chunks(2).map(|p| if p.len() == 2 { combine(p[0], p[1]) } else { p[0] }).collect();
            layers.push(next);
        }
        Self { layers }
    }

    pub(crate) fn root(&self) -> B256 {
        self.layers.last().and_then(|l| l.first()).copied().unwrap_or_default()
    }

    /// The proof of leaf `i`: its siblings from the bottom up.
    pub(crate) fn proof(&self, mut i: usize) -> Vec<B256> {
        let mut out = Vec::new();
        for layer in &self.layers[..self.layers.len().saturating_sub(1)] {
            if let Some(s) = layer.get(i ^ 1) {
                out.push(*s);
            }
            i /= 2;
        }
        out
    }
}

/// What `MerkleProof.verify` computes.
#[cfg(test)]
pub(crate) fn verify(proof: &[B256], root: B256, leaf: B256) -> bool {
    proof.iter().fold(leaf, |h, p| combine(h, *p)) == root
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_proof_verifies() {
        for n in [1usize, 2, 3, 5, 8, 13] {
            let leaves: Vec<B256> = (0..n)
                .map(|i| {
                    leaf(&Claim { index: U256::from(i), account: Address::repeat_byte(i as u8), amount: U256::from(7) })
                })
                .collect();
            let t = Tree::new(leaves.clone());
            for (i, l) in leaves.iter().enumerate() {
                assert!(verify(&t.proof(i), t.root(), *l), "n={n} i={i}");
            }
        }
    }
}

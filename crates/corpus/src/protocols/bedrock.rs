//! The L2 side of OP Stack withdrawals, as an L1 sees it: the storage trie
//! of the L2ToL1MessagePasser (`sentMessages[withdrawalHash] = true`, slot
//! `keccak256(abi.encode(hash, 0))`), its root in a proposed output root,
//! and the Merkle-Patricia proof `OptimismPortal.proveWithdrawalTransaction`
//! checks against it (alloy-trie's hash builder with a proof retainer).

use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use alloy_sol_types::SolValue;
use alloy_trie::{proof::ProofRetainer, HashBuilder, Nibbles};

/// `Hashing.hashWithdrawal`: `keccak256(abi.encode(nonce, sender, target,
/// value, gasLimit, data))`.
pub(crate) fn withdrawal_hash(nonce: U256, sender: Address, target: Address, value: U256, gas_limit: U256) -> B256 {
    keccak256((nonce, sender, target, value, gas_limit, Bytes::new()).abi_encode_params())
}

/// The trie key of a withdrawal: `keccak256` of its storage slot.
fn trie_key(withdrawal: B256) -> Nibbles {
    let slot = keccak256((withdrawal, U256::ZERO).abi_encode());
    Nibbles::unpack(keccak256(slot))
}

/// The message passer's storage root over `withdrawals` and, for `target`,
/// the proof nodes from the root down (each stored value is RLP(1) = 0x01).
pub(crate) fn storage_root_and_proof(withdrawals: &[B256], target: Option<B256>) -> (B256, Vec<Bytes>) {
    let mut keys: Vec<Nibbles> = withdrawals.iter().map(|w| trie_key(*w)).collect();
    keys.sort();
    keys.dedup();
    let target = target.map(trie_key);
    let mut hb = HashBuilder::default().with_proof_retainer(ProofRetainer::new(target.iter().copied().collect()));
    for k in &keys {
        hb.add_leaf(*k, &[0x01]);
    }
    let root = hb.root();
    let proof = match target {
        Some(t) => hb.take_proof_nodes().matching_nodes_sorted(&t).into_iter().map(|(_, node)| node).collect(),
        None => Vec::new(),
    };
    (root, proof)
}

/// `Hashing.hashOutputRootProof` of version 0.
pub(crate) fn output_root(state_root: B256, storage_root: B256, block_hash: B256) -> B256 {
    keccak256((B256::ZERO, state_root, storage_root, block_hash).abi_encode())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proofs_end_at_the_leaf() {
        let ws: Vec<B256> = (0..50u64).map(|i| keccak256(i.to_be_bytes())).collect();
        let (root, proof) = storage_root_and_proof(&ws, Some(ws[7]));
        let (again, _) = storage_root_and_proof(&ws, None);
        assert_eq!(root, again);
        assert!(proof.len() >= 2);
        assert_eq!(keccak256(&proof[0]), root);
    }
}

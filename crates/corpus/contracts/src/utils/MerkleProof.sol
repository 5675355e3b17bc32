// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice Merkle trees whose inner nodes hash their two children in ascending order.
library MerkleProof {
    function processProof(bytes32[] memory proof, bytes32 leaf) internal pure returns (bytes32 node) {
        node = leaf;
        for (uint256 i = 0; i < proof.length; i++) {
            bytes32 sibling = proof[i];
            node = node < sibling
                ? keccak256(abi.encodePacked(node, sibling))
                : keccak256(abi.encodePacked(sibling, node));
        }
    }
}

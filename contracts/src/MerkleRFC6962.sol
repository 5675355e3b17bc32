// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title RFC 6962 Merkle inclusion with SHA-256 (DESIGN §4b batch roots).
/// @notice Leaf hash `sha256(0x00 || leaf)`, node hash `sha256(0x01 || left || right)`; audit
/// paths list the siblings from the leaf upwards (RFC 9162 §2.1.3.2).
library MerkleRFC6962 {
    /// The hash of a batch leaf `txHash || kind`.
    function leafHash(bytes32 txHash, uint8 kind) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x00), txHash, kind));
    }

    /// Whether `path` leads from the leaf hash at `index` to `root` in a tree of `count` leaves,
    /// using exactly the hashes that index and count call for. `index < count` is the caller's.
    function leadsTo(bytes32 leaf, uint256 index, uint256 count, bytes32[] calldata path, bytes32 root)
        internal
        pure
        returns (bool)
    {
        uint256 fn = index;
        uint256 sn = count - 1;
        bytes32 r = leaf;
        for (uint256 i = 0; i < path.length; ++i) {
            if (sn == 0) return false;
            if (fn & 1 == 1 || fn == sn) {
                r = sha256(abi.encodePacked(bytes1(0x01), path[i], r));
                if (fn & 1 == 0) {
                    while (fn & 1 == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                r = sha256(abi.encodePacked(bytes1(0x01), r, path[i]));
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && r == root;
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice Re-entrancy lock kept in transient storage (EIP-1153).
abstract contract ReentrancyGuard {
    bool private transient _entered;

    modifier nonReentrant() {
        require(!_entered, "reentrant call");
        _entered = true;
        _;
        _entered = false;
    }
}

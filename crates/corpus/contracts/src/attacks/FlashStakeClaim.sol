// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {Pair, IPairCallee} from "../amm/Pair.sol";
import {StakingRewards} from "../rewards/StakingRewards.sol";

/// @notice Flash-swaps staking tokens out of a pair, stakes them, claims the current round's
/// rewards with the borrowed weight, unstakes, and returns the tokens plus the pair's fee (paid
/// from this contract's own token balance).
contract FlashStakeClaim is IPairCallee {
    address private immutable owner;

    constructor() {
        owner = msg.sender;
    }

    function harvest(Pair pair, StakingRewards staking, uint256 amount) external {
        require(msg.sender == owner);
        bool is0 = pair.token0() == address(staking.stakingToken());
        pair.swap(is0 ? amount : 0, is0 ? 0 : amount, address(this), abi.encode(staking));
        IERC20 reward = staking.rewardToken();
        reward.transfer(owner, reward.balanceOf(address(this)));
    }

    function uniswapV2Call(address sender, uint256 amount0, uint256 amount1, bytes calldata data) external {
        require(sender == address(this));
        StakingRewards staking = abi.decode(data, (StakingRewards));
        IERC20 token = staking.stakingToken();
        uint256 amount = amount0 + amount1;
        token.approve(address(staking), amount);
        staking.stake(amount);
        staking.claim();
        staking.unstake(amount);
        token.transfer(msg.sender, amount * 1000 / 997 + 1);
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {Ownable} from "../utils/Ownable.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";
import {StreamingRewards} from "./StreamingRewards.sol";

/// @notice Keeper-compatible budget for a StreamingRewards pool: every `interval` seconds an
/// upkeep (`checkUpkeep` / `performUpkeep`, Chainlink Automation's interface) funds the next
/// reward period with `amountPerDrip` from the tokens the owner keeps here. `performUpkeep`
/// re-checks the condition, so whoever calls it can only do what is due.
contract RewardDripper is Ownable {
    using SafeTransfer for IERC20;

    StreamingRewards public immutable pool;
    IERC20 public immutable token;
    uint256 public interval;
    uint256 public amountPerDrip;
    uint256 public lastDrip;

    event Dripped(uint256 amount, uint256 at);
    event ScheduleSet(uint256 interval, uint256 amountPerDrip);

    constructor(StreamingRewards pool_, uint256 interval_, uint256 amountPerDrip_) Ownable(msg.sender) {
        pool = pool_;
        token = pool_.rewardsToken();
        interval = interval_;
        amountPerDrip = amountPerDrip_;
        token.safeApprove(address(pool_), type(uint256).max);
        emit ScheduleSet(interval_, amountPerDrip_);
    }

    function setSchedule(uint256 interval_, uint256 amountPerDrip_) external onlyOwner {
        interval = interval_;
        amountPerDrip = amountPerDrip_;
        emit ScheduleSet(interval_, amountPerDrip_);
    }

    function due() public view returns (bool) {
        return block.timestamp >= lastDrip + interval && token.balanceOf(address(this)) > 0;
    }

    function checkUpkeep(bytes calldata) external view returns (bool upkeepNeeded, bytes memory performData) {
        return (due(), "");
    }

    function performUpkeep(bytes calldata) external {
        require(due(), "not due");
        uint256 amount = token.balanceOf(address(this));
        if (amount > amountPerDrip) amount = amountPerDrip;
        lastDrip = block.timestamp;
        pool.notifyRewardAmount(amount);
        emit Dripped(amount, block.timestamp);
    }

    function withdraw(address to, uint256 amount) external onlyOwner {
        token.safeTransfer(to, amount);
    }
}

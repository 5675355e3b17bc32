// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {Ownable} from "../utils/Ownable.sol";
import {ReentrancyGuard} from "../utils/ReentrancyGuard.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";

/// @notice Staking with reward rounds: the owner funds a round, and each staker may claim once
/// per round its share of the round's rewards in proportion to its stake.
contract StakingRewards is Ownable, ReentrancyGuard {
    using SafeTransfer for IERC20;

    IERC20 public immutable stakingToken;
    IERC20 public immutable rewardToken;

    mapping(address => uint256) public balanceOf;
    uint256 public totalStaked;

    uint256 public round;
    mapping(uint256 => uint256) public roundReward;
    mapping(uint256 => uint256) public roundPaid;
    mapping(uint256 => mapping(address => bool)) public claimed;

    event Staked(address indexed account, uint256 amount);
    event Unstaked(address indexed account, uint256 amount);
    event RoundStarted(uint256 indexed round, uint256 reward);
    event RewardPaid(address indexed account, uint256 indexed round, uint256 reward);

    constructor(IERC20 stakingToken_, IERC20 rewardToken_) Ownable(msg.sender) {
        stakingToken = stakingToken_;
        rewardToken = rewardToken_;
    }

    function stake(uint256 amount) external nonReentrant {
        require(amount > 0, "zero amount");
        stakingToken.safeTransferFrom(msg.sender, address(this), amount);
        balanceOf[msg.sender] += amount;
        totalStaked += amount;
        emit Staked(msg.sender, amount);
    }

    function unstake(uint256 amount) external nonReentrant {
        balanceOf[msg.sender] -= amount;
        totalStaked -= amount;
        stakingToken.safeTransfer(msg.sender, amount);
        emit Unstaked(msg.sender, amount);
    }

    function startRound(uint256 reward) external onlyOwner nonReentrant {
        rewardToken.safeTransferFrom(msg.sender, address(this), reward);
        round += 1;
        roundReward[round] = reward;
        emit RoundStarted(round, reward);
    }

    function claim() external nonReentrant returns (uint256 reward) {
        uint256 r = round;
        require(r > 0 && !claimed[r][msg.sender], "nothing to claim");
        reward = roundReward[r] * balanceOf[msg.sender] / totalStaked;
        uint256 remaining = roundReward[r] - roundPaid[r];
        if (reward > remaining) reward = remaining;
        claimed[r][msg.sender] = true;
        roundPaid[r] += reward;
        rewardToken.safeTransfer(msg.sender, reward);
        emit RewardPaid(msg.sender, r, reward);
    }
}

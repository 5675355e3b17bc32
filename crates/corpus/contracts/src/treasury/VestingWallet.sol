// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {Ownable} from "../utils/Ownable.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";

/// @notice Linear vesting for one beneficiary (OpenZeppelin's VestingWallet with a cliff): ETH
/// and any token sent to it vest linearly from `start` over `duration`, nothing before
/// `start + cliff`. Anyone may call `release`; the vested, unreleased amount always goes to the
/// beneficiary (the owner, who may hand the wallet to a new address).
contract VestingWallet is Ownable {
    using SafeTransfer for IERC20;

    uint64 public immutable start;
    uint64 public immutable duration;
    uint64 public immutable cliff;

    uint256 public releasedEth;
    mapping(address => uint256) public released;

    event EtherReleased(uint256 amount);
    event ERC20Released(address indexed token, uint256 amount);

    constructor(address beneficiary, uint64 start_, uint64 duration_, uint64 cliff_) payable Ownable(beneficiary) {
        require(beneficiary != address(0), "zero beneficiary");
        require(cliff_ <= duration_ && duration_ > 0, "bad schedule");
        start = start_;
        duration = duration_;
        cliff = cliff_;
    }

    receive() external payable {}

    function vestedAmount(address token, uint64 timestamp) public view returns (uint256) {
        uint256 total = token == address(0)
            ? address(this).balance + releasedEth
            : IERC20(token).balanceOf(address(this)) + released[token];
        return _schedule(total, timestamp);
    }

    function releasable(address token) public view returns (uint256) {
        uint256 done = token == address(0) ? releasedEth : released[token];
        return vestedAmount(token, uint64(block.timestamp)) - done;
    }

    function release(address token) external {
        uint256 amount = releasable(token);
        released[token] += amount;
        emit ERC20Released(token, amount);
        IERC20(token).safeTransfer(owner, amount);
    }

    function releaseEth() external {
        uint256 amount = releasable(address(0));
        releasedEth += amount;
        emit EtherReleased(amount);
        SafeTransfer.sendValue(owner, amount);
    }

    function _schedule(uint256 total, uint64 timestamp) private view returns (uint256) {
        if (timestamp < start + cliff) return 0;
        if (timestamp >= start + duration) return total;
        return total * (timestamp - start) / duration;
    }
}

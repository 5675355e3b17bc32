// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {IERC3156FlashBorrower, IERC3156FlashLender} from "../interfaces/IERC3156.sol";
import {Ownable} from "../utils/Ownable.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";

/// @notice ERC-3156 flash lender over whatever token balances its owner keeps in it; charges a
/// fee in basis points and keeps the fees. Loans of different tokens may be nested.
contract FlashLender is IERC3156FlashLender, Ownable {
    using SafeTransfer for IERC20;

    bytes32 private constant CALLBACK_SUCCESS = keccak256("ERC3156FlashBorrower.onFlashLoan");

    uint256 public feeBps;

    event FlashLoan(address indexed receiver, address indexed token, uint256 amount, uint256 fee);

    constructor(uint256 feeBps_) Ownable(msg.sender) {
        feeBps = feeBps_;
    }

    function maxFlashLoan(address token) external view returns (uint256) {
        return IERC20(token).balanceOf(address(this));
    }

    function flashFee(address, uint256 amount) public view returns (uint256) {
        return amount * feeBps / 10_000;
    }

    function flashLoan(IERC3156FlashBorrower receiver, address token, uint256 amount, bytes calldata data)
        external
        returns (bool)
    {
        uint256 balanceBefore = IERC20(token).balanceOf(address(this));
        require(amount <= balanceBefore, "amount exceeds liquidity");
        uint256 fee = flashFee(token, amount);
        IERC20(token).safeTransfer(address(receiver), amount);
        require(receiver.onFlashLoan(msg.sender, token, amount, fee, data) == CALLBACK_SUCCESS, "callback failed");
        IERC20(token).safeTransferFrom(address(receiver), address(this), amount + fee);
        emit FlashLoan(address(receiver), token, amount, fee);
        return true;
    }

    function setFee(uint256 feeBps_) external onlyOwner {
        require(feeBps_ <= 100, "fee too high");
        feeBps = feeBps_;
    }

    function withdraw(IERC20 token, address to, uint256 amount) external onlyOwner {
        token.safeTransfer(to, amount);
    }
}

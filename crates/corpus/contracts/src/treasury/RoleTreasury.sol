// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {AccessControl} from "../utils/AccessControl.sol";
import {ReentrancyGuard} from "../utils/ReentrancyGuard.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";

/// @notice A protocol treasury run by roles: holders of `TREASURER_ROLE` pay out ETH
/// (`token == address(0)`) and tokens, to anyone and within a per-payment limit the admin sets
/// for each asset; the admin (typically a timelock) grants, revokes and rotates the treasurers.
contract RoleTreasury is AccessControl, ReentrancyGuard {
    using SafeTransfer for IERC20;

    bytes32 public constant TREASURER_ROLE = keccak256("TREASURER_ROLE");

    /// asset => largest single payment a treasurer may make (0: not payable)
    mapping(address => uint256) public paymentLimit;

    event Received(address indexed from, uint256 amount);
    event Paid(address indexed token, address indexed to, uint256 amount, address indexed treasurer, string memo);
    event PaymentLimitSet(address indexed token, uint256 limit);

    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    receive() external payable {
        emit Received(msg.sender, msg.value);
    }

    function setPaymentLimit(address token, uint256 limit) external onlyRole(DEFAULT_ADMIN_ROLE) {
        paymentLimit[token] = limit;
        emit PaymentLimitSet(token, limit);
    }

    function pay(address token, address to, uint256 amount, string calldata memo)
        external
        onlyRole(TREASURER_ROLE)
        nonReentrant
    {
        _pay(token, to, amount, memo);
    }

    /// @notice Several payments of one asset in one call (payroll, grants rounds).
    function payMany(address token, address[] calldata to, uint256[] calldata amounts, string calldata memo)
        external
        onlyRole(TREASURER_ROLE)
        nonReentrant
    {
        require(to.length == amounts.length, "length mismatch");
        for (uint256 i = 0; i < to.length; i++) {
            _pay(token, to[i], amounts[i], memo);
        }
    }

    function _pay(address token, address to, uint256 amount, string calldata memo) private {
        require(to != address(0) && amount > 0, "bad payment");
        require(amount <= paymentLimit[token], "over the payment limit");
        if (token == address(0)) SafeTransfer.sendValue(to, amount);
        else IERC20(token).safeTransfer(to, amount);
        emit Paid(token, to, amount, msg.sender, memo);
    }
}

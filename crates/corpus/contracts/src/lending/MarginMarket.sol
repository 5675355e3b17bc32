// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {ReentrancyGuard} from "../utils/ReentrancyGuard.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";

/// @notice Single-asset lending market with leveraged self-borrowing, Euler-style: `mint` creates
/// a deposit and a debt of the same size, `burn` nets them out, and a liquidator takes over part
/// of an unhealthy account's debt together with its deposit at a discount that grows the further
/// the account is under water.
contract MarginMarket is ReentrancyGuard {
    using SafeTransfer for IERC20;

    uint256 public constant COLLATERAL_FACTOR = 0.9e18;
    uint256 public constant MAX_DISCOUNT = 0.2e18;

    IERC20 public immutable underlying;

    mapping(address => uint256) public depositOf;
    mapping(address => uint256) public debtOf;
    uint256 public totalDeposits;
    uint256 public totalDebt;
    uint256 public reserves;
    uint256 public cash;

    event Deposit(address indexed account, uint256 amount);
    event Withdraw(address indexed account, uint256 amount);
    event Borrow(address indexed account, uint256 amount);
    event Repay(address indexed account, uint256 amount);
    event Mint(address indexed account, uint256 amount);
    event Burn(address indexed account, uint256 amount);
    event DonateToReserves(address indexed account, uint256 amount);
    event Liquidation(address indexed liquidator, address indexed violator, uint256 debtTaken, uint256 collateralTaken);

    constructor(IERC20 underlying_) {
        underlying = underlying_;
    }

    function deposit(uint256 amount) external nonReentrant {
        underlying.safeTransferFrom(msg.sender, address(this), amount);
        cash += amount;
        depositOf[msg.sender] += amount;
        totalDeposits += amount;
        emit Deposit(msg.sender, amount);
    }

    function withdraw(uint256 amount) external nonReentrant {
        depositOf[msg.sender] -= amount;
        totalDeposits -= amount;
        cash -= amount;
        _requireHealthy(msg.sender);
        underlying.safeTransfer(msg.sender, amount);
        emit Withdraw(msg.sender, amount);
    }

    function borrow(uint256 amount) external nonReentrant {
        debtOf[msg.sender] += amount;
        totalDebt += amount;
        cash -= amount;
        _requireHealthy(msg.sender);
        underlying.safeTransfer(msg.sender, amount);
        emit Borrow(msg.sender, amount);
    }

    function repay(uint256 amount) external nonReentrant {
        underlying.safeTransferFrom(msg.sender, address(this), amount);
        cash += amount;
        debtOf[msg.sender] -= amount;
        totalDebt -= amount;
        emit Repay(msg.sender, amount);
    }

    /// @notice Leverage: adds `amount` to both the caller's deposit and debt.
    function mint(uint256 amount) external nonReentrant {
        depositOf[msg.sender] += amount;
        totalDeposits += amount;
        debtOf[msg.sender] += amount;
        totalDebt += amount;
        _requireHealthy(msg.sender);
        emit Mint(msg.sender, amount);
    }

    /// @notice Deleverage: removes `amount` from both the caller's deposit and debt.
    function burn(uint256 amount) external nonReentrant {
        depositOf[msg.sender] -= amount;
        totalDeposits -= amount;
        debtOf[msg.sender] -= amount;
        totalDebt -= amount;
        emit Burn(msg.sender, amount);
    }

    /// @notice Gives part of the caller's deposit to the protocol's reserves.
    function donateToReserves(uint256 amount) external nonReentrant {
        depositOf[msg.sender] -= amount;
        totalDeposits -= amount;
        reserves += amount;
        emit DonateToReserves(msg.sender, amount);
    }

    function liquidate(address violator, uint256 repayAmount) external nonReentrant returns (uint256 collateral) {
        require(violator != msg.sender, "self liquidation");
        uint256 health = healthScore(violator);
        require(health < 1e18, "account is healthy");
        uint256 discount = 1e18 - health;
        if (discount > MAX_DISCOUNT) discount = MAX_DISCOUNT;
        collateral = repayAmount * 1e18 / (1e18 - discount);
        require(repayAmount <= debtOf[violator] && collateral <= depositOf[violator], "too large");

        debtOf[violator] -= repayAmount;
        debtOf[msg.sender] += repayAmount;
        depositOf[violator] -= collateral;
        depositOf[msg.sender] += collateral;
        _requireHealthy(msg.sender);
        emit Liquidation(msg.sender, violator, repayAmount, collateral);
    }

    /// @notice Deposit weighted by the collateral factor over debt, 1e18 = exactly at the limit.
    function healthScore(address account) public view returns (uint256) {
        uint256 debt = debtOf[account];
        if (debt == 0) return type(uint256).max;
        return depositOf[account] * COLLATERAL_FACTOR / debt;
    }

    function _requireHealthy(address account) private view {
        require(healthScore(account) >= 1e18, "insufficient collateral");
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";
import {SwapRouter} from "../amm/SwapRouter.sol";
import {LendingPool} from "../lending/LendingPool.sol";

/// @notice Opens a leveraged position for the caller in one transaction: supplies its collateral,
/// then repeatedly borrows the debt asset, swaps it to collateral and supplies that too. The
/// caller must have made this contract its LendingPool operator and approved the collateral.
contract LeverageHelper {
    using SafeTransfer for IERC20;

    struct Position {
        LendingPool pool;
        SwapRouter router;
        address collateral;
        address debt;
    }

    event LeverageOpened(address indexed account, address collateral, address debt, uint256 supplied, uint256 borrowed);

    /// @param borrowShareBps share of the remaining borrowing headroom used by each loop
    /// @param maxSlippageBps worst accepted swap price against the pool's oracle
    function open(
        Position calldata p,
        uint256 initialAmount,
        uint256 loops,
        uint256 borrowShareBps,
        uint256 maxSlippageBps
    ) external returns (uint256 totalSupplied, uint256 totalBorrowed) {
        IERC20(p.collateral).safeTransferFrom(msg.sender, address(this), initialAmount);
        IERC20(p.collateral).safeApprove(address(p.pool), type(uint256).max);
        IERC20(p.debt).safeApprove(address(p.router), type(uint256).max);
        p.pool.supply(p.collateral, initialAmount, msg.sender);
        totalSupplied = initialAmount;

        for (uint256 i = 0; i < loops; i++) {
            (uint256 borrowed, uint256 supplied) = _loop(p, borrowShareBps, maxSlippageBps);
            if (borrowed == 0) break;
            totalBorrowed += borrowed;
            totalSupplied += supplied;
        }
        IERC20(p.collateral).safeApprove(address(p.pool), 0);
        IERC20(p.debt).safeApprove(address(p.router), 0);
        emit LeverageOpened(msg.sender, p.collateral, p.debt, totalSupplied, totalBorrowed);
    }

    function _loop(Position calldata p, uint256 borrowShareBps, uint256 maxSlippageBps)
        private
        returns (uint256 borrowed, uint256 supplied)
    {
        (uint256 limit, uint256 owed) = p.pool.accountLiquidity(msg.sender);
        uint256 debtPrice = p.pool.oracle().getPrice(p.debt);
        borrowed = (limit - owed) * borrowShareBps / 10_000 * 1e18 / debtPrice;
        if (borrowed == 0) return (0, 0);
        p.pool.borrow(p.debt, borrowed, msg.sender, address(this));

        uint256 fair = borrowed * debtPrice / p.pool.oracle().getPrice(p.collateral);
        address[] memory path = new address[](2);
        (path[0], path[1]) = (p.debt, p.collateral);
        supplied = p.router.swapExactTokensForTokens(
            borrowed, fair * (10_000 - maxSlippageBps) / 10_000, path, address(this)
        )[1];
        p.pool.supply(p.collateral, supplied, msg.sender);
    }
}

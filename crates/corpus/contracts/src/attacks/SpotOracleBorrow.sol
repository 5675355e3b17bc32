// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {IERC3156FlashBorrower, IERC3156FlashLender} from "../interfaces/IERC3156.sol";
import {Pair} from "../amm/Pair.sol";
import {LendingPool} from "../lending/LendingPool.sol";

/// @notice Flash-borrows WETH, buys the collateral token with all of it (the pair's spot price,
/// which the lending pool's oracle reads, jumps), supplies the bought tokens as collateral at the
/// inflated price, borrows the pool's WETH, repays the loan and keeps the rest.
contract SpotOracleBorrow is IERC3156FlashBorrower {
    address private immutable owner;

    constructor() {
        owner = msg.sender;
    }

    function execute(IERC3156FlashLender lender, LendingPool pool, Pair pair, address weth, address collateral, uint256 loan)
        external
    {
        require(msg.sender == owner);
        lender.flashLoan(this, weth, loan, abi.encode(pool, pair, collateral));
        IERC20(weth).transfer(owner, IERC20(weth).balanceOf(address(this)));
    }

    function onFlashLoan(address, address weth, uint256 amount, uint256 fee, bytes calldata data)
        external
        returns (bytes32)
    {
        (LendingPool pool, Pair pair, address collateral) = abi.decode(data, (LendingPool, Pair, address));

        uint256 bought = _buy(pair, weth, amount);
        _borrowAgainst(pool, collateral, bought, weth);
        IERC20(weth).approve(msg.sender, amount + fee);
        return keccak256("ERC3156FlashBorrower.onFlashLoan");
    }

    function _borrowAgainst(LendingPool pool, address collateral, uint256 amount, address weth) private {
        IERC20(collateral).approve(address(pool), amount);
        pool.supply(collateral, amount, address(this));
        (uint256 limit, uint256 debt) = pool.accountLiquidity(address(this));
        uint256 available = IERC20(weth).balanceOf(address(pool));
        pool.borrow(weth, limit - debt < available ? limit - debt : available, address(this), address(this));
    }

    function _buy(Pair pair, address weth, uint256 amount) private returns (uint256 bought) {
        (uint112 r0, uint112 r1,) = pair.getReserves();
        bool wethIs0 = pair.token0() == weth;
        (uint256 rIn, uint256 rOut) = wethIs0 ? (uint256(r0), uint256(r1)) : (uint256(r1), uint256(r0));
        bought = amount * 997 * rOut / (rIn * 1000 + amount * 997);
        IERC20(weth).transfer(address(pair), amount);
        pair.swap(wethIs0 ? 0 : bought, wethIs0 ? bought : 0, address(this), "");
    }
}

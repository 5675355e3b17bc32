// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {IERC3156FlashBorrower, IERC3156FlashLender} from "../interfaces/IERC3156.sol";
import {Ownable} from "../utils/Ownable.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";
import {Pair} from "../amm/Pair.sol";
import {LendingPool} from "../lending/LendingPool.sol";

/// @notice Liquidates an unhealthy LendingPool borrower with flash-borrowed funds: repays the
/// debt, receives the collateral and its bonus, sells the collateral through a pair, repays the
/// loan and keeps the difference.
contract FlashLiquidator is Ownable, IERC3156FlashBorrower {
    using SafeTransfer for IERC20;

    struct Job {
        LendingPool pool;
        address borrower;
        address collateralAsset;
        Pair pair;
    }

    address private transient _lender;

    constructor() Ownable(msg.sender) {}

    function execute(
        IERC3156FlashLender lender,
        LendingPool pool,
        address borrower,
        address debtAsset,
        uint256 repayAmount,
        address collateralAsset,
        Pair pair
    ) external onlyOwner returns (uint256 profit) {
        uint256 start = IERC20(debtAsset).balanceOf(address(this));
        _lender = address(lender);
        lender.flashLoan(this, debtAsset, repayAmount, abi.encode(Job(pool, borrower, collateralAsset, pair)));
        _lender = address(0);
        profit = IERC20(debtAsset).balanceOf(address(this)) - start;
    }

    function onFlashLoan(address initiator, address debtAsset, uint256 amount, uint256 fee, bytes calldata data)
        external
        returns (bytes32)
    {
        require(msg.sender == _lender && initiator == address(this), "unexpected loan");
        Job memory job = abi.decode(data, (Job));
        IERC20(debtAsset).safeApprove(address(job.pool), amount);
        uint256 seized = job.pool.liquidate(job.borrower, debtAsset, amount, job.collateralAsset, address(this));

        uint256 out = _sell(job.pair, job.collateralAsset, seized);
        require(out > amount + fee, "unprofitable");
        IERC20(debtAsset).safeApprove(msg.sender, amount + fee);
        return keccak256("ERC3156FlashBorrower.onFlashLoan");
    }

    function _sell(Pair pair, address tokenIn, uint256 amountIn) private returns (uint256 out) {
        (uint112 r0, uint112 r1,) = pair.getReserves();
        bool zeroIn = tokenIn == pair.token0();
        (uint256 reserveIn, uint256 reserveOut) = zeroIn ? (uint256(r0), uint256(r1)) : (uint256(r1), uint256(r0));
        out = amountIn * 997 * reserveOut / (reserveIn * 1000 + amountIn * 997);
        IERC20(tokenIn).safeTransfer(address(pair), amountIn);
        pair.swap(zeroIn ? 0 : out, zeroIn ? out : 0, address(this), "");
    }

    function withdraw(IERC20 token, address to, uint256 amount) external onlyOwner {
        token.safeTransfer(to, amount);
    }
}

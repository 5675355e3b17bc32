// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {IPriceOracle} from "../interfaces/IPriceOracle.sol";
import {Ownable} from "../utils/Ownable.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";
import {Pair} from "../amm/Pair.sol";

/// @notice Two-asset managed portfolio: the owner funds it; a keeper keeps it near its target
/// weight by swapping through a constant-product pair, with the execution price bounded against
/// the oracle by `maxSlippageBps`.
contract IndexFund is Ownable {
    using SafeTransfer for IERC20;

    Pair public immutable pair;
    IPriceOracle public immutable oracle;
    address public keeper;
    uint256 public maxSlippageBps;

    event Rebalanced(address indexed tokenIn, uint256 amountIn, uint256 amountOut);
    event KeeperSet(address keeper);

    constructor(Pair pair_, IPriceOracle oracle_, address keeper_, uint256 maxSlippageBps_) Ownable(msg.sender) {
        pair = pair_;
        oracle = oracle_;
        keeper = keeper_;
        maxSlippageBps = maxSlippageBps_;
        emit KeeperSet(keeper_);
    }

    function setKeeper(address keeper_, uint256 maxSlippageBps_) external onlyOwner {
        keeper = keeper_;
        maxSlippageBps = maxSlippageBps_;
        emit KeeperSet(keeper_);
    }

    /// @notice Value of the holdings in the oracle's base asset.
    function totalValue() public view returns (uint256) {
        address t0 = pair.token0();
        address t1 = pair.token1();
        return IERC20(t0).balanceOf(address(this)) * oracle.getPrice(t0) / 1e18
            + IERC20(t1).balanceOf(address(this)) * oracle.getPrice(t1) / 1e18;
    }

    /// @notice Sells `amountIn` of `tokenIn` (one of the pair's tokens) for the other token.
    function rebalance(address tokenIn, uint256 amountIn) external returns (uint256 amountOut) {
        require(msg.sender == keeper || msg.sender == owner, "not keeper");
        address t0 = pair.token0();
        address t1 = pair.token1();
        require(tokenIn == t0 || tokenIn == t1, "unknown token");
        address tokenOut = tokenIn == t0 ? t1 : t0;

        (uint112 r0, uint112 r1,) = pair.getReserves();
        (uint256 reserveIn, uint256 reserveOut) = tokenIn == t0 ? (uint256(r0), uint256(r1)) : (uint256(r1), uint256(r0));
        amountOut = amountIn * 997 * reserveOut / (reserveIn * 1000 + amountIn * 997);

        uint256 fair = amountIn * oracle.getPrice(tokenIn) / oracle.getPrice(tokenOut);
        require(amountOut * 10_000 >= fair * (10_000 - maxSlippageBps), "slippage too high");

        IERC20(tokenIn).safeTransfer(address(pair), amountIn);
        (uint256 out0, uint256 out1) = tokenIn == t0 ? (uint256(0), amountOut) : (amountOut, uint256(0));
        pair.swap(out0, out1, address(this), "");
        emit Rebalanced(tokenIn, amountIn, amountOut);
    }

    function withdraw(IERC20 token, address to, uint256 amount) external onlyOwner {
        token.safeTransfer(to, amount);
    }
}

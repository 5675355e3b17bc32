// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20, IWETH} from "../interfaces/IERC20.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";
import {Pair} from "./Pair.sol";

/// @notice Public liquidity helper for constant-product pairs. `removeLiquidity` sends the
/// caller's LP tokens to the pair and burns them there, both assets going to `to`; `zapOut`
/// burns them and swaps one side into the other through the same pair, so the caller leaves
/// with one asset (ETH if it asks for WETH unwrapped). `multicall` batches the primitives
/// (`pull`, `burn`, `unwrapWETH`, `sweep`) the way periphery routers do: like theirs, tokens
/// the helper holds between calls belong to whoever sweeps them in the same transaction.
contract LiquidityZap {
    using SafeTransfer for IERC20;

    IWETH public immutable weth;

    event ZapOut(address indexed pair, address indexed account, uint256 liquidity, address tokenOut, uint256 amountOut);

    constructor(IWETH weth_) {
        weth = weth_;
    }

    receive() external payable {
        require(msg.sender == address(weth), "only WETH");
    }

    function multicall(bytes[] calldata data) external returns (bytes[] memory results) {
        results = new bytes[](data.length);
        for (uint256 i = 0; i < data.length; i++) {
            (bool ok, bytes memory ret) = address(this).delegatecall(data[i]);
            if (!ok) {
                assembly ("memory-safe") {
                    revert(add(ret, 0x20), mload(ret))
                }
            }
            results[i] = ret;
        }
    }

    // ---- one-call zaps ----

    function removeLiquidity(Pair pair, uint256 liquidity, uint256 amount0Min, uint256 amount1Min, address to)
        external
        returns (uint256 amount0, uint256 amount1)
    {
        IERC20(address(pair)).safeTransferFrom(msg.sender, address(pair), liquidity);
        (amount0, amount1) = pair.burn(to);
        require(amount0 >= amount0Min && amount1 >= amount1Min, "insufficient output");
    }

    /// @notice Burns `liquidity` and sells the side that is not `tokenOut` into the pair.
    function zapOut(Pair pair, uint256 liquidity, address tokenOut, uint256 amountOutMin, address to, bool unwrap)
        external
        returns (uint256 amountOut)
    {
        require(!unwrap || tokenOut == address(weth), "only WETH unwraps");
        IERC20(address(pair)).safeTransferFrom(msg.sender, address(pair), liquidity);
        amountOut = _burnToOne(pair, tokenOut);
        require(amountOut >= amountOutMin, "insufficient output");
        if (unwrap) {
            weth.withdraw(amountOut);
            SafeTransfer.sendValue(to, amountOut);
        } else {
            IERC20(tokenOut).safeTransfer(to, amountOut);
        }
        emit ZapOut(address(pair), msg.sender, liquidity, tokenOut, amountOut);
    }

    /// Burns the LP tokens the pair holds to this helper and swaps the other side into `tokenOut`.
    function _burnToOne(Pair pair, address tokenOut) private returns (uint256 amountOut) {
        address token0 = pair.token0();
        require(tokenOut == token0 || tokenOut == pair.token1(), "token not in pair");
        bool outIs0 = tokenOut == token0;
        (uint256 amount0, uint256 amount1) = pair.burn(address(this));
        (uint256 kept, uint256 sold) = outIs0 ? (amount0, amount1) : (amount1, amount0);
        uint256 bought = _sell(pair, outIs0, sold);
        amountOut = kept + bought;
    }

    /// Sells `amountIn` of the side that is not `outIs0`'s into the pair, to this helper.
    function _sell(Pair pair, bool outIs0, uint256 amountIn) private returns (uint256 bought) {
        (uint112 r0, uint112 r1,) = pair.getReserves();
        (uint256 reserveIn, uint256 reserveOut) = outIs0 ? (uint256(r1), uint256(r0)) : (uint256(r0), uint256(r1));
        bought = amountIn * 997 * reserveOut / (reserveIn * 1000 + amountIn * 997);
        IERC20(outIs0 ? pair.token1() : pair.token0()).safeTransfer(address(pair), amountIn);
        pair.swap(outIs0 ? bought : 0, outIs0 ? 0 : bought, address(this), "");
    }

    // ---- multicall primitives ----

    /// @notice Moves `amount` of the caller's `token` to `to` (a pair, or this helper).
    function pull(IERC20 token, uint256 amount, address to) external {
        token.safeTransferFrom(msg.sender, to, amount);
    }

    /// @notice Burns the LP tokens the pair holds; both assets go to `to`.
    function burn(Pair pair, address to) external returns (uint256 amount0, uint256 amount1) {
        (amount0, amount1) = pair.burn(to);
    }

    /// @notice Unwraps all WETH this helper holds and sends the ETH to `to`.
    function unwrapWETH(uint256 amountMin, address to) external {
        uint256 amount = IERC20(address(weth)).balanceOf(address(this));
        require(amount >= amountMin, "insufficient WETH");
        if (amount > 0) {
            weth.withdraw(amount);
            SafeTransfer.sendValue(to, amount);
        }
    }

    /// @notice Sends all of `token` this helper holds to `to`.
    function sweep(IERC20 token, uint256 amountMin, address to) external {
        uint256 amount = token.balanceOf(address(this));
        require(amount >= amountMin, "insufficient token");
        if (amount > 0) token.safeTransfer(to, amount);
    }
}

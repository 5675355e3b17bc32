// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC20} from "../tokens/ERC20.sol";
import {IERC20} from "../interfaces/IERC20.sol";
import {ReentrancyGuard} from "../utils/ReentrancyGuard.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";

/// @notice StableSwap (Curve-style, two coins) pool of native ETH (coin 0) and an ETH-pegged
/// ERC-20 (coin 1). The pool is its own LP token. Function names follow Curve's so that
/// integrations written for Curve work unchanged.
contract StableEthPool is ERC20, ReentrancyGuard {
    using SafeTransfer for IERC20;

    uint256 private constant N = 2;
    uint256 private constant FEE_DENOMINATOR = 1e10;
    uint256 public constant fee = 4e6; // 0.04%

    IERC20 public immutable coin1;
    uint256 public immutable A;
    uint256[2] public balances;

    event AddLiquidity(address indexed provider, uint256[2] amounts, uint256 invariant, uint256 supply);
    event RemoveLiquidity(address indexed provider, uint256[2] amounts, uint256 supply);
    event TokenExchange(address indexed buyer, int128 soldId, uint256 soldAmount, int128 boughtId, uint256 boughtAmount);

    constructor(IERC20 coin1_, uint256 amplification, string memory name_, string memory symbol_)
        ERC20(name_, symbol_, 18)
    {
        coin1 = coin1_;
        A = amplification;
    }

    function coins(uint256 i) external view returns (address) {
        return i == 0 ? address(0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE) : address(coin1);
    }

    function get_virtual_price() external view returns (uint256) {
        return _getD(balances[0], balances[1]) * 1e18 / totalSupply;
    }

    function get_dy(int128 i, int128 j, uint256 dx) external view returns (uint256) {
        (uint256 dy,) = _quote(i, j, dx);
        return dy;
    }

    function add_liquidity(uint256[2] calldata amounts, uint256 minMintAmount)
        external
        payable
        nonReentrant
        returns (uint256 minted)
    {
        require(msg.value == amounts[0], "ETH amount mismatch");
        uint256[2] memory old = balances;
        uint256 supply = totalSupply;
        uint256 d0 = supply == 0 ? 0 : _getD(old[0], old[1]);
        uint256[2] memory next = [old[0] + amounts[0], old[1] + amounts[1]];
        uint256 d1 = _getD(next[0], next[1]);
        require(d1 > d0, "invariant did not grow");

        if (supply == 0) {
            minted = d1;
        } else {
            // Imbalanced deposits pay the swap fee on the part that moves the pool off its ratio.
            uint256 imbalanceFee = fee * N / (4 * (N - 1));
            uint256[2] memory afterFees;
            for (uint256 k = 0; k < N; k++) {
                uint256 ideal = d1 * old[k] / d0;
                uint256 diff = ideal > next[k] ? ideal - next[k] : next[k] - ideal;
                afterFees[k] = next[k] - imbalanceFee * diff / FEE_DENOMINATOR;
            }
            minted = supply * (_getD(afterFees[0], afterFees[1]) - d0) / d0;
        }
        require(minted >= minMintAmount, "slippage");
        balances = next;
        if (amounts[1] > 0) coin1.safeTransferFrom(msg.sender, address(this), amounts[1]);
        _mint(msg.sender, minted);
        emit AddLiquidity(msg.sender, amounts, d1, supply + minted);
    }

    function remove_liquidity(uint256 amount, uint256[2] calldata minAmounts)
        external
        nonReentrant
        returns (uint256[2] memory amounts)
    {
        uint256 supply = totalSupply;
        _burn(msg.sender, amount);
        for (uint256 k = 0; k < N; k++) {
            uint256 value = balances[k] * amount / supply;
            require(value >= minAmounts[k], "slippage");
            balances[k] -= value;
            amounts[k] = value;
            _send(k, msg.sender, value);
        }
        emit RemoveLiquidity(msg.sender, amounts, supply - amount);
    }

    function exchange(int128 i, int128 j, uint256 dx, uint256 minDy) external payable nonReentrant returns (uint256 dy) {
        uint256 newBalanceIn;
        (dy, newBalanceIn) = _quote(i, j, dx);
        require(dy >= minDy, "slippage");
        uint256 in_ = uint256(uint128(i));
        uint256 out = uint256(uint128(j));
        if (in_ == 0) {
            require(msg.value == dx, "ETH amount mismatch");
        } else {
            require(msg.value == 0, "unexpected ETH");
            coin1.safeTransferFrom(msg.sender, address(this), dx);
        }
        balances[in_] = newBalanceIn;
        balances[out] -= dy;
        _send(out, msg.sender, dy);
        emit TokenExchange(msg.sender, i, dx, j, dy);
    }

    function _quote(int128 i, int128 j, uint256 dx) private view returns (uint256 dy, uint256 x) {
        require((i == 0 && j == 1) || (i == 1 && j == 0), "invalid coin");
        uint256 in_ = uint256(uint128(i));
        uint256 out = uint256(uint128(j));
        uint256 d = _getD(balances[0], balances[1]);
        x = balances[in_] + dx;
        uint256 y = _getY(x, d);
        dy = balances[out] - y - 1;
        dy -= dy * fee / FEE_DENOMINATOR;
    }

    function _send(uint256 coin, address to, uint256 value) private {
        if (coin == 0) SafeTransfer.sendValue(to, value);
        else coin1.safeTransfer(to, value);
    }

    /// @dev StableSwap invariant D for balances (x0, x1), by Newton's method.
    function _getD(uint256 x0, uint256 x1) private view returns (uint256 d) {
        uint256 s = x0 + x1;
        if (s == 0) return 0;
        uint256 ann = A * N;
        d = s;
        for (uint256 k = 0; k < 255; k++) {
            uint256 dp = d * d / (x0 * N) * d / (x1 * N);
            uint256 prev = d;
            d = (ann * s + dp * N) * d / ((ann - 1) * d + (N + 1) * dp);
            if (d > prev ? d - prev <= 1 : prev - d <= 1) return d;
        }
        revert("D did not converge");
    }

    /// @dev Balance of the other coin that keeps the invariant at `d` when one coin's balance is `x`.
    function _getY(uint256 x, uint256 d) private view returns (uint256 y) {
        uint256 ann = A * N;
        uint256 c = d * d / (x * N) * d / (ann * N);
        uint256 b = x + d / ann;
        y = d;
        for (uint256 k = 0; k < 255; k++) {
            uint256 prev = y;
            y = (y * y + c) / (2 * y + b - d);
            if (y > prev ? y - prev <= 1 : prev - y <= 1) return y;
        }
        revert("y did not converge");
    }
}

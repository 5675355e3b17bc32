// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {IERC3156FlashBorrower, IERC3156FlashLender} from "../interfaces/IERC3156.sol";
import {Ownable} from "../utils/Ownable.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";
import {Pair} from "../amm/Pair.sol";

/// @notice Cyclic arbitrage through constant-product pairs, funded either by the bot's own
/// inventory or by a flash loan. Reverts unless the cycle ends with more than it started.
contract ArbBot is Ownable, IERC3156FlashBorrower {
    using SafeTransfer for IERC20;

    struct Hop {
        Pair pair;
        address tokenIn;
    }

    address private transient _lender;

    constructor() Ownable(msg.sender) {}

    /// @param lender flash lender to borrow `amount` of `token` from, or address(0) to trade inventory
    function execute(IERC3156FlashLender lender, address token, uint256 amount, Hop[] calldata hops)
        external
        onlyOwner
        returns (uint256 profit)
    {
        uint256 start = IERC20(token).balanceOf(address(this));
        if (address(lender) == address(0)) {
            _route(amount, hops);
        } else {
            _lender = address(lender);
            lender.flashLoan(this, token, amount, abi.encode(hops));
            _lender = address(0);
        }
        uint256 end = IERC20(token).balanceOf(address(this));
        require(end > start, "unprofitable");
        profit = end - start;
    }

    function onFlashLoan(address initiator, address, uint256 amount, uint256 fee, bytes calldata data)
        external
        returns (bytes32)
    {
        require(msg.sender == _lender && initiator == address(this), "unexpected loan");
        Hop[] memory hops = abi.decode(data, (Hop[]));
        _route(amount, hops);
        IERC20(hops[0].tokenIn).safeApprove(msg.sender, amount + fee);
        return keccak256("ERC3156FlashBorrower.onFlashLoan");
    }

    function withdraw(IERC20 token, address to, uint256 amount) external onlyOwner {
        token.safeTransfer(to, amount);
    }

    function _route(uint256 amountIn, Hop[] memory hops) private {
        for (uint256 i = 0; i < hops.length; i++) {
            Pair pair = hops[i].pair;
            address tokenIn = hops[i].tokenIn;
            (uint112 r0, uint112 r1,) = pair.getReserves();
            bool zeroIn = tokenIn == pair.token0();
            (uint256 reserveIn, uint256 reserveOut) = zeroIn ? (uint256(r0), uint256(r1)) : (uint256(r1), uint256(r0));
            uint256 amountOut = amountIn * 997 * reserveOut / (reserveIn * 1000 + amountIn * 997);
            IERC20(tokenIn).safeTransfer(address(pair), amountIn);
            pair.swap(zeroIn ? 0 : amountOut, zeroIn ? amountOut : 0, address(this), "");
            amountIn = amountOut;
        }
    }
}

// SPDX-License-Identifier: MIT
// Users' own contracts: an arbitrage bot and a liquidation bot of the kind searchers deploy.
// They call the genuine protocols (Aave v3's flashLoanSimple and liquidationCall, Uniswap
// v2's Router02 and v3's SwapRouter) through the minimal interfaces below. Written for the
// corpus; not protocol code.
pragma solidity ^0.8.27;

interface IERC20Min {
    function approve(address spender, uint256 amount) external returns (bool);
    function transfer(address to, uint256 amount) external returns (bool);
    function balanceOf(address who) external view returns (uint256);
}

interface IAavePool {
    function flashLoanSimple(address receiver, address asset, uint256 amount, bytes calldata params, uint16 referral)
        external;
    function liquidationCall(address collateral, address debt, address user, uint256 debtToCover, bool receiveAToken)
        external;
}

interface IV2Router {
    function swapExactTokensForTokens(
        uint256 amountIn,
        uint256 amountOutMin,
        address[] calldata path,
        address to,
        uint256 deadline
    ) external returns (uint256[] memory amounts);
}

interface IV3Router {
    struct ExactInputSingleParams {
        address tokenIn;
        address tokenOut;
        uint24 fee;
        address recipient;
        uint256 deadline;
        uint256 amountIn;
        uint256 amountOutMinimum;
        uint160 sqrtPriceLimitX96;
    }

    function exactInputSingle(ExactInputSingleParams calldata params) external payable returns (uint256 amountOut);
}

/// Shared plumbing: the owner, the venues, swaps, withdrawals.
abstract contract BotBase {
    address public immutable owner;
    IAavePool public immutable pool;
    IV2Router public immutable v2;
    IV3Router public immutable v3;

    constructor(IAavePool pool_, IV2Router v2_, IV3Router v3_) {
        owner = msg.sender;
        pool = pool_;
        v2 = v2_;
        v3 = v3_;
    }

    modifier onlyOwner() {
        require(msg.sender == owner, "not owner");
        _;
    }

    /// Swaps `amount` of `tokenIn` for `tokenOut` on v3 (`fee` > 0, that fee tier) or v2.
    function _swap(address tokenIn, address tokenOut, uint24 fee, uint256 amount) internal returns (uint256) {
        if (fee == 0) {
            IERC20Min(tokenIn).approve(address(v2), amount);
            address[] memory path = new address[](2);
            path[0] = tokenIn;
            path[1] = tokenOut;
            uint256[] memory out = v2.swapExactTokensForTokens(amount, 0, path, address(this), block.timestamp);
            return out[1];
        }
        IERC20Min(tokenIn).approve(address(v3), amount);
        return v3.exactInputSingle(
            IV3Router.ExactInputSingleParams(tokenIn, tokenOut, fee, address(this), block.timestamp, amount, 0, 0)
        );
    }

    function withdraw(address token, address to, uint256 amount) external onlyOwner {
        require(IERC20Min(token).transfer(to, amount), "transfer");
    }
}

/// Flash-loan arbitrage between a v2 pair and a v3 pool of the same two tokens.
contract FlashArbBot is BotBase {
    constructor(IAavePool pool_, IV2Router v2_, IV3Router v3_) BotBase(pool_, v2_, v3_) {}

    /// Borrows `amount` of `asset`, buys `other` where it is cheap (v2 first if `v2First`, else
    /// the v3 pool of tier `fee`), sells it on the other venue, repays; keeps at least `minProfit`.
    function run(address asset, address other, uint24 fee, bool v2First, uint256 amount, uint256 minProfit)
        external
        onlyOwner
    {
        pool.flashLoanSimple(address(this), asset, amount, abi.encode(other, fee, v2First, minProfit), 0);
    }

    function executeOperation(address asset, uint256 amount, uint256 premium, address initiator, bytes calldata params)
        external
        returns (bool)
    {
        require(msg.sender == address(pool) && initiator == address(this), "not my loan");
        (address other, uint24 fee, bool v2First, uint256 minProfit) =
            abi.decode(params, (address, uint24, bool, uint256));
        uint256 got = _swap(asset, other, v2First ? 0 : fee, amount);
        uint256 back = _swap(other, asset, v2First ? fee : 0, got);
        require(back >= amount + premium + minProfit, "unprofitable");
        IERC20Min(asset).approve(address(pool), amount + premium);
        return true;
    }
}

/// Liquidates an under-water Aave borrower with a flash loan of the debt asset, sells the
/// seized collateral on v2 (`fee` 0) or the v3 pool of tier `fee`, repays, keeps the rest.
contract FlashLiquidatorBot is BotBase {
    constructor(IAavePool pool_, IV2Router v2_, IV3Router v3_) BotBase(pool_, v2_, v3_) {}

    function run(address collateral, address debt, address user, uint256 debtToCover, uint24 fee) external onlyOwner {
        pool.flashLoanSimple(address(this), debt, debtToCover, abi.encode(collateral, user, fee), 0);
    }

    function executeOperation(address asset, uint256 amount, uint256 premium, address initiator, bytes calldata params)
        external
        returns (bool)
    {
        require(msg.sender == address(pool) && initiator == address(this), "not my loan");
        (address collateral, address user, uint24 fee) = abi.decode(params, (address, address, uint24));
        IERC20Min(asset).approve(address(pool), amount);
        pool.liquidationCall(collateral, asset, user, amount, false);
        _swap(collateral, asset, fee, IERC20Min(collateral).balanceOf(address(this)));
        require(IERC20Min(asset).balanceOf(address(this)) >= amount + premium, "unprofitable");
        IERC20Min(asset).approve(address(pool), amount + premium);
        return true;
    }
}

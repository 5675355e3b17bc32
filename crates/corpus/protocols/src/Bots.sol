// SPDX-License-Identifier: MIT
// Users' own contracts: arbitrage and liquidation bots of the kind searchers deploy. They
// call the genuine protocols (Aave v3's flashLoanSimple and liquidationCall, the Balancer
// Vault's flashLoan and swap, Uniswap v2's Router02 and v3's SwapRouter) through the minimal
// interfaces below. Written for the corpus; not protocol code.
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

interface IBalancerVault {
    struct SingleSwap {
        bytes32 poolId;
        uint8 kind;
        address assetIn;
        address assetOut;
        uint256 amount;
        bytes userData;
    }

    struct FundManagement {
        address sender;
        bool fromInternalBalance;
        address payable recipient;
        bool toInternalBalance;
    }

    function swap(SingleSwap calldata singleSwap, FundManagement calldata funds, uint256 limit, uint256 deadline)
        external
        payable
        returns (uint256);

    function flashLoan(address recipient, address[] calldata tokens, uint256[] calldata amounts, bytes calldata data)
        external;
}

/// Shared plumbing: the owner, the venues, swaps, withdrawals.
abstract contract BotBase {
    /// Where to trade: a Uniswap v2 pair (kind 0), a Uniswap v3 pool of tier `fee` (kind 1) or a
    /// Balancer pool `poolId` (kind 2).
    struct Venue {
        uint8 kind;
        uint24 fee;
        bytes32 poolId;
    }

    address public immutable owner;
    IAavePool public immutable pool;
    IV2Router public immutable v2;
    IV3Router public immutable v3;
    IBalancerVault public immutable balancer;

    constructor(IAavePool pool_, IV2Router v2_, IV3Router v3_, IBalancerVault balancer_) {
        owner = msg.sender;
        pool = pool_;
        v2 = v2_;
        v3 = v3_;
        balancer = balancer_;
    }

    modifier onlyOwner() {
        require(msg.sender == owner, "not owner");
        _;
    }

    /// Swaps `amount` of `tokenIn` for `tokenOut` at `venue`.
    function _swap(Venue memory venue, address tokenIn, address tokenOut, uint256 amount) internal returns (uint256) {
        if (venue.kind == 0) {
            IERC20Min(tokenIn).approve(address(v2), amount);
            address[] memory path = new address[](2);
            path[0] = tokenIn;
            path[1] = tokenOut;
            uint256[] memory out = v2.swapExactTokensForTokens(amount, 0, path, address(this), block.timestamp);
            return out[1];
        }
        if (venue.kind == 1) {
            IERC20Min(tokenIn).approve(address(v3), amount);
            return v3.exactInputSingle(
                IV3Router.ExactInputSingleParams(
                    tokenIn, tokenOut, venue.fee, address(this), block.timestamp, amount, 0, 0
                )
            );
        }
        IERC20Min(tokenIn).approve(address(balancer), amount);
        return balancer.swap(
            IBalancerVault.SingleSwap(venue.poolId, 0, tokenIn, tokenOut, amount, ""),
            IBalancerVault.FundManagement(address(this), false, payable(address(this)), false),
            0,
            block.timestamp
        );
    }

    /// Buys `other` with `amount` of `asset` at `buy`, sells it back at `sell`; returns what came back.
    function _roundTrip(address asset, address other, Venue memory buy, Venue memory sell, uint256 amount)
        internal
        returns (uint256)
    {
        uint256 got = _swap(buy, asset, other, amount);
        return _swap(sell, other, asset, got);
    }

    function withdraw(address token, address to, uint256 amount) external onlyOwner {
        require(IERC20Min(token).transfer(to, amount), "transfer");
    }
}

/// Flash-loan arbitrage with an Aave v3 flash loan between two venues of the same two tokens.
contract FlashArbBot is BotBase {
    struct Plan {
        address other;
        Venue buy;
        Venue sell;
        uint256 minProfit;
    }

    constructor(IAavePool pool_, IV2Router v2_, IV3Router v3_, IBalancerVault balancer_)
        BotBase(pool_, v2_, v3_, balancer_)
    {}

    /// Borrows `amount` of `asset`, buys `other` at `buy`, sells it at `sell`, repays, keeps at
    /// least `minProfit`.
    function run(address asset, address other, Venue calldata buy, Venue calldata sell, uint256 amount, uint256 minProfit)
        external
        onlyOwner
    {
        pool.flashLoanSimple(address(this), asset, amount, abi.encode(Plan(other, buy, sell, minProfit)), 0);
    }

    function executeOperation(address asset, uint256 amount, uint256 premium, address initiator, bytes calldata params)
        external
        returns (bool)
    {
        require(msg.sender == address(pool) && initiator == address(this), "not my loan");
        Plan memory p = abi.decode(params, (Plan));
        uint256 back = _roundTrip(asset, p.other, p.buy, p.sell, amount);
        require(back >= amount + premium + p.minProfit, "unprofitable");
        IERC20Min(asset).approve(address(pool), amount + premium);
        return true;
    }
}

/// The same arbitrage with a flash loan from the Balancer Vault (no fee). The Vault's
/// reentrancy guard keeps Balancer pools out of the trades it finances.
contract BalancerFlashArbBot is BotBase {
    struct Plan {
        address other;
        Venue buy;
        Venue sell;
        uint256 minProfit;
    }

    constructor(IAavePool pool_, IV2Router v2_, IV3Router v3_, IBalancerVault balancer_)
        BotBase(pool_, v2_, v3_, balancer_)
    {}

    function run(address asset, address other, Venue calldata buy, Venue calldata sell, uint256 amount, uint256 minProfit)
        external
        onlyOwner
    {
        address[] memory tokens = new address[](1);
        tokens[0] = asset;
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = amount;
        balancer.flashLoan(address(this), tokens, amounts, abi.encode(Plan(other, buy, sell, minProfit)));
    }

    function receiveFlashLoan(
        address[] calldata tokens,
        uint256[] calldata amounts,
        uint256[] calldata feeAmounts,
        bytes calldata data
    ) external {
        require(msg.sender == address(balancer), "not the vault");
        Plan memory p = abi.decode(data, (Plan));
        uint256 back = _roundTrip(tokens[0], p.other, p.buy, p.sell, amounts[0]);
        require(back >= amounts[0] + feeAmounts[0] + p.minProfit, "unprofitable");
        require(IERC20Min(tokens[0]).transfer(address(balancer), amounts[0] + feeAmounts[0]), "repay");
    }
}

/// Liquidates an under-water Aave borrower with a flash loan of the debt asset, sells the
/// seized collateral at `sell`, repays, keeps the rest.
contract FlashLiquidatorBot is BotBase {
    struct Job {
        address collateral;
        address user;
        Venue sell;
    }

    constructor(IAavePool pool_, IV2Router v2_, IV3Router v3_, IBalancerVault balancer_)
        BotBase(pool_, v2_, v3_, balancer_)
    {}

    function run(address collateral, address debt, address user, uint256 debtToCover, Venue calldata sell)
        external
        onlyOwner
    {
        pool.flashLoanSimple(address(this), debt, debtToCover, abi.encode(Job(collateral, user, sell)), 0);
    }

    function executeOperation(address asset, uint256 amount, uint256 premium, address initiator, bytes calldata params)
        external
        returns (bool)
    {
        require(msg.sender == address(pool) && initiator == address(this), "not my loan");
        Job memory j = abi.decode(params, (Job));
        IERC20Min(asset).approve(address(pool), amount);
        pool.liquidationCall(j.collateral, asset, j.user, amount, false);
        _swap(j.sell, j.collateral, asset, IERC20Min(j.collateral).balanceOf(address(this)));
        require(IERC20Min(asset).balanceOf(address(this)) >= amount + premium, "unprofitable");
        IERC20Min(asset).approve(address(pool), amount + premium);
        return true;
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {IPriceOracle} from "../interfaces/IPriceOracle.sol";
import {Ownable} from "../utils/Ownable.sol";
import {ReentrancyGuard} from "../utils/ReentrancyGuard.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";
import {Math} from "../utils/Math.sol";

/// @notice Pooled money market (Compound/Aave-like). Suppliers hold shares of each asset's pool;
/// every supplied asset is collateral at its collateral factor; borrows accrue interest per
/// block; unhealthy accounts can be liquidated for a bonus. Prices come from an external oracle.
contract LendingPool is Ownable, ReentrancyGuard {
    using SafeTransfer for IERC20;

    /// Receives the seed shares minted when a market is listed.
    address public constant DEAD = 0x000000000000000000000000000000000000dEaD;
    uint256 public constant CLOSE_FACTOR_BPS = 5_000;
    uint256 public constant LIQUIDATION_BONUS_BPS = 800;

    struct Market {
        bool listed;
        uint16 collateralFactorBps;
        uint16 reserveFactorBps;
        uint64 lastAccrualBlock;
        uint128 borrowRatePerBlock; // 1e18 = 100% per block
        uint256 cash;
        uint256 totalShares;
        uint256 totalBorrows;
        uint256 totalReserves;
        uint256 borrowIndex;
    }

    struct BorrowSnapshot {
        uint256 principal;
        uint256 index;
    }

    IPriceOracle public oracle;
    address[] public assets;
    mapping(address => Market) public markets;
    mapping(address => mapping(address => uint256)) public sharesOf;
    mapping(address => mapping(address => BorrowSnapshot)) private _borrows;
    mapping(address => mapping(address => bool)) public isOperator;

    event MarketListed(address indexed asset, uint256 collateralFactorBps, uint256 reserveFactorBps, uint256 ratePerBlock);
    event OracleSet(address oracle);
    event OperatorSet(address indexed account, address indexed operator, bool allowed);
    event Supply(address indexed asset, address indexed from, address indexed onBehalfOf, uint256 amount, uint256 shares);
    event Withdraw(address indexed asset, address indexed account, address to, uint256 amount, uint256 shares);
    event Borrow(address indexed asset, address indexed account, address receiver, uint256 amount);
    event Repay(address indexed asset, address indexed payer, address indexed account, uint256 amount);
    event Liquidation(
        address indexed borrower,
        address indexed liquidator,
        address debtAsset,
        uint256 repaid,
        address collateralAsset,
        uint256 seized
    );

    constructor(IPriceOracle oracle_) Ownable(msg.sender) {
        oracle = oracle_;
        emit OracleSet(address(oracle_));
    }

    modifier authorized(address account) {
        require(msg.sender == account || isOperator[account][msg.sender], "not authorized");
        _;
    }

    // ---- administration ----

    /// @notice Lists `asset` and supplies `seedAmount` of it from the caller; the seed shares are
    /// locked forever so that the market never returns to an empty state.
    function listMarket(
        address asset,
        uint16 collateralFactorBps,
        uint16 reserveFactorBps,
        uint128 borrowRatePerBlock,
        uint256 seedAmount
    ) external onlyOwner nonReentrant {
        require(!markets[asset].listed, "already listed");
        require(collateralFactorBps < 10_000 && reserveFactorBps <= 10_000, "bad parameters");
        require(seedAmount > 0, "seed required");
        markets[asset] = Market({
            listed: true,
            collateralFactorBps: collateralFactorBps,
            reserveFactorBps: reserveFactorBps,
            lastAccrualBlock: uint64(block.number),
            borrowRatePerBlock: borrowRatePerBlock,
            cash: 0,
            totalShares: 0,
            totalBorrows: 0,
            totalReserves: 0,
            borrowIndex: 1e18
        });
        assets.push(asset);
        emit MarketListed(asset, collateralFactorBps, reserveFactorBps, borrowRatePerBlock);
        _supply(asset, seedAmount, DEAD);
    }

    function setMarketParameters(address asset, uint16 collateralFactorBps, uint16 reserveFactorBps, uint128 rate)
        external
        onlyOwner
    {
        Market storage m = _market(asset);
        require(collateralFactorBps < 10_000 && reserveFactorBps <= 10_000, "bad parameters");
        _accrue(asset);
        m.collateralFactorBps = collateralFactorBps;
        m.reserveFactorBps = reserveFactorBps;
        m.borrowRatePerBlock = rate;
    }

    function setOracle(IPriceOracle oracle_) external onlyOwner {
        oracle = oracle_;
        emit OracleSet(address(oracle_));
    }

    function withdrawReserves(address asset, uint256 amount, address to) external onlyOwner nonReentrant {
        Market storage m = _market(asset);
        _accrue(asset);
        require(amount <= m.totalReserves && amount <= m.cash, "insufficient reserves");
        m.totalReserves -= amount;
        m.cash -= amount;
        IERC20(asset).safeTransfer(to, amount);
    }

    /// @notice Lets `operator` supply, withdraw and borrow on the caller's behalf.
    function setOperator(address operator, bool allowed) external {
        isOperator[msg.sender][operator] = allowed;
        emit OperatorSet(msg.sender, operator, allowed);
    }

    // ---- user actions ----

    function supply(address asset, uint256 amount, address onBehalfOf) external nonReentrant returns (uint256) {
        _accrue(asset);
        return _supply(asset, amount, onBehalfOf);
    }

    /// @notice Withdraws `amount` of `asset` (everything for type(uint256).max) from `account`.
    function withdraw(address asset, uint256 amount, address account, address to)
        external
        nonReentrant
        authorized(account)
        returns (uint256)
    {
        Market storage m = _market(asset);
        _accrue(asset);
        uint256 shares;
        if (amount == type(uint256).max) {
            shares = sharesOf[asset][account];
            amount = shares * _totalAssets(m) / m.totalShares;
        } else {
            shares = Math.mulDivUp(amount, m.totalShares, _totalAssets(m));
        }
        require(shares <= sharesOf[asset][account], "insufficient balance");
        require(amount <= m.cash, "insufficient cash");
        sharesOf[asset][account] -= shares;
        m.totalShares -= shares;
        m.cash -= amount;
        require(_isHealthy(account), "insufficient collateral");
        IERC20(asset).safeTransfer(to, amount);
        emit Withdraw(asset, account, to, amount, shares);
        return amount;
    }

    function borrow(address asset, uint256 amount, address account, address receiver)
        external
        nonReentrant
        authorized(account)
    {
        Market storage m = _market(asset);
        _accrue(asset);
        require(amount > 0 && amount <= m.cash, "insufficient cash");
        BorrowSnapshot storage b = _borrows[asset][account];
        b.principal = _debt(m, b) + amount;
        b.index = m.borrowIndex;
        m.totalBorrows += amount;
        m.cash -= amount;
        require(_isHealthy(account), "insufficient collateral");
        IERC20(asset).safeTransfer(receiver, amount);
        emit Borrow(asset, account, receiver, amount);
    }

    /// @notice Repays up to `amount` of `account`'s debt (all of it for type(uint256).max).
    function repay(address asset, uint256 amount, address account) external nonReentrant returns (uint256 repaid) {
        _accrue(asset);
        repaid = _repay(asset, amount, account);
    }

    function liquidate(
        address borrower,
        address debtAsset,
        uint256 repayAmount,
        address collateralAsset,
        address receiver
    ) external nonReentrant returns (uint256 seized) {
        _accrue(debtAsset);
        _accrue(collateralAsset);
        require(!_isHealthy(borrower), "borrower is healthy");
        uint256 debt = _debt(_market(debtAsset), _borrows[debtAsset][borrower]);
        require(repayAmount <= debt * CLOSE_FACTOR_BPS / 10_000, "too much repaid");
        require(_repay(debtAsset, repayAmount, borrower) == repayAmount, "repay failed");

        seized = repayAmount * oracle.getPrice(debtAsset) * (10_000 + LIQUIDATION_BONUS_BPS)
            / (oracle.getPrice(collateralAsset) * 10_000);
        Market storage c = _market(collateralAsset);
        uint256 shares = Math.mulDivUp(seized, c.totalShares, _totalAssets(c));
        require(shares <= sharesOf[collateralAsset][borrower], "insufficient collateral");
        require(seized <= c.cash, "insufficient cash");
        sharesOf[collateralAsset][borrower] -= shares;
        c.totalShares -= shares;
        c.cash -= seized;
        IERC20(collateralAsset).safeTransfer(receiver, seized);
        emit Liquidation(borrower, msg.sender, debtAsset, repayAmount, collateralAsset, seized);
    }

    // ---- views ----

    function assetsLength() external view returns (uint256) {
        return assets.length;
    }

    function totalAssets(address asset) external view returns (uint256) {
        return _totalAssets(markets[asset]);
    }

    function balanceOfUnderlying(address asset, address account) public view returns (uint256) {
        Market storage m = markets[asset];
        return m.totalShares == 0 ? 0 : sharesOf[asset][account] * _totalAssets(m) / m.totalShares;
    }

    function debtOf(address asset, address account) public view returns (uint256) {
        return _debt(markets[asset], _borrows[asset][account]);
    }

    /// @notice Collateral-weighted value an account may borrow up to, and the value it owes, both
    /// in wei of the oracle's base asset.
    function accountLiquidity(address account) public view returns (uint256 borrowLimit, uint256 debtValue) {
        for (uint256 i = 0; i < assets.length; i++) {
            address asset = assets[i];
            uint256 supplied = balanceOfUnderlying(asset, account);
            uint256 owed = debtOf(asset, account);
            if (supplied == 0 && owed == 0) continue;
            uint256 price = oracle.getPrice(asset);
            borrowLimit += supplied * price / 1e18 * markets[asset].collateralFactorBps / 10_000;
            debtValue += owed * price / 1e18;
        }
    }

    // ---- internals ----

    function _supply(address asset, uint256 amount, address onBehalfOf) private returns (uint256 shares) {
        Market storage m = _market(asset);
        shares = m.totalShares == 0 ? amount : amount * m.totalShares / _totalAssets(m);
        require(shares > 0, "zero shares");
        IERC20(asset).safeTransferFrom(msg.sender, address(this), amount);
        m.cash += amount;
        m.totalShares += shares;
        sharesOf[asset][onBehalfOf] += shares;
        emit Supply(asset, msg.sender, onBehalfOf, amount, shares);
    }

    function _repay(address asset, uint256 amount, address account) private returns (uint256 repaid) {
        Market storage m = _market(asset);
        BorrowSnapshot storage b = _borrows[asset][account];
        uint256 debt = _debt(m, b);
        repaid = Math.min(amount, debt);
        require(repaid > 0, "nothing to repay");
        IERC20(asset).safeTransferFrom(msg.sender, address(this), repaid);
        b.principal = debt - repaid;
        b.index = m.borrowIndex;
        m.totalBorrows = m.totalBorrows > repaid ? m.totalBorrows - repaid : 0;
        m.cash += repaid;
        emit Repay(asset, msg.sender, account, repaid);
    }

    function _accrue(address asset) private {
        Market storage m = _market(asset);
        uint256 blocks = block.number - m.lastAccrualBlock;
        if (blocks == 0) return;
        m.lastAccrualBlock = uint64(block.number);
        if (m.totalBorrows == 0) return;
        uint256 factor = uint256(m.borrowRatePerBlock) * blocks;
        uint256 interest = m.totalBorrows * factor / 1e18;
        m.totalBorrows += interest;
        m.totalReserves += interest * m.reserveFactorBps / 10_000;
        m.borrowIndex += m.borrowIndex * factor / 1e18;
    }

    function _isHealthy(address account) private view returns (bool) {
        (uint256 limit, uint256 debt) = accountLiquidity(account);
        return debt <= limit;
    }

    function _market(address asset) private view returns (Market storage m) {
        m = markets[asset];
        require(m.listed, "market not listed");
    }

    function _totalAssets(Market storage m) private view returns (uint256) {
        return m.cash + m.totalBorrows - m.totalReserves;
    }

    function _debt(Market storage m, BorrowSnapshot storage b) private view returns (uint256) {
        return b.principal == 0 ? 0 : b.principal * m.borrowIndex / b.index;
    }
}

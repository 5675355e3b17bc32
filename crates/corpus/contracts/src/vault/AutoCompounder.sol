// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC20} from "../tokens/ERC20.sol";
import {IERC20} from "../interfaces/IERC20.sol";
import {Ownable} from "../utils/Ownable.sol";
import {ReentrancyGuard} from "../utils/ReentrancyGuard.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";
import {StreamingRewards} from "../rewards/StreamingRewards.sol";

/// @notice Auto-compounding vault in Beefy's shape over a StreamingRewards pool that pays in
/// the token it stakes: deposits are staked at once; `harvest` (anyone may call it) claims the
/// rewards, pays the caller its call fee and the protocol its performance fee, and stakes the
/// rest, so each share is worth more. Shares are the vault's own ERC-20.
contract AutoCompounder is ERC20, Ownable, ReentrancyGuard {
    using SafeTransfer for IERC20;

    uint256 public constant MAX_FEE_BPS = 1_000;

    IERC20 public immutable want;
    StreamingRewards public immutable farm;
    address public feeRecipient;
    uint256 public callFeeBps;
    uint256 public performanceFeeBps;
    uint256 public lastHarvest;

    event Deposit(address indexed account, uint256 amount, uint256 shares);
    event Withdraw(address indexed account, uint256 amount, uint256 shares);
    event Harvest(address indexed harvester, uint256 harvested, uint256 callFee, uint256 performanceFee);
    event FeesSet(uint256 callFeeBps, uint256 performanceFeeBps, address feeRecipient);

    constructor(
        StreamingRewards farm_,
        address feeRecipient_,
        uint256 callFeeBps_,
        uint256 performanceFeeBps_,
        string memory name_,
        string memory symbol_
    ) ERC20(name_, symbol_, 18) Ownable(msg.sender) {
        require(address(farm_.stakingToken()) == address(farm_.rewardsToken()), "farm must pay in its stake");
        farm = farm_;
        want = farm_.stakingToken();
        want.safeApprove(address(farm_), type(uint256).max);
        _setFees(callFeeBps_, performanceFeeBps_, feeRecipient_);
        lastHarvest = block.timestamp;
    }

    function setFees(uint256 callFeeBps_, uint256 performanceFeeBps_, address feeRecipient_) external onlyOwner {
        _setFees(callFeeBps_, performanceFeeBps_, feeRecipient_);
    }

    /// @notice Staked plus idle `want`.
    function balance() public view returns (uint256) {
        return want.balanceOf(address(this)) + farm.balanceOf(address(this));
    }

    function pricePerShare() external view returns (uint256) {
        return totalSupply == 0 ? 1e18 : balance() * 1e18 / totalSupply;
    }

    /// @notice Rewards a harvest now would claim.
    function pendingRewards() external view returns (uint256) {
        return farm.earned(address(this));
    }

    function deposit(uint256 amount) external nonReentrant returns (uint256 shares) {
        require(amount > 0, "zero deposit");
        uint256 pool = balance();
        want.safeTransferFrom(msg.sender, address(this), amount);
        shares = totalSupply == 0 ? amount : amount * totalSupply / pool;
        require(shares > 0, "zero shares");
        _mint(msg.sender, shares);
        farm.stake(want.balanceOf(address(this)));
        emit Deposit(msg.sender, amount, shares);
    }

    function withdraw(uint256 shares) external nonReentrant returns (uint256 amount) {
        amount = balance() * shares / totalSupply;
        _burn(msg.sender, shares);
        uint256 idle = want.balanceOf(address(this));
        if (idle < amount) farm.withdraw(amount - idle);
        want.safeTransfer(msg.sender, amount);
        emit Withdraw(msg.sender, amount, shares);
    }

    function harvest() external {
        _harvest(msg.sender);
    }

    /// @notice Harvests and pays the call fee to `callFeeRecipient` (a keeper's payout address).
    function harvest(address callFeeRecipient) external {
        _harvest(callFeeRecipient);
    }

    function _harvest(address callFeeRecipient) private nonReentrant {
        uint256 before = want.balanceOf(address(this));
        farm.getReward();
        uint256 harvested = want.balanceOf(address(this)) - before;
        require(harvested > 0, "nothing to harvest");
        uint256 callFee = harvested * callFeeBps / 10_000;
        uint256 performanceFee = harvested * performanceFeeBps / 10_000;
        if (callFee > 0) want.safeTransfer(callFeeRecipient, callFee);
        if (performanceFee > 0) want.safeTransfer(feeRecipient, performanceFee);
        uint256 idle = want.balanceOf(address(this));
        if (idle > 0) farm.stake(idle);
        lastHarvest = block.timestamp;
        emit Harvest(callFeeRecipient, harvested, callFee, performanceFee);
    }

    function _setFees(uint256 callFeeBps_, uint256 performanceFeeBps_, address feeRecipient_) private {
        require(callFeeBps_ + performanceFeeBps_ <= MAX_FEE_BPS, "fees too high");
        require(feeRecipient_ != address(0), "zero fee recipient");
        callFeeBps = callFeeBps_;
        performanceFeeBps = performanceFeeBps_;
        feeRecipient = feeRecipient_;
        emit FeesSet(callFeeBps_, performanceFeeBps_, feeRecipient_);
    }
}

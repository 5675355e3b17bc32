// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {Ownable} from "../utils/Ownable.sol";
import {ReentrancyGuard} from "../utils/ReentrancyGuard.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";

/// @notice Descending-price token sale for ETH: the price per token falls linearly from
/// `startPrice` to `floorPrice` over `decayPeriod` seconds, then stays at the floor. A buyer
/// sends what it expects to pay and is refunded the difference in the same call; a purchase
/// is capped per account. The beneficiary withdraws the proceeds.
contract TokenSale is Ownable, ReentrancyGuard {
    using SafeTransfer for IERC20;

    IERC20 public immutable token;
    uint256 public immutable startPrice;
    uint256 public immutable floorPrice;
    uint64 public immutable startTime;
    uint64 public immutable decayPeriod;
    uint256 public immutable maxPerAccount;

    address public beneficiary;
    uint256 public proceeds;
    uint256 public sold;
    mapping(address => uint256) public bought;

    event Purchase(address indexed buyer, uint256 amount, uint256 cost, uint256 refund);
    event ProceedsWithdrawn(address indexed to, uint256 amount);
    event BeneficiarySet(address beneficiary);

    constructor(
        IERC20 token_,
        uint256 startPrice_,
        uint256 floorPrice_,
        uint64 startTime_,
        uint64 decayPeriod_,
        uint256 maxPerAccount_,
        address beneficiary_
    ) Ownable(msg.sender) {
        require(floorPrice_ > 0 && floorPrice_ <= startPrice_ && decayPeriod_ > 0, "bad price schedule");
        token = token_;
        startPrice = startPrice_;
        floorPrice = floorPrice_;
        startTime = startTime_;
        decayPeriod = decayPeriod_;
        maxPerAccount = maxPerAccount_;
        beneficiary = beneficiary_;
        emit BeneficiarySet(beneficiary_);
    }

    /// @notice Wei per 1e18 token units at the current block.
    function price() public view returns (uint256) {
        if (block.timestamp <= startTime) return startPrice;
        uint256 elapsed = block.timestamp - startTime;
        if (elapsed >= decayPeriod) return floorPrice;
        return startPrice - (startPrice - floorPrice) * elapsed / decayPeriod;
    }

    function cost(uint256 amount) public view returns (uint256) {
        return (amount * price() + 1e18 - 1) / 1e18;
    }

    function buy(uint256 amount) external payable nonReentrant {
        require(block.timestamp >= startTime, "sale not started");
        require(amount > 0, "zero amount");
        require(bought[msg.sender] + amount <= maxPerAccount, "over the per-account cap");
        uint256 due = cost(amount);
        require(msg.value >= due, "insufficient payment");
        bought[msg.sender] += amount;
        sold += amount;
        proceeds += due;
        token.safeTransfer(msg.sender, amount);
        uint256 refund = msg.value - due;
        if (refund > 0) SafeTransfer.sendValue(msg.sender, refund);
        emit Purchase(msg.sender, amount, due, refund);
    }

    function setBeneficiary(address beneficiary_) external onlyOwner {
        beneficiary = beneficiary_;
        emit BeneficiarySet(beneficiary_);
    }

    function withdrawProceeds(address to) external nonReentrant {
        require(msg.sender == beneficiary, "only the beneficiary");
        uint256 amount = proceeds;
        require(amount > 0, "no proceeds");
        proceeds = 0;
        SafeTransfer.sendValue(to, amount);
        emit ProceedsWithdrawn(to, amount);
    }
}

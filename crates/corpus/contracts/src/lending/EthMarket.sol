// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {IPriceOracle} from "../interfaces/IPriceOracle.sol";
import {Ownable} from "../utils/Ownable.sol";
import {ReentrancyGuard} from "../utils/ReentrancyGuard.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";

/// @notice Money market for native ETH: lenders supply ETH, borrowers post ERC-20 collateral
/// (priced in ETH by an oracle) and borrow ETH against it.
contract EthMarket is Ownable, ReentrancyGuard {
    using SafeTransfer for IERC20;

    IPriceOracle public immutable oracle;
    address[] public collateralTokens;
    mapping(address => uint16) public collateralFactorBps;

    mapping(address => uint256) public suppliedOf;
    uint256 public totalSupplied;
    mapping(address => mapping(address => uint256)) public collateralOf;
    mapping(address => uint256) public borrowedOf;
    uint256 public totalBorrowed;

    event CollateralListed(address indexed token, uint256 collateralFactorBps);
    event Supplied(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event CollateralDeposited(address indexed account, address indexed token, uint256 amount);
    event CollateralWithdrawn(address indexed account, address indexed token, uint256 amount);
    event Borrowed(address indexed account, uint256 amount);
    event Repaid(address indexed account, uint256 amount);

    constructor(IPriceOracle oracle_) Ownable(msg.sender) {
        oracle = oracle_;
    }

    function listCollateral(address token, uint16 factorBps) external onlyOwner {
        require(factorBps < 10_000, "bad factor");
        if (collateralFactorBps[token] == 0) collateralTokens.push(token);
        collateralFactorBps[token] = factorBps;
        emit CollateralListed(token, factorBps);
    }

    // ---- lenders ----

    function supply() external payable nonReentrant {
        suppliedOf[msg.sender] += msg.value;
        totalSupplied += msg.value;
        emit Supplied(msg.sender, msg.value);
    }

    function withdraw(uint256 amount) external nonReentrant {
        suppliedOf[msg.sender] -= amount;
        totalSupplied -= amount;
        emit Withdrawn(msg.sender, amount);
        SafeTransfer.sendValue(msg.sender, amount);
    }

    // ---- borrowers ----

    function depositCollateral(address token, uint256 amount) external nonReentrant {
        require(collateralFactorBps[token] > 0, "not collateral");
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        collateralOf[msg.sender][token] += amount;
        emit CollateralDeposited(msg.sender, token, amount);
    }

    function withdrawCollateral(address token, uint256 amount) external {
        collateralOf[msg.sender][token] -= amount;
        require(borrowedOf[msg.sender] <= borrowLimit(msg.sender), "insufficient collateral");
        IERC20(token).safeTransfer(msg.sender, amount);
        emit CollateralWithdrawn(msg.sender, token, amount);
    }

    function borrow(uint256 amount) external nonReentrant {
        require(amount <= address(this).balance, "insufficient cash");
        require(borrowedOf[msg.sender] + amount <= borrowLimit(msg.sender), "insufficient collateral");
        SafeTransfer.sendValue(msg.sender, amount);
        borrowedOf[msg.sender] += amount;
        totalBorrowed += amount;
        emit Borrowed(msg.sender, amount);
    }

    function repay() external payable nonReentrant {
        uint256 debt = borrowedOf[msg.sender];
        uint256 amount = msg.value > debt ? debt : msg.value;
        borrowedOf[msg.sender] = debt - amount;
        totalBorrowed -= amount;
        emit Repaid(msg.sender, amount);
        if (msg.value > amount) SafeTransfer.sendValue(msg.sender, msg.value - amount);
    }

    function borrowLimit(address account) public view returns (uint256 limit) {
        for (uint256 i = 0; i < collateralTokens.length; i++) {
            address token = collateralTokens[i];
            uint256 amount = collateralOf[account][token];
            if (amount == 0) continue;
            limit += amount * oracle.getPrice(token) / 1e18 * collateralFactorBps[token] / 10_000;
        }
    }
}

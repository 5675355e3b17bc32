// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";
import {Initializable, UUPSUpgradeable} from "./Initializable.sol";

/// @notice Upgradeable treasury (implementation, used behind an ERC1967Proxy): holds ETH and
/// tokens for its owner, who can pay out, migrate everything to a new treasury, and upgrade.
contract Treasury is Initializable, UUPSUpgradeable {
    using SafeTransfer for IERC20;

    address public owner;

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event Paid(address indexed token, address indexed to, uint256 amount);
    event Migrated(address indexed to, uint256 ethAmount, uint256 tokenCount);

    constructor() {
        _disableInitializers();
    }

    modifier onlyOwner() {
        require(msg.sender == owner, "not owner");
        _;
    }

    function initialize(address owner_) external initializer {
        require(owner_ != address(0), "zero owner");
        owner = owner_;
        emit OwnershipTransferred(address(0), owner_);
    }

    receive() external payable {}

    function transferOwnership(address newOwner) external onlyOwner {
        require(newOwner != address(0), "zero owner");
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    function pay(IERC20 token, address to, uint256 amount) external onlyOwner {
        token.safeTransfer(to, amount);
        emit Paid(address(token), to, amount);
    }

    function payEth(address to, uint256 amount) external onlyOwner {
        SafeTransfer.sendValue(to, amount);
        emit Paid(address(0), to, amount);
    }

    /// @notice Sends the whole ETH balance and the whole balance of each listed token to `to`.
    function migrate(address to, IERC20[] calldata tokens) external onlyOwner {
        require(to != address(0), "zero destination");
        for (uint256 i = 0; i < tokens.length; i++) {
            uint256 amount = tokens[i].balanceOf(address(this));
            if (amount > 0) tokens[i].safeTransfer(to, amount);
        }
        uint256 ethAmount = address(this).balance;
        if (ethAmount > 0) SafeTransfer.sendValue(to, ethAmount);
        emit Migrated(to, ethAmount, tokens.length);
    }

    function _authorizeUpgrade(address) internal view override onlyOwner {}
}

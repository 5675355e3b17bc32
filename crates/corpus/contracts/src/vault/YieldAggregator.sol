// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC20} from "../tokens/ERC20.sol";
import {IERC20} from "../interfaces/IERC20.sol";
import {Ownable} from "../utils/Ownable.sol";
import {ReentrancyGuard} from "../utils/ReentrancyGuard.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";
import {Vault} from "./Vault.sol";

/// @notice Pools users' deposits of one token and puts them to work in an ERC-4626 vault chosen
/// by the owner. Deposits wait as idle balance until someone calls `earn()`, which anyone may do
/// (keepers do it for the gas refund of the next harvest).
contract YieldAggregator is ERC20, Ownable, ReentrancyGuard {
    using SafeTransfer for IERC20;

    IERC20 public immutable token;
    Vault public vault;

    event VaultChanged(address indexed oldVault, address indexed newVault);
    event Earn(uint256 deposited, uint256 vaultShares);

    constructor(IERC20 token_, Vault vault_, string memory name_, string memory symbol_)
        ERC20(name_, symbol_, 18)
        Ownable(msg.sender)
    {
        token = token_;
        vault = vault_;
        token_.safeApprove(address(vault_), type(uint256).max);
    }

    /// @notice Idle balance plus the value of the vault shares held.
    function balance() public view returns (uint256) {
        return token.balanceOf(address(this)) + vault.convertToAssets(vault.balanceOf(address(this)));
    }

    function deposit(uint256 amount) external nonReentrant returns (uint256 shares) {
        uint256 pool = balance();
        token.safeTransferFrom(msg.sender, address(this), amount);
        shares = totalSupply == 0 ? amount : amount * totalSupply / pool;
        _mint(msg.sender, shares);
    }

    function withdraw(uint256 shares) external nonReentrant returns (uint256 amount) {
        amount = balance() * shares / totalSupply;
        _burn(msg.sender, shares);
        uint256 idle = token.balanceOf(address(this));
        if (idle < amount) {
            vault.withdraw(amount - idle, address(this), address(this));
        }
        token.safeTransfer(msg.sender, amount);
    }

    /// @notice Moves the idle balance into the vault.
    function earn() external nonReentrant {
        uint256 idle = token.balanceOf(address(this));
        uint256 shares = vault.deposit(idle, address(this));
        emit Earn(idle, shares);
    }

    /// @notice Pulls everything out of the current vault and points future `earn()`s at `newVault`.
    function setVault(Vault newVault) external onlyOwner nonReentrant {
        uint256 shares = vault.balanceOf(address(this));
        if (shares > 0) vault.redeem(shares, address(this), address(this));
        token.safeApprove(address(vault), 0);
        emit VaultChanged(address(vault), address(newVault));
        vault = newVault;
        token.safeApprove(address(newVault), type(uint256).max);
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC20} from "./ERC20.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";

/// @notice Wrapped ether: one token per wei deposited.
contract WETH is ERC20("Wrapped Ether", "WETH", 18) {
    event Deposit(address indexed account, uint256 amount);
    event Withdrawal(address indexed account, uint256 amount);

    receive() external payable {
        deposit();
    }

    function deposit() public payable {
        _mint(msg.sender, msg.value);
        emit Deposit(msg.sender, msg.value);
    }

    function withdraw(uint256 amount) external {
        _burn(msg.sender, amount);
        emit Withdrawal(msg.sender, amount);
        SafeTransfer.sendValue(msg.sender, amount);
    }
}

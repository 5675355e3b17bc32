// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC20} from "../tokens/ERC20.sol";

/// @notice Wrapped representation of a remote-chain asset. Only its bridge mints (inbound
/// messages) and burns (outbound transfers).
contract BridgedToken is ERC20 {
    address public immutable bridge;

    constructor(string memory name_, string memory symbol_, uint8 decimals_, address bridge_)
        ERC20(name_, symbol_, decimals_)
    {
        bridge = bridge_;
    }

    modifier onlyBridge() {
        require(msg.sender == bridge, "only bridge");
        _;
    }

    function mint(address to, uint256 amount) external onlyBridge {
        _mint(to, amount);
    }

    function burn(address from, uint256 amount) external onlyBridge {
        _burn(from, amount);
    }
}

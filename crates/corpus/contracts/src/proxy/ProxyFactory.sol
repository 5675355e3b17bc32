// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC1967Proxy} from "./ERC1967Proxy.sol";

/// @notice Deploys an ERC1967Proxy and runs its initializer in the same call, at a CREATE2
/// address derived from the caller and a salt.
contract ProxyFactory {
    event ProxyDeployed(address indexed proxy, address indexed implementation, address indexed deployer);

    function deploy(address implementation, bytes calldata initData, bytes32 salt) external returns (address proxy) {
        proxy = address(
            new ERC1967Proxy{salt: keccak256(abi.encode(msg.sender, salt))}(implementation, initData)
        );
        emit ProxyDeployed(proxy, implementation, msg.sender);
    }
}

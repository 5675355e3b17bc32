// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC1967} from "./ERC1967Proxy.sol";

/// @notice One-shot initialization for contracts behind a proxy; implementations lock
/// themselves in their constructor.
abstract contract Initializable {
    bool private _initialized;

    event Initialized();

    modifier initializer() {
        require(!_initialized, "already initialized");
        _initialized = true;
        _;
        emit Initialized();
    }

    function _disableInitializers() internal {
        _initialized = true;
    }
}

/// @notice Upgrade entry point that lives in the implementation (UUPS).
abstract contract UUPSUpgradeable {
    function upgradeToAndCall(address newImplementation, bytes calldata data) external payable {
        _authorizeUpgrade(newImplementation);
        ERC1967.upgradeToAndCall(newImplementation, data);
    }

    function implementation() external view returns (address) {
        return ERC1967.implementation();
    }

    function _authorizeUpgrade(address newImplementation) internal virtual;
}

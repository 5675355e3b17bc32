// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice Price of one whole unit (1e18 base units) of `asset`, in wei of the oracle's base asset.
interface IPriceOracle {
    function getPrice(address asset) external view returns (uint256);
}

/// @notice A push or pull price source, Chainlink-style: one answer, 18 decimals.
interface IPriceFeed {
    function latestAnswer() external view returns (int256);
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IPriceOracle, IPriceFeed} from "../interfaces/IPriceOracle.sol";
import {Ownable} from "../utils/Ownable.sol";

/// @notice Per-asset price registry for lending markets. Prices are in wei of the base asset
/// (WETH) per 1e18 units of the asset; the base asset itself is worth 1e18.
contract PriceOracle is IPriceOracle, Ownable {
    address public immutable baseAsset;
    mapping(address => IPriceFeed) public feeds;

    event FeedSet(address indexed asset, address feed);

    constructor(address baseAsset_) Ownable(msg.sender) {
        baseAsset = baseAsset_;
    }

    function setFeed(address asset, IPriceFeed feed) external onlyOwner {
        feeds[asset] = feed;
        emit FeedSet(asset, address(feed));
    }

    function getPrice(address asset) external view returns (uint256) {
        if (asset == baseAsset) return 1e18;
        IPriceFeed feed = feeds[asset];
        require(address(feed) != address(0), "no feed");
        int256 answer = feed.latestAnswer();
        require(answer > 0, "bad price");
        return uint256(answer);
    }
}

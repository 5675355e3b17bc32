// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IPriceFeed} from "../interfaces/IPriceOracle.sol";
import {Ownable} from "../utils/Ownable.sol";

interface IReservesPair {
    function token0() external view returns (address);
    function getReserves() external view returns (uint112, uint112, uint32);
}

interface IVirtualPricePool {
    function get_virtual_price() external view returns (uint256);
}

/// @notice Push feed: a reporter (the owner) posts each new answer, Chainlink-style.
contract ManualFeed is IPriceFeed, Ownable {
    int256 public latestAnswer;
    uint256 public latestRound;

    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);

    constructor(int256 initialAnswer) Ownable(msg.sender) {
        _post(initialAnswer);
    }

    function setAnswer(int256 answer) external onlyOwner {
        _post(answer);
    }

    function _post(int256 answer) private {
        latestAnswer = answer;
        latestRound += 1;
        emit AnswerUpdated(answer, latestRound, block.timestamp);
    }
}

/// @notice Price of `asset` in the pair's other token, read from the pair's current reserves.
contract PairSpotFeed is IPriceFeed {
    IReservesPair public immutable pair;
    address public immutable asset;

    constructor(IReservesPair pair_, address asset_) {
        pair = pair_;
        asset = asset_;
    }

    function latestAnswer() external view returns (int256) {
        (uint112 r0, uint112 r1,) = pair.getReserves();
        (uint256 assetReserve, uint256 quoteReserve) = pair.token0() == asset ? (r0, r1) : (r1, r0);
        return int256(quoteReserve * 1e18 / assetReserve);
    }
}

/// @notice Price of a stable pool's LP token: its virtual price (the pool's coins are pegged 1:1
/// to the base asset).
contract StableLpFeed is IPriceFeed {
    IVirtualPricePool public immutable pool;

    constructor(IVirtualPricePool pool_) {
        pool = pool_;
    }

    function latestAnswer() external view returns (int256) {
        return int256(pool.get_virtual_price());
    }
}

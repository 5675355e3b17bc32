// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {IERC1155Receiver} from "../interfaces/IERC721Receiver.sol";
import {ReentrancyGuard} from "../utils/ReentrancyGuard.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";
import {GameItems} from "../tokens/GameItems.sol";

/// @notice Constant-product market between one ERC-1155 item id and WETH, 0.3% fee, for a game's
/// marketplace. Items are indivisible: item amounts are whole numbers.
contract ItemPool is ReentrancyGuard, IERC1155Receiver {
    using SafeTransfer for IERC20;

    GameItems public immutable items;
    uint256 public immutable itemId;
    IERC20 public immutable weth;

    uint256 public reserveItems;
    uint256 public reserveWeth;
    uint256 public totalShares;
    mapping(address => uint256) public sharesOf;

    event LiquidityAdded(address indexed provider, uint256 items, uint256 weth, uint256 shares);
    event LiquidityRemoved(address indexed provider, uint256 items, uint256 weth, uint256 shares);
    event Trade(address indexed trader, uint256 itemsIn, uint256 wethIn, uint256 itemsOut, uint256 wethOut);

    constructor(GameItems items_, uint256 itemId_, IERC20 weth_) {
        items = items_;
        itemId = itemId_;
        weth = weth_;
    }

    function addLiquidity(uint256 itemAmount, uint256 maxWeth) external nonReentrant returns (uint256 shares) {
        require(itemAmount > 0, "zero items");
        uint256 wethAmount;
        if (totalShares == 0) {
            wethAmount = maxWeth;
            shares = maxWeth;
        } else {
            wethAmount = (itemAmount * reserveWeth + reserveItems - 1) / reserveItems;
            require(wethAmount <= maxWeth, "price moved");
            shares = itemAmount * totalShares / reserveItems;
        }
        require(shares > 0, "zero shares");
        items.safeTransferFrom(msg.sender, address(this), itemId, itemAmount, "");
        weth.safeTransferFrom(msg.sender, address(this), wethAmount);
        reserveItems += itemAmount;
        reserveWeth += wethAmount;
        totalShares += shares;
        sharesOf[msg.sender] += shares;
        emit LiquidityAdded(msg.sender, itemAmount, wethAmount, shares);
    }

    function removeLiquidity(uint256 shares) external nonReentrant returns (uint256 itemAmount, uint256 wethAmount) {
        itemAmount = shares * reserveItems / totalShares;
        wethAmount = shares * reserveWeth / totalShares;
        sharesOf[msg.sender] -= shares;
        totalShares -= shares;
        reserveItems -= itemAmount;
        reserveWeth -= wethAmount;
        items.safeTransferFrom(address(this), msg.sender, itemId, itemAmount, "");
        weth.safeTransfer(msg.sender, wethAmount);
        emit LiquidityRemoved(msg.sender, itemAmount, wethAmount, shares);
    }

    /// @notice Buys exactly `itemsOut` items.
    function buyItems(uint256 itemsOut, uint256 maxWethIn) external nonReentrant returns (uint256 wethIn) {
        require(itemsOut > 0 && itemsOut < reserveItems, "invalid amount");
        wethIn = reserveWeth * itemsOut * 1000 / ((reserveItems - itemsOut) * 997) + 1;
        require(wethIn <= maxWethIn, "excessive input");
        weth.safeTransferFrom(msg.sender, address(this), wethIn);
        items.safeTransferFrom(address(this), msg.sender, itemId, itemsOut, "");
        reserveWeth += wethIn;
        reserveItems -= itemsOut;
        emit Trade(msg.sender, 0, wethIn, itemsOut, 0);
    }

    /// @notice Sells exactly `itemsIn` items.
    function sellItems(uint256 itemsIn, uint256 minWethOut) external nonReentrant returns (uint256 wethOut) {
        require(itemsIn > 0, "invalid amount");
        wethOut = itemsIn * 997 * reserveWeth / (reserveItems * 1000 + itemsIn * 997);
        require(wethOut >= minWethOut, "insufficient output");
        items.safeTransferFrom(msg.sender, address(this), itemId, itemsIn, "");
        weth.safeTransfer(msg.sender, wethOut);
        reserveItems += itemsIn;
        reserveWeth -= wethOut;
        emit Trade(msg.sender, itemsIn, 0, 0, wethOut);
    }

    /// @notice Sells as many items as it takes to receive exactly `wethOut`.
    function sellItemsForExactWeth(uint256 wethOut, uint256 maxItemsIn) external nonReentrant returns (uint256 itemsIn) {
        require(wethOut > 0 && wethOut < reserveWeth, "invalid amount");
        itemsIn = reserveItems * wethOut * 1000 / ((reserveWeth - wethOut) * 997);
        require(itemsIn <= maxItemsIn, "excessive input");
        items.safeTransferFrom(msg.sender, address(this), itemId, itemsIn, "");
        weth.safeTransfer(msg.sender, wethOut);
        reserveItems += itemsIn;
        reserveWeth -= wethOut;
        emit Trade(msg.sender, itemsIn, 0, 0, wethOut);
    }

    function onERC1155Received(address operator, address, uint256 id, uint256, bytes calldata)
        external
        view
        returns (bytes4)
    {
        require(msg.sender == address(items) && id == itemId && operator == address(this), "unexpected transfer");
        return IERC1155Receiver.onERC1155Received.selector;
    }

    function onERC1155BatchReceived(address, address, uint256[] calldata, uint256[] calldata, bytes calldata)
        external
        pure
        returns (bytes4)
    {
        revert("batch transfers not accepted");
    }
}

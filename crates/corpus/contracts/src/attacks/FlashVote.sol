// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {IERC3156FlashBorrower, IERC3156FlashLender} from "../interfaces/IERC3156.sol";
import {Governor} from "../governance/Governor.sol";

/// @notice Flash-borrows governance tokens, votes for a pending proposal with them (reaching the
/// supermajority that executes at once), executes it, and repays the tokens plus the fee from
/// its own balance.
contract FlashVote is IERC3156FlashBorrower {
    address private immutable owner;

    constructor() {
        owner = msg.sender;
    }

    function vote(IERC3156FlashLender lender, Governor governor, uint256 proposalId, uint256 loan) external {
        require(msg.sender == owner);
        lender.flashLoan(this, address(governor.token()), loan, abi.encode(governor, proposalId));
    }

    function onFlashLoan(address, address token, uint256 amount, uint256 fee, bytes calldata data)
        external
        returns (bytes32)
    {
        (Governor governor, uint256 proposalId) = abi.decode(data, (Governor, uint256));
        governor.castVote(proposalId, true);
        governor.execute(proposalId);
        IERC20(token).approve(msg.sender, amount + fee);
        return keccak256("ERC3156FlashBorrower.onFlashLoan");
    }
}

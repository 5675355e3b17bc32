// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {Ownable} from "../utils/Ownable.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";
import {ECDSA} from "../utils/ECDSA.sol";

/// @notice Pays reward vouchers (referral, quest and trading rewards) that the protocol's signer
/// issues off-chain; anyone may submit a voucher, the tokens go to the account it names.
contract RewardVouchers is Ownable {
    using SafeTransfer for IERC20;

    IERC20 public immutable token;
    address public signer;

    event Claimed(address indexed account, uint256 amount);
    event SignerSet(address signer);

    constructor(IERC20 token_, address signer_) Ownable(msg.sender) {
        token = token_;
        signer = signer_;
        emit SignerSet(signer_);
    }

    function setSigner(address signer_) external onlyOwner {
        signer = signer_;
        emit SignerSet(signer_);
    }

    /// @notice Digest the signer signs (EIP-191) for a voucher of `amount` to `account`.
    function voucherDigest(address account, uint256 amount) public view returns (bytes32) {
        return ECDSA.toEthSignedMessageHash(keccak256(abi.encode(block.chainid, address(this), account, amount)));
    }

    function claim(address account, uint256 amount, bytes calldata signature) external {
        require(ECDSA.recover(voucherDigest(account, amount), signature) == signer, "invalid voucher");
        token.safeTransfer(account, amount);
        emit Claimed(account, amount);
    }

    function withdraw(address to, uint256 amount) external onlyOwner {
        token.safeTransfer(to, amount);
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {Ownable} from "../utils/Ownable.sol";
import {ReentrancyGuard} from "../utils/ReentrancyGuard.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";
import {ECDSA} from "../utils/ECDSA.sol";

/// @notice Lock-and-release bridge endpoint secured by an m-of-n attester set (multisig-bridge
/// style). Outbound: `lock` holds tokens for the remote chain. Inbound: a transfer from the
/// remote chain is released once, to its recipient, when at least `threshold` of the stored
/// attesters signed its EIP-712 digest; signatures come sorted by signer address so that no
/// attester counts twice. Anyone may submit a release (the recipient or a relayer); the owner
/// rotates the attester set.
///
/// EIP-712 domain `{name: "AttestedBridge", version: "1", chainId, verifyingContract}`, type
/// `Release(uint32 origin,uint64 nonce,address token,address recipient,uint256 amount)`.
contract AttestedBridge is Ownable, ReentrancyGuard {
    using SafeTransfer for IERC20;

    bytes32 public constant RELEASE_TYPEHASH =
        keccak256("Release(uint32 origin,uint64 nonce,address token,address recipient,uint256 amount)");
    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    uint256 public constant MAX_ATTESTERS = 16;

    struct Release {
        uint32 origin;
        uint64 nonce;
        address token;
        address recipient;
        uint256 amount;
    }

    uint32 public immutable remoteDomain;
    bytes32 public immutable DOMAIN_SEPARATOR;

    address[] private _attesters;
    mapping(address => bool) public isAttester;
    uint256 public threshold;
    uint64 public outboundNonce;
    mapping(bytes32 => bool) public released;

    event AttestersSet(address[] attesters, uint256 threshold);
    event Locked(uint64 indexed nonce, address indexed token, address indexed sender, address recipient, uint256 amount);
    event Released(bytes32 indexed digest, address indexed token, address indexed recipient, uint256 amount);

    constructor(uint32 remoteDomain_, address[] memory attesters_, uint256 threshold_) Ownable(msg.sender) {
        remoteDomain = remoteDomain_;
        DOMAIN_SEPARATOR = keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256("AttestedBridge"), keccak256("1"), block.chainid, address(this))
        );
        _setAttesters(attesters_, threshold_);
    }

    function attesters() external view returns (address[] memory) {
        return _attesters;
    }

    function setAttesters(address[] calldata attesters_, uint256 threshold_) external onlyOwner {
        _setAttesters(attesters_, threshold_);
    }

    // ---- outbound ----

    function lock(address token, uint256 amount, address recipient) external nonReentrant returns (uint64 nonce) {
        require(amount > 0, "zero amount");
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        nonce = outboundNonce++;
        emit Locked(nonce, token, msg.sender, recipient, amount);
    }

    // ---- inbound ----

    function releaseDigest(Release calldata r) public view returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(RELEASE_TYPEHASH, r.origin, r.nonce, r.token, r.recipient, r.amount));
        return ECDSA.toTypedDataHash(DOMAIN_SEPARATOR, structHash);
    }

    function release(Release calldata r, bytes[] calldata signatures) external nonReentrant {
        require(r.origin == remoteDomain, "wrong origin");
        bytes32 digest = releaseDigest(r);
        require(!released[digest], "already released");
        require(signatures.length >= threshold, "not enough signatures");
        address last = address(0);
        for (uint256 i = 0; i < signatures.length; i++) {
            address signer = ECDSA.recover(digest, signatures[i]);
            require(signer > last, "signers not sorted");
            require(isAttester[signer], "not an attester");
            last = signer;
        }
        released[digest] = true;
        IERC20(r.token).safeTransfer(r.recipient, r.amount);
        emit Released(digest, r.token, r.recipient, r.amount);
    }

    function _setAttesters(address[] memory attesters_, uint256 threshold_) private {
        require(attesters_.length <= MAX_ATTESTERS, "too many attesters");
        require(threshold_ > 0 && threshold_ <= attesters_.length, "bad threshold");
        for (uint256 i = 0; i < _attesters.length; i++) {
            isAttester[_attesters[i]] = false;
        }
        delete _attesters;
        for (uint256 i = 0; i < attesters_.length; i++) {
            require(attesters_[i] != address(0) && !isAttester[attesters_[i]], "bad attester");
            isAttester[attesters_[i]] = true;
            _attesters.push(attesters_[i]);
        }
        threshold = threshold_;
        emit AttestersSet(attesters_, threshold_);
    }
}

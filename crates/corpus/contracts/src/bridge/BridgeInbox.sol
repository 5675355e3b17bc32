// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {Ownable} from "../utils/Ownable.sol";
import {ReentrancyGuard} from "../utils/ReentrancyGuard.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";
import {ECDSA} from "../utils/ECDSA.sol";
import {MerkleProof} from "../utils/MerkleProof.sol";

/// @notice Lock-and-release token bridge endpoint (optimistic-replica style). Outbound: `send`
/// locks tokens and emits a message. Inbound: the validator signs each new root of the remote
/// chain's message tree; a message proven against a confirmed root is processed once and
/// releases the locked tokens to its recipient.
///
/// Message = abi.encode(uint32 origin, uint32 destination, uint64 nonce, address token,
///                      address recipient, uint256 amount); leaf = keccak256(message).
contract BridgeInbox is Ownable, ReentrancyGuard {
    using SafeTransfer for IERC20;

    bytes32 private constant PROCESSED = bytes32(uint256(2));

    uint32 public immutable localDomain;
    uint32 public immutable remoteDomain;
    address public validator;
    bytes32 public committedRoot;
    uint64 public outboundNonce;

    /// root => block from which messages proven against it may be processed (0: unknown root)
    mapping(bytes32 => uint256) public confirmAt;
    /// leaf => root it was proven against, or PROCESSED
    mapping(bytes32 => bytes32) public messages;

    event Update(bytes32 indexed oldRoot, bytes32 indexed newRoot, bytes signature);
    event Process(bytes32 indexed leaf, address indexed token, address indexed recipient, uint256 amount);
    event Dispatch(uint64 indexed nonce, address indexed token, address indexed sender, address recipient, uint256 amount);
    event ValidatorSet(address validator);

    constructor(uint32 localDomain_, uint32 remoteDomain_, address validator_, bytes32 committedRoot_)
        Ownable(msg.sender)
    {
        localDomain = localDomain_;
        remoteDomain = remoteDomain_;
        validator = validator_;
        committedRoot = committedRoot_;
        confirmAt[committedRoot_] = 1;
        emit ValidatorSet(validator_);
    }

    function setValidator(address validator_) external onlyOwner {
        validator = validator_;
        emit ValidatorSet(validator_);
    }

    // ---- outbound ----

    function send(address token, uint256 amount, address recipient) external nonReentrant returns (uint64 nonce) {
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        nonce = outboundNonce++;
        emit Dispatch(nonce, token, msg.sender, recipient, amount);
    }

    // ---- inbound ----

    /// @notice Accepts the validator's signed transition of the remote tree root.
    function update(bytes32 oldRoot, bytes32 newRoot, bytes calldata signature) external {
        require(oldRoot == committedRoot, "not current root");
        bytes32 digest = ECDSA.toEthSignedMessageHash(keccak256(abi.encode(remoteDomain, oldRoot, newRoot)));
        require(ECDSA.recover(digest, signature) == validator, "not signed by validator");
        confirmAt[newRoot] = block.number;
        committedRoot = newRoot;
        emit Update(oldRoot, newRoot, signature);
    }

    function acceptableRoot(bytes32 root) public view returns (bool) {
        uint256 at = confirmAt[root];
        return at != 0 && at <= block.number;
    }

    function prove(bytes32 leaf, bytes32[] calldata proof) public returns (bool) {
        require(messages[leaf] != PROCESSED, "already processed");
        bytes32 root = MerkleProof.processProof(proof, leaf);
        if (confirmAt[root] == 0) return false;
        messages[leaf] = root;
        return true;
    }

    function process(bytes calldata message) public nonReentrant {
        bytes32 leaf = keccak256(message);
        require(acceptableRoot(messages[leaf]), "not proven");
        messages[leaf] = PROCESSED;
        (uint32 origin, uint32 destination,, address token, address recipient, uint256 amount) =
            abi.decode(message, (uint32, uint32, uint64, address, address, uint256));
        require(origin == remoteDomain && destination == localDomain, "wrong domain");
        IERC20(token).safeTransfer(recipient, amount);
        emit Process(leaf, token, recipient, amount);
    }

    function proveAndProcess(bytes calldata message, bytes32[] calldata proof) external {
        require(prove(keccak256(message), proof), "bad proof");
        process(message);
    }
}

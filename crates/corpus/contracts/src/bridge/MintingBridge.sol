// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Ownable} from "../utils/Ownable.sol";
import {ECDSA} from "../utils/ECDSA.sol";
import {BridgedToken} from "./BridgedToken.sol";

/// @notice Mint-and-burn bridge endpoint for an asset native to the remote chain. Inbound: a
/// message attested by any one of the validator set (up to four keys; the signer's slot is
/// passed with the signature) is processed once and mints the wrapped token to its recipient.
/// Outbound: `send` burns the wrapped token and emits a message for the remote chain.
///
/// Message = abi.encode(uint32 origin, uint32 destination, uint64 nonce, address recipient,
///                      uint256 amount); the validator signs keccak256(message) (EIP-191).
contract MintingBridge is Ownable {
    uint256 public constant MAX_VALIDATORS = 4;

    uint32 public immutable localDomain;
    uint32 public immutable remoteDomain;
    BridgedToken public token;
    address[MAX_VALIDATORS] public validators;
    uint256 public validatorCount;
    uint64 public outboundNonce;
    /// keccak256(message) => processed
    mapping(bytes32 => bool) public processed;

    event TokenSet(address token);
    event ValidatorsSet(address[] validators);
    event Process(bytes32 indexed leaf, address indexed recipient, uint256 amount, uint8 validatorIndex);
    event Dispatch(uint64 indexed nonce, address indexed sender, address recipient, uint256 amount);

    constructor(uint32 localDomain_, uint32 remoteDomain_, address[] memory validators_) Ownable(msg.sender) {
        localDomain = localDomain_;
        remoteDomain = remoteDomain_;
        _setValidators(validators_);
    }

    function setToken(BridgedToken token_) external onlyOwner {
        require(address(token) == address(0), "token already set");
        token = token_;
        emit TokenSet(address(token_));
    }

    function setValidators(address[] calldata validators_) external onlyOwner {
        _setValidators(validators_);
    }

    // ---- outbound ----

    function send(uint256 amount, address recipient) external returns (uint64 nonce) {
        token.burn(msg.sender, amount);
        nonce = outboundNonce++;
        emit Dispatch(nonce, msg.sender, recipient, amount);
    }

    // ---- inbound ----

    function receiveMessage(bytes calldata message, uint8 validatorIndex, bytes calldata signature) external {
        bytes32 leaf = keccak256(message);
        require(!processed[leaf], "already processed");
        address signer = _recover(ECDSA.toEthSignedMessageHash(leaf), signature);
        require(signer == validators[validatorIndex], "not signed by validator");
        processed[leaf] = true;
        (uint32 origin, uint32 destination,, address recipient, uint256 amount) =
            abi.decode(message, (uint32, uint32, uint64, address, uint256));
        require(origin == remoteDomain && destination == localDomain, "wrong domain");
        token.mint(recipient, amount);
        emit Process(leaf, recipient, amount, validatorIndex);
    }

    function _setValidators(address[] memory validators_) private {
        require(validators_.length != 0 && validators_.length <= MAX_VALIDATORS, "bad validator set");
        for (uint256 i = 0; i < MAX_VALIDATORS; i++) {
            validators[i] = i < validators_.length ? validators_[i] : address(0);
        }
        validatorCount = validators_.length;
        emit ValidatorsSet(validators_);
    }

    function _recover(bytes32 digest, bytes calldata signature) private pure returns (address) {
        require(signature.length == 65, "bad signature length");
        (bytes32 r, bytes32 s) = abi.decode(signature[:64], (bytes32, bytes32));
        return ecrecover(digest, uint8(signature[64]), r, s);
    }
}

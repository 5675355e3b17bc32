// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {Ownable} from "../utils/Ownable.sol";
import {ReentrancyGuard} from "../utils/ReentrancyGuard.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";
import {ECDSA} from "../utils/ECDSA.sol";

/// @notice Batch auction settlement: users sign EIP-712 limit orders off-chain and approve this
/// contract; an allow-listed solver settles many orders in one transaction, matching them against
/// each other and the contract's buffer, optionally routing the remainder through on-chain
/// liquidity with interactions. Each order (owner, nonce) settles at most once.
contract BatchSettlement is Ownable, ReentrancyGuard {
    using SafeTransfer for IERC20;

    struct Order {
        address owner;
        IERC20 sellToken;
        IERC20 buyToken;
        uint256 sellAmount;
        uint256 minBuyAmount;
        uint256 nonce;
    }

    struct Interaction {
        address target;
        uint256 value;
        bytes data;
    }

    bytes32 public constant ORDER_TYPEHASH = keccak256(
        "Order(address owner,address sellToken,address buyToken,uint256 sellAmount,uint256 minBuyAmount,uint256 nonce)"
    );
    bytes32 public immutable DOMAIN_SEPARATOR;

    mapping(address => bool) public isSolver;
    mapping(address => mapping(uint256 => bool)) public nonceUsed;

    event SolverSet(address indexed solver, bool allowed);
    event Trade(address indexed owner, bytes32 indexed orderHash, address sellToken, address buyToken, uint256 sold, uint256 bought);
    event Settlement(address indexed solver, uint256 orders);
    event OrderCancelled(address indexed owner, uint256 nonce);

    constructor() Ownable(msg.sender) {
        DOMAIN_SEPARATOR = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("BatchSettlement"),
                keccak256("1"),
                block.chainid,
                address(this)
            )
        );
    }

    function setSolver(address solver, bool allowed) external onlyOwner {
        isSolver[solver] = allowed;
        emit SolverSet(solver, allowed);
    }

    function cancel(uint256 nonce) external {
        nonceUsed[msg.sender][nonce] = true;
        emit OrderCancelled(msg.sender, nonce);
    }

    function orderDigest(Order calldata o) public view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(ORDER_TYPEHASH, o.owner, o.sellToken, o.buyToken, o.sellAmount, o.minBuyAmount, o.nonce)
        );
        return ECDSA.toTypedDataHash(DOMAIN_SEPARATOR, structHash);
    }

    /// @param buyAmounts what each order receives, at least its limit
    function settle(
        Order[] calldata orders,
        bytes[] calldata signatures,
        uint256[] calldata buyAmounts,
        Interaction[] calldata interactions
    ) external nonReentrant {
        require(isSolver[msg.sender], "not a solver");
        require(orders.length == signatures.length && orders.length == buyAmounts.length, "length mismatch");

        bytes32[] memory hashes = new bytes32[](orders.length);
        for (uint256 i = 0; i < orders.length; i++) {
            Order calldata o = orders[i];
            hashes[i] = orderDigest(o);
            require(ECDSA.recover(hashes[i], signatures[i]) == o.owner, "bad signature");
            require(!nonceUsed[o.owner][o.nonce], "order used or cancelled");
            require(buyAmounts[i] >= o.minBuyAmount, "limit price violated");
            nonceUsed[o.owner][o.nonce] = true;
            o.sellToken.safeTransferFrom(o.owner, address(this), o.sellAmount);
        }

        for (uint256 i = 0; i < interactions.length; i++) {
            Interaction calldata it = interactions[i];
            (bool ok, bytes memory ret) = it.target.call{value: it.value}(it.data);
            if (!ok) {
                assembly ("memory-safe") {
                    revert(add(ret, 0x20), mload(ret))
                }
            }
        }

        for (uint256 i = 0; i < orders.length; i++) {
            Order calldata o = orders[i];
            o.buyToken.safeTransfer(o.owner, buyAmounts[i]);
            emit Trade(o.owner, hashes[i], address(o.sellToken), address(o.buyToken), o.sellAmount, buyAmounts[i]);
        }
        emit Settlement(msg.sender, orders.length);
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {AccessControl} from "../utils/AccessControl.sol";
import {ReentrancyGuard} from "../utils/ReentrancyGuard.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";
import {MerkleProof} from "../utils/MerkleProof.sol";

/// @notice Canonical-bridge endpoint in the rollup-outbox style. Outbound: `deposit` and
/// `depositETH` lock assets (less a protocol fee) for the remote chain. Inbound: the root
/// poster posts the Merkle root of each batch of withdrawals initiated on the remote chain;
/// once the batch's challenge period has passed, anyone may finalize a withdrawal with its
/// proof. It pays the recipient once; a relayer that finalizes it for the recipient keeps the
/// relayer fee the withdrawal offered.
///
/// Leaf = keccak256(abi.encode(remoteDomain, localDomain, Withdrawal)); inner nodes hash their
/// children in ascending order; ETH is `token == address(0)`.
contract RootBridge is AccessControl, ReentrancyGuard {
    using SafeTransfer for IERC20;

    bytes32 public constant ROOT_POSTER_ROLE = keccak256("ROOT_POSTER_ROLE");
    bytes32 public constant FEE_COLLECTOR_ROLE = keccak256("FEE_COLLECTOR_ROLE");
    uint256 public constant MAX_FEE_BPS = 50;

    struct Withdrawal {
        uint64 nonce;
        address sender;
        address recipient;
        address token;
        uint256 amount;
        uint256 relayerFee;
    }

    struct Batch {
        bytes32 root;
        uint64 postedAt;
        uint32 count;
    }

    uint32 public immutable localDomain;
    uint32 public immutable remoteDomain;
    uint256 public immutable challengePeriod;

    uint256 public depositFeeBps;
    uint64 public depositNonce;
    uint256 public nextBatch;
    mapping(uint256 => Batch) public batches;
    mapping(bytes32 => bool) public finalized;
    mapping(address => uint256) public feesAccrued;

    event DepositInitiated(
        uint64 indexed nonce, address indexed token, address indexed from, address recipient, uint256 amount, uint256 fee
    );
    event RootPosted(uint256 indexed batchId, bytes32 root, uint32 count);
    event WithdrawalFinalized(
        bytes32 indexed leaf, uint256 indexed batchId, address indexed recipient, address token, uint256 amount, address relayer, uint256 fee
    );
    event FeesCollected(address indexed token, address indexed to, uint256 amount);
    event DepositFeeSet(uint256 bps);

    constructor(uint32 localDomain_, uint32 remoteDomain_, uint256 challengePeriod_, uint256 depositFeeBps_, address admin) {
        require(depositFeeBps_ <= MAX_FEE_BPS, "fee too high");
        localDomain = localDomain_;
        remoteDomain = remoteDomain_;
        challengePeriod = challengePeriod_;
        depositFeeBps = depositFeeBps_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        emit DepositFeeSet(depositFeeBps_);
    }

    function setDepositFee(uint256 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        require(bps <= MAX_FEE_BPS, "fee too high");
        depositFeeBps = bps;
        emit DepositFeeSet(bps);
    }

    // ---- outbound ----

    function deposit(address token, uint256 amount, address recipient) external nonReentrant returns (uint64 nonce) {
        require(token != address(0) && amount > 0, "bad deposit");
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        nonce = _deposit(token, amount, recipient);
    }

    function depositETH(address recipient) external payable nonReentrant returns (uint64 nonce) {
        require(msg.value > 0, "bad deposit");
        nonce = _deposit(address(0), msg.value, recipient);
    }

    function _deposit(address token, uint256 amount, address recipient) private returns (uint64 nonce) {
        uint256 fee = amount * depositFeeBps / 10_000;
        feesAccrued[token] += fee;
        nonce = depositNonce++;
        emit DepositInitiated(nonce, token, msg.sender, recipient, amount - fee, fee);
    }

    // ---- inbound ----

    function postRoot(uint256 batchId, bytes32 root, uint32 count) external onlyRole(ROOT_POSTER_ROLE) {
        require(batchId == nextBatch, "unexpected batch");
        require(root != bytes32(0) && count > 0, "empty batch");
        batches[batchId] = Batch(root, uint64(block.timestamp), count);
        nextBatch = batchId + 1;
        emit RootPosted(batchId, root, count);
    }

    function withdrawalLeaf(Withdrawal calldata w) public view returns (bytes32) {
        return keccak256(abi.encode(remoteDomain, localDomain, w));
    }

    function finalizeWithdrawal(uint256 batchId, Withdrawal calldata w, bytes32[] calldata proof)
        external
        nonReentrant
    {
        Batch memory b = batches[batchId];
        require(b.root != bytes32(0), "unknown batch");
        require(block.timestamp >= b.postedAt + challengePeriod, "challenge period");
        bytes32 leaf = withdrawalLeaf(w);
        require(!finalized[leaf], "already finalized");
        require(MerkleProof.processProof(proof, leaf) == b.root, "invalid proof");
        require(w.relayerFee <= w.amount, "bad fee");
        finalized[leaf] = true;
        uint256 fee = msg.sender == w.recipient ? 0 : w.relayerFee;
        _pay(w.token, w.recipient, w.amount - fee);
        if (fee > 0) _pay(w.token, msg.sender, fee);
        emit WithdrawalFinalized(leaf, batchId, w.recipient, w.token, w.amount - fee, msg.sender, fee);
    }

    // ---- fees ----

    function collectFees(address token, address to) external onlyRole(FEE_COLLECTOR_ROLE) nonReentrant {
        uint256 amount = feesAccrued[token];
        require(amount > 0, "no fees");
        feesAccrued[token] = 0;
        _pay(token, to, amount);
        emit FeesCollected(token, to, amount);
    }

    function _pay(address token, address to, uint256 amount) private {
        if (token == address(0)) SafeTransfer.sendValue(to, amount);
        else IERC20(token).safeTransfer(to, amount);
    }
}

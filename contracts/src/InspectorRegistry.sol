// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {BLS} from "./BLS.sol";

/// @title Inspector registration: stake, BLS key with its proof of possession, libp2p peer id.
/// @notice DESIGN §3. The proof of possession is checked on-chain: the signature of the 48-byte
/// compressed public key under `BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`, by hashing to G2
/// and one pairing check (EIP-2537), which also checks that the key and the proof are on their
/// curves and in their subgroups. This stops rogue keys (a key built from other members' keys
/// has no proof its registrant could make).
///
/// Keys and proofs are given twice: compressed (what the protocol's committee lists carry) and
/// uncompressed (what the precompiles take); the contract checks that both forms are the same
/// point, which costs a few comparisons instead of a square root (docs/decisions/0005).
///
/// Slashing: `slasher` (the `Slasher` contract, fixed at deployment) may take an operator's
/// whole stake once it has checked equivocation evidence; a share goes to the reporter and the
/// rest stays locked here for good (`burned`).
///
/// Not yet here (issue 7): epochs and committee snapshots, top-up, unbonding and exit, the
/// ruleset per epoch.
contract InspectorRegistry {
    struct Operator {
        address owner;
        uint256 stake;
        bytes pubkey;
        bytes pubkeyPoint;
        bytes pop;
        string peerId;
    }

    /// Least stake to register, in wei.
    uint256 public immutable minStake;
    /// The only address that may slash (the `Slasher` contract).
    address public immutable slasher;
    /// Slashed stake not paid out as rewards: locked in this contract for good.
    uint256 public burned;
    Operator[] private operators;
    mapping(bytes32 keyHash => bool) public keyRegistered;
    mapping(address owner => bool) public ownerRegistered;

    /// `owner` registered as member `index` (registration order).
    event Registered(uint256 indexed index, address indexed owner, bytes pubkey, string peerId, uint256 stake);

    error StakeTooLow(uint256 stake, uint256 minStake);
    error AlreadyRegistered(address owner);
    error KeyAlreadyRegistered();
    error BadPublicKey();
    error BadProofEncoding();
    error InvalidProofOfPossession();
    error BadPeerId();
    error NotSlasher();
    error UnknownOperator(uint256 index);
    error NothingToSlash(uint256 index);
    error BadRewardShare(uint256 rewardBps);
    error RewardTransferFailed(address reporter);

    /// Operator `index` lost `amount` of stake, `reward` of it paid to `reporter`.
    event Slashed(uint256 indexed index, address indexed reporter, uint256 amount, uint256 reward);

    /// `slasher_` is the address of the `Slasher` contract; it is deployed after the registry
    /// (it takes the registry's address), so the deployer passes its precomputed address.
    constructor(uint256 minStake_, address slasher_) {
        minStake = minStake_;
        slasher = slasher_;
    }

    /// Registers the sender with `msg.value` as stake. `pubkey` is the 48-byte compressed key
    /// and `pubkeyPoint` the same point in the 128-byte EIP-2537 G1 encoding; `pop` is the
    /// 96-byte compressed proof of possession and `popPoint` its affine coordinates
    /// `x.c0 || x.c1 || y.c0 || y.c1` (192 bytes).
    function register(
        bytes calldata pubkey,
        bytes calldata pubkeyPoint,
        bytes calldata pop,
        bytes calldata popPoint,
        string calldata peerId
    ) external payable returns (uint256 index) {
        if (msg.value < minStake) revert StakeTooLow(msg.value, minStake);
        if (ownerRegistered[msg.sender]) revert AlreadyRegistered(msg.sender);
        uint256 peerLen = bytes(peerId).length;
        if (peerLen == 0 || peerLen > 128) revert BadPeerId();
        if (!BLS.g1MatchesCompressed(pubkey, pubkeyPoint)) revert BadPublicKey();
        if (!BLS.g2MatchesCompressed(pop, popPoint)) revert BadProofEncoding();
        bytes32 keyHash = keccak256(pubkey);
        if (keyRegistered[keyHash]) revert KeyAlreadyRegistered();
        if (!verifyPossession(pubkey, pubkeyPoint, popPoint)) revert InvalidProofOfPossession();

        keyRegistered[keyHash] = true;
        ownerRegistered[msg.sender] = true;
        index = operators.length;
        operators.push(Operator(msg.sender, msg.value, pubkey, pubkeyPoint, pop, peerId));
        emit Registered(index, msg.sender, pubkey, peerId, msg.value);
    }

    /// Whether `popPoint` is a valid proof of possession of the key `pubkey` (compressed) /
    /// `pubkeyPoint` (EIP-2537). Reverts with `BLS.PrecompileFailed` when a point is not on its
    /// curve or not in its subgroup.
    function verifyPossession(bytes calldata pubkey, bytes calldata pubkeyPoint, bytes calldata popPoint)
        public
        view
        returns (bool)
    {
        if (pubkeyPoint.length != 128) return false;
        bytes memory pk = pubkeyPoint;
        if (BLS.isIdentity(pk)) return false;
        bytes memory sig = BLS.g2FromRaw(popPoint);
        if (BLS.isIdentity(sig)) return false;
        bytes memory h = BLS.hashToG2(pubkey, BLS.DST_POP);
        return BLS.pairingCheck(pk, h, sig);
    }

    /// Takes operator `index`'s whole stake; pays `amount * rewardBps / 10000` to `reporter`.
    /// Only the slasher may call this, after checking the evidence.
    function slash(uint256 index, address reporter, uint256 rewardBps)
        external
        returns (uint256 amount, uint256 reward)
    {
        if (msg.sender != slasher) revert NotSlasher();
        if (index >= operators.length) revert UnknownOperator(index);
        if (rewardBps > 10_000) revert BadRewardShare(rewardBps);
        Operator storage op = operators[index];
        amount = op.stake;
        if (amount == 0) revert NothingToSlash(index);
        reward = amount * rewardBps / 10_000;
        op.stake = 0;
        burned += amount - reward;
        emit Slashed(index, reporter, amount, reward);
        if (reward > 0) {
            (bool ok,) = reporter.call{value: reward}("");
            if (!ok) revert RewardTransferFailed(reporter);
        }
    }

    /// The 128-byte EIP-2537 public key of operator `index`.
    function pubkeyPointOf(uint256 index) external view returns (bytes memory) {
        if (index >= operators.length) revert UnknownOperator(index);
        return operators[index].pubkeyPoint;
    }

    /// The stake of operator `index`.
    function stakeOf(uint256 index) external view returns (uint256) {
        if (index >= operators.length) revert UnknownOperator(index);
        return operators[index].stake;
    }

    /// How many operators have registered.
    function operatorCount() external view returns (uint256) {
        return operators.length;
    }

    /// Operator `index`.
    function operatorAt(uint256 index) external view returns (Operator memory) {
        return operators[index];
    }
}

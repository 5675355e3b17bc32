// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {BLS} from "./BLS.sol";
import {CertificateVerifier} from "./CertificateVerifier.sol";

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
/// Epochs (DESIGN §3): epoch `e` is blocks `[e * epochLength, (e + 1) * epochLength)`. Its
/// committee is the snapshot of the active operators at the epoch's first block, in registration
/// order (a member's committee index is its position there), with the ruleset version of the
/// epoch. The snapshot is taken by `snapshot()` (anyone) or lazily by the first `register`,
/// `topUp` or `exit` of the epoch, before that call changes anything, so it sees the state the
/// epoch started with; it is published to the `CertificateVerifier` (whose publisher is this
/// contract). An epoch in which nothing calls the registry has no snapshot. Active: not exiting,
/// stake at least `minStake` (a slashed operator has none).
///
/// Leaving: `exit` starts an unbonding period of `unbondingPeriod` blocks (longer than the
/// court's dispute window, checked at deployment); the operator leaves the next snapshot, its
/// stake stays slashable until `withdraw`, allowed from the period's end.
///
/// Slashing: `slasher` (the `Slasher` contract, fixed at deployment) may take an operator's
/// whole stake once it has checked equivocation evidence; a share goes to the reporter and the
/// rest stays locked here for good (`burned`). A slash does not trigger the snapshot: an epoch
/// whose snapshot is taken after a slash leaves the slashed operator out.
///
/// Governance (the deployer, then whoever it names) schedules ruleset versions for future epochs.
contract InspectorRegistry {
    struct Operator {
        address owner;
        /// 0 while active; after `exit`, the first block at which the stake can be withdrawn.
        uint64 unbondingEnd;
        uint256 stake;
        bytes pubkey;
        bytes pubkeyPoint;
        bytes pop;
        string peerId;
    }

    /// Deployment parameters.
    struct Config {
        /// Least stake to register (and to be in a committee), in wei.
        uint256 minStake;
        /// The `Slasher` (deployed after the registry: its precomputed address).
        address slasher;
        /// The `CertificateVerifier` committees are published to (deployed after the registry).
        CertificateVerifier verifier;
        /// The chain the committees screen.
        uint64 chainId;
        /// Certificate threshold `num / den` of the total stake (`1/2 <= num/den < 1`).
        uint64 num;
        uint64 den;
        /// Blocks per epoch.
        uint64 epochLength;
        /// Blocks between `exit` and `withdraw`; must exceed `disputeWindow`.
        uint64 unbondingPeriod;
        /// The quarantine court's dispute window, in blocks.
        uint64 disputeWindow;
        /// Ruleset version from epoch 0.
        string ruleset;
    }

    /// The committee of one epoch.
    struct Snapshot {
        bool taken;
        uint256 totalStake;
        string ruleset;
        /// Operator indexes in committee order.
        uint32[] members;
    }

    /// Least stake to register, in wei.
    uint256 public immutable minStake;
    /// The only address that may slash (the `Slasher` contract).
    address public immutable slasher;
    /// Where snapshots are published.
    CertificateVerifier public immutable verifier;
    uint64 public immutable chainId;
    uint64 public immutable thresholdNum;
    uint64 public immutable thresholdDen;
    uint64 public immutable epochLength;
    uint64 public immutable unbondingPeriod;
    uint64 public immutable disputeWindow;
    /// May schedule rulesets and name its successor.
    address public governance;
    /// Slashed stake not paid out as rewards: locked in this contract for good.
    uint256 public burned;
    Operator[] private operators;
    mapping(bytes32 keyHash => bool) public keyRegistered;
    mapping(address owner => bool) public ownerRegistered;
    mapping(address owner => uint256) private indexPlusOne;
    mapping(uint64 epoch => Snapshot) private snapshots;
    /// Ruleset schedule: version `rulesetVersions[i]` from epoch `rulesetFrom[i]` (ascending).
    uint64[] private rulesetFrom;
    string[] private rulesetVersions;

    /// `owner` registered as member `index` (registration order).
    event Registered(uint256 indexed index, address indexed owner, bytes pubkey, string peerId, uint256 stake);
    /// Operator `index` added `amount` to its stake (total `stake`).
    event ToppedUp(uint256 indexed index, uint256 amount, uint256 stake);
    /// Operator `index` is leaving; its stake is withdrawable from block `withdrawableAt`.
    event ExitRequested(uint256 indexed index, uint64 withdrawableAt);
    /// Operator `index` withdrew `amount`.
    event Withdrawn(uint256 indexed index, uint256 amount);
    /// The committee of `epoch` was recorded (and published to the verifier when not empty).
    event SnapshotTaken(uint64 indexed epoch, uint256 size, uint256 totalStake, string ruleset);
    /// `version` is the ruleset from epoch `fromEpoch` on.
    event RulesetScheduled(uint64 indexed fromEpoch, string version);
    event GovernanceChanged(address indexed previous, address indexed governance);

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
    error ZeroEpochLength();
    error UnbondingTooShort(uint64 unbondingPeriod, uint64 disputeWindow);
    error BadThreshold(uint64 num, uint64 den);
    error BadRuleset();
    error NotRegistered(address owner);
    error Exiting(uint256 index);
    error NotExiting(uint256 index);
    error ZeroTopUp();
    error StillUnbonding(uint64 withdrawableAt);
    error NothingToWithdraw(uint256 index);
    error WithdrawFailed(address owner);
    error NotGovernance();
    error ZeroAddress();
    error EpochNotInFuture(uint64 fromEpoch, uint64 currentEpoch);
    error NoSnapshot(uint64 epoch);
    error NotInCommittee(uint64 epoch, uint256 position);

    /// Operator `index` lost `amount` of stake, `reward` of it paid to `reporter`.
    event Slashed(uint256 indexed index, address indexed reporter, uint256 amount, uint256 reward);

    /// The slasher and the verifier are deployed after the registry (they take its address), so
    /// the deployer passes their precomputed addresses. The deployer becomes governance.
    constructor(Config memory c) {
        if (c.epochLength == 0) revert ZeroEpochLength();
        if (c.unbondingPeriod <= c.disputeWindow) revert UnbondingTooShort(c.unbondingPeriod, c.disputeWindow);
        if (c.den == 0 || 2 * uint256(c.num) < c.den || c.num >= c.den) revert BadThreshold(c.num, c.den);
        if (bytes(c.ruleset).length == 0) revert BadRuleset();
        minStake = c.minStake;
        slasher = c.slasher;
        verifier = c.verifier;
        chainId = c.chainId;
        thresholdNum = c.num;
        thresholdDen = c.den;
        epochLength = c.epochLength;
        unbondingPeriod = c.unbondingPeriod;
        disputeWindow = c.disputeWindow;
        governance = msg.sender;
        rulesetFrom.push(0);
        rulesetVersions.push(c.ruleset);
        emit RulesetScheduled(0, c.ruleset);
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
        _snapshot();
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
        indexPlusOne[msg.sender] = index + 1;
        operators.push(Operator(msg.sender, 0, msg.value, pubkey, pubkeyPoint, pop, peerId));
        emit Registered(index, msg.sender, pubkey, peerId, msg.value);
    }

    /// Adds `msg.value` to the sender's stake; it counts from the next snapshot.
    function topUp() external payable {
        _snapshot();
        uint256 index = operatorIndex(msg.sender);
        Operator storage op = operators[index];
        if (op.unbondingEnd != 0) revert Exiting(index);
        if (msg.value == 0) revert ZeroTopUp();
        op.stake += msg.value;
        emit ToppedUp(index, msg.value, op.stake);
    }

    /// Starts the sender's unbonding: it leaves the next snapshot (the current epoch's committee
    /// keeps it), its stake stays slashable and is withdrawable after `unbondingPeriod` blocks.
    function exit() external returns (uint64 withdrawableAt) {
        _snapshot();
        uint256 index = operatorIndex(msg.sender);
        Operator storage op = operators[index];
        if (op.unbondingEnd != 0) revert Exiting(index);
        withdrawableAt = uint64(block.number) + unbondingPeriod;
        op.unbondingEnd = withdrawableAt;
        emit ExitRequested(index, withdrawableAt);
    }

    /// Pays the sender's remaining stake once its unbonding period is over.
    function withdraw() external returns (uint256 amount) {
        uint256 index = operatorIndex(msg.sender);
        Operator storage op = operators[index];
        if (op.unbondingEnd == 0) revert NotExiting(index);
        if (block.number < op.unbondingEnd) revert StillUnbonding(op.unbondingEnd);
        amount = op.stake;
        if (amount == 0) revert NothingToWithdraw(index);
        op.stake = 0;
        emit Withdrawn(index, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert WithdrawFailed(msg.sender);
    }

    /// Records (and publishes) the current epoch's committee if that is not done yet; anyone may
    /// call it. Returns the epoch and whether this call took the snapshot.
    function snapshot() external returns (uint64 epoch, bool taken) {
        epoch = currentEpoch();
        taken = _snapshot();
    }

    /// Schedules `version` as the ruleset from epoch `fromEpoch` (a future epoch) on, replacing
    /// whatever was scheduled from `fromEpoch` on.
    function setRuleset(uint64 fromEpoch, string calldata version) external {
        if (msg.sender != governance) revert NotGovernance();
        uint64 current = currentEpoch();
        if (fromEpoch <= current) revert EpochNotInFuture(fromEpoch, current);
        if (bytes(version).length == 0) revert BadRuleset();
        while (rulesetFrom[rulesetFrom.length - 1] >= fromEpoch) {
            rulesetFrom.pop();
            rulesetVersions.pop();
        }
        rulesetFrom.push(fromEpoch);
        rulesetVersions.push(version);
        emit RulesetScheduled(fromEpoch, version);
    }

    /// Hands governance to `governance_`.
    function setGovernance(address governance_) external {
        if (msg.sender != governance) revert NotGovernance();
        if (governance_ == address(0)) revert ZeroAddress();
        emit GovernanceChanged(governance, governance_);
        governance = governance_;
    }

    /// The epoch of the current block.
    function currentEpoch() public view returns (uint64) {
        return uint64(block.number / epochLength);
    }

    /// The ruleset version of `epoch` (as scheduled now; fixed once the epoch has begun).
    function rulesetOf(uint64 epoch) public view returns (string memory) {
        uint256 i = rulesetFrom.length - 1;
        while (rulesetFrom[i] > epoch) --i;
        return rulesetVersions[i];
    }

    /// Whether `epoch` has a snapshot, and its committee's size.
    function committeeSize(uint64 epoch) external view returns (bool taken, uint256 size) {
        Snapshot storage s = snapshots[epoch];
        return (s.taken, s.members.length);
    }

    /// The operator index of the member at committee index `position` of `epoch`.
    function committeeMember(uint64 epoch, uint256 position) external view returns (uint256) {
        Snapshot storage s = snapshots[epoch];
        if (!s.taken) revert NoSnapshot(epoch);
        if (position >= s.members.length) revert NotInCommittee(epoch, position);
        return s.members[position];
    }

    /// The snapshot of `epoch`: its ruleset, total stake and members (operator indexes in
    /// committee order).
    function committeeOf(uint64 epoch)
        external
        view
        returns (string memory ruleset, uint256 totalStake, uint32[] memory members)
    {
        Snapshot storage s = snapshots[epoch];
        if (!s.taken) revert NoSnapshot(epoch);
        return (s.ruleset, s.totalStake, s.members);
    }

    /// The operator index of `owner`.
    function operatorIndex(address owner) public view returns (uint256) {
        uint256 i = indexPlusOne[owner];
        if (i == 0) revert NotRegistered(owner);
        return i - 1;
    }

    /// Takes the current epoch's snapshot unless it exists; whether it took it.
    function _snapshot() private returns (bool) {
        uint64 epoch = currentEpoch();
        Snapshot storage s = snapshots[epoch];
        if (s.taken) return false;
        s.taken = true;
        string memory ruleset = rulesetOf(epoch);
        s.ruleset = ruleset;
        uint256 n = operators.length;
        uint32[] memory members = new uint32[](n);
        uint256 size;
        for (uint256 i = 0; i < n; ++i) {
            Operator storage op = operators[i];
            uint256 stake = op.stake;
            if (op.unbondingEnd == 0 && stake != 0 && stake >= minStake) members[size++] = uint32(i);
        }
        assembly ("memory-safe") {
            mstore(members, size)
        }
        bytes memory keys = new bytes(size * 128);
        uint256[] memory stakes = new uint256[](size);
        uint256 total;
        for (uint256 j = 0; j < size; ++j) {
            Operator storage op = operators[members[j]];
            bytes memory key = op.pubkeyPoint;
            assembly ("memory-safe") {
                mcopy(add(add(keys, 32), mul(j, 128)), add(key, 32), 128)
            }
            stakes[j] = op.stake;
            total += op.stake;
        }
        s.members = members;
        s.totalStake = total;
        emit SnapshotTaken(epoch, size, total, ruleset);
        if (size != 0) verifier.publishCommittee(epoch, chainId, thresholdNum, thresholdDen, keys, stakes);
        return true;
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

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {BLS} from "./BLS.sol";
import {InspectorRegistry} from "./InspectorRegistry.sol";

/// @title Equivocation slashing (DESIGN §4, §7).
/// @notice Takes two votes of one signer on the same `(chain_id, epoch, tx_hash)`, one clean
/// (kind 0) and one malicious (kind 1), checks both BLS signatures on-chain against the
/// signer's registered key (hash to G2 under `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`
/// and one pairing check each, EIP-2537), then has the `InspectorRegistry` take the signer's
/// whole stake and pay `rewardBps` of it to the caller (the reporter).
///
/// A conflict `(chain_id, epoch, tx_hash, signer)` can be used once, whichever signature
/// bytes carry it.
///
/// The signer: a vote names it by its index in the epoch's committee, which the registry's
/// snapshot of that epoch maps to the operator (vote epoch -> snapshot -> operator index). An
/// operator that has exited but not yet withdrawn (unbonding) is still slashed.
contract Slasher {
    /// A vote as carried by equivocation evidence (DESIGN §4). `signature` is the affine point
    /// `x.c0 || x.c1 || y.c0 || y.c1` (192 bytes), the uncompressed form of the vote's 96
    /// compressed bytes (docs/decisions/0005-onchain-bls.md).
    struct SignedVote {
        uint64 chainId;
        uint64 epoch;
        bytes32 txHash;
        uint8 kind;
        uint32 signer;
        bytes signature;
    }

    InspectorRegistry public immutable registry;
    /// The chain whose votes this slasher judges (the rollup the committee screens).
    uint64 public immutable chainId;
    /// Share of the slashed stake paid to the reporter, in basis points.
    uint256 public immutable rewardBps;

    /// Conflicts already slashed, by `evidenceId`.
    mapping(bytes32 id => bool) public used;

    /// `signer` (committee index in `epoch`; the registry's `Slashed` names the operator) was
    /// slashed `amount`, `reward` of which went to `reporter`.
    event Equivocation(
        uint32 indexed signer,
        address indexed reporter,
        bytes32 indexed evidenceId,
        uint64 epoch,
        bytes32 txHash,
        uint256 amount,
        uint256 reward
    );

    error BadRewardShare(uint256 rewardBps);
    error BadKind(uint8 kind);
    error SameKind(uint8 kind);
    error DifferentSigners(uint32 a, uint32 b);
    error DifferentChains(uint64 a, uint64 b);
    error DifferentEpochs(uint64 a, uint64 b);
    error DifferentTransactions(bytes32 a, bytes32 b);
    error WrongChain(uint64 expected, uint64 got);
    error EvidenceUsed(bytes32 evidenceId);
    error UnknownSigner(uint32 signer);
    error UnknownEpoch(uint64 epoch);
    error BadSignatureLength(uint8 kind, uint256 length);
    error BadSignature(uint8 kind);

    constructor(InspectorRegistry registry_, uint64 chainId_, uint256 rewardBps_) {
        if (rewardBps_ > 10_000) revert BadRewardShare(rewardBps_);
        registry = registry_;
        chainId = chainId_;
        rewardBps = rewardBps_;
    }

    /// The identifier of a conflict: `keccak256(chain_id || epoch || tx_hash || signer)`.
    function evidenceId(uint64 chainId_, uint64 epoch, bytes32 txHash, uint32 signer) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(chainId_, epoch, txHash, signer));
    }

    /// Checks the two votes (in either order) and slashes their signer; the caller gets the
    /// reward. Reverts with the reason when the evidence does not hold.
    function slash(SignedVote calldata a, SignedVote calldata b) external returns (uint256 amount, uint256 reward) {
        if (a.kind > 1) revert BadKind(a.kind);
        if (b.kind > 1) revert BadKind(b.kind);
        if (a.kind == b.kind) revert SameKind(a.kind);
        if (a.signer != b.signer) revert DifferentSigners(a.signer, b.signer);
        if (a.chainId != b.chainId) revert DifferentChains(a.chainId, b.chainId);
        if (a.epoch != b.epoch) revert DifferentEpochs(a.epoch, b.epoch);
        if (a.txHash != b.txHash) revert DifferentTransactions(a.txHash, b.txHash);
        if (a.chainId != chainId) revert WrongChain(chainId, a.chainId);
        bytes32 id = evidenceId(a.chainId, a.epoch, a.txHash, a.signer);
        if (used[id]) revert EvidenceUsed(id);
        (bool taken, uint256 size) = registry.committeeSize(a.epoch);
        if (!taken) revert UnknownEpoch(a.epoch);
        if (a.signer >= size) revert UnknownSigner(a.signer);
        uint256 operator = registry.committeeMember(a.epoch, a.signer);

        bytes memory pk = registry.pubkeyPointOf(operator);
        _checkVote(pk, a);
        _checkVote(pk, b);

        used[id] = true;
        (amount, reward) = registry.slash(operator, msg.sender, rewardBps);
        emit Equivocation(a.signer, msg.sender, id, a.epoch, a.txHash, amount, reward);
    }

    /// Whether `v`'s signature is valid for the registered key `pk`; reverts otherwise.
    function _checkVote(bytes memory pk, SignedVote calldata v) private view {
        if (v.signature.length != 192) revert BadSignatureLength(v.kind, v.signature.length);
        bytes memory sig = BLS.g2FromRaw(v.signature);
        if (BLS.isIdentity(sig)) revert BadSignature(v.kind);
        bytes32 digest = sha256(abi.encodePacked("vigil/vote/v1", v.chainId, v.epoch, v.txHash, v.kind));
        bytes memory h = BLS.hashToG2(abi.encodePacked(digest), BLS.DST_SIGN);
        if (!BLS.pairingCheck(pk, h, sig)) revert BadSignature(v.kind);
    }
}

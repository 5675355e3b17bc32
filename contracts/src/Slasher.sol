// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {BLS} from "./BLS.sol";
import {InspectorRegistry} from "./InspectorRegistry.sol";
import {MerkleRFC6962} from "./MerkleRFC6962.sol";

/// @title Equivocation slashing (DESIGN §4, §4b, §7).
/// @notice Takes two votes of one signer on the same `(chain_id, epoch, tx_hash)`, one clean
/// (kind 0) and one malicious (kind 1), checks both BLS signatures on-chain against the
/// signer's registered key (hash to G2 under `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`
/// and one pairing check each, EIP-2537), then has the `InspectorRegistry` take the signer's
/// whole stake and pay `rewardBps` of it to the caller (the reporter).
///
/// With batches (DESIGN §4b) either side may instead be a batch leaf: the signer's batch vote
/// (count, root, signature over the batch digest) and the audit path of the transaction's leaf
/// (`slashStatements`).
///
/// A conflict `(chain_id, epoch, tx_hash, signer)` can be used once, whichever signature
/// bytes, votes or batches carry it.
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

    /// What a signer said about one transaction (DESIGN §4b): a vote when `count` is 0 (then
    /// `root`, `index` and `path` are unused and must be zero or empty), otherwise the leaf
    /// `index` of the batch of `count` transactions with root `root`, which `path` leads to.
    /// `signature` is over the vote digest or the batch digest, uncompressed as in `SignedVote`.
    struct Statement {
        uint64 chainId;
        uint64 epoch;
        bytes32 txHash;
        uint8 kind;
        uint32 signer;
        uint32 count;
        bytes32 root;
        uint32 index;
        bytes32[] path;
        bytes signature;
    }

    /// Most transactions in one batch (DESIGN §4b).
    uint32 public constant MAX_BATCH = 4096;

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
    error BadBatch(uint8 kind);
    error BadInclusionPath(uint8 kind);

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
        (bytes32 id, uint256 operator) = _conflict(
            Claim(a.chainId, a.epoch, a.txHash, a.kind, a.signer), Claim(b.chainId, b.epoch, b.txHash, b.kind, b.signer)
        );
        bytes memory pk = registry.pubkeyPointOf(operator);
        _checkVote(pk, a);
        _checkVote(pk, b);
        (amount, reward) = _take(id, operator, a.signer, a.epoch, a.txHash);
    }

    /// `slash` for statements (DESIGN §4b): each a vote or a batch leaf with its path.
    function slashStatements(Statement calldata a, Statement calldata b)
        external
        returns (uint256 amount, uint256 reward)
    {
        (bytes32 id, uint256 operator) = _conflict(
            Claim(a.chainId, a.epoch, a.txHash, a.kind, a.signer), Claim(b.chainId, b.epoch, b.txHash, b.kind, b.signer)
        );
        bytes memory pk = registry.pubkeyPointOf(operator);
        _checkStatement(pk, a);
        _checkStatement(pk, b);
        (amount, reward) = _take(id, operator, a.signer, a.epoch, a.txHash);
    }

    /// The fields two conflicting statements are compared on.
    struct Claim {
        uint64 chainId;
        uint64 epoch;
        bytes32 txHash;
        uint8 kind;
        uint32 signer;
    }

    /// Checks that `a` and `b` conflict, on this chain, unused, about a member of a known
    /// committee; returns the conflict's id and the signer's operator.
    function _conflict(Claim memory a, Claim memory b) private view returns (bytes32 id, uint256 operator) {
        if (a.kind > 1) revert BadKind(a.kind);
        if (b.kind > 1) revert BadKind(b.kind);
        if (a.kind == b.kind) revert SameKind(a.kind);
        if (a.signer != b.signer) revert DifferentSigners(a.signer, b.signer);
        if (a.chainId != b.chainId) revert DifferentChains(a.chainId, b.chainId);
        if (a.epoch != b.epoch) revert DifferentEpochs(a.epoch, b.epoch);
        if (a.txHash != b.txHash) revert DifferentTransactions(a.txHash, b.txHash);
        if (a.chainId != chainId) revert WrongChain(chainId, a.chainId);
        id = evidenceId(a.chainId, a.epoch, a.txHash, a.signer);
        if (used[id]) revert EvidenceUsed(id);
        (bool taken, uint256 size) = registry.committeeSize(a.epoch);
        if (!taken) revert UnknownEpoch(a.epoch);
        if (a.signer >= size) revert UnknownSigner(a.signer);
        operator = registry.committeeMember(a.epoch, a.signer);
    }

    /// Marks the conflict used and has the registry slash the operator.
    function _take(bytes32 id, uint256 operator, uint32 signer, uint64 epoch, bytes32 txHash)
        private
        returns (uint256 amount, uint256 reward)
    {
        used[id] = true;
        (amount, reward) = registry.slash(operator, msg.sender, rewardBps);
        emit Equivocation(signer, msg.sender, id, epoch, txHash, amount, reward);
    }

    /// Whether `s` holds for the registered key `pk`: a vote's signature, or a batch leaf's path
    /// to its root and the batch vote's signature; reverts otherwise.
    function _checkStatement(bytes memory pk, Statement calldata s) private view {
        bytes32 digest;
        if (s.count == 0) {
            if (s.root != bytes32(0) || s.index != 0 || s.path.length != 0) revert BadBatch(s.kind);
            digest = sha256(abi.encodePacked("vigil/vote/v1", s.chainId, s.epoch, s.txHash, s.kind));
        } else {
            if (s.count > MAX_BATCH || s.index >= s.count) revert BadBatch(s.kind);
            if (!MerkleRFC6962.leadsTo(MerkleRFC6962.leafHash(s.txHash, s.kind), s.index, s.count, s.path, s.root)) {
                revert BadInclusionPath(s.kind);
            }
            digest = sha256(abi.encodePacked("vigil/batch/v1", s.chainId, s.epoch, s.count, s.root));
        }
        _checkSignature(pk, s.kind, digest, s.signature);
    }

    /// Whether `v`'s signature is valid for the registered key `pk`; reverts otherwise.
    function _checkVote(bytes memory pk, SignedVote calldata v) private view {
        bytes32 digest = sha256(abi.encodePacked("vigil/vote/v1", v.chainId, v.epoch, v.txHash, v.kind));
        _checkSignature(pk, v.kind, digest, v.signature);
    }

    /// Whether `signature` by `pk` over `digest` verifies; reverts naming `kind` otherwise.
    function _checkSignature(bytes memory pk, uint8 kind, bytes32 digest, bytes calldata signature) private view {
        if (signature.length != 192) revert BadSignatureLength(kind, signature.length);
        bytes memory sig = BLS.g2FromRaw(signature);
        if (BLS.isIdentity(sig)) revert BadSignature(kind);
        bytes memory h = BLS.hashToG2(abi.encodePacked(digest), BLS.DST_SIGN);
        if (!BLS.pairingCheck(pk, h, sig)) revert BadSignature(kind);
    }
}

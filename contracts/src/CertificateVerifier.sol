// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {BLS} from "./BLS.sol";
import {MerkleRFC6962} from "./MerkleRFC6962.sol";

/// @title Certificate verification against an epoch's committee (DESIGN §4, docs/protocol.md).
/// @notice Holds, per epoch, the committee a certificate is checked against, published by one
/// address (`publisher`, fixed at deployment: the InspectorRegistry, whose epoch snapshot publishes
/// each epoch's committee).
/// The publisher vouches for the keys: they are not checked here beyond being on the curve
/// (G1ADD's check); the registry checks each key's proof of possession, which also checks the
/// subgroup.
///
/// Storage of a committee (docs/decisions/0005-onchain-bls.md): the member records, each a
/// 128-byte EIP-2537 G1 public key and a 32-byte stake, live in the code of data contracts
/// ("SSTORE2"), read with EXTCODECOPY at a fraction of the cost of SLOAD; each chunk holds
/// `PER_CHUNK` members after a 128-byte header, which in chunk 0 is the sum of all keys.
///
/// Verification: bitmap -> the keys of whichever of signers and non-signers are fewer, summed
/// with G1ADD (signers' key = all members' key - non-signers' key) -> stake threshold -> vote
/// digest -> hash to G2 -> one pairing check.
contract CertificateVerifier {
    /// Members per data contract: (24576 - 1 - 128) / 160, rounded down.
    uint256 public constant PER_CHUNK = 152;
    /// At most this many members (docs/protocol.md).
    uint256 public constant MAX_MEMBERS = 4096;
    /// Stakes are bounded so that `stake * den` (den < 2^64) never overflows 256 bits.
    uint256 public constant MAX_TOTAL_STAKE = 1 << 192;
    /// Most transactions in one batch (DESIGN §4b).
    uint32 public constant MAX_BATCH = 4096;

    uint256 private constant RECORD = 160;
    uint256 private constant HEADER = 128;

    struct Committee {
        uint64 chainId;
        uint32 size;
        uint64 num;
        uint64 den;
        uint256 totalStake;
        address[] chunks;
    }

    /// Who may publish committees.
    address public immutable publisher;
    mapping(uint64 epoch => Committee) private committees;

    /// A committee was published for `epoch`.
    event CommitteePublished(uint64 indexed epoch, uint64 chainId, uint32 size, uint256 totalStake);

    error NotPublisher();
    error CommitteeExists(uint64 epoch);
    error BadCommittee(string reason);
    error UnknownEpoch(uint64 epoch);
    error WrongChain(uint64 expected, uint64 got);
    error BadKind(uint8 kind);
    error BitmapLength(uint256 expected, uint256 got);
    error StrayBitmapBit();
    error NoSigners();
    error BelowThreshold(uint256 signed, uint256 total);
    error IdentitySignature();
    error IdentityAggregateKey();
    error BadSignature();
    error BadBatchCount(uint32 count);
    error IndexOutOfRange(uint32 index, uint32 count);
    error BadInclusionPath();

    /// A batch certificate (DESIGN §4b), its signature uncompressed as in `verify`.
    struct BatchCertificate {
        uint64 chainId;
        uint64 epoch;
        uint32 count;
        bytes32 root;
        bytes signers;
        bytes signature;
    }

    /// `publisher_` is the only address that may publish committees (the `InspectorRegistry`;
    /// it is deployed before the verifier and takes its address, so the deployer passes the
    /// registry's address here).
    constructor(address publisher_) {
        publisher = publisher_;
    }

    /// Publishes the committee of `epoch`: `keys` is the members' 128-byte EIP-2537 G1 public
    /// keys in index order, `stakes` their stakes; a certificate needs signed stake with
    /// `signed * den > total * num`, where `1/2 <= num/den < 1`.
    function publishCommittee(
        uint64 epoch,
        uint64 chainId,
        uint64 num,
        uint64 den,
        bytes calldata keys,
        uint256[] calldata stakes
    ) external {
        if (msg.sender != publisher) revert NotPublisher();
        if (committees[epoch].size != 0) revert CommitteeExists(epoch);
        uint256 n = stakes.length;
        if (n == 0 || n > MAX_MEMBERS) revert BadCommittee("size");
        if (keys.length != n * 128) revert BadCommittee("keys length");
        if (den == 0 || 2 * uint256(num) < den || num >= den) revert BadCommittee("threshold");

        uint256 total;
        bytes memory aggregate = new bytes(128);
        for (uint256 i = 0; i < n; ++i) {
            if (stakes[i] == 0) revert BadCommittee("zero stake");
            total += stakes[i];
            if (total >= MAX_TOTAL_STAKE) revert BadCommittee("total stake");
            _g1AddCalldata(aggregate, keys[i * 128:(i + 1) * 128]);
        }

        Committee storage c = committees[epoch];
        c.chainId = chainId;
        c.size = uint32(n);
        c.num = num;
        c.den = den;
        c.totalStake = total;
        for (uint256 start = 0; start < n; start += PER_CHUNK) {
            uint256 end = start + PER_CHUNK < n ? start + PER_CHUNK : n;
            bytes memory data = new bytes(HEADER + (end - start) * RECORD);
            if (start == 0) _copy(data, 0, aggregate);
            for (uint256 i = start; i < end; ++i) {
                uint256 at = HEADER + (i - start) * RECORD;
                bytes calldata key = keys[i * 128:(i + 1) * 128];
                uint256 stake = stakes[i];
                assembly ("memory-safe") {
                    calldatacopy(add(add(data, 32), at), key.offset, 128)
                    mstore(add(add(data, 32), add(at, 128)), stake)
                }
            }
            c.chunks.push(_store(data));
        }
        emit CommitteePublished(epoch, chainId, uint32(n), total);
    }

    /// The committee of `epoch`: chain id, size, threshold and total stake.
    function committeeOf(uint64 epoch)
        external
        view
        returns (uint64 chainId, uint32 size, uint64 num, uint64 den, uint256 totalStake)
    {
        Committee storage c = committees[epoch];
        return (c.chainId, c.size, c.num, c.den, c.totalStake);
    }

    /// Verifies a certificate; reverts with the reason when it is not valid. `signature` is the
    /// aggregate signature's affine point `x.c0 || x.c1 || y.c0 || y.c1` (192 bytes), the
    /// uncompressed form of the certificate's 96 compressed bytes.
    function verify(
        uint64 chainId,
        uint64 epoch,
        bytes32 txHash,
        uint8 kind,
        bytes calldata signers,
        bytes calldata signature
    ) public view {
        if (kind > 1) revert BadKind(kind);
        bytes32 digest = sha256(abi.encodePacked("vigil/vote/v1", chainId, epoch, txHash, kind));
        _verifySigned(chainId, epoch, digest, signers, signature);
    }

    /// Verifies a batch certificate exactly as a certificate, over the batch digest
    /// `sha256("vigil/batch/v1" || chain_id || epoch || count:u32 || root)`; reverts with the reason.
    function verifyBatch(BatchCertificate calldata cert) public view {
        if (cert.count == 0 || cert.count > MAX_BATCH) revert BadBatchCount(cert.count);
        bytes32 digest = sha256(abi.encodePacked("vigil/batch/v1", cert.chainId, cert.epoch, cert.count, cert.root));
        _verifySigned(cert.chainId, cert.epoch, digest, cert.signers, cert.signature);
    }

    /// Verifies an inclusion proof (DESIGN §4b): the RFC 6962 audit path `path` (siblings from the
    /// leaf upwards) leads from the leaf `txHash || kind` at `index` to the batch root, then the
    /// batch certificate; reverts with the reason.
    function verifyInclusion(
        BatchCertificate calldata cert,
        uint32 index,
        bytes32 txHash,
        uint8 kind,
        bytes32[] calldata path
    ) external view {
        if (kind > 1) revert BadKind(kind);
        if (cert.count == 0 || cert.count > MAX_BATCH) revert BadBatchCount(cert.count);
        if (index >= cert.count) revert IndexOutOfRange(index, cert.count);
        if (!MerkleRFC6962.leadsTo(MerkleRFC6962.leafHash(txHash, kind), index, cert.count, path, cert.root)) {
            revert BadInclusionPath();
        }
        verifyBatch(cert);
    }

    /// What a certificate and a batch certificate share: the epoch's committee, the chain, the
    /// bitmap and stake, one pairing check of `signature` over `digest`.
    function _verifySigned(
        uint64 chainId,
        uint64 epoch,
        bytes32 digest,
        bytes calldata signers,
        bytes calldata signature
    ) private view {
        Committee storage c = committees[epoch];
        if (c.size == 0) revert UnknownEpoch(epoch);
        if (chainId != c.chainId) revert WrongChain(c.chainId, chainId);
        bytes memory key = _signersKey(c, signers);
        bytes memory sig = BLS.g2FromRaw(signature);
        if (BLS.isIdentity(sig)) revert IdentitySignature();
        bytes memory h = BLS.hashToG2(abi.encodePacked(digest), BLS.DST_SIGN);
        if (!BLS.pairingCheck(key, h, sig)) revert BadSignature();
    }

    /// Checks the bitmap and the signers' stake against the threshold; returns the sum of the
    /// signers' keys.
    function _signersKey(Committee storage c, bytes calldata signers) private view returns (bytes memory key) {
        uint256 n = c.size;
        uint256 count = _checkBitmap(signers, n);
        // Sum the keys and stakes of the smaller side.
        bool signersSide = count * 2 <= n;
        uint256 stake;
        (key, stake) = _sumSide(c.chunks, signers, n, signersSide);
        uint256 total = c.totalStake;
        uint256 signed = stake;
        if (!signersSide) {
            signed = total - stake;
            _negate(key);
            _g1AddMemory(key, _aggregate(c.chunks[0]));
        }
        if (signed * c.den <= total * c.num) revert BelowThreshold(signed, total);
        if (BLS.isIdentity(key)) revert IdentityAggregateKey();
    }

    /// Whether a certificate is valid (`verify` without the reason).
    function isValid(
        uint64 chainId,
        uint64 epoch,
        bytes32 txHash,
        uint8 kind,
        bytes calldata signers,
        bytes calldata signature
    ) external view returns (bool) {
        try this.verify(chainId, epoch, txHash, kind, signers, signature) {
            return true;
        } catch {
            return false;
        }
    }

    /// The vote digest `sha256("vigil/vote/v1" || chain_id || epoch || tx_hash || kind)`.
    function voteDigest(uint64 chainId, uint64 epoch, bytes32 txHash, uint8 kind) external pure returns (bytes32) {
        return sha256(abi.encodePacked("vigil/vote/v1", chainId, epoch, txHash, kind));
    }

    /// `H(message)` in G2 under `dst`, as a 256-byte EIP-2537 point (exposed for tests and
    /// off-chain cross-checks).
    function hashToG2(bytes calldata message, bytes calldata dst) external view returns (bytes memory) {
        return BLS.hashToG2(message, dst);
    }

    /// Checks the bitmap's length and unused bits; returns the number of signers.
    function _checkBitmap(bytes calldata signers, uint256 n) private pure returns (uint256 count) {
        uint256 len = (n + 7) / 8;
        if (signers.length != len) revert BitmapLength(len, signers.length);
        if (n % 8 != 0 && (uint8(signers[len - 1]) >> (n % 8)) != 0) revert StrayBitmapBit();
        assembly ("memory-safe") {
            // Population count, a 32-byte word at a time (SWAR).
            let m1 := 0x5555555555555555555555555555555555555555555555555555555555555555
            let m2 := 0x3333333333333333333333333333333333333333333333333333333333333333
            let m4 := 0x0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f
            let m8 := 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff
            for { let off := 0 } lt(off, len) { off := add(off, 32) } {
                let w := calldataload(add(signers.offset, off))
                let rest := sub(len, off)
                if lt(rest, 32) { w := and(w, not(shr(mul(8, rest), not(0)))) }
                w := sub(w, and(shr(1, w), m1))
                w := add(and(w, m2), and(shr(2, w), m2))
                w := and(add(w, shr(4, w)), m4)
                w := add(and(w, m8), and(shr(8, w), m8))
                w := add(w, shr(16, w))
                w := add(w, shr(32, w))
                w := add(w, shr(64, w))
                w := add(w, shr(128, w))
                count := add(count, and(w, 0xffff))
            }
        }
        if (count == 0) revert NoSigners();
    }

    /// The sum of the keys, and of the stakes, of the members whose bit is `want`.
    function _sumSide(address[] storage chunks, bytes calldata signers, uint256 n, bool want)
        private
        view
        returns (bytes memory key, uint256 stake)
    {
        // acc (128) | next key (128) | next stake (32): G1ADD adds the first two in place.
        key = new bytes(288);
        address chunk;
        uint256 loaded = type(uint256).max;
        bool ok = true;
        unchecked {
            for (uint256 bi = 0; bi < signers.length; ++bi) {
                uint256 mask;
                assembly ("memory-safe") {
                    mask := xor(byte(0, calldataload(add(signers.offset, bi))), mul(iszero(want), 0xff))
                }
                if (bi == signers.length - 1 && n % 8 != 0) mask &= (1 << (n % 8)) - 1;
                for (uint256 i = bi * 8; mask != 0; ++i) {
                    if (mask & 1 == 1) {
                        if (i / PER_CHUNK != loaded) {
                            loaded = i / PER_CHUNK;
                            chunk = chunks[loaded];
                        }
                        assembly ("memory-safe") {
                            let acc := add(key, 32)
                            // STOP byte, header, then 160-byte records.
                            extcodecopy(chunk, add(acc, 128), add(129, mul(mod(i, PER_CHUNK), 160)), 160)
                            stake := add(stake, mload(add(acc, 256)))
                            ok := and(ok, staticcall(gas(), 0x0b, acc, 256, acc, 128))
                        }
                    }
                    mask >>= 1;
                }
            }
        }
        if (!ok) revert BLS.PrecompileFailed(0x0b);
        assembly ("memory-safe") {
            mstore(key, 128)
        }
    }

    /// The sum of all members' keys, from the header of chunk 0.
    function _aggregate(address chunk0) private view returns (bytes memory key) {
        key = new bytes(128);
        assembly ("memory-safe") {
            extcodecopy(chunk0, add(key, 32), 1, 128)
        }
    }

    /// `acc += p` for G1 points in memory (the first 128 bytes of `p`).
    function _g1AddMemory(bytes memory acc, bytes memory p) private view {
        bool ok;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mcopy(m, add(acc, 32), 128)
            mcopy(add(m, 128), add(p, 32), 128)
            ok := staticcall(gas(), 0x0b, m, 256, add(acc, 32), 128)
        }
        if (!ok) revert BLS.PrecompileFailed(0x0b);
    }

    /// `acc += p` for a G1 point in calldata.
    function _g1AddCalldata(bytes memory acc, bytes calldata p) private view {
        bool ok;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mcopy(m, add(acc, 32), 128)
            calldatacopy(add(m, 128), p.offset, 128)
            ok := staticcall(gas(), 0x0b, m, 256, add(acc, 32), 128)
        }
        if (!ok) revert BadCommittee("key not on G1");
    }

    /// `p = -p` for a G1 point in memory: `y = p - y` unless `p` is the identity.
    function _negate(bytes memory p) private pure {
        if (BLS.isIdentity(p)) return;
        uint256 yHi;
        uint256 yLo;
        assembly ("memory-safe") {
            yHi := mload(add(p, 96))
            yLo := mload(add(p, 128))
        }
        uint256 borrow = yLo > BLS.P_LO ? 1 : 0;
        unchecked {
            yLo = BLS.P_LO - yLo;
            yHi = BLS.P_HI - yHi - borrow;
        }
        assembly ("memory-safe") {
            mstore(add(p, 96), yHi)
            mstore(add(p, 128), yLo)
        }
    }

    function _copy(bytes memory dst, uint256 at, bytes memory src) private pure {
        assembly ("memory-safe") {
            mcopy(add(add(dst, 32), at), add(src, 32), mload(src))
        }
    }

    /// Deploys `data` as the code of a new contract behind a STOP byte (SSTORE2).
    function _store(bytes memory data) private returns (address where) {
        bytes memory code = abi.encodePacked(hex"61", uint16(data.length + 1), hex"80600a3d393df300", data);
        assembly ("memory-safe") {
            where := create(0, add(code, 32), mload(code))
        }
        if (where == address(0)) revert BadCommittee("store");
    }
}

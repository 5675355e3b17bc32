// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title BLS12-381 for Vigil's ciphersuite over the EIP-2537 precompiles (fork prague).
/// @notice Ciphersuite `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`: public keys in G1,
/// signatures in G2. Points are in the EIP-2537 encoding: an Fp element is 64 bytes (16 zero
/// bytes, then the 48-byte big-endian value), a G1 point is `x || y` (128 bytes), an Fp2
/// element is `c0 || c1` and a G2 point `x || y` (256 bytes); all zeros is the identity.
/// See docs/decisions/0005-onchain-bls.md.
library BLS {
    /// DST of votes (and of every other message signed in the ciphersuite).
    bytes internal constant DST_SIGN = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
    /// DST of proofs of possession.
    bytes internal constant DST_POP = "BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

    /// The base field modulus p, split as its high 16 bytes and low 32 bytes (the two words
    /// of an EIP-2537 Fp element).
    uint256 internal constant P_HI = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
    uint256 internal constant P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;

    /// -g1, the negated G1 generator, as its four words.
    uint256 internal constant NEG_G1_X_HI = 0x17f1d3a73197d7942695638c4fa9ac0f;
    uint256 internal constant NEG_G1_X_LO = 0xc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb;
    uint256 internal constant NEG_G1_Y_HI = 0x114d1d6855d545a8aa7d76c8cf2e21f2;
    uint256 internal constant NEG_G1_Y_LO = 0x67816aef1db507c96655b9d5caac42364e6f38ba0ecb751bad54dcd6b939c2ca;

    /// (p - 1) / 2 in the same split: y is "lexicographically largest" (the sign flag of a
    /// compressed point) when y > (p - 1) / 2.
    uint256 internal constant HALF_HI = 0x0d0088f51cbff34d258dd3db21a5d66b;
    uint256 internal constant HALF_LO = 0xb23ba5c279c2895fb39869507b587b120f55ffff58a9ffffdcff7fffffffd555;

    /// A precompile call failed (an input is not a valid point or field element).
    error PrecompileFailed(uint256 precompile);
    /// A domain separation tag longer than 255 bytes.
    error DstTooLong();

    /// `expand_message_xmd` with SHA-256 (RFC 9380 §5.3.1), 256 output bytes.
    function expandMessageXmd(bytes memory message, bytes memory dst) internal pure returns (bytes32[8] memory out) {
        if (dst.length > 255) revert DstTooLong();
        bytes memory dstPrime = abi.encodePacked(dst, uint8(dst.length));
        // msg_prime = Z_pad (64 zero bytes) || msg || I2OSP(256, 2) || I2OSP(0, 1) || DST_prime
        bytes32 b0 = sha256(abi.encodePacked(bytes32(0), bytes32(0), message, uint16(256), uint8(0), dstPrime));
        bytes32 prev = sha256(abi.encodePacked(b0, uint8(1), dstPrime));
        out[0] = prev;
        for (uint256 i = 1; i < 8; ++i) {
            prev = sha256(abi.encodePacked(b0 ^ prev, uint8(i + 1), dstPrime));
            out[i] = prev;
        }
    }

    /// `hash_to_curve` for `BLS12381G2_XMD:SHA-256_SSWU_RO_` (RFC 9380 §3): two field elements
    /// of Fp2 from `expand_message_xmd`, each mapped with MAP_FP2_TO_G2 (which also clears the
    /// cofactor; clearing is linear, so mapping then adding equals adding then clearing), then
    /// added with G2ADD. Returns the 256-byte EIP-2537 G2 point.
    function hashToG2(bytes memory message, bytes memory dst) internal view returns (bytes memory point) {
        bytes32[8] memory uniform = expandMessageXmd(message, dst);
        point = new bytes(256);
        bool ok = true;
        uint256 failed;
        assembly ("memory-safe") {
            // Scratch beyond the free memory pointer:
            //   m      MODEXP input: lengths (64, 1, 64), base (64), exponent 0x01, modulus (64)
            //   m+256  four reduced field elements, 64 bytes each: u0.c0, u0.c1, u1.c0, u1.c1
            //   m+512  map(u0) || map(u1), the G2ADD input
            let m := mload(0x40)
            mstore(m, 64)
            mstore(add(m, 32), 1)
            mstore(add(m, 64), 64)
            mstore(add(m, 161), 0)
            mstore(add(m, 177), shl(128, P_HI))
            mstore(add(m, 193), P_LO)
            mstore8(add(m, 160), 1)
            let fields := add(m, 256)
            for { let i := 0 } lt(i, 4) { i := add(i, 1) } {
                // OS2IP of 64 bytes, reduced mod p by MODEXP (base^1 mod p); with the modulus
                // given in 64 bytes the result comes out as an EIP-2537 Fp element.
                mstore(add(m, 96), mload(add(uniform, mul(i, 64))))
                mstore(add(m, 128), mload(add(uniform, add(mul(i, 64), 32))))
                ok := and(ok, staticcall(gas(), 0x05, m, 225, add(fields, mul(i, 64)), 64))
            }
            if iszero(ok) { failed := 0x05 }
            let mapped := add(m, 512)
            ok := and(ok, staticcall(gas(), 0x11, fields, 128, mapped, 256))
            ok := and(ok, staticcall(gas(), 0x11, add(fields, 128), 128, add(mapped, 256), 256))
            if and(iszero(ok), iszero(failed)) { failed := 0x11 }
            ok := and(ok, staticcall(gas(), 0x0d, mapped, 512, add(point, 32), 256))
            if and(iszero(ok), iszero(failed)) { failed := 0x0d }
        }
        if (!ok) revert PrecompileFailed(failed);
    }

    /// Whether `e(pk, h) == e(g1, sig)`, by one pairing check of `e(pk, h) * e(-g1, sig) == 1`.
    /// `pk` is a 128-byte G1 point, `h` and `sig` 256-byte G2 points. The precompile checks
    /// that every point is on its curve and in its subgroup, and reverts the call otherwise;
    /// that is reported as `PrecompileFailed(0x0f)`. The caller must rule out the identity.
    function pairingCheck(bytes memory pk, bytes memory h, bytes memory sig) internal view returns (bool valid) {
        bool ok;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mcopy(m, add(pk, 32), 128)
            mcopy(add(m, 128), add(h, 32), 256)
            mstore(add(m, 384), NEG_G1_X_HI)
            mstore(add(m, 416), NEG_G1_X_LO)
            mstore(add(m, 448), NEG_G1_Y_HI)
            mstore(add(m, 480), NEG_G1_Y_LO)
            mcopy(add(m, 512), add(sig, 32), 256)
            ok := staticcall(gas(), 0x0f, m, 768, m, 32)
            valid := mload(m)
        }
        if (!ok) revert PrecompileFailed(0x0f);
    }

    /// Whether an encoded point (G1 or G2) is all zeros, the identity.
    function isIdentity(bytes memory point) internal pure returns (bool zero) {
        zero = true;
        for (uint256 i = 0; i < point.length; i += 32) {
            bytes32 w;
            assembly ("memory-safe") {
                w := mload(add(add(point, 32), i))
            }
            if (w != 0) return false;
        }
    }

    /// The 48-byte big-endian value at `b[at:at + 48]`, as its high 16 and low 32 bytes.
    function load48(bytes calldata b, uint256 at) internal pure returns (uint256 hi, uint256 lo) {
        require(b.length >= at + 48, "BLS: short field element");
        assembly ("memory-safe") {
            hi := shr(128, calldataload(add(b.offset, at)))
            lo := calldataload(add(b.offset, add(at, 16)))
        }
    }

    /// Whether the Fp element `(hi, lo)` is greater than (p - 1) / 2.
    function isLarge(uint256 hi, uint256 lo) internal pure returns (bool) {
        return hi > HALF_HI || (hi == HALF_HI && lo > HALF_LO);
    }

    /// Whether the compressed public key `compressed` (48 bytes, ZCash format as blst writes
    /// it) encodes the point `point` (128-byte EIP-2537 G1): compression flag set, infinity
    /// flag clear, the same x, and the sign flag matching y. Whether `point` is on the curve
    /// and in the subgroup is left to the precompile it is used with.
    function g1MatchesCompressed(bytes calldata compressed, bytes calldata point) internal pure returns (bool) {
        if (compressed.length != 48 || point.length != 128) return false;
        uint256 flags = uint8(compressed[0]) & 0xe0;
        (uint256 xHi, uint256 xLo) = load48(compressed, 0);
        xHi &= ~(uint256(0xe0) << 120);
        (uint256 pxHi, uint256 pxLo) = _word2(point, 0);
        (uint256 pyHi, uint256 pyLo) = _word2(point, 64);
        uint256 want = 0x80 | (isLarge(pyHi, pyLo) ? 0x20 : 0);
        return flags == want && xHi == pxHi && xLo == pxLo;
    }

    /// Whether the compressed signature `compressed` (96 bytes: x.c1 with the flags, then
    /// x.c0) encodes the affine point `raw` (`x.c0 || x.c1 || y.c0 || y.c1`, 192 bytes). The
    /// sign of an Fp2 element is that of c1, or of c0 when c1 is zero.
    function g2MatchesCompressed(bytes calldata compressed, bytes calldata raw) internal pure returns (bool) {
        if (compressed.length != 96 || raw.length != 192) return false;
        uint256 flags = uint8(compressed[0]) & 0xe0;
        return _g2XMatches(compressed, raw) && flags == (0x80 | (_g2YLarge(raw) ? 0x20 : 0));
    }

    function _g2XMatches(bytes calldata compressed, bytes calldata raw) private pure returns (bool) {
        (uint256 c1Hi, uint256 c1Lo) = load48(compressed, 0);
        c1Hi &= ~(uint256(0xe0) << 120);
        (uint256 c0Hi, uint256 c0Lo) = load48(compressed, 48);
        (uint256 rx0Hi, uint256 rx0Lo) = load48(raw, 0);
        (uint256 rx1Hi, uint256 rx1Lo) = load48(raw, 48);
        return c0Hi == rx0Hi && c0Lo == rx0Lo && c1Hi == rx1Hi && c1Lo == rx1Lo;
    }

    function _g2YLarge(bytes calldata raw) private pure returns (bool) {
        (uint256 y0Hi, uint256 y0Lo) = load48(raw, 96);
        (uint256 y1Hi, uint256 y1Lo) = load48(raw, 144);
        return (y1Hi | y1Lo) != 0 ? isLarge(y1Hi, y1Lo) : isLarge(y0Hi, y0Lo);
    }

    function _word2(bytes calldata b, uint256 at) private pure returns (uint256 hi, uint256 lo) {
        assembly ("memory-safe") {
            hi := calldataload(add(b.offset, at))
            lo := calldataload(add(b.offset, add(at, 32)))
        }
    }

    /// The 256-byte EIP-2537 G2 point of a signature given as its affine coordinates
    /// `x.c0 || x.c1 || y.c0 || y.c1` (48 bytes each, big-endian; 192 bytes in all).
    function g2FromRaw(bytes calldata raw) internal pure returns (bytes memory point) {
        require(raw.length == 192, "BLS: G2 point must be 192 bytes");
        point = new bytes(256);
        assembly ("memory-safe") {
            let dst := add(point, 32)
            for { let i := 0 } lt(i, 4) { i := add(i, 1) } {
                calldatacopy(add(dst, add(mul(i, 64), 16)), add(raw.offset, mul(i, 48)), 48)
            }
        }
    }
}

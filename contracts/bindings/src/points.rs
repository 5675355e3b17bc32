//! Compressed `blst` points to the uncompressed forms the contracts take.
//!
//! EIP-2537 writes an Fp element in 64 bytes (16 zero bytes, then 48
//! big-endian), an Fp2 element as `c0 || c1`; `blst` writes Fp2 as
//! `c1 || c0`.

use blst::min_pk::{PublicKey, Signature};

use crate::PointError;

/// The 128-byte EIP-2537 G1 encoding of a compressed public key, after
/// KeyValidate (on the curve, in the subgroup, not the identity).
pub fn g1_eip2537(compressed: &[u8; 48]) -> Result<[u8; 128], PointError> {
    let pk = PublicKey::key_validate(compressed).map_err(|_| PointError::InvalidPublicKey)?;
    let raw = pk.serialize(); // x || y, 48 bytes each
    let mut out = [0u8; 128];
    out[16..64].copy_from_slice(&raw[..48]);
    out[80..128].copy_from_slice(&raw[48..]);
    Ok(out)
}

/// The affine coordinates `x.c0 || x.c1 || y.c0 || y.c1` (48 bytes each) of
/// a compressed signature, after the subgroup check. The identity gives 192
/// zero bytes (which the contracts reject).
pub fn g2_affine(compressed: &[u8; 96]) -> Result<[u8; 192], PointError> {
    let sig = Signature::sig_validate(compressed, false).map_err(|_| PointError::InvalidSignature)?;
    let raw = sig.serialize(); // x.c1 || x.c0 || y.c1 || y.c0
    let mut out = [0u8; 192];
    for (to, from) in [(0, 1), (1, 0), (2, 3), (3, 2)] {
        out[to * 48..(to + 1) * 48].copy_from_slice(&raw[from * 48..(from + 1) * 48]);
    }
    Ok(out)
}

/// The 256-byte EIP-2537 G2 encoding of affine coordinates in the order of
/// [`g2_affine`] (and of `vigil_crypto::hash::hash_to_g2`).
pub fn g2_affine_to_eip2537(coords: &[[u8; 48]; 4]) -> [u8; 256] {
    let mut out = [0u8; 256];
    for (i, c) in coords.iter().enumerate() {
        out[i * 64 + 16..(i + 1) * 64].copy_from_slice(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_points() {
        assert_eq!(g1_eip2537(&[0u8; 48]), Err(PointError::InvalidPublicKey));
        let mut infinity = [0u8; 48];
        infinity[0] = 0xc0;
        assert_eq!(g1_eip2537(&infinity), Err(PointError::InvalidPublicKey));
        assert_eq!(g2_affine(&[0u8; 96]), Err(PointError::InvalidSignature));
    }
}

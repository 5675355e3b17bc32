//! Hash to G2 (RFC 9380, `BLS12381G2_XMD:SHA-256_SSWU_RO_`), exposed so the
//! ciphersuite can be checked against the Ethereum vectors and so on-chain
//! verifiers (EIP-2537) can be fed the same points.
#![allow(unsafe_code)]

/// The affine point `H(msg)` as `(x.c0, x.c1, y.c0, y.c1)`, each 48 bytes
/// big-endian.
pub fn hash_to_g2(msg: &[u8], dst: &[u8]) -> [[u8; 48]; 4] {
    let mut p = blst::blst_p2::default();
    let mut aff = blst::blst_p2_affine::default();
    let mut ser = [0u8; 192];
    // SAFETY: every pointer refers to a live, correctly sized local or to
    // the caller's slices with their lengths; blst reads and writes only
    // within them.
    unsafe {
        blst::blst_hash_to_g2(&mut p, msg.as_ptr(), msg.len(), dst.as_ptr(), dst.len(), std::ptr::null(), 0);
        blst::blst_p2_to_affine(&mut aff, &p);
        blst::blst_p2_affine_serialize(ser.as_mut_ptr(), &aff);
    }
    // blst serializes Fp2 as (c1, c0).
    let mut out = [[0u8; 48]; 4];
    for (dst_i, src_i) in [(0, 1), (1, 0), (2, 3), (3, 2)] {
        out[dst_i].copy_from_slice(&ser[src_i * 48..(src_i + 1) * 48]);
    }
    out
}

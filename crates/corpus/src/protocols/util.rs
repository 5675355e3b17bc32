//! Small helpers of the real-protocol world: amounts people type (with the
//! deterministic numbers of `crate::det`), and the encodings the
//! protocols sign or parse (EIP-2612 permits, Safe signatures, MultiSend
//! batches, Uniswap v3 paths).

use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use alloy_sol_types::SolValue;

use crate::{Actor, CorpusError};

pub(crate) use crate::det::{exp, f, ln, log_uniform, round_sig, u};

/// `n` whole units of a token with `decimals`.
pub(crate) fn units(n: u64, decimals: u8) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(decimals))
}

/// `a` in whole units with up to six decimals, for notes.
pub(crate) fn fmt_units(a: U256, decimals: u8) -> String {
    if a == U256::MAX {
        return "MAX".into();
    }
    let one = U256::from(10u64).pow(U256::from(decimals));
    let whole = a / one;
    let rest = a % one;
    if rest.is_zero() {
        return whole.to_string();
    }
    let digits = format!("{rest:0>width$}", width = usize::from(decimals));
    let digits = digits.get(..6.min(digits.len())).unwrap_or("").trim_end_matches('0');
    if digits.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}.{digits}")
    }
}

/// EIP-2612's `Permit` type hash.
pub(crate) fn permit_typehash() -> B256 {
    keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)")
}

/// A signed EIP-2612 permit: `(v, r, s)` over the token's domain separator.
pub(crate) fn sign_permit(
    owner: &Actor,
    domain_separator: B256,
    spender: Address,
    value: U256,
    nonce: U256,
    deadline: U256,
) -> Result<(u8, B256, B256), CorpusError> {
    let inner = keccak256((permit_typehash(), owner.address(), spender, value, nonce, deadline).abi_encode());
    let mut buf = Vec::with_capacity(66);
    buf.extend_from_slice(b"\x19\x01");
    buf.extend_from_slice(domain_separator.as_slice());
    buf.extend_from_slice(inner.as_slice());
    let sig = owner.sign_digest(keccak256(buf))?;
    split_sig(&sig)
}

/// `(v, r, s)` of a 65-byte `r ‖ s ‖ v` signature.
pub(crate) fn split_sig(sig: &[u8]) -> Result<(u8, B256, B256), CorpusError> {
    if sig.len() != 65 {
        return Err(CorpusError::Sign(format!("signature of {} bytes", sig.len())));
    }
    Ok((sig[64], B256::from_slice(&sig[..32]), B256::from_slice(&sig[32..64])))
}

/// The `signatures` argument of a Safe's `execTransaction`: each owner's
/// ECDSA signature of the Safe transaction hash, ordered by owner address.
pub(crate) fn safe_signatures(owners: &[&Actor], safe_tx_hash: B256) -> Result<Bytes, CorpusError> {
    let mut sorted: Vec<&&Actor> = owners.iter().collect();
    sorted.sort_by_key(|a| a.address());
    let mut out = Vec::with_capacity(65 * sorted.len());
    for a in sorted {
        out.extend_from_slice(&a.sign_digest(safe_tx_hash)?);
    }
    Ok(out.into())
}

/// One call of a MultiSend batch.
#[derive(Debug, Clone)]
pub(crate) struct BatchCall {
    pub(crate) to: Address,
    pub(crate) value: U256,
    pub(crate) data: Bytes,
}

/// MultiSend's packed encoding: per call `operation (1 byte, 0 = call) ‖ to
/// (20) ‖ value (32) ‖ data length (32) ‖ data`.
pub(crate) fn multisend_payload(calls: &[BatchCall]) -> Bytes {
    let mut out = Vec::new();
    for c in calls {
        out.push(0u8);
        out.extend_from_slice(c.to.as_slice());
        out.extend_from_slice(&c.value.to_be_bytes::<32>());
        out.extend_from_slice(&U256::from(c.data.len()).to_be_bytes::<32>());
        out.extend_from_slice(&c.data);
    }
    out.into()
}

/// A Uniswap v3 path: `token ‖ fee (3 bytes) ‖ token ‖ …`.
pub(crate) fn v3_path(tokens: &[Address], fees: &[u32]) -> Bytes {
    let mut out = Vec::with_capacity(tokens.len() * 23);
    for (i, t) in tokens.iter().enumerate() {
        out.extend_from_slice(t.as_slice());
        if let Some(fee) = fees.get(i) {
            out.extend_from_slice(&fee.to_be_bytes()[1..]);
        }
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(round_sig(U256::from(123_456u64), 3), U256::from(123_000u64));
        assert_eq!(fmt_units(U256::from(1_500_000u64), 6), "1.5");
        assert_eq!(fmt_units(units(7, 18), 18), "7");
        for x in [0.01, 0.5, 2.0, 12345.0] {
            assert!((ln(x) - x.ln()).abs() < 1e-12);
            assert!((exp(x.ln()) / x - 1.0).abs() < 1e-12);
        }
        let p = v3_path(&[Address::ZERO, Address::repeat_byte(1)], &[3000]);
        assert_eq!(p.len(), 43);
        assert_eq!(&p[20..23], &[0x00, 0x0b, 0xb8]);
    }
}

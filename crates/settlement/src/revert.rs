//! Revert data decoded into a sentence: one of Vigil's contracts' named
//! errors (`InvalidProofOfPossession`, `BondTooLow { bond: .., minBond: .. }`),
//! Solidity's `Error(string)` / `Panic(uint256)`, or the raw hex.

use alloy_sol_types::{Panic, Revert, SolError, SolInterface};
use vigil_contracts::{onchain::revert_reason, CertificateVerifier, InspectorRegistry, QuarantineCourt, Slasher};

/// Whether `data` starts with one of `E`'s selectors.
fn is<E: SolInterface>(data: &[u8]) -> bool {
    data.len() >= 4 && E::valid_selector([data[0], data[1], data[2], data[3]])
}

/// The revert `data` as a person reads it. Errors of every Vigil contract
/// are tried (a registry call can revert with the verifier's error, which
/// Solidity bubbles up); errors of the same name and arguments have the
/// same selector in every contract, so the name is right whichever matches.
pub fn decode_revert(data: &[u8]) -> String {
    if data.is_empty() {
        return "reverted without a reason (out of gas, a failed transfer, or not a contract)".into();
    }
    if is::<InspectorRegistry::InspectorRegistryErrors>(data) {
        return revert_reason::<InspectorRegistry::InspectorRegistryErrors>(data);
    }
    if is::<QuarantineCourt::QuarantineCourtErrors>(data) {
        return revert_reason::<QuarantineCourt::QuarantineCourtErrors>(data);
    }
    if is::<CertificateVerifier::CertificateVerifierErrors>(data) {
        return revert_reason::<CertificateVerifier::CertificateVerifierErrors>(data);
    }
    if is::<Slasher::SlasherErrors>(data) {
        return revert_reason::<Slasher::SlasherErrors>(data);
    }
    if let Ok(r) = Revert::abi_decode(data) {
        return format!("Error({:?})", r.reason);
    }
    if let Ok(p) = Panic::abi_decode(data) {
        return format!("Panic(0x{:x})", p.code);
    }
    format!("reverted with 0x{}", alloy_primitives::hex::encode(data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::U256;

    #[test]
    fn names_the_contracts_errors() {
        let pop = InspectorRegistry::InvalidProofOfPossession {}.abi_encode();
        assert_eq!(decode_revert(&pop), "InvalidProofOfPossession");
        let bond = QuarantineCourt::BondTooLow { bond: U256::from(1), minBond: U256::from(5) }.abi_encode();
        assert_eq!(decode_revert(&bond), "BondTooLow { bond: 1, minBond: 5 }");
        let text = Revert::from("nope").abi_encode();
        assert_eq!(decode_revert(&text), "Error(\"nope\")");
        assert_eq!(decode_revert(&[0xde, 0xad, 0xbe, 0xef, 1]), "reverted with 0xdeadbeef01");
        assert!(decode_revert(&[]).starts_with("reverted without a reason"));
    }
}

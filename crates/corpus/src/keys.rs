//! Accounts: private keys derived from fixed seeds, and the signatures the
//! scenarios need besides transactions (EIP-191 vouchers and roots, EIP-712
//! orders).

use alloy_primitives::{keccak256, Address, B256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;

use crate::CorpusError;

/// An externally owned account with its key.
#[derive(Debug, Clone)]
pub struct Actor {
    /// Who it is in the scenario (`deployer`, `user1`, `attacker`…), for
    /// notes and error messages only: nothing on chain carries it.
    pub role: String,
    signer: PrivateKeySigner,
}

impl Actor {
    /// The account whose private key is `keccak256(seed)`.
    pub fn from_seed(role: impl Into<String>, seed: &str) -> Result<Self, CorpusError> {
        let key = keccak256(seed.as_bytes());
        let signer = PrivateKeySigner::from_bytes(&key)
            .map_err(|e| CorpusError::Key { name: seed.to_owned(), reason: e.to_string() })?;
        Ok(Self { role: role.into(), signer })
    }

    /// The account's address.
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    /// The key, to sign transactions with.
    pub(crate) fn signer(&self) -> &PrivateKeySigner {
        &self.signer
    }

    /// Signs a 32-byte digest as is: 65 bytes `r ‖ s ‖ v`, `v` ∈ {27, 28},
    /// low `s`.
    pub fn sign_digest(&self, digest: B256) -> Result<Vec<u8>, CorpusError> {
        let sig = self.signer.sign_hash_sync(&digest).map_err(|e| CorpusError::Sign(e.to_string()))?;
        Ok(sig.normalized_s().as_bytes().to_vec())
    }

    /// `personal_sign` of a 32-byte hash (EIP-191: the signer signs
    /// `keccak256("\x19Ethereum Signed Message:\n32" ‖ hash)`).
    pub fn personal_sign(&self, hash: B256) -> Result<Vec<u8>, CorpusError> {
        let sig = self.signer.sign_message_sync(hash.as_slice()).map_err(|e| CorpusError::Sign(e.to_string()))?;
        Ok(sig.normalized_s().as_bytes().to_vec())
    }
}

/// The protocol deployer every fixture shares, so that the protocol's
/// contracts have the same addresses in every scenario and in the
/// background traffic. Its key is `keccak256("vigil-corpus/deployer")`, the
/// one the scenarios' executed run used.
pub fn deployer() -> Result<Actor, CorpusError> {
    Actor::from_seed("deployer", "vigil-corpus/deployer")
}

/// Any other account of a fixture: `keccak256("vigil-corpus/<fixture>/<role>")`.
///
/// The fixture's name is part of the seed so that no address other than the
/// deployer's appears in more than one fixture: an account that is "the
/// attacker" everywhere would be a mark a detector could learn.
pub fn actor(fixture: &str, role: &str) -> Result<Actor, CorpusError> {
    Actor::from_seed(role, &format!("vigil-corpus/{fixture}/{role}"))
}

/// `personal_sign`'s digest of a 32-byte hash, as `ECDSA.toEthSignedMessageHash`.
pub fn eth_signed_message_hash(hash: B256) -> B256 {
    let mut buf = Vec::with_capacity(60);
    buf.extend_from_slice(b"\x19Ethereum Signed Message:\n32");
    buf.extend_from_slice(hash.as_slice());
    keccak256(buf)
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{address, Signature};

    use super::*;

    #[test]
    fn key_scheme_is_the_executed_runs() {
        // SCENARIOS.md A4 records the admin its run ended with: the attack
        // contract, CREATE(attacker, 0), with the attacker's key
        // keccak256("vigil-corpus/attacker"). Same scheme as `deployer()`.
        let attacker = Actor::from_seed("attacker", "vigil-corpus/attacker").unwrap();
        assert_eq!(attacker.address().create(0), address!("0xB415e4F1b755f31568053f3038c76E622B5577b3"));
        assert_ne!(deployer().unwrap().address(), attacker.address());
    }

    #[test]
    fn personal_sign_recovers() {
        let a = actor("t", "signer").unwrap();
        let h = keccak256(b"voucher");
        let sig = a.personal_sign(h).unwrap();
        assert_eq!(sig.len(), 65);
        assert!(sig[64] == 27 || sig[64] == 28);
        let parsed = Signature::try_from(sig.as_slice()).unwrap();
        let signer = parsed.recover_address_from_prehash(&eth_signed_message_hash(h)).unwrap();
        assert_eq!(signer, a.address());
    }
}

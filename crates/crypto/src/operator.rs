//! Operator keys: ed25519 keys that sign releases of quarantined
//! transactions (DESIGN §7, [`vigil_types::OperatorRelease`]). The gate
//! holds the public keys it accepts; an operator (or a node on the
//! operator's behalf) holds a secret one.
//!
//! Key file format: the 32-byte ed25519 secret seed as hex, one line, mode
//! 0600 (as the node's libp2p identity).

use std::path::Path;

use crate::{
    identity::{read_seed, write_seed},
    CryptoError,
};
use ed25519_dalek::Signer;
use vigil_types::{OperatorRelease, B256};

/// An operator's signing key.
pub struct OperatorKey {
    signing: ed25519_dalek::SigningKey,
}

impl std::fmt::Debug for OperatorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OperatorKey({})", self.public())
    }
}

/// Why a release is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseError {
    /// The key is not one of the configured operator keys.
    #[error("operator key {0} is not one this gate accepts")]
    UnknownOperator(B256),
    /// The signature does not verify for that key and message.
    #[error("the release's signature does not verify for operator key {0}")]
    BadSignature(B256),
    /// Signed for another chain.
    #[error("the release is for chain {got}, this gate admits chain {want}")]
    WrongChain {
        /// The release's chain.
        got: u64,
        /// The gate's chain.
        want: u64,
    },
}

impl OperatorKey {
    /// A fresh key from the operating system's random generator.
    pub fn generate() -> Self {
        Self { signing: ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng) }
    }

    /// The public key, as the gate's `--operator-key` takes it.
    pub fn public(&self) -> B256 {
        B256::from(self.signing.verifying_key().to_bytes())
    }

    /// Signs the release of `tx_hash` on `chain_id`.
    pub fn release(&self, chain_id: u64, tx_hash: B256, note: Option<String>) -> OperatorRelease {
        let signature = self.signing.sign(&OperatorRelease::message(chain_id, tx_hash));
        OperatorRelease { chain_id, tx_hash, operator: self.public(), signature: signature.to_bytes().into(), note }
    }

    /// Writes the key file (mode 0600 on Unix), refusing to overwrite.
    pub fn write(&self, path: &Path) -> Result<(), CryptoError> {
        write_seed(path, &self.signing)
    }

    /// Reads a key file.
    pub fn read(path: &Path) -> Result<Self, CryptoError> {
        let seed = read_seed(path)?;
        Ok(Self { signing: ed25519_dalek::SigningKey::from_bytes(&seed) })
    }
}

/// Checks a release for `chain_id` against the accepted operator keys.
pub fn verify_release(release: &OperatorRelease, chain_id: u64, accepted: &[B256]) -> Result<(), ReleaseError> {
    if release.chain_id != chain_id {
        return Err(ReleaseError::WrongChain { got: release.chain_id, want: chain_id });
    }
    if !accepted.contains(&release.operator) {
        return Err(ReleaseError::UnknownOperator(release.operator));
    }
    let key = ed25519_dalek::VerifyingKey::from_bytes(&release.operator.0)
        .map_err(|_| ReleaseError::BadSignature(release.operator))?;
    let signature = ed25519_dalek::Signature::from_bytes(&release.signature.0);
    key.verify_strict(&OperatorRelease::message(release.chain_id, release.tx_hash), &signature)
        .map_err(|_| ReleaseError::BadSignature(release.operator))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_verifies_only_for_an_accepted_key_its_chain_and_its_transaction() {
        let key = OperatorKey::generate();
        let other = OperatorKey::generate();
        let tx = B256::repeat_byte(7);
        let r = key.release(31337, tx, Some("benign rebalance".into()));
        assert_eq!(verify_release(&r, 31337, &[other.public(), key.public()]), Ok(()));
        assert_eq!(verify_release(&r, 31337, &[other.public()]), Err(ReleaseError::UnknownOperator(key.public())));
        assert_eq!(verify_release(&r, 1, &[key.public()]), Err(ReleaseError::WrongChain { got: 31337, want: 1 }));
        let mut moved = r.clone();
        moved.tx_hash = B256::repeat_byte(8);
        assert_eq!(verify_release(&moved, 31337, &[key.public()]), Err(ReleaseError::BadSignature(key.public())));
        let mut forged = r.clone();
        forged.operator = other.public();
        assert_eq!(verify_release(&forged, 31337, &[other.public()]), Err(ReleaseError::BadSignature(other.public())));
        // The note is not signed: changing it keeps the release valid.
        let mut noted = r;
        noted.note = None;
        assert_eq!(verify_release(&noted, 31337, &[key.public()]), Ok(()));
    }

    #[test]
    fn the_key_file_round_trips_and_is_never_overwritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("operator.key");
        let key = OperatorKey::generate();
        key.write(&path).expect("write");
        assert_eq!(OperatorKey::read(&path).expect("read").public(), key.public());
        assert!(key.write(&path).is_err(), "an existing key file is not replaced");
        std::fs::write(dir.path().join("bad"), "zz").expect("write");
        assert!(OperatorKey::read(&dir.path().join("bad")).is_err());
    }
}

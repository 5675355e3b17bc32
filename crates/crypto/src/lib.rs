//! BLS signatures for Vigil, through `blst`, in the Ethereum
//! proof-of-possession ciphersuite `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`
//! (public keys in G1, 48 bytes; signatures in G2, 96 bytes).
//!
//! Owns: keys, signing, proofs of possession, aggregation, fast aggregate
//! verification, batch verification (random linear combination), EIP-2335
//! keystores, and the node's ed25519 libp2p identity. Parsing validates
//! points once (KeyValidate for keys, the subgroup check for signatures), so
//! the types [`PublicKey`] and [`Signature`] are proof of that.
//!
//! Does not decide who may sign or how much stake is enough: that is
//! `vigil-consensus`. No network I/O; file I/O only for key files.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod bls;
mod error;
pub mod hash;
pub mod identity;
pub mod keystore;
pub mod operator;
mod verifier;

pub use bls::{
    batch_verify, is_valid_g1_point, is_valid_g2_point, PublicKey, SecretKey, Signature, SignatureSet, DST_POP,
    DST_SIGN,
};
pub use error::CryptoError;
pub use identity::NodeIdentity;
pub use keystore::{Kdf, Keystore};
pub use operator::{verify_release, OperatorKey, ReleaseError};
pub use verifier::{BatchVerifier, InvalidSignature, SignatureCheck, ValidSignature, VerifierStats};

//! Errors of the point conversions.

/// Why a compressed point could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PointError {
    /// Not a valid compressed G1 point in the subgroup, or the identity.
    #[error("invalid BLS public key")]
    InvalidPublicKey,
    /// Not a valid compressed G2 point in the subgroup.
    #[error("invalid BLS signature")]
    InvalidSignature,
}

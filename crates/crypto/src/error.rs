//! Errors of `vigil-crypto`.

/// What went wrong in a cryptographic operation or a key file.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// Bytes that are not a valid secret key (wrong length, zero, or not
    /// below the group order).
    #[error("invalid BLS secret key: {0}")]
    InvalidSecretKey(String),
    /// Bytes that are not a usable public key.
    #[error("invalid BLS public key: {0}")]
    InvalidPublicKey(String),
    /// Bytes that are not a usable signature.
    #[error("invalid BLS signature: {0}")]
    InvalidSignature(String),
    /// A keystore file that cannot be read or decrypted.
    #[error("keystore: {0}")]
    Keystore(String),
    /// The keystore password does not match (checksum mismatch).
    #[error("keystore: wrong password (checksum mismatch)")]
    WrongPassword,
    /// A node identity key file that cannot be read.
    #[error("node identity key: {0}")]
    Identity(String),
    /// File system error, with the path involved.
    #[error("{path}: {source}")]
    Io {
        /// File that failed.
        path: String,
        /// Underlying error.
        source: std::io::Error,
    },
}

impl CryptoError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io { path: path.display().to_string(), source }
    }
}

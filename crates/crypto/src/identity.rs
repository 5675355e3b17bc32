//! The node's libp2p identity: an ed25519 key stored beside the BLS key.
//!
//! File format: the 32-byte ed25519 secret seed as hex, one line, mode 0600.

use crate::CryptoError;
use std::path::Path;
use zeroize::Zeroizing;

/// A node's network identity.
pub struct NodeIdentity {
    signing: ed25519_dalek::SigningKey,
}

impl std::fmt::Debug for NodeIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.peer_id() {
            Ok(id) => write!(f, "NodeIdentity({id})"),
            Err(_) => f.write_str("NodeIdentity(?)"),
        }
    }
}

impl NodeIdentity {
    /// A fresh key from the operating system's random generator.
    pub fn generate() -> Self {
        Self { signing: ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng) }
    }

    /// From a 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self { signing: ed25519_dalek::SigningKey::from_bytes(&seed) }
    }

    /// The secret seed.
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.signing.to_bytes())
    }

    /// The libp2p keypair for the swarm.
    pub fn to_libp2p(&self) -> Result<libp2p_identity::Keypair, CryptoError> {
        let secret = libp2p_identity::ed25519::SecretKey::try_from_bytes(self.signing.to_bytes())
            .map_err(|e| CryptoError::Identity(e.to_string()))?;
        Ok(libp2p_identity::ed25519::Keypair::from(secret).into())
    }

    /// The peer id (`12D3KooW…`).
    pub fn peer_id(&self) -> Result<libp2p_identity::PeerId, CryptoError> {
        Ok(self.to_libp2p()?.public().to_peer_id())
    }

    /// Writes the key file (mode 0600 on Unix), refusing to overwrite.
    pub fn write(&self, path: &Path) -> Result<(), CryptoError> {
        write_seed(path, &self.signing)
    }

    /// Reads a key file.
    pub fn read(path: &Path) -> Result<Self, CryptoError> {
        Ok(Self::from_seed(*read_seed(path)?))
    }
}

/// Writes an ed25519 key's secret seed as one line of hex (mode 0600 on
/// Unix), refusing to overwrite.
pub(crate) fn write_seed(path: &Path, key: &ed25519_dalek::SigningKey) -> Result<(), CryptoError> {
    let text = Zeroizing::new(format!("{}\n", hex::encode(key.to_bytes())));
    write_secret_file(path, text.as_bytes())
}

/// Reads a file [`write_seed`] wrote.
pub(crate) fn read_seed(path: &Path) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| CryptoError::io(path, e))?);
    let mut seed = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text.trim(), seed.as_mut()).map_err(|_| {
        CryptoError::Identity(format!("{}: expected 64 hex digits (an ed25519 secret seed)", path.display()))
    })?;
    Ok(seed)
}

/// Creates `path` with owner-only permissions and writes `bytes`; fails if
/// the file exists, so a key is never silently replaced.
pub fn write_secret_file(path: &Path, bytes: &[u8]) -> Result<(), CryptoError> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).map_err(|e| CryptoError::io(path, e))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(|e| CryptoError::io(path, e))
}

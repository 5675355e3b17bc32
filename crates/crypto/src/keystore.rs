//! EIP-2335 keystores: the encrypted BLS key files Ethereum stakers use.
//!
//! ```text
//! password --NFKD, strip control codes--> KDF (scrypt | pbkdf2) --> dk[32]
//! checksum = sha256(dk[16..32] || ciphertext)      (must match)
//! secret   = aes-128-ctr(key = dk[0..16], iv) (ciphertext)
//! ```

use crate::{CryptoError, PublicKey, SecretKey};
use aes::cipher::{KeyIvInit, StreamCipher};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

type Aes128Ctr = ctr::Ctr128BE<aes::Aes128>;

/// Which key derivation function protects a new keystore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kdf {
    /// scrypt with `n = 2^log_n`, r = 8, p = 1 (EIP-2335 uses log_n = 18).
    Scrypt {
        /// log2 of the cost parameter.
        log_n: u8,
    },
    /// PBKDF2-HMAC-SHA256 with `c` rounds (EIP-2335 uses 262144).
    Pbkdf2 {
        /// Iteration count.
        c: u32,
    },
}

impl Kdf {
    /// The EIP-2335 default: scrypt, n = 262144.
    pub const DEFAULT: Kdf = Kdf::Scrypt { log_n: 18 };
}

/// Largest scrypt `n` accepted when reading a keystore (bounds memory).
const MAX_SCRYPT_LOG_N: u8 = 20;
/// Largest PBKDF2 round count accepted when reading a keystore.
const MAX_PBKDF2_ROUNDS: u32 = 1 << 24;
/// Largest keystore file read.
pub const MAX_KEYSTORE_SIZE: usize = 64 * 1024;

/// An EIP-2335 (version 4) keystore as stored on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Keystore {
    /// KDF, checksum and cipher modules.
    pub crypto: CryptoSection,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Public key, hex without `0x`.
    pub pubkey: String,
    /// EIP-2334 path, empty when the key was not derived.
    #[serde(default)]
    pub path: String,
    /// Identifier.
    pub uuid: uuid::Uuid,
    /// Always 4.
    pub version: u32,
}

/// The `crypto` object of a keystore.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CryptoSection {
    /// Key derivation.
    pub kdf: Module,
    /// Password check.
    pub checksum: Module,
    /// Encrypted secret.
    pub cipher: Module,
}

/// One `{function, params, message}` module.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Module {
    /// Algorithm name.
    pub function: String,
    /// Algorithm parameters.
    pub params: Value,
    /// Hex payload (may be empty).
    pub message: String,
}

fn ks_err(s: impl Into<String>) -> CryptoError {
    CryptoError::Keystore(s.into())
}

/// Processes a password as EIP-2335 says: NFKD, then drop the C0, C1 and
/// DEL control codes.
pub fn normalize_password(password: &str) -> Zeroizing<Vec<u8>> {
    let s: Zeroizing<String> =
        Zeroizing::new(password.nfkd().filter(|c| !matches!(*c as u32, 0x00..=0x1f | 0x7f | 0x80..=0x9f)).collect());
    Zeroizing::new(s.as_bytes().to_vec())
}

impl Keystore {
    /// Encrypts `sk` under `password` with fresh salt, IV and UUID.
    pub fn encrypt(sk: &SecretKey, password: &str, kdf: Kdf, description: &str) -> Result<Self, CryptoError> {
        let mut salt = [0u8; 32];
        let mut iv = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut salt);
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut iv);
        Self::encrypt_with(sk, password, kdf, &salt, &iv, uuid::Uuid::new_v4(), description)
    }

    /// Encrypts with given salt, IV and UUID (deterministic; for tests).
    pub fn encrypt_with(
        sk: &SecretKey,
        password: &str,
        kdf: Kdf,
        salt: &[u8; 32],
        iv: &[u8; 16],
        uuid: uuid::Uuid,
        description: &str,
    ) -> Result<Self, CryptoError> {
        let kdf_params = match kdf {
            Kdf::Scrypt { log_n } => {
                if log_n == 0 || log_n > MAX_SCRYPT_LOG_N {
                    return Err(ks_err(format!("scrypt log2(n) must be 1..={MAX_SCRYPT_LOG_N}")));
                }
                ("scrypt", json!({"dklen": 32, "n": 1u64 << log_n, "p": 1, "r": 8, "salt": hex::encode(salt)}))
            }
            Kdf::Pbkdf2 { c } => {
                ("pbkdf2", json!({"dklen": 32, "c": c, "prf": "hmac-sha256", "salt": hex::encode(salt)}))
            }
        };
        let kdf_module = Module { function: kdf_params.0.into(), params: kdf_params.1, message: String::new() };
        let dk = derive_key(&kdf_module, &normalize_password(password))?;
        let mut ciphertext = sk.to_bytes().to_vec();
        Aes128Ctr::new(dk[..16].into(), iv.into()).apply_keystream(&mut ciphertext);
        let checksum = checksum(&dk, &ciphertext);
        Ok(Self {
            crypto: CryptoSection {
                kdf: kdf_module,
                checksum: Module { function: "sha256".into(), params: json!({}), message: hex::encode(checksum) },
                cipher: Module {
                    function: "aes-128-ctr".into(),
                    params: json!({"iv": hex::encode(iv)}),
                    message: hex::encode(ciphertext),
                },
            },
            description: description.into(),
            pubkey: hex::encode(sk.public_key().to_bytes().as_bytes()),
            path: String::new(),
            uuid,
            version: 4,
        })
    }

    /// Parses keystore JSON, with a reason for anything malformed.
    pub fn from_json(json: &str) -> Result<Self, CryptoError> {
        if json.len() > MAX_KEYSTORE_SIZE {
            return Err(ks_err(format!("file is over {MAX_KEYSTORE_SIZE} bytes")));
        }
        let ks: Self = serde_json::from_str(json).map_err(|e| ks_err(format!("not a valid EIP-2335 keystore: {e}")))?;
        if ks.version != 4 {
            return Err(ks_err(format!("version {} is not supported (EIP-2335 keystores are version 4)", ks.version)));
        }
        Ok(ks)
    }

    /// Reads a keystore file.
    pub fn read(path: &std::path::Path) -> Result<Self, CryptoError> {
        let text = std::fs::read_to_string(path).map_err(|e| CryptoError::io(path, e))?;
        Self::from_json(&text).map_err(|e| CryptoError::Keystore(format!("{}: {e}", path.display())))
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Decrypts the secret key, checking the password (checksum) and that the
    /// secret matches the stated public key.
    pub fn decrypt(&self, password: &str) -> Result<SecretKey, CryptoError> {
        let c = &self.crypto;
        if c.checksum.function != "sha256" {
            return Err(ks_err(format!(
                "checksum function {:?} is not supported (expected sha256)",
                c.checksum.function
            )));
        }
        if c.cipher.function != "aes-128-ctr" {
            return Err(ks_err(format!("cipher {:?} is not supported (expected aes-128-ctr)", c.cipher.function)));
        }
        let iv: [u8; 16] =
            hex_field(&c.cipher.params, "iv")?.try_into().map_err(|_| ks_err("cipher iv must be 16 bytes"))?;
        let ciphertext = decode_hex(&c.cipher.message, "cipher message")?;
        if ciphertext.len() != 32 {
            return Err(ks_err(format!("cipher message is {} bytes, expected 32", ciphertext.len())));
        }
        let expected = decode_hex(&c.checksum.message, "checksum message")?;
        let dk = derive_key(&c.kdf, &normalize_password(password))?;
        if checksum(&dk, &ciphertext).as_slice() != expected.as_slice() {
            return Err(CryptoError::WrongPassword);
        }
        let mut secret = Zeroizing::new(ciphertext);
        Aes128Ctr::new(dk[..16].into(), (&iv).into()).apply_keystream(&mut secret);
        let sk = SecretKey::from_bytes(&secret)?;
        if !self.pubkey.is_empty() {
            let stated = decode_hex(&self.pubkey, "pubkey")?;
            let stated = PublicKey::from_bytes(&stated).map_err(|e| ks_err(format!("pubkey field: {e}")))?;
            if stated != sk.public_key() {
                return Err(ks_err("decrypted secret does not match the keystore's pubkey"));
            }
        }
        Ok(sk)
    }
}

fn checksum(dk: &[u8; 32], ciphertext: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(&dk[16..32]);
    h.update(ciphertext);
    h.finalize().into()
}

fn decode_hex(s: &str, what: &str) -> Result<Vec<u8>, CryptoError> {
    hex::decode(s.strip_prefix("0x").unwrap_or(s)).map_err(|e| ks_err(format!("{what} is not hex: {e}")))
}

fn hex_field(params: &Value, key: &str) -> Result<Vec<u8>, CryptoError> {
    let s =
        params.get(key).and_then(Value::as_str).ok_or_else(|| ks_err(format!("missing string parameter {key:?}")))?;
    decode_hex(s, key)
}

fn uint_field(params: &Value, key: &str) -> Result<u64, CryptoError> {
    params.get(key).and_then(Value::as_u64).ok_or_else(|| ks_err(format!("missing integer parameter {key:?}")))
}

fn derive_key(kdf: &Module, password: &[u8]) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    let p = &kdf.params;
    if uint_field(p, "dklen")? != 32 {
        return Err(ks_err("kdf dklen must be 32"));
    }
    let salt = hex_field(p, "salt")?;
    let mut dk = Zeroizing::new([0u8; 32]);
    match kdf.function.as_str() {
        "scrypt" => {
            let n = uint_field(p, "n")?;
            let (r, par) = (uint_field(p, "r")?, uint_field(p, "p")?);
            if !n.is_power_of_two() || n < 2 {
                return Err(ks_err(format!("scrypt n = {n} is not a power of two")));
            }
            let log_n = n.trailing_zeros();
            if log_n > u32::from(MAX_SCRYPT_LOG_N) || r == 0 || r > 32 || par == 0 || par > 16 {
                return Err(ks_err(format!("scrypt parameters n={n} r={r} p={par} are out of the accepted range")));
            }
            let params = scrypt::Params::new(log_n as u8, r as u32, par as u32, 32)
                .map_err(|e| ks_err(format!("scrypt parameters: {e}")))?;
            scrypt::scrypt(password, &salt, &params, dk.as_mut()).map_err(|e| ks_err(format!("scrypt: {e}")))?;
        }
        "pbkdf2" => {
            let c = uint_field(p, "c")?;
            let prf = p.get("prf").and_then(Value::as_str).unwrap_or("");
            if prf != "hmac-sha256" {
                return Err(ks_err(format!("pbkdf2 prf {prf:?} is not supported (expected hmac-sha256)")));
            }
            if c == 0 || c > u64::from(MAX_PBKDF2_ROUNDS) {
                return Err(ks_err(format!("pbkdf2 c = {c} is out of the accepted range")));
            }
            pbkdf2::pbkdf2_hmac::<Sha256>(password, &salt, c as u32, dk.as_mut());
        }
        other => return Err(ks_err(format!("kdf {other:?} is not supported (expected scrypt or pbkdf2)"))),
    }
    Ok(dk)
}

/// Reads a password from a file (trailing newline removed) or, when `file`
/// is `None`, from the environment variable `env_var`.
pub fn read_password(file: Option<&std::path::Path>, env_var: &str) -> Result<Zeroizing<String>, CryptoError> {
    let mut s = match file {
        Some(path) => Zeroizing::new(std::fs::read_to_string(path).map_err(|e| CryptoError::io(path, e))?),
        None => Zeroizing::new(std::env::var(env_var).map_err(|_| {
            ks_err(format!("no password: pass --password-file FILE or set the environment variable {env_var}"))
        })?),
    };
    while s.ends_with('\n') || s.ends_with('\r') {
        s.pop();
    }
    if s.is_empty() {
        return Err(ks_err("the password is empty"));
    }
    Ok(s)
}

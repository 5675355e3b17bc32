//! Fixed-size byte strings with `0x` hex JSON forms.

use serde::{de::Error as _, Deserialize, Deserializer, Serialize, Serializer};

/// Parses `0x`-prefixed hex of exactly `N` bytes.
pub fn parse_hex_fixed<const N: usize>(s: &str) -> Result<[u8; N], String> {
    let body = s.strip_prefix("0x").ok_or_else(|| format!("expected 0x-prefixed hex, got {:?}", truncate(s)))?;
    if body.len() != N * 2 {
        return Err(format!("expected {N} bytes ({} hex digits), got {} hex digits", N * 2, body.len()));
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(body, &mut out).map_err(|e| format!("bad hex: {e}"))?;
    Ok(out)
}

/// Parses `0x`-prefixed hex of any length up to `max` bytes.
pub fn parse_hex_var(s: &str, max: usize) -> Result<Vec<u8>, String> {
    let body = s.strip_prefix("0x").ok_or_else(|| format!("expected 0x-prefixed hex, got {:?}", truncate(s)))?;
    if body.len() % 2 != 0 {
        return Err("hex has an odd number of digits".into());
    }
    if body.len() / 2 > max {
        return Err(format!("{} bytes is over the {max} byte limit", body.len() / 2));
    }
    hex::decode(body).map_err(|e| format!("bad hex: {e}"))
}

fn truncate(s: &str) -> String {
    s.chars().take(24).collect()
}

macro_rules! fixed_bytes {
    ($(#[$doc:meta])* $name:ident, $len:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// Length in bytes.
            pub const LEN: usize = $len;

            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// `0x` hex.
            pub fn to_hex(&self) -> String {
                format!("0x{}", hex::encode(self.0))
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.to_hex())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.to_hex())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                parse_hex_fixed::<$len>(s).map(Self)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_hex())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(D::Error::custom)
            }
        }
    };
}

fixed_bytes!(
    /// A compressed BLS12-381 G1 point (public key), 48 bytes. Not checked
    /// to be on the curve: `vigil-crypto` does that.
    PublicKeyBytes,
    48
);
fixed_bytes!(
    /// A compressed BLS12-381 G2 point (signature), 96 bytes. Not checked to
    /// be on the curve: `vigil-crypto` does that.
    SignatureBytes,
    96
);

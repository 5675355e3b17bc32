//! Certificates and the signer bitmap.

use crate::{
    bytes::parse_hex_var,
    codec::{put_u16_prefixed, Reader, Wire},
    committee::MAX_COMMITTEE_SIZE,
    error::{DecodeError, InvalidError},
    vote::{VoteKind, VoteMessage},
    SignatureBytes,
};
use alloy_primitives::B256;
use serde::{de::Error as _, Deserialize, Deserializer, Serialize, Serializer};

/// Largest bitmap: one bit per member of the largest committee.
pub const MAX_BITMAP_LEN: usize = MAX_COMMITTEE_SIZE / 8;

/// Committee indexes that signed: member `i` is bit `i % 8` (least
/// significant first) of byte `i / 8` (DESIGN §4).
#[derive(Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct SignerBitmap(Vec<u8>);

impl SignerBitmap {
    /// An empty bitmap sized for a committee of `n` members.
    pub fn empty(n: usize) -> Self {
        Self(vec![0; n.div_ceil(8)])
    }

    /// Wraps raw bytes as read from the wire or JSON; check them with
    /// [`SignerBitmap::check_for`] before use.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// A bitmap for a committee of `n` with `indexes` set.
    pub fn from_indexes(n: usize, indexes: impl IntoIterator<Item = usize>) -> Result<Self, InvalidError> {
        let mut map = Self::empty(n);
        for i in indexes {
            if i >= n {
                return Err(InvalidError::Bitmap(format!("index {i} is outside a committee of {n}")));
            }
            map.set(i);
        }
        Ok(map)
    }

    /// Sets bit `i`, growing the bitmap if needed.
    pub fn set(&mut self, i: usize) {
        let byte = i / 8;
        if self.0.len() <= byte {
            self.0.resize(byte + 1, 0);
        }
        self.0[byte] |= 1 << (i % 8);
    }

    /// Whether bit `i` is set.
    pub fn contains(&self, i: usize) -> bool {
        self.0.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0)
    }

    /// Set indexes in increasing order.
    pub fn indexes(&self) -> impl Iterator<Item = usize> + '_ {
        self.0
            .iter()
            .enumerate()
            .flat_map(|(byte, &b)| (0..8).filter(move |bit| b & (1 << bit) != 0).map(move |bit| byte * 8 + bit))
    }

    /// Number of set bits.
    pub fn count(&self) -> usize {
        self.0.iter().map(|b| b.count_ones() as usize).sum()
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Checks the bitmap against a committee of `n`: exactly `ceil(n/8)`
    /// bytes, no bit at or above `n`, at least one signer.
    pub fn check_for(&self, n: usize) -> Result<(), InvalidError> {
        let want = n.div_ceil(8);
        if self.0.len() != want {
            return Err(InvalidError::Bitmap(format!(
                "{} bytes, but a committee of {n} needs exactly {want}",
                self.0.len()
            )));
        }
        if let Some(stray) = self.indexes().find(|&i| i >= n) {
            return Err(InvalidError::Bitmap(format!(
                "names index {stray}, outside the committee of {n} (stray high bit)"
            )));
        }
        if self.count() == 0 {
            return Err(InvalidError::Bitmap("names no signer".into()));
        }
        Ok(())
    }
}

impl std::fmt::Debug for SignerBitmap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{}", hex::encode(&self.0))
    }
}

impl Serialize for SignerBitmap {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("0x{}", hex::encode(&self.0)))
    }
}

impl<'de> Deserialize<'de> for SignerBitmap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        parse_hex_var(&s, MAX_BITMAP_LEN).map(Self).map_err(D::Error::custom)
    }
}

/// An aggregated verdict of a set of committee members (DESIGN §4 JSON form).
///
/// This type is only the data; `vigil-consensus` decides whether it is valid
/// for a committee.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    /// Chain the transaction is for.
    pub chain_id: u64,
    /// Committee epoch.
    pub epoch: u64,
    /// Transaction hash.
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arb_b256))]
    pub tx_hash: B256,
    /// The verdict all signers gave.
    pub kind: VoteKind,
    /// Who signed.
    pub signers: SignerBitmap,
    /// Aggregate BLS signature of the signers over the vote digest.
    pub signature: SignatureBytes,
}

impl Certificate {
    /// The statement every signer signed.
    pub fn message(&self) -> VoteMessage {
        VoteMessage { chain_id: self.chain_id, epoch: self.epoch, tx_hash: self.tx_hash, kind: self.kind }
    }
}

impl Wire for Certificate {
    const VERSION: u8 = 1;
    const MAX_SIZE: usize = 1 + 8 + 8 + 32 + 1 + 2 + MAX_BITMAP_LEN + 96;
    const NAME: &'static str = "certificate";

    fn encode_fields(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.chain_id.to_be_bytes());
        out.extend_from_slice(&self.epoch.to_be_bytes());
        out.extend_from_slice(self.tx_hash.as_slice());
        out.push(self.kind.as_byte());
        put_u16_prefixed(out, &self.signers.0);
        out.extend_from_slice(&self.signature.0);
    }

    fn decode_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            chain_id: r.u64("chain_id")?,
            epoch: r.u64("epoch")?,
            tx_hash: B256::from(r.array::<32>("tx_hash")?),
            kind: VoteKind::read(r, Self::NAME)?,
            signers: SignerBitmap(r.bytes_u16("signers", MAX_BITMAP_LEN)?.to_vec()),
            signature: SignatureBytes(r.array("signature")?),
        })
    }
}

//! The committee of an epoch: who may vote, with how much stake.

use crate::{
    codec::{put_u8_prefixed, Reader, Wire},
    error::{DecodeError, InvalidError},
    PublicKeyBytes, SignatureBytes,
};
use alloy_primitives::U256;
use serde::{de::Error as _, Deserialize, Deserializer, Serialize, Serializer};

/// Most members a committee may have (bounds bitmaps and messages).
pub const MAX_COMMITTEE_SIZE: usize = 4096;
/// Longest ruleset version string.
pub const MAX_RULESET_LEN: usize = 64;
/// Longest peer id string (base58 libp2p ids are about 52 characters).
pub const MAX_PEER_ID_LEN: usize = 128;

/// The fraction of total stake a certificate must strictly exceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    /// Numerator.
    pub num: u64,
    /// Denominator.
    pub den: u64,
}

impl Threshold {
    /// Two thirds, the default `q_admit`.
    pub const TWO_THIRDS: Self = Self { num: 2, den: 3 };

    /// Checks `1/2 <= num/den < 1`: below one half two conflicting
    /// certificates could both pass; at one or more none ever can.
    pub fn check(&self) -> Result<(), InvalidError> {
        if self.den == 0 || self.num >= self.den {
            return Err(InvalidError::Committee(format!("threshold {}/{} must be below 1", self.num, self.den)));
        }
        if u128::from(self.num) * 2 < u128::from(self.den) {
            return Err(InvalidError::Committee(format!(
                "threshold {}/{} is below 1/2, so conflicting certificates could both pass",
                self.num, self.den
            )));
        }
        Ok(())
    }

    /// Whether `signed` stake out of `total` passes: `signed * den > total * num`
    /// (computed without overflow in 512-bit arithmetic).
    pub fn passed_by(&self, signed: U256, total: U256) -> bool {
        let lhs = signed.widening_mul::<256, 4, 512, 8>(U256::from(self.den));
        let rhs = total.widening_mul::<256, 4, 512, 8>(U256::from(self.num));
        lhs > rhs
    }
}

/// Stake in wei; JSON form is a decimal string (DESIGN §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Stake(pub U256);

impl Serialize for Stake {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for Stake {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        parse_decimal(&s).map(Stake).map_err(D::Error::custom)
    }
}

/// Parses a canonical non-negative decimal integer (no sign, no leading zeros).
pub fn parse_decimal(s: &str) -> Result<U256, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("stake {s:?} is not a decimal string of wei"));
    }
    if s.len() > 1 && s.starts_with('0') {
        return Err(format!("stake {s:?} has leading zeros"));
    }
    U256::from_str_radix(s, 10).map_err(|_| format!("stake {s:?} does not fit in 256 bits"))
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Stake {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Self(U256::from_be_bytes(u.arbitrary::<[u8; 32]>()?)))
    }
}

/// One committee member.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// Position in the committee (registration order).
    pub index: u32,
    /// Compressed G1 public key.
    pub bls_pubkey: PublicKeyBytes,
    /// Proof of possession of `bls_pubkey`.
    pub pop: SignatureBytes,
    /// Stake in wei.
    pub stake: Stake,
    /// libp2p peer id of the member's node.
    pub peer_id: String,
}

/// The committee of one epoch (DESIGN §4 JSON form).
///
/// [`Committee::check`] enforces the structural rules; the cryptographic ones
/// (keys on the curve, valid proofs of possession) belong to `vigil-crypto`
/// and are checked by `vigil-consensus` when it loads a committee.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(deny_unknown_fields)]
pub struct Committee {
    /// Chain whose transactions it judges.
    pub chain_id: u64,
    /// Epoch number.
    pub epoch: u64,
    /// Detection ruleset version fixed for the epoch.
    pub ruleset: String,
    /// Stake fraction a certificate must exceed.
    pub threshold: Threshold,
    /// Members in index order.
    pub members: Vec<Member>,
}

impl Committee {
    /// Parses the JSON form and checks the structural rules.
    pub fn from_json(json: &str) -> Result<Self, String> {
        let c: Self = serde_json::from_str(json).map_err(|e| format!("committee JSON: {e}"))?;
        c.check().map_err(|e| e.to_string())?;
        Ok(c)
    }

    /// Checks: 1..=4096 members, index `i` at position `i`, positive stakes
    /// whose sum fits 256 bits, distinct keys, bounded strings, a threshold
    /// in `[1/2, 1)`.
    pub fn check(&self) -> Result<(), InvalidError> {
        let bad = InvalidError::Committee;
        self.threshold.check()?;
        if self.members.is_empty() {
            return Err(bad("has no members".into()));
        }
        if self.members.len() > MAX_COMMITTEE_SIZE {
            return Err(bad(format!("{} members, more than the {MAX_COMMITTEE_SIZE} allowed", self.members.len())));
        }
        if self.ruleset.is_empty()
            || self.ruleset.len() > MAX_RULESET_LEN
            || !self.ruleset.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(bad(format!(
                "ruleset {:?} must be 1 to {MAX_RULESET_LEN} printable ASCII characters",
                self.ruleset
            )));
        }
        let mut total = U256::ZERO;
        let mut keys = std::collections::HashSet::with_capacity(self.members.len());
        for (pos, m) in self.members.iter().enumerate() {
            if m.index as usize != pos {
                return Err(bad(format!(
                    "member at position {pos} has index {}; indexes must be 0, 1, 2, … in order",
                    m.index
                )));
            }
            if m.stake.0.is_zero() {
                return Err(bad(format!("member {pos} has zero stake")));
            }
            total = total.checked_add(m.stake.0).ok_or_else(|| bad("total stake overflows 256 bits".into()))?;
            if !keys.insert(m.bls_pubkey) {
                return Err(bad(format!("member {pos} repeats the public key {}", m.bls_pubkey)));
            }
            if m.peer_id.is_empty()
                || m.peer_id.len() > MAX_PEER_ID_LEN
                || !m.peer_id.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(bad(format!(
                    "member {pos} peer id must be 1 to {MAX_PEER_ID_LEN} ASCII letters and digits"
                )));
            }
        }
        Ok(())
    }

    /// Sum of all stakes (saturating; [`Committee::check`] rules overflow out).
    pub fn total_stake(&self) -> U256 {
        self.members.iter().fold(U256::ZERO, |acc, m| acc.saturating_add(m.stake.0))
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether there are no members (never true for a checked committee).
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

impl Wire for Committee {
    const VERSION: u8 = 1;
    const MAX_SIZE: usize =
        1 + 8 + 8 + 1 + MAX_RULESET_LEN + 16 + 4 + MAX_COMMITTEE_SIZE * (48 + 96 + 32 + 1 + MAX_PEER_ID_LEN);
    const NAME: &'static str = "committee";

    fn encode_fields(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.chain_id.to_be_bytes());
        out.extend_from_slice(&self.epoch.to_be_bytes());
        put_u8_prefixed(out, self.ruleset.as_bytes());
        out.extend_from_slice(&self.threshold.num.to_be_bytes());
        out.extend_from_slice(&self.threshold.den.to_be_bytes());
        out.extend_from_slice(&u32::try_from(self.members.len()).unwrap_or(u32::MAX).to_be_bytes());
        for m in &self.members {
            out.extend_from_slice(&m.bls_pubkey.0);
            out.extend_from_slice(&m.pop.0);
            out.extend_from_slice(&m.stake.0.to_be_bytes::<32>());
            put_u8_prefixed(out, m.peer_id.as_bytes());
        }
    }

    fn decode_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let invalid = |reason: String| DecodeError::Invalid { what: Self::NAME, reason };
        let chain_id = r.u64("chain_id")?;
        let epoch = r.u64("epoch")?;
        let ruleset = String::from_utf8(r.bytes_u8("ruleset", MAX_RULESET_LEN)?.to_vec())
            .map_err(|_| invalid("ruleset is not UTF-8".into()))?;
        let threshold = Threshold { num: r.u64("threshold.num")?, den: r.u64("threshold.den")? };
        let count = r.u32("member count")? as usize;
        if count > MAX_COMMITTEE_SIZE {
            return Err(invalid(format!("{count} members, more than the {MAX_COMMITTEE_SIZE} allowed")));
        }
        let mut members = Vec::with_capacity(count);
        for index in 0..count {
            members.push(Member {
                index: index as u32,
                bls_pubkey: PublicKeyBytes(r.array("bls_pubkey")?),
                pop: SignatureBytes(r.array("pop")?),
                stake: Stake(U256::from_be_bytes(r.array::<32>("stake")?)),
                peer_id: String::from_utf8(r.bytes_u8("peer_id", MAX_PEER_ID_LEN)?.to_vec())
                    .map_err(|_| invalid("peer id is not UTF-8".into()))?,
            });
        }
        let c = Self { chain_id, epoch, ruleset, threshold, members };
        c.check().map_err(|e| invalid(e.to_string()))?;
        Ok(c)
    }
}

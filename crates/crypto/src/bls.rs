//! BLS12-381 keys and signatures in the Ethereum proof-of-possession
//! ciphersuite (public keys in G1, signatures in G2).
//!
//! Every [`PublicKey`] has passed KeyValidate (on the curve, in the subgroup,
//! not the identity) and every [`Signature`] the subgroup check, so the
//! verification functions below never repeat those checks.

use crate::CryptoError;
use blst::{min_pk, BLST_ERROR};
use vigil_types::{PublicKeyBytes, SignatureBytes, VoteMessage};
use zeroize::Zeroizing;

/// Domain separation tag for signatures (`BLS_SIG_…_POP_`).
pub const DST_SIGN: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
/// Domain separation tag for proofs of possession (`BLS_POP_…_POP_`).
pub const DST_POP: &[u8] = b"BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/// A BLS secret key. Its bytes are zeroed when dropped (blst does this).
pub struct SecretKey(min_pk::SecretKey);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey(pubkey {})", self.public_key().to_bytes())
    }
}

impl SecretKey {
    /// A fresh key from the operating system's random generator (EIP-2333
    /// KeyGen over 32 random bytes).
    pub fn generate() -> Self {
        let mut ikm = Zeroizing::new([0u8; 32]);
        loop {
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, ikm.as_mut());
            // KeyGen fails only for input shorter than 32 bytes.
            if let Ok(sk) = Self::from_ikm(ikm.as_ref()) {
                return sk;
            }
        }
    }

    /// Deterministic KeyGen from input key material (at least 32 bytes);
    /// used for reproducible test committees.
    pub fn from_ikm(ikm: &[u8]) -> Result<Self, CryptoError> {
        min_pk::SecretKey::key_gen(ikm, &[]).map(Self).map_err(|e| {
            CryptoError::InvalidSecretKey(format!("key generation needs at least 32 bytes of input: {e:?}"))
        })
    }

    /// Parses 32 big-endian bytes; zero and values not below the group order
    /// are rejected.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != 32 {
            return Err(CryptoError::InvalidSecretKey(format!("expected 32 bytes, got {}", bytes.len())));
        }
        min_pk::SecretKey::from_bytes(bytes)
            .map(Self)
            .map_err(|_| CryptoError::InvalidSecretKey("zero, or not below the group order".into()))
    }

    /// The 32 secret bytes, zeroed when the returned value is dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.sk_to_pk())
    }

    /// Signs `msg` under the signature DST.
    pub fn sign(&self, msg: &[u8]) -> Signature {
        Signature(self.0.sign(msg, DST_SIGN, &[]))
    }

    /// Signs a vote: the DESIGN §4 digest of `msg`.
    pub fn sign_vote(&self, msg: &VoteMessage) -> Signature {
        self.sign(&msg.digest())
    }

    /// The proof of possession: a signature of the 48-byte compressed public
    /// key under the POP DST.
    pub fn prove_possession(&self) -> Signature {
        let pk = self.public_key().to_bytes();
        Signature(self.0.sign(pk.as_bytes(), DST_POP, &[]))
    }
}

/// A validated public key: on the curve, in the G1 subgroup, not the identity.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(min_pk::PublicKey);

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.to_bytes())
    }
}

impl PublicKey {
    /// Parses a 48-byte compressed key and runs KeyValidate.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != 48 {
            return Err(CryptoError::InvalidPublicKey(format!("expected 48 compressed bytes, got {}", bytes.len())));
        }
        let pk = min_pk::PublicKey::from_bytes(bytes).map_err(|e| CryptoError::InvalidPublicKey(describe(e)))?;
        pk.validate().map_err(|e| CryptoError::InvalidPublicKey(describe(e)))?;
        Ok(Self(pk))
    }

    /// Compressed form.
    pub fn to_bytes(&self) -> PublicKeyBytes {
        PublicKeyBytes(self.0.compress())
    }

    /// Whether `pop` proves possession of this key's secret.
    pub fn verify_possession(&self, pop: &Signature) -> bool {
        pop.verify_with_dst(self, self.to_bytes().as_bytes(), DST_POP)
    }

    /// Sum of keys, or `None` for an empty list. Only meaningful for keys
    /// whose possession was proven (otherwise rogue keys can cancel out).
    pub fn aggregate<'a>(keys: impl IntoIterator<Item = &'a PublicKey>) -> Option<PublicKey> {
        let mut iter = keys.into_iter();
        let first = iter.next()?;
        let mut acc = min_pk::AggregatePublicKey::from_public_key(&first.0);
        for k in iter {
            // Validation was done when each key was parsed.
            acc.add_public_key(&k.0, false).ok()?;
        }
        Some(PublicKey(acc.to_public_key()))
    }
}

/// A signature that passed the G2 subgroup check (it may be the identity,
/// which every verification rejects).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(min_pk::Signature);

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signature({})", self.to_bytes())
    }
}

impl Signature {
    /// Parses a 96-byte compressed signature and checks the subgroup.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != 96 {
            return Err(CryptoError::InvalidSignature(format!("expected 96 compressed bytes, got {}", bytes.len())));
        }
        min_pk::Signature::sig_validate(bytes, false).map(Self).map_err(|e| CryptoError::InvalidSignature(describe(e)))
    }

    /// Compressed form.
    pub fn to_bytes(&self) -> SignatureBytes {
        SignatureBytes(self.0.compress())
    }

    /// Whether this is the identity point. (Read from the compressed form's
    /// infinity flag: blst's `validate(true)` would repeat the subgroup check
    /// that decoding already did, ~80 µs on every verification.)
    pub fn is_infinity(&self) -> bool {
        let bytes = self.0.compress();
        bytes[0] & 0x40 != 0
    }

    /// Verifies a signature of `msg` by `pk`.
    pub fn verify(&self, pk: &PublicKey, msg: &[u8]) -> bool {
        self.verify_with_dst(pk, msg, DST_SIGN)
    }

    /// Verifies a vote signature over the digest of `msg`.
    pub fn verify_vote(&self, pk: &PublicKey, msg: &VoteMessage) -> bool {
        self.verify(pk, &msg.digest())
    }

    fn verify_with_dst(&self, pk: &PublicKey, msg: &[u8], dst: &[u8]) -> bool {
        !self.is_infinity() && self.0.verify(false, msg, dst, &[], &pk.0, false) == BLST_ERROR::BLST_SUCCESS
    }

    /// Sum of signatures, or `None` for an empty list.
    pub fn aggregate<'a>(sigs: impl IntoIterator<Item = &'a Signature>) -> Option<Signature> {
        let mut iter = sigs.into_iter();
        let first = iter.next()?;
        let mut acc = min_pk::AggregateSignature::from_signature(&first.0);
        for s in iter {
            acc.add_signature(&s.0, false).ok()?;
        }
        Some(Signature(acc.to_signature()))
    }

    /// FastAggregateVerify: every key signed the same `msg`. False for an
    /// empty key list.
    pub fn fast_aggregate_verify(&self, pks: &[PublicKey], msg: &[u8]) -> bool {
        match PublicKey::aggregate(pks) {
            Some(agg) => self.verify(&agg, msg),
            None => false,
        }
    }

    /// AggregateVerify: key `i` signed `msgs[i]`. False for empty or
    /// mismatched lists.
    pub fn aggregate_verify(&self, pks: &[PublicKey], msgs: &[&[u8]]) -> bool {
        if pks.is_empty() || pks.len() != msgs.len() || self.is_infinity() {
            return false;
        }
        let refs: Vec<&min_pk::PublicKey> = pks.iter().map(|p| &p.0).collect();
        self.0.aggregate_verify(false, msgs, DST_SIGN, &refs, false) == BLST_ERROR::BLST_SUCCESS
    }
}

/// One `(public key, message, signature)` triple for [`batch_verify`].
#[derive(Debug, Clone, Copy)]
pub struct SignatureSet<'a> {
    /// Signer, or the aggregate of the signers of one message.
    pub public_key: &'a PublicKey,
    /// Signed message.
    pub message: &'a [u8],
    /// Signature, or aggregate signature.
    pub signature: &'a Signature,
}

/// Verifies many signature sets at once with a random linear combination:
/// one multi-pairing instead of one pairing product per set. True only if
/// every set verifies (up to a 2^-64 chance per call that an invalid batch
/// passes). False for an empty batch.
pub fn batch_verify(sets: &[SignatureSet<'_>]) -> bool {
    if sets.is_empty() || sets.iter().any(|s| s.signature.is_infinity()) {
        return false;
    }
    let mut rng = rand::rngs::OsRng;
    let rands: Vec<blst::blst_scalar> = sets
        .iter()
        .map(|_| {
            let mut b = [0u8; 32];
            // A zero scalar would drop its set from the check.
            let r = loop {
                let r = rand::RngCore::next_u64(&mut rng);
                if r != 0 {
                    break r;
                }
            };
            b[..8].copy_from_slice(&r.to_le_bytes());
            blst::blst_scalar { b }
        })
        .collect();
    let msgs: Vec<&[u8]> = sets.iter().map(|s| s.message).collect();
    let pks: Vec<&min_pk::PublicKey> = sets.iter().map(|s| &s.public_key.0).collect();
    let sigs: Vec<&min_pk::Signature> = sets.iter().map(|s| &s.signature.0).collect();
    min_pk::Signature::verify_multiple_aggregate_signatures(&msgs, DST_SIGN, &pks, false, &sigs, false, &rands, 64)
        == BLST_ERROR::BLST_SUCCESS
}

/// Whether `bytes` is a valid compressed G1 point in the subgroup (the
/// identity included): the point-decoding rule, not KeyValidate.
pub fn is_valid_g1_point(bytes: &[u8]) -> bool {
    bytes.len() == 48
        && min_pk::PublicKey::from_bytes(bytes)
            .is_ok_and(|pk| matches!(pk.validate(), Ok(()) | Err(BLST_ERROR::BLST_PK_IS_INFINITY)))
}

/// Whether `bytes` is a valid compressed G2 point in the subgroup (the
/// identity included).
pub fn is_valid_g2_point(bytes: &[u8]) -> bool {
    bytes.len() == 96 && min_pk::Signature::sig_validate(bytes, false).is_ok()
}

fn describe(e: BLST_ERROR) -> String {
    match e {
        BLST_ERROR::BLST_BAD_ENCODING => "bad encoding (flag bits or length)".into(),
        BLST_ERROR::BLST_POINT_NOT_ON_CURVE => "point is not on the curve".into(),
        BLST_ERROR::BLST_POINT_NOT_IN_GROUP => "point is not in the prime-order subgroup".into(),
        BLST_ERROR::BLST_PK_IS_INFINITY => "point at infinity".into(),
        other => format!("{other:?}"),
    }
}

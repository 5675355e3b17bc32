//! A committee whose keys and proofs of possession have been checked.

use crate::error::{CertificateError, CommitteeError};
use std::{collections::HashMap, sync::Mutex};
use vigil_crypto::{PublicKey, Signature};
use vigil_types::{Committee, SignerBitmap, Threshold, U256};

/// Aggregate keys kept per committee, by signer bitmap.
const AGG_CACHE_LIMIT: usize = 256;

/// The committee of one epoch, ready for verification: structure checked,
/// every key KeyValidated, every proof of possession verified. Holding one is
/// the proof that rogue-key aggregation is impossible.
#[derive(Debug)]
pub struct VerifiedCommittee {
    committee: Committee,
    keys: Vec<PublicKey>,
    stakes: Vec<U256>,
    total: U256,
    /// Aggregate key of a signer set, by bitmap bytes.
    agg_cache: Mutex<HashMap<Vec<u8>, PublicKey>>,
}

impl VerifiedCommittee {
    /// Checks a committee: structure, keys, proofs of possession.
    pub fn new(committee: Committee) -> Result<Self, CommitteeError> {
        committee.check().map_err(|e| CommitteeError::Structure(e.to_string()))?;
        let mut keys = Vec::with_capacity(committee.members.len());
        for m in &committee.members {
            let pk = PublicKey::from_bytes(m.bls_pubkey.as_bytes())
                .map_err(|e| CommitteeError::InvalidKey { index: m.index, reason: e.to_string() })?;
            let pop_ok = Signature::from_bytes(m.pop.as_bytes()).is_ok_and(|pop| pk.verify_possession(&pop));
            if !pop_ok {
                return Err(CommitteeError::InvalidPop { index: m.index });
            }
            keys.push(pk);
        }
        let stakes: Vec<U256> = committee.members.iter().map(|m| m.stake.0).collect();
        let total = committee.total_stake();
        Ok(Self { committee, keys, stakes, total, agg_cache: Mutex::new(HashMap::new()) })
    }

    /// The committee data.
    pub fn committee(&self) -> &Committee {
        &self.committee
    }

    /// Chain served.
    pub fn chain_id(&self) -> u64 {
        self.committee.chain_id
    }

    /// Epoch.
    pub fn epoch(&self) -> u64 {
        self.committee.epoch
    }

    /// Threshold.
    pub fn threshold(&self) -> Threshold {
        self.committee.threshold
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Never true: a verified committee has members.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Total stake `S_e`.
    pub fn total_stake(&self) -> U256 {
        self.total
    }

    /// Key of member `index`.
    pub fn key(&self, index: u32) -> Option<&PublicKey> {
        self.keys.get(index as usize)
    }

    /// Stake of member `index`.
    pub fn stake(&self, index: u32) -> Option<U256> {
        self.stakes.get(index as usize).copied()
    }

    /// Stake of a set of members (saturating; the total fits by construction).
    pub fn stake_of(&self, indexes: impl IntoIterator<Item = usize>) -> U256 {
        indexes.into_iter().filter_map(|i| self.stakes.get(i)).fold(U256::ZERO, |acc, s| acc.saturating_add(*s))
    }

    /// Whether `signed` stake is enough for a certificate.
    pub fn passes_threshold(&self, signed: U256) -> bool {
        self.committee.threshold.passed_by(signed, self.total)
    }

    /// Checks a bitmap against the committee and returns the signers' stake.
    pub fn bitmap_stake(&self, bitmap: &SignerBitmap) -> Result<U256, CertificateError> {
        bitmap.check_for(self.len()).map_err(|e| CertificateError::Bitmap(e.to_string()))?;
        Ok(self.stake_of(bitmap.indexes()))
    }

    /// Aggregate public key of the signers in `bitmap` (checked by the
    /// caller), cached per bitmap.
    pub fn aggregate_key(&self, bitmap: &SignerBitmap) -> Option<PublicKey> {
        if let Ok(cache) = self.agg_cache.lock() {
            if let Some(pk) = cache.get(bitmap.as_bytes()) {
                return Some(*pk);
            }
        }
        let pk = PublicKey::aggregate(bitmap.indexes().filter_map(|i| self.keys.get(i)))?;
        if let Ok(mut cache) = self.agg_cache.lock() {
            if cache.len() >= AGG_CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(bitmap.as_bytes().to_vec(), pk);
        }
        Some(pk)
    }

    /// Aggregate key computed without the cache (benchmarks use it to
    /// measure the cold path).
    pub fn aggregate_key_uncached(&self, bitmap: &SignerBitmap) -> Option<PublicKey> {
        PublicKey::aggregate(bitmap.indexes().filter_map(|i| self.keys.get(i)))
    }
}

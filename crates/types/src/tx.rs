//! Pending transactions: EIP-2718 envelopes as a wallet sends them.

use alloy_consensus::{transaction::SignerRecoverable, Transaction as _, TxEnvelope};
use alloy_eips::eip2718::{Decodable2718, Eip2718Error, Encodable2718};
use alloy_primitives::{Address, Bytes, B256};

/// Largest raw transaction accepted anywhere in Vigil (the limit geth applies
/// to its pool: 128 KiB).
pub const MAX_TX_SIZE: usize = 128 * 1024;

/// Why raw bytes are not an acceptable transaction.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TxDecodeError {
    /// No bytes at all.
    #[error("empty transaction: expected an EIP-2718 envelope")]
    Empty,
    /// Larger than [`MAX_TX_SIZE`].
    #[error("transaction is {size} bytes, more than the {max} byte limit")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A typed envelope whose type byte Vigil does not accept.
    #[error(
        "transaction type 0x{0:02x} is not supported (accepted: legacy, 0x01 EIP-2930, 0x02 EIP-1559, 0x04 EIP-7702)"
    )]
    UnsupportedType(u8),
    /// The RLP payload does not decode.
    #[error("malformed transaction: {0}")]
    Malformed(String),
    /// Bytes left over after a complete envelope.
    #[error("{0} trailing bytes after the transaction envelope")]
    TrailingBytes(usize),
    /// The signature does not recover to an address.
    #[error("invalid signature: {0}")]
    BadSignature(String),
}

/// A decoded transaction with its recovered sender and hash.
///
/// Construction goes through [`Transaction::decode`], so every value of this
/// type holds a well-formed envelope whose signature recovers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    raw: Bytes,
    envelope: TxEnvelope,
    sender: Address,
    hash: B256,
}

impl Transaction {
    /// Decodes raw EIP-2718 bytes (legacy, 2930, 1559 or 7702), checks the
    /// size limit and that nothing trails the envelope, and recovers the
    /// sender.
    pub fn decode(raw: &[u8]) -> Result<Self, TxDecodeError> {
        if raw.is_empty() {
            return Err(TxDecodeError::Empty);
        }
        if raw.len() > MAX_TX_SIZE {
            return Err(TxDecodeError::TooLarge { size: raw.len(), max: MAX_TX_SIZE });
        }
        let first = raw[0];
        // Typed envelopes start with a type byte below 0x7f; legacy ones with
        // an RLP list header (>= 0xc0).
        if first < 0x7f && !matches!(first, 0x01 | 0x02 | 0x04) {
            return Err(TxDecodeError::UnsupportedType(first));
        }
        let mut buf = raw;
        let envelope = TxEnvelope::decode_2718(&mut buf).map_err(|e| match e {
            Eip2718Error::UnexpectedType(t) => TxDecodeError::UnsupportedType(t),
            other => TxDecodeError::Malformed(other.to_string()),
        })?;
        if !buf.is_empty() {
            return Err(TxDecodeError::TrailingBytes(buf.len()));
        }
        if matches!(envelope, TxEnvelope::Eip4844(_)) {
            return Err(TxDecodeError::UnsupportedType(0x03));
        }
        // Re-encoding must give the input back: rejects non-canonical RLP
        // that a lenient decoder let through.
        if envelope.encoded_2718() != raw {
            return Err(TxDecodeError::Malformed("non-canonical encoding".into()));
        }
        let hash = *envelope.tx_hash();
        let sender = match senders::get(&hash) {
            Some(sender) => sender,
            None => {
                let sender = envelope.recover_signer().map_err(|e| TxDecodeError::BadSignature(e.to_string()))?;
                senders::put(hash, sender);
                sender
            }
        };
        Ok(Self { raw: Bytes::copy_from_slice(raw), envelope, sender, hash })
    }

    /// The bytes as received.
    pub fn raw(&self) -> &Bytes {
        &self.raw
    }

    /// The decoded envelope.
    pub fn envelope(&self) -> &TxEnvelope {
        &self.envelope
    }

    /// The address that signed it.
    pub fn sender(&self) -> Address {
        self.sender
    }

    /// keccak256 of the raw bytes: the hash wallets and explorers show.
    pub fn hash(&self) -> B256 {
        self.hash
    }

    /// Chain id, `None` for a pre-EIP-155 legacy transaction.
    pub fn chain_id(&self) -> Option<u64> {
        self.envelope.chain_id()
    }

    /// Sender nonce.
    pub fn nonce(&self) -> u64 {
        self.envelope.nonce()
    }

    /// EIP-2718 type byte (0 for legacy).
    pub fn tx_type(&self) -> u8 {
        self.envelope.tx_type() as u8
    }
}

/// Senders recovered in this process, by transaction hash. The hash covers
/// the signature, so it fixes the sender; and every process decodes the
/// same transaction several times (received, relayed, replayed in a block,
/// read back for RPC answers), of which secp256k1 recovery is the costly
/// part (~70 µs). Bounded: the oldest entries go first.
mod senders {
    use std::{
        collections::{HashMap, VecDeque},
        sync::{LazyLock, Mutex},
    };

    use alloy_primitives::{Address, B256};

    const CAPACITY: usize = 1 << 16;

    #[derive(Default)]
    struct Cache {
        map: HashMap<B256, Address>,
        order: VecDeque<B256>,
    }

    static CACHE: LazyLock<Mutex<Cache>> = LazyLock::new(Mutex::default);

    pub(super) fn get(hash: &B256) -> Option<Address> {
        CACHE.lock().unwrap_or_else(std::sync::PoisonError::into_inner).map.get(hash).copied()
    }

    pub(super) fn put(hash: B256, sender: Address) {
        let mut cache = CACHE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.map.insert(hash, sender).is_none() {
            cache.order.push_back(hash);
            if cache.order.len() > CAPACITY {
                if let Some(old) = cache.order.pop_front() {
                    cache.map.remove(&old);
                }
            }
        }
    }
}

//! The devnet's on-disk layout (RocksDB column families) and record
//! encodings.
//!
//! | column family | key | value |
//! | --- | --- | --- |
//! | `meta` | `head` | number of the last committed block (u64 BE) |
//! | `blocks` | number (u64 BE) | [`StoredBlock`](crate::chain::StoredBlock) JSON |
//! | `block_by_hash` | block hash | number (u64 BE) |
//! | `txs` | tx hash | [`StoredTx`](crate::chain::StoredTx) JSON |
//! | `receipts` | tx hash | [`StoredReceipt`](crate::chain::StoredReceipt) JSON |
//! | `accounts` | address | nonce (u64 BE) ‖ balance (32) ‖ code hash (32) |
//! | `storage` | address ‖ slot (32) | value (32), absent when zero |
//! | `code` | code hash | runtime code |
//! | `pool` | tx hash | raw transaction held for inclusion (acknowledged) |
//! | `certs` | tx hash | certificate (DESIGN §4 JSON) acknowledged |
//! | `diffs` | number (u64 BE) | the block's state changes, JSON (`vigil_getBlockStateDiff`) |

use alloy_primitives::{Address, U256};
use serde::{de::DeserializeOwned, Serialize};
use vigil_store::StoreError;

/// Column family names.
pub mod cf {
    /// Head pointer and genesis.
    pub const META: &str = "meta";
    /// Blocks by number.
    pub const BLOCKS: &str = "blocks";
    /// Block numbers by hash.
    pub const BLOCK_BY_HASH: &str = "block_by_hash";
    /// Included transactions.
    pub const TXS: &str = "txs";
    /// Receipts.
    pub const RECEIPTS: &str = "receipts";
    /// Account info.
    pub const ACCOUNTS: &str = "accounts";
    /// Storage slots.
    pub const STORAGE: &str = "storage";
    /// Contract code.
    pub const CODE: &str = "code";
    /// Acknowledged transactions not yet included.
    pub const POOL: &str = "pool";
    /// Acknowledged certificates of transactions not yet included.
    pub const CERTS: &str = "certs";
    /// Acknowledged operator releases (DESIGN §7) of transactions not yet
    /// included, by transaction hash.
    pub const RELEASES: &str = "releases";
    /// State changes per block (what a follower applies).
    pub const DIFFS: &str = "diffs";

    /// Every column family.
    pub const ALL: &[&str] =
        &[META, BLOCKS, BLOCK_BY_HASH, TXS, RECEIPTS, ACCOUNTS, STORAGE, CODE, POOL, CERTS, RELEASES, DIFFS];
}

/// Key helpers.
#[derive(Debug)]
pub struct Keys;

impl Keys {
    /// The head pointer's key.
    pub const HEAD: &'static [u8] = b"head";

    /// Key of a storage slot.
    pub fn slot(address: Address, slot: U256) -> Vec<u8> {
        let mut k = Vec::with_capacity(52);
        k.extend_from_slice(address.as_slice());
        k.extend_from_slice(&slot.to_be_bytes::<32>());
        k
    }

    /// A big-endian u64.
    pub fn decode_u64(v: &[u8]) -> Option<u64> {
        Some(u64::from_be_bytes(v.try_into().ok()?))
    }
}

/// JSON encoding of a record.
pub fn encode_json<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing these plain structs cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

/// Decodes a JSON record, naming the column family if it is corrupt.
pub fn decode_json<T: DeserializeOwned>(cf: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt { cf, reason: e.to_string() })
}

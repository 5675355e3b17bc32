//! An operator's release of a quarantined transaction (DESIGN §7).
//!
//! Where a chain's policy allows an operator override, a quarantined
//! transaction is released by a statement signed with an operator's ed25519
//! key; the gate admits the transaction only when the key is one of its
//! configured operator keys and the signature verifies. The signed message
//! binds the chain and the transaction, so a release cannot be replayed on
//! another chain or for another transaction.

use alloy_primitives::{FixedBytes, B256};
use serde::{Deserialize, Serialize};

/// Domain separation of the signed message.
pub const RELEASE_DOMAIN: &[u8; 24] = b"vigil/operator-release/1";

/// A signed release (JSON: `{chain_id, tx_hash, operator, signature, note?}`,
/// the key and signature as 0x hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorRelease {
    /// Chain of the transaction.
    pub chain_id: u64,
    /// The quarantined transaction.
    pub tx_hash: B256,
    /// The operator's ed25519 public key.
    pub operator: B256,
    /// ed25519 signature over [`OperatorRelease::message`].
    pub signature: FixedBytes<64>,
    /// Why (for the record; not signed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl OperatorRelease {
    /// Longest note kept.
    pub const MAX_NOTE: usize = 2000;

    /// The signed message: domain, chain id (8 bytes, big-endian), hash.
    pub fn message(chain_id: u64, tx_hash: B256) -> [u8; 64] {
        let mut m = [0u8; 64];
        m[..24].copy_from_slice(RELEASE_DOMAIN);
        m[24..32].copy_from_slice(&chain_id.to_be_bytes());
        m[32..].copy_from_slice(tx_hash.as_slice());
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_binds_chain_and_transaction_and_the_json_is_hex() {
        let a = OperatorRelease::message(1, B256::repeat_byte(1));
        assert_ne!(a, OperatorRelease::message(2, B256::repeat_byte(1)));
        assert_ne!(a, OperatorRelease::message(1, B256::repeat_byte(2)));
        assert_eq!(&a[..24], RELEASE_DOMAIN);
        let r = OperatorRelease {
            chain_id: 7,
            tx_hash: B256::repeat_byte(3),
            operator: B256::repeat_byte(4),
            signature: FixedBytes::repeat_byte(5),
            note: None,
        };
        let json = serde_json::to_value(&r).expect("json");
        assert_eq!(json["operator"], format!("0x{}", "04".repeat(32)));
        assert!(json.get("note").is_none());
        assert_eq!(serde_json::from_value::<OperatorRelease>(json).expect("back"), r);
        let extra = serde_json::json!({"chain_id": 7, "tx_hash": r.tx_hash, "operator": r.operator, "signature": r.signature, "x": 1});
        assert!(serde_json::from_value::<OperatorRelease>(extra).is_err());
    }
}

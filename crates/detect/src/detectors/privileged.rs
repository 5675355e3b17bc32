//! A privileged slot set to the sender's side by a stranger.

use crate::{
    analysis::{address_word, word_address, Analysis},
    finding::{Finding, Severity},
};
use alloy_primitives::{b256, U256};

/// Rule id.
pub const RULE: &str = "privileged-slot-takeover";

/// EIP-1967 implementation, admin and beacon slots.
const EIP1967: [alloy_primitives::B256; 3] = [
    b256!("0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc"),
    b256!("0xb53127684a568b3173ae13b9f8a6016e243e63b6e8ee1178d6a717850b5d6103"),
    b256!("0xa3f0ad74e5423aebfd80d3ef4346578335a9a72aeaa59f8c1c0d02f2e1eac6be"),
];

/// Low slots hold a contract's own variables (owner, admin, initialized);
/// mapping and array entries live at hashed, huge slot numbers.
fn is_privileged_slot(slot: U256) -> bool {
    slot < U256::from(64u64) || EIP1967.iter().any(|s| U256::from_be_bytes(s.0) == slot)
}

pub fn detect(a: &Analysis<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for ((contract, slot), (old, new)) in &a.slot_changes {
        if a.is_actor(*contract) || a.created.contains(contract) || !is_privileged_slot(*slot) {
            continue;
        }
        let Some(new_addr) = word_address(*new) else { continue };
        let to_actor = a.is_actor(new_addr);
        let eip1967 = *slot >= U256::from(64u64);
        if !to_actor && !eip1967 {
            continue;
        }
        // The old value was empty or another address (not a counter or amount).
        if *old != U256::ZERO && word_address(*old).is_none() {
            continue;
        }
        if *old == address_word(a.sender()) {
            continue;
        }
        // An existing admin acting is not a takeover.
        if a.role_authorization(*contract).is_some_and(|w| w == a.sender()) && *old != U256::ZERO {
            continue;
        }
        let paid = a.flows_of(*contract).is_some_and(|f| f.values().any(crate::analysis::is_loss));
        out.push(Finding {
            rule: RULE,
            severity: if paid { Severity::Critical } else { Severity::High },
            addresses: vec![*contract, new_addr],
            message: format!(
                "slot {slot:#x} of {contract} (an owner/admin-type slot) changed from {old:#x} to {new_addr}, \
                 {} contract {} did not deploy{}",
                if to_actor { "the sender's side, in a" } else { "in a" },
                if a.history.deployer(*contract).is_some() {
                    "the sender"
                } else {
                    "whose deployer is unknown and the sender"
                },
                if paid { "; the contract then lost assets" } else { "" }
            ),
        });
    }
    out
}

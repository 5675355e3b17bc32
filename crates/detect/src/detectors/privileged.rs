//! A privileged slot set to the sender's side by a stranger.

use crate::{
    analysis::{address_word, is_variable_slot, word_address, word_holds_address, Analysis},
    finding::{Finding, Severity},
};
use alloy_primitives::U256;

/// Rule id.
pub const RULE: &str = "privileged-slot-takeover";

pub fn detect(a: &Analysis<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for ((contract, slot), (old, new)) in &a.slot_changes {
        if a.is_actor(*contract) || a.created.contains(contract) || !is_variable_slot(*slot) {
            continue;
        }
        // The actor address the slot now holds (possibly packed with flags).
        let packed_actor =
            a.actors.iter().copied().find(|x| word_holds_address(*new, *x) && !word_holds_address(*old, *x));
        let Some(new_addr) = packed_actor.or_else(|| word_address(*new)) else { continue };
        let to_actor = a.is_actor(new_addr);
        let eip1967 = *slot >= U256::from(64u64);
        if !to_actor && !eip1967 {
            continue;
        }
        // The old value was empty or held another address (not a counter or amount).
        if *old != U256::ZERO && word_address(*old).is_none() && packed_actor.is_none() {
            continue;
        }
        if *old == address_word(a.sender()) {
            continue;
        }
        // An existing admin acting is not a takeover.
        if a.role_authorization(*contract).is_some_and(|w| w == a.sender()) && *old != U256::ZERO {
            continue;
        }
        let paid = a.flows_of(*contract).is_some_and(|f| f.iter().any(|(k, v)| crate::analysis::is_loss(k, v)));
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

//! Value extraction: a protocol loses assets with nothing in return, its own
//! accounting shows no reason for the payout, and the sender's side gains.
//!
//! "Its own accounting" is what separates attacks from arbitrage,
//! liquidations, withdrawals and migrations: a trade or loan brings assets
//! in (mixed flows), a withdrawal burns the claimant's shares or debits a
//! recorded balance by the amount paid, an owner's or governance payout is
//! authorized by a stored role or a stored signer's signature.

use crate::{
    analysis::{amount, is_gain, is_loss, Analysis},
    finding::{Finding, Severity},
};
use alloy_primitives::{I256, U256};

/// Rule id.
pub const RULE: &str = "value-extraction";

pub fn detect(a: &Analysis<'_>) -> Vec<Finding> {
    let actor = a.actor_flows();
    if !actor.values().any(is_gain) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (victim, flows) in &a.flows {
        if a.is_actor(*victim) || !a.is_contract(*victim) {
            continue;
        }
        let losses: Vec<_> = flows.iter().filter(|(_, v)| is_loss(v)).collect();
        if losses.is_empty() || flows.values().any(is_gain) {
            continue;
        }
        // Only losses the sender's side gained count.
        let taken: Vec<_> = losses.iter().filter(|(asset, _)| actor.get(asset).is_some_and(is_gain)).collect();
        let Some((asset, loss)) = taken.first() else { continue };
        if backed(a, *victim, loss.unsigned_abs()) {
            continue;
        }
        let gained = actor.get(asset).copied().unwrap_or(I256::ZERO);
        out.push(Finding {
            rule: RULE,
            severity: Severity::Critical,
            addresses: vec![*victim, a.sender()],
            message: format!(
                "{victim} lost {} of {asset} and received nothing, with no matching debit, share burn or stored \
                 authorization on its side; the sender's side gained {} of it",
                amount(loss),
                amount(&gained)
            ),
        });
    }
    out
}

/// Whether the victim's own accounting explains a payout of `loss`.
fn backed(a: &Analysis<'_>, victim: alloy_primitives::Address, loss: U256) -> bool {
    if a.actors_burned() {
        return true;
    }
    // A recorded claim debited (or a debt recorded) by about the amount paid.
    let lo = loss - loss / U256::from(20);
    let hi = loss + loss / U256::from(20);
    let recorded = a.slot_changes.iter().any(|((c, _), (old, new))| {
        let d = if old > new { old - new } else { new - old };
        *c == victim && d >= lo && d <= hi
    });
    if recorded {
        return true;
    }
    // An owner acting, or a stored signer's signature.
    a.role_authorization(victim).is_some_and(|who| who == a.sender()) || a.signature_authorization(victim).is_some()
}

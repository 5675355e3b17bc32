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

/// Losses below this many base units are small enough for rounding to matter.
const SMALL_LOSS: u64 = 1_000_000_000_000;

pub fn detect(a: &Analysis<'_>) -> Vec<Finding> {
    let actor = a.actor_flows();
    if !actor.iter().any(|(k, v)| is_gain(k, v)) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (victim, flows) in &a.flows {
        if a.is_actor(*victim) || !a.is_contract(*victim) {
            continue;
        }
        let losses: Vec<_> = flows.iter().filter(|(k, v)| is_loss(k, v)).collect();
        // Tokens the sender's side issues itself are no payment: a fake
        // collateral or fake pool token is worth what its issuer says.
        if losses.is_empty() || flows.iter().any(|(k, v)| is_gain(k, v) && !issued_by_actor(a, k)) {
            continue;
        }
        // In a transaction this small, rounding decides; any inflow at all
        // means the contract was paid something.
        let small = losses.iter().all(|(_, v)| v.unsigned_abs() < U256::from(SMALL_LOSS));
        if small && flows.values().any(|v| *v > I256::ZERO) {
            continue;
        }
        // Only losses the sender's side gained count.
        let taken: Vec<_> =
            losses.iter().filter(|(asset, _)| actor.get(*asset).is_some_and(|v| is_gain(asset, v))).collect();
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
    // The claimant redeemed the victim's own shares or position tokens.
    if a.actors_burned(victim) {
        return true;
    }
    // A claim debited (or a debt recorded) by about the amount paid, in an
    // entry the victim keeps for the sender's side or for the account that
    // called it (a router unwrapping for a user).
    let lo = loss - loss / U256::from(20);
    let hi = loss + loss / U256::from(20);
    let mut keyed = None;
    let recorded = a.slot_changes.iter().filter(|((c, _), _)| *c == victim).any(|((_, slot), (old, new))| {
        let d = if old > new { old - new } else { new - old };
        d >= lo
            && d <= hi
            && keyed
                .get_or_insert_with(|| {
                    let mut who = a.actors.clone();
                    who.extend(a.frames_of(victim).map(|f| f.caller));
                    a.keyed_slots(&who)
                })
                .contains(slot)
    });
    if recorded {
        return true;
    }
    // The claimant had a position on the victim's books before this
    // transaction (a stake, a deposit): the victim read a non-zero entry it
    // keeps for the sender's side that nothing in this transaction wrote first.
    if a.holds_prior_entry(victim) {
        return true;
    }
    // An owner acting, or a stored signer's signature.
    a.role_authorization(victim).is_some_and(|who| who == a.sender()) || a.signature_authorization(victim).is_some()
}

/// Whether the sender's side controls the contract of `asset`.
fn issued_by_actor(a: &Analysis<'_>, asset: &crate::analysis::Asset) -> bool {
    use crate::analysis::Asset;
    match asset {
        Asset::Native => false,
        Asset::Token(t) | Asset::Nft(t) | Asset::Item(t, _) => a.is_actor(*t),
    }
}

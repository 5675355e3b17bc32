//! Value extraction: a protocol loses assets with nothing in return, its own
//! books show no reason for the payout, and the sender's side gains.
//!
//! "Its own books" is what separates attacks from arbitrage, liquidations,
//! withdrawals, claims and migrations (`Analysis::backing`): shares
//! redeemed, an obligation recorded, a prior position or proven claim, a
//! stored role or signer, a proof against a stored root, another asset paid
//! in. A payout none of that explains is an attack when it is material to
//! the payer: at least [`MATERIAL_PERCENT`] % of what it held of the asset
//! (or of an unknown holding); a smaller one is a note (medium: a bounty, a
//! tip, a rounding gift), since an unexplained payout that small is everyday
//! on a chain and costs the protocol little.

use crate::{
    analysis::{amount, is_gain, is_loss, Analysis, Asset},
    finding::{Finding, Severity},
};
use alloy_primitives::{Address, I256, U256};

/// Rule id.
pub const RULE: &str = "value-extraction";

/// Losses below this many base units are small enough for rounding to matter.
const SMALL_LOSS: u64 = 1_000_000_000_000;

/// Share of the payer's holding from which an unexplained payout is an
/// attack rather than an alert.
pub const MATERIAL_PERCENT: u64 = 1;

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
        // Anything received is a payment (a trade, a loan's collateral),
        // however few base units: tokens have 6, 8 or 18 decimals. Tokens
        // the sender's side issues itself are no payment: a fake collateral
        // or fake pool token is worth what its issuer says.
        if losses.is_empty() || flows.iter().any(|(k, v)| *v > I256::ZERO && !issued_by_actor(a, k)) {
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
        if a.backing(*victim, **asset, loss.unsigned_abs()).is_some() {
            continue;
        }
        let gained = actor.get(asset).copied().unwrap_or(I256::ZERO);
        // What the sender's side took of it (a relayer's fee out of a payout
        // to someone else is the fee, not the payout).
        let taken = loss.unsigned_abs().min(gained.unsigned_abs());
        let held = holding_before(a, *victim, **asset, loss.unsigned_abs());
        let material = held
            .is_none_or(|h| taken.saturating_mul(U256::from(100)) >= h.saturating_mul(U256::from(MATERIAL_PERCENT)));
        let share = held.map_or_else(String::new, |h| format!(" (it held {h} before)"));
        out.push(Finding {
            rule: RULE,
            severity: if material { Severity::Critical } else { Severity::Medium },
            addresses: vec![*victim, a.sender()],
            message: format!(
                "{victim} lost {} of {asset}{share} and received nothing, with no share burn, recorded obligation, \
                 prior position, stored role or signer, or proof on its protocol's books; the sender's side gained \
                 {} of it",
                amount(loss),
                amount(&gained)
            ),
        });
    }
    out
}

/// What `victim` held of `asset` before the transaction, when the trace
/// shows it: its ether balance, or the first value of its balance entry in
/// the token's storage (never less than what it paid out).
fn holding_before(a: &Analysis<'_>, victim: Address, asset: Asset, loss: U256) -> Option<U256> {
    let held = match asset {
        Asset::Native => a.trace.balance_changes.get(&victim).map(|c| c.before),
        Asset::Token(t) => a.balance_before(t, victim),
        Asset::Nft(_) | Asset::Item(..) => None,
    }?;
    Some(held.max(loss))
}

/// Whether the sender's side controls the contract of `asset`.
fn issued_by_actor(a: &Analysis<'_>, asset: &Asset) -> bool {
    match asset {
        Asset::Native => false,
        Asset::Token(t) | Asset::Nft(t) | Asset::Item(t, _) => a.is_actor(*t),
    }
}

//! A position opened and closed within the transaction while the protocol
//! pays the sender's side something else: a flash-staked reward claim, a
//! vote or share weight held only for the length of one call.

use crate::{
    analysis::{is_gain, is_loss, Analysis, Asset, DUST},
    finding::{Finding, Severity},
};
use alloy_primitives::{Address, U256};
use std::collections::BTreeMap;
use vigil_sim::trace::TokenEventKind;

/// Rule id.
pub const RULE: &str = "transient-position";

pub fn detect(a: &Analysis<'_>) -> Vec<Finding> {
    // Gross ERC-20 amounts between the sender's side and each other contract.
    let mut into: BTreeMap<(Address, Address), U256> = BTreeMap::new();
    let mut out_of: BTreeMap<(Address, Address), U256> = BTreeMap::new();
    let mut lent: BTreeMap<Address, Vec<(Address, U256)>> = BTreeMap::new();
    for e in a.trace.token_events.iter().filter(|e| !e.reverted) {
        let TokenEventKind::Erc20Transfer { from, to, amount } = &e.kind else { continue };
        if a.is_actor(*from) && !a.is_actor(*to) {
            *into.entry((*to, e.token)).or_default() += *amount;
        } else if !a.is_actor(*from) && a.is_actor(*to) {
            *out_of.entry((*from, e.token)).or_default() += *amount;
            lent.entry(e.token).or_default().push((*from, *amount));
        }
    }
    let actor = a.actor_flows();
    for ((v, token), put) in &into {
        if a.is_actor(*v) || !a.is_contract(*v) || *put <= U256::from(DUST) {
            continue;
        }
        let Some(took) = out_of.get(&(*v, *token)) else { continue };
        // Round trip: back out within 1% of what went in.
        let diff = if took > put { *took - *put } else { *put - *took };
        if diff.saturating_mul(U256::from(100)) > *put {
            continue;
        }
        // Meanwhile the contract lost another asset to the sender's side.
        let Some(flows) = a.flows_of(*v) else { continue };
        let Some((reward, loss)) = flows.iter().find(|(asset, f)| {
            **asset != Asset::Token(*token) && is_loss(asset, f) && actor.get(*asset).is_some_and(|v| is_gain(asset, v))
        }) else {
            continue;
        };
        // Was the position's asset itself borrowed from a third contract for the call?
        let borrowed = lent.get(token).is_some_and(|xs| {
            xs.iter().any(|(lender, amt)| lender != v && a.is_contract(*lender) && *amt >= *put / U256::from(2))
        });
        return vec![Finding {
            rule: RULE,
            severity: if borrowed { Severity::Critical } else { Severity::High },
            addresses: vec![*v],
            message: format!(
                "the sender's side put {put} of token {token} into {v} and took {took} back out in the same \
                 transaction, while {v} paid it {} of {reward}{}",
                loss.unsigned_abs(),
                if borrowed { "; the position was funded by assets borrowed for the transaction" } else { "" }
            ),
        }];
    }
    Vec::new()
}

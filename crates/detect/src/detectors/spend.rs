//! Tokens moved out of holders who are not party to the transaction, under
//! an allowance they gave to someone else.

use crate::{
    analysis::{is_gain, Analysis, Asset},
    finding::{Finding, Severity},
};
use std::collections::BTreeSet;
use vigil_sim::trace::TokenEventKind;

/// Rule id.
pub const RULE: &str = "third-party-spend";

pub fn detect(a: &Analysis<'_>) -> Vec<Finding> {
    let signers = a.signers();
    let active: BTreeSet<_> =
        a.trace.frames.iter().filter(|f| !f.reverted).flat_map(|f| [f.caller, f.callee]).collect();
    let actor = a.actor_flows();
    let mut victims: BTreeSet<(alloy_primitives::Address, alloy_primitives::Address)> = BTreeSet::new();
    for e in a.trace.token_events.iter().filter(|e| !e.reverted) {
        let (TokenEventKind::Erc20Transfer { from, .. } | TokenEventKind::Erc721Transfer { from, .. }) = &e.kind else {
            continue;
        };
        let holder = *from;
        if holder.is_zero() || a.is_actor(holder) || a.is_contract(holder) || active.contains(&holder) {
            continue;
        }
        if signers.contains(&holder) {
            continue;
        }
        // Moved by a spender the holder approved: fine when the spender is
        // the sender's side itself (the holder delegated to it directly).
        let Some(spender) = a.trace.logs.get(e.log).and_then(|l| a.trace.frame(l.frame)).map(|f| f.caller) else {
            continue;
        };
        if a.is_actor(spender) {
            continue;
        }
        // Only an allowance the holder gave is spent behind its back; a
        // token moving balances by its own protocol's rules (a liquidation
        // seizing collateral shares, a rebase) checks none.
        if !a.allowance_checked(e.token, holder, spender) {
            continue;
        }
        victims.insert((holder, e.token));
    }
    let mut out = Vec::new();
    if victims.is_empty() {
        return out;
    }
    let holders: BTreeSet<_> = victims.iter().map(|(h, _)| *h).collect();
    let gained = victims
        .iter()
        .any(|(_, t)| [Asset::Token(*t), Asset::Nft(*t)].iter().any(|k| actor.get(k).is_some_and(|v| is_gain(k, v))));
    let (holder, token) = victims.first().copied().unwrap_or_default();
    out.push(Finding {
        rule: RULE,
        severity: if gained { Severity::Critical } else { Severity::High },
        addresses: holders.iter().copied().collect(),
        message: format!(
            "tokens were moved out of {} holder(s) (e.g. {holder}, token {token}) who neither sent nor signed for \
             this transaction{}",
            holders.len(),
            if gained { ", and the sender's side gained those tokens" } else { "" }
        ),
    });
    out
}

//! Tokens minted to the sender's side with nothing backing them: a bridge
//! minting on an unproven message, a minter called without authorization.

use crate::{
    analysis::{is_gain, is_loss, Analysis, Asset},
    finding::{Finding, Severity},
};
use alloy_primitives::Address;
use std::collections::BTreeSet;
use vigil_sim::trace::TokenEventKind;

/// Rule id.
pub const RULE: &str = "unbacked-mint";

pub fn detect(a: &Analysis<'_>) -> Vec<Finding> {
    let actor = a.actor_flows();
    // Did the sender's side give anything to anyone outside it, other than
    // the minted token itself (selling what was just minted is no payment)?
    let paid_except = |minted: Address| {
        actor.iter().any(|(k, v)| *k != Asset::Token(minted) && is_loss(k, v))
            || a.trace.token_events.iter().filter(|e| !e.reverted && e.token != minted).any(|e| {
                matches!(&e.kind, TokenEventKind::Erc20Transfer { from, to, .. } if a.is_actor(*from) && !a.is_actor(*to) && !to.is_zero())
            })
            || a.trace.frames.iter().any(|f| !f.reverted && a.is_actor(f.caller) && !a.is_actor(f.callee) && !f.value.is_zero())
    };
    for e in a.trace.token_events.iter().filter(|e| !e.reverted) {
        let TokenEventKind::Erc20Transfer { from, to, amount } = &e.kind else { continue };
        let token = e.token;
        if !from.is_zero() || !a.is_actor(*to) || a.is_actor(token) {
            continue;
        }
        if paid_except(token) {
            continue;
        }
        // Kept, or sold on; a flash mint that is burned again is neither.
        let kept = actor.get(&Asset::Token(token)).is_some_and(|v| is_gain(&Asset::Token(token), v));
        let sold = a.trace.token_events.iter().filter(|x| !x.reverted && x.token == token).any(|x| {
            matches!(&x.kind, TokenEventKind::Erc20Transfer { from, to, .. } if a.is_actor(*from) && !a.is_actor(*to) && !to.is_zero())
        });
        if !kept && !sold {
            continue;
        }
        // The contracts that made the mint happen: the token and the
        // non-actor callers above it, up to the sender's side.
        let mut chain: BTreeSet<Address> = BTreeSet::new();
        let mut cur = a.trace.logs.get(e.log).and_then(|l| a.trace.frame(l.frame));
        while let Some(f) = cur {
            if a.is_actor(f.callee) {
                break;
            }
            chain.insert(f.callee);
            cur = f.parent.and_then(|p| a.trace.frame(p));
        }
        let authorized = chain.iter().any(|c| {
            a.role_authorization(*c).is_some_and(|w| w == a.sender())
                || a.signature_authorization(*c).is_some()
                || a.holds_prior_entry(*c)
        });
        if authorized {
            continue;
        }
        return vec![Finding {
            rule: RULE,
            severity: Severity::Critical,
            addresses: vec![token, *to],
            message: format!(
                "{token} minted {amount} to {to} on the sender's side, which paid nothing in this transaction, and \
                 neither the token nor the contracts that called it checked a stored role, a stored signer's \
                 signature or a prior position of the recipient"
            ),
        }];
    }
    Vec::new()
}

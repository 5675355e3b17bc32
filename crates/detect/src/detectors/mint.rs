//! Tokens minted to the sender's side with nothing backing them: a bridge
//! minting on an unproven message, a minter called without authorization.

use crate::{
    analysis::{is_gain, is_loss, Analysis, Asset, Backing},
    finding::{Finding, Severity},
};
use alloy_primitives::Address;
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
        // The protocol that made the mint happen, judged by its own books.
        let authorized = a.backing(token, Asset::Token(token), *amount).is_some_and(|b| b != Backing::AssetsIn);
        if authorized {
            continue;
        }
        return vec![Finding {
            rule: RULE,
            severity: Severity::Critical,
            addresses: vec![token, *to],
            message: format!(
                "{token} minted {amount} to {to} on the sender's side, which paid nothing in this transaction, and \
                 the protocol that minted it shows no stored role, stored signer, proof, prior position or \
                 recorded obligation for the recipient"
            ),
        }];
    }
    Vec::new()
}

//! Assets lent to the sender's side and repaid within the transaction.

use crate::{
    analysis::Analysis,
    finding::{Finding, Severity},
};
use vigil_sim::trace::TokenEventKind;

/// Rule id.
pub const RULE: &str = "flash-loan";

pub fn detect(a: &Analysis<'_>) -> Vec<Finding> {
    let transfers: Vec<_> = a
        .trace
        .token_events
        .iter()
        .filter(|e| !e.reverted)
        .filter_map(|e| match &e.kind {
            TokenEventKind::Erc20Transfer { from, to, amount } => Some((e.token, *from, *to, *amount)),
            _ => None,
        })
        .collect();
    for (i, (token, from, to, amount)) in transfers.iter().enumerate() {
        if a.is_actor(*from) || !a.is_actor(*to) || !a.is_contract(*from) || amount.is_zero() {
            continue;
        }
        let repaid =
            transfers[i + 1..].iter().any(|(t, f, r, amt)| t == token && a.is_actor(*f) && r == from && amt >= amount);
        if repaid {
            return vec![Finding {
                rule: RULE,
                severity: Severity::Info,
                addresses: vec![*from],
                message: format!(
                    "{from} lent {amount} of token {token} to the sender's side, repaid in the same transaction"
                ),
            }];
        }
    }
    Vec::new()
}

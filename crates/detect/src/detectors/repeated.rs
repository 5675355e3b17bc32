//! One call repeated many times against a contract that loses assets.

use crate::{
    analysis::{is_gain, is_loss, Analysis},
    finding::{Finding, Severity},
};

/// Rule id.
pub const RULE: &str = "repeated-call";

/// Calls of one selector from one caller to one callee at or above this
/// count are "many".
pub const MIN_REPEATS: usize = 10;

pub fn detect(a: &Analysis<'_>) -> Vec<Finding> {
    let mut hits: Vec<_> = a
        .call_counts()
        .into_iter()
        .filter(|((caller, callee, _), n)| {
            *n >= MIN_REPEATS
                && a.is_actor(*caller)
                && !a.is_actor(*callee)
                && a.flows_of(*callee)
                    .is_some_and(|f| f.iter().any(|(k, v)| is_loss(k, v)) && !f.iter().any(|(k, v)| is_gain(k, v)))
        })
        .collect();
    hits.sort();
    hits.into_iter()
        .take(1)
        .map(|((caller, callee, sel), n)| Finding {
            rule: RULE,
            severity: Severity::High,
            addresses: vec![callee, caller],
            message: format!(
                "{caller} called selector 0x{} on {callee} {n} times; {callee} ended with a net loss",
                hex::encode(sel)
            ),
        })
        .collect()
}

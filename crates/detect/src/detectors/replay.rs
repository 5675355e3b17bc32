//! The same signature verified more than once.

use crate::{
    analysis::Analysis,
    finding::{Finding, Severity},
};
use std::collections::BTreeMap;

/// Rule id.
pub const RULE: &str = "signature-replay";

pub fn detect(a: &Analysis<'_>) -> Vec<Finding> {
    // Keyed on (hash, r): a malleated `s` or flipped `v` is the same signature.
    let mut counts: BTreeMap<_, (usize, Option<alloy_primitives::Address>, alloy_primitives::Address)> =
        BTreeMap::new();
    let mut earlier = None;
    for e in &a.trace.ecrecovers {
        if e.recovered.is_none() || a.trace.frame(e.frame).is_none_or(|f| f.reverted) {
            continue;
        }
        let entry = counts.entry((e.hash, e.r)).or_insert((0, e.recovered, e.caller));
        entry.0 += 1;
        if a.history.signature_seen(&(e.hash, e.r, e.s)) {
            earlier = Some((e.recovered, e.caller));
        }
    }
    let mut out = Vec::new();
    if let Some(((_, _), (n, signer, verifier))) = counts.iter().find(|(_, (n, _, _))| *n > 1) {
        out.push(Finding {
            rule: RULE,
            severity: Severity::Critical,
            addresses: vec![*verifier],
            message: format!(
                "{verifier} verified the same signature (signer {}) {n} times in one transaction",
                signer.map(|s| s.to_string()).unwrap_or_default()
            ),
        });
    } else if let Some((signer, verifier)) = earlier {
        out.push(Finding {
            rule: RULE,
            severity: Severity::Critical,
            addresses: vec![verifier],
            message: format!(
                "{verifier} verified a signature (signer {}) already used by an earlier transaction",
                signer.map(|s| s.to_string()).unwrap_or_default()
            ),
        });
    }
    out
}

//! The engine: runs the detectors and policies on a simulated transaction
//! and combines their findings into a verdict.

use crate::{
    analysis::{Analysis, PreState},
    detectors::{self, Detector},
    finding::{Finding, Severity, Verdict},
    history::History,
    policy::Policies,
};
use alloy_consensus::Transaction as _;
use alloy_primitives::{Address, Bytes, U256};
use vigil_sim::{BlockSpec, ExecResult, SimOutcome, StateView};
use vigil_types::tx::Transaction;

/// Version of the built-in rules; bumped whenever a change can alter a
/// verdict, since honest nodes must agree (DESIGN §3: fixed per epoch).
pub const RULESET_VERSION: &str = "vigil-rules/2";

/// The analysis's view of a [`StateView`]: an unreadable account or code
/// reads as absent (the simulation already ran on this state, so it is
/// readable in practice).
#[derive(Debug)]
pub struct StatePre<'s, S: ?Sized>(pub &'s S);

impl<S: StateView + ?Sized> PreState for StatePre<'_, S> {
    fn has_code(&self, a: Address) -> bool {
        self.0.account(a).ok().flatten().is_some_and(|acc| acc.code_hash != vigil_sim::revm::primitives::KECCAK_EMPTY)
    }

    fn code(&self, a: Address) -> Bytes {
        let Some(acc) = self.0.account(a).ok().flatten() else { return Bytes::new() };
        if acc.code_hash == vigil_sim::revm::primitives::KECCAK_EMPTY {
            return Bytes::new();
        }
        match &acc.code {
            Some(code) => code.original_bytes(),
            None => self.0.code_by_hash(acc.code_hash).map(|c| c.original_bytes()).unwrap_or_default(),
        }
    }
}

/// Runs detectors and policies.
#[derive(Debug, Clone)]
pub struct Engine {
    detectors: Vec<Detector>,
    policies: Policies,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new(Policies::default())
    }
}

impl Engine {
    /// Every built-in detector plus `policies`.
    pub fn new(policies: Policies) -> Self {
        Self { detectors: detectors::ALL.to_vec(), policies }
    }

    /// The ruleset version.
    pub fn ruleset(&self) -> &'static str {
        RULESET_VERSION
    }

    /// Judges a simulated transaction. `state` is the state it was simulated
    /// on, `block` the block environment; a pure function of those, the
    /// transaction, the outcome (itself a function of them), the history
    /// and the policies.
    pub fn judge<S: StateView + ?Sized>(
        &self,
        state: &S,
        block: &BlockSpec,
        tx: &Transaction,
        outcome: &SimOutcome,
        history: &History,
    ) -> Verdict {
        let mut findings = Vec::new();
        match &outcome.result {
            ExecResult::BudgetExceeded { kind, gas_used, .. } => {
                findings.push(Finding {
                    rule: "budget-exceeded",
                    severity: Severity::Critical,
                    addresses: vec![tx.sender()],
                    message: format!(
                        "simulation stopped by the {kind:?} budget after {gas_used} gas; a transaction this costly to \
                         inspect is not admitted"
                    ),
                });
                return Verdict::from_findings(RULESET_VERSION, findings);
            }
            ExecResult::Revert { .. } | ExecResult::Halt { .. } => {
                // A failing transaction moves nothing; it pays gas only.
                return Verdict::from_findings(RULESET_VERSION, findings);
            }
            ExecResult::Success { .. } => {}
        }
        let gas = U256::from(outcome.result.gas_used());
        let price = U256::from(tx.envelope().effective_gas_price(Some(block.base_fee)));
        let fee = gas.saturating_mul(price);
        let tip = gas.saturating_mul(price.saturating_sub(U256::from(block.base_fee)));
        let pre = StatePre(state);
        let analysis = Analysis::new(tx, &outcome.trace, history, &pre, fee, (block.coinbase, tip));
        for d in &self.detectors {
            findings.extend((d.run)(&analysis));
        }
        findings.extend(self.policies.check(&analysis));
        if let Some(raised) = self.policies.raise_alerts(&findings) {
            findings.push(raised);
        }
        Verdict::from_findings(RULESET_VERSION, findings)
    }
}

//! The engine: runs the detectors and policies on a simulated transaction
//! and combines their findings into a verdict.

use crate::{
    analysis::Analysis,
    detectors::{self, Detector},
    finding::{Finding, Severity, Verdict},
    history::History,
    policy::Policies,
};
use alloy_consensus::Transaction as _;
use alloy_primitives::{Address, U256};
use vigil_sim::{BlockSpec, ExecResult, SimOutcome, StateView};
use vigil_types::tx::Transaction;

/// Version of the built-in rules; bumped whenever a change can alter a
/// verdict, since honest nodes must agree (DESIGN §3: fixed per epoch).
pub const RULESET_VERSION: &str = "vigil-rules/1";

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
        let has_code = |a: Address| {
            state
                .account(a)
                .ok()
                .flatten()
                .is_some_and(|acc| acc.code_hash != vigil_sim::revm::primitives::KECCAK_EMPTY)
        };
        let analysis = Analysis::new(tx, &outcome.trace, history, has_code, fee, (block.coinbase, tip));
        for d in &self.detectors {
            findings.extend((d.run)(&analysis));
        }
        findings.extend(self.policies.check(&analysis));
        Verdict::from_findings(RULESET_VERSION, findings)
    }
}

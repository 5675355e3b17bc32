//! Running one transaction: traced ([`simulate`]) or plain ([`execute`]).

use std::time::{Duration, Instant};

use alloy_primitives::{Address, Bytes, Log};
use revm::{
    context::{
        result::{ExecutionResult, HaltReason, Output},
        Context, TxEnv,
    },
    ExecuteEvm, InspectEvm, MainBuilder, MainContext,
};
use vigil_types::tx::Transaction;

use crate::{
    budget::{Budget, BudgetKind},
    inspector::Tracer,
    state::{StateChanges, StateView, ViewDb},
    trace::{BalanceChange, Trace},
    tx_env::tx_env,
    BlockSpec, SimError,
};

/// How a transaction's execution ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecResult {
    /// Receipt status 1.
    Success {
        /// Gas charged to the sender (refunds applied).
        gas_used: u64,
        /// Return data (the runtime code for a creation).
        output: Bytes,
        /// The contract a creation transaction deployed.
        created: Option<Address>,
    },
    /// `REVERT` in the transaction's own frame: receipt status 0.
    Revert {
        /// Gas charged.
        gas_used: u64,
        /// Revert data.
        output: Bytes,
    },
    /// Exceptional halt: receipt status 0, all gas charged.
    Halt {
        /// Gas charged.
        gas_used: u64,
        /// Why (revm's reason).
        reason: HaltReason,
    },
    /// The simulation was stopped by its budget before the transaction
    /// ended. Nothing about the transaction's real outcome is known; the
    /// trace shows what ran until then.
    BudgetExceeded {
        /// Which limit.
        kind: BudgetKind,
        /// Gas the transaction had used when it was stopped.
        gas_used: u64,
        /// Time spent.
        elapsed: Duration,
    },
}

impl ExecResult {
    /// Receipt status 1.
    pub fn is_success(&self) -> bool {
        matches!(self, Self::Success { .. })
    }

    /// Gas used (charged, or consumed until the budget stopped it).
    pub fn gas_used(&self) -> u64 {
        match self {
            Self::Success { gas_used, .. }
            | Self::Revert { gas_used, .. }
            | Self::Halt { gas_used, .. }
            | Self::BudgetExceeded { gas_used, .. } => *gas_used,
        }
    }

    /// Return or revert data (empty for halts and budget stops).
    pub fn output(&self) -> &[u8] {
        match self {
            Self::Success { output, .. } | Self::Revert { output, .. } => output,
            Self::Halt { .. } | Self::BudgetExceeded { .. } => &[],
        }
    }

    /// The message of a Solidity `Error(string)` revert, if that is what the
    /// revert data holds.
    pub fn revert_reason(&self) -> Option<String> {
        let Self::Revert { output, .. } = self else {
            return None;
        };
        revert_string(output)
    }

    fn from_revm(result: ExecutionResult) -> Self {
        let gas_used = result.tx_gas_used();
        match result {
            ExecutionResult::Success { output, .. } => match output {
                Output::Call(output) => Self::Success { gas_used, output, created: None },
                Output::Create(output, created) => Self::Success { gas_used, output, created },
            },
            ExecutionResult::Revert { output, .. } => Self::Revert { gas_used, output },
            ExecutionResult::Halt { reason, .. } => Self::Halt { gas_used, reason },
        }
    }
}

/// Decodes `Error(string)` revert data.
fn revert_string(data: &[u8]) -> Option<String> {
    const SELECTOR: [u8; 4] = [0x08, 0xc3, 0x79, 0xa0];
    let body = data.strip_prefix(&SELECTOR)?;
    let word = |at: usize| -> Option<usize> {
        let w = body.get(at..at.checked_add(32)?)?;
        let (high, low) = w.split_at(24);
        if high.iter().any(|b| *b != 0) {
            return None;
        }
        usize::try_from(u64::from_be_bytes(low.try_into().ok()?)).ok()
    };
    let offset = word(0)?;
    let len = word(offset)?;
    let start = offset.checked_add(32)?;
    let bytes = body.get(start..start.checked_add(len)?)?;
    Some(String::from_utf8_lossy(bytes).into_owned())
}

/// A traced simulation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimOutcome {
    /// How it ended.
    pub result: ExecResult,
    /// What it did.
    pub trace: Trace,
    /// Its state changes, for [`InMemoryState::commit`]; empty when the
    /// budget stopped it.
    ///
    /// [`InMemoryState::commit`]: crate::InMemoryState::commit
    pub changes: StateChanges,
    /// Wall time of the simulation.
    pub elapsed: Duration,
}

/// A plain execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutcome {
    /// How it ended (never [`ExecResult::BudgetExceeded`]).
    pub result: ExecResult,
    /// Its state changes.
    pub changes: StateChanges,
    /// The logs it emitted (empty unless it succeeded).
    pub logs: Vec<Log>,
}

/// revm's context for `block` on `state`.
macro_rules! context {
    ($state:expr, $block:expr) => {
        Context::mainnet().with_cfg($block.cfg_env()?).with_block($block.block_env()).with_ref_db(ViewDb($state))
    };
}

/// Simulates `tx` on `state` in `block` with the tracing inspector, within
/// `budget`. The state is not modified: apply [`SimOutcome::changes`] to
/// keep them.
///
/// `Err` only when there is no execution to report (the transaction is
/// invalid on this state, or the state view failed); reverts, halts and
/// budget stops are [`ExecResult`]s.
pub fn simulate<S: StateView + ?Sized>(
    state: &S,
    block: &BlockSpec,
    tx: &Transaction,
    budget: &Budget,
) -> Result<SimOutcome, SimError> {
    let start = Instant::now();
    let env: TxEnv = tx_env(tx)?;
    let mut tracer = Tracer::new(env.gas_limit, budget, start);
    let out = {
        let mut evm = context!(state, block).build_mainnet_with_inspector(&mut tracer);
        evm.inspect_tx(env).map_err(SimError::from_evm)?
    };
    let elapsed = tracer.elapsed();
    let output = tracer.finish();
    let mut trace = output.trace;
    if let Some((kind, gas_used)) = output.exceeded {
        return Ok(SimOutcome {
            result: ExecResult::BudgetExceeded { kind, gas_used, elapsed },
            trace,
            changes: StateChanges::default(),
            elapsed,
        });
    }
    for (address, account) in &out.state {
        if !account.is_touched() {
            continue;
        }
        let before = state.account(*address)?.map(|a| a.balance).unwrap_or_default();
        let after = account.info.balance;
        if before != after {
            trace.balance_changes.insert(*address, BalanceChange { before, after });
        }
    }
    Ok(SimOutcome { result: ExecResult::from_revm(out.result), trace, changes: out.state, elapsed: start.elapsed() })
}

/// Executes `tx` on `state` in `block` without inspection or budget: for
/// replaying the chain and as the baseline of the tracing overhead. The
/// state is not modified.
pub fn execute<S: StateView + ?Sized>(state: &S, block: &BlockSpec, tx: &Transaction) -> Result<ExecOutcome, SimError> {
    let env = tx_env(tx)?;
    let mut evm = context!(state, block).build_mainnet();
    let out = evm.transact(env).map_err(SimError::from_evm)?;
    let logs = out.result.logs().to_vec();
    Ok(ExecOutcome { result: ExecResult::from_revm(out.result), changes: out.state, logs })
}

/// Executes a call that is not a signed transaction (`eth_call`,
/// `eth_estimateGas`): the caller's nonce, its balance and the base fee are
/// not checked, so a call from any address at gas price zero runs. The state
/// is not modified.
pub fn call<S: StateView + ?Sized>(state: &S, block: &BlockSpec, env: TxEnv) -> Result<ExecOutcome, SimError> {
    let mut cfg = block.cfg_env()?;
    cfg.disable_nonce_check = true;
    cfg.disable_balance_check = true;
    cfg.disable_base_fee = true;
    let mut evm =
        Context::mainnet().with_cfg(cfg).with_block(block.block_env()).with_ref_db(ViewDb(state)).build_mainnet();
    let out = evm.transact(env).map_err(SimError::from_evm)?;
    let logs = out.result.logs().to_vec();
    Ok(ExecOutcome { result: ExecResult::from_revm(out.result), changes: out.state, logs })
}

#[cfg(test)]
mod tests {
    use super::revert_string;

    #[test]
    fn decodes_error_string() {
        // Error("bank: nothing to withdraw")
        let data = alloy_primitives::hex::decode(
            "08c379a0\
             0000000000000000000000000000000000000000000000000000000000000020\
             0000000000000000000000000000000000000000000000000000000000000019\
             62616e6b3a206e6f7468696e6720746f20776974686472617700000000000000",
        )
        .unwrap();
        assert_eq!(revert_string(&data).as_deref(), Some("bank: nothing to withdraw"));
        assert_eq!(revert_string(&data[..40]), None);
        assert_eq!(revert_string(&[]), None);
    }
}

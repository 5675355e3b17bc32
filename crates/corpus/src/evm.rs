//! Unsigned execution on an [`InMemoryState`]: gas estimation, the dry run
//! that decides whether a transaction is emitted, and read-only calls.
//!
//! The same revm, block environment and fork as `vigil_sim::execute`; the
//! only difference is that the caller is given instead of recovered from a
//! signature, so that a transaction is signed once, after it is known to
//! succeed.

use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_sol_types::SolCall;
use vigil_sim::{
    revm::{
        context::{
            result::{ExecutionResult, Output},
            Context, TxEnv,
        },
        ExecuteEvm, MainBuilder, MainContext,
    },
    BlockSpec, InMemoryState, StateChanges, ViewDb,
};

use crate::CorpusError;

/// Gas limit of read-only calls.
const VIEW_GAS: u64 = 30_000_000;

/// One unsigned EIP-1559 transaction (gas price zero, as in the fixtures).
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) from: Address,
    pub(crate) to: TxKind,
    pub(crate) value: U256,
    pub(crate) data: Bytes,
    pub(crate) nonce: u64,
    pub(crate) gas_limit: u64,
    pub(crate) chain_id: u64,
}

/// How an unsigned execution ended.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// Receipt status 1.
    Success { gas_used: u64, output: Bytes, created: Option<Address>, changes: StateChanges },
    /// Receipt status 0 or not includable; the reason, readable.
    Failure { reason: String },
}

/// Executes `call` on `state` in `block` without applying it.
pub(crate) fn run(state: &InMemoryState, block: &BlockSpec, call: &Call) -> Result<Outcome, CorpusError> {
    let env = TxEnv {
        tx_type: 2,
        caller: call.from,
        gas_limit: call.gas_limit,
        gas_price: 0,
        kind: call.to,
        value: call.value,
        data: call.data.clone(),
        nonce: call.nonce,
        chain_id: Some(call.chain_id),
        gas_priority_fee: Some(0),
        ..TxEnv::default()
    };
    let mut evm = Context::mainnet()
        .with_cfg(block.cfg_env()?)
        .with_block(block.block_env())
        .with_ref_db(ViewDb(state))
        .build_mainnet();
    let out = match evm.transact(env) {
        Ok(out) => out,
        Err(e) => return Ok(Outcome::Failure { reason: format!("not includable: {e}") }),
    };
    let gas_used = out.result.tx_gas_used();
    Ok(match out.result {
        ExecutionResult::Success { output, .. } => {
            let (output, created) = match output {
                Output::Call(b) => (b, None),
                Output::Create(b, a) => (b, a),
            };
            Outcome::Success { gas_used, output, created, changes: out.state }
        }
        ExecutionResult::Revert { output, .. } => Outcome::Failure { reason: revert_reason(&output) },
        ExecutionResult::Halt { reason, .. } => Outcome::Failure { reason: format!("halted: {reason:?}") },
    })
}

/// A readable revert reason: the `Error(string)` message, else the data.
pub(crate) fn revert_reason(data: &[u8]) -> String {
    if let Ok(msg) = <alloy_sol_types::Revert as alloy_sol_types::SolError>::abi_decode(data) {
        return format!("reverted: {}", msg.reason);
    }
    if data.is_empty() {
        "reverted without data".into()
    } else {
        format!("reverted with data {}", alloy_primitives::hex::encode_prefixed(data))
    }
}

/// Calls a view function of `to` on `state`, as `eth_call` at the head.
pub(crate) fn view<C: SolCall>(
    state: &InMemoryState,
    block: &BlockSpec,
    to: Address,
    call: &C,
) -> Result<C::Return, CorpusError> {
    let caller = Address::ZERO;
    let c = Call {
        from: caller,
        to: TxKind::Call(to),
        value: U256::ZERO,
        data: call.abi_encode().into(),
        nonce: state.nonce(caller),
        gas_limit: VIEW_GAS,
        chain_id: block.chain_id,
    };
    match run(state, block, &c)? {
        Outcome::Success { output, .. } => {
            C::abi_decode_returns(&output).map_err(|e| CorpusError::View { to, reason: e.to_string() })
        }
        Outcome::Failure { reason } => Err(CorpusError::View { to, reason }),
    }
}

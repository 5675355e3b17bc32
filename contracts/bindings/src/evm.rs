//! An in-memory chain in revm (`vigil-sim`'s, fork Prague with the
//! EIP-2537 precompiles) to run the contracts without a node: used by
//! `vigil cert verify --onchain` and by the contract tests.

use alloy_primitives::{Address, Bytes, Log, TxKind, U256};
use alloy_sol_types::SolCall;
use vigil_sim::revm::{
    context::{
        result::{ExecutionResult, Output},
        BlockEnv, CfgEnv, Context, TxEnv,
    },
    database::{CacheDB, EmptyDB},
    primitives::hardfork::SpecId,
    state::AccountInfo,
    DatabaseCommit, ExecuteEvm, MainBuilder, MainContext,
};

/// The account every transaction comes from unless another caller is named.
pub const DEPLOYER: Address = Address::repeat_byte(0xd0);
/// Gas limit of every transaction.
pub const GAS_LIMIT: u64 = 200_000_000;

/// Why a transaction could not be run to an outcome.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvmError {
    /// revm refused the transaction (e.g. the caller cannot pay).
    #[error("transaction rejected: {0}")]
    Rejected(String),
    /// Execution halted (out of gas, invalid opcode, ...).
    #[error("execution halted: {0}")]
    Halted(String),
    /// A contract creation reverted.
    #[error("deployment reverted")]
    DeployReverted,
    /// A call expected to succeed reverted, with the revert data.
    #[error("call reverted: 0x{0}")]
    Reverted(String),
    /// Return data that does not decode as the function's outputs.
    #[error("cannot decode return data: {0}")]
    Decode(String),
}

/// How a transaction ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It succeeded.
    Success {
        /// Gas used by the whole transaction (intrinsic gas included).
        gas_used: u64,
        /// Return data (the runtime code for a creation).
        output: Bytes,
        /// Events emitted.
        logs: Vec<Log>,
    },
    /// It reverted.
    Revert {
        /// Gas used by the whole transaction.
        gas_used: u64,
        /// Revert data (a custom error's selector and arguments).
        output: Bytes,
    },
}

impl Outcome {
    /// Gas used by the transaction.
    pub fn gas_used(&self) -> u64 {
        match self {
            Self::Success { gas_used, .. } | Self::Revert { gas_used, .. } => *gas_used,
        }
    }

    /// Whether it succeeded.
    pub fn is_success(&self) -> bool {
        matches!(self, Self::Success { .. })
    }

    /// The events emitted; none after a revert.
    pub fn logs(&self) -> &[Log] {
        match self {
            Self::Success { logs, .. } => logs,
            Self::Revert { .. } => &[],
        }
    }

    /// The revert data; empty after a success.
    pub fn revert_data(&self) -> &[u8] {
        match self {
            Self::Revert { output, .. } => output,
            Self::Success { .. } => &[],
        }
    }
}

/// An in-memory chain without real blocks: each transaction is executed and
/// committed at once, at a block number the caller sets. Nonces are not
/// checked.
pub struct Chain {
    db: CacheDB<EmptyDB>,
    cfg: CfgEnv,
    block: BlockEnv,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain").field("accounts", &self.db.cache.accounts.len()).finish_non_exhaustive()
    }
}

impl Default for Chain {
    fn default() -> Self {
        Self::new()
    }
}

impl Chain {
    /// An empty chain at Prague.
    pub fn new() -> Self {
        let mut cfg = CfgEnv::new_with_spec(SpecId::PRAGUE);
        cfg.disable_nonce_check = true;
        Self { db: CacheDB::new(EmptyDB::new()), cfg, block: BlockEnv::default() }
    }

    /// The block number transactions see (`block.number`); 0 at first.
    pub fn block_number(&self) -> u64 {
        self.block.number.saturating_to()
    }

    /// Sets the block number the next transactions see.
    pub fn set_block_number(&mut self, number: u64) {
        self.block.number = U256::from(number);
    }

    /// Sets the balance of `who` to `balance`.
    pub fn set_balance(&mut self, who: Address, balance: U256) {
        let nonce = self.nonce(who);
        self.db.insert_account_info(who, AccountInfo { balance, nonce, ..Default::default() });
    }

    /// The balance of `who`.
    pub fn balance(&self, who: Address) -> U256 {
        self.db.cache.accounts.get(&who).map(|a| a.info.balance).unwrap_or_default()
    }

    /// The nonce of `who`.
    pub fn nonce(&self, who: Address) -> u64 {
        self.db.cache.accounts.get(&who).map(|a| a.info.nonce).unwrap_or_default()
    }

    /// The address the next contract `who` creates will have.
    pub fn next_create_address(&self, who: Address) -> Address {
        who.create(self.nonce(who))
    }

    /// Runs one transaction and commits its state changes. Returns the
    /// outcome and, for a successful creation, the new contract's address.
    pub fn run(
        &mut self,
        caller: Address,
        value: U256,
        kind: TxKind,
        data: Bytes,
    ) -> Result<(Outcome, Option<Address>), EvmError> {
        let tx = TxEnv { caller, kind, data, value, gas_limit: GAS_LIMIT, ..Default::default() };
        let out = {
            let mut evm = Context::mainnet()
                .with_cfg(self.cfg.clone())
                .with_block(self.block.clone())
                .with_ref_db(&self.db)
                .build_mainnet();
            evm.transact(tx).map_err(|e| EvmError::Rejected(format!("{e:?}")))?
        };
        self.db.commit(out.state);
        let gas_used = out.result.tx_gas_used();
        match out.result {
            ExecutionResult::Success { output: Output::Create(output, created), logs, .. } => {
                Ok((Outcome::Success { gas_used, output, logs }, created))
            }
            ExecutionResult::Success { output: Output::Call(output), logs, .. } => {
                Ok((Outcome::Success { gas_used, output, logs }, None))
            }
            ExecutionResult::Revert { output, .. } => Ok((Outcome::Revert { gas_used, output }, None)),
            ExecutionResult::Halt { reason, .. } => Err(EvmError::Halted(format!("{reason:?} after {gas_used} gas"))),
        }
    }

    /// Deploys `code` (creation bytecode with any constructor arguments
    /// appended) from [`DEPLOYER`].
    pub fn deploy(&mut self, code: &[u8]) -> Result<Address, EvmError> {
        match self.run(DEPLOYER, U256::ZERO, TxKind::Create, Bytes::copy_from_slice(code))? {
            (Outcome::Success { .. }, Some(created)) => Ok(created),
            _ => Err(EvmError::DeployReverted),
        }
    }

    /// Sends a transaction from [`DEPLOYER`] calling `to`.
    pub fn transact<C: SolCall>(&mut self, to: Address, call: &C) -> Result<Outcome, EvmError> {
        self.transact_from(DEPLOYER, U256::ZERO, to, call)
    }

    /// Sends a transaction from `caller` with `value` wei calling `to`.
    pub fn transact_from<C: SolCall>(
        &mut self,
        caller: Address,
        value: U256,
        to: Address,
        call: &C,
    ) -> Result<Outcome, EvmError> {
        Ok(self.run(caller, value, TxKind::Call(to), call.abi_encode().into())?.0)
    }

    /// Calls `to` from [`DEPLOYER`] and decodes the return value; a revert
    /// is an error.
    pub fn call<C: SolCall>(&mut self, to: Address, call: &C) -> Result<C::Return, EvmError> {
        match self.transact(to, call)? {
            Outcome::Success { output, .. } => {
                C::abi_decode_returns(&output).map_err(|e| EvmError::Decode(e.to_string()))
            }
            Outcome::Revert { output, .. } => Err(EvmError::Reverted(alloy_primitives::hex::encode(&output))),
        }
    }
}

/// `n` ether in wei.
pub fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}

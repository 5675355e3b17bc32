//! A one-account chain in revm, pinned to Prague.

use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_sol_types::SolCall;
use vigil_sim::revm::{
    context::{
        result::{ExecutionResult, Output},
        CfgEnv, Context, TxEnv,
    },
    database::{CacheDB, EmptyDB},
    primitives::hardfork::SpecId,
    state::AccountInfo,
    DatabaseCommit, ExecuteEvm, MainBuilder, MainContext,
};

pub const DEPLOYER: Address = Address::repeat_byte(0xd0);
const GAS_LIMIT: u64 = 200_000_000;

/// How a call ended.
#[derive(Debug)]
pub enum Outcome {
    Success { gas_used: u64, output: Bytes },
    Revert { gas_used: u64, output: Bytes },
}

impl Outcome {
    pub fn gas_used(&self) -> u64 {
        match self {
            Self::Success { gas_used, .. } | Self::Revert { gas_used, .. } => *gas_used,
        }
    }

    pub fn is_success(&self) -> bool {
        matches!(self, Self::Success { .. })
    }

    pub fn revert_data(&self) -> &[u8] {
        match self {
            Self::Revert { output, .. } => output,
            Self::Success { .. } => panic!("expected a revert, got success"),
        }
    }
}

/// An in-memory chain; every transaction comes from [`DEPLOYER`].
pub struct Chain {
    db: CacheDB<EmptyDB>,
    cfg: CfgEnv,
}

impl Chain {
    pub fn new() -> Self {
        let mut cfg = CfgEnv::new_with_spec(SpecId::PRAGUE);
        cfg.disable_nonce_check = true;
        Self { db: CacheDB::new(EmptyDB::new()), cfg }
    }

    /// Gives `who` a large balance.
    pub fn fund(&mut self, who: Address) {
        let info = AccountInfo { balance: ether(1_000_000), ..Default::default() };
        self.db.insert_account_info(who, info);
    }

    fn run(&mut self, kind: TxKind, data: Bytes) -> (Outcome, Option<Address>) {
        self.run_from(DEPLOYER, U256::ZERO, kind, data)
    }

    fn run_from(&mut self, caller: Address, value: U256, kind: TxKind, data: Bytes) -> (Outcome, Option<Address>) {
        let tx = TxEnv { caller, kind, data, value, gas_limit: GAS_LIMIT, ..Default::default() };
        let out = {
            let mut evm = Context::mainnet().with_cfg(self.cfg.clone()).with_ref_db(&self.db).build_mainnet();
            evm.transact(tx).expect("transaction is valid")
        };
        self.db.commit(out.state);
        let gas_used = out.result.tx_gas_used();
        match out.result {
            ExecutionResult::Success { output: Output::Create(output, created), .. } => {
                (Outcome::Success { gas_used, output }, created)
            }
            ExecutionResult::Success { output: Output::Call(output), .. } => {
                (Outcome::Success { gas_used, output }, None)
            }
            ExecutionResult::Revert { output, .. } => (Outcome::Revert { gas_used, output }, None),
            ExecutionResult::Halt { reason, .. } => panic!("halted: {reason:?} after {gas_used} gas"),
        }
    }

    /// Deploys `code` (creation bytecode); panics if it fails.
    pub fn deploy(&mut self, code: &[u8]) -> Address {
        let (outcome, created) = self.run(TxKind::Create, Bytes::copy_from_slice(code));
        assert!(outcome.is_success(), "deployment failed: {outcome:?}");
        created.expect("created address")
    }

    /// Sends a transaction calling `to`.
    pub fn transact<C: SolCall>(&mut self, to: Address, call: &C) -> Outcome {
        self.run(TxKind::Call(to), call.abi_encode().into()).0
    }

    /// Sends a transaction from `caller` with `value` wei.
    pub fn transact_from<C: SolCall>(&mut self, caller: Address, value: U256, to: Address, call: &C) -> Outcome {
        self.run_from(caller, value, TxKind::Call(to), call.abi_encode().into()).0
    }

    /// Calls `to` and decodes the return value; panics on revert.
    pub fn call<C: SolCall>(&mut self, to: Address, call: &C) -> C::Return {
        match self.transact(to, call) {
            Outcome::Success { output, .. } => C::abi_decode_returns(&output).expect("decodes"),
            other => panic!("call reverted: {other:?}"),
        }
    }
}

pub fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}

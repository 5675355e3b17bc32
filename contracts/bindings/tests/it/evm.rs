//! The library's in-memory chain with panicking helpers for tests.

use alloy_primitives::{Address, U256};
use alloy_sol_types::SolCall;
pub use vigil_contracts::evm::{ether, Outcome, DEPLOYER};

/// [`vigil_contracts::evm::Chain`], every failure to run a panic.
pub struct Chain(pub vigil_contracts::evm::Chain);

impl Chain {
    pub fn new() -> Self {
        Self(vigil_contracts::evm::Chain::new())
    }

    /// Gives `who` a large balance.
    pub fn fund(&mut self, who: Address) {
        self.0.set_balance(who, ether(1_000_000));
    }

    /// Deploys `code` (creation bytecode); panics if it fails.
    pub fn deploy(&mut self, code: &[u8]) -> Address {
        self.0.deploy(code).expect("deployment succeeds")
    }

    /// Sends a transaction calling `to`.
    pub fn transact<C: SolCall>(&mut self, to: Address, call: &C) -> Outcome {
        self.0.transact(to, call).expect("transaction runs")
    }

    /// Sends a transaction from `caller` with `value` wei.
    pub fn transact_from<C: SolCall>(&mut self, caller: Address, value: U256, to: Address, call: &C) -> Outcome {
        self.0.transact_from(caller, value, to, call).expect("transaction runs")
    }

    /// Calls `to` and decodes the return value; panics on revert.
    pub fn call<C: SolCall>(&mut self, to: Address, call: &C) -> C::Return {
        self.0.call(to, call).expect("call succeeds")
    }
}

//! Replaying a fixture's chain, following FORMAT.md's replay rules.

use vigil_fixture::{replay::block_hash, Genesis};
use vigil_types::tx::Transaction;

use crate::{
    exec::{execute, simulate, ExecOutcome, ExecResult, SimOutcome},
    state::InMemoryState,
    BlockSpec, Budget, SimError,
};

/// A fixture chain being replayed: the state after the transactions applied
/// so far, and the block the next one goes in.
///
/// Rule 1: the state starts as `alloc` at block 0. Rule 2: the `i`-th
/// transaction applied goes alone in block `i + 1` ([`BlockSpec::for_fixture_tx`]),
/// with `BLOCKHASH(n) = keccak256(decimal n)`. Rule 4: each transaction is
/// applied whatever was decided about it.
#[derive(Debug, Clone)]
pub struct Replay {
    genesis: Genesis,
    state: InMemoryState,
    applied: usize,
}

impl Replay {
    /// The chain at genesis.
    pub fn new(genesis: &Genesis) -> Result<Self, SimError> {
        let mut state = InMemoryState::from_genesis(genesis)?;
        state.set_block_hash(0, block_hash(0));
        Ok(Self { genesis: genesis.clone(), state, applied: 0 })
    }

    /// The state after the transactions applied so far.
    pub fn state(&self) -> &InMemoryState {
        &self.state
    }

    /// How many transactions have been applied.
    pub fn applied(&self) -> usize {
        self.applied
    }

    /// The block the next transaction goes in.
    pub fn next_block(&self) -> BlockSpec {
        BlockSpec::for_fixture_tx(&self.genesis, self.applied)
    }

    /// Simulates the next transaction (traced, within `budget`) without
    /// applying it.
    pub fn simulate_next(&self, tx: &Transaction, budget: &Budget) -> Result<SimOutcome, SimError> {
        simulate(&self.state, &self.next_block(), tx, budget)
    }

    /// Executes the next transaction plainly and applies it.
    pub fn execute_next(&mut self, tx: &Transaction) -> Result<ExecOutcome, SimError> {
        let out = execute(&self.state, &self.next_block(), tx)?;
        self.apply(&out.changes);
        Ok(out)
    }

    /// Simulates the next transaction and applies it: its traced changes, or,
    /// when the budget stopped the simulation, those of a plain execution.
    pub fn simulate_and_apply(&mut self, tx: &Transaction, budget: &Budget) -> Result<SimOutcome, SimError> {
        let out = self.simulate_next(tx, budget)?;
        if matches!(out.result, ExecResult::BudgetExceeded { .. }) {
            self.execute_next(tx)?;
        } else {
            self.apply(&out.changes);
        }
        Ok(out)
    }

    /// Commits changes as the next block and moves to the one after.
    /// Applies the state changes of the next transaction (as simulated by
    /// [`Replay::simulate_next`]) and moves to the following block.
    pub fn apply(&mut self, changes: &crate::StateChanges) {
        self.state.commit(changes);
        let number = self.next_block().number;
        self.state.set_block_hash(number, block_hash(number));
        self.applied += 1;
    }
}

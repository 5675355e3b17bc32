//! Simulates a transaction with revm and returns its trace.
//!
//! This crate owns the EVM (revm, pinned at one exact version, fork set
//! explicitly per chain), the block environment a transaction is simulated
//! in, the per-simulation budget, and the tracing inspector. It does no
//! network or disk I/O: state comes in through a [`StateView`], results go
//! out as values. It does not judge: detectors read the [`Trace`] elsewhere.
//!
//! ```text
//!  vigil_types::tx::Transaction --tx_env--> revm TxEnv
//!  StateView (InMemoryState, later chain / RPC views) --ViewDb--> revm database
//!  BlockSpec::next(head) --block_env / cfg_env--> revm BlockEnv, CfgEnv (PRAGUE)
//!                  |
//!                  v
//!  simulate(state, block, tx, budget) ---- Tracer (inspector) ----> SimOutcome {
//!       result: Success | Revert | Halt | BudgetExceeded,
//!       trace:  frames, storage reads/writes, logs, token events,
//!               self-destructs, re-entries, ecrecover calls,
//!               native balance changes, token flows,
//!       changes: state diff -> InMemoryState::commit }
//!  execute(state, block, tx) -> ExecOutcome { result, changes }   (no inspector)
//! ```
//!
//! Determinism: with the same state, block and transaction, every node gets
//! the same result and trace. The one exception is the wall-time budget,
//! which by nature depends on the machine; a transaction that comes near it
//! is itself suspicious.

mod block;
mod budget;
mod error;
mod exec;
mod inspector;
pub mod plausible;
mod replay;
mod state;
pub mod trace;
mod tx_env;

pub use block::BlockSpec;
pub use budget::{Budget, BudgetKind};
pub use error::{SimError, StateError};
pub use exec::{call, execute, simulate, ExecOutcome, ExecResult, SimOutcome};
pub use replay::Replay;
pub use state::{AccountRef, InMemoryState, StateChanges, StateView, ViewDb, BLOCK_HASH_WINDOW};
pub use trace::Trace;
pub use tx_env::tx_env;

/// The exact revm this crate is built and tested with, re-exported so that
/// other crates implementing [`StateView`] or reading revm types use the
/// same one.
pub use revm;

//! Why a simulation could not run.
//!
//! A transaction that runs and reverts, halts or exhausts its budget is not
//! an error: that is an [`ExecResult`](crate::ExecResult). These are the cases
//! where there is no execution to report.

use alloy_primitives::{Address, B256};
use revm::{context::result::InvalidTransaction, database_interface::DBErrorMarker};

/// A state view could not answer a read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// The backing store failed (an RPC error, a missing trie node, …).
    #[error("state unavailable: {0}")]
    Unavailable(String),
    /// `BLOCKHASH` asked for a block whose hash this view does not hold.
    #[error("no hash known for block {0}")]
    UnknownBlockHash(u64),
    /// An account's code hash names code this view does not hold.
    #[error("no code known for code hash {0}")]
    UnknownCode(B256),
    /// Code given for an account is not valid EVM bytecode (a malformed
    /// EIP-7702 delegation).
    #[error("account {address}: invalid code: {reason}")]
    InvalidCode {
        /// The account.
        address: Address,
        /// What is wrong with the code.
        reason: String,
    },
}

impl DBErrorMarker for StateError {}

/// A simulation that produced no execution.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// The transaction cannot be included on this state: wrong nonce, funds
    /// below `gas * price + value`, gas limit above the block's, wrong chain
    /// id, fee below the base fee, …
    #[error("transaction invalid against this state: {0}")]
    InvalidTransaction(InvalidTransaction),
    /// The block environment is inconsistent (revm's header checks).
    #[error("invalid block environment: {0}")]
    InvalidBlock(String),
    /// A transaction type the simulator does not run (EIP-4844 blobs).
    #[error("transaction type 0x{0:02x} is not supported by the simulator")]
    UnsupportedTxType(u8),
    /// A fork the simulator does not know.
    #[error("fork {0} is not supported by the simulator")]
    UnsupportedFork(String),
    /// The state view failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// revm reported an internal error.
    #[error("EVM error: {0}")]
    Evm(String),
}

impl SimError {
    /// Maps revm's error type.
    pub(crate) fn from_evm(err: revm::context::result::EVMError<StateError>) -> Self {
        use revm::context::result::EVMError;
        match err {
            EVMError::Transaction(e) => Self::InvalidTransaction(e),
            EVMError::Header(e) => Self::InvalidBlock(e.to_string()),
            EVMError::Database(e) => Self::State(e),
            EVMError::Custom(e) => Self::Evm(e),
            EVMError::CustomAny(e) => Self::Evm(e.to_string()),
        }
    }
}

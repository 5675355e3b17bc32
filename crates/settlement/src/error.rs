//! Why a settlement-chain operation failed.

use alloy_primitives::B256;

/// A failure talking to the settlement chain or acting on its contracts.
#[derive(Debug, thiserror::Error)]
pub enum SettlementError {
    /// The endpoint could not be asked (connection refused, reset, timed
    /// out) or did not answer JSON-RPC.
    #[error("cannot reach the settlement chain at {url}: {reason}")]
    Unreachable {
        /// The endpoint.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The endpoint answered a JSON-RPC error (other than a revert).
    #[error("{method} failed at {url}: {message} (code {code})")]
    Rpc {
        /// The endpoint.
        url: String,
        /// The method called.
        method: &'static str,
        /// The error object's code.
        code: i64,
        /// The error object's message.
        message: String,
    },
    /// The endpoint answered something that is not what the method returns.
    #[error("{method} at {url} answered {answer}, which is not {expected}")]
    BadAnswer {
        /// The endpoint.
        url: String,
        /// The method called.
        method: &'static str,
        /// What was expected.
        expected: &'static str,
        /// The answer, shortened.
        answer: String,
    },
    /// The endpoint serves another chain than the one asked for.
    #[error("{url} serves chain {got}, not chain {expected}: point --rpc at the settlement chain")]
    WrongChain {
        /// The endpoint.
        url: String,
        /// The chain expected.
        expected: u64,
        /// Its `eth_chainId`.
        got: u64,
    },
    /// A contract call or transaction reverted; `reason` is the contract's
    /// named error when it is one of Vigil's (e.g. `InvalidProofOfPossession`).
    #[error("{what} reverted: {reason}")]
    Reverted {
        /// The operation.
        what: String,
        /// The decoded revert.
        reason: String,
    },
    /// A transaction was sent but no receipt appeared in time.
    #[error("transaction {hash} has no receipt after {waited_ms} ms; it may still be included")]
    NoReceipt {
        /// The transaction.
        hash: B256,
        /// How long it was waited for.
        waited_ms: u64,
    },
    /// Return data or a log that does not decode as the contract's ABI says:
    /// the address is probably not the contract it was said to be.
    #[error("{what}: cannot decode the answer ({reason}); is the address the right contract?")]
    Decode {
        /// What was being read.
        what: String,
        /// The decoder's reason.
        reason: String,
    },
    /// A key file that cannot be used.
    #[error("key file {path}: {reason}")]
    KeyFile {
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The epoch has no usable committee in the registry: no snapshot was
    /// taken (nobody wrote to the registry during it, or it has not begun),
    /// or the snapshot is empty. `reason` says which and what to do.
    #[error("{reason}")]
    NoCommittee {
        /// The epoch asked for.
        epoch: u64,
        /// Why, in words an operator can act on.
        reason: String,
    },
    /// A request the chain's data cannot answer (no snapshot, not
    /// registered, inconsistent history...), explained.
    #[error("{0}")]
    Invalid(String),
}

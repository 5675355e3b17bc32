//! What can stop the gate. Bad input from a client is not here: it is
//! answered with a JSON-RPC error object and the gate keeps serving.

use std::{net::SocketAddr, path::PathBuf};

/// A failure that ends `vigil gate run` or an operation on the ledger.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// The committee file could not be read or holds no usable committee.
    #[error("committee file {path}: {reason}")]
    Committee {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A committee the gate cannot use (structure, keys, proofs of
    /// possession, or a chain other than the first committee's).
    #[error("committee: {0}")]
    InvalidCommittee(String),
    /// The upstream node serves another chain than the committee.
    #[error("upstream {upstream} serves chain {upstream_chain}, the committee is for chain {committee_chain}: point --upstream at the right node or load the right committee")]
    ChainMismatch {
        /// Upstream URL.
        upstream: String,
        /// Upstream's `eth_chainId`.
        upstream_chain: u64,
        /// The committee's chain.
        committee_chain: u64,
    },
    /// The store failed (open, read or write).
    #[error(transparent)]
    Store(#[from] vigil_store::StoreError),
    /// A listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address asked for.
        addr: SocketAddr,
        /// The OS's reason.
        source: std::io::Error,
    },
    /// The HTTP server failed.
    #[error("{what} server: {source}")]
    Serve {
        /// Which server.
        what: &'static str,
        /// The reason.
        source: std::io::Error,
    },
    /// The task that owns the ledger is gone (it panicked or the gate is
    /// shutting down).
    #[error("the gate's ledger task has stopped")]
    LedgerStopped,
    /// Shutdown was asked before the gate finished starting.
    #[error("shut down while starting")]
    ShutdownWhileStarting,
}

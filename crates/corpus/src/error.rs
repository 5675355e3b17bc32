//! Why generating or verifying a fixture failed.

use std::path::PathBuf;

use alloy_primitives::Address;
use vigil_fixture::{FixtureError, Label};
use vigil_sim::{SimError, StateError};

/// A fixture that could not be generated, or that does not replay as its
/// labels say.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// A transaction that must succeed did not (during generation or during
    /// the verifying replay).
    #[error("{fixture}: txs[{index}] ({label}, {note:?}) did not succeed: {reason}")]
    TxFailed {
        /// Name of the fixture.
        fixture: String,
        /// Index of the transaction in `txs`.
        index: usize,
        /// Its label.
        label: Label,
        /// Its note.
        note: String,
        /// The revert reason, halt reason or validation error.
        reason: String,
    },
    /// A scenario's economic effect is not what SCENARIOS.md measured.
    #[error("{fixture}: check failed: {what}")]
    Check {
        /// Name of the fixture.
        fixture: String,
        /// What was expected and what was found.
        what: String,
    },
    /// A read-only call made to inspect the chain reverted or returned
    /// something that does not decode.
    #[error("view call to {to} failed: {reason}")]
    View {
        /// The contract called.
        to: Address,
        /// What went wrong.
        reason: String,
    },
    /// A private key derived from a seed is not a valid secp256k1 scalar.
    #[error("key {name:?}: {reason}")]
    Key {
        /// What the key was derived from.
        name: String,
        /// Why it was rejected.
        reason: String,
    },
    /// Signing a transaction or a message failed.
    #[error("signing failed: {0}")]
    Sign(String),
    /// The simulator could not run a transaction.
    #[error(transparent)]
    Sim(#[from] SimError),
    /// The simulator's state view failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// A generated fixture does not parse as `vigil-fixture/1`.
    #[error("generated fixture does not parse: {0}")]
    Fixture(#[from] FixtureError),
    /// Serializing a fixture to JSON failed.
    #[error("cannot serialize fixture: {0}")]
    Json(String),
    /// Writing a fixture file failed.
    #[error("cannot write {}: {message}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        message: String,
    },
    /// An argument out of range (zero transactions, zero per fixture, …).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

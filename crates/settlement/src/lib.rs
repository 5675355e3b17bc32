//! Vigil's client of the settlement chain: the chain that holds the
//! registry, the slasher, the certificate verifier and the quarantine court.
//!
//! Owns the JSON-RPC conversation with that chain ([`rpc::Client`]: calls,
//! gas estimates, logs, receipts), transactions signed with a local
//! secp256k1 key ([`wallet::Wallet`]: EIP-1559, nonce and fees asked of the
//! chain, reverts refused before sending), revert data decoded into the
//! contracts' named errors ([`revert`]), and the contract operations the CLI,
//! the gate and the testnet need: [`deploy`], [`registry::Registry`]
//! (register, snapshot, an epoch's committee in the DESIGN §4 form),
//! [`court::Court`] (open, rule, released transactions) and
//! [`watch::CommitteeWatcher`] (each new epoch's committee, verified, handed
//! to the node, the gate or the devnet while they run).
//!
//! Builds every call with `vigil-contracts`' `sol!` bindings; holds no
//! state between calls and no key on disk (callers load keys with
//! [`wallet::load_key`]); never touches the inspected chain.
//!
//! ```text
//! CLI / gate / testnet ──> Registry | Court | deploy ──> Wallet (sign) ──> Client ──HTTP JSON-RPC──> settlement chain
//!                                              └──────── view calls, logs ──┘
//! ```
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod court;
pub mod deploy;
mod error;
pub mod registry;
pub mod revert;
pub mod rpc;
pub mod wallet;
pub mod watch;

pub use error::SettlementError;

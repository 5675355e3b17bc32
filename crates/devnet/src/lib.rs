//! The Vigil devnet: a small EVM chain (revm, prague) with the JSON-RPC
//! wallets use, that includes a transaction only with a clean certificate
//! of the current committee (DESIGN §6).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod chain;
pub mod node;
pub mod pool;
pub mod rpc;
pub mod store;

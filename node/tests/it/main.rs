//! Integration tests of the `vigil` binary.
mod cli;
mod devnet;
mod epochs;
mod eval;
mod foreign_chain;
mod gate;
mod interop_js;
mod network;
mod node_cli;
mod settlement;
mod support;
mod testnet;

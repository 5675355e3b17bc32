//! Integration tests of `vigil-sim`.

mod block_env;
mod budget;
mod common;
mod replay_fixtures;
mod trace;
mod tx_env;

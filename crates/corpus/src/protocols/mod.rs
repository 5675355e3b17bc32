//! The real-protocol world (in progress).
pub mod bindings;
mod link;
mod merkle;
mod util;
pub(crate) mod world;

use alloy_primitives::keccak256;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::CorpusError;

fn rng(seed: u64, what: &str) -> ChaCha8Rng {
    ChaCha8Rng::from_seed(keccak256(format!("vigil-corpus/protocols/{seed}/{what}")).0)
}

/// Builds the world and returns its setup length (smoke test).
pub fn smoke(seed: u64, users: usize) -> Result<usize, CorpusError> {
    let w = world::build(&format!("protocols-{seed}"), users, users / 25, &mut rng(seed, "world"))?;
    Ok(w.chain.txs().len())
}

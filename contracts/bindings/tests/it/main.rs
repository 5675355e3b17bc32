//! Vigil's contracts run inside revm (fork prague, EIP-2537 precompiles).

mod certificate;
mod court;
mod differential;
mod epochs;
mod evm;
mod gas;
mod hash_to_g2;
mod registry;
mod slasher;
mod util;

//! Integration tests of `vigil-crypto`.
mod bls;
mod keystore;
mod vectors;

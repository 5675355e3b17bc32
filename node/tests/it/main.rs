//! Integration tests of the `vigil` binary.
mod cli;
mod eval;

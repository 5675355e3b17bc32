//! Integration tests of `vigil-consensus`.
mod certificates;
mod common;
mod pool;
mod simulation;

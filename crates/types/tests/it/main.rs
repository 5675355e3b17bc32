//! Integration tests of `vigil-types`.
mod json;
mod tx;
mod wire;

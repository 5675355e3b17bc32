//! The devnet.

//! The peer-to-peer layer.

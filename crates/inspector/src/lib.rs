//! The inspector node.

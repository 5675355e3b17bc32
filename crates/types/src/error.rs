//! Errors of the wire types.

/// Why bytes are not the canonical encoding of a wire type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The whole input is over the type's size bound.
    #[error("{what}: {size} bytes is over the {max} byte limit")]
    TooLarge {
        /// Type being decoded.
        what: &'static str,
        /// Input size.
        size: usize,
        /// Limit.
        max: usize,
    },
    /// The version byte is not one this build understands.
    #[error("{what}: unknown version {got} (this build reads version {expected})")]
    UnknownVersion {
        /// Type being decoded.
        what: &'static str,
        /// Version found.
        got: u8,
        /// Version expected.
        expected: u8,
    },
    /// The input ended inside a field.
    #[error("{what}: truncated in field `{field}` (needed {needed} bytes, {got} left)")]
    Truncated {
        /// Type being decoded.
        what: &'static str,
        /// Field being read.
        field: &'static str,
        /// Bytes needed.
        needed: usize,
        /// Bytes left.
        got: usize,
    },
    /// A length prefix over the field's bound.
    #[error("{what}: field `{field}` is {len} bytes, over its {max} byte limit")]
    FieldTooLong {
        /// Type being decoded.
        what: &'static str,
        /// Field.
        field: &'static str,
        /// Declared length.
        len: usize,
        /// Limit.
        max: usize,
    },
    /// Bytes after the last field.
    #[error("{what}: {count} trailing bytes after the last field")]
    TrailingBytes {
        /// Type being decoded.
        what: &'static str,
        /// How many.
        count: usize,
    },
    /// A field holds a value the type does not allow.
    #[error("{what}: {reason}")]
    Invalid {
        /// Type being decoded.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// Why a value (from JSON, bytes or arguments) breaks a type's rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidError {
    /// A signer bitmap that does not fit the committee.
    #[error("signer bitmap: {0}")]
    Bitmap(String),
    /// A committee that breaks its rules.
    #[error("committee: {0}")]
    Committee(String),
    /// Two votes that are not an equivocation.
    #[error("equivocation evidence: {0}")]
    Evidence(String),
    /// A batch that breaks DESIGN §4b's rules (size, distinct hashes).
    #[error("batch: {0}")]
    Batch(String),
    /// An inclusion proof whose audit path does not lead to its root.
    #[error("inclusion proof: {0}")]
    Inclusion(String),
}

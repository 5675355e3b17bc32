//! Errors of `vigil-detect`.

/// A protection policy file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Not readable.
    #[error("policy file: {0}")]
    Io(String),
    /// Not valid JSON of the policy format.
    #[error("policy file is not valid: {0}")]
    Parse(String),
    /// Valid JSON with a value the format does not allow.
    #[error("policy file: {0}")]
    Invalid(String),
}

impl PolicyError {
    pub(crate) fn in_file(self, path: &std::path::Path) -> Self {
        match self {
            Self::Parse(m) => Self::Parse(format!("{}: {m}", path.display())),
            Self::Invalid(m) => Self::Invalid(format!("{}: {m}", path.display())),
            io => io,
        }
    }
}

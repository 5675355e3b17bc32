//! Limits on the work one simulation may do.
//!
//! A transaction that burns its whole simulation budget costs its sender
//! nothing on-chain (DESIGN §11), so every simulation has a gas budget and a
//! wall-time budget. Exceeding either is an outcome,
//! [`ExecResult::BudgetExceeded`](crate::ExecResult::BudgetExceeded), not an
//! error.

use std::time::Duration;

/// Limits for one simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Most gas the transaction may use (intrinsic gas included) before the
    /// simulation stops. The transaction's own gas limit is not lowered, so
    /// `GAS` reads the same value it would on-chain; the budget is checked
    /// beside it.
    pub max_gas: u64,
    /// Longest the simulation may run. Checked at every call and every few
    /// thousand instructions, so it may overrun by a few tens of
    /// microseconds (or by one long precompile call).
    pub max_wall_time: Duration,
}

impl Budget {
    /// Gas budget of [`Budget::default`]: the fixtures' block gas limit.
    pub const DEFAULT_MAX_GAS: u64 = 30_000_000;
    /// Wall-time budget of [`Budget::default`]. A 30M-gas transaction runs
    /// in well under this on one core with an in-memory state.
    pub const DEFAULT_MAX_WALL_TIME: Duration = Duration::from_secs(1);

    /// No practical limit (tests, replays that must run to the end).
    pub const UNLIMITED: Self = Self { max_gas: u64::MAX, max_wall_time: Duration::MAX };
}

impl Default for Budget {
    fn default() -> Self {
        Self { max_gas: Self::DEFAULT_MAX_GAS, max_wall_time: Self::DEFAULT_MAX_WALL_TIME }
    }
}

/// Which limit stopped a simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BudgetKind {
    /// [`Budget::max_gas`].
    Gas,
    /// [`Budget::max_wall_time`].
    WallTime,
}

impl std::fmt::Display for BudgetKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Gas => "gas budget exceeded",
            Self::WallTime => "wall-time budget exceeded",
        })
    }
}

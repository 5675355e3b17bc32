//! Exploit detection over `vigil-sim` traces.
//!
//! ```text
//! SimOutcome (trace) + History (deployers, used signatures) + pre-state
//!   --Analysis::new--> actors, net flows per address, storage changes, authorization evidence
//!   --detectors (value extraction, re-entrancy, read-only re-entrancy, privileged-slot takeover,
//!               third-party spend, signature replay, repeated call, flash loan, spot-price
//!               manipulation, share-price inflation, transient position, unbacked mint, AMM invariant)
//!   + protection policies--> findings
//!   --Verdict::from_findings--> clean | malicious, score, findings
//! ```
//!
//! Owns the rules and their combination. A verdict is a pure function of the
//! ruleset version, the policies, the state, the transaction and the block
//! environment (through the simulation outcome) and the recorded history.
//! Detectors judge a victim by its own accounting (assets in, debits, share
//! burns, stored authorizations), never by a fixture's name, label or note,
//! and never key on particular addresses, selectors or bytecode. No I/O
//! except reading a policy file on request.

mod analysis;
mod detectors;
mod engine;
mod error;
mod finding;
mod history;
pub mod policy;

pub use analysis::{Analysis, Asset, Backing, PreState, Protocol, SlotKeys};
pub use detectors::{Detector, ALL as DETECTORS};
pub use engine::{Engine, StatePre, RULESET_VERSION};
pub use error::PolicyError;
pub use finding::{Finding, Severity, Verdict, VerdictKind, ALERT_SCORE, MALICIOUS_SCORE};
pub use history::History;
pub use policy::Policies;

//! Findings, severities and the verdict they combine into.

use alloy_primitives::Address;
use serde::Serialize;

/// How much a finding weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Context for a human; never decides alone.
    Info,
    /// Suspicious; decides only together with other findings.
    Medium,
    /// Strong evidence of an attack; two highs decide.
    High,
    /// An attack pattern on its own.
    Critical,
}

impl Severity {
    /// Points toward the malicious threshold.
    pub fn score(self) -> u32 {
        match self {
            Self::Info => 0,
            Self::Medium => 25,
            Self::High => 50,
            Self::Critical => 100,
        }
    }
}

/// One thing a detector saw, in words an operator can check against the trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable rule id, e.g. `value-extraction`.
    pub rule: &'static str,
    /// Weight.
    pub severity: Severity,
    /// Addresses involved (victim first where there is one).
    pub addresses: Vec<Address>,
    /// A sentence naming what happened, with amounts and addresses.
    pub message: String,
}

/// The decision (what the node votes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VerdictKind {
    /// May be included.
    Clean,
    /// An attack: to quarantine.
    Malicious,
}

/// The engine's verdict on one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Clean or malicious.
    pub kind: VerdictKind,
    /// Sum of the findings' scores.
    pub score: u32,
    /// Ruleset version that produced it.
    pub ruleset: &'static str,
    /// What the detectors saw, most severe first.
    pub findings: Vec<Finding>,
}

/// Score at or above which a transaction is malicious.
pub const MALICIOUS_SCORE: u32 = 100;

/// Score at or above which a clean verdict is an alert: one high finding,
/// or two mediums. A lone medium (a flash loan, a small unexplained
/// payout) is context kept with the verdict, not an alert.
pub const ALERT_SCORE: u32 = 50;

impl Verdict {
    /// Combines findings: malicious when the score reaches
    /// [`MALICIOUS_SCORE`] (one critical, two highs, or a high and two
    /// mediums); below it, from [`ALERT_SCORE`] the clean verdict is an
    /// alert (DESIGN §5: admitted, stored and shown).
    pub fn from_findings(ruleset: &'static str, mut findings: Vec<Finding>) -> Self {
        findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule.cmp(b.rule)));
        let score = findings.iter().map(|f| f.severity.score()).sum();
        let kind = if score >= MALICIOUS_SCORE { VerdictKind::Malicious } else { VerdictKind::Clean };
        Self { kind, score, ruleset, findings }
    }

    /// Whether the transaction is admitted with an alert: clean, with
    /// findings that reach [`ALERT_SCORE`] but not [`MALICIOUS_SCORE`].
    pub fn is_alert(&self) -> bool {
        self.kind == VerdictKind::Clean && self.score >= ALERT_SCORE
    }

    /// The findings that weigh (above info), most severe first.
    pub fn weighed(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.severity > Severity::Info)
    }

    /// The sentences of the findings that count toward the decision.
    pub fn reasons(&self) -> Vec<String> {
        self.findings
            .iter()
            .filter(|f| f.severity > Severity::Info)
            .map(|f| format!("[{}] {}", f.rule, f.message))
            .collect()
    }
}

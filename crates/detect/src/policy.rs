//! Protection policies: rules a protocol states for its own contracts,
//! applied like built-in detectors. Format: `docs/policies.md`.

use crate::{
    analysis::{Analysis, Asset},
    error::PolicyError,
    finding::{Finding, Severity},
};
use alloy_primitives::{Address, I256, U256};
use serde::Deserialize;

/// Rule id of policy findings.
pub const RULE: &str = "protocol-policy";

/// A policy file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policies {
    /// Format version, 1.
    #[serde(default = "one")]
    pub version: u32,
    /// Who states the rules (for messages).
    #[serde(default)]
    pub protocol: String,
    /// The rules.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

fn one() -> u32 {
    1
}

/// Which asset a rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyAsset {
    /// Ether.
    Native,
    /// An ERC-20 token.
    Token(Address),
}

impl<'de> Deserialize<'de> for PolicyAsset {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.eq_ignore_ascii_case("native") || s.eq_ignore_ascii_case("eth") {
            return Ok(Self::Native);
        }
        s.parse::<Address>().map(Self::Token).map_err(|e| serde::de::Error::custom(format!("asset {s:?}: {e}")))
    }
}

/// What breaking a rule does to the transaction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Quarantine it (a critical finding).
    #[default]
    Quarantine,
    /// Admit it with an alert (a high finding).
    Alert,
}

impl Action {
    fn severity(self) -> Severity {
        match self {
            Self::Quarantine => Severity::Critical,
            Self::Alert => Severity::High,
        }
    }
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Rule {
    /// The contract may not lose more than `max` of `asset` (net) in one
    /// transaction.
    MaxOutflow {
        /// The protected contract.
        contract: Address,
        /// `"native"` or a token address.
        asset: PolicyAsset,
        /// Largest allowed net outflow, decimal string in base units.
        max: String,
        /// Quarantine (default) or alert.
        #[serde(default)]
        on_break: Action,
    },
    /// Only `callers` may call `selector` on the contract (directly).
    AllowedCallers {
        /// The protected contract.
        contract: Address,
        /// Four-byte selector, `0x` hex.
        selector: String,
        /// Who may call it.
        callers: Vec<Address>,
        /// Quarantine (default) or alert.
        #[serde(default)]
        on_break: Action,
    },
    /// Any alert whose findings name the contract is a quarantine: the
    /// protocol would rather hold a suspicious transaction than see it
    /// afterwards (DESIGN §5).
    QuarantineAlerts {
        /// The protected contract.
        contract: Address,
    },
}

impl Policies {
    /// Parses and checks a policy file's JSON.
    pub fn from_json(text: &str) -> Result<Self, PolicyError> {
        let p: Self = serde_json::from_str(text).map_err(|e| PolicyError::Parse(e.to_string()))?;
        if p.version != 1 {
            return Err(PolicyError::Invalid(format!("version {} is not supported (expected 1)", p.version)));
        }
        for (i, r) in p.rules.iter().enumerate() {
            match r {
                Rule::MaxOutflow { max, .. } => {
                    U256::from_str_radix(max, 10).map_err(|_| {
                        PolicyError::Invalid(format!("rules[{i}].max: {max:?} is not a decimal amount"))
                    })?;
                }
                Rule::AllowedCallers { selector, callers, .. } => {
                    parse_selector(selector).map_err(|e| PolicyError::Invalid(format!("rules[{i}].selector: {e}")))?;
                    if callers.is_empty() {
                        return Err(PolicyError::Invalid(format!("rules[{i}].callers: empty (nobody could call)")));
                    }
                }
                Rule::QuarantineAlerts { .. } => {}
            }
        }
        Ok(p)
    }

    /// Reads a policy file.
    pub fn load(path: &std::path::Path) -> Result<Self, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError::Io(format!("{}: {e}", path.display())))?;
        Self::from_json(&text).map_err(|e| e.in_file(path))
    }

    /// Findings for every rule the transaction breaks.
    pub fn check(&self, a: &Analysis<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        let who = if self.protocol.is_empty() { "the protocol".to_string() } else { self.protocol.clone() };
        for r in &self.rules {
            match r {
                Rule::MaxOutflow { contract, asset, max, on_break } => {
                    let max = U256::from_str_radix(max, 10).unwrap_or(U256::MAX);
                    let key = match asset {
                        PolicyAsset::Native => Asset::Native,
                        PolicyAsset::Token(t) => Asset::Token(*t),
                    };
                    let net = a.flows_of(*contract).and_then(|f| f.get(&key)).copied().unwrap_or(I256::ZERO);
                    if net < I256::ZERO && net.unsigned_abs() > max {
                        out.push(Finding {
                            rule: RULE,
                            severity: on_break.severity(),
                            addresses: vec![*contract],
                            message: format!(
                                "{contract} lost {} of {key}, above the {max} per-transaction limit {who} set",
                                net.unsigned_abs()
                            ),
                        });
                    }
                }
                Rule::AllowedCallers { contract, selector, callers, on_break } => {
                    let Ok(sel) = parse_selector(selector) else { continue };
                    let bad = a.trace.frames.iter().find(|f| {
                        f.callee == *contract && f.selector == Some(sel) && !f.reverted && !callers.contains(&f.caller)
                    });
                    if let Some(f) = bad {
                        out.push(Finding {
                            rule: RULE,
                            severity: on_break.severity(),
                            addresses: vec![*contract, f.caller],
                            message: format!(
                                "{} called {selector} on {contract}, which {who} allows only to {} caller(s)",
                                f.caller,
                                callers.len()
                            ),
                        });
                    }
                }
                Rule::QuarantineAlerts { .. } => {}
            }
        }
        out
    }

    /// A critical finding when `findings` make an alert (they reach
    /// [`crate::ALERT_SCORE`], not [`crate::MALICIOUS_SCORE`]) and one of
    /// the weighed findings names a contract whose protocol asked for its
    /// alerts to be quarantined.
    pub fn raise_alerts(&self, findings: &[Finding]) -> Option<Finding> {
        let score: u32 = findings.iter().map(|f| f.severity.score()).sum();
        if !(crate::ALERT_SCORE..crate::MALICIOUS_SCORE).contains(&score) {
            return None;
        }
        let who = if self.protocol.is_empty() { "the protocol".to_string() } else { self.protocol.clone() };
        self.rules.iter().find_map(|r| {
            let Rule::QuarantineAlerts { contract } = r else { return None };
            let hit = findings.iter().find(|f| f.severity > Severity::Info && f.addresses.contains(contract))?;
            Some(Finding {
                rule: RULE,
                severity: Severity::Critical,
                addresses: vec![*contract],
                message: format!(
                    "{who} asks that alerts naming {contract} be quarantined; this one was raised by {}",
                    hit.rule
                ),
            })
        })
    }
}

fn parse_selector(s: &str) -> Result<[u8; 4], String> {
    vigil_types::bytes::parse_hex_fixed::<4>(s)
}

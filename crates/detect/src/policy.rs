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
    },
    /// Only `callers` may call `selector` on the contract (directly).
    AllowedCallers {
        /// The protected contract.
        contract: Address,
        /// Four-byte selector, `0x` hex.
        selector: String,
        /// Who may call it.
        callers: Vec<Address>,
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
                Rule::MaxOutflow { contract, asset, max } => {
                    let max = U256::from_str_radix(max, 10).unwrap_or(U256::MAX);
                    let key = match asset {
                        PolicyAsset::Native => Asset::Native,
                        PolicyAsset::Token(t) => Asset::Token(*t),
                    };
                    let net = a.flows_of(*contract).and_then(|f| f.get(&key)).copied().unwrap_or(I256::ZERO);
                    if net < I256::ZERO && net.unsigned_abs() > max {
                        out.push(Finding {
                            rule: RULE,
                            severity: Severity::Critical,
                            addresses: vec![*contract],
                            message: format!(
                                "{contract} lost {} of {key}, above the {max} per-transaction limit {who} set",
                                net.unsigned_abs()
                            ),
                        });
                    }
                }
                Rule::AllowedCallers { contract, selector, callers } => {
                    let Ok(sel) = parse_selector(selector) else { continue };
                    let bad = a.trace.frames.iter().find(|f| {
                        f.callee == *contract && f.selector == Some(sel) && !f.reverted && !callers.contains(&f.caller)
                    });
                    if let Some(f) = bad {
                        out.push(Finding {
                            rule: RULE,
                            severity: Severity::Critical,
                            addresses: vec![*contract, f.caller],
                            message: format!(
                                "{} called {selector} on {contract}, which {who} allows only to {} caller(s)",
                                f.caller,
                                callers.len()
                            ),
                        });
                    }
                }
            }
        }
        out
    }
}

fn parse_selector(s: &str) -> Result<[u8; 4], String> {
    vigil_types::bytes::parse_hex_fixed::<4>(s)
}
